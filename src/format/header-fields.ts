import { isIPv6 } from 'node:net';
import { domainToASCII } from 'node:url';

/** The RFC 5424 NILVALUE, written for an empty or unknown header field. */
export const NILVALUE = '-';

/** Maximum lengths in bytes of the RFC 5424 header fields (RFC 5424 section 6). */
export const HEADER_FIELD_LIMITS = {
  hostname: 255,
  appName: 48,
  procId: 128,
  msgId: 32,
} as const;

/** A header field after sanitizing, and whether it was cut to its maximum length. */
export interface SanitizedField {
  value: string;
  truncated: boolean;
}

/**
 * Returns true when every character of `value` is printable US-ASCII (codes 33 to 126, RFC 5424
 * PRINTUSASCII) and none of them is in `forbidden`.
 */
export function isPrintableAscii(value: string, forbidden = ''): boolean {
  for (let index = 0; index < value.length; index++) {
    const code = value.charCodeAt(index);
    if (code < 33 || code > 126) return false;
  }
  if (forbidden !== '') {
    for (let index = 0; index < forbidden.length; index++) {
      if (value.includes(forbidden[index])) return false;
    }
  }
  return true;
}

/**
 * Makes `value` a valid header field: replaces every character outside codes 33 to 126, and
 * every character in `forbidden`, with `replacement` (one replacement per code point, so a
 * surrogate pair becomes one character), then cuts the result to `maxLength` characters.
 * An empty result becomes NILVALUE. `replacement` must be one printable US-ASCII character, so
 * the result is pure ASCII and its length in characters equals its length in bytes.
 */
export function sanitizeHeaderField(value: string, maxLength: number, replacement: string, forbidden = ''): SanitizedField {
  let clean = value;
  if (!isPrintableAscii(value, forbidden)) {
    clean = '';
    for (const character of value) {
      const code = character.charCodeAt(0);
      const printable = character.length === 1 && code >= 33 && code <= 126 && !forbidden.includes(character);
      clean += printable ? character : replacement;
    }
  }
  if (clean === '') return { value: NILVALUE, truncated: false };
  if (clean.length > maxLength) return { value: clean.slice(0, maxLength), truncated: true };
  return { value: clean, truncated: false };
}

/**
 * Converts a host name to the form a syslog HOSTNAME carries (RFC 5424 section 6.2.4): an IPv6
 * literal loses its brackets, and an internationalized domain name becomes its ASCII (punycode)
 * form. A name that `domainToASCII` rejects is returned unchanged, so that sanitizing replaces its
 * invalid characters.
 */
export function hostnameToAscii(hostname: string): string {
  if (hostname.startsWith('[') && hostname.endsWith(']') && isIPv6(hostname.slice(1, -1))) {
    return hostname.slice(1, -1);
  }
  if (isAscii(hostname)) return hostname;
  const ascii = domainToASCII(hostname);
  return ascii === '' ? hostname : ascii;
}

function isAscii(value: string): boolean {
  for (let index = 0; index < value.length; index++) {
    if (value.charCodeAt(index) > 127) return false;
  }
  return true;
}
