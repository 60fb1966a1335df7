import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TestCollector } from '../helpers/collector.js';
import { createSender, waitUntil } from '../helpers/sender.js';
import { RoundRobinStrategy } from '../../src/strategy/round-robin.js';
import type { QueueRecord } from '../../src/buffer/queue.js';
import type { Strategy, UpstreamView } from '../../src/strategy/strategy.js';

const numberOf = (frame: string) => Number(frame.split(' ').pop());

/** Calls of `select` after which the strategy throws, so that a routing loop that never advances ends. */
const MAX_SELECT_CALLS = 10_000;

/**
 * A custom strategy whose `recordsPerSelect` is a getter that the test changes after the pool
 * checked it. It picks by round robin, one upstream per call.
 */
class ChangingRunStrategy implements Strategy {
  readonly name = 'changing';
  value: unknown = 4;
  selectCalls = 0;
  private readonly inner = new RoundRobinStrategy({ recordsPerPick: 1 });

  get recordsPerSelect(): number {
    return this.value as number;
  }

  select(upstreams: readonly UpstreamView[], record: QueueRecord): UpstreamView | undefined {
    this.selectCalls += 1;
    if (this.selectCalls > MAX_SELECT_CALLS) throw new Error(`select was called more than ${MAX_SELECT_CALLS} times`);
    return this.inner.select(upstreams, record);
  }
}

const invalidValues: Array<[unknown, string]> = [
  [0, '0'],
  [-1, '-1'],
  [1.5, '1.5'],
  [Number.NaN, 'NaN'],
  ['8', '"8"'],
];

for (const [value, shown] of invalidValues) {
  test(`recordsPerSelect changed to ${shown} after start`, async () => {
    const collectors = await Promise.all([TestCollector.start(), TestCollector.start()]);
    const strategy = new ChangingRunStrategy();
    const sender = createSender(
      collectors.map((collector) => `tcp://127.0.0.1:${collector.port}`),
      { strategy },
    );
    const warnings: Error[] = [];
    sender.on('warning', (error) => warnings.push(error));
    try {
      await waitUntil(() => sender.stats().upstreams.every((upstream) => upstream.status === 'up'), 'both collectors are up');

      strategy.value = value;
      const total = 20;
      for (let n = 1; n <= total; n += 1) sender.send(`${n}`);
      await waitUntil(() => warnings.length > 0, 'the sender warned about recordsPerSelect', 3_000);

      // The sender must neither spin on the batch nor lose it: it warns, names the value and
      // keeps every event queued.
      assert.ok(strategy.selectCalls <= total, `select was called ${strategy.selectCalls} times for ${total} events`);
      assert.equal((warnings[0] as { code?: string }).code, 'ERR_SYSLOG_INVALID_OPTION');
      assert.match(warnings[0].message, new RegExp(`^Invalid recordsPerSelect ${shown.replace('.', '\\.')} of strategy "changing": expected a positive integer`));
      assert.equal(collectors[0].frames.length + collectors[1].frames.length, 0, 'no event left while recordsPerSelect was invalid');
      assert.equal(sender.pending, total);

      // Once the value is valid again, every event arrives, in order on each collector.
      strategy.value = 4;
      await waitUntil(
        () => collectors[0].frames.length + collectors[1].frames.length >= total,
        () => `${total} events arrived (received ${collectors[0].frames.length + collectors[1].frames.length})`,
        5_000,
      );
      const received = collectors.flatMap((collector) => collector.frames.map(numberOf)).sort((a, b) => a - b);
      assert.deepEqual(received, Array.from({ length: total }, (_, index) => index + 1));
      for (const collector of collectors) {
        const numbers = collector.frames.map(numberOf);
        assert.deepEqual(numbers, [...numbers].sort((a, b) => a - b), `collector on port ${collector.port} got events out of order`);
      }
    } finally {
      await sender.close(1_000);
      await Promise.all(collectors.map((collector) => collector.close()));
    }
  });
}
