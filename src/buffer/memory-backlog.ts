import { type QueueRecord, QueuedRecord } from './queue.js';

/** A record kept in memory: its payload, UTF-8 payload bytes, and size on disk with its record header. A class, for the reason given at `QueuedRecord`. */
export class HeldRecord {
  constructor(
    readonly payload: string,
    readonly bytes: number,
    readonly size: number,
  ) {}
}

/**
 * The records a DiskBuffer keeps in memory while its directory is not open: before `open()`,
 * and after the directory could not be opened. The DiskBuffer applies its limits and full
 * policy, and this class only stores the records.
 *
 * A record gets its id when `read` returns it, because a record that is still unread when the
 * directory opens is written to disk and gets a disk id instead. Ids start at 1 and increase.
 * Read records are kept only as ids and sizes until they are acknowledged, like in `MemoryQueue`.
 */
export class MemoryBacklog {
  /** Size on disk of the unread records: record headers and payloads. */
  unreadSize = 0;
  /** UTF-8 payload bytes of the unread records. */
  unreadBytes = 0;
  /** UTF-8 payload bytes of the records read and not yet acknowledged. */
  inFlightBytes = 0;

  private records: HeldRecord[] = [];
  private head = 0;
  private nextId = 1;
  /** Id and payload bytes of each record read and not yet acknowledged, at the same index from `readHead` on. */
  private readonly readIds: number[] = [];
  private readonly readBytes: number[] = [];
  private readHead = 0;

  get unread(): number {
    return this.records.length - this.head;
  }

  /** Records read and not yet acknowledged. */
  get inFlight(): number {
    return this.readIds.length - this.readHead;
  }

  /** The highest id `read` has returned, or 0 when it returned none. */
  get lastReadId(): number {
    return this.nextId - 1;
  }

  push(record: HeldRecord): void {
    this.records.push(record);
    this.unreadSize += record.size;
    this.unreadBytes += record.bytes;
  }

  /** Removes the oldest unread records until `size` more bytes fit under `maxSize`. Returns how many it removed. */
  dropOldest(size: number, maxSize: number): number {
    let count = 0;
    while (this.unread > 0 && this.unreadSize + size > maxSize) {
      this.removeHead();
      count += 1;
    }
    this.compact();
    return count;
  }

  /** Returns up to `maxRecords` unread records, at most `maxBytes` of payload but at least one if any is unread. */
  read(maxRecords: number, maxBytes: number): QueueRecord[] {
    const batch: QueueRecord[] = [];
    let total = 0;
    while (batch.length < maxRecords && this.unread > 0) {
      const record = this.records[this.head];
      if (batch.length > 0 && total + record.bytes > maxBytes) break;
      this.removeHead();
      const id = this.nextId;
      this.nextId += 1;
      this.readIds.push(id);
      this.readBytes.push(record.bytes);
      this.inFlightBytes += record.bytes;
      total += record.bytes;
      batch.push(new QueuedRecord(id, record.payload, record.bytes));
    }
    this.compact();
    return batch;
  }

  /** Acknowledges every read record with an id up to `id`. */
  ack(id: number): void {
    let head = this.readHead;
    while (head < this.readIds.length && this.readIds[head] <= id) {
      this.inFlightBytes -= this.readBytes[head];
      head += 1;
    }
    this.readHead = head;
    if (head > 4096 && head * 2 > this.readIds.length) {
      this.readIds.splice(0, head);
      this.readBytes.splice(0, head);
      this.readHead = 0;
    }
  }

  /** Removes and returns every unread record, oldest first. Read records stay until acknowledged. */
  takeUnread(): HeldRecord[] {
    const unread = this.records.slice(this.head);
    this.records = [];
    this.head = 0;
    this.unreadSize = 0;
    this.unreadBytes = 0;
    return unread;
  }

  /** Forgets every record, read or not. Ids keep increasing. */
  clear(): void {
    this.takeUnread();
    this.readIds.length = 0;
    this.readBytes.length = 0;
    this.readHead = 0;
    this.inFlightBytes = 0;
  }

  private removeHead(): void {
    const record = this.records[this.head];
    this.head += 1;
    this.unreadSize -= record.size;
    this.unreadBytes -= record.bytes;
  }

  private compact(): void {
    if (this.head > 4096 && this.head * 2 > this.records.length) {
      this.records.splice(0, this.head);
      this.head = 0;
    }
  }
}
