import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { DiskBuffer, type DiskBufferFs, type DiskBufferOptions, type DropReason, type FsyncMode } from '../../src/buffer/index.js';
import { encodeMetadataSlot } from '../../src/buffer/metadata.js';
import { SEGMENT_HEADER_BYTES, encodeSegmentHeader, segmentFileName } from '../../src/buffer/segment.js';
import { BufferIOError, InvalidOptionError } from '../../src/errors.js';
import { makeTempDirectory, nextTurn, payloadOf, readAll, segmentPaths } from './helpers.js';

async function withDirectory(run: (directory: string) => Promise<void>): Promise<void> {
  const directory = await makeTempDirectory();
  try {
    await run(directory.path);
  } finally {
    await directory.remove();
  }
}

/** Returns the bytes of the segment files. A file deleted on the thread pool between listing and stat counts as 0. */
function segmentBytesOnDisk(directory: string): number {
  return segmentPaths(directory).reduce((sum, path) => sum + (fs.statSync(path, { throwIfNoEntry: false })?.size ?? 0), 0);
}

describe('DiskBuffer - options', () => {
  const invalid: Array<{ options: Record<string, unknown>; message: RegExp }> = [
    { options: { directory: '' }, message: /Invalid directory ""/ },
    { options: { directory: 42 }, message: /Invalid directory 42/ },
    { options: { maxBytes: 0 }, message: /Invalid maxBytes 0/ },
    { options: { maxBytes: 1.5 }, message: /Invalid maxBytes 1\.5/ },
    { options: { maxBytes: '1GB' }, message: /Invalid maxBytes 1GB/ },
    { options: { segmentBytes: 10 }, message: /Invalid segmentBytes 10/ },
    { options: { maxBytes: 4096, segmentBytes: 8192 }, message: /Invalid segmentBytes 8192: must not exceed maxBytes \(4096\)/ },
    { options: { fsync: 'sometimes' }, message: /Invalid fsync "sometimes"/ },
    { options: { fsyncIntervalMs: 0 }, message: /Invalid fsyncIntervalMs 0/ },
    { options: { whenFull: 'wait' }, message: /Invalid whenFull "wait"/ },
    { options: { retryDelayMs: -1 }, message: /Invalid retryDelayMs -1/ },
    { options: { tailCacheBytes: -1 }, message: /Invalid tailCacheBytes -1/ },
    { options: { tailCacheBytes: 0.5 }, message: /Invalid tailCacheBytes 0\.5/ },
    { options: { fs: {} }, message: /Invalid fs/ },
  ];

  for (const { options, message } of invalid) {
    test(`rejects ${JSON.stringify(options)}`, () => {
      const full = { directory: '/tmp/unused-disk-buffer', ...options } as unknown as DiskBufferOptions;
      assert.throws(
        () => new DiskBuffer(full),
        (error: Error) => error instanceof InvalidOptionError && message.test(error.message),
      );
    });
  }

  test('applies documented defaults', () => {
    const buffer = new DiskBuffer({ directory: '/tmp/unused-disk-buffer' });
    assert.equal(buffer.maxBytes, 256 * 1024 * 1024);
    assert.equal(buffer.segmentBytes, 8 * 1024 * 1024);
    assert.equal(buffer.fsyncMode, 'batch');
    assert.equal(buffer.fsyncIntervalMs, 1000);
    assert.equal(buffer.whenFull, 'block');
    assert.equal(buffer.retryDelayMs, 1000);
    assert.equal(new DiskBuffer({ directory: '/tmp/unused-disk-buffer', maxBytes: 80_000 }).segmentBytes, 10_000);
  });
});

