import { Buffer } from 'node:buffer';
import { truncateUtf8 } from './utf8.js';

/** Largest UDP payload over IPv4 in bytes: 65,535 minus the 20-byte IP header and the 8-byte UDP header. */
export const UDP_MAX_PAYLOAD_IPV4 = 65_507;

/** Largest UDP payload over IPv6 in bytes: 65,535 minus the 8-byte UDP header (the IPv6 header is not counted). */
export const UDP_MAX_PAYLOAD_IPV6 = 65_527;

/**
 * Datagram sizes in bytes from RFC 5426 section 3.2: every receiver must accept 480 bytes over
 * IPv4 and 1,180 bytes over IPv6, and should accept 2,048 bytes. The UDP transport uses
 * `recommended` as its default cap.
 */
export const UDP_SIZE_PRESETS = {
  ipv4Minimum: 480,
  ipv6Minimum: 1_180,
  recommended: 2_048,
} as const;

/**
 * Frames one SYSLOG-MSG with octet counting (RFC 6587 section 3.4.1): `MSG-LEN SP SYSLOG-MSG`.
 * `bytes` must be the UTF-8 length of `payload`. MSG-LEN counts only the message, and nothing
 * separates one frame from the next.
 */
export function frameOctetCounting(payload: string, bytes: number): string {
  return `${bytes} ${payload}`;
}

/** Default LF and CR escapes: `#` and the 3-digit octal code, the style rsyslog uses (its imfile `escapeLF` writes `#012`). */
export const DEFAULT_NEWLINE_ESCAPE: Readonly<{ lf: string; cr: string }> = { lf: '#012', cr: '#015' };

/**
 * Frames one SYSLOG-MSG for non-transparent framing (RFC 6587 section 3.4.2): replaces every LF
 * inside the message with `escape.lf` and every CR with `escape.cr`, then appends one LF as the
 * trailer. The receiver cannot tell an escape sequence that was already in the message from one
 * added here.
 */
export function frameLf(payload: string, escape: { lf: string; cr: string }): string {
  let escaped = payload;
  if (escaped.includes('\n')) escaped = escaped.replaceAll('\n', escape.lf);
  if (escaped.includes('\r')) escaped = escaped.replaceAll('\r', escape.cr);
  return `${escaped}\n`;
}

/**
 * Encodes one SYSLOG-MSG as one UDP datagram (RFC 5426 section 3.1) of at most `maxBytes` bytes.
 * A longer message is cut at a UTF-8 character boundary. LF and CR inside the message stay as
 * they are, and no trailer is added. `bytes` must be the UTF-8 length of `payload`.
 */
export function encodeDatagram(payload: string, bytes: number, maxBytes: number): { datagram: Buffer; truncated: boolean } {
  if (bytes <= maxBytes) {
    return { datagram: Buffer.from(payload, 'utf8'), truncated: false };
  }
  return { datagram: Buffer.from(truncateUtf8(payload, maxBytes), 'utf8'), truncated: true };
}
