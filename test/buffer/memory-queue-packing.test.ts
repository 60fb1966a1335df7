import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryQueue, type MemoryQueueOptions } from '../../src/buffer/index.js';
import type { QueueRecord, QueueStats } from '../../src/buffer/queue.js';

/**
 * Returns `text` with each lone surrogate replaced by U+FFFD, as UTF-8 encoding writes it. This is
 * `String.prototype.toWellFormed` of ES2024, which the project's TypeScript library setting lacks.
 */
function wellFormed(text: string): string {
  return Buffer.from(text, 'utf8').toString('utf8');
}

// The memory queue packs its oldest unread records once more than 4,096 records were pushed with
// no read, and once more than 16,384 are unpacked otherwise. These tests mix reads, pushes, drops
// and acknowledgements around both limits and compare the queue with a plain array of the
// records it should contain.

/** Returns ASCII, non-ASCII and lone-surrogate payloads, so that packed segments take both encodings. */
function payload(index: number): string {
  if (index % 11 === 0) return `event ${index} Grüße 日本 😀`;
  if (index % 13 === 0) return `\uDE00event ${index}\uD83D`;
  if (index % 17 === 0) return '';
  return `event ${index}`;
}

/** A `MemoryQueue` next to the records it should return, which checks each read against them. */
class CheckedQueue {
  readonly queue: MemoryQueue;
  /** Unread records from `unreadHead` on, with `unreadBytes` their total size. */
  private readonly unread: QueueRecord[] = [];
  private unreadHead = 0;
  private unreadBytes = 0;
  private readonly read: QueueRecord[] = [];
  private nextId = 1;
  private nextPayload = 1;
  private dropped = 0;

  constructor(private readonly options: MemoryQueueOptions) {
    this.queue = new MemoryQueue(options);
  }

  push(count: number): void {
    for (let index = 0; index < count; index += 1) {
      const text = payload(this.nextPayload);
      this.nextPayload += 1;
      const bytes = Buffer.byteLength(text, 'utf8');
      const expectedId = this.applyPolicy(bytes) ? this.nextId : -1;
      assert.equal(this.queue.push(text, bytes), expectedId, `id of payload ${JSON.stringify(text)}`);
      if (expectedId > 0) {
        this.unread.push({ id: expectedId, payload: text, bytes });
        this.unreadBytes += bytes;
        this.nextId += 1;
      }
    }
  }

  /** Reads once and checks ids, sizes and payloads, a lone surrogate comparing equal to U+FFFD. */
  readAndCheck(maxRecords: number, maxBytes: number): QueueRecord[] {
    const batch = this.queue.read(maxRecords, maxBytes);
    const expected: QueueRecord[] = [];
    let total = 0;
    while (this.unreadCount > 0 && expected.length < maxRecords) {
      const next = this.unread[this.unreadHead];
      if (total + next.bytes > maxBytes && expected.length > 0) break;
      expected.push(next);
      total += next.bytes;
      this.unreadHead += 1;
    }
    this.unreadBytes -= total;
    assert.deepEqual(
      batch.map((record) => record.id),
      expected.map((record) => record.id),
      `ids of read(${maxRecords}, ${maxBytes})`,
    );
    assert.deepEqual(
      batch.map((record) => record.bytes),
      expected.map((record) => record.bytes),
      `sizes of read(${maxRecords}, ${maxBytes})`,
    );
    assert.deepEqual(
      batch.map((record) => wellFormed(record.payload)),
      expected.map((record) => wellFormed(record.payload)),
      `payloads of read(${maxRecords}, ${maxBytes})`,
    );
    this.read.push(...expected);
    return batch;
  }

  /** Acknowledges up to the `position`-th record read and not yet acknowledged (0 is the oldest). */
  ack(position: number): void {
    const [acknowledged] = this.read.splice(0, position + 1).slice(-1);
    this.queue.ack(acknowledged.id);
  }

  get unreadCount(): number {
    return this.unread.length - this.unreadHead;
  }

  expectedStats(): QueueStats {
    const records = [...this.unread.slice(this.unreadHead), ...this.read];
    return { records: records.length, bytes: records.reduce((sum, record) => sum + record.bytes, 0), dropped: this.dropped };
  }

  checkCounters(step: string): void {
    assert.equal(this.queue.unread, this.unreadCount, `unread after ${step}`);
    assert.deepEqual(this.queue.stats(), this.expectedStats(), `stats after ${step}`);
  }

  /** Applies the full policy to the model and returns false when the new record is dropped. */
  private applyPolicy(incomingBytes: number): boolean {
    const maxRecords = this.options.maxRecords ?? 100_000;
    const maxBytes = this.options.maxBytes ?? 64 * 1024 * 1024;
    const full = this.unreadCount >= maxRecords || this.unreadBytes >= maxBytes;
    if (!full) return true;
    if (this.options.whenFull === 'drop-newest') {
      this.dropped += 1;
      return false;
    }
    if (this.options.whenFull === 'drop-oldest') {
      while (this.unreadCount > 0 && (this.unreadCount >= maxRecords || this.unreadBytes + incomingBytes > maxBytes)) {
        this.unreadBytes -= this.unread[this.unreadHead].bytes;
        this.unreadHead += 1;
        this.dropped += 1;
      }
    }
    return true;
  }
}

