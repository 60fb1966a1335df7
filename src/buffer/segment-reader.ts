import { Buffer } from 'node:buffer';
import { type CrcArena, createCrcArena } from './crc32c-wasm.js';
import { type DiskBufferFs, closeQuietly, readFully } from './disk-fs.js';
import {
  RECORD_HEADER_BYTES,
  hasValidChecksum,
  isPlausibleLength,
  readRecordId,
  readRecordLength,
} from './record-format.js';

/** Bytes read from a segment file per read call; records up to this size are parsed without another allocation. */
export const READ_AHEAD_BYTES = 64 * 1024;

/**
 * Read-ahead arenas of closed readers. A DiskBuffer opens one reader per segment file. Each
 * WebAssembly instance reserves address space until the garbage collector frees it, so a closed
 * reader hands its arena to the next reader instead of leaving it to the collector.
 */
const freeArenas: CrcArena[] = [];
const MAX_FREE_ARENAS = 4;

export interface ByteView {
  buffer: Buffer;
  index: number;
  /** Bytes available from `index`; less than requested only at end of file. */
  available: number;
}

/**
 * Reads one segment file through a fixed read-ahead buffer, so memory stays flat however long
 * the file is. The file is opened on first use, and again after `close`.
 *
 * The read-ahead buffer lives in the memory of a WebAssembly CRC-32C (see `crc32c-wasm.ts`),
 * so that record checksums are verified in place. That takes about a third of the time of the
 * JavaScript CRC-32C, and the module is compiled before the first record, while the JavaScript
 * version starts in the interpreter. Where WebAssembly is not available, the buffer is a plain
 * Buffer and the checksums use JavaScript.
 */
export class SegmentFileReader {
  private fd: number | null = null;
  /** The arena whose memory contains `chunk`, or null when `chunk` is a plain Buffer or not allocated. */
  private arena: CrcArena | null = null;
  /** The read-ahead buffer, allocated on first use and given up by `close`. */
  private chunk: Buffer | null = null;
  private chunkStart = 0;
  private chunkLength = 0;

  constructor(
    private readonly fs: DiskBufferFs,
    readonly path: string,
  ) {}

  /** Returns a view of bytes [position, position + length) of the file. Throws when the file cannot be read. */
  view(position: number, length: number): ByteView {
    const chunk = this.chunk ?? this.takeChunk();
    if (position >= this.chunkStart && position + length <= this.chunkStart + this.chunkLength) {
      return { buffer: chunk, index: position - this.chunkStart, available: length };
    }
    const fd = this.open();
    if (length > READ_AHEAD_BYTES) {
      const buffer = Buffer.allocUnsafe(length);
      return { buffer, index: 0, available: readFully(this.fs, fd, buffer, 0, length, position) };
    }
    // A read that fails part-way has overwritten part of the buffer, so nothing counts as cached until it succeeds.
    this.chunkLength = 0;
    this.chunkLength = readFully(this.fs, fd, chunk, 0, READ_AHEAD_BYTES, position);
    this.chunkStart = position;
    return { buffer: chunk, index: 0, available: Math.min(length, this.chunkLength) };
  }

  /** True when the whole record of `length` bytes at `view` (from this reader's last `view` call) has a matching checksum. */
  hasValidChecksum(view: ByteView, length: number): boolean {
    const arena = this.arena;
    if (arena === null || view.buffer !== this.chunk) return hasValidChecksum(view.buffer, view.index, length);
    const start = view.index;
    const crc = arena.crc(start + 8, length - 8, arena.crc(start, 4, 0));
    return view.buffer.readUInt32LE(start + 4) === crc;
  }

  /** Copies bytes [start, end) of the file into a new buffer. */
  copy(start: number, end: number): Buffer {
    const buffer = Buffer.allocUnsafe(end - start);
    const length = readFully(this.fs, this.open(), buffer, 0, end - start, start);
    return buffer.subarray(0, length);
  }

  /** Closes the file and gives up the read-ahead buffer. Views returned before are no longer valid. */
  close(): void {
    closeQuietly(this.fs, this.fd);
    this.fd = null;
    this.chunkLength = 0;
    if (this.arena !== null && freeArenas.length < MAX_FREE_ARENAS) freeArenas.push(this.arena);
    this.arena = null;
    this.chunk = null;
  }

  private takeChunk(): Buffer {
    this.arena = freeArenas.pop() ?? createCrcArena(READ_AHEAD_BYTES);
    this.chunk = this.arena?.bytes ?? Buffer.allocUnsafe(READ_AHEAD_BYTES);
    return this.chunk;
  }

  private open(): number {
    if (this.fd === null) this.fd = this.fs.openSync(this.path, 'r');
    return this.fd;
  }
}

export interface ScannedRecord {
  kind: 'record';
  offset: number;
  length: number;
  id: number;
  /** The record's bytes start at `view.index`; valid only until the reader's next call. */
  view: ByteView;
}

export interface DamagedRange {
  kind: 'damaged';
  start: number;
  /** Offset of the next valid record, or the limit when none follows. */
  end: number;
  /** Id of the record at `end`, or null when no valid record follows. */
  nextId: number | null;
}

export type ScanStep = ScannedRecord | DamagedRange | { kind: 'end' };

/**
 * Parses the record at `offset`, reading no further than `limit`. A record is valid when its
 * length is possible, it ends before `limit`, its checksum matches and its id is above
 * `previousId`. Otherwise the scan resyncs: it tries every later offset for a valid record
 * and reports the bytes in between as damaged.
 *
 * Ids inside one segment are consecutive (a write error starts a new segment), so a record
 * found `d` bytes after the damage can have an id at most `previousId + 1 + d / 16`. That
 * bound rejects garbage that happens to carry a matching checksum.
 */
export function scanNext(reader: SegmentFileReader, offset: number, limit: number, previousId: number): ScanStep {
  if (offset >= limit) return { kind: 'end' };

  const direct = validRecordAt(reader, offset, limit, previousId + 1, Number.MAX_SAFE_INTEGER);
  if (direct !== null) return direct;

  for (let position = offset + 1; position + RECORD_HEADER_BYTES <= limit; position += 1) {
    const maxId = previousId + 1 + Math.floor((position - offset) / RECORD_HEADER_BYTES);
    const candidate = validRecordAt(reader, position, limit, previousId + 1, maxId);
    if (candidate !== null) return { kind: 'damaged', start: offset, end: position, nextId: candidate.id };
  }
  return { kind: 'damaged', start: offset, end: limit, nextId: null };
}

function validRecordAt(
  reader: SegmentFileReader,
  offset: number,
  limit: number,
  minId: number,
  maxId: number,
): ScannedRecord | null {
  if (limit - offset < RECORD_HEADER_BYTES) return null;
  const header = reader.view(offset, RECORD_HEADER_BYTES);
  if (header.available < RECORD_HEADER_BYTES) return null;

  const length = readRecordLength(header.buffer, header.index);
  if (!isPlausibleLength(length) || offset + length > limit) return null;
  const id = readRecordId(header.buffer, header.index);
  if (id < minId || id > maxId) return null;

  const view = reader.view(offset, length);
  if (view.available < length || !reader.hasValidChecksum(view, length)) return null;
  return { kind: 'record', offset, length, id, view };
}
