import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DiskBuffer, type DiskBufferFs } from '../../src/buffer/index.js';
import { RECORD_HEADER_BYTES } from '../../src/buffer/record-format.js';
import { Segment } from '../../src/buffer/segment.js';
import { TailCache, TailRecord } from '../../src/buffer/tail-cache.js';
import { makeTempDirectory, nextTurn, readAll, reopenAndReadAll, runChild } from './helpers.js';

const TAIL_CACHE_WRITER = fileURLToPath(new URL('./fixtures/tail-cache-writer.ts', import.meta.url));

/** Payloads with one-, two-, three- and four-byte UTF-8 characters, and an empty one. */
function mixedPayload(id: number): string {
  const samples = ['ascii', 'café', 'Größe', '日本語のログ', 'emoji 🚀🔥', ''];
  return `${id}:${samples[id % samples.length]}`.repeat(1 + (id % 3)).slice(0, id % 7 === 0 ? 0 : undefined);
}

/** A `node:fs` wrapper that counts readSync calls on segment files. */
function countingFs(): { fs: DiskBufferFs; segmentReads: () => number } {
  const paths = new Map<number, string>();
  let reads = 0;
  const wrapper: DiskBufferFs = {
    ...fs,
    openSync: (path, flags, mode) => {
      const fd = fs.openSync(path, flags, mode);
      paths.set(fd, path);
      return fd;
    },
    readSync: (fd, buffer, offset, length, position) => {
      if (paths.get(fd)?.endsWith('.seg')) reads += 1;
      return fs.readSync(fd, buffer, offset, length, position);
    },
  };
  return { fs: wrapper, segmentReads: () => reads };
}

function testSegment(firstId: number): Segment {
  const segment = new Segment('/tmp/unused-tail-cache', firstId, 0, 0, 0);
  segment.writtenBytes = 40;
  return segment;
}

describe('TailCache', () => {
  test('keeps the newest written records within maxBytes', () => {
    const cache = new TailCache(1000);
    const segment = testSegment(1);
    let offset = 40;
    for (let id = 1; id <= 100; id += 1) {
      cache.addPending(new TailRecord(id, 'x'.repeat(84), 84, segment, offset));
      offset += RECORD_HEADER_BYTES + 84;
      if (id % 10 === 0) {
        // A reader that makes progress on disk, behind the cache.
        cache.noteDiskRead();
        cache.markWritten();
        assert.ok(cache.bytes <= 1000, `cache holds ${cache.bytes} bytes after record ${id}`);
      }
    }
    assert.equal(cache.bytes, 1000);
    assert.equal(cache.size, 10);
    // The oldest records were evicted: the reader finds record 90 only on disk, and record 91 in the cache.
    assert.equal(cache.peek(segment, 40 + 89 * 100, 89), undefined);
    assert.equal(cache.peek(segment, 40 + 90 * 100, 90)?.id, 91);
  });

  test('releases records as they are read', () => {
    const cache = new TailCache(1 << 20);
    const segment = testSegment(1);
    for (let id = 1; id <= 5; id += 1) cache.addPending(new TailRecord(id, 'x', 1, segment, 40 + (id - 1) * 17));
    cache.markWritten();
    assert.equal(cache.bytes, 5 * 17);
    for (let id = 1; id <= 5; id += 1) {
      assert.equal(cache.peek(segment, 40 + (id - 1) * 17, id - 1)?.id, id);
      cache.consume();
    }
    assert.equal(cache.bytes, 0);
    assert.equal(cache.size, 0);
  });

  test('keeps pending records until they are written', () => {
    const cache = new TailCache(0);
    const segment = testSegment(1);
    cache.addPending(new TailRecord(1, 'a', 1, segment, 40));
    cache.addPending(new TailRecord(2, 'b', 1, segment, 57));
    assert.equal(cache.peek(segment, 40, 0)?.payload, 'a');
    cache.consume();
    assert.equal(cache.countUnreadPendingFrom(1).records, 1);
    cache.markWritten();
    // With maxBytes 0 nothing written stays: record 2 is read from disk.
    assert.equal(cache.size, 0);
    assert.equal(cache.peek(segment, 57, 1), undefined);
  });
});

