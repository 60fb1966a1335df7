import { EventEmitter } from 'eventemitter3';
import { InvalidOptionError } from '../errors.js';
import { FULL_POLICIES, type EventQueue, type FullPolicy, type QueueEvents, type QueueRecord, type QueueStats } from './queue.js';

export interface MemoryQueueOptions {
  /** Maximum records waiting to be read. Default 100,000. */
  maxRecords?: number;
  /** Maximum UTF-8 bytes waiting to be read. Default 64 MiB. */
  maxBytes?: number;
  /** Policy `push` applies at the maximum. Default `block`. */
  whenFull?: FullPolicy;
}

/**
 * The default queue: records in memory, in a ring-free array with a moving head so that push
 * and read cost O(1). Nothing survives the process.
 */
export class MemoryQueue extends EventEmitter<QueueEvents> implements EventQueue {
  readonly maxRecords: number;
  readonly maxBytes: number;
  readonly whenFull: FullPolicy;

  private records: QueueRecord[] = [];
  private head = 0;
  private nextId = 1;
  private unreadBytes = 0;
  /** Records read and not yet acknowledged, kept only as counts because the sender keeps the records themselves. */
  private readCount = 0;
  private readBytes = 0;
  /**
   * Id and size of each record read and not yet acknowledged, at the same index, from
   * `readHead` on. Two arrays of numbers instead of one object per record, because V8 stores
   * small integers unboxed and the records they describe may wait long enough in a connection's
   * replay window to be promoted to the old generation.
   */
  private readonly readIds: number[] = [];
  private readonly readSizes: number[] = [];
  private readHead = 0;
  private dropped = 0;
  private wasFull = false;

  constructor(options: MemoryQueueOptions = {}) {
    super();
    this.maxRecords = positiveInteger('maxRecords', options.maxRecords ?? 100_000);
    this.maxBytes = positiveInteger('maxBytes', options.maxBytes ?? 64 * 1024 * 1024);
    const whenFull = options.whenFull ?? 'block';
    if (!FULL_POLICIES.includes(whenFull)) {
      throw new InvalidOptionError(
        `Invalid whenFull ${JSON.stringify(whenFull)}: expected one of ${FULL_POLICIES.join(', ')}`,
      );
    }
    this.whenFull = whenFull;
  }

  async open(): Promise<void> {}

  get unread(): number {
    return this.records.length - this.head;
  }

  /**
   * True while the unread records reach `maxRecords` or `maxBytes`. Records already read are not
   * counted: the connections that hold them bound them with their replay windows, and counting
   * them twice would stall `send()` behind a healthy collector's window.
   */
  get full(): boolean {
    return this.unread >= this.maxRecords || this.unreadBytes >= this.maxBytes;
  }

  push(payload: string, bytes: number): number {
    if (this.full) {
      if (this.whenFull === 'drop-newest') {
        this.dropped += 1;
        this.emit('drop', 1, 'full');
        return -1;
      }
      if (this.whenFull === 'drop-oldest') {
        this.dropOldest(bytes);
      }
    }
    const id = this.nextId++;
    this.records.push({ id, payload, bytes });
    this.unreadBytes += bytes;
    if (!this.wasFull && this.full) this.wasFull = true;
    return id;
  }

  read(maxRecords: number, maxBytes: number): QueueRecord[] {
    const end = Math.min(this.records.length, this.head + maxRecords);
    let index = this.head;
    let total = 0;
    while (index < end) {
      const record = this.records[index];
      if (total + record.bytes > maxBytes && index > this.head) break;
      total += record.bytes;
      this.readIds.push(record.id);
      this.readSizes.push(record.bytes);
      index += 1;
    }
    const batch = this.records.slice(this.head, index);
    this.head = index;
    this.unreadBytes -= total;
    this.readCount += batch.length;
    this.readBytes += total;
    this.compact();
    this.signalSpace();
    return batch;
  }

  ack(id: number): void {
    const ids = this.readIds;
    let head = this.readHead;
    let bytes = 0;
    while (head < ids.length && ids[head] <= id) {
      bytes += this.readSizes[head];
      head += 1;
    }
    this.readCount -= head - this.readHead;
    this.readBytes -= bytes;
    this.readHead = head;
    if (head > 4096 && head * 2 > ids.length) {
      ids.splice(0, head);
      this.readSizes.splice(0, head);
      this.readHead = 0;
    }
    this.signalSpace();
  }

  stats(): QueueStats {
    return { records: this.unread + this.readCount, bytes: this.unreadBytes + this.readBytes, dropped: this.dropped };
  }

  async close(): Promise<void> {}

  private dropOldest(incomingBytes: number): void {
    let count = 0;
    while (this.unread > 0 && (this.unread >= this.maxRecords || this.unreadBytes + incomingBytes > this.maxBytes)) {
      this.unreadBytes -= this.records[this.head].bytes;
      this.head += 1;
      count += 1;
    }
    if (count > 0) {
      this.dropped += count;
      this.compact();
      this.emit('drop', count, 'full');
    }
  }

  private compact(): void {
    if (this.head > 4096 && this.head * 2 > this.records.length) {
      this.records.splice(0, this.head);
      this.head = 0;
    }
  }

  private signalSpace(): void {
    if (this.wasFull && !this.full) {
      this.wasFull = false;
      this.emit('space');
    }
  }
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new InvalidOptionError(`Invalid ${name} ${String(value)}: expected a positive integer`);
  }
  return value;
}
