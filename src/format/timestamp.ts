import type { TimeZone } from './time-zone.js';

/** An event time: whole seconds since the epoch and the fraction of a second as 3 to 6 digits. */
export interface EventTime {
  second: number;
  fraction: string;
}

/** Largest distance from the epoch that a JavaScript Date can hold, in milliseconds. */
const MAX_EPOCH_MS = 8.64e15;

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * RFC 3339 date-time as an upstream system may send it. Accepts a lower-case `t` or `z` and a
 * space between date and time (RFC 3339 section 5.6 allows both), any number of fraction digits,
 * and an offset with or without its colon.
 */
const RFC3339_PATTERN = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):?(\d{2}))$/;

/** Converts milliseconds since the epoch to an EventTime with 3 fraction digits; undefined when out of the Date range. */
export function eventTimeFromMilliseconds(ms: number): EventTime | undefined {
  if (!Number.isFinite(ms) || Math.abs(ms) > MAX_EPOCH_MS) return undefined;
  const whole = Math.floor(ms);
  const second = Math.floor(whole / 1000);
  return { second, fraction: padFraction(whole - second * 1000, 3) };
}

/** Converts nanoseconds since the epoch to an EventTime with 6 fraction digits, cut and not rounded. */
export function eventTimeFromNanoseconds(ns: bigint): EventTime | undefined {
  const micro = floorDivide(ns, 1000n);
  const secondBig = floorDivide(micro, 1_000_000n);
  const second = Number(secondBig);
  if (Math.abs(second) * 1000 > MAX_EPOCH_MS) return undefined;
  return { second, fraction: padFraction(Number(micro - secondBig * 1_000_000n), 6) };
}

/**
 * Parses an RFC 3339 string. The fraction keeps the digits given, at least 3 and at most 6
 * (further digits are cut, never rounded). A leap second (`:60`) becomes the last representable
 * instant of second 59, because RFC 5424 section 6.2.3 forbids leap seconds. Other strings that
 * `Date.parse` accepts give 3 fraction digits. Returns undefined for anything else.
 */
export function parseEventTime(text: string): EventTime | undefined {
  const match = RFC3339_PATTERN.exec(text);
  if (match === null) {
    return eventTimeFromMilliseconds(Date.parse(text));
  }
  const [, year, month, day, hour, minute, second, digits = '', zulu, sign, offsetHour, offsetMinute] = match;
  const fields = {
    year: Number(year),
    month: Number(month),
    day: Number(day),
    hour: Number(hour),
    minute: Number(minute),
    second: Number(second),
  };
  if (fields.month < 1 || fields.month > 12 || fields.hour > 23 || fields.minute > 59 || fields.second > 60) {
    return undefined;
  }
  const date = new Date(0);
  date.setUTCFullYear(fields.year, fields.month - 1, fields.day);
  if (date.getUTCDate() !== fields.day) return undefined;

  let offsetSeconds = 0;
  if (zulu === undefined) {
    if (Number(offsetHour) > 23 || Number(offsetMinute) > 59) return undefined;
    offsetSeconds = (sign === '-' ? -1 : 1) * (Number(offsetHour) * 3600 + Number(offsetMinute) * 60);
  }

  const width = Math.min(Math.max(digits.length, 3), 6);
  let fraction = digits.slice(0, 6).padEnd(width, '0');
  let wholeSecond = fields.second;
  if (wholeSecond === 60) {
    wholeSecond = 59;
    fraction = '9'.repeat(width);
  }
  const epochSecond = date.getTime() / 1000 + fields.hour * 3600 + fields.minute * 60 + wholeSecond - offsetSeconds;
  return { second: epochSecond, fraction };
}

/**
 * Converts an event's `timestamp` field (Date, milliseconds, bigint nanoseconds or string) to an
 * EventTime; undefined when the value is not a valid time.
 */
export function toEventTime(value: unknown): EventTime | undefined {
  switch (typeof value) {
    case 'number':
      return eventTimeFromMilliseconds(value);
    case 'bigint':
      return eventTimeFromNanoseconds(value);
    case 'string':
      return parseEventTime(value);
    default:
      return value instanceof Date ? eventTimeFromMilliseconds(value.getTime()) : undefined;
  }
}

/**
 * Renders timestamps in one time zone: RFC 3339 for RFC 5424 and `Mmm dd hh:mm:ss` for RFC 3164.
 * The date and time up to the second are cached per second, and a whole RFC 3339 timestamp is
 * cached per millisecond, because consecutive events usually share them.
 */
