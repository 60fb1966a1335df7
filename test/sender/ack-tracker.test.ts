import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { QueueRecord } from '../../src/buffer/queue.js';
import { AckTracker } from '../../src/sender/ack-tracker.js';

function records(ids: number[]): QueueRecord[] {
  return ids.map((id) => ({ id, payload: `event ${id}`, bytes: 8 }));
}

test('AckTracker - whole batch moves the prefix', () => {
  const tracker = new AckTracker();
  tracker.add(records([1, 2, 3]));
  tracker.add(records([4, 5]));
  assert.equal(tracker.confirm(Float64Array.of(4, 5)), -1, 'the first batch is still open');
  assert.equal(tracker.confirm(Float64Array.of(1, 2, 3)), 5);
  assert.equal(tracker.pending, 0);
});

test('AckTracker - foreign ids leave a batch open', () => {
  const tracker = new AckTracker();
  tracker.add(records([1, 2]));
  tracker.add(records([5, 6, 7]));
  // First id 5, last id 7 and three ids, like batch 5-7, but 2 is not in it and 6 is missing.
  assert.equal(tracker.confirm([5, 2, 7]), -1);
  assert.equal(tracker.pending, 2, 'records 1 and 6 are open');
  assert.equal(tracker.confirm([1]), 2);
  assert.equal(tracker.confirm([6]), 7);
});

test('AckTracker - matches a model under random batches and confirmation orders', () => {
  let state = 7;
  const random = () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
  for (let round = 0; round < 200; round += 1) {
    const tracker = new AckTracker();
    const batches: number[][] = [];
    let nextId = 1;
    for (let count = 1 + Math.floor(random() * 6); count > 0; count -= 1) {
      nextId += Math.floor(random() * 3); // Gaps, as dropped records leave them.
      const batch = Array.from({ length: 1 + Math.floor(random() * 5) }, () => nextId++);
      batches.push(batch);
      tracker.add(records(batch));
    }
    const open = new Set(batches.flat());
    const all = batches.flat().sort(() => random() - 0.5);
    let expected = -1;
    while (all.length > 0) {
      const group = all.splice(0, 1 + Math.floor(random() * 6));
      if (random() < 0.5) group.sort((a, b) => a - b);
      for (const id of group) open.delete(id);
      let prefix = -1;
      for (const batch of batches) {
        if (batch.some((id) => open.has(id))) break;
        prefix = batch[batch.length - 1];
      }
      const acked = tracker.confirm(random() < 0.5 ? Float64Array.from(group) : group);
      if (prefix !== expected) {
        assert.equal(acked, prefix, `round ${round}: confirming ${group.join(',')}`);
        expected = prefix;
      } else {
        assert.equal(acked, -1, `round ${round}: confirming ${group.join(',')} moves nothing`);
      }
      assert.equal(tracker.pending, open.size);
    }
  }
});
