import { Buffer } from 'node:buffer';
import { join } from 'node:path';
import { crc32c } from './crc32c.js';

/**
 * Every segment file starts with a 40-byte header, integers little-endian:
 *
 *   offset 0   4 bytes  magic "RSEG"
 *   offset 4   u16      format version (1)
 *   offset 6   u16      reserved, zero
 *   offset 8   u64      id of the first record, also the file name
 *   offset 16  u64      first id of the segment written before this one, 0 for none
 *   offset 24  u64      id of the last record in that segment, 0 for none
 *   offset 32  u32      CRC-32C of bytes [0, 32)
 *   offset 36  u32      reserved, zero
 *
 * The two previous-segment fields let open detect a segment deleted from the middle of the
 * queue, and count the records of every segment without reading it even when a failed write
 * skipped ids.
 */
export const SEGMENT_HEADER_BYTES = 40;

const SEGMENT_MAGIC = 0x47455352; // "RSEG" read as a little-endian u32
const SEGMENT_VERSION = 1;
const TWO_TO_32 = 0x1_0000_0000;
const SEGMENT_NAME = /^(\d{16})\.seg$/;

/** Returns the file name of the segment whose first record id is `firstId`: 16 digits, so names sort in id order. */
export function segmentFileName(firstId: number): string {
  return `${String(firstId).padStart(16, '0')}.seg`;
}

/** Returns the first record id encoded in a segment file name, or null for any other name. */
export function parseSegmentFileName(name: string): number | null {
  const match = SEGMENT_NAME.exec(name);
  return match ? Number(match[1]) : null;
}

export interface SegmentHeader {
  firstId: number;
  previousFirstId: number;
  previousLastId: number;
}

export function encodeSegmentHeader(header: SegmentHeader): Buffer {
  const buffer = Buffer.alloc(SEGMENT_HEADER_BYTES);
  buffer.writeUInt32LE(SEGMENT_MAGIC, 0);
  buffer.writeUInt16LE(SEGMENT_VERSION, 4);
  writeUint64(buffer, header.firstId, 8);
  writeUint64(buffer, header.previousFirstId, 16);
  writeUint64(buffer, header.previousLastId, 24);
  buffer.writeUInt32LE(crc32c(buffer, 0, 0, 32), 32);
  return buffer;
}

/** Decodes a segment header, or returns null when the magic, version or checksum does not match. */
export function decodeSegmentHeader(buffer: Buffer): SegmentHeader | null {
  if (buffer.length < SEGMENT_HEADER_BYTES) return null;
  if (buffer.readUInt32LE(0) !== SEGMENT_MAGIC || buffer.readUInt16LE(4) !== SEGMENT_VERSION) return null;
  if (buffer.readUInt32LE(32) !== crc32c(buffer, 0, 0, 32)) return null;
  return { firstId: readUint64(buffer, 8), previousFirstId: readUint64(buffer, 16), previousLastId: readUint64(buffer, 24) };
}

export function writeUint64(buffer: Buffer, value: number, offset: number): void {
  buffer.writeUInt32LE(value % TWO_TO_32, offset);
  buffer.writeUInt32LE(Math.floor(value / TWO_TO_32), offset + 4);
}

export function readUint64(buffer: Buffer, offset: number): number {
  return buffer.readUInt32LE(offset + 4) * TWO_TO_32 + buffer.readUInt32LE(offset);
}

/** The in-memory state of one segment file. */
export class Segment {
  readonly name: string;
  readonly path: string;
  /**
   * Bytes of the file that hold whole, written records (header included). The reader never
   * reads past this offset. For a segment found at open it is the file size, or the end of
   * the valid prefix for the newest segment.
   */
  writtenBytes: number;
  /** `writtenBytes` plus the records pushed for this segment and not yet written. */
  plannedBytes: number;
  /** Id of the last record planned for the segment, or null when it is only known by estimate. */
  lastId: number | null;
  /** Id of the last record written to the file; equals `lastId` once the pending records are written. */
  writtenLastId: number | null;
  /** True once no more records go into this segment. */
  sealed: boolean;
  /** True once the segment left the queue (acknowledged, dropped or failed); its file is deleted or about to be. */
  removed = false;
  /** False when the header on disk is damaged or does not match the file name. */
  headerValid = true;
  /** Descriptor the writer appends through; null until the file is created or reopened for appends. */
  fd: number | null = null;
  /** True when bytes were written through `fd` since its last fsync. */
  dirty = false;
  /** Damaged ranges already counted and quarantined, by start offset, so the reader skips them silently. */
  readonly damagedRanges = new Map<number, number>();

  constructor(
    directory: string,
    readonly firstId: number,
    readonly previousFirstId: number,
    readonly previousLastId: number,
    sizeBytes: number,
  ) {
    this.name = segmentFileName(firstId);
    this.path = join(directory, this.name);
    this.writtenBytes = sizeBytes;
    this.plannedBytes = sizeBytes;
    this.lastId = null;
    this.writtenLastId = null;
    this.sealed = true;
  }
}
