import { Buffer } from 'node:buffer';
import { type CrcArena, createCrcArena } from './crc32c-wasm.js';
import { RECORD_HEADER_BYTES, sealRecordsJs } from './record-format.js';
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

/**
 * Payloads are joined into strings of up to about this many UTF-16 code units and encoded with
 * one call each. V8 keeps a string above 128 KiB in its large-object space, which costs more.
 */
const GROUP_CHARS = 48 * 1024;

/** The placeholder for the next record's header between two joined payloads: 16 characters of one UTF-8 byte each. */
const HEADER_PLACEHOLDER = '\0'.repeat(RECORD_HEADER_BYTES);

/**
 * Bytes the encoder may write past the expected end of a group. A group whose payloads are
 * longer than their stated sizes then encodes to more bytes than expected, which shows the
 * mismatch, instead of stopping exactly at the expected end.
 */
const OVERRUN_BYTES = 4;

const NON_ASCII = /[^\0-\x7f]/g;

/** Records the per-record arrays start with, enough for a turn of about 1,000 events. */
const INITIAL_RECORDS = 1024;


const TWO_TO_32 = 0x1_0000_0000;

/** Stores `value`, an unsigned 32-bit integer, little-endian at `offset`. */
function storeUint32(buffer: Buffer, value: number, offset: number): void {
  buffer[offset] = value;
  buffer[offset + 1] = value >>> 8;
  buffer[offset + 2] = value >>> 16;
  buffer[offset + 3] = value >>> 24;
}

/** A record whose payload was stored differently from the one pushed, because its stated size was wrong. */
export interface ReplacedPayload {
  id: number;
  /** The pushed payload. */
  pushed: string;
  /** The payload as stored: each non-ASCII character became "?". */
  stored: string;
  /** UTF-8 length of the pushed payload. */
  actualBytes: number;
}

/**
 * The records a DiskBuffer has not written yet, in one reusable buffer laid out as they go to
 * disk: for each segment a run of records, preceded by the segment header when the run starts
 * the file.
 *
 * `add` places a record by its stated UTF-8 size and keeps the payload string. `seal` runs just
 * before the write. It joins consecutive payloads with a placeholder where each record header
 * goes and encodes each group of about 48 K characters with one call, which spares a call and a
 * flattened string per record. Then it fills in the headers and the checksums.
 *
 * The size passed to `add` must be the payload's UTF-8 length, or its UTF-16 length for a payload
 * that the caller states is ASCII. A false ASCII statement makes the group encode to more bytes
 * than stated, because every other character takes at least two bytes. `seal` then encodes that
 * group one record at a time and stores such a payload with "?" for each non-ASCII character, so
 * that it still fills exactly its place, and reports it.
 *
 * The buffer lives in the memory of a WebAssembly CRC-32C (see `crc32c-wasm.ts`), so that the
 * record checksums are computed in place. A batch that outgrows it, because of a record larger
 * than usual, moves to a plain Buffer and the JavaScript CRC-32C until the next `clear`.
 */
export class PendingBatch {
  /** The WebAssembly memory for the batch, or null where WebAssembly is not available. */
  private readonly arena: CrcArena | null = createCrcArena(INITIAL_CAPACITY);
  private buffer = this.arena?.bytes ?? Buffer.allocUnsafe(INITIAL_CAPACITY);
  /** Bytes of the buffer taken by added records and segment headers. */
  private used = 0;
  private runList: SegmentRun[] = [];
  /** Segment headers of the runs that start a file, written by `seal` after the payloads. */
  private segmentHeaders: Array<{ offset: number; bytes: Buffer }> = [];
  /**
   * Records added since the last `seal`: payload, offset of the record, id and payload bytes, at
   * the same index below `count`. The arrays keep their size from turn to turn, so that a turn of
   * thousands of records does not grow four new arrays. The DiskBuffer writes a batch once it
   * reaches 1 MiB, so they stay at or below 65,536 slots (1 MiB of records with empty payloads),
   * 2 MiB in all. A batch of 170-byte payloads fills about 5,600.
   */
  private count = 0;
  private payloads: string[] = [];
  private starts = new Float64Array(INITIAL_RECORDS);
  private ids = new Float64Array(INITIAL_RECORDS);
  private sizes = new Float64Array(INITIAL_RECORDS);

  /** Runs in write order; a segment has at most one. */
  get runs(): readonly SegmentRun[] {
    return this.runList;
  }

  /** Bytes of the added records and segment headers. */
  get size(): number {
    return this.used;
  }

  get empty(): boolean {
    return this.runList.length === 0;
  }

  /**
   * Adds a record with id `id` and `bytes` payload bytes, stored in `segment`. A segment that has
   * no byte on disk gets its header first. See the class comment for what `bytes` must be.
   */
  add(segment: Segment, id: number, payload: string, bytes: number): void {
    this.reserve(SEGMENT_HEADER_BYTES + RECORD_HEADER_BYTES + bytes + OVERRUN_BYTES);
    let run = this.runList[this.runList.length - 1];
    if (run === undefined || run.segment !== segment) {
      const start = this.used;
      if (segment.writtenBytes === 0) {
        this.segmentHeaders.push({ offset: start, bytes: encodeSegmentHeader(segment) });
        this.used += SEGMENT_HEADER_BYTES;
      }
      run = { segment, start, end: this.used, firstId: id, lastId: id };
      this.runList.push(run);
    }
    const index = this.count;
    if (index === this.starts.length) this.growRecords();
    this.payloads[index] = payload;
    this.starts[index] = this.used;
    this.ids[index] = id;
    this.sizes[index] = bytes;
    this.count = index + 1;
    this.used += RECORD_HEADER_BYTES + bytes;
    run.end = this.used;
    run.lastId = id;
  }

