import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { DiskBuffer, type DiskBufferOptions, type DropReason } from '../../src/buffer/index.js';
import { BufferIOError } from '../../src/errors.js';
import { TestCollector } from '../helpers/collector.js';
import { createSender, fixtureMessage, waitUntil } from '../helpers/sender.js';
import {
  BACKLOG_PAYLOAD_BYTES,
  FaultyFs,
  backlogPayload,
  makeTempDirectory,
  readAll,
  reopenAndReadAll,
  writeBacklog,
} from './helpers.js';

const RETRY_DELAY_MS = 30;
const runningAsRoot = process.getuid?.() === 0;

let root: { path: string; remove: () => Promise<void> };
const buffers: DiskBuffer[] = [];

beforeEach(async () => {
  root = await makeTempDirectory('disk-buffer-open-');
});

afterEach(async () => {
  for (const buffer of buffers.splice(0)) await buffer.close();
  // The mode 000 case locks this folder, and rm cannot enter it as a normal user.
  rmSync(join(root.path, 'locked'), { force: true, recursive: true, maxRetries: 0 });
  await root.remove();
});

/** Creates a DiskBuffer that records its warnings and drops. `afterEach` closes it. */
function createBuffer(options: DiskBufferOptions): {
  buffer: DiskBuffer;
  warnings: Error[];
  drops: Array<{ count: number; reason: DropReason }>;
} {
  const buffer = new DiskBuffer({ maxBytes: 1024 * 1024, fsync: 'never', retryDelayMs: RETRY_DELAY_MS, ...options });
  buffers.push(buffer);
  const warnings: Error[] = [];
  const drops: Array<{ count: number; reason: DropReason }> = [];
  buffer.on('warning', (warning) => warnings.push(warning));
  buffer.on('drop', (count, reason) => drops.push({ count, reason }));
  return { buffer, warnings, drops };
}

/** A directory that cannot be opened, and the errno code that opening it fails with. */
const unopenable: Array<{ name: string; code: string; make: (rootPath: string) => string; skip?: string }> = [
  {
    name: 'path under a regular file',
    code: 'ENOTDIR',
    make: (rootPath) => {
      writeFileSync(join(rootPath, 'file'), 'x');
      return join(rootPath, 'file', 'spool');
    },
  },
  {
    name: 'path is a regular file',
    code: 'EEXIST',
    make: (rootPath) => {
      writeFileSync(join(rootPath, 'file'), 'x');
      return join(rootPath, 'file');
    },
  },
  {
    name: 'folder with mode 000',
    code: 'EACCES',
    make: (rootPath) => {
      const path = join(rootPath, 'locked');
      mkdirSync(path);
      chmodSync(path, 0);
      return path;
    },
    ...(runningAsRoot ? { skip: 'root reads a folder with mode 000' } : {}),
  },
];