describe('DiskBuffer - lifecycle', () => {
  test('push after close throws', async () => {
    await withDirectory(async (directory) => {
      const buffer = new DiskBuffer({ directory, maxBytes: 1024 * 1024 });
      assert.equal(buffer.push('early', 5), 0, 'a push before open is kept in memory');
      assert.deepEqual(buffer.read(10, 1000), [], 'read before open returns nothing');
      await buffer.open();
      buffer.push('kept', 4);
      await buffer.close();
      assert.throws(() => buffer.push('late', 4), BufferIOError);
      assert.deepEqual(buffer.read(10, 1000), []);
    });
  });

  test('removes its exit listener on close', async () => {
    await withDirectory(async (directory) => {
      const before = process.listenerCount('exit');
      const first = new DiskBuffer({ directory: join(directory, 'a'), maxBytes: 1024 * 1024 });
      const second = new DiskBuffer({ directory: join(directory, 'b'), maxBytes: 1024 * 1024 });
      await first.open();
      await second.open();
      assert.equal(process.listenerCount('exit'), before + 1, 'open buffers share one listener');
      await first.close();
      assert.equal(process.listenerCount('exit'), before + 1);
      await second.close();
      assert.equal(process.listenerCount('exit'), before);
    });
  });

  test('drops records larger than a segment', async () => {
    await withDirectory(async (directory) => {
      const buffer = new DiskBuffer({ directory, maxBytes: 64 * 1024, segmentBytes: 1024 });
      const drops: Array<[number, DropReason]> = [];
      buffer.on('drop', (count, reason) => drops.push([count, reason]));
      await buffer.open();
      const largest = 1024 - SEGMENT_HEADER_BYTES - 16;
      assert.equal(buffer.push('x'.repeat(largest), largest), 1, 'a record that fills a segment fits');
      assert.equal(buffer.push('x'.repeat(largest + 1), largest + 1), -1);
      assert.deepEqual(drops, [[1, 'oversize']]);
      assert.equal(buffer.stats().dropped, 1);
      await buffer.close();
    });
  });

  test('estimates counts after reopen from segment names', async () => {
    await withDirectory(async (directory) => {
      const options = { directory, maxBytes: 1024 * 1024, segmentBytes: 1024, fsync: 'never' as const };
      const buffer = new DiskBuffer(options);
      await buffer.open();
      for (let index = 0; index < 100; index += 1) buffer.push(payloadOf(`r${index}`, 50), 50);
      const read = buffer.read(30, Number.MAX_SAFE_INTEGER);
      buffer.ack(read[29].id);
      await buffer.close();

      const reopened = new DiskBuffer(options);
      await reopened.open();
      assert.equal(reopened.stats().records, 70);
      assert.equal(reopened.stats().bytes, 70 * 50);
      assert.equal(reopened.unread, 70);
      assert.equal(readAll(reopened)[0].id, 31);
      await reopened.close();
    });
  });
});

describe('DiskBuffer - fsync modes', () => {
  /** Returns an fs that counts fsync calls on segment files. */
  function countingFs(): { fs: DiskBufferFs; segmentFsyncs: () => number } {
    const paths = new Map<number, string>();
    let count = 0;
    const counting: DiskBufferFs = {
      ...fs,
      openSync(path, flags, mode) {
        const fd = fs.openSync(path, flags, mode);
        paths.set(fd, path);
        return fd;
      },
      fsync(fd, callback) {
        if ((paths.get(fd) ?? '').endsWith('.seg')) count += 1;
        fs.fsync(fd, callback);
      },
    };
    return { fs: counting, segmentFsyncs: () => count };
  }

  const cases: Array<{ mode: FsyncMode; expectSync: boolean }> = [
    { mode: 'batch', expectSync: true },
    { mode: 'interval', expectSync: true },
    { mode: 'never', expectSync: false },
  ];

  for (const { mode, expectSync } of cases) {
    test(`fsyncs segments in ${mode} mode ${expectSync ? 'without' : 'only on'} flush`, async () => {
      await withDirectory(async (directory) => {
        const counter = countingFs();
        const buffer = new DiskBuffer({ directory, maxBytes: 1024 * 1024, fsync: mode, fsyncIntervalMs: 20, fs: counter.fs });
        await buffer.open();
        buffer.push('one', 3);
        await nextTurn();
        await sleep(60);
        assert.equal(counter.segmentFsyncs() > 0, expectSync);

        buffer.push('two', 3);
        await buffer.flush();
        assert.ok(counter.segmentFsyncs() > 0, 'flush fsyncs in every mode');
        await buffer.close();
      });
    });
  }
});

