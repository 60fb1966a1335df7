/** Syslog facility names with their codes (RFC 5424 section 6.2.1). */
export const FACILITIES = {
  kern: 0,
  user: 1,
  mail: 2,
  daemon: 3,
  auth: 4,
  syslog: 5,
  lpr: 6,
  news: 7,
  uucp: 8,
  cron: 9,
  authpriv: 10,
  ftp: 11,
  ntp: 12,
  security: 13,
  console: 14,
  solaris_cron: 15,
  local0: 16,
  local1: 17,
  local2: 18,
  local3: 19,
  local4: 20,
  local5: 21,
  local6: 22,
  local7: 23,
} as const;

/** Syslog severity names with their codes (RFC 5424 section 6.2.1). */
export const SEVERITIES = {
  emerg: 0,
  alert: 1,
  crit: 2,
  err: 3,
  warning: 4,
  notice: 5,
  info: 6,
  debug: 7,
} as const;

export type FacilityName = keyof typeof FACILITIES;
export type SeverityName = keyof typeof SEVERITIES;

/** Structured data: SD-ID mapped to its parameters. Values are converted with `String()`; an array repeats the parameter. */
export type StructuredData = Record<string, Record<string, string | number | boolean | bigint | ReadonlyArray<string | number | boolean | bigint>>>;

/** One event as an application passes it to `SyslogSender.send()`. Every field is optional. */
export interface SyslogEvent {
  message?: string;
  severity?: SeverityName | number;
  facility?: FacilityName | number;
  /** Event time: a Date, milliseconds since the epoch, nanoseconds as a bigint, or an RFC 3339 string. Defaults to now. */
  timestamp?: Date | number | bigint | string;
  hostname?: string;
  appName?: string;
  procId?: string | number;
  msgId?: string;
  structuredData?: StructuredData;
}
