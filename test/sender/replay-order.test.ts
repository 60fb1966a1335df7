import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TestCollector } from '../helpers/collector.js';
import { countDescents, eventNumber } from '../helpers/event-numbers.js';
import { createSender, waitUntil } from '../helpers/sender.js';
import { RoundRobinStrategy } from '../../src/strategy/round-robin.js';

function eventNumbers(frames: readonly string[]): number[] {
  return frames.map(eventNumber);
}

test('Replay - second failure replays in id order', async () => {
  const collectors = await Promise.all([TestCollector.start(), TestCollector.start(), TestCollector.start()]);
  const [first, second, third] = collectors;
  const sender = createSender(
    collectors.map((collector) => `tcp://127.0.0.1:${collector.port}`),
    { strategy: new RoundRobinStrategy({ recordsPerPick: 1 }) },
  );
  try {
    await waitUntil(() => sender.stats().upstreams.every((upstream) => upstream.status === 'up'), 'every upstream is up');
    for (let n = 1; n <= 9; n += 1) sender.send(`E${n}`);
    await waitUntil(() => collectors.every((collector) => collector.frames.length === 3), 'each collector has 3 events');

    // The first collector's window goes to the others after their own, newer events, so the
    // second collector's window is no longer in id order when it fails in turn.
    await first.kill();
    await waitUntil(() => second.frames.length + third.frames.length === 9, 'the first window was replayed');
    await second.kill();
    await waitUntil(() => third.frames.length === 9, 'the second window was replayed');

    const numbers = eventNumbers(third.connections[0].frames);
    assert.deepEqual([...new Set(numbers)].sort((a, b) => a - b), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // One drop back in order per replay that reached this collector, and none inside a replay.
    assert.equal(countDescents(numbers), 2, `arrival order ${numbers.join(', ')}`);
  } finally {
    await sender.close(1_000);
    await Promise.all(collectors.map((collector) => collector.close()));
  }
});

test('Replay - runs replay in id order', async () => {
  const collectors = await Promise.all([TestCollector.start(), TestCollector.start(), TestCollector.start()]);
  const [first, second, third] = collectors;
  const sender = createSender(
    collectors.map((collector) => `tcp://127.0.0.1:${collector.port}`),
    { strategy: new RoundRobinStrategy({ recordsPerPick: 3 }) },
  );
  try {
    await waitUntil(() => sender.stats().upstreams.every((upstream) => upstream.status === 'up'), 'every upstream is up');
    for (let n = 1; n <= 9; n += 1) sender.send(`E${n}`);
    await waitUntil(() => collectors.every((collector) => collector.frames.length === 3), 'each collector has 3 events');
    assert.deepEqual(eventNumbers(first.frames), [1, 2, 3]);
    assert.deepEqual(eventNumbers(second.frames), [4, 5, 6]);
    assert.deepEqual(eventNumbers(third.frames), [7, 8, 9]);

    // The first collector's run is replayed as one run to the second or the third collector.
    // Either way, when the second fails too, the third gets events 1 to 6 in id order.
    await first.kill();
    await waitUntil(() => second.frames.length + third.frames.length === 9, 'the first window was replayed');
    await second.kill();
    await waitUntil(() => third.frames.length === 9, 'the second window was replayed');

    const numbers = eventNumbers(third.connections[0].frames);
    assert.deepEqual(numbers.slice(0, 3), [7, 8, 9]);
    assert.deepEqual(numbers.slice(3), [1, 2, 3, 4, 5, 6]);
  } finally {
    await sender.close(1_000);
    await Promise.all(collectors.map((collector) => collector.close()));
  }
});
