import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InFlightRecords } from '../../src/buffer/in-flight-records.js';
import { Segment } from '../../src/buffer/segment.js';

const DIRECTORY = '/nonexistent-in-flight-test';

describe('InFlightRecords', () => {
  test('acknowledges across growth and wraparound', () => {
    const inFlight = new InFlightRecords();
    const segment = new Segment(DIRECTORY, 1, 0, 0, 0);
    let nextId = 1;
    let ackedThrough = 0;
    // Pushes and acknowledgements interleave so that the oldest record moves around the ring
    // while it grows from 1,024 slots to 32,768.
    for (let round = 1; round <= 12; round += 1) {
      for (let index = 0; index < round * 600; index += 1) {
        inFlight.push(nextId, 10, segment, nextId * 100);
        nextId += 1;
      }
      const through = ackedThrough + round * 300;
      assert.equal(inFlight.ackThrough(through), through - ackedThrough);
      assert.equal(inFlight.lastAckedId, through);
      assert.equal(inFlight.lastStoredSegment, segment);
      assert.equal(inFlight.lastStoredEnd, through * 100);
      ackedThrough = through;
      assert.equal(inFlight.count, nextId - 1 - ackedThrough);
      assert.equal(inFlight.bytes, 10 * inFlight.count);
    }
    assert.equal(inFlight.ackThrough(ackedThrough), 0, 'an id already acknowledged removes nothing');
    assert.equal(inFlight.ackThrough(nextId + 1000), nextId - 1 - ackedThrough);
    assert.equal(inFlight.count, 0);
    assert.equal(inFlight.bytes, 0);
  });

  test('reports the last stored record', () => {
    const inFlight = new InFlightRecords();
    const stored = new Segment(DIRECTORY, 1, 0, 0, 0);
    const deleted = new Segment(DIRECTORY, 3, 1, 2, 0);
    inFlight.push(1, 5, stored, 40);
    inFlight.push(2, 5, stored, 61);
    inFlight.push(3, 5, deleted, 40);
    deleted.removed = true;

    assert.equal(inFlight.ackThrough(3), 3);
    assert.equal(inFlight.lastAckedId, 3);
    assert.equal(inFlight.lastStoredSegment, stored);
    assert.equal(inFlight.lastStoredEnd, 61);

    inFlight.push(4, 5, deleted, 61);
    assert.equal(inFlight.ackThrough(4), 1);
    assert.equal(inFlight.lastStoredSegment, null, 'no stored record was acknowledged');
  });

  test('works after a deep window empties', () => {
    const inFlight = new InFlightRecords();
    const segment = new Segment(DIRECTORY, 1, 0, 0, 0);
    for (let id = 1; id <= 100_000; id += 1) inFlight.push(id, 1, segment, id);
    assert.equal(inFlight.capacity, 131_072);
    assert.equal(inFlight.ackThrough(100_000), 100_000);
    assert.equal(inFlight.capacity, 1024, 'the ring shrinks once the deep window has emptied');
    for (let id = 100_001; id <= 103_000; id += 1) inFlight.push(id, 2, segment, id);
    assert.equal(inFlight.count, 3000);
    assert.equal(inFlight.ackThrough(101_500), 1500);
    assert.equal(inFlight.lastStoredEnd, 101_500);
    assert.equal(inFlight.bytes, 3000);
  });

  test('matches a list across deleted segments', () => {
    const inFlight = new InFlightRecords();
    const model: Array<{ id: number; bytes: number; segment: Segment; end: number }> = [];
    // A fixed linear congruential sequence, so that a failure repeats.
    let seed = 12345;
    const random = (limit: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % limit;
    };
    let segment = new Segment(DIRECTORY, 1, 0, 0, 0);
    let nextId = 1;
    for (let step = 0; step < 3000; step += 1) {
      for (let count = random(40); count > 0; count -= 1) {
        if (random(8) === 0) segment = new Segment(DIRECTORY, nextId, segment.firstId, nextId - 1, 0);
        const record = { id: nextId, bytes: 1 + random(300), segment, end: 16 + random(1_000_000) };
        inFlight.push(record.id, record.bytes, record.segment, record.end);
        model.push(record);
        nextId += 1;
      }
      // A deleted segment, as when a write failed or the segment was dropped while full.
      if (model.length > 0 && random(10) === 0) model[random(model.length)].segment.removed = true;

      const through = model.length === 0 ? nextId : model[random(model.length)].id;
      const acknowledged = model.filter((record) => record.id <= through);
      model.splice(0, acknowledged.length);
      assert.equal(inFlight.ackThrough(through), acknowledged.length);
      if (acknowledged.length > 0) {
        const stored = acknowledged.filter((record) => !record.segment.removed).at(-1);
        assert.equal(inFlight.lastAckedId, acknowledged[acknowledged.length - 1].id);
        assert.equal(inFlight.lastStoredSegment, stored?.segment ?? null);
        assert.equal(inFlight.lastStoredEnd, stored?.end ?? 0);
      }
      assert.equal(inFlight.count, model.length);
      assert.equal(inFlight.bytes, model.reduce((sum, record) => sum + record.bytes, 0));
    }
  });
});
