import { Buffer } from 'node:buffer';
import { type QueueRecord, QueuedRecord } from './queue.js';

/** Records are packed in segments of about this many UTF-16 code units, below V8's 128 KiB large-object size. */
const SEGMENT_CHARS = 48 * 1024;

interface Segment {
  /** The payloads, one after another, as UTF-8. */
  data: Buffer;
  /** True when every payload is ASCII, so that latin1 decoding gives the same text faster. */
  ascii: boolean;
  /** Id of the record at `sizes[0]`. The ids of the others follow one by one. */
  firstId: number;
  /** UTF-8 bytes of each payload. */
  sizes: Uint32Array;
  /** Index of the next record to take, and its offset in `data`. */
  next: number;
  offset: number;
}

/**
 * A first-in, first-out run of records with consecutive ids, packed as UTF-8 bytes outside the
 * JavaScript heap. The memory queue moves the oldest of a long backlog here, so that a million
 * waiting events cost the garbage collector nothing and sending stays as fast at any depth.
 * Records come out with the same ids and bytes. A lone surrogate in a payload comes out as
 * U+FFFD, because that is what UTF-8 encoding wrote for it.
 */
export class PackedRecords {
  private readonly segments: Segment[] = [];
  private head = 0;
  private packedCount = 0;
  private packedBytes = 0;

  get count(): number {
    return this.packedCount;
  }

  get bytes(): number {
    return this.packedBytes;
  }

  /**
   * Packs `records` from index `from` on into one segment of up to about 48 KiB and returns the
   * index after the last one packed (at least one). Their ids must follow the last packed id.
   */
  pack(records: readonly QueueRecord[], from: number): number {
    let text = '';
    let end = from;
    while (end < records.length && (end === from || text.length < SEGMENT_CHARS)) {
      text += records[end].payload;
      end += 1;
    }
    // One byte per code unit means every payload is ASCII. Only then is the joined text safe to
    // encode at once, because a payload ending in a lone high surrogate and one starting with a
    // lone low surrogate would join into one 4-byte character.
    const ascii = Buffer.byteLength(text, 'utf8') === text.length;
    const sizes = new Uint32Array(end - from);
    let data: Buffer;
    if (ascii) {
      for (let index = from; index < end; index += 1) sizes[index - from] = records[index].payload.length;
      data = Buffer.from(text, 'latin1');
    } else {
      data = encodeEach(records, from, end, sizes);
    }
    const total = data.length;
    this.segments.push({ data, ascii, firstId: records[from].id, sizes, next: 0, offset: 0 });
    this.packedCount += end - from;
    this.packedBytes += total;
    return end;
  }

  /**
   * Takes up to `maxRecords` records from the front, appending them to `out`, while their bytes
   * stay within `maxBytes`; takes one anyway when `out` is empty. Returns the bytes taken.
   */
  take(maxRecords: number, maxBytes: number, out: QueueRecord[]): number {
    let total = 0;
    let count = 0;
    while (count < maxRecords && this.packedCount > 0) {
      const segment = this.segments[this.head];
      const bytes = segment.sizes[segment.next];
      if (total + bytes > maxBytes && out.length > 0) break;
      const end = segment.offset + bytes;
      const payload = segment.data.toString(segment.ascii ? 'latin1' : 'utf8', segment.offset, end);
      out.push(new QueuedRecord(segment.firstId + segment.next, payload, bytes));
      total += bytes;
      count += 1;
      this.advance(segment, bytes);
    }
    return total;
  }

  /** Drops the oldest record and returns its bytes; 0 when there is none. */
  dropOldest(): number {
    if (this.packedCount === 0) return 0;
    const segment = this.segments[this.head];
    const bytes = segment.sizes[segment.next];
    this.advance(segment, bytes);
    return bytes;
  }

  private advance(segment: Segment, bytes: number): void {
    segment.next += 1;
    segment.offset += bytes;
    this.packedCount -= 1;
    this.packedBytes -= bytes;
    if (segment.next < segment.sizes.length) return;
    this.head += 1;
    if (this.head === this.segments.length) {
      this.segments.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.segments.length) {
      this.segments.splice(0, this.head);
      this.head = 0;
    }
  }
}

/** Encodes each payload on its own, so that no two payloads can merge, and stores each one's byte count in `sizes`. */
function encodeEach(records: readonly QueueRecord[], from: number, end: number, sizes: Uint32Array): Buffer {
  let total = 0;
  for (let index = from; index < end; index += 1) {
    sizes[index - from] = Buffer.byteLength(records[index].payload, 'utf8');
    total += sizes[index - from];
  }
  const data = Buffer.allocUnsafe(total);
  let offset = 0;
  for (let index = from; index < end; index += 1) offset += data.write(records[index].payload, offset, 'utf8');
  return data;
}