describe('DiskBuffer - directory that cannot be opened', () => {
  for (const { name, code, make, skip } of unopenable) {
    test(`keeps records in memory: ${name}`, { skip }, async () => {
      const directory = make(root.path);
      const { buffer, warnings, drops } = createBuffer({ directory });

      assert.equal(buffer.push('before open', 11), 0, 'push before open keeps the record');
      await buffer.open();
      assert.equal(warnings.length, 1);
      assert.ok(warnings[0] instanceof BufferIOError);
      assert.ok(warnings[0].message.includes(directory), warnings[0].message);
      assert.ok(warnings[0].message.includes(`(${code})`), warnings[0].message);
      assert.match(warnings[0].message, /kept in memory/);
      assert.equal(buffer.stats().lastError, warnings[0]);

      assert.equal(buffer.push('after open', 10), 0);
      assert.equal(buffer.unread, 2);
      const records = readAll(buffer);
      assert.deepEqual(
        records.map((record) => [record.id, record.payload]),
        [
          [1, 'before open'],
          [2, 'after open'],
        ],
      );
      assert.equal(buffer.stats().memoryRecords, 2);
      buffer.ack(2);
      assert.equal(buffer.stats().records, 0);
      assert.equal(buffer.stats().memoryRecords, 0);
      assert.deepEqual(drops, []);

      await sleep(RETRY_DELAY_MS * 3);
      assert.equal(warnings.length, 1, 'failed retries send no further warning');
    });
  }

  test('flush rejects while records are only in memory', async () => {
    writeFileSync(join(root.path, 'file'), 'x');
    const { buffer } = createBuffer({ directory: join(root.path, 'file', 'spool') });
    await buffer.flush();
    buffer.push('not on disk', 11);
    await assert.rejects(
      buffer.flush(),
      (error: Error) => error instanceof BufferIOError && /call open\(\) first/.test(error.message),
    );
    await buffer.open();
    await assert.rejects(
      buffer.flush(),
      (error: Error) => error instanceof BufferIOError && /1 record is kept in memory only/.test(error.message),
    );
  });

  test('applies the full policy in memory', async () => {
    writeFileSync(join(root.path, 'file'), 'x');
    const directory = join(root.path, 'file', 'spool');
    // maxBytes fits 4 records of 16 + 40 bytes.
    const { buffer, drops } = createBuffer({ directory, maxBytes: 4 * 56, segmentBytes: 4 * 56, whenFull: 'drop-newest' });
    await buffer.open();
    const ids = Array.from({ length: 6 }, (_, index) => buffer.push(backlogPayload(index + 1), BACKLOG_PAYLOAD_BYTES));
    assert.deepEqual(ids, [0, 0, 0, 0, -1, -1]);
    assert.deepEqual(drops, [
      { count: 1, reason: 'full' },
      { count: 1, reason: 'full' },
    ]);
    assert.equal(buffer.full, true);
    assert.equal(buffer.stats().dropped, 2);

    let spaceEvents = 0;
    buffer.on('space', () => (spaceEvents += 1));
    assert.equal(readAll(buffer).length, 4);
    assert.equal(buffer.full, false, 'read records leave the limit, as in MemoryQueue');
    assert.equal(spaceEvents, 1);
  });

  test('drop-oldest in memory drops unread records', async () => {
    writeFileSync(join(root.path, 'file'), 'x');
    const directory = join(root.path, 'file', 'spool');
    const { buffer, drops } = createBuffer({ directory, maxBytes: 4 * 56, segmentBytes: 4 * 56, whenFull: 'drop-oldest' });
    await buffer.open();
    for (let id = 1; id <= 6; id += 1) buffer.push(backlogPayload(id), BACKLOG_PAYLOAD_BYTES);
    assert.deepEqual(drops, [
      { count: 1, reason: 'full' },
      { count: 1, reason: 'full' },
    ]);
    assert.deepEqual(
      readAll(buffer).map((record) => record.payload),
      [3, 4, 5, 6].map(backlogPayload),
    );
  });

  test('block in memory stops at maxBytes plus one segment', async () => {
    writeFileSync(join(root.path, 'file'), 'x');
    const directory = join(root.path, 'file', 'spool');
    const { buffer, drops } = createBuffer({ directory, maxBytes: 4 * 56, segmentBytes: 2 * 56, whenFull: 'block' });
    await buffer.open();
    const ids = Array.from({ length: 8 }, (_, index) => buffer.push(backlogPayload(index + 1), BACKLOG_PAYLOAD_BYTES));
    assert.deepEqual(ids, [0, 0, 0, 0, 0, 0, -1, -1]);
    assert.deepEqual(
      drops.map((drop) => drop.reason),
      ['full', 'full'],
    );
    assert.equal(buffer.full, true);
  });
});

describe('DiskBuffer - records pushed before open', () => {
  test('are written after the backlog', async () => {
    const directory = join(root.path, 'spool');
    await writeBacklog(directory, 1, 3);
    const { buffer, warnings } = createBuffer({ directory });

    assert.equal(buffer.push('early 1', 7), 0);
    assert.equal(buffer.push('early 2', 7), 0);
    assert.equal(buffer.unread, 2);
    assert.equal(buffer.stats().memoryRecords, 2);
    assert.deepEqual(buffer.read(10, 1000), [], 'read waits for open');

    await buffer.open();
    assert.deepEqual(warnings, []);
    assert.equal(buffer.stats().memoryRecords, 0);
    assert.equal(buffer.push('late', 4), 6);
    assert.deepEqual(
      readAll(buffer).map((record) => [record.id, record.payload]),
      [
        [1, backlogPayload(1)],
        [2, backlogPayload(2)],
        [3, backlogPayload(3)],
        [4, 'early 1'],
        [5, 'early 2'],
        [6, 'late'],
      ],
    );
    await buffer.close();

    const reopened = await reopenAndReadAll(directory);
    assert.deepEqual(
      reopened.records.map((record) => record.payload).slice(3),
      ['early 1', 'early 2', 'late'],
      'the early records were written to disk',
    );
  });

  test('are lost on close without open', async () => {
    const { buffer } = createBuffer({ directory: join(root.path, 'spool') });
    buffer.push('never written', 13);
    await buffer.close();
    assert.equal(buffer.stats().records, 0);
    assert.throws(() => buffer.push('late', 4), BufferIOError);
    await assert.rejects(buffer.open(), /it is closed/);
  });
});

