import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { QueueRecord } from '../../src/buffer/queue.js';
import type { Strategy, UpstreamView } from '../../src/strategy/strategy.js';
import { TestCollector } from '../helpers/collector.js';
import { createSender, waitUntil } from '../helpers/sender.js';

// The two example strategies of docs/round-robin-strategy.md, copied without changes so that the
// page's examples are tested. Keep both copies in step.
class LeastPendingStrategy implements Strategy {
  readonly name = 'least-pending';
  private readonly picks = new Map<number, number>();

  select(upstreams: readonly UpstreamView[], _record: QueueRecord): UpstreamView | undefined {
    if (this.picks.size === 0) setImmediate(() => this.picks.clear());
    const primaryUp = upstreams.some((upstream) => upstream.status === 'up' && !upstream.backup);
    let best: UpstreamView | undefined;
    let bestLoad = Number.POSITIVE_INFINITY;
    for (const upstream of upstreams) {
      if (upstream.status !== 'up' || (primaryUp && upstream.backup)) continue;
      const load = upstream.pending + (this.picks.get(upstream.index) ?? 0);
      if (load < bestLoad) {
        best = upstream;
        bestLoad = load;
      }
    }
    if (best !== undefined) this.picks.set(best.index, (this.picks.get(best.index) ?? 0) + 1);
    return best;
  }
}

class HashByKeyStrategy implements Strategy {
  readonly name = 'hash-by-key';

  constructor(private readonly keyOf: (record: QueueRecord) => string = appName) {}

  select(upstreams: readonly UpstreamView[], record: QueueRecord): UpstreamView | undefined {
    const key = this.keyOf(record);
    let best: UpstreamView | undefined;
    let bestScore = -1;
    for (const upstream of upstreams) {
      if (upstream.status !== 'up') continue;
      const score = fnv1a(`${key}\u0000${upstream.target}`);
      if (score > bestScore) {
        best = upstream;
        bestScore = score;
      }
    }
    return best;
  }
}

/** APP-NAME of an RFC 5424 message: `<PRI>1 TIMESTAMP HOSTNAME APP-NAME ...`. */
function appName(record: QueueRecord): string {
  return record.payload.split(' ', 4)[3] ?? '';
}

/** 32-bit FNV-1a hash of the UTF-16 code units. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index += 1) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

function view(index: number, fields: Partial<UpstreamView> = {}): UpstreamView {
  return { index, target: `tcp://127.0.0.1:${5140 + index}`, weight: 1, backup: false, status: 'up', failures: 0, probesPassed: 1, pending: 0, ...fields };
}

function recordOf(appName: string, id = 1): QueueRecord {
  const payload = `<14>1 2024-03-07T09:05:03.000Z host1 ${appName} 4242 - - hello`;
  return { id, payload, bytes: Buffer.byteLength(payload) };
}

test('LeastPendingStrategy - picks fewest pending within a batch', () => {
  const strategy = new LeastPendingStrategy();
  const upstreams = [view(0, { pending: 2 }), view(1), view(2, { pending: 1 })];
  const picks = Array.from({ length: 6 }, (_, id) => strategy.select(upstreams, recordOf('a', id))?.index);
  assert.deepEqual(picks, [1, 1, 2, 0, 1, 2]);
});

test('LeastPendingStrategy - uses backups only without primaries', () => {
  const strategy = new LeastPendingStrategy();
  assert.equal(strategy.select([view(0, { pending: 9 }), view(1, { backup: true })], recordOf('a'))?.index, 0);
  assert.equal(strategy.select([view(0, { status: 'down' }), view(1, { backup: true })], recordOf('a'))?.index, 1);
  assert.equal(strategy.select([view(0, { status: 'down' }), view(1, { status: 'connecting' })], recordOf('a')), undefined);
});

test('HashByKeyStrategy - moves only the keys of a down upstream', () => {
  const strategy = new HashByKeyStrategy();
  const keys = Array.from({ length: 200 }, (_, index) => `app${index}`);
  const all = [view(0), view(1), view(2)];
  const before = new Map(keys.map((key) => [key, strategy.select(all, recordOf(key))?.index]));
  const counts = [0, 1, 2].map((index) => keys.filter((key) => before.get(key) === index).length);
  for (const count of counts) assert.ok(count > 30, `uneven split ${counts.join('/')}`);

  const withoutOne = [view(0), view(1, { status: 'down' }), view(2)];
  for (const key of keys) {
    const after = strategy.select(withoutOne, recordOf(key))?.index;
    if (before.get(key) === 1) assert.notEqual(after, 1, `${key} stayed on the down upstream`);
    else assert.equal(after, before.get(key), `${key} moved although its upstream is up`);
  }
  assert.equal(strategy.select([view(0, { status: 'down' })], recordOf('x')), undefined);
});

test('LeastPendingStrategy - spreads evenly over real collectors', async () => {
  const collectors = await Promise.all([TestCollector.start(), TestCollector.start(), TestCollector.start()]);
  const sender = createSender(collectors.map((collector) => `tcp://127.0.0.1:${collector.port}`), { strategy: new LeastPendingStrategy() });
  try {
    await waitUntil(() => sender.stats().upstreams.every((upstream) => upstream.status === 'up'), 'all three are up');
    for (let n = 1; n <= 300; n += 1) sender.send(`${n}`);
    await Promise.all(collectors.map((collector) => collector.waitForFrames(100)));
    assert.deepEqual(collectors.map((collector) => collector.frames.length), [100, 100, 100]);
  } finally {
    await sender.close(1_000);
    await Promise.all(collectors.map((collector) => collector.close()));
  }
});

test('HashByKeyStrategy - keeps each app on one collector', async () => {
  const collectors = await Promise.all([TestCollector.start(), TestCollector.start(), TestCollector.start()]);
  const strategy: Strategy = new HashByKeyStrategy();
  const sender = createSender(collectors.map((collector) => `tcp://127.0.0.1:${collector.port}`), { strategy });
  try {
    await waitUntil(() => sender.stats().upstreams.every((upstream) => upstream.status === 'up'), 'all three are up');
    for (let n = 0; n < 300; n += 1) sender.send({ appName: `app${n % 20}`, message: `${n}` });
    await waitUntil(() => collectors.reduce((sum, collector) => sum + collector.frames.length, 0) === 300, 'all 300 arrived');
    const homes = new Map<string, number>();
    collectors.forEach((collector, index) => {
      for (const frame of collector.frames) {
        const app = frame.split(' ')[3];
        assert.equal(homes.get(app) ?? index, index, `${app} reached two collectors`);
        homes.set(app, index);
      }
    });
    assert.equal(homes.size, 20);
  } finally {
    await sender.close(1_000);
    await Promise.all(collectors.map((collector) => collector.close()));
  }
});
