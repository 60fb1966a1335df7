import { RECORD_HEADER_BYTES } from './record-format.js';
import type { Segment } from './segment.js';

/** A record at the newest end of the queue, kept in memory with its place on disk. A class, for the reason given at `QueuedRecord`. */
export class TailRecord {
  constructor(
    readonly id: number,
    public payload: string,
    /** UTF-8 payload bytes. */
    readonly bytes: number,
    readonly segment: Segment,
    /** Offset of the record in its segment file. */
    readonly offset: number,
  ) {}
}

/** A record that lives as long as the process, for the reason given at `queuedRecordKeeper`. Its segment is a placeholder. */
export const tailRecordKeeper = new TailRecord(0, '', 0, null as unknown as Segment, 0);

/**
 * The newest records of a DiskBuffer, in id order, so that `read` can return them without
 * reading the disk while it keeps up with `push`. It contains two kinds of records:
 *
 * - pending records, pushed and not yet written, whether read or not (the writer still needs
 *   them), always at the end;
 * - written records that were not read yet, in front of them. Their record bytes, headers
 *   included, are kept under `maxBytes`, and the oldest ones are evicted first, so a reader
 *   that falls behind reads the disk until it reaches the records still cached.
 *
 * When the reader takes no record between two writes while written records wait in the cache,
 * it is not following (every collector down, for example), and the cache keeps no written
 * record until the reader reaches the pending records again. Records then live in memory only
 * until they are written, as without a cache, instead of surviving into the old generation of
 * the garbage collector while the backlog spools to disk.
 *
 * The cache contains copies only. What survives a crash depends on the write and fsync rules of
 * the DiskBuffer alone.
 */
export class TailCache {
  private records: TailRecord[] = [];
  private head = 0;
  /** Index of the first pending record; records from `head` to here are written and unread. */
  private writtenEnd = 0;
  /** Index of the next unread record; records from `head` to here are pending and read. */
  private readIndex = 0;
  /** Record bytes, headers included, of the written records in the cache. */
  private cachedBytes = 0;
  /** False from a write that found the reader idle, until the reader reaches the pending records. */
  private following = true;
  /** True when the reader took a record, from the cache or the disk, since the last write, and before the first write. */
  private readSinceWrite = true;

  constructor(readonly maxBytes: number) {}

  /** Record bytes, headers included, of the written and unread records in the cache. */
  get bytes(): number {
    return this.cachedBytes;
  }

  /** Number of records in the cache, pending ones included. */
  get size(): number {
    return this.records.length - this.head;
  }

  /** Adds a record that was just pushed and is pending. */
  addPending(record: TailRecord): void {
    this.records.push(record);
  }

  /**
   * Returns the next unread record when it is the one at `offset` in `segment`, else
   * undefined. Records that the reader passed some other way (an id up to `passedId`) are
   * dropped on the way.
   */
  peek(segment: Segment, offset: number, passedId: number): TailRecord | undefined {
    let record = this.records[this.readIndex];
    while (record !== undefined && (record.id <= passedId || record.segment.removed)) {
      this.skip();
      record = this.records[this.readIndex];
    }
    if (record === undefined || record.segment !== segment || record.offset !== offset) return undefined;
    return record;
  }

  /** Replaces the payload of pending record `id`, so that the copy matches what the write stored. */
  replacePayload(id: number, payload: string): void {
    for (let index = this.records.length - 1; index >= this.head; index -= 1) {
      const record = this.records[index];
      if (record.id === id) {
        record.payload = payload;
        return;
      }
      if (record.id < id) return;
    }
  }

  /** Searches the pending records for the one at `offset` in `segment`, for a reader that lost its place. */
  findPending(segment: Segment, offset: number): TailRecord | undefined {
    for (let index = Math.max(this.head, this.writtenEnd); index < this.records.length; index += 1) {
      const record = this.records[index];
      if (record.segment === segment && record.offset === offset) {
        this.readIndex = index;
        return record;
      }
    }
    return undefined;
  }

