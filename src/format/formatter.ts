import { Buffer } from 'node:buffer';
import { InvalidEventError } from '../errors.js';
import { FieldCache } from './field-cache.js';
import { describe, resolveFormatOptions, type FormatOptions, type ResolvedFormatOptions } from './format-options.js';
import { HEADER_FIELD_LIMITS, NILVALUE, hostnameToAscii, sanitizeHeaderField, type SanitizedField } from './header-fields.js';
import { MAX_FACILITY, MAX_SEVERITY, facilityCode, facilityExpectation, priority, severityCode, severityExpectation } from './pri.js';
import { RFC3164_HOSTNAME_MAX_LENGTH, assembleRfc3164, buildRfc3164Tag, rfc3164Start, shortHostname } from './rfc3164.js';
import { assembleRfc5424, rfc5424Bytes, rfc5424Header, rfc5424Start } from './rfc5424.js';
import { MAX_SEQUENCE_ID, StructuredDataSerializer } from './structured-data.js';
import { TimeZone } from './time-zone.js';
import { TimestampFormatter, toEventTime } from './timestamp.js';
import type { SyslogEvent } from './types.js';
import { truncateUtf8 } from './utf8.js';

/** Counters of what the formatter changed or left out. Every field only grows. */
export interface FormatCounters {
  /** Messages cut to `maxMessageBytes`. */
  truncated: number;
  /** Structured-data parameters left out for an invalid PARAM-NAME, plus event `meta` sequenceId parameters replaced by the formatter's own. */
  sdParamsDropped: number;
  /** Structured-data elements left out for an invalid SD-ID or for parameters that are not an object. */
  sdElementsDropped: number;
  /** Header fields cut to their maximum length, counted once per message and field. */
  fieldsTruncated: number;
  /** Event timestamps that were not a valid time between years 0000 and 9999 and were replaced by the current time. */
  invalidTimestamps: number;
}

const NO_FIELDS: SyslogEvent = {};

/**
 * Turns events into SYSLOG-MSG strings in RFC 5424 or RFC 3164 syntax, without framing.
 *
 * Everything that is the same for every event (PRI strings, sanitized configured header fields,
 * the RFC 3164 TAG) is computed once by the constructor, and timestamps are cached per second and
 * millisecond. A header field that an event sets is sanitized only when it differs from the
 * configured value and from the previous event's value.
 */
export class MessageFormatter {
  readonly counters: FormatCounters = {
    truncated: 0,
    sdParamsDropped: 0,
    sdElementsDropped: 0,
    fieldsTruncated: 0,
    invalidTimestamps: 0,
  };

  private readonly options: ResolvedFormatOptions;
  private readonly rfc3164: boolean;
  private readonly timestamps: TimestampFormatter;
  private readonly structuredData: StructuredDataSerializer;
  /** The message start for each PRIVAL 0 to 191: `<PRI>1 ` for RFC 5424, `<PRI>` for RFC 3164. */
  private readonly starts: string[] = [];
  private readonly hostname: FieldCache;
  private readonly appName: FieldCache;
  private readonly procId: FieldCache;
  private readonly msgId: FieldCache;
  /** RFC 5424: the configured HOSTNAME APP-NAME PROCID MSGID, and how many of them were cut. */
  private readonly headerFields: string;
  private readonly headerTruncations: number;
  /** RFC 3164: the configured TAG, and the last TAG built for an event that set its own name or PID. */
  private readonly tag: { tag: string; truncations: number };
  private lastTagKey = '';
  private lastTag: { tag: string; truncations: number };
  private nextSequenceId = 1;
  private lastByteLength = 0;
  /** True when a string event needs nothing but the configured fields: RFC 5424 without `sequenceId`. */
  private readonly plainStrings: boolean;
  /** `<PRI>1 ` for the configured facility and severity. */
  private readonly defaultStart: string;
  /**
   * RFC 5424: the last HEADER and STRUCTURED-DATA built, and what it was built from. Events of
   * the same millisecond share it, so each message is one join of two strings.
   */
  private readonly header = { start: '', timestamp: '', fields: '', structuredData: '', text: '', textAndSpace: ' ', bytes: 0 };

