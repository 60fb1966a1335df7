import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { BufferIOError } from '../../src/errors.js';
import { DiskBuffer, type DropReason } from '../../src/buffer/index.js';
import { FaultyFs, backlogPayload, makeTempDirectory, nextTurn, readAll, reopenAndReadAll, segmentPaths } from './helpers.js';

const RETRY_DELAY_MS = 50;

describe('DiskBuffer - write errors', () => {
  let directory: { path: string; remove: () => Promise<void> };
  let faultyFs: FaultyFs;
  let buffer: DiskBuffer;
  let warnings: Error[];
  let drops: Array<{ count: number; reason: DropReason }>;

  beforeEach(async () => {
    directory = await makeTempDirectory();
    faultyFs = new FaultyFs();
    buffer = new DiskBuffer({
      directory: directory.path,
      maxBytes: 1024 * 1024,
      segmentBytes: 64 * 1024,
      fsync: 'batch',
      retryDelayMs: RETRY_DELAY_MS,
      fs: faultyFs,
    });
    warnings = [];
    drops = [];
    buffer.on('warning', (warning) => warnings.push(warning));
    buffer.on('drop', (count, reason) => drops.push({ count, reason }));
    await buffer.open();
  });

  afterEach(async () => {
    faultyFs.heal();
    await buffer.close();
    await directory.remove();
  });

  function pushRange(from: number, to: number): number[] {
    const ids: number[] = [];
    for (let id = from; id <= to; id += 1) ids.push(buffer.push(backlogPayload(id), 40));
    return ids;
  }

  for (const code of ['ENOSPC', 'EIO', 'EACCES']) {
    test(`survives ${code} and resumes writing`, async () => {
      assert.deepEqual(pushRange(1, 10), idsOf(1, 10));
      await buffer.flush();

      faultyFs.failWrites(code, 100);
      assert.deepEqual(pushRange(11, 20), idsOf(11, 20), 'push takes records until the batch is written');
      await nextTurn();

      assert.deepEqual(drops, [{ count: 10, reason: 'io-error' }]);
      assert.equal(warnings.length, 1);
      assert.ok(warnings[0] instanceof BufferIOError);
      assert.match(warnings[0].message, new RegExp(code));
      assert.match(warnings[0].message, /; 10 records dropped,/);
      const stats = buffer.stats();
      assert.equal(stats.dropped, 10);
      assert.equal(stats.writeErrors, 1);
      assert.match(String(stats.lastError?.message), new RegExp(code));
      assert.equal(stats.records, 10);

      assert.equal(buffer.push('dropped while failing', 21), -1, 'push drops records until the retry delay passes');
      assert.deepEqual(drops.at(-1), { count: 1, reason: 'io-error' });

      faultyFs.heal();
      await sleep(RETRY_DELAY_MS + 10);
      assert.deepEqual(pushRange(21, 25), idsOf(21, 25));
      await buffer.flush();
      assert.equal(warnings.length, 1, 'no further warning once writes succeed');

      assert.deepEqual(
        readAll(buffer).map((record) => record.id),
        [...idsOf(1, 10), ...idsOf(21, 25)],
      );
      await buffer.close();
      const reopened = await reopenAndReadAll(directory.path);
      assert.deepEqual(
        reopened.records.map((record) => record.id),
        [...idsOf(1, 10), ...idsOf(21, 25)],
      );
      assert.deepEqual(reopened.warnings, [], 'the partial write was removed');
    });
  }

  test('keeps records already read when the write fails', async () => {
    faultyFs.failWrites('ENOSPC');
    pushRange(1, 6);
    const read = buffer.read(4, Number.MAX_SAFE_INTEGER);
    await nextTurn();

    assert.deepEqual(drops, [{ count: 2, reason: 'io-error' }], 'only the 2 unread records are dropped');
    assert.equal(buffer.stats().records, 4);
    assert.equal(buffer.unread, 0);
    buffer.ack(read[3].id);
    assert.equal(buffer.stats().records, 0);
  });

  test('words one dropped record in the singular', async () => {
    faultyFs.failWrites('ENOSPC');
    pushRange(1, 1);
    await nextTurn();
    assert.deepEqual(drops, [{ count: 1, reason: 'io-error' }]);
    assert.match(warnings[0].message, /; 1 record dropped,/);
  });

  test('drops pushes while a new segment cannot be created', async () => {
    faultyFs.failWrites('ENOSPC');
    pushRange(1, 3);
    await nextTurn();
    assert.deepEqual(drops, [{ count: 3, reason: 'io-error' }]);
    assert.deepEqual(segmentPaths(directory.path), [], 'no empty segment file is left behind');

    faultyFs.heal();
    await sleep(RETRY_DELAY_MS + 10);
    assert.equal(buffer.push('after recovery', 14), 4);
    await buffer.flush();
    assert.equal(segmentPaths(directory.path).length, 1);
  });

  test('reports a failed metadata write', async () => {
    pushRange(1, 3);
    const read = readAll(buffer);
    faultyFs.metadataError = 'EIO';
    buffer.ack(read[2].id);
    await nextTurn();

    assert.equal(warnings.length, 1);
    assert.match(warnings[0].message, /metadata/);
    assert.equal(buffer.stats().writeErrors, 1);
    assert.equal(buffer.stats().dropped, 0);

    faultyFs.heal();
    pushRange(4, 4);
    buffer.ack(readAll(buffer)[0].id);
    await buffer.close();
    const reopened = await reopenAndReadAll(directory.path);
    assert.deepEqual(reopened.records, [], 'the next metadata write stores the acknowledgement');
  });

  test('flush rejects when fsync fails', async () => {
    pushRange(1, 3);
    await nextTurn();
    await sleep(5);
    faultyFs.fsyncError = 'EIO';
    pushRange(4, 5);
    await assert.rejects(buffer.flush(), (error: Error) => error instanceof BufferIOError && /EIO/.test(error.message));
    assert.ok(buffer.stats().writeErrors >= 1);
    assert.ok(warnings.some((warning) => /fsync/.test(warning.message)));
  });
});

function idsOf(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, index) => from + index);
}
