import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PendingBatch } from '../../src/buffer/pending-batch.js';
import { Segment } from '../../src/buffer/segment.js';

// The batch keeps its per-record arrays from turn to turn. Its payload array must not keep the
// strings of records already encoded, or every turn's payloads stay reachable until the next
// turn overwrites them.
test('seal releases the payloads', () => {
  const batch = new PendingBatch();
  const segment = new Segment('/nonexistent-pending-batch-test', 1, 0, 0, 0);
  segment.sealed = false;
  for (let id = 1; id <= 3000; id += 1) batch.add(segment, id, `payload ${id}`, `payload ${id}`.length);

  assert.equal(batch.seal(), null);
  // The array is private: the test reads it because nothing else shows what it still references.
  const payloads = (batch as unknown as { payloads: string[] }).payloads;
  assert.ok(payloads.length >= 3000, 'the array keeps its size');
  assert.deepEqual(new Set(payloads), new Set(['']));
});
