import { Buffer } from 'node:buffer';
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

/**
 * Throws a RangeError unless `[start, end)` is a valid byte range of a buffer of `size` bytes,
 * as `sealRecordsJs` and `CrcArena.sealRecords` require.
 */
export function checkSealRange(size: number, start: number, end: number): void {
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || start > end || end > size) {
    throw new RangeError(
      `Invalid record range [${start}, ${end}): expected integers with 0 <= start <= end <= ${size}, the buffer size`,
    );
  }
}

/**
 * Creates the error for a batch whose walk stopped at `offset` before `end`: fewer than a
 * header's bytes are left there, or the length field there is below 16 or runs past `end`.
 */
export function unsealableRecordError(buffer: Buffer, offset: number, end: number): Error {
  const advice = 'The range must contain whole records back to back.';
  const left = end - offset;
  if (left < RECORD_HEADER_BYTES) {
    return new Error(
      `Cannot seal records: ${left} bytes at offset ${offset} are too few for a ` +
        `${RECORD_HEADER_BYTES}-byte record header before the end at ${end}. ${advice}`,
    );
  }
  const length = buffer.readUInt32LE(offset);
  if (length < RECORD_HEADER_BYTES) {
    return new Error(
      `Cannot seal records: invalid record length ${length} at offset ${offset}, ` +
        `below the ${RECORD_HEADER_BYTES}-byte header. ${advice}`,
    );
  }
  return new Error(
    `Cannot seal records: record length ${length} at offset ${offset} runs past the end at ${end}. ${advice}`,
  );
}

/**
 * Stores the checksum of every record in `buffer[start, end)`, which must contain whole records
 * back to back. Each checksum goes little-endian at offset 4 of its record. Throws when a length
 * field is below 16 or runs past `end`, after sealing the records before it. Writes only inside
 * `[start, end)`. This is the JavaScript version of `CrcArena.sealRecords`.
 */
export function sealRecordsJs(buffer: Buffer, start: number, end: number): void {
  checkSealRange(buffer.length, start, end);
  let offset = start;
  while (end - offset >= RECORD_HEADER_BYTES) {
    const length = buffer.readUInt32LE(offset);
    if (length < RECORD_HEADER_BYTES || length > end - offset) break;
    buffer.writeUInt32LE(recordChecksum(buffer, offset, length), offset + 4);
    offset += length;
  }
  if (offset !== end) throw unsealableRecordError(buffer, offset, end);
}
