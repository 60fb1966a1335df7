export { MessageFormatter, type FormatCounters } from './formatter.js';
export {
  DEFAULT_MAX_MESSAGE_BYTES_RFC3164,
  DEFAULT_MAX_MESSAGE_BYTES_RFC5424,
  type FormatOptions,
  type MessageFormat,
} from './format-options.js';
export {
  DEFAULT_NEWLINE_ESCAPE,
  UDP_MAX_PAYLOAD_IPV4,
  UDP_MAX_PAYLOAD_IPV6,
  UDP_SIZE_PRESETS,
  encodeDatagram,
  frameLf,
  frameOctetCounting,
} from './framing.js';
export { HEADER_FIELD_LIMITS, NILVALUE } from './header-fields.js';
export { type BomPolicy } from './rfc5424.js';
export { IANA_SD_IDS, MAX_SEQUENCE_ID, type SdNamePolicy } from './structured-data.js';
export { FACILITIES, SEVERITIES, type FacilityName, type SeverityName, type StructuredData, type SyslogEvent } from './types.js';
export { byteLength, truncateUtf8 } from './utf8.js';
export { CEF_SEVERITY_NAMES, CefFormatter, escapeCefHeader, escapeCefValue, type CefEvent, type CefOptions, type CefSeverity } from './cef.js';
export {
  LeefFormatter,
  escapeLeefHeader,
  escapeLeefValue,
  parseLeefDelimiter,
  type LeefDelimiter,
  type LeefEvent,
  type LeefOptions,
  type LeefVersion,
} from './leef.js';
export { SIEM_KEY_PATTERN, type SiemValue } from './siem-fields.js';
