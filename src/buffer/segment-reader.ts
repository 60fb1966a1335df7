import { Buffer } from 'node:buffer';
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

export interface ByteView {
  buffer: Buffer;
  index: number;
  /** Bytes available from `index`; less than requested only at end of file. */
  available: number;
}

/**
 * Reads one segment file through a fixed read-ahead buffer, so memory stays flat however long
 * the file is. The file is opened on first use.
 */
export class SegmentFileReader {
  private fd: number | null = null;
  private readonly chunk = Buffer.allocUnsafe(READ_AHEAD_BYTES);
  private chunkStart = 0;
  private chunkLength = 0;

  constructor(
    private readonly fs: DiskBufferFs,
    readonly path: string,
  ) {}

  /** Returns a view of bytes [position, position + length) of the file. Throws when the file cannot be read. */
  view(position: number, length: number): ByteView {
    if (position >= this.chunkStart && position + length <= this.chunkStart + this.chunkLength) {
      return { buffer: this.chunk, index: position - this.chunkStart, available: length };
    }
    const fd = this.open();
    if (length > READ_AHEAD_BYTES) {
      const buffer = Buffer.allocUnsafe(length);
      return { buffer, index: 0, available: readFully(this.fs, fd, buffer, 0, length, position) };
    }
    this.chunkLength = readFully(this.fs, fd, this.chunk, 0, READ_AHEAD_BYTES, position);
    this.chunkStart = position;
    return { buffer: this.chunk, index: 0, available: Math.min(length, this.chunkLength) };
  }

  /** Copies bytes [start, end) of the file into a new buffer. */
  copy(start: number, end: number): Buffer {
    const buffer = Buffer.allocUnsafe(end - start);
    const length = readFully(this.fs, this.open(), buffer, 0, end - start, start);
    return buffer.subarray(0, length);
  }

  close(): void {
    closeQuietly(this.fs, this.fd);
    this.fd = null;
    this.chunkLength = 0;
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
  if (view.available < length || !hasValidChecksum(view.buffer, view.index, length)) return null;
  return { kind: 'record', offset, length, id, view };
}
