import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { test } from 'node:test';
import { DiskBuffer, type DiskBufferFs } from '../../src/buffer/index.js';
import { makeTempDirectory, nextTurn, payloadOf, readAll, segmentPaths } from './helpers.js';

/** Small segments, so that a few hundred records fill several of them. */
const SEGMENT_BYTES = 4096;

interface CallLog {
  unlinkSync: number;
  unlink: number;
  closeSync: number;
  close: number;
}

/** Wraps node:fs, counts the close and delete calls, and lets a test delay or fail `unlink`. */
function loggingFs(options: { withAsync: boolean; unlinkDelayMs?: number; unlinkError?: string }): { fs: DiskBufferFs; calls: CallLog } {
  const calls: CallLog = { unlinkSync: 0, unlink: 0, closeSync: 0, close: 0 };
  const base: DiskBufferFs = {
    openSync: fs.openSync,
    readSync: fs.readSync,
    writeSync: fs.writeSync,
    fsync: fs.fsync,
    fsyncSync: fs.fsyncSync,
    ftruncateSync: fs.ftruncateSync,
    statSync: fs.statSync,
    readdirSync: fs.readdirSync,
    mkdirSync: fs.mkdirSync,
    closeSync(fd) {
      calls.closeSync += 1;
      fs.closeSync(fd);
    },
    unlinkSync(path) {
      calls.unlinkSync += 1;
      fs.unlinkSync(path);
    },
  };
  if (!options.withAsync) return { fs: base, calls };
  return {
    calls,
    fs: {
      ...base,
      close(fd, callback) {
        calls.close += 1;
        fs.close(fd, callback);
      },
      unlink(path, callback) {
        calls.unlink += 1;
        if (options.unlinkError !== undefined) {
          const error = Object.assign(new Error(`${options.unlinkError}: simulated`), { code: options.unlinkError });
          setTimeout(() => callback(error), 1);
          return;
        }
        setTimeout(() => fs.unlink(path, callback), options.unlinkDelayMs ?? 0);
      },
    },
  };
}

/** Pushes `count` records, reads and acknowledges all of them, and lets the buffer retire the full segments. */
async function fillAndAcknowledge(buffer: DiskBuffer, count: number): Promise<void> {
  for (let index = 0; index < count; index += 1) buffer.push(payloadOf(`event-${index}`, 200), 200);
  await nextTurn();
  const records = readAll(buffer);
  assert.equal(records.length, count);
  buffer.ack(records[records.length - 1].id);
  await nextTurn();
}

test('DiskBuffer - acknowledged segments are deleted off the main thread', async () => {
  const directory = await makeTempDirectory();
  const logged = loggingFs({ withAsync: true });
  const buffer = new DiskBuffer({ directory: directory.path, segmentBytes: SEGMENT_BYTES, fs: logged.fs });
  await buffer.open();
  try {
    await fillAndAcknowledge(buffer, 200);
    await buffer.close();

    assert.ok(logged.calls.unlink > 0, 'segments deleted with unlink');
    assert.equal(logged.calls.unlinkSync, 0, 'no unlinkSync');
    assert.ok(logged.calls.close > 0, 'descriptors closed with close');
    assert.deepEqual(segmentPaths(directory.path).length <= 1, true, 'at most the newest segment is left');
  } finally {
    await directory.remove();
  }
});

test('DiskBuffer - without async calls the fs object is used synchronously', async () => {
  const directory = await makeTempDirectory();
  const logged = loggingFs({ withAsync: false });
  const buffer = new DiskBuffer({ directory: directory.path, segmentBytes: SEGMENT_BYTES, fs: logged.fs });
  await buffer.open();
  try {
    await fillAndAcknowledge(buffer, 200);
    await buffer.close();

    assert.ok(logged.calls.unlinkSync > 0, 'segments deleted with unlinkSync');
    assert.ok(logged.calls.closeSync > 0, 'descriptors closed with closeSync');
  } finally {
    await directory.remove();
  }
});

test('DiskBuffer - close waits for a slow background delete', async () => {
  const directory = await makeTempDirectory();
  const logged = loggingFs({ withAsync: true, unlinkDelayMs: 200 });
  const buffer = new DiskBuffer({ directory: directory.path, segmentBytes: SEGMENT_BYTES, fs: logged.fs });
  await buffer.open();
  try {
    await fillAndAcknowledge(buffer, 200);
    const deletes = logged.calls.unlink;
    assert.ok(deletes > 0, 'a delete is running');
    await buffer.close();

    assert.ok(segmentPaths(directory.path).length <= 1, 'the deleted segments are gone when close() resolves');
  } finally {
    await directory.remove();
  }
});

test('DiskBuffer - a failed background delete is a warning', async () => {
  const directory = await makeTempDirectory();
  const logged = loggingFs({ withAsync: true, unlinkError: 'EIO' });
  const buffer = new DiskBuffer({ directory: directory.path, segmentBytes: SEGMENT_BYTES, fs: logged.fs });
  const warnings: Error[] = [];
  buffer.on('warning', (error) => warnings.push(error));
  await buffer.open();
  try {
    await fillAndAcknowledge(buffer, 200);
    await buffer.close();

    assert.ok(warnings.length > 0, 'warnings emitted');
    assert.match(warnings[0].message, /Deleting segment .* failed \(EIO\)/);
    assert.equal(buffer.stats().writeErrors, warnings.length);
  } finally {
    await directory.remove();
  }
});
