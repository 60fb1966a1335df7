import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { DiskBufferFs } from '../../src/buffer/disk-fs.js';
import { encodeRecord } from '../../src/buffer/record-format.js';
import { READ_AHEAD_BYTES, SegmentFileReader, scanNext } from '../../src/buffer/segment-reader.js';
import { makeTempDirectory } from './helpers.js';

/** Writes `records` back to back into a new file and returns its path and the records' bytes. */
function writeRecords(directory: string, name: string, records: Array<[number, string]>): { path: string; bytes: Buffer } {
  const bytes = Buffer.concat(records.map(([id, payload]) => encodeRecord(id, payload)));
  const path = join(directory, name);
  fs.writeFileSync(path, bytes);
  return { path, bytes };
}

/** Scans every record of a file from offset 0 and returns the kinds of the steps. */
function scanAll(reader: SegmentFileReader, limit: number): string[] {
  const kinds: string[] = [];
  let offset = 0;
  let previousId = 0;
  for (;;) {
    const step = scanNext(reader, offset, limit, previousId);
    if (step.kind === 'end') return kinds;
    kinds.push(step.kind);
    if (step.kind === 'record') {
      offset += step.length;
      previousId = step.id;
    } else {
      offset = step.end;
      if (step.nextId !== null) previousId = step.nextId - 1;
    }
  }
}

test('reader reused after close keeps its own bytes', async () => {
  const directory = await makeTempDirectory();
  try {
    const first = writeRecords(directory.path, 'first', [[1, 'first file']]);
    const second = writeRecords(directory.path, 'second', [[1, 'second file']]);
    const firstReader = new SegmentFileReader(fs, first.path);
    const secondReader = new SegmentFileReader(fs, second.path);

    firstReader.view(0, first.bytes.length);
    // The first reader's read-ahead buffer goes back for reuse, and the second reader may take it.
    firstReader.close();
    const secondView = secondReader.view(0, second.bytes.length);
    const firstView = firstReader.view(0, first.bytes.length);

    const secondBytes = secondView.buffer.subarray(secondView.index, secondView.index + second.bytes.length);
    const firstBytes = firstView.buffer.subarray(firstView.index, firstView.index + first.bytes.length);
    assert.deepEqual(firstBytes, first.bytes, 'bytes of the reader used again after close');
    assert.deepEqual(secondBytes, second.bytes, 'bytes of the reader that started after the close');
    // Served from the second reader's read-ahead buffer, which the first reader's read must not have overwritten.
    const again = secondReader.view(0, second.bytes.length);
    assert.deepEqual(again.buffer.subarray(again.index, again.index + second.bytes.length), second.bytes);
    firstReader.close();
    secondReader.close();
  } finally {
    await directory.remove();
  }
});

test('checksums in and beyond the read-ahead buffer', async () => {
  const directory = await makeTempDirectory();
  try {
    const large = 'L'.repeat(READ_AHEAD_BYTES + 100);
    const records: Array<[number, string]> = [
      [1, 'small record'],
      [2, large],
      [3, 'another small record'],
      [4, large],
    ];
    const { path, bytes } = writeRecords(directory.path, 'segment', records);
    const intact = new SegmentFileReader(fs, path);
    assert.deepEqual(scanAll(intact, bytes.length), ['record', 'record', 'record', 'record']);
    intact.close();

    // One payload byte changed in the small record 3 and in the large record 4.
    const thirdStart = encodeRecord(1, records[0][1]).length + encodeRecord(2, large).length;
    const fourthStart = thirdStart + encodeRecord(3, records[2][1]).length;
    bytes[thirdStart + 20] ^= 0x01;
    bytes[fourthStart + 1000] ^= 0x01;
    fs.writeFileSync(path, bytes);
    const damaged = new SegmentFileReader(fs, path);
    assert.deepEqual(scanAll(damaged, bytes.length), ['record', 'record', 'damaged']);
    damaged.close();
  } finally {
    await directory.remove();
  }
});

test('reader after failed refill keeps records', async () => {
  const directory = await makeTempDirectory();
  try {
    const records: Array<[number, string]> = Array.from({ length: 200 }, (_, index) => [index + 1, 'x'.repeat(600)]);
    const { path, bytes } = writeRecords(directory.path, 'segment', records);
    // readSync reads 4 KiB and then fails with EIO, once, after `failAfterPartialRead` is set.
    let failAfterPartialRead = false;
    let failNext = false;
    const faultyFs: DiskBufferFs = {
      ...fs,
      readSync(fd, buffer, offset, length, position) {
        if (failNext) {
          failNext = false;
          throw Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' });
        }
        if (failAfterPartialRead) {
          failAfterPartialRead = false;
          failNext = true;
          return fs.readSync(fd, buffer, offset, Math.min(length, 4096), position);
        }
        return fs.readSync(fd, buffer, offset, length, position);
      },
    };
    const reader = new SegmentFileReader(faultyFs, path);
    assert.equal(scanNext(reader, 0, bytes.length, 0).kind, 'record', 'first record before the failure');

    failAfterPartialRead = true;
    assert.throws(() => reader.view(READ_AHEAD_BYTES + 4096, 64), { code: 'EIO' });

    assert.deepEqual(scanAll(reader, bytes.length), Array(records.length).fill('record'), 'every record after the failure');
    reader.close();
  } finally {
    await directory.remove();
  }
});
