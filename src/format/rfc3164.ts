import { isIP } from 'node:net';
import { NILVALUE, sanitizeHeaderField } from './header-fields.js';

/**
 * Maximum TAG length in characters (RFC 3164 section 4.1.3). This library counts the `[pid]:`
 * suffix in it, so the tag fits whether a receiver counts the suffix as part of the TAG or not.
 */
export const RFC3164_TAG_MAX_LENGTH = 32;

/** Characters that end the TAG name or the PID for receivers, so they are replaced inside either. */
const TAG_DELIMITERS = '[]:';

/** Maximum length of an RFC 3164 HOSTNAME; RFC 3164 sets none, so the RFC 5424 limit applies. */
export const RFC3164_HOSTNAME_MAX_LENGTH = 255;

/** A built TAG and how many of its parts were cut to fit. */
export interface Rfc3164Tag {
  tag: string;
  truncations: number;
}

/**
 * Returns the host part of a domain name (`host1.example.com` -> `host1`), because RFC 3164
 * section 4.1.2 forbids the domain name in HOSTNAME. An IP address is returned whole.
 */
export function shortHostname(hostname: string): string {
  if (isIP(hostname) !== 0) return hostname;
  const dot = hostname.indexOf('.');
  return dot > 0 ? hostname.slice(0, dot) : hostname;
}

/**
 * Builds the TAG with its PID and colon, `name[pid]:`, or `name:` when the PID is empty or
 * NILVALUE. Characters outside codes 33 to 126 and the delimiters `[`, `]` and `:` are replaced
 * by `replacement` in both parts. When the whole tag would exceed 32 characters, the name is cut
 * and the `[pid]:` suffix stays whole. When the suffix alone leaves no room for one character of
 * the name, the PID is left out. Each cut counts as one truncation.
 */
export function buildRfc3164Tag(appName: string, procId: string, replacement: string): Rfc3164Tag {
  let truncations = 0;
  let suffix = ':';
  if (procId !== '' && procId !== NILVALUE) {
    const pid = sanitizeHeaderField(procId, RFC3164_TAG_MAX_LENGTH, replacement, TAG_DELIMITERS).value;
    suffix = `[${pid}]:`;
    if (suffix.length > RFC3164_TAG_MAX_LENGTH - 1) {
      suffix = ':';
      truncations += 1;
    }
  }
  const name = sanitizeHeaderField(appName, RFC3164_TAG_MAX_LENGTH - suffix.length, replacement, TAG_DELIMITERS);
  if (name.truncated) truncations += 1;
  return { tag: name.value + suffix, truncations };
}

/** Returns `<PRI>`, the start of an RFC 3164 message; the TIMESTAMP follows with no space (RFC 3164 section 4.1.2). */
export function rfc3164Start(priority: number): string {
  return `<${priority}>`;
}

/**
 * Assembles one RFC 3164 message: `<PRI>Mmm dd hh:mm:ss HOSTNAME TAG MSG` (RFC 3164 section 4.1).
 * `start` is `rfc3164Start(priority)`. An empty MSG ends the message right after the TAG.
 */
export function assembleRfc3164(start: string, timestamp: string, hostname: string, tag: string, message: string): string {
  const head = `${start}${timestamp} ${hostname} ${tag}`;
  return message === '' ? head : `${head} ${message}`;
}
