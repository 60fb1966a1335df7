import { type CrcArena, createCrcArena } from './crc32c-wasm.js';
import { RECORD_HEADER_BYTES, recordChecksum } from './record-format.js';
import { SEGMENT_HEADER_BYTES, type Segment, encodeSegmentHeader } from './segment.js';

/** Bytes of one segment's records in the batch, written to the file with one write call. */
export interface SegmentRun {
  segment: Segment;
  /** Start of the run in the batch buffer. */
  start: number;
  /** End of the run in the batch buffer. */
  end: number;
  /** Id of the first record in the run. */
  firstId: number;
  /** Id of the last record in the run. */
  lastId: number;
}

/** Capacity the batch buffer starts with and shrinks back to: the 1 MiB write threshold plus room for one typical record. */
const INITIAL_CAPACITY = 1024 * 1024 + 64 * 1024;

/** Most UTF-8 bytes one UTF-16 code unit can take (a surrogate pair takes 4 bytes for 2 units). */
export const MAX_UTF8_BYTES_PER_UNIT = 3;

const TWO_TO_32 = 0x1_0000_0000;

/** Stores `value`, an unsigned 32-bit integer, little-endian at `offset`. */
function storeUint32(buffer: Buffer, value: number, offset: number): void {
  buffer[offset] = value;
  buffer[offset + 1] = value >>> 8;
  buffer[offset + 2] = value >>> 16;
  buffer[offset + 3] = value >>> 24;
}

/**
 * The encoded records a DiskBuffer has not written yet, in one reusable buffer laid out as
 * they go to disk: for each segment a run of records, preceded by the segment header when
 * the run starts the file. Encoding straight into this buffer spares one Buffer allocation
 * and one copy per record.
 *
 * The buffer lives in the memory of a WebAssembly CRC-32C (see `crc32c-wasm.ts`), so that the
 * record checksums are computed in place. A batch that outgrows it, because of a record larger
 * than usual, moves to a plain Buffer and the JavaScript CRC-32C until the next `clear`.
 *
 * A record is encoded in two steps. `encodePayload` writes the UTF-8 payload after the free
 * space for its header and returns its byte length, so that the caller can check limits with
 * the exact size. `commit` then places the header and checksum and makes the record part of
 * the batch. A payload that is not committed is overwritten by the next one.
 */
export class PendingBatch {
  /** The WebAssembly memory for the batch, or null where WebAssembly is not available. */
  private readonly arena: CrcArena | null = createCrcArena(INITIAL_CAPACITY);
  private buffer = this.arena?.bytes ?? Buffer.allocUnsafe(INITIAL_CAPACITY);
  /** Bytes of the buffer taken by committed runs. */
  private used = 0;
  private runList: SegmentRun[] = [];
  /** Offset of the payload that `encodePayload` wrote last, or -1 after `commit`; `commit` checks it. */
  private payloadStart = -1;

  /** Runs in write order; a segment has at most one. */
  get runs(): readonly SegmentRun[] {
    return this.runList;
  }

  /** Bytes of committed records and segment headers. */
  get size(): number {
    return this.used;
  }

  get empty(): boolean {
    return this.runList.length === 0;
  }

  /**
   * Writes `payload` as UTF-8 where the next record's payload goes and returns its byte
   * length, or -1 when it is longer than `maxBytes`. Such a payload must not be committed.
   */
  encodePayload(payload: string, maxBytes: number): number {
    let needed = payload.length * MAX_UTF8_BYTES_PER_UNIT;
    if (needed > this.buffer.length - this.used - SEGMENT_HEADER_BYTES - RECORD_HEADER_BYTES) {
      // Only a long payload gets here: measure it first, so that an oversized one allocates nothing.
      needed = Buffer.byteLength(payload, 'utf8');
      if (needed > maxBytes) return -1;
      this.reserve(SEGMENT_HEADER_BYTES + RECORD_HEADER_BYTES + needed);
    }
    this.payloadStart = this.used + RECORD_HEADER_BYTES;
    const bytes = this.buffer.write(payload, this.payloadStart, 'utf8');
    return bytes > maxBytes ? -1 : bytes;
  }

  /**
   * Completes the record whose payload `encodePayload` wrote last: `bytes` payload bytes with
   * id `id`, stored in `segment`. A segment that has no byte on disk gets its header first.
   */
  commit(segment: Segment, id: number, bytes: number): void {
    if (this.payloadStart !== this.used + RECORD_HEADER_BYTES) {
      throw new Error('PendingBatch.commit() called without encodePayload() just before it');
    }
    this.payloadStart = -1;
    const buffer = this.buffer;
    let run = this.runList[this.runList.length - 1];
    if (run === undefined || run.segment !== segment) {
      if (segment.writtenBytes === 0) {
        // The payload sits where the header goes: move it past the header (once per segment).
        const payloadStart = this.used + RECORD_HEADER_BYTES;
        buffer.copyWithin(payloadStart + SEGMENT_HEADER_BYTES, payloadStart, payloadStart + bytes);
        encodeSegmentHeader(segment).copy(buffer, this.used);
        this.used += SEGMENT_HEADER_BYTES;
        run = { segment, start: this.used - SEGMENT_HEADER_BYTES, end: this.used, firstId: id, lastId: id };
      } else {
        run = { segment, start: this.used, end: this.used, firstId: id, lastId: id };
      }
      this.runList.push(run);
    }

    const start = this.used;
    const length = RECORD_HEADER_BYTES + bytes;
    // Byte stores, because the Buffer write methods check their arguments on every call.
    storeUint32(buffer, length, start);
    storeUint32(buffer, id % TWO_TO_32, start + 8);
    storeUint32(buffer, Math.floor(id / TWO_TO_32), start + 12);
    storeUint32(buffer, this.checksum(start, length), start + 4);
    this.used += length;
    run.end = this.used;
    run.lastId = id;
  }

  /** Returns the bytes of `run`, valid until the buffer grows or `clear` runs. */
  bytesOf(run: SegmentRun): Buffer {
    return this.buffer.subarray(run.start, run.end);
  }

  /** Empties the batch, and gives back memory that a record larger than usual took. */
  clear(): void {
    this.used = 0;
    this.runList = [];
    this.payloadStart = -1;
    if (this.arena !== null) this.buffer = this.arena.bytes;
    else if (this.buffer.length > 2 * INITIAL_CAPACITY) this.buffer = Buffer.allocUnsafe(INITIAL_CAPACITY);
  }

  /** Computes the checksum of the record at `start`, in WebAssembly while the batch is in the arena. */
  private checksum(start: number, length: number): number {
    const arena = this.arena;
    if (arena === null || this.buffer !== arena.bytes) return recordChecksum(this.buffer, start, length);
    return arena.crc(start + 8, length - 8, arena.crc(start, 4, 0));
  }

  /** Grows the buffer so that `bytes` more fit after the committed runs. */
  private reserve(bytes: number): void {
    if (this.used + bytes <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(2 * this.buffer.length, this.used + bytes));
    this.buffer.copy(grown, 0, 0, this.used);
    this.buffer = grown;
  }
}