describe('DiskBuffer - directory that opens later', () => {
  test('writes the records in memory and keeps ids increasing', async () => {
    const directory = join(root.path, 'spool');
    await writeBacklog(directory, 1, 5);
    const faultyFs = new FaultyFs();
    faultyFs.listError = 'EACCES';
    const { buffer, warnings, drops } = createBuffer({ directory, fs: faultyFs });

    await buffer.open();
    assert.equal(warnings.length, 1);
    assert.match(warnings[0].message, /\(EACCES\)/);
    for (const label of ['a', 'b', 'c']) buffer.push(label, 1);
    const readInMemory = buffer.read(2, 1000);
    assert.deepEqual(
      readInMemory.map((record) => [record.id, record.payload]),
      [
        [1, 'a'],
        [2, 'b'],
      ],
    );

    faultyFs.heal();
    await waitUntil(() => buffer.stats().segments > 0, 'the directory opened', 2_000);
    assert.equal(warnings.length, 1, 'opening later sends no warning');
    assert.equal(buffer.stats().memoryRecords, 2, 'the 2 read records stay in memory until acknowledged');

    const fromDisk = readAll(buffer);
    assert.deepEqual(
      fromDisk.map((record) => record.payload),
      [1, 2, 3, 4, 5].map(backlogPayload).concat('c'),
    );
    const ids = [...readInMemory, ...fromDisk].map((record) => record.id);
    for (let index = 1; index < ids.length; index += 1) {
      assert.ok(ids[index] > ids[index - 1], `ids increase: ${ids.join(', ')}`);
    }

    buffer.ack(readInMemory[1].id);
    assert.equal(buffer.stats().memoryRecords, 0);
    assert.equal(buffer.stats().records, 6, 'acknowledging memory ids leaves the disk records');
    buffer.ack(fromDisk[2].id);
    assert.equal(buffer.stats().records, 3);
    await buffer.close();
    assert.deepEqual(drops, []);

    const reopened = await reopenAndReadAll(directory);
    assert.deepEqual(
      reopened.records.map((record) => record.payload),
      [4, 5].map(backlogPayload).concat('c'),
      'the acknowledgement reached the metadata file in disk ids',
    );
  });

  test('opens once the blocking file is gone', async () => {
    writeFileSync(join(root.path, 'file'), 'x');
    const directory = join(root.path, 'file', 'spool');
    const { buffer, warnings } = createBuffer({ directory });
    await buffer.open();
    buffer.push('kept 1', 6);
    buffer.push('kept 2', 6);

    rmSync(join(root.path, 'file'));
    await waitUntil(() => buffer.stats().segments > 0, 'the directory opened', 2_000);
    assert.equal(warnings.length, 1);
    assert.equal(buffer.stats().memoryRecords, 0);
    await buffer.close();

    const reopened = await reopenAndReadAll(directory);
    assert.deepEqual(
      reopened.records.map((record) => [record.id, record.payload]),
      [
        [1, 'kept 1'],
        [2, 'kept 2'],
      ],
    );
  });

  test('stops retrying on close', async () => {
    writeFileSync(join(root.path, 'file'), 'x');
    const directory = join(root.path, 'file', 'spool');
    const { buffer } = createBuffer({ directory });
    await buffer.open();
    buffer.push('lost', 4);
    await buffer.close();
    rmSync(join(root.path, 'file'));
    await sleep(RETRY_DELAY_MS * 3);
    assert.equal(buffer.stats().segments, 0);
    assert.equal(buffer.stats().memoryRecords, 0);
  });
});

describe('DiskBuffer - sender with a directory that cannot be opened', () => {
  test('delivers from memory without throwing', async () => {
    writeFileSync(join(root.path, 'file'), 'x');
    const collector = await TestCollector.start();
    const buffer = new DiskBuffer({ directory: join(root.path, 'file', 'spool'), retryDelayMs: RETRY_DELAY_MS });
    // Attached before the sender opens the buffer, whether or not the sender defers its own warning events.
    const warnings: Error[] = [];
    buffer.on('warning', (warning) => warnings.push(warning));
    const sender = createSender([`tcp://127.0.0.1:${collector.port}`], { replayWindowMs: 50 }, { buffer });
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    process.on('uncaughtException', onUnhandled);
    try {
      assert.equal(sender.send('first'), true);
      await sleep(50);
      assert.equal(sender.send('second'), true);
      await collector.waitForFrames(2);
      assert.deepEqual(collector.frames, [fixtureMessage('first'), fixtureMessage('second')]);
      await waitUntil(() => buffer.stats().records === 0, 'the records are confirmed');

      assert.ok(
        warnings.some((warning) => warning instanceof BufferIOError && /ENOTDIR/.test(warning.message)),
        warnings.map((warning) => warning.message).join(' | '),
      );
      assert.equal(buffer.stats().dropped, 0);
      assert.deepEqual(unhandled, []);
    } finally {
      await sender.close(1_000);
      process.off('unhandledRejection', onUnhandled);
      process.off('uncaughtException', onUnhandled);
      await collector.close();
    }
  });
});
