import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { test } from 'node:test';
import { DiskBuffer, type DiskBufferFs } from '../../src/buffer/index.js';
import { makeTempDirectory, nextTurn, readAll } from './helpers.js';

test('read while closing opens no segment file', async () => {
  const directory = await makeTempDirectory();
  try {
    const writer = new DiskBuffer({ directory: directory.path, fsync: 'never', tailCacheBytes: 0 });
    await writer.open();
    for (let id = 1; id <= 100; id += 1) writer.push(`record ${id}`, 0);
    await writer.close();

    // Segment files opened for reading and not closed yet.
    const openForReading = new Set<number>();
    const trackingFs: DiskBufferFs = {
      ...fs,
      openSync(path, flags, mode) {
        const fd = fs.openSync(path, flags, mode);
        if (path.endsWith('.seg') && flags === 'r') openForReading.add(fd);
        return fd;
      },
      closeSync(fd) {
        openForReading.delete(fd);
        fs.closeSync(fd);
      },
    };
    const buffer = new DiskBuffer({ directory: directory.path, fsync: 'never', tailCacheBytes: 0, fs: trackingFs });
    await buffer.open();
    assert.equal(buffer.read(10, Number.MAX_SAFE_INTEGER).length, 10, 'records read before close');

    let closed = false;
    const closing = buffer.close().then(() => {
      closed = true;
    });
    let recordsWhileClosing = 0;
    while (!closed) {
      recordsWhileClosing += buffer.read(10, Number.MAX_SAFE_INTEGER).length;
      await nextTurn();
    }
    await closing;
    assert.equal(recordsWhileClosing, 0, 'records returned by read while closing');
    assert.equal(openForReading.size, 0, 'segment files still open for reading after close');

    // None of the 90 records left was acknowledged, so a new buffer returns them all, with the first 10.
    const reopened = new DiskBuffer({ directory: directory.path, fsync: 'never' });
    await reopened.open();
    const payloads = readAll(reopened).map((record) => record.payload);
    assert.equal(payloads.length, 100);
    assert.equal(payloads[0], 'record 1');
    assert.equal(payloads.at(-1), 'record 100');
    await reopened.close();
  } finally {
    await directory.remove();
  }
});
