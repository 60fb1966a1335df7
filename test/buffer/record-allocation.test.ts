/**
 * Every read path returns `QueuedRecord` instances, and the objects that keep a record across
 * event-loop turns are class instances too. An object literal in their place works the same and
 * only shows as a slower process (see `QueuedRecord` in src/buffer/queue.ts).
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { DiskBuffer, MemoryQueue, QueuedRecord, type QueueRecord } from '../../src/buffer/index.js';
import { HeldRecord, MemoryBacklog } from '../../src/buffer/memory-backlog.js';
import { TailCache, TailRecord } from '../../src/buffer/tail-cache.js';
import { DEFAULT_NEWLINE_ESCAPE } from '../../src/format/framing.js';
import { FrameBatch } from '../../src/transport/frame-batch.js';
import { connectRelp, Transaction } from '../../src/transport/relp.js';
import { FakeRelpServer, relpOptions } from '../helpers/fake-relp-server.js';
import { makeTempDirectory, nextTurn, readAll } from './helpers.js';

function assertAllQueued(records: readonly QueueRecord[], expected: number): void {
  assert.equal(records.length, expected);
  for (const record of records) {
    assert.ok(record instanceof QueuedRecord, `record ${record.id} is a ${record.constructor.name}, not a QueuedRecord`);
  }
}

/**
 * Replaces `method` of `prototype` while `run` runs, recording the class of its first argument.
 * The DiskBuffer keeps its tail cache and memory backlog to itself, so the test watches what it
 * hands them.
 */
async function classesPassedTo<T extends object>(prototype: T, method: keyof T, run: () => Promise<void>): Promise<Set<string>> {
  const original = prototype[method] as (...args: unknown[]) => unknown;
  const seen = new Set<string>();
  (prototype as Record<keyof T, unknown>)[method] = function (this: unknown, ...args: unknown[]) {
    seen.add((args[0] as object).constructor.name);
    return original.apply(this, args);
  };
  try {
    await run();
  } finally {
    (prototype as Record<keyof T, unknown>)[method] = original;
  }
  return seen;
}

describe('records are QueuedRecord instances', () => {
  test('MemoryQueue, unpacked and packed', async () => {
    const queue = new MemoryQueue({ maxRecords: 100_000 });
    // Beyond 16,384 unread records the oldest are packed, and come back through another path.
    for (let index = 0; index < 20_000; index += 1) queue.push(`event ${index}`, `event ${index}`.length);
    assertAllQueued(readAll(queue, 1_000), 20_000);
    await queue.close();
  });

  test('DiskBuffer tail cache and segments', async () => {
    const directory = await makeTempDirectory();
    try {
      const first = new DiskBuffer({ directory: directory.path, fsync: 'never' });
      first.push('held before open', 16);
      await first.open();
      assertAllQueued(readAll(first), 1);
      for (let index = 0; index < 10; index += 1) first.push(`cached ${index}`, `cached ${index}`.length);
      await nextTurn();
      const cached = readAll(first);
      assertAllQueued(cached, 10);
      // Acknowledged, so that the second buffer reads only the records pushed after them.
      first.ack(cached[cached.length - 1].id);
      for (let index = 0; index < 10; index += 1) first.push(`on disk ${index}`, `on disk ${index}`.length);
      await first.close();

      const second = new DiskBuffer({ directory: directory.path, fsync: 'never' });
      await second.open();
      assertAllQueued(readAll(second), 10);
      await second.close();
    } finally {
      await directory.remove();
    }
  });

  test('DiskBuffer without an openable directory', async () => {
    const directory = await makeTempDirectory();
    try {
      writeFileSync(join(directory.path, 'file'), 'x');
      const buffer = new DiskBuffer({ directory: join(directory.path, 'file', 'buffer'), fsync: 'never' });
      buffer.on('warning', () => {});
      await buffer.open();
      for (let index = 0; index < 5; index += 1) buffer.push(`held ${index}`, `held ${index}`.length);
      assertAllQueued(readAll(buffer), 5);
      await buffer.close();
    } finally {
      await directory.remove();
    }
  });

  test('DiskBuffer tail and backlog entries', async () => {
    const directory = await makeTempDirectory();
    try {
      const buffer = new DiskBuffer({ directory: directory.path, fsync: 'never' });
      const backlogClasses = await classesPassedTo(MemoryBacklog.prototype, 'push', async () => {
        buffer.push('held before open', 16);
      });
      const tailClasses = await classesPassedTo(TailCache.prototype, 'addPending', async () => {
        await buffer.open();
        buffer.push('cached', 6);
        await nextTurn();
      });
      assert.deepEqual([...backlogClasses], [HeldRecord.name]);
      assert.deepEqual([...tailClasses], [TailRecord.name]);
      await buffer.close();
    } finally {
      await directory.remove();
    }
  });

  test('RELP transactions in flight', async (t) => {
    // The fake server sends no response to `syslog`, so the records stay in flight.
    const server = await FakeRelpServer.start();
    t.after(() => server.close());
    const connection = await connectRelp(relpOptions(server.port));
    t.after(() => connection.destroy());
    connection.write([new QueuedRecord(1, 'one', 3), new QueuedRecord(2, 'two', 3)]);
    const inflight = (connection as unknown as { inflight: object[] }).inflight;
    assert.equal(inflight.length, 2);
    for (const entry of inflight) assert.ok(entry instanceof Transaction, `a ${entry.constructor.name} is in flight`);
  });

  test('FrameBatch decoding a replay', () => {
    const written = [new QueuedRecord(1, 'one', 3), new QueuedRecord(2, 'two', 3)];
    for (const octetCounting of [true, false]) {
      const batch = new FrameBatch(written, octetCounting, DEFAULT_NEWLINE_ESCAPE);
      assertAllQueued(batch.records(), 2);
    }
  });
});
