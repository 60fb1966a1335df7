import { Buffer } from 'node:buffer';
import { type QueueRecord, QueuedRecord } from '../buffer/queue.js';
import { frameLf } from '../format/framing.js';
import { POOLED_CHUNK_BYTES, giveChunkBuffer, takeChunkBuffer } from './chunk-pool.js';

const SPACE = 0x20;
const LF = 0x0a;

/**
 * Frames are encoded in chunks of about this many UTF-16 code units. V8 places a string above
 * 128 KiB in its large-object space, and flattening and encoding one such string per write cost
 * about 1.6 times as much per record as smaller ones on Node.js 20
 * (`benchmarks/compare/frame-encoding.ts`).
 */
const CHUNK_CHARS = 48 * 1024;

/**
 * The records of one stream write, kept as the bytes that went to the socket plus their ids.
 *
 * A TCP replay window holds up to 100,000 records for 10 s. Kept as one object and one string per
 * record, they outlive the young generation and every garbage collection copies them. Kept as
 * one Buffer (outside the JavaScript heap) and one Float64Array per write, they cost the
 * collector nothing. The rare replay decodes the records again from the bytes.
 */
export class FrameBatch {
  /** The frames, exactly as written, split between records into chunks of up to about 48 KiB. */
  readonly chunks: Buffer[] = [];
  /** Record ids, in write order. */
  readonly ids: Float64Array;
  /** UTF-8 bytes of the payloads without framing. */
  readonly payloadBytes: number;
  /** When the bytes reached the kernel (the write callback ran); 0 while they are still in user space. */
  flushedAt = 0;
  private readonly octetCounting: boolean;
  /** LF framing: payloads that escaping changed, by index, because their original cannot be read back from the frame. */
  private readonly originals: Map<number, string> | undefined;
  /** Buffers from the chunk pool that `chunks` are views of, given back by `release`. */
  private pooled: Buffer[] | null = null;
  private released = false;

  /** Frames `records` with octet counting (RFC 6587 section 3.4.1) or, without it, with an LF trailer and escaped CR and LF. */
  constructor(records: readonly QueueRecord[], octetCounting: boolean, newlineEscape: { lf: string; cr: string }) {
    const ids = new Float64Array(records.length);
    let text = '';
    // True while every frame in `text` is ASCII: a payload is when its UTF-8 bytes equal its code units.
    let ascii = true;
    let payloadBytes = 0;
    let originals: Map<number, string> | undefined;
    // Octet counting: the first record of `text`, the bytes its frames take when every size is
    // right, and the payload bytes those sizes state.
    let chunkStart = 0;
    let chunkBytes = 0;
    let chunkPayloadBytes = 0;

    for (let index = 0; index < records.length; index += 1) {
      const record = records[index];
      ids[index] = record.id;
      payloadBytes += record.bytes;
      ascii &&= record.bytes === record.payload.length;

      if (octetCounting) {
        const prefix = octetCountingPrefix(record.bytes);
        text += prefix + record.payload;
        chunkBytes += prefix.length + record.bytes;
        chunkPayloadBytes += record.bytes;
      } else if (record.payload.includes('\n') || record.payload.includes('\r')) {
        text += frameLf(record.payload, newlineEscape);
        ascii = false; // The escapes may contain any character.
        originals ??= new Map();
        originals.set(index, record.payload);
      } else {
        text += `${record.payload}\n`;
      }

      if (text.length >= CHUNK_CHARS || (index === records.length - 1 && text !== '')) {
        let data: Buffer;
        if (ascii && text.length <= POOLED_CHUNK_BYTES) {
          // latin1 gives the same bytes as UTF-8 for ASCII text, one per character.
          const buffer = takeChunkBuffer();
          (this.pooled ??= []).push(buffer);
          data = buffer.subarray(0, buffer.write(text, 0, 'latin1'));
        } else {
          data = encode(text, ascii);
        }
        if (octetCounting && data.length !== chunkBytes) {
          // A record's `bytes` was not its UTF-8 length, so MSG-LEN would cut the stream in the
          // wrong places from that frame on. The chunk is framed again with measured lengths.
          const framed = frameMeasured(records, chunkStart, index + 1);
          data = framed.data;
          payloadBytes += framed.payloadBytes - chunkPayloadBytes;
        }
        this.chunks.push(data);
        text = '';
        ascii = true;
        chunkStart = index + 1;
        chunkBytes = 0;
        chunkPayloadBytes = 0;
      }
    }

    this.ids = ids;
    this.payloadBytes = payloadBytes;
    this.octetCounting = octetCounting;
    this.originals = originals;
  }

  get count(): number {
    return this.ids.length;
  }

  /**
   * Gives the chunk buffers back to the pool once the batch has left the replay window. A batch
   * whose write has not completed keeps them, because the socket may still read them. The batch
   * cannot be decoded afterwards.
   */
  release(): void {
    if (this.released) return;
    this.released = true;
    if (this.pooled === null || this.flushedAt === 0) return;
    for (const buffer of this.pooled) giveChunkBuffer(buffer);
    this.pooled = null;
    this.chunks.length = 0;
  }

  /** Decodes the records from the written bytes: the same ids, payloads and byte counts that were framed. */
  records(): QueueRecord[] {
    if (this.released) throw new Error('FrameBatch.records() called after release()');
    const records: QueueRecord[] = [];
    let index = 0;
    for (const data of this.chunks) {
      let offset = 0;
      while (offset < data.length) {
        let start: number;
        let end: number;
        if (this.octetCounting) {
          const space = data.indexOf(SPACE, offset);
          start = space + 1;
          end = start + Number(data.toString('latin1', offset, space));
          offset = end;
        } else {
          start = offset;
          end = data.indexOf(LF, offset);
          offset = end + 1;
        }
        const original = this.originals?.get(index);
        const payload = original ?? data.toString('utf8', start, end);
        const bytes = original === undefined ? end - start : Buffer.byteLength(original, 'utf8');
        records.push(new QueuedRecord(this.ids[index], payload, bytes));
        index += 1;
      }
    }
    return records;
  }
}

/** Lengths below this get a cached prefix; longer messages are rarer and get a new one. */
const MAX_CACHED_PREFIX = 8192;

/**
 * `MSG-LEN SP` by length, made on first use: joining a cached prefix saves a number conversion
 * and a small string per record. Filled with undefined up front, so that V8 keeps the array dense.
 */
const PREFIXES = new Array<string | undefined>(MAX_CACHED_PREFIX).fill(undefined);

function octetCountingPrefix(bytes: number): string {
  if (bytes >= MAX_CACHED_PREFIX) return `${bytes} `;
  let prefix = PREFIXES[bytes];
  if (prefix === undefined) {
    prefix = `${bytes} `;
    PREFIXES[bytes] = prefix;
  }
  return prefix;
}

/** Frames records `from` to before `to` with octet counting and their measured UTF-8 lengths. */
function frameMeasured(records: readonly QueueRecord[], from: number, to: number): { data: Buffer; payloadBytes: number } {
  let text = '';
  let payloadBytes = 0;
  for (let index = from; index < to; index += 1) {
    const payload = records[index].payload;
    const bytes = Buffer.byteLength(payload, 'utf8');
    text += octetCountingPrefix(bytes) + payload;
    payloadBytes += bytes;
  }
  return { data: Buffer.from(text, 'utf8'), payloadBytes };
}

/** Encodes frames as UTF-8. ASCII text takes the latin1 path, which gives the same bytes with a plain copy. */
function encode(text: string, ascii: boolean): Buffer {
  return Buffer.from(text, ascii ? 'latin1' : 'utf8');
}
