import { hostname as osHostname } from 'node:os';
import { basename } from 'node:path';
import { InvalidOptionError } from '../errors.js';
import { facilityCode, facilityExpectation, severityCode, severityExpectation } from './pri.js';
import { BOM_POLICIES, type BomPolicy } from './rfc5424.js';
import { SD_NAME_POLICIES, type SdNamePolicy } from './structured-data.js';
import { isValidTimeZone } from './time-zone.js';
import type { FacilityName, SeverityName } from './types.js';

/** Message syntax: RFC 5424 or the older BSD syslog format of RFC 3164. */
export type MessageFormat = 'rfc5424' | 'rfc3164';

export const MESSAGE_FORMATS: readonly MessageFormat[] = ['rfc5424', 'rfc3164'];

/** Default `maxMessageBytes` for RFC 5424, in bytes. */
export const DEFAULT_MAX_MESSAGE_BYTES_RFC5424 = 65_536;

/** Default `maxMessageBytes` for RFC 3164, in bytes: the packet limit of RFC 3164 section 4.1. */
export const DEFAULT_MAX_MESSAGE_BYTES_RFC3164 = 1_024;

/** Options of `MessageFormatter`. Every option is validated once, by the constructor. */
export interface FormatOptions {
  /** Message syntax. Default `rfc5424`. */
  format?: MessageFormat;
  /** Facility name or code 0 to 23. Default `user`. */
  facility?: FacilityName | number;
  /** Severity name or code 0 to 7 for events that set none. Default `info`. */
  severity?: SeverityName | number;
  /** HOSTNAME. Default `os.hostname()`. RFC 3164 sends the part before the first dot unless `fqdn` is true. */
  hostname?: string;
  /** RFC 3164 only: send the full domain name in HOSTNAME. Default false. */
  fqdn?: boolean;
  /** APP-NAME, and the TAG name in RFC 3164. Default: the file name of `process.argv[1]`, or `node`. */
  appName?: string;
  /** PROCID, and the PID in the RFC 3164 TAG. Default `process.pid`. */
  procId?: string | number;
  /** MSGID. Default NILVALUE (`-`). RFC 3164 has no MSGID and ignores it. */
  msgId?: string;
  /** RFC 5424 only: when MSG starts with a BOM. Default `auto`: only when MSG contains non-ASCII characters. */
  bom?: BomPolicy;
  /** RFC 5424 only: add `[meta sequenceId="N"]` with N counting from 1 and wrapping after 2147483647 to 1. Default false. */
  sequenceId?: boolean;
  /** Time zone of TIMESTAMP: `UTC`, `local` or an IANA name such as `Europe/Berlin`. Default `UTC` for RFC 5424, `local` for RFC 3164. */
  timeZone?: string;
  /** Maximum size of one SYSLOG-MSG in bytes before framing; longer ones are cut at a UTF-8 character boundary. Default 65536 for RFC 5424, 1024 for RFC 3164. */
  maxMessageBytes?: number;
  /** Handling of an invalid SD-ID or PARAM-NAME: `drop` leaves it out and counts it, `throw` raises InvalidEventError. Default `drop`. */
  sdNamePolicy?: SdNamePolicy;
  /** One printable US-ASCII character that replaces every other character in header fields. Default `_`. */
  replacementChar?: string;
  /** Clock in milliseconds since the epoch, for events without a timestamp. Default `Date.now`. */
  now?: () => number;
}

/** FormatOptions after validation, with every default filled in and names turned into codes. */
export interface ResolvedFormatOptions {
  format: MessageFormat;
  facility: number;
  severity: number;
  hostname: string;
  fqdn: boolean;
  appName: string;
  procId: string;
  msgId: string;
  bom: BomPolicy;
  sequenceId: boolean;
  timeZone: string;
  maxMessageBytes: number;
  sdNamePolicy: SdNamePolicy;
  replacementChar: string;
  now: () => number;
}

