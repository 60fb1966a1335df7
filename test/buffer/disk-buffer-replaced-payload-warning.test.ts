import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DiskBuffer, type DropReason } from '../../src/buffer/index.js';
import { SEGMENT_HEADER_BYTES } from '../../src/buffer/segment.js';
import { BufferIOError, InvalidEventError } from '../../src/errors.js';
import { FaultyFs, makeTempDirectory, nextTurn, payloadOf, reopenAndReadAll } from './helpers.js';

// A non-ASCII payload pushed with its UTF-16 length as its size is stored with '?' for each
// non-ASCII character, and the write that stores it emits an InvalidEventError naming it. These
// tests check that the warning follows what the write stored when only part of the batch
// reaches the disk.

/** Records of 100 bytes (16-byte header, 84-byte payload), three to a segment. */
const PAYLOAD_BYTES = 84;
const SEGMENT_BYTES = SEGMENT_HEADER_BYTES + 3 * (16 + PAYLOAD_BYTES);

/** An 84-character payload with one 'é': 85 UTF-8 bytes, pushed below as 84. */
const FALSE_CLAIM = payloadOf('café ', PAYLOAD_BYTES);
const STORED_FALSE_CLAIM = payloadOf('caf? ', PAYLOAD_BYTES);

test('reports replacement before failed write', async () => {
  const directory = await makeTempDirectory();
  const faultyFs = new FaultyFs();
  const buffer = new DiskBuffer({ directory: directory.path, segmentBytes: SEGMENT_BYTES, fs: faultyFs, fsync: 'never' });
  const warnings: Error[] = [];
  buffer.on('warning', (warning) => warnings.push(warning));
  try {
    await buffer.open();
    // Ids 1 to 3 fill the first segment and ids 4 to 6 the second, in one batch.
    for (let id = 1; id <= 6; id += 1) {
      const payload = id === 2 ? FALSE_CLAIM : payloadOf(`record ${id} `, PAYLOAD_BYTES);
      assert.equal(buffer.push(payload, PAYLOAD_BYTES), id);
    }
    // The first segment's write goes through, and creating the second segment fails.
    faultyFs.failWrites('ENOSPC', SEGMENT_BYTES);
    await nextTurn();
    faultyFs.heal();
    await buffer.close();

    const reopened = await reopenAndReadAll(directory.path);
    assert.deepEqual(
      reopened.records.map((record) => record.id),
      [1, 2, 3],
      'the first segment was written',
    );
    assert.equal(reopened.records[1].payload, STORED_FALSE_CLAIM, 'record 2 was stored with "?"');

    assert.equal(warnings.filter((warning) => warning instanceof BufferIOError).length, 1, 'the failed write is reported');
    const invalid = warnings.filter((warning) => warning instanceof InvalidEventError);
    assert.equal(invalid.length, 1, 'the stored replacement is reported');
    assert.match(invalid[0].message, /record 2 was stored with "\?"/);
  } finally {
    faultyFs.heal();
    await buffer.close();
    await directory.remove();
  }
});

test('skips replacement in dropped segment', async () => {
  const directory = await makeTempDirectory();
  // maxBytes of one segment: starting a second segment with drop-oldest deletes the first,
  // with its records still pending.
  const buffer = new DiskBuffer({
    directory: directory.path,
    segmentBytes: SEGMENT_BYTES,
    maxBytes: SEGMENT_BYTES,
    whenFull: 'drop-oldest',
    fsync: 'never',
  });
  const warnings: Error[] = [];
  const drops: Array<{ count: number; reason: DropReason }> = [];
  buffer.on('warning', (warning) => warnings.push(warning));
  buffer.on('drop', (count, reason) => drops.push({ count, reason }));
  try {
    await buffer.open();
    for (let id = 1; id <= 4; id += 1) {
      const payload = id === 2 ? FALSE_CLAIM : payloadOf(`record ${id} `, PAYLOAD_BYTES);
      assert.equal(buffer.push(payload, PAYLOAD_BYTES), id);
    }
    await nextTurn();
    await buffer.close();

    assert.deepEqual(drops, [{ count: 3, reason: 'full' }], 'ids 1 to 3 were dropped before the write');
    const reopened = await reopenAndReadAll(directory.path);
    assert.deepEqual(
      reopened.records.map((record) => record.id),
      [4],
    );
    assert.deepEqual(
      warnings.map((warning) => warning.message),
      [],
      'no warning names record 2, which was never stored',
    );
  } finally {
    await buffer.close();
    await directory.remove();
  }
});