  /**
   * Encodes the records added since the last call, with their headers and checksums, so that
   * `bytesOf` returns what goes to disk. Returns the records whose payload was stored changed
   * (see the class comment), or null.
   */
  seal(): ReplacedPayload[] | null {
    const count = this.count;
    if (count === 0) return null;
    const buffer = this.buffer;
    const { payloads, starts, sizes } = this;
    let replaced: ReplacedPayload[] | null = null;

    for (let first = 0; first < count; ) {
      // A group: records that follow each other in the buffer, joined up to GROUP_CHARS.
      let text = payloads[first];
      let expected = sizes[first];
      let end = first + 1;
      while (end < count && starts[end] === this.endOf(end - 1) && text.length + payloads[end].length < GROUP_CHARS) {
        text += HEADER_PLACEHOLDER + payloads[end];
        expected += RECORD_HEADER_BYTES + sizes[end];
        end += 1;
      }
      const written = buffer.write(text, starts[first] + RECORD_HEADER_BYTES, expected + OVERRUN_BYTES, 'utf8');
      if (written !== expected) replaced = this.encodeEach(first, end, replaced);
      first = end;
    }

    for (let index = 0; index < count; index += 1) {
      const start = starts[index];
      const id = this.ids[index];
      // Byte stores, because the Buffer write methods check their arguments on every call.
      storeUint32(buffer, RECORD_HEADER_BYTES + sizes[index], start);
      storeUint32(buffer, id % TWO_TO_32, start + 8);
      storeUint32(buffer, Math.floor(id / TWO_TO_32), start + 12);
    }
    for (const header of this.segmentHeaders) header.bytes.copy(buffer, header.offset);
    // Checksums, one call for each stretch of records that follow each other (a segment header ends one).
    for (let first = 0; first < count; ) {
      let end = first + 1;
      while (end < count && starts[end] === this.endOf(end - 1)) end += 1;
      this.sealRange(starts[first], this.endOf(end - 1));
      first = end;
    }

    this.forgetRecords();
    return replaced;
  }

  /** Returns the bytes of `run`, valid after `seal` until the buffer grows or `clear` runs. */
  bytesOf(run: SegmentRun): Buffer {
    return this.buffer.subarray(run.start, run.end);
  }

  /** Empties the batch, and gives back memory that a record larger than usual took. */
  clear(): void {
    this.used = 0;
    this.runList = [];
    this.forgetRecords();
    if (this.arena !== null) this.buffer = this.arena.bytes;
    else if (this.buffer.length > 2 * INITIAL_CAPACITY) this.buffer = Buffer.allocUnsafe(INITIAL_CAPACITY);
  }

  /**
   * Encodes the records from `first` to before `end` one at a time, each into exactly its
   * stated size, and adds the payloads that did not have that size to `replaced`.
   */
  private encodeEach(first: number, end: number, replaced: ReplacedPayload[] | null): ReplacedPayload[] | null {
    for (let index = first; index < end; index += 1) {
      const pushed = this.payloads[index];
      const bytes = this.sizes[index];
      const actualBytes = Buffer.byteLength(pushed, 'utf8');
      let stored = pushed;
      if (actualBytes !== bytes) {
        stored = pushed.replace(NON_ASCII, '?').padEnd(bytes, '?').slice(0, bytes);
        replaced ??= [];
        replaced.push({ id: this.ids[index], pushed, stored, actualBytes });
      }
      this.buffer.write(stored, this.starts[index] + RECORD_HEADER_BYTES, bytes, 'utf8');
    }
    return replaced;
  }

  /** Returns the offset just past record `index` of those added since the last `seal`. */
  private endOf(index: number): number {
    return this.starts[index] + RECORD_HEADER_BYTES + this.sizes[index];
  }

  /** Drops the records added since the last `seal`, once they are encoded or no longer written. */
  private forgetRecords(): void {
    this.segmentHeaders = [];
    // Emptied, not replaced, so that the array keeps its size and releases the strings.
    this.payloads.fill('', 0, this.count);
    this.count = 0;
  }

  /** Stores the checksums of the records from `start` to `end`, in WebAssembly while the batch is in the arena. */
  private sealRange(start: number, end: number): void {
    const arena = this.arena;
    if (arena === null || this.buffer !== arena.bytes) sealRecordsJs(this.buffer, start, end);
    else arena.sealRecords(start, end);
  }

  /** Doubles the arrays of added records. */
  private growRecords(): void {
    const capacity = 2 * this.starts.length;
    this.starts = grownTo(this.starts, capacity);
    this.ids = grownTo(this.ids, capacity);
    this.sizes = grownTo(this.sizes, capacity);
  }

  /** Grows the buffer so that `bytes` more fit after the added records. */
  private reserve(bytes: number): void {
    if (this.used + bytes <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(2 * this.buffer.length, this.used + bytes));
    this.buffer.copy(grown, 0, 0, this.used);
    this.buffer = grown;
  }
}

/** Returns a copy of `array` with `capacity` elements. */
function grownTo(array: Float64Array<ArrayBuffer>, capacity: number): Float64Array<ArrayBuffer> {
  const grown = new Float64Array(capacity);
  grown.set(array);
  return grown;
}
