import { EventEmitter } from 'eventemitter3';
import { InvalidOptionError } from '../errors.js';
import { PackedRecords } from './packed-records.js';
import { FULL_POLICIES, QueuedRecord, type EventQueue, type FullPolicy, type QueueEvents, type QueueRecord, type QueueStats } from './queue.js';

export interface MemoryQueueOptions {
  /** Maximum records waiting to be read. Default 100,000. */
  maxRecords?: number;
  /** Maximum UTF-8 bytes waiting to be read. Default 64 MiB. */
  maxBytes?: number;
  /** Policy `push` applies at the maximum. Default `block`. */
  whenFull?: FullPolicy;
}

/**
 * Unread records beyond this many are packed (see `PackedRecords`), oldest first, while a reader
 * takes records. A queue that keeps up with its collectors never contains this many, so only a
 * backlog pays for packing.
 */
const UNPACKED_RECORDS = 16_384;

/**
 * The same limit once this many records were pushed with no read, as when every collector is
 * down. A record that waits for 16,384 newer ones outlives two scavenges at a few hundred
 * thousand events per second, so V8 moves it to the old generation just before it is packed
 * (110 MiB promoted while 1,000,000 events spooled, by `--trace-gc-nvp`). Records packed after
 * 4,096 newer ones die young.
 */
const UNPACKED_RECORDS_UNREAD = 4_096;

/**
 * The default queue: records in memory, in a ring-free array with a moving head so that push
 * and read cost O(1). The oldest records of a long backlog are packed as bytes outside the
 * JavaScript heap. Nothing survives the process.
 */
export class MemoryQueue extends EventEmitter<QueueEvents> implements EventQueue {
  readonly maxRecords: number;
  readonly maxBytes: number;
  readonly whenFull: FullPolicy;

  /** The oldest unread records, packed; every one of them is older than every record in `records`. */
  private readonly packed = new PackedRecords();
  /** The newest unread records, from `head` on. */
  private records: QueueRecord[] = [];
  private head = 0;
  private nextId = 1;
  private unreadBytes = 0;
  /** Records read and not yet acknowledged, kept only as counts because the sender keeps the records themselves. */
  private readCount = 0;
  private readBytes = 0;
  /**
   * One entry per `read()` whose records are not all acknowledged, from `readHead` on. The records
   * of one read have consecutive ids, so `ack` moves over whole reads and looks at single sizes
   * only for a read it acknowledges in part. Sizes are kept in a typed array, outside the
   * JavaScript heap, because they wait as long as the replay window (10 s) and would otherwise be
   * copied by every garbage collection in that time.
   */
  private readonly reads: Array<{ firstId: number; lastId: number; bytes: number; sizes: Uint32Array }> = [];
  private readHead = 0;
  private dropped = 0;
  private wasFull = false;
  /** Records pushed since `read` last returned any, which selects the limit of unpacked records. */
  private pushesSinceRead = 0;

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
    return this.packed.count + this.records.length - this.head;
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
    this.records.push(new QueuedRecord(id, payload, bytes));
    this.unreadBytes += bytes;
    this.pushesSinceRead += 1;
    const unpackedLimit = this.pushesSinceRead > UNPACKED_RECORDS_UNREAD ? UNPACKED_RECORDS_UNREAD : UNPACKED_RECORDS;
    if (this.records.length - this.head > unpackedLimit) this.packOldest();
    if (!this.wasFull && this.full) this.wasFull = true;
    return id;
  }

  read(maxRecords: number, maxBytes: number): QueueRecord[] {
    const batch: QueueRecord[] = [];
    let total = this.packed.count > 0 ? this.packed.take(maxRecords, maxBytes, batch) : 0;
    // Packed records left over (the byte budget ran out) are older than every unpacked one, so
    // the batch takes unpacked records only once every packed one is in it.
    if (this.packed.count === 0) {
      const end = Math.min(this.records.length, this.head + maxRecords - batch.length);
      while (this.head < end) {
        const record = this.records[this.head];
        if (total + record.bytes > maxBytes && batch.length > 0) break;
        batch.push(record);
        total += record.bytes;
        this.head += 1;
      }
    }
    if (batch.length > 0) {
      this.pushesSinceRead = 0;
      const sizes = new Uint32Array(batch.length);
      for (let position = 0; position < batch.length; position += 1) sizes[position] = batch[position].bytes;
      this.reads.push({ firstId: batch[0].id, lastId: batch[batch.length - 1].id, bytes: total, sizes });
    }
    this.unreadBytes -= total;
    this.readCount += batch.length;
    this.readBytes += total;
    this.compact();
    this.signalSpace();
    return batch;
  }

  ack(id: number): void {
    const reads = this.reads;
    let head = this.readHead;
    while (head < reads.length && reads[head].lastId <= id) {
      this.readCount -= reads[head].sizes.length;
      this.readBytes -= reads[head].bytes;
      head += 1;
    }
    const partial = reads[head];
    if (partial !== undefined && partial.firstId <= id) {
      // Part of one read: its first `count` records, which have ids firstId to id.
      const count = id - partial.firstId + 1;
      let bytes = 0;
      for (let index = 0; index < count; index += 1) bytes += partial.sizes[index];
      reads[head] = { firstId: id + 1, lastId: partial.lastId, bytes: partial.bytes - bytes, sizes: partial.sizes.subarray(count) };
      this.readCount -= count;
      this.readBytes -= bytes;
    }
    this.readHead = head;
    if (head > 1024 && head * 2 > reads.length) {
      reads.splice(0, head);
      this.readHead = 0;
    }
    this.signalSpace();
  }

  stats(): QueueStats {
    return { records: this.unread + this.readCount, bytes: this.unreadBytes + this.readBytes, dropped: this.dropped };
  }

  async close(): Promise<void> {}

  /**
   * Packs the oldest unpacked records into one segment. `read` and `dropOldest` subtract the UTF-8
   * sizes that `PackedRecords` measured, so those sizes replace the stated ones in `unreadBytes`.
   */
  private packOldest(): void {
    const from = this.head;
    const packedBytesBefore = this.packed.bytes;
    this.head = this.packed.pack(this.records, from);
    let statedBytes = 0;
    for (let index = from; index < this.head; index += 1) statedBytes += this.records[index].bytes;
    this.unreadBytes += this.packed.bytes - packedBytesBefore - statedBytes;
    this.compact();
  }

  private dropOldest(incomingBytes: number): void {
    let count = 0;
    while (this.unread > 0 && (this.unread >= this.maxRecords || this.unreadBytes + incomingBytes > this.maxBytes)) {
      if (this.packed.count > 0) {
        this.unreadBytes -= this.packed.dropOldest();
      } else {
        this.unreadBytes -= this.records[this.head].bytes;
        this.head += 1;
      }
      count += 1;
    }
    if (count > 0) {
      this.dropped += count;
      this.compact();
      this.emit('drop', count, 'full');
    }
  }

  /**
   * Drops the references to records before `head`. Once every record was read, which is the
   * usual case after each turn, the array is emptied at once: records kept only by these slots
   * would otherwise survive young-generation collections and be copied by each of them.
   */
  private compact(): void {
    if (this.head > 0 && this.head === this.records.length) {
      this.records.length = 0;
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > this.records.length) {
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
