import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TestCollector } from '../helpers/collector.js';
import { createSender, fixtureMessage, waitUntil } from '../helpers/sender.js';
import { RoundRobinStrategy } from '../../src/strategy/round-robin.js';

const numberOf = (frame: string) => Number(frame.split(' ').pop());

/** Waits until the collectors together parsed `count` frames: flush() returns once bytes reach the kernel, not the collector. */
async function waitForTotal(collectors: TestCollector[], count: number): Promise<void> {
  await waitUntil(() => collectors.reduce((sum, collector) => sum + collector.frames.length, 0) >= count, `${count} frames arrived`);
}

test('RoundRobin - spreads events and skips dead collector', async () => {
  const collectors = await Promise.all([TestCollector.start(), TestCollector.start(), TestCollector.start()]);
  const [a, b, c] = collectors;
  const sender = createSender(
    collectors.map((collector) => `tcp://127.0.0.1:${collector.port}`),
    { strategy: new RoundRobinStrategy() },
  );
  try {
    await waitUntil(() => sender.stats().upstreams.every((upstream) => upstream.status === 'up'), 'all are up');
    for (let n = 1; n <= 9; n += 1) sender.send(`${n}`);
    await waitForTotal(collectors, 9);
    assert.deepEqual(a.frames.map(numberOf), [1, 4, 7]);
    assert.deepEqual(b.frames.map(numberOf), [2, 5, 8]);
    assert.deepEqual(c.frames.map(numberOf), [3, 6, 9]);

    const port = b.port;
    await b.kill();
    await waitUntil(() => sender.stats().upstreams[1].status === 'down', 'B is down');
    for (let n = 10; n <= 18; n += 1) sender.send(`${n}`);
    await waitForTotal([a, c], 18 - 3);
    const after = [...a.frames, ...c.frames].map(numberOf).filter((n) => n >= 10).sort((x, y) => x - y);
    assert.deepEqual(after, [10, 11, 12, 13, 14, 15, 16, 17, 18]);
    assert.ok(Math.abs(a.frames.length - c.frames.length) <= 1, `A has ${a.frames.length}, C has ${c.frames.length}`);

    // B rejoins after it is reachable again.
    await b.listen(port);
    await waitUntil(() => sender.stats().upstreams[1].status === 'up', 'B is up again');
    const before = b.frames.length;
    for (let n = 19; n <= 27; n += 1) sender.send(`${n}`);
    await waitForTotal(collectors, 27);
    assert.equal(b.frames.length - before, 3);
    assert.ok(b.frames.includes(fixtureMessage('19')) || b.frames.includes(fixtureMessage('20')) || b.frames.includes(fixtureMessage('21')));
  } finally {
    await sender.close(1_000);
    await Promise.all(collectors.map((collector) => collector.close()));
  }
});

test('RoundRobin - honours weights', async () => {
  const heavy = await TestCollector.start();
  const light = await TestCollector.start();
  const sender = createSender(
    [{ url: `tcp://127.0.0.1:${heavy.port}`, weight: 3 }, `tcp://127.0.0.1:${light.port}`],
    { strategy: new RoundRobinStrategy() },
  );
  try {
    await waitUntil(() => sender.stats().upstreams.every((upstream) => upstream.status === 'up'), 'both are up');
    for (let n = 1; n <= 400; n += 1) sender.send(`${n}`);
    await waitForTotal([heavy, light], 400);
    assert.equal(heavy.frames.length, 300);
    assert.equal(light.frames.length, 100);
  } finally {
    await sender.close(1_000);
    await heavy.close();
    await light.close();
  }
});
