import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { QueueRecord } from '../../src/buffer/queue.js';
import { FailoverStrategy } from '../../src/strategy/failover.js';
import { RoundRobinStrategy, DEFAULT_RECORDS_PER_PICK } from '../../src/strategy/round-robin.js';
import type { UpstreamView } from '../../src/strategy/strategy.js';
import { TestCollector } from '../helpers/collector.js';
import { assertEventsInOrder, countDescents, eventNumber } from '../helpers/event-numbers.js';
import { createSender, waitUntil } from '../helpers/sender.js';

// These tests queue a backlog that takes many turns of the event loop to write, so the
// collectors read, fail and reconnect between the slices of one drain.

/** Room for the whole backlog in the memory queue, whose default maximum is 100,000 events. */
const ROOMY_QUEUE = { maxQueueRecords: 1_000_000, maxQueueBytes: 1024 * 1024 * 1024 };

/** Returns the number of the last event that `collector` received on its newest connection, or 0. */
function lastNumber(collector: TestCollector): number {
  const frame = collector.connections.at(-1)?.frames.at(-1);
  return frame === undefined ? 0 : eventNumber(frame);
}

/** Returns the numbers from 1 to `total` that none of `received` contains. */
function missingNumbers(received: readonly number[][], total: number): number[] {
  const seen = new Uint8Array(total + 1);
  for (const numbers of received) for (const number of numbers) seen[number] = 1;
  const missing: number[] = [];
  for (let number = 1; number <= total; number += 1) if (seen[number] === 0) missing.push(number);
  return missing;
}

function sendEvents(sender: ReturnType<typeof createSender>, total: number): void {
  for (let number = 1; number <= total; number += 1) sender.send(`E${number}`);
}

test('Drain slice - primary dies mid-drain', async () => {
  const primary = await TestCollector.start();
  const backup = await TestCollector.start();
  const sender = createSender(
    [`tcp://127.0.0.1:${primary.port}`, { url: `tcp://127.0.0.1:${backup.port}`, backup: true }],
    { strategy: new FailoverStrategy() },
    ROOMY_QUEUE,
  );
  try {
    await waitUntil(() => sender.stats().upstreams.every((upstream) => upstream.status === 'up'), 'both collectors are up');
    const total = 100_000;
    let primaryFrames = 0;
    let sentAtKill = -1;
    primary.onFrame = () => {
      primaryFrames += 1;
      if (primaryFrames === 10_000) {
        sentAtKill = sender.stats().sent;
        void primary.kill();
      }
    };
    sendEvents(sender, total);

    await waitUntil(() => sentAtKill >= 0, 'the primary read 10,000 events');
    assert.ok(sentAtKill < total, `all ${total} events were written before the primary died`);
    await sender.flush(5_000);
    await waitUntil(() => lastNumber(backup) === total, 'the last event reached the backup', 5_000);

    const primaryNumbers = primary.frames.map(eventNumber);
    const backupNumbers = backup.frames.map(eventNumber);
    assert.deepEqual(missingNumbers([primaryNumbers, backupNumbers], total), []);
    // The killed connection's replay window leaves first, sorted by id, and the rest of the queue follows.
    assert.equal(countDescents(backupNumbers), 0, 'the backup got events out of order');
    assert.equal(new Set(backupNumbers).size, backupNumbers.length, 'the backup got an event twice');
  } finally {
    await sender.close(1_000);
    await primary.close();
    await backup.close();
  }
});

/** Round robin that routes nothing while `paused` is true, so a backlog builds while both collectors are up. */
class HeldRoundRobin extends RoundRobinStrategy {
  paused = true;

  override select(upstreams: readonly UpstreamView[], record: QueueRecord): UpstreamView | undefined {
    return this.paused ? undefined : super.select(upstreams, record);
  }
}