// Expected: records come out once each and in id order whatever the reads look like. The reads
// take one record, have byte budgets of 0 or 1, or return nothing. Pushes between them start a
// new packed run while older packed records are still unread.
test('MemoryQueue - odd reads across packed records', () => {
  const checked = new CheckedQueue({ maxRecords: 1_000_000, maxBytes: 1024 * 1024 * 1024 });

  checked.push(5_000);
  checked.readAndCheck(1, 1_000_000);
  checked.checkCounters('one record read from the packed run');

  checked.push(3);
  assert.deepEqual(checked.readAndCheck(0, 1_000_000), [], 'read(0) returns no record');
  checked.readAndCheck(5, 1);
  checked.readAndCheck(5, 0);
  checked.checkCounters('reads with byte budgets of 0 and 1');

  // More than 4,096 pushes with no read pack again behind the packed records still unread.
  checked.push(4_200);
  for (let index = 0; index < 50; index += 1) checked.readAndCheck(1, 1);
  checked.checkCounters('50 reads of one record');
  checked.ack(20);
  checked.checkCounters('an ack of whole reads');

  // Of the 53 records read so far, ack(20) left 32 unacknowledged, so position 200 lies inside
  // the next read.
  checked.readAndCheck(300, 1_000_000);
  checked.ack(200);
  checked.checkCounters('an ack inside a read of 300 packed records');

  checked.push(17_000);
  for (let maxRecords = 1; checked.queue.unread > 0; maxRecords = (maxRecords * 7) % 1_500 + 1) {
    checked.readAndCheck(maxRecords, maxRecords * 40);
    if (maxRecords % 5 === 0) checked.push(maxRecords / 5);
  }
  checked.checkCounters('the drain');

  checked.ack(checked.expectedStats().records - 1);
  assert.deepEqual(checked.queue.stats(), { records: 0, bytes: 0, dropped: 0 });
});

// Expected: both drop policies keep the newest or the oldest `maxRecords` records and count the
// others. `maxRecords` is below 4,096, above 16,384, or between the two, where a queue with no
// reader packs only since the 4,096 limit.
test('MemoryQueue - drop policies while packing', () => {
  for (const whenFull of ['drop-oldest', 'drop-newest'] as const) {
    for (const maxRecords of [1_000, 4_096, 4_097, 6_000, 20_000]) {
      const checked = new CheckedQueue({ maxRecords, maxBytes: 1024 * 1024 * 1024, whenFull });
      const step = `${whenFull} with maxRecords ${maxRecords}`;

      checked.push(25_000);
      checked.checkCounters(step);
      checked.readAndCheck(3, 1_000_000);
      checked.push(5_000);
      checked.checkCounters(`${step} and 5,000 more pushes`);

      while (checked.queue.unread > 0) checked.readAndCheck(700, 20_000);
      checked.ack(checked.expectedStats().records - 1);
      assert.equal(checked.queue.stats().records, 0, `records left with ${step}`);
      assert.equal(checked.queue.stats().bytes, 0, `bytes left with ${step}`);
    }
  }
});

// Expected: `stats()` returns to 0 bytes once every record is acknowledged and the empty queue is
// not full, even when `push` was given a wrong size. Packing measures each payload, so its size
// must replace the stated one in the queue's byte count.
test('MemoryQueue - wrong stated sizes while packing', () => {
  const cases = [
    { name: 'sizes too large', text: (index: number) => `event ${index}`, bytes: () => 3_000 },
    { name: 'UTF-16 lengths of non-ASCII text', text: (index: number) => `Grüße ${index}`, bytes: (text: string) => text.length },
  ];
  for (const { name, text, bytes } of cases) {
    // Under `block` every record is taken, so 5,000 of them state 15,000,000 bytes, more than maxBytes.
    const queue = new MemoryQueue({ maxRecords: 1_000_000, maxBytes: 4 * 1024 * 1024, whenFull: 'block' });
    for (let index = 0; index < 5_000; index += 1) {
      const payloadText = text(index);
      queue.push(payloadText, bytes(payloadText));
    }

    let lastId = 0;
    while (queue.unread > 0) lastId = queue.read(1_000, 1_000_000).at(-1)?.id ?? lastId;
    queue.ack(lastId);

    assert.equal(queue.stats().records, 0, `records left with ${name}`);
    assert.equal(queue.stats().bytes, 0, `bytes left with ${name}`);
    assert.equal(queue.full, false, `empty queue is full with ${name}`);
  }
});
