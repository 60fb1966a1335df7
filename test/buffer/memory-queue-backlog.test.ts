import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryQueue } from '../../src/buffer/index.js';
import { PackedRecords } from '../../src/buffer/packed-records.js';
import { type QueueRecord, QueuedRecord } from '../../src/buffer/queue.js';

/** More records than the memory queue keeps unpacked (16,384), so that a backlog is packed. */
const BACKLOG = 60_000;

function payload(index: number): string {
  // Every seventh payload is non-ASCII, so that packed segments take both encodings.
  return index % 7 === 0 ? `event ${index} Grüße 日本 😀` : `event ${index} ${'x'.repeat(index % 50)}`;
}

function record(id: number, text: string): QueueRecord {
  return new QueuedRecord(id, text, Buffer.byteLength(text, 'utf8'));
}

test('PackedRecords - round trip keeps ids and bytes', () => {
  const records = Array.from({ length: 5_000 }, (_, index) => record(index + 1, payload(index)));
  const packed = new PackedRecords();
  let from = 0;
  while (from < records.length) from = packed.pack(records, from);
  assert.equal(packed.count, records.length);
  assert.equal(packed.bytes, records.reduce((sum, entry) => sum + entry.bytes, 0));
  const out: QueueRecord[] = [];
  while (packed.count > 0) packed.take(333, 1_000_000, out);
  assert.deepEqual(out, records);
  assert.equal(packed.bytes, 0);
});

test('PackedRecords - take keeps to maxBytes but always takes one record', () => {
  const packed = new PackedRecords();
  packed.pack([record(1, 'a'.repeat(100)), record(2, 'b'.repeat(100)), record(3, 'c')], 0);
  const out: QueueRecord[] = [];
  assert.equal(packed.take(10, 50, out), 100, 'one record larger than maxBytes');
  const more: QueueRecord[] = [];
  assert.equal(packed.take(10, 100, more), 100, 'the third record would exceed the budget');
  assert.deepEqual([...out, ...more].map((entry) => entry.id), [1, 2]);
  assert.equal(packed.dropOldest(), 1);
  assert.equal(packed.count, 0);
  assert.equal(packed.dropOldest(), 0);
});

test('PackedRecords - wrong byte count keeps boundaries', () => {
  const packed = new PackedRecords();
  packed.pack([{ id: 1, payload: 'ü', bytes: 1 }, { id: 2, payload: 'next', bytes: 4 }], 0);
  const out: QueueRecord[] = [];
  packed.take(10, 1_000, out);
  assert.deepEqual(out.map((entry) => entry.payload), ['ü', 'next']);
});

test('MemoryQueue - packed backlog reads in order', () => {
  const queue = new MemoryQueue({ maxRecords: BACKLOG * 2, maxBytes: 1024 * 1024 * 1024 });
  const expected: QueueRecord[] = [];
  for (let index = 0; index < BACKLOG; index += 1) {
    const text = payload(index);
    const id = queue.push(text, Buffer.byteLength(text, 'utf8'));
    expected.push(record(id, text));
  }
  const totalBytes = expected.reduce((sum, entry) => sum + entry.bytes, 0);
  assert.deepEqual(queue.stats(), { records: BACKLOG, bytes: totalBytes, dropped: 0 });
  assert.equal(queue.unread, BACKLOG);

  const read: QueueRecord[] = [];
  while (queue.unread > 0) {
    const batch = queue.read(1024, 64 * 1024);
    assert.ok(batch.length > 0);
    assert.ok(batch.reduce((sum, entry) => sum + entry.bytes, 0) <= 64 * 1024);
    read.push(...batch);
    // Pushing while the backlog drains must keep the new records behind the old ones.
    if (read.length === 20_000) {
      for (let extra = 0; extra < 20_000; extra += 1) {
        const text = `late ${extra}`;
        expected.push(record(queue.push(text, text.length), text));
      }
    }
  }
  assert.deepEqual(read, expected);
  queue.ack(read[read.length - 1].id);
  assert.deepEqual(queue.stats(), { records: 0, bytes: 0, dropped: 0 });
});

test('MemoryQueue - drop-oldest drops packed records first and counts them', () => {
  const maxRecords = 30_000;
  const queue = new MemoryQueue({ maxRecords, maxBytes: 1024 * 1024 * 1024, whenFull: 'drop-oldest' });
  let dropped = 0;
  queue.on('drop', (count) => {
    dropped += count;
  });
  for (let index = 0; index < 50_000; index += 1) queue.push(`event ${index}`, `event ${index}`.length);
  assert.equal(dropped, 20_000);
  assert.equal(queue.unread, maxRecords);
  const first = queue.read(3, 1_000_000);
  assert.deepEqual(first.map((entry) => entry.payload), ['event 20000', 'event 20001', 'event 20002']);
  let last: QueueRecord | undefined;
  while (queue.unread > 0) last = queue.read(4096, 1_000_000).at(-1);
  assert.equal(last?.payload, 'event 49999');
});

/**
 * Pushes `count` records, reading one record after every `readEvery` pushes (never when 0), and
 * returns how many records were unpacked at each call of `PackedRecords.pack`.
 */
function unpackedAtEachPack(count: number, readEvery: number): number[] {
  const original = PackedRecords.prototype.pack;
  const unpacked: number[] = [];
  PackedRecords.prototype.pack = function (this: PackedRecords, records: readonly QueueRecord[], from: number): number {
    unpacked.push(records.length - from);
    return original.call(this, records, from);
  };
  try {
    const queue = new MemoryQueue({ maxRecords: 1_000_000, maxBytes: 1024 * 1024 * 1024 });
    for (let index = 1; index <= count; index += 1) {
      queue.push(payload(index), Buffer.byteLength(payload(index), 'utf8'));
      if (readEvery > 0 && index % readEvery === 0) queue.read(1, 1_000_000);
    }
  } finally {
    PackedRecords.prototype.pack = original;
  }
  return unpacked;
}

/** Checks that packing ran more than once, each time with `expected` records unpacked. */
function assertEveryPackAt(unpacked: readonly number[], expected: number): void {
  assert.ok(unpacked.length > 1, 'only one pack ran');
  assert.ok(
    unpacked.every((count) => count === expected),
    `records unpacked at each pack: ${[...new Set(unpacked)].join(', ')}`,
  );
}

// Expected: with no reader, records are packed once 4,096 newer ones wait, so that they die
// young instead of being promoted to V8's old generation.
test('MemoryQueue - packs after 4,096 while nothing is read', () => {
  assertEveryPackAt(unpackedAtEachPack(BACKLOG, 0), 4_097);
});

// Expected: while a reader takes records, as with a live collector that falls behind, packing
// waits for 16,384 unread records, so that records the reader takes soon are never packed.
test('MemoryQueue - packs after 16,384 while a reader takes records', () => {
  assertEveryPackAt(unpackedAtEachPack(BACKLOG, 100), 16_385);
});
