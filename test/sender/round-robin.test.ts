import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TestCollector } from '../helpers/collector.js';
import { createSender, fixtureMessage, waitUntil } from '../helpers/sender.js';
import { InvalidOptionError } from '../../src/errors.js';
import { checkSenderConfig, createSenderFromConfig } from '../../src/integrations/sender-config.js';
import { UpstreamPool } from '../../src/pool/upstream-pool.js';
import { DEFAULT_RECORDS_PER_PICK, RoundRobinStrategy } from '../../src/strategy/round-robin.js';
import type { Strategy } from '../../src/strategy/strategy.js';

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
    { strategy: new RoundRobinStrategy({ recordsPerPick: 1 }) },
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
    { strategy: new RoundRobinStrategy({ recordsPerPick: 1 }) },
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

test('RoundRobin - default runs keep weights', async () => {
  const heavy = await TestCollector.start();
  const light = await TestCollector.start();
  const sender = createSender(
    [{ url: `tcp://127.0.0.1:${heavy.port}`, weight: 3 }, `tcp://127.0.0.1:${light.port}`],
    { strategy: new RoundRobinStrategy() },
  );
  try {
    await waitUntil(() => sender.stats().upstreams.every((upstream) => upstream.status === 'up'), 'both are up');
    const run = DEFAULT_RECORDS_PER_PICK;
    const total = 32 * run;
    for (let n = 1; n <= total; n += 1) sender.send(`${n}`);
    await waitForTotal([heavy, light], total);

    assert.ok(Math.abs(heavy.frames.length - (total * 3) / 4) <= run, `weight 3 got ${heavy.frames.length} of ${total}`);
    assert.ok(Math.abs(light.frames.length - total / 4) <= run, `weight 1 got ${light.frames.length} of ${total}`);
    // Each collector gets whole runs: the records of one pick never end up on two collectors.
    const runOf = (frame: string) => Math.floor((numberOf(frame) - 1) / run);
    const heavyRuns = new Set(heavy.frames.map(runOf));
    const splitRuns = [...new Set(light.frames.map(runOf))].filter((index) => heavyRuns.has(index));
    assert.deepEqual(splitRuns, [], 'runs split between the collectors');
    for (const collector of [heavy, light]) {
      const numbers = collector.frames.map(numberOf);
      assert.deepEqual(numbers, [...numbers].sort((x, y) => x - y), `collector on port ${collector.port} got events out of order`);
    }
  } finally {
    await sender.close(1_000);
    await heavy.close();
    await light.close();
  }
});

test('RoundRobinStrategy - recordsPerPick option', () => {
  assert.equal(new RoundRobinStrategy().recordsPerSelect, DEFAULT_RECORDS_PER_PICK);
  assert.equal(new RoundRobinStrategy({}).recordsPerSelect, DEFAULT_RECORDS_PER_PICK);
  assert.equal(new RoundRobinStrategy({ recordsPerPick: 1 }).recordsPerSelect, 1);
  assert.equal(new RoundRobinStrategy({ recordsPerPick: 500 }).recordsPerSelect, 500);

  const invalid: Array<[unknown, RegExp]> = [
    [0, /^Invalid recordsPerPick 0: expected a positive integer/],
    [-4, /^Invalid recordsPerPick -4: /],
    [2.5, /^Invalid recordsPerPick 2\.5: /],
    [Number.NaN, /^Invalid recordsPerPick NaN: /],
    [Number.POSITIVE_INFINITY, /^Invalid recordsPerPick Infinity: /],
    [2 ** 53, /^Invalid recordsPerPick 9007199254740992: /],
    ['64', /^Invalid recordsPerPick "64": /],
  ];
  for (const [value, message] of invalid) {
    assert.throws(
      () => new RoundRobinStrategy({ recordsPerPick: value as number }),
      (error: unknown) => error instanceof InvalidOptionError && message.test(error.message),
      `recordsPerPick ${String(value)}`,
    );
  }
  assert.throws(() => new RoundRobinStrategy({ recordsPerPick: 0 }), /or 1 to pick an upstream for every record/);
  assert.throws(() => new RoundRobinStrategy(null as never), /^InvalidOptionError: Invalid RoundRobinStrategy options null: expected an object or nothing/);
});

test('UpstreamPool - rejects invalid recordsPerSelect', () => {
  const strategyWith = (recordsPerSelect: unknown): Strategy =>
    ({ name: 'custom', recordsPerSelect, select: () => undefined }) as unknown as Strategy;
  for (const value of [0, 1.5, -1, Number.NaN, '8']) {
    assert.throws(
      () => new UpstreamPool(['tcp://127.0.0.1:1'], { strategy: strategyWith(value) }),
      (error: unknown) => error instanceof InvalidOptionError && /^Invalid recordsPerSelect .* of strategy "custom": expected a positive integer/.test(error.message),
      `recordsPerSelect ${String(value)}`,
    );
  }
  assert.doesNotThrow(() => new UpstreamPool(['tcp://127.0.0.1:1'], { strategy: strategyWith(undefined) }));
  assert.doesNotThrow(() => new UpstreamPool(['tcp://127.0.0.1:1'], { strategy: strategyWith(16) }));
});

test('SenderConfig - recordsPerPick for round robin', async () => {
  assert.throws(
    () => checkSenderConfig({ upstreams: ['tcp://127.0.0.1:514'], recordsPerPick: 8 }),
    /^InvalidOptionError: Invalid recordsPerPick: it applies to the round-robin strategy only/,
  );
  assert.throws(
    () => checkSenderConfig({ upstreams: ['tcp://127.0.0.1:514'], strategy: 'failover', recordsPerPick: 8 }),
    /^InvalidOptionError: Invalid recordsPerPick: it applies to the round-robin strategy only/,
  );
  assert.doesNotThrow(() => checkSenderConfig({ upstreams: ['tcp://127.0.0.1:514'], strategy: 'round-robin', recordsPerPick: 8 }));
  assert.throws(
    () => createSenderFromConfig({ upstreams: ['tcp://127.0.0.1:514'], strategy: 'round-robin', recordsPerPick: 0 }),
    /^InvalidOptionError: Invalid recordsPerPick 0: expected a positive integer/,
  );

  const collector = await TestCollector.start();
  const sender = createSenderFromConfig({ upstreams: [`tcp://127.0.0.1:${collector.port}`], strategy: 'round-robin', recordsPerPick: 8 });
  try {
    assert.equal(sender.pool.strategy.recordsPerSelect, 8);
  } finally {
    await sender.close(1_000);
    await collector.close();
  }
});