  /** Marks the record that `peek` or `findPending` returned as read. */
  consume(): void {
    this.skip();
    this.readSinceWrite = true;
  }

  /** Records that the reader took a record from the disk. */
  noteDiskRead(): void {
    this.readSinceWrite = true;
  }

  /** Records that the reader reached the records not yet written, so that the cache is worth keeping again. */
  noteReaderAtPending(): void {
    this.following = true;
  }

  /**
   * Marks every pending record as written: keeps the unread ones as cached, then evicts the
   * oldest over `maxBytes`. A write in the middle of a turn (`midTurn`) shows nothing about the
   * reader, which cannot run before the turn ends, so only the other writes can find it idle.
   */
  markWritten(midTurn = false): void {
    if (this.readIndex > this.writtenEnd) {
      // The reader has passed every cached record, and the pending records it read need no copy.
      this.head = this.readIndex;
    }
    if (!midTurn) {
      if (this.head < this.writtenEnd && !this.readSinceWrite) this.following = false;
      this.readSinceWrite = false;
    }
    for (let index = Math.max(this.head, this.writtenEnd); index < this.records.length; index += 1) {
      this.cachedBytes += RECORD_HEADER_BYTES + this.records[index].bytes;
    }
    this.writtenEnd = this.records.length;
    const limit = this.following ? this.maxBytes : 0;
    while (this.cachedBytes > limit && this.head < this.writtenEnd) this.evictOldest();
    this.readIndex = Math.max(this.readIndex, this.head);
    this.compact();
  }

  /**
   * Counts the pending records with an id of at least `firstId` that were not read: the
   * records of a failed write that the reader has not returned.
   */
  countUnreadPendingFrom(firstId: number): { records: number; bytes: number } {
    let records = 0;
    let bytes = 0;
    for (let index = Math.max(this.readIndex, this.writtenEnd); index < this.records.length; index += 1) {
      const record = this.records[index];
      if (record.id < firstId) continue;
      records += 1;
      bytes += record.bytes;
    }
    return { records, bytes };
  }

  /**
   * Removes the records of deleted segments (`removed` set) from the front. Segments leave the
   * queue oldest first, so their records are always at the front.
   */
  removeDeletedSegments(): void {
    while (this.head < this.records.length && this.records[this.head].segment.removed) {
      if (this.head < this.writtenEnd) this.cachedBytes -= RECORD_HEADER_BYTES + this.records[this.head].bytes;
      this.head += 1;
    }
    this.writtenEnd = Math.max(this.writtenEnd, this.head);
    this.readIndex = Math.max(this.readIndex, this.head);
    this.compact();
  }

  /** Drops every record. The reader then finds written records on disk. */
  clear(): void {
    this.following = true;
    this.readSinceWrite = true;
    this.records = [];
    this.head = 0;
    this.writtenEnd = 0;
    this.readIndex = 0;
    this.cachedBytes = 0;
  }

  /** Moves past the next unread record, and releases it when it is written. */
  private skip(): void {
    const index = this.readIndex;
    this.readIndex += 1;
    if (index === this.head && index < this.writtenEnd) {
      this.cachedBytes -= RECORD_HEADER_BYTES + this.records[index].bytes;
      this.head += 1;
    }
  }

  private evictOldest(): void {
    this.cachedBytes -= RECORD_HEADER_BYTES + this.records[this.head].bytes;
    this.head += 1;
  }

  /** Drops released records from the array once they are the larger part of it. */
  private compact(): void {
    if (this.head === this.records.length) {
      this.records = [];
    } else if (this.head > 1024 && this.head * 2 > this.records.length) {
      this.records = this.records.slice(this.head);
    } else {
      return;
    }
    this.writtenEnd -= this.head;
    this.readIndex -= this.head;
    this.head = 0;
  }
}