  /** Validates every option and throws InvalidOptionError naming the first invalid one and its value. */
  constructor(options: FormatOptions = {}) {
    this.options = resolveFormatOptions(options);
    const { replacementChar } = this.options;
    this.rfc3164 = this.options.format === 'rfc3164';
    this.timestamps = new TimestampFormatter(new TimeZone(this.options.timeZone));
    this.structuredData = new StructuredDataSerializer(this.options.sdNamePolicy, this.counters);

    const start = this.rfc3164 ? rfc3164Start : rfc5424Start;
    for (let prival = 0; prival <= priority(MAX_FACILITY, MAX_SEVERITY); prival++) this.starts.push(start(prival));

    const hostnameLimit = this.rfc3164 ? RFC3164_HOSTNAME_MAX_LENGTH : HEADER_FIELD_LIMITS.hostname;
    const shorten = this.rfc3164 && !this.options.fqdn;
    this.hostname = new FieldCache(this.options.hostname, (raw) => {
      const ascii = hostnameToAscii(raw);
      return sanitizeHeaderField(shorten ? shortHostname(ascii) : ascii, hostnameLimit, replacementChar);
    });
    this.appName = new FieldCache(this.options.appName, (raw) =>
      sanitizeHeaderField(raw, HEADER_FIELD_LIMITS.appName, replacementChar),
    );
    this.procId = new FieldCache(this.options.procId, (raw) =>
      sanitizeHeaderField(raw, HEADER_FIELD_LIMITS.procId, replacementChar),
    );
    this.msgId = new FieldCache(this.options.msgId, (raw) =>
      sanitizeHeaderField(raw, HEADER_FIELD_LIMITS.msgId, replacementChar),
    );

    const fields = [this.hostname.configured, this.appName.configured, this.procId.configured, this.msgId.configured];
    this.headerFields = fields.map((field) => field.value).join(' ');
    this.headerTruncations = countTruncated(fields);

    this.plainStrings = !this.rfc3164 && !this.options.sequenceId;
    this.defaultStart = this.starts[priority(this.options.facility, this.options.severity)];

    this.tag = buildRfc3164Tag(this.options.appName, this.options.procId, replacementChar);
    this.lastTag = this.tag;
  }

  /**
   * Formats one event as a SYSLOG-MSG without framing, cut to `maxMessageBytes` at a UTF-8
   * character boundary. A string is taken as the MSG text of an event with no other fields.
   *
   * `sequenceId` sets N in `[meta sequenceId="N"]` when the `sequenceId` option is on; without
   * it the formatter counts from 1 on its own. It is ignored when the option is off, and a value
   * that is not an integer from 1 to 2147483647 throws a RangeError.
   *
   * Throws InvalidEventError for a facility or severity out of range, and under
   * `sdNamePolicy: 'throw'` for an invalid SD-ID or PARAM-NAME. Nothing else in an event throws:
   * header fields are sanitized and cut, and an invalid timestamp is replaced by the current time.
   */
  format(event: SyslogEvent | string, sequenceId?: number): string {
    let payload: string;
    if (typeof event === 'string' && this.plainStrings) {
      payload = this.formatPlainRfc5424(event);
    } else {
      const fields = typeof event === 'object' && event !== null ? event : NO_FIELDS;
      const message = typeof event === 'string' ? event : messageText(fields.message);
      const prival = this.priority(fields);
      payload = this.rfc3164
        ? this.formatRfc3164(fields, prival, message)
        : this.formatRfc5424(fields, prival, message, sequenceId);
    }

    if (this.lastByteLength <= this.options.maxMessageBytes) return payload;
    const cut = truncateUtf8(payload, this.options.maxMessageBytes);
    this.lastByteLength = Buffer.byteLength(cut, 'utf8');
    this.counters.truncated += 1;
    return cut;
  }

