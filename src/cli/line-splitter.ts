import { Buffer } from 'node:buffer';
/** Maximum line length kept whole, in bytes. A longer line is sent in pieces of this size, so memory stays bounded. */
export const MAX_LINE_BYTES = 1024 * 1024;

/**
 * Splits a byte stream into lines at LF, drops a CR before the LF and decodes each line as UTF-8
 * (invalid sequences become U+FFFD). Splitting happens on bytes, so a multi-byte character cut
 * between two chunks stays whole; only the cut of an over-long line may split one.
 */
export class LineSplitter {
  private partial: Buffer[] = [];
  private partialBytes = 0;

  /** Returns the complete lines in `chunk`, joined with what earlier chunks left. */
  push(chunk: Buffer): string[] {
    const lines: string[] = [];
    let start = 0;
    for (;;) {
      const newline = chunk.indexOf(0x0a, start);
      if (newline < 0) break;
      lines.push(this.take(chunk.subarray(start, newline)));
      start = newline + 1;
    }
    if (start < chunk.length) this.keep(chunk.subarray(start), lines);
    return lines;
  }

  /** Returns the unterminated last line, if any, and clears it. */
  end(): string | undefined {
    if (this.partialBytes === 0) return undefined;
    return this.take(Buffer.alloc(0));
  }

  private keep(rest: Buffer, lines: string[]): void {
    // Copy, because `rest` may be a view of a read buffer that the caller reuses.
    this.partial.push(Buffer.from(rest));
    this.partialBytes += rest.length;
    while (this.partialBytes >= MAX_LINE_BYTES) {
      const joined = Buffer.concat(this.partial);
      lines.push(decode(joined.subarray(0, MAX_LINE_BYTES)));
      const remainder = joined.subarray(MAX_LINE_BYTES);
      this.partial = remainder.length > 0 ? [remainder] : [];
      this.partialBytes = remainder.length;
    }
  }

  private take(tail: Buffer): string {
    const bytes = this.partialBytes === 0 ? tail : Buffer.concat([...this.partial, tail]);
    this.partial = [];
    this.partialBytes = 0;
    return decode(bytes);
  }
}

function decode(bytes: Buffer): string {
  const end = bytes.length > 0 && bytes[bytes.length - 1] === 0x0d ? bytes.length - 1 : bytes.length;
  return bytes.toString('utf8', 0, end);
}
