import { test } from 'node:test';
import assert from 'node:assert/strict';
import { giveChunkBuffer, takeChunkBuffer } from '../../src/transport/chunk-pool.js';
import { FrameBatch } from '../../src/transport/frame-batch.js';

const ESCAPE = { lf: '#012', cr: '#015' };

// node --test runs each file in its own process, so the pool starts empty here.
test('chunk pool - keeps at most 64 free buffers', () => {
  const firstBuffers = Array.from({ length: 200 }, () => takeChunkBuffer());
  for (const buffer of firstBuffers) giveChunkBuffer(buffer);

  const returned = new Set(firstBuffers);
  const secondBuffers = Array.from({ length: 200 }, () => takeChunkBuffer());
  const reused = secondBuffers.filter((buffer) => returned.has(buffer)).length;
  assert.equal(reused, 64);
  assert.equal(new Set(secondBuffers).size, 200, 'no buffer came out twice');
  for (const buffer of secondBuffers) giveChunkBuffer(buffer);
});

test('FrameBatch - second release gives nothing back', () => {
  const records = Array.from({ length: 100 }, (_, index) => ({ id: index, payload: `message ${index} ${'x'.repeat(160)}`, bytes: 0 }));
  for (const entry of records) entry.bytes = entry.payload.length;
  const batch = new FrameBatch(records, true, ESCAPE);
  const buffer = batch.chunks[0].buffer;
  batch.flushedAt = Date.now();
  batch.release();
  batch.release();

  const first = new FrameBatch(records, true, ESCAPE);
  const second = new FrameBatch(records, true, ESCAPE);
  assert.equal(first.chunks[0].buffer, buffer, 'the released buffer was reused');
  assert.notEqual(second.chunks[0].buffer, buffer, 'the released buffer came out of the pool once');
});