  /**
   * UTF-8 length in bytes of the string the last `format()` call returned. The formatter counts
   * it from the parts it assembled, which spares the caller a second pass over the whole message.
   */
  get byteLength(): number {
    return this.lastByteLength;
  }

  private formatRfc5424(fields: SyslogEvent, prival: number, message: string, sequenceId: number | undefined): string {
    const sequence = this.options.sequenceId ? (sequenceId ?? this.nextSequenceId) : undefined;
    if (sequenceId !== undefined && sequence !== undefined) checkSequenceId(sequenceId);

    // Serialized first because it is the only step that can throw, so a rejected event changes no counter.
    const structuredData =
      fields.structuredData === undefined && sequence === undefined
        ? NILVALUE
        : this.structuredData.serialize(fields.structuredData, sequence);
    if (sequence !== undefined && sequenceId === undefined) {
      this.nextSequenceId = sequence === MAX_SEQUENCE_ID ? 1 : sequence + 1;
    }

    let headerFields = this.headerFields;
    let truncations = this.headerTruncations;
    if (fields.hostname != null || fields.appName != null || fields.procId != null || fields.msgId != null) {
      const hostname = this.hostname.resolve(fields.hostname);
      const appName = this.appName.resolve(fields.appName);
      const procId = this.procId.resolve(fields.procId);
      const msgId = this.msgId.resolve(fields.msgId);
      headerFields = `${hostname.value} ${appName.value} ${procId.value} ${msgId.value}`;
      truncations = countTruncated([hostname, appName, procId, msgId]);
    }
    this.counters.fieldsTruncated += truncations;

    const timestamp = this.rfc3339Timestamp(fields.timestamp);
    return this.assembleWithCachedHeader(this.starts[prival], timestamp, headerFields, structuredData, message);
  }

  /** RFC 5424 for a string event: the configured PRI and header fields, no STRUCTURED-DATA, the current time. */
  private formatPlainRfc5424(message: string): string {
    this.counters.fieldsTruncated += this.headerTruncations;
    const timestamp = this.rfc3339Timestamp(undefined);
    return this.assembleWithCachedHeader(this.defaultStart, timestamp, this.headerFields, NILVALUE, message);
  }

  /** Assembles the message from the header cache and sets `lastByteLength`. */
  private assembleWithCachedHeader(start: string, timestamp: string, headerFields: string, structuredData: string, message: string): string {
    const header = this.header;
    if (
      header.timestamp !== timestamp ||
      header.start !== start ||
      header.fields !== headerFields ||
      header.structuredData !== structuredData
    ) {
      header.start = start;
      header.timestamp = timestamp;
      header.fields = headerFields;
      header.structuredData = structuredData;
      header.text = rfc5424Header(start, timestamp, headerFields, structuredData);
      header.textAndSpace = `${header.text} `;
      // Counting also flattens the joined string once, so that each message adds one join to a flat header.
      header.bytes = Buffer.byteLength(header.textAndSpace, 'utf8') - 1;
    }
    const messageBytes = Buffer.byteLength(message, 'utf8');
    const text = assembleRfc5424(header.text, message, messageBytes, this.options.bom, header.textAndSpace);
    this.lastByteLength = rfc5424Bytes(header.text, header.bytes, message, messageBytes, text);
    return text;
  }

  private formatRfc3164(fields: SyslogEvent, prival: number, message: string): string {
    const hostname = this.hostname.resolve(fields.hostname);
    const tag = this.resolveTag(fields.appName, fields.procId);
    this.counters.fieldsTruncated += (hostname.truncated ? 1 : 0) + tag.truncations;

    const timestamp = this.rfc3164Timestamp(fields.timestamp);
    const text = assembleRfc3164(this.starts[prival], timestamp, hostname.value, tag.tag, message);
    // Everything before MSG is sanitized to ASCII, one byte per UTF-16 code unit.
    this.lastByteLength = text.length - message.length + (message === '' ? 0 : Buffer.byteLength(message, 'utf8'));
    return text;
  }

