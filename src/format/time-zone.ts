/**
 * Returns true when `name` is a time zone setting that `TimeZone` accepts: `UTC`, `local` (the
 * zone of the process, which follows the TZ environment variable) or an IANA zone name that
 * `Intl.DateTimeFormat` accepts, such as `Europe/Berlin`.
 */
export function isValidTimeZone(name: unknown): name is string {
  if (typeof name !== 'string' || name === '') return false;
  if (name === 'UTC' || name === 'local') return true;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/**
 * One configured time zone, which returns its UTC offset in whole minutes for any instant.
 *
 * RFC 3339 offsets have no seconds, so an offset with seconds (local mean time before 1900 in
 * the IANA database) is cut to whole minutes. Timestamps stay correct because local time is
 * always computed from the same whole-minute offset that is written.
 */
export class TimeZone {
  readonly name: string;
  private readonly intl: Intl.DateTimeFormat | undefined;
  private cachedMinute = Number.NaN;
  private cachedOffset = 0;

  /** Throws a RangeError for a name that `isValidTimeZone` rejects. */
  constructor(name: string) {
    if (!isValidTimeZone(name)) {
      throw new RangeError(`Invalid time zone ${JSON.stringify(name)}: expected UTC, local or an IANA zone name`);
    }
    this.name = name;
    this.intl =
      name === 'UTC' || name === 'local'
        ? undefined
        : new Intl.DateTimeFormat('en-US', { timeZone: name, timeZoneName: 'longOffset' });
  }

  /** Returns the offset from UTC in minutes at `epochMs`, positive east of Greenwich. */
  offsetMinutes(epochMs: number): number {
    if (this.name === 'UTC') return 0;
    if (this.name === 'local') return -Math.trunc(new Date(epochMs).getTimezoneOffset()) || 0;

    // Zone transitions fall on whole minutes (except for historic local mean time), so one
    // lookup serves a whole minute.
    const minute = Math.floor(epochMs / 60_000);
    if (minute !== this.cachedMinute) {
      this.cachedOffset = this.lookUpOffset(minute * 60_000);
      this.cachedMinute = minute;
    }
    return this.cachedOffset;
  }

  private lookUpOffset(epochMs: number): number {
    const parts = (this.intl as Intl.DateTimeFormat).formatToParts(epochMs);
    const label = parts.find((part) => part.type === 'timeZoneName')?.value ?? 'GMT';
    return parseGmtOffset(label);
  }
}

/** Parses the `longOffset` label of `Intl.DateTimeFormat` (`GMT`, `GMT+01:00`, `GMT-00:01:15`) into whole minutes. */
function parseGmtOffset(label: string): number {
  if (label === 'GMT' || label.length < 9) return 0;
  const sign = label[3] === '-' ? -1 : 1;
  const hours = Number(label.slice(4, 6));
  const minutes = Number(label.slice(7, 9));
  const total = hours * 60 + minutes;
  return Number.isFinite(total) ? sign * total : 0;
}