describe('DiskBuffer - capacity', () => {
  test('stays within maxBytes plus one segment with drop-oldest', async () => {
    await withDirectory(async (directory) => {
      const maxBytes = 64 * 1024;
      const segmentBytes = 8 * 1024;
      // Without `close` and `unlink`, dropped segments are deleted before `push` returns. The
      // thread pool's unlink ran a turn late now and then while other test files ran, and the
      // bytes on disk then counted a segment the buffer had already given up.
      const { close: _close, unlink: _unlink, ...syncDeletes } = fs;
      const buffer = new DiskBuffer({ directory, maxBytes, segmentBytes, whenFull: 'drop-oldest', fsync: 'never', fs: syncDeletes });
      let dropEvents = 0;
      buffer.on('drop', (count) => (dropEvents += count));
      await buffer.open();

      const pushed: number[] = [];
      let largest = 0;
      for (let turn = 0; turn < 200; turn += 1) {
        for (let index = 0; index < 100; index += 1) {
          const id = buffer.push(payloadOf(`t${turn}-${index}`, 200), 200);
          assert.notEqual(id, -1);
          pushed.push(id);
        }
        if (turn % 10 === 5) {
          // Read and acknowledge some records too, so acknowledged segments are deleted in between.
          const batch = buffer.read(50, Number.MAX_SAFE_INTEGER);
          buffer.ack(batch[batch.length - 1].id);
        }
        await nextTurn();
        largest = Math.max(largest, segmentBytesOnDisk(directory));
        assert.ok(buffer.stats().diskBytes <= maxBytes + segmentBytes, `turn ${turn}: diskBytes ${buffer.stats().diskBytes}`);
      }

      assert.ok(pushed.length * 216 > 50 * maxBytes, 'wrote far more than maxBytes');
      assert.ok(largest <= maxBytes + segmentBytes, `segment files took ${largest} bytes`);
      assert.equal(buffer.stats().dropped, dropEvents);
      const remaining = readAll(buffer).map((record) => record.id);
      assert.deepEqual(remaining, pushed.slice(pushed.length - remaining.length), 'the newest records survive in order');
      assert.ok(remaining.length > 200);
      await buffer.close();
    });
  });

  test('block stops at maxBytes plus one segment', async () => {
    await withDirectory(async (directory) => {
      const maxBytes = 16 * 1024;
      const segmentBytes = 4 * 1024;
      const buffer = new DiskBuffer({ directory, maxBytes, segmentBytes, whenFull: 'block', fsync: 'never' });
      const drops: Array<[number, DropReason]> = [];
      buffer.on('drop', (count, reason) => drops.push([count, reason]));
      await buffer.open();

      let accepted = 0;
      while (drops.length === 0) {
        if (buffer.push(payloadOf(`r${accepted}`, 100), 100) !== -1) accepted += 1;
        assert.ok(accepted < 1000, 'block never dropped a record');
      }
      await nextTurn();

      assert.equal(buffer.full, true);
      assert.deepEqual(drops, [[1, 'full']]);
      assert.ok(accepted * 116 > maxBytes, 'block took records past maxBytes');
      assert.ok(segmentBytesOnDisk(directory) <= maxBytes + segmentBytes, `segment files took ${segmentBytesOnDisk(directory)} bytes`);
      assert.equal(readAll(buffer).length, accepted);
      await buffer.close();
    });
  });

  test('opens a 1 GiB backlog in well under a second', async () => {
    await withDirectory(async (directory) => {
      const segmentBytes = 8 * 1024 * 1024;
      const recordBytes = 16 + 200;
      const recordsPerSegment = Math.floor((segmentBytes - SEGMENT_HEADER_BYTES) / recordBytes);
      const sparseSegments = 127;
      const newestFirstId = sparseSegments * recordsPerSegment + 1;

      // The newest segment is real. Metadata acknowledging every id below newestFirstId makes
      // the writer start there; it is deleted afterwards so that nothing counts as acknowledged.
      const acknowledged = { ackedId: newestFirstId - 1, headSegment: newestFirstId, headOffset: 0 };
      fs.writeFileSync(
        join(directory, 'metadata'),
        Buffer.concat([encodeMetadataSlot(1, acknowledged), encodeMetadataSlot(2, acknowledged)]),
      );
      const writer = new DiskBuffer({ directory, maxBytes: 2 * segmentBytes, segmentBytes, fsync: 'never' });
      await writer.open();
      for (let index = 0; index < recordsPerSegment; index += 1) writer.push(payloadOf(`r${index}`, 200), 200);
      await writer.close();
      fs.unlinkSync(join(directory, 'metadata'));

      // The older segments are sparse files with a valid header: open must not read their content.
      for (let index = 0; index < sparseSegments; index += 1) {
        const firstId = index * recordsPerSegment + 1;
        const previousFirstId = index === 0 ? 0 : firstId - recordsPerSegment;
        const previousLastId = index === 0 ? 0 : firstId - 1;
        const path = join(directory, segmentFileName(firstId));
        fs.writeFileSync(path, encodeSegmentHeader({ firstId, previousFirstId, previousLastId }));
        fs.truncateSync(path, SEGMENT_HEADER_BYTES + recordsPerSegment * recordBytes);
      }

      const buffer = new DiskBuffer({ directory, maxBytes: 2 * 1024 * 1024 * 1024, segmentBytes, fsync: 'never' });
      const warnings: Error[] = [];
      buffer.on('warning', (warning) => warnings.push(warning));
      const started = performance.now();
      await buffer.open();
      const elapsed = performance.now() - started;

      assert.ok(elapsed < 1000, `open took ${elapsed.toFixed(0)} ms`);
      assert.deepEqual(warnings, []);
      const stats = buffer.stats();
      assert.equal(stats.segments, 128);
      assert.ok(stats.diskBytes > 1000 * 1024 * 1024, `diskBytes ${stats.diskBytes}`);
      assert.equal(stats.records, 128 * recordsPerSegment);
      assert.equal(stats.bytes, 128 * recordsPerSegment * 200);
      await buffer.close();
    });
  });

  test('keeps memory flat while spooling 128 MiB', async () => {
    setFlagsFromString('--expose-gc');
    const collectGarbage = runInNewContext('gc') as () => void;
    await withDirectory(async (directory) => {
      const buffer = new DiskBuffer({ directory, maxBytes: 256 * 1024 * 1024, segmentBytes: 8 * 1024 * 1024, fsync: 'never' });
      await buffer.open();
      const payload = payloadOf('spool', 1000);
      collectGarbage();
      const baseline = process.memoryUsage();
      let peak = 0;
      // V8 frees ArrayBuffer memory on a background thread after a collection, and under load
      // that lags; a second collection after a short pause counts only what is still retained.
      const sample = async (): Promise<void> => {
        collectGarbage();
        await new Promise((resolve) => setTimeout(resolve, 5));
        collectGarbage();
        const usage = process.memoryUsage();
        peak = Math.max(peak, usage.heapUsed + usage.arrayBuffers - baseline.heapUsed - baseline.arrayBuffers);
      };

      const total = 128 * 1024;
      for (let index = 0; index < total; index += 1) {
        buffer.push(payload, 1000);
        if (index % 1000 === 999) await nextTurn();
        if (index % 16_384 === 0) await sample();
      }
      await nextTurn();
      await sample();

      let read = 0;
      for (;;) {
        const batch = buffer.read(500, 1024 * 1024);
        if (batch.length === 0) break;
        read += batch.length;
        buffer.ack(batch[batch.length - 1].id);
        if (read % 16_000 === 0) {
          await nextTurn();
          await sample();
        }
      }
      assert.equal(read, total);
      assert.ok(peak < 32 * 1024 * 1024, `heap and buffers grew by ${(peak / 1024 / 1024).toFixed(1)} MiB`);
      await buffer.close();
    });
  });
});
