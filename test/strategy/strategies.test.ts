import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FailoverStrategy } from '../../src/strategy/failover.js';
import { RoundRobinStrategy } from '../../src/strategy/round-robin.js';
import type { UpstreamView } from '../../src/strategy/strategy.js';
import type { QueueRecord } from '../../src/buffer/queue.js';

const record: QueueRecord = { id: 1, payload: 'x', bytes: 1 };

function view(index: number, fields: Partial<UpstreamView> = {}): UpstreamView {
  return { index, target: `tcp://u${index}:514`, weight: 1, backup: false, status: 'up', failures: 0, probesPassed: 1, pending: 0, ...fields };
}

test('FailoverStrategy - picks by priority and probation', () => {
  const strategy = new FailoverStrategy({ failbackProbes: 3 });
  const cases: Array<[string, UpstreamView[], number | undefined]> = [
    ['all up: the first', [view(0), view(1), view(2)], 0],
    ['first down: the second', [view(0, { status: 'down' }), view(1), view(2)], 1],
    ['backup after primaries', [view(0, { backup: true }), view(1, { status: 'down' }), view(2)], 2],
    ['only the backup is up', [view(0, { status: 'down' }), view(1, { backup: true })], 1],
    ['recovered primary on probation', [view(0, { failures: 1, probesPassed: 2 }), view(1)], 1],
    ['recovered primary passed probes', [view(0, { failures: 1, probesPassed: 3 }), view(1)], 0],
    ['only a primary on probation', [view(0, { failures: 1, probesPassed: 1 }), view(1, { status: 'down' })], 0],
    ['connecting counts as not up', [view(0, { status: 'connecting' }), view(1)], 1],
    ['nothing up', [view(0, { status: 'down' }), view(1, { status: 'closed' })], undefined],
  ];
  for (const [name, upstreams, expected] of cases) {
    assert.equal(strategy.select(upstreams, record)?.index, expected, name);
  }
});

test('FailoverStrategy - rejects bad failbackProbes', () => {
  assert.throws(() => new FailoverStrategy({ failbackProbes: 0 }), /Invalid failbackProbes 0/);
});

test('RoundRobinStrategy - smooth weighted order', () => {
  const cases: Array<[string, UpstreamView[], number, Array<number | undefined>]> = [
    ['equal weights', [view(0), view(1), view(2)], 6, [0, 1, 2, 0, 1, 2]],
    ['weights 5,1,1 spread', [view(0, { weight: 5 }), view(1), view(2)], 7, [0, 0, 1, 0, 2, 0, 0]],
    ['dead one skipped', [view(0), view(1, { status: 'down' }), view(2)], 4, [0, 2, 0, 2]],
    ['backups only when primaries down', [view(0, { status: 'down' }), view(1, { backup: true }), view(2, { backup: true })], 4, [1, 2, 1, 2]],
    ['backups idle while a primary is up', [view(0), view(1, { backup: true })], 3, [0, 0, 0]],
    ['busy one skipped', [view(0), view(1, { writable: false }), view(2)], 4, [0, 2, 0, 2]],
    ['all busy: wait', [view(0, { writable: false }), view(1, { writable: false })], 2, [undefined, undefined]],
  ];
  for (const [name, upstreams, picks, expected] of cases) {
    const strategy = new RoundRobinStrategy();
    const order = Array.from({ length: picks }, () => strategy.select(upstreams, record)?.index);
    assert.deepEqual(order, expected, name);
  }
});