export class TimestampFormatter {
  private readonly zone: TimeZone;
  private cachedMs = Number.NaN;
  private cachedRfc3339 = '';
  private cachedSecond = Number.NaN;
  private cachedDateTime = '';
  private cachedOffset = '';
  private cachedRfc3164Second = Number.NaN;
  private cachedRfc3164 = '';

  constructor(zone: TimeZone) {
    this.zone = zone;
  }

  /** Renders milliseconds since the epoch as RFC 3339 with 3 fraction digits; undefined when out of range. */
  rfc3339FromMilliseconds(ms: number): string | undefined {
    if (ms === this.cachedMs) return this.cachedRfc3339;
    const time = eventTimeFromMilliseconds(ms);
    if (time === undefined) return undefined;
    const text = this.rfc3339(time);
    if (text !== undefined) {
      this.cachedMs = ms;
      this.cachedRfc3339 = text;
    }
    return text;
  }

  /**
   * Renders an EventTime as an RFC 3339 timestamp (RFC 5424 section 6.2.3): upper-case `T`, the
   * fraction as given, and `Z` for a zero offset or `+hh:mm` / `-hh:mm` otherwise. Returns
   * undefined when the local year falls outside 0000 to 9999.
   */
  rfc3339(time: EventTime): string | undefined {
    if (!this.cacheSecond(time.second)) return undefined;
    return `${this.cachedDateTime}.${time.fraction}${this.cachedOffset}`;
  }

  /** Renders milliseconds since the epoch as an RFC 3164 timestamp; undefined when out of range. */
  rfc3164FromMilliseconds(ms: number): string | undefined {
    const second = Math.floor(ms / 1000);
    if (second === this.cachedRfc3164Second) return this.cachedRfc3164;
    const time = eventTimeFromMilliseconds(ms);
    return time === undefined ? undefined : this.rfc3164(time);
  }

  /**
   * Renders an EventTime as an RFC 3164 timestamp (RFC 3164 section 4.1.2): English month
   * abbreviation, day padded with a space to width 2, and `hh:mm:ss`. Returns undefined when the
   * local year falls outside 0000 to 9999.
   */
  rfc3164(time: EventTime): string | undefined {
    if (time.second === this.cachedRfc3164Second) return this.cachedRfc3164;
    const local = this.localDate(time.second);
    if (local === undefined) return undefined;
    const day = local.getUTCDate();
    const text =
      `${MONTHS[local.getUTCMonth()]} ${day < 10 ? ' ' : ''}${day} ` +
      `${pad2(local.getUTCHours())}:${pad2(local.getUTCMinutes())}:${pad2(local.getUTCSeconds())}`;
    this.cachedRfc3164Second = time.second;
    this.cachedRfc3164 = text;
    return text;
  }

  /** Fills the per-second cache for `second`; false when the local year is out of range. */
  private cacheSecond(second: number): boolean {
    if (second === this.cachedSecond) return true;
    const offset = this.zone.offsetMinutes(second * 1000);
    const local = this.localDate(second, offset);
    if (local === undefined) return false;
    this.cachedDateTime =
      `${String(local.getUTCFullYear()).padStart(4, '0')}-${pad2(local.getUTCMonth() + 1)}-${pad2(local.getUTCDate())}` +
      `T${pad2(local.getUTCHours())}:${pad2(local.getUTCMinutes())}:${pad2(local.getUTCSeconds())}`;
    this.cachedOffset = formatOffset(offset);
    this.cachedSecond = second;
    return true;
  }

  /** Returns a Date whose UTC fields are the local time of `second`; undefined outside years 0000 to 9999. */
  private localDate(second: number, offset = this.zone.offsetMinutes(second * 1000)): Date | undefined {
    const local = new Date((second + offset * 60) * 1000);
    const year = local.getUTCFullYear();
    return year >= 0 && year <= 9999 ? local : undefined;
  }
}

function formatOffset(minutes: number): string {
  if (minutes === 0) return 'Z';
  const sign = minutes < 0 ? '-' : '+';
  const absolute = Math.abs(minutes);
  return `${sign}${pad2(Math.floor(absolute / 60))}:${pad2(absolute % 60)}`;
}

function pad2(value: number): string {
  return value < 10 ? `0${value}` : String(value);
}

function padFraction(value: number, width: number): string {
  return String(value).padStart(width, '0');
}

function floorDivide(dividend: bigint, divisor: bigint): bigint {
  const quotient = dividend / divisor;
  return dividend % divisor < 0n ? quotient - 1n : quotient;
}
