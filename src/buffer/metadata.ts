import { Buffer } from 'node:buffer';
import { crc32c } from './crc32c.js';
import { type DiskBufferFs, closeQuietly, readFully, writeFully } from './disk-fs.js';
import { readUint64, writeUint64 } from './segment.js';

/**
 * The acknowledged position, in a file of two 64-byte slots written in turn (the scheme of the
 * hypercore oplog header). Each write goes to the slot that does not contain the newest state,
 * so a write cut off by a crash damages at most that slot, and the other still contains the
 * previous state. Slot layout, integers little-endian:
 *
 *   offset 0   4 bytes  magic "RSMD"
 *   offset 4   u16      format version (1)
 *   offset 6   u16      reserved, zero
 *   offset 8   u64      sequence number, incremented on every write
 *   offset 16  u64      acknowledged id: every record up to it was delivered
 *   offset 24  u64      first id of the oldest segment that still contains unacknowledged records
 *   offset 32  u64      offset in that segment where reading resumes
 *   offset 40  u32      CRC-32C of bytes [0, 40)
 *   offset 44           zero up to 64
 */
export const METADATA_FILE_NAME = 'metadata';
export const METADATA_SLOT_BYTES = 64;
export const METADATA_FILE_BYTES = 2 * METADATA_SLOT_BYTES;

const METADATA_MAGIC = 0x444d5352; // "RSMD" read as a little-endian u32
const METADATA_VERSION = 1;

export interface AckState {
  ackedId: number;
  /** First id of the oldest live segment; with `headOffset`, a hint that saves scanning for `ackedId`. */
  headSegment: number;
  headOffset: number;
}

export interface LoadedMetadata {
  /** The newest intact state, or null when the file is missing or no slot is intact. */
  state: AckState | null;
  /** Problems to report as `warning` events. */
  problems: string[];
  /** True when the file did not exist. */
  missing: boolean;
}

export function encodeMetadataSlot(sequence: number, state: AckState): Buffer {
  const slot = Buffer.alloc(METADATA_SLOT_BYTES);
  slot.writeUInt32LE(METADATA_MAGIC, 0);
  slot.writeUInt16LE(METADATA_VERSION, 4);
  writeUint64(slot, sequence, 8);
  writeUint64(slot, state.ackedId, 16);
  writeUint64(slot, state.headSegment, 24);
  writeUint64(slot, state.headOffset, 32);
  slot.writeUInt32LE(crc32c(slot, 0, 0, 40), 40);
  return slot;
}

/** Decodes one slot, or returns null when it is damaged or was never written. */
export function decodeMetadataSlot(slot: Buffer): { sequence: number; state: AckState } | null {
  if (slot.length < METADATA_SLOT_BYTES) return null;
  if (slot.readUInt32LE(0) !== METADATA_MAGIC || slot.readUInt16LE(4) !== METADATA_VERSION) return null;
  if (slot.readUInt32LE(40) !== crc32c(slot, 0, 0, 40)) return null;
  return {
    sequence: readUint64(slot, 8),
    state: { ackedId: readUint64(slot, 16), headSegment: readUint64(slot, 24), headOffset: readUint64(slot, 32) },
  };
}

/** Reads and writes the metadata file. Writes go to the page cache; `fd` is fsynced by the owner. */
export class MetadataFile {
  fd: number | null = null;
  private sequence = 0;
  /** Index of the slot that contains the newest state. The next write goes to the other one. */
  private newestSlot = 1;

  constructor(
    private readonly fs: DiskBufferFs,
    readonly path: string,
  ) {}

  /** Reads both slots and keeps the intact one with the higher sequence number. */
  load(): LoadedMetadata {
    let fd: number;
    try {
      fd = this.fs.openSync(this.path, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { state: null, problems: [], missing: true };
      return { state: null, problems: [`cannot be read (${String(error)})`], missing: false };
    }
    const content = Buffer.alloc(METADATA_FILE_BYTES);
    let length: number;
    try {
      length = readFully(this.fs, fd, content, 0, METADATA_FILE_BYTES, 0);
    } catch (error) {
      return { state: null, problems: [`cannot be read (${String(error)})`], missing: false };
    } finally {
      closeQuietly(this.fs, fd);
    }

    const problems: string[] = [];
    if (length < METADATA_FILE_BYTES) problems.push(`is truncated to ${length} of ${METADATA_FILE_BYTES} bytes`);
    const slots = [0, 1].map((index) =>
      decodeMetadataSlot(content.subarray(index * METADATA_SLOT_BYTES, (index + 1) * METADATA_SLOT_BYTES)),
    );
    slots.forEach((slot, index) => {
      if (slot === null && length >= (index + 1) * METADATA_SLOT_BYTES) problems.push(`slot ${index} is damaged`);
    });

    let newest: { sequence: number; state: AckState } | null = null;
    slots.forEach((slot, index) => {
      if (slot !== null && (newest === null || slot.sequence > newest.sequence)) {
        newest = slot;
        this.newestSlot = index;
      }
    });
    const found = newest as { sequence: number; state: AckState } | null;
    if (found === null) return { state: null, problems, missing: false };
    this.sequence = found.sequence;
    return { state: found.state, problems, missing: false };
  }

  /** Opens the file for writing, creating it with both slots holding `state` when it is new or unreadable. */
  open(state: AckState, rewrite: boolean): void {
    this.fd = this.fs.openSync(this.path, rewrite ? 'w+' : 'r+');
    if (rewrite) {
      const first = encodeMetadataSlot(this.sequence + 1, state);
      const second = encodeMetadataSlot(this.sequence + 2, state);
      writeFully(this.fs, this.fd, Buffer.concat([first, second]), 0);
      this.sequence += 2;
      this.newestSlot = 1;
    }
  }

  /** Writes `state` to the slot that does not hold the newest state. A failed write leaves the newest slot intact. */
  write(state: AckState): void {
    if (this.fd === null) throw new Error('The metadata file is not open');
    const sequence = this.sequence + 1;
    const slot = 1 - this.newestSlot;
    writeFully(this.fs, this.fd, encodeMetadataSlot(sequence, state), slot * METADATA_SLOT_BYTES);
    this.sequence = sequence;
    this.newestSlot = slot;
  }

  close(): void {
    closeQuietly(this.fs, this.fd);
    this.fd = null;
  }
}