describe('DiskBuffer - tail cache', () => {
  test('returns the same records as the disk', async () => {
    const directory = await makeTempDirectory('disk-buffer-tail-');
    try {
      const buffer = new DiskBuffer({ directory: directory.path, segmentBytes: 4096, maxBytes: 1 << 20 });
      await buffer.open();
      const fromCache = [];
      for (let turn = 0; turn < 20; turn += 1) {
        for (let index = 0; index < 30; index += 1) buffer.push(mixedPayload(turn * 30 + index), 0);
        await nextTurn();
        fromCache.push(...readAll(buffer, 7));
      }
      await buffer.close();
      assert.equal(fromCache.length, 600);
      assert.ok(fromCache.some((record) => Buffer.byteLength(record.payload) > record.payload.length), 'multi-byte payloads');

      const { records: fromDisk } = await reopenAndReadAll(directory.path);
      assert.deepEqual(fromCache, fromDisk);
    } finally {
      await directory.remove();
    }
  });

  test('skips the disk while the reader keeps up', async () => {
    for (const tailCacheBytes of [1 << 20, 0]) {
      const directory = await makeTempDirectory('disk-buffer-tail-');
      try {
        const counting = countingFs();
        const buffer = new DiskBuffer({ directory: directory.path, fs: counting.fs, tailCacheBytes });
        await buffer.open();
        for (let index = 0; index < 500; index += 1) buffer.push(`record ${index}`, 0);
        await nextTurn();
        const records = readAll(buffer);
        assert.equal(records.length, 500);
        assert.equal(records[499].payload, 'record 499');
        if (tailCacheBytes > 0) assert.equal(counting.segmentReads(), 0, 'no read from a segment file');
        else assert.ok(counting.segmentReads() > 0, 'records read back from the segment file');
        await buffer.close();
      } finally {
        await directory.remove();
      }
    }
  });

  test('reads evicted records from disk, then the cache', async () => {
    const directory = await makeTempDirectory('disk-buffer-tail-');
    try {
      const counting = countingFs();
      const buffer = new DiskBuffer({ directory: directory.path, fs: counting.fs, tailCacheBytes: 2000 });
      await buffer.open();
      for (let index = 1; index <= 1000; index += 1) buffer.push(`record ${index}`, 0);
      await nextTurn();
      const first = buffer.read(1, Number.MAX_SAFE_INTEGER);
      assert.equal(first[0].payload, 'record 1');
      assert.ok(counting.segmentReads() > 0, 'the oldest records come from the segment file');

      const rest = readAll(buffer);
      assert.deepEqual(
        rest.map((record) => record.payload),
        Array.from({ length: 999 }, (_, index) => `record ${index + 2}`),
      );
      await buffer.close();
    } finally {
      await directory.remove();
    }
  });

  test('returns nothing twice after a write failure', async () => {
    const directory = await makeTempDirectory('disk-buffer-tail-');
    try {
      let failNext = false;
      const failing: DiskBufferFs = {
        ...fs,
        writeSync: (fd, buffer, offset, length, position) => {
          if (failNext) {
            failNext = false;
            throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
          }
          return fs.writeSync(fd, buffer, offset, length, position);
        },
      };
      const buffer = new DiskBuffer({ directory: directory.path, fs: failing, retryDelayMs: 0 });
      buffer.on('warning', () => {});
      const drops: number[] = [];
      buffer.on('drop', (count) => drops.push(count));
      await buffer.open();
      for (let index = 1; index <= 10; index += 1) buffer.push(`record ${index}`, 0);
      await nextTurn();
      for (let index = 11; index <= 20; index += 1) buffer.push(`record ${index}`, 0);
      failNext = true;
      await nextTurn();
      for (let index = 21; index <= 30; index += 1) buffer.push(`record ${index}`, 0);
      await nextTurn();

      const payloads = readAll(buffer).map((record) => record.payload);
      const expected = [...Array.from({ length: 10 }, (_, index) => `record ${index + 1}`)];
      for (let index = 21; index <= 30; index += 1) expected.push(`record ${index}`);
      assert.deepEqual(payloads, expected);
      assert.deepEqual(drops, [10]);
      await buffer.close();
    } finally {
      await directory.remove();
    }
  });
});

