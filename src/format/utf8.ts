import { Buffer } from 'node:buffer';
/** Returns the UTF-8 length of `text` in bytes, as `Buffer.from(text)` would encode it. */
export function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/**
 * Returns the longest prefix of `text` whose UTF-8 encoding is at most `maxBytes` bytes.
 *
 * The cut falls on a character boundary, so a multi-byte character or a surrogate pair is kept
 * whole or dropped whole. A lone surrogate counts as 3 bytes because `Buffer` encodes it as
 * U+FFFD. Throws a RangeError when `maxBytes` is not a non-negative integer.
 */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (!Number.isInteger(maxBytes) || maxBytes < 0) {
    throw new RangeError(`Invalid maxBytes ${String(maxBytes)}: expected an integer of 0 or more`);
  }
  // One UTF-16 code unit encodes to at most 3 bytes, so short strings need no byte count.
  if (text.length * 3 <= maxBytes) return text;
  if (Buffer.byteLength(text, 'utf8') <= maxBytes) return text;

  let bytes = 0;
  let index = 0;
  while (index < text.length) {
    const code = text.charCodeAt(index);
    let width = 1;
    let units = 1;
    if (code >= 0x80) {
      if (code < 0x800) {
        width = 2;
      } else if (code >= 0xd800 && code <= 0xdbff && isLowSurrogate(text.charCodeAt(index + 1))) {
        width = 4;
        units = 2;
      } else {
        width = 3;
      }
    }
    if (bytes + width > maxBytes) break;
    bytes += width;
    index += units;
  }
  return text.slice(0, index);
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

/**
 * Returns `text` with every lone surrogate replaced by U+FFFD, as UTF-8 encoding writes it.
 * `String.prototype.toWellFormed` exists from Node.js 20 on, but the ES2022 library types do not declare it.
 */
export function toWellFormed(text: string): string {
  return (text as string & { toWellFormed(): string }).toWellFormed();
}