  private priority(fields: SyslogEvent): number {
    let facility = this.options.facility;
    if (fields.facility !== undefined && fields.facility !== null) {
      const code = facilityCode(fields.facility);
      if (code === undefined) {
        throw new InvalidEventError(`Invalid event facility ${describe(fields.facility)}: expected ${facilityExpectation()}`);
      }
      facility = code;
    }
    let severity = this.options.severity;
    if (fields.severity !== undefined && fields.severity !== null) {
      const code = severityCode(fields.severity);
      if (code === undefined) {
        throw new InvalidEventError(`Invalid event severity ${describe(fields.severity)}: expected ${severityExpectation()}`);
      }
      severity = code;
    }
    return priority(facility, severity);
  }

  private resolveTag(appName: unknown, procId: unknown): { tag: string; truncations: number } {
    if (appName == null && procId == null) return this.tag;
    const name = appName == null ? this.options.appName : String(appName);
    const pid = procId == null ? this.options.procId : String(procId);
    // NUL cannot occur in a sanitized tag, so it separates the two parts of the key safely.
    const key = `${name}\u0000${pid}`;
    if (key !== this.lastTagKey) {
      this.lastTag = buildRfc3164Tag(name, pid, this.options.replacementChar);
      this.lastTagKey = key;
    }
    return this.lastTag;
  }

  private rfc3339Timestamp(value: SyslogEvent['timestamp'] | null): string {
    if (value !== undefined && value !== null) {
      let text: string | undefined;
      if (typeof value === 'number') {
        text = this.timestamps.rfc3339FromMilliseconds(value);
      } else if (value instanceof Date) {
        text = this.timestamps.rfc3339FromMilliseconds(value.getTime());
      } else {
        const time = toEventTime(value);
        text = time === undefined ? undefined : this.timestamps.rfc3339(time);
      }
      if (text !== undefined) return text;
      this.counters.invalidTimestamps += 1;
    }
    // NILVALUE only when even the clock gives a time outside years 0000 to 9999 (RFC 5424 section 6.2.3).
    return this.timestamps.rfc3339FromMilliseconds(this.currentTime()) ?? NILVALUE;
  }

  private rfc3164Timestamp(value: SyslogEvent['timestamp'] | null): string {
    if (value !== undefined && value !== null) {
      let text: string | undefined;
      if (typeof value === 'number') {
        text = this.timestamps.rfc3164FromMilliseconds(value);
      } else if (value instanceof Date) {
        text = this.timestamps.rfc3164FromMilliseconds(value.getTime());
      } else {
        const time = toEventTime(value);
        text = time === undefined ? undefined : this.timestamps.rfc3164(time);
      }
      if (text !== undefined) return text;
      this.counters.invalidTimestamps += 1;
    }
    // RFC 3164 has no NILVALUE for TIMESTAMP, so a clock out of range falls back to the system clock.
    return this.timestamps.rfc3164FromMilliseconds(this.currentTime()) ?? (this.timestamps.rfc3164FromMilliseconds(Date.now()) as string);
  }

  private currentTime(): number {
    // The default clock is called directly, which spares a call through the options object.
    if (this.options.now === Date.now) return Date.now();
    const now = this.options.now();
    return typeof now === 'number' && Number.isFinite(now) ? now : Date.now();
  }
}

function messageText(message: unknown): string {
  if (typeof message === 'string') return message;
  return message === undefined || message === null ? '' : String(message);
}

function countTruncated(fields: readonly SanitizedField[]): number {
  let count = 0;
  for (const field of fields) if (field.truncated) count += 1;
  return count;
}

function checkSequenceId(sequenceId: number): void {
  if (!Number.isInteger(sequenceId) || sequenceId < 1 || sequenceId > MAX_SEQUENCE_ID) {
    throw new RangeError(`Invalid sequenceId ${String(sequenceId)}: expected an integer from 1 to ${MAX_SEQUENCE_ID}`);
  }
}
