import { crc32c } from './crc32c.js';

/**
 * One record in a segment file, all integers little-endian:
 *
 *   offset 0  u32  length of the whole record in bytes, header included (so never below 16)
 *   offset 4  u32  CRC-32C of bytes [0, 4) and [8, length): the length, the id and the payload
 *   offset 8  u64  record id, stored as two u32 halves (low first); ids stay below 2^53
 *   offset 16      payload, UTF-8
 */
export const RECORD_HEADER_BYTES = 16;

/** Largest record the format accepts. A longer length field is treated as damage. */
export const MAX_RECORD_BYTES = 64 * 1024 * 1024;

const TWO_TO_32 = 0x1_0000_0000;

/** Encodes one record: header and UTF-8 payload in a new buffer. */
export function encodeRecord(id: number, payload: string): Buffer {
  const payloadBytes = Buffer.byteLength(payload, 'utf8');
  const length = RECORD_HEADER_BYTES + payloadBytes;
  const record = Buffer.allocUnsafe(length);
  record.writeUInt32LE(length, 0);
  record.writeUInt32LE(id % TWO_TO_32, 8);
  record.writeUInt32LE(Math.floor(id / TWO_TO_32), 12);
  record.write(payload, RECORD_HEADER_BYTES, 'utf8');
  record.writeUInt32LE(recordChecksum(record, 0, length), 4);
  return record;
}

/** Computes the checksum of the record that starts at `start` and has `length` bytes. */
export function recordChecksum(buffer: Uint8Array, start: number, length: number): number {
  const crc = crc32c(buffer, 0, start, start + 4);
  return crc32c(buffer, crc, start + 8, start + length);
}

/** Reads the 64-bit id field of the record at `start`. */
export function readRecordId(buffer: Buffer, start: number): number {
  return buffer.readUInt32LE(start + 12) * TWO_TO_32 + buffer.readUInt32LE(start + 8);
}

/** Reads the length field of the record at `start`. */
export function readRecordLength(buffer: Buffer, start: number): number {
  return buffer.readUInt32LE(start);
}

/** True when the length field can belong to a record: at least a header and at most the format maximum. */
export function isPlausibleLength(length: number): boolean {
  return length >= RECORD_HEADER_BYTES && length <= MAX_RECORD_BYTES;
}

/** True when the complete record at `start` (length already read) has a matching checksum. */
export function hasValidChecksum(buffer: Buffer, start: number, length: number): boolean {
  return buffer.readUInt32LE(start + 4) === recordChecksum(buffer, start, length);
}