/** Validates `options` and fills in the defaults. Throws InvalidOptionError naming the option and the value received. */
export function resolveFormatOptions(options: FormatOptions | undefined): ResolvedFormatOptions {
  if (options === undefined || options === null) return resolveFormatOptions({});
  if (typeof options !== 'object') {
    throw new InvalidOptionError(`Invalid format options ${describe(options)}: expected an object`);
  }

  const format = options.format ?? 'rfc5424';
  if (!MESSAGE_FORMATS.includes(format)) invalid('format', format, `one of ${MESSAGE_FORMATS.join(', ')}`);
  const rfc3164 = format === 'rfc3164';

  const facility = facilityCode(options.facility ?? 'user');
  if (facility === undefined) invalid('facility', options.facility, facilityExpectation());
  const severity = severityCode(options.severity ?? 'info');
  if (severity === undefined) invalid('severity', options.severity, severityExpectation());

  const hostname = optionalString('hostname', options.hostname) ?? osHostname();
  const fqdn = optionalBoolean('fqdn', options.fqdn) ?? false;
  const appName = optionalString('appName', options.appName) ?? defaultAppName();
  const msgId = optionalString('msgId', options.msgId) ?? '';

  let procId = String(process.pid);
  if (options.procId !== undefined) {
    const value = options.procId;
    const valid = typeof value === 'string' || (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0);
    if (!valid) invalid('procId', value, 'a string or a non-negative integer');
    procId = String(value);
  }

  const bom = options.bom ?? 'auto';
  if (!BOM_POLICIES.includes(bom)) invalid('bom', bom, `one of ${BOM_POLICIES.join(', ')}`);
  if (rfc3164 && bom === 'always') invalid('bom', bom, "'auto' or 'never', because RFC 3164 messages carry no BOM");

  const sequenceId = optionalBoolean('sequenceId', options.sequenceId) ?? false;
  if (rfc3164 && sequenceId) {
    invalid('sequenceId', sequenceId, 'false, because RFC 3164 messages carry no structured data; use format rfc5424');
  }

  const timeZone = options.timeZone ?? (rfc3164 ? 'local' : 'UTC');
  if (!isValidTimeZone(timeZone)) invalid('timeZone', timeZone, "'UTC', 'local' or an IANA zone name such as 'Europe/Berlin'");

  const maxMessageBytes = options.maxMessageBytes ?? (rfc3164 ? DEFAULT_MAX_MESSAGE_BYTES_RFC3164 : DEFAULT_MAX_MESSAGE_BYTES_RFC5424);
  if (!Number.isSafeInteger(maxMessageBytes) || maxMessageBytes < 1) {
    invalid('maxMessageBytes', maxMessageBytes, 'a positive integer number of bytes');
  }

  const sdNamePolicy = options.sdNamePolicy ?? 'drop';
  if (!SD_NAME_POLICIES.includes(sdNamePolicy)) invalid('sdNamePolicy', sdNamePolicy, `one of ${SD_NAME_POLICIES.join(', ')}`);

  const replacementChar = options.replacementChar ?? '_';
  const replacementCode = typeof replacementChar === 'string' ? replacementChar.charCodeAt(0) : Number.NaN;
  if (typeof replacementChar !== 'string' || replacementChar.length !== 1 || replacementCode < 33 || replacementCode > 126) {
    invalid('replacementChar', replacementChar, 'one printable US-ASCII character (codes 33 to 126)');
  }

  const now = options.now ?? Date.now;
  if (typeof now !== 'function') invalid('now', now, 'a function that returns milliseconds since the epoch');

  return {
    format,
    facility,
    severity,
    hostname,
    fqdn,
    appName,
    procId,
    msgId,
    bom,
    sequenceId,
    timeZone,
    maxMessageBytes,
    sdNamePolicy,
    replacementChar,
    now,
  };
}

function defaultAppName(): string {
  const script = process.argv[1];
  return typeof script === 'string' && script !== '' ? basename(script) : 'node';
}

function optionalString(name: string, value: unknown): string | undefined {
  if (value === undefined || typeof value === 'string') return value;
  return invalid(name, value, 'a string');
}

function optionalBoolean(name: string, value: unknown): boolean | undefined {
  if (value === undefined || typeof value === 'boolean') return value;
  return invalid(name, value, 'true or false');
}

function invalid(name: string, value: unknown, expected: string): never {
  throw new InvalidOptionError(`Invalid ${name} ${describe(value)}: expected ${expected}`);
}

/** Renders a received value for an error message; strings are quoted so that an empty one stays visible. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'object' && value !== null) return Array.isArray(value) ? 'an array' : 'an object';
  return String(value);
}
