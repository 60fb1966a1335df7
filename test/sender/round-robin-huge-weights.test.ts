import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TestCollector } from '../helpers/collector.js';
import { createSender, waitUntil } from '../helpers/sender.js';
import { InvalidOptionError } from '../../src/errors.js';
import { UpstreamPool } from '../../src/pool/upstream-pool.js';
import { RoundRobinStrategy } from '../../src/strategy/round-robin.js';

const numberOf = (frame: string) => Number(frame.split(' ').pop());

test('UpstreamPool - rejects weights above 2^53 - 1', () => {
  // Two weights of 1e308 add up to Infinity, and the running scores of the rotation then become
  // NaN: every later pick returned no upstream, and events waited forever.
  const invalid: Array<[number, string]> = [
    [1e308, '1e+308'],
    [2 ** 53, '9007199254740992'],
    [Number.NaN, 'NaN'],
  ];
  for (const [weight, shown] of invalid) {
    assert.throws(
      () =>
        new UpstreamPool(
          [
            { url: 'tcp://127.0.0.1:1', weight },
            { url: 'tcp://127.0.0.1:2', weight },
          ],
          { strategy: new RoundRobinStrategy() },
        ),
      (error: unknown) =>
        error instanceof InvalidOptionError &&
        error.message === `Invalid upstreams[0].weight ${shown}: expected a positive integer up to ${Number.MAX_SAFE_INTEGER}`,
      `weight ${shown}`,
    );
  }
});

test('RoundRobin - largest weights keep delivering', async () => {
  const collectors = await Promise.all([TestCollector.start(), TestCollector.start(), TestCollector.start()]);
  const weights = [Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, 1];
  const sender = createSender(
    collectors.map((collector, index) => ({ url: `tcp://127.0.0.1:${collector.port}`, weight: weights[index] })),
    { strategy: new RoundRobinStrategy({ recordsPerPick: 1 }) },
  );
  try {
    await waitUntil(() => sender.stats().upstreams.every((upstream) => upstream.status === 'up'), 'every collector is up');
    const total = 100;
    for (let n = 1; n <= total; n += 1) sender.send(`${n}`);
    await waitUntil(
      () => collectors.reduce((sum, collector) => sum + collector.frames.length, 0) >= total,
      () => `${total} events arrived (received ${collectors.map((collector) => collector.frames.length).join(' + ')})`,
      5_000,
    );

    const received = collectors.flatMap((collector) => collector.frames.map(numberOf)).sort((a, b) => a - b);
    assert.deepEqual(received, Array.from({ length: total }, (_, index) => index + 1));
    assert.equal(collectors[0].frames.length, total / 2);
    assert.equal(collectors[1].frames.length, total / 2);
  } finally {
    await sender.close(1_000);
    await Promise.all(collectors.map((collector) => collector.close()));
  }
});
