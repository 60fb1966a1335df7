import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DiskBuffer } from '../../src/buffer/index.js';
import { makeTempDirectory, nextTurn, reopenAndReadAll } from './helpers.js';

// A 1 MiB batch of records with one-byte payloads contains about 61,700 of them, far more than
// a usual turn, so the batch's per-record arrays grow during the turn. Every record must then be
// on disk with its own id and payload, and so must those of the next, smaller turn.
test('stores turns of tiny records', async () => {
  const directory = await makeTempDirectory();
  const firstTurn = 70_000;
  const secondTurn = 10;
  const payloadOf = (index: number): string => String.fromCharCode(0x21 + (index % 90));
  try {
    const buffer = new DiskBuffer({ directory: directory.path, fsync: 'never', maxBytes: 1024 * 1024 * 1024 });
    await buffer.open();
    for (let index = 0; index < firstTurn; index += 1) buffer.push(payloadOf(index), 1);
    await nextTurn();
    for (let index = firstTurn; index < firstTurn + secondTurn; index += 1) buffer.push(payloadOf(index), 1);
    await buffer.close();

    const { records, warnings } = await reopenAndReadAll(directory.path);
    assert.deepEqual(warnings, []);
    assert.equal(records.length, firstTurn + secondTurn);
    for (let index = 0; index < records.length; index += 1) {
      assert.equal(records[index].id, index + 1);
      assert.equal(records[index].payload, payloadOf(index));
    }
  } finally {
    await directory.remove();
  }
});