describe('DiskBuffer - tail cache and crashes', () => {
  const cases = [
    { killAt: 'same-turn', survivors: 200, why: 'records still pending are lost, as documented for SIGKILL' },
    { killAt: 'next-turn', survivors: 250, why: 'written records survive the death of the process' },
  ];
  for (const { killAt, survivors, why } of cases) {
    test(`recovers ${survivors} records after SIGKILL ${killAt}`, async () => {
      const directory = await makeTempDirectory('disk-buffer-tail-crash-');
      try {
        const child = await runChild(TAIL_CACHE_WRITER, { DISK_BUFFER_DIRECTORY: directory.path, DURABLE: '200', CACHED: '50', KILL_AT: killAt });
        assert.equal(child.signal, 'SIGKILL', child.stderr);
        assert.match(child.stdout, /^durable 200$/m);
        assert.match(child.stdout, /^read 250$/m, 'the child read every record before the kill');

        const { records } = await reopenAndReadAll(directory.path);
        assert.deepEqual(
          records.map((record) => record.payload),
          Array.from({ length: survivors }, (_, index) => `record ${index + 1}`),
          why,
        );
      } finally {
        await directory.remove();
      }
    });
  }
});

describe('TailCache - idle reader', () => {
  test('caches nothing while the reader takes no record', () => {
    const cache = new TailCache(1 << 20);
    const segment = testSegment(1);
    let id = 0;
    const writeTen = (): void => {
      for (let index = 0; index < 10; index += 1) {
        id += 1;
        cache.addPending(new TailRecord(id, 'x', 1, segment, 40 + (id - 1) * 17));
      }
      cache.markWritten();
    };

    writeTen();
    assert.equal(cache.size, 10, 'the first write is cached');
    writeTen();
    assert.equal(cache.size, 0, 'a write that finds the cached records unread drops them');
    writeTen();
    assert.equal(cache.size, 0, 'nothing is cached until the reader reaches the pending records');

    cache.noteReaderAtPending();
    writeTen();
    assert.equal(cache.size, 10, 'caching resumes');
    cache.noteDiskRead();
    writeTen();
    assert.equal(cache.size, 20, 'a reader that reads from disk still counts as following');
  });
});

describe('DiskBuffer - tail cache and memory', () => {
  test('keeps serving from memory after the reader catches up', async () => {
    const directory = await makeTempDirectory('disk-buffer-tail-');
    try {
      const counting = countingFs();
      const buffer = new DiskBuffer({ directory: directory.path, fs: counting.fs });
      await buffer.open();
      // Three turns without a reader: the cache stops keeping records.
      for (let turn = 0; turn < 3; turn += 1) {
        for (let index = 0; index < 100; index += 1) buffer.push(`backlog ${turn * 100 + index}`, 0);
        await nextTurn();
      }
      assert.equal(readAll(buffer).length, 300);
      const readsAfterBacklog = counting.segmentReads();
      assert.ok(readsAfterBacklog > 0, 'the backlog came from the segment file');

      for (let turn = 0; turn < 3; turn += 1) {
        for (let index = 0; index < 100; index += 1) buffer.push(`live ${turn * 100 + index}`, 0);
        await nextTurn();
        assert.equal(readAll(buffer).length, 100);
      }
      assert.equal(counting.segmentReads(), readsAfterBacklog, 'live records came from memory');
      await buffer.close();
    } finally {
      await directory.remove();
    }
  });
});

describe('DiskBuffer - write batch', () => {
  test('stores a record larger than the batch buffer', async () => {
    const directory = await makeTempDirectory('disk-buffer-batch-');
    try {
      const buffer = new DiskBuffer({ directory: directory.path });
      await buffer.open();
      const large = 'é'.repeat(1536 * 1024); // 3 MiB of UTF-8, past the 1 MiB batch buffer
      buffer.push('before', 0);
      buffer.push(large, 0);
      buffer.push('after', 0);
      await nextTurn();
      buffer.push('next turn', 0);
      await buffer.close();

      const { records, warnings } = await reopenAndReadAll(directory.path);
      assert.deepEqual(warnings, []);
      assert.deepEqual(
        records.map((record) => record.payload),
        ['before', large, 'after', 'next turn'],
      );
      assert.equal(records[1].bytes, 3 * 1024 * 1024);
    } finally {
      await directory.remove();
    }
  });
});