test('Drain slice - round robin keeps weights across turns', async () => {
  const heavy = await TestCollector.start();
  const light = await TestCollector.start();
  const strategy = new HeldRoundRobin();
  const sender = createSender(
    [{ url: `tcp://127.0.0.1:${heavy.port}`, weight: 3 }, `tcp://127.0.0.1:${light.port}`],
    { strategy },
    ROOMY_QUEUE,
  );
  try {
    await waitUntil(() => sender.stats().upstreams.every((upstream) => upstream.status === 'up'), 'both collectors are up');
    const total = 100_000;
    sendEvents(sender, total - 1);
    // Turns that find no upstream leave the events waiting. The last send starts the drain.
    await nextTurn();
    await nextTurn();
    assert.equal(sender.stats().sent, 0);
    strategy.paused = false;
    sender.send(`E${total}`);

    // A drain that stops for good would leave this loop at the turn limit.
    let turns = 0;
    while (sender.stats().sent < total && turns < 100_000) {
      await nextTurn();
      turns += 1;
    }
    assert.equal(sender.stats().sent, total, `${sender.stats().sent} of ${total} events were written in ${turns} turns`);
    assert.ok(turns >= 2, `the backlog was written in ${turns} turn`);

    await sender.flush(5_000);
    await waitUntil(() => heavy.frames.length + light.frames.length >= total, 'every event arrived', 5_000);
    const heavyNumbers = heavy.frames.map(eventNumber);
    const lightNumbers = light.frames.map(eventNumber);
    assert.equal(heavyNumbers.length + lightNumbers.length, total);
    assert.deepEqual(missingNumbers([heavyNumbers, lightNumbers], total), []);
    assert.equal(countDescents(heavyNumbers), 0, 'the weight 3 collector got events out of order');
    assert.equal(countDescents(lightNumbers), 0, 'the weight 1 collector got events out of order');
    // Picks keep the 3:1 ratio to within a run each. A collector with a full socket buffer sits
    // picks out, so the bound leaves room for a few skipped picks.
    const tolerance = 16 * DEFAULT_RECORDS_PER_PICK;
    assert.ok(Math.abs(heavyNumbers.length - (total * 3) / 4) <= tolerance, `weight 3 got ${heavyNumbers.length} of ${total}`);
  } finally {
    await sender.close(1_000);
    await heavy.close();
    await light.close();
  }
});

/** Failover that throws once, at its `failAt`-th select, and stores what `countSent` returned then. */
class FailoverThatThrowsOnce extends FailoverStrategy {
  selects = 0;
  sentAtThrow = -1;
  countSent: () => number = () => 0;

  constructor(private readonly failAt: number) {
    super();
  }

  override select(upstreams: readonly UpstreamView[], record: QueueRecord): UpstreamView | undefined {
    this.selects += 1;
    if (this.selects === this.failAt) {
      this.sentAtThrow = this.countSent();
      throw new Error('select failed on purpose');
    }
    return super.select(upstreams, record);
  }
}

test('Drain slice - strategy throws mid-drain', async () => {
  const collector = await TestCollector.start();
  // An exclusive strategy selects once per batch of 1,024 events, so the tenth select is mid-drain.
  const strategy = new FailoverThatThrowsOnce(10);
  const sender = createSender([`tcp://127.0.0.1:${collector.port}`], { strategy }, ROOMY_QUEUE);
  strategy.countSent = () => sender.stats().sent;
  const warnings: Error[] = [];
  sender.on('warning', (error) => warnings.push(error));
  try {
    await waitUntil(() => sender.stats().upstreams[0].status === 'up', 'the collector is up');
    const total = 50_000;
    sendEvents(sender, total);

    await sender.flush(5_000);
    await collector.waitForFrames(total, 5_000);
    assert.ok(strategy.sentAtThrow > 0, `the strategy threw after ${strategy.sentAtThrow} events`);
    assert.ok(strategy.sentAtThrow < total, `the strategy threw after all ${total} events were written`);
    assert.equal(warnings.length, 1);
    assert.equal((warnings[0] as { code?: string }).code, 'ERR_SYSLOG_STRATEGY');
    assertEventsInOrder(collector.frames, total);
  } finally {
    await sender.close(1_000);
    await collector.close();
  }
});
