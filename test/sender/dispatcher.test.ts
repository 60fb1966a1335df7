import { test } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import assert from 'node:assert/strict';
import { EventEmitter } from 'eventemitter3';
import { MemoryQueue } from '../../src/buffer/memory-queue.js';
import type { QueueRecord } from '../../src/buffer/queue.js';
import { UpstreamPool } from '../../src/pool/upstream-pool.js';
import { Dispatcher } from '../../src/sender/dispatcher.js';
import { DEFAULT_RECORDS_PER_PICK, RoundRobinStrategy } from '../../src/strategy/round-robin.js';
import type { Strategy, UpstreamView } from '../../src/strategy/strategy.js';
import type { Connection, ConnectionEvents } from '../../src/transport/connection.js';
import type { ConnectOptions } from '../../src/transport/options.js';
import { waitUntil } from '../helpers/sender.js';

/** A connection that records every write and whose `writable` flag the test sets. */
class RecordingConnection extends EventEmitter<ConnectionEvents> implements Connection {
  readonly writes: QueueRecord[][] = [];
  writable = true;
  readonly unconfirmed = 0;
  readonly settled = true;
  closed = false;

  constructor(readonly target: string) {
    super();
  }

  write(records: readonly QueueRecord[]): void {
    this.writes.push([...records]);
  }

  async end(): Promise<void> {
    this.closed = true;
  }

  destroy(): void {
    this.closed = true;
  }

  get ids(): number[] {
    return this.writes.flat().map((record) => record.id);
  }
}

/** Sends record n to upstream (n - 1) mod count whether or not that upstream is writable, unlike RoundRobinStrategy. */
const moduloStrategy: Strategy = {
  name: 'modulo',
  select: (upstreams, record) => upstreams[(record.id - 1) % upstreams.length],
};

async function startPool(
  targets: number,
  strategy?: Strategy,
  weights: readonly number[] = [],
): Promise<{ pool: UpstreamPool; connections: RecordingConnection[] }> {
  const connections: RecordingConnection[] = [];
  const connect = async (options: ConnectOptions) => {
    const connection = new RecordingConnection(options.target);
    connections[Number(options.port) - 1] = connection;
    return connection;
  };
  const urls = Array.from({ length: targets }, (_, index) => ({ url: `tcp://127.0.0.1:${index + 1}`, weight: weights[index] ?? 1 }));
  const pool = new UpstreamPool(urls, {
    ...(strategy ? { strategy } : {}),
    connectors: { tcp: connect },
  });
  pool.start();
  await waitUntil(() => pool.upstreams.every((upstream) => upstream.status === 'up'), 'every upstream is up');
  return { pool, connections };
}

function fill(queue: MemoryQueue, count: number): void {
  for (let index = 0; index < count; index += 1) queue.push(`event ${index + 1}`, 8);
}

const noSwitch = { onSwitch: () => {}, onStrategyError: () => {} };

test('Dispatcher - one upstream gets whole batches in order', async () => {
  const { pool, connections } = await startPool(1);
  try {
    const queue = new MemoryQueue();
    const dispatcher = new Dispatcher(queue, pool, 4, 1024, noSwitch);
    fill(queue, 10);
    dispatcher.pump();

    const [connection] = connections;
    assert.deepEqual(connection.writes.map((batch) => batch.length), [4, 4, 2]);
    assert.deepEqual(connection.ids, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.equal(dispatcher.counters.sent, 10);
  } finally {
    await pool.close(100);
  }
});

test('Dispatcher - a long backlog leaves over many turns of the event loop', async () => {
  const { pool, connections } = await startPool(1);
  try {
    // The connection takes every write at once, like a collector on loopback that reads as fast
    // as the sender writes. Without a limit per turn, the first pump would write all of it.
    const total = 500_000;
    const queue = new MemoryQueue({ maxRecords: total });
    const dispatcher = new Dispatcher(queue, pool, 1024, 256 * 1024, noSwitch);
    fill(queue, total);
    dispatcher.pump();
    const firstTurn = dispatcher.counters.sent;
    assert.ok(firstTurn > 0, 'the first turn wrote no record');
    assert.ok(firstTurn < total, `the first turn wrote all ${total} records`);

    let turns = 0;
    let done = false;
    const counting = (async () => {
      while (!done) {
        await nextTurn();
        turns += 1;
      }
    })();
    await waitUntil(() => dispatcher.counters.sent === total, () => `${dispatcher.counters.sent} of ${total} records were written`);
    done = true;
    await counting;
    assert.ok(turns >= 2, `the backlog left in ${turns + 1} turns`);
    assert.deepEqual(connections[0].ids, idRange(1, total), 'records leave once each, in order');
  } finally {
    await pool.close(100);
  }
});

/** Returns the ids from `first` to `last`. */
function idRange(first: number, last: number): number[] {
  return Array.from({ length: last - first + 1 }, (_, index) => first + index);
}

/** Splits sorted ids into runs of consecutive ids, as [first, last] pairs. */
function runsOf(ids: readonly number[]): Array<[number, number]> {
  const runs: Array<[number, number]> = [];
  for (const id of ids) {
    const last = runs[runs.length - 1];
    if (last !== undefined && last[1] === id - 1) last[1] = id;
    else runs.push([id, id]);
  }
  return runs;
}

test('Dispatcher - round robin splits batches into runs', async () => {
  const { pool, connections } = await startPool(3, new RoundRobinStrategy());
  try {
    const run = DEFAULT_RECORDS_PER_PICK;
    const queue = new MemoryQueue();
    const dispatcher = new Dispatcher(queue, pool, 6 * run, 1024 * 1024, noSwitch);
    fill(queue, 6 * run);
    dispatcher.pump();

    // Picks go to the upstreams in turn, a run of `run` records each, and every upstream gets
    // its two runs of the batch in one write.
    assert.deepEqual(connections[0].ids, [...idRange(1, run), ...idRange(3 * run + 1, 4 * run)]);
    assert.deepEqual(connections[1].ids, [...idRange(run + 1, 2 * run), ...idRange(4 * run + 1, 5 * run)]);
    assert.deepEqual(connections[2].ids, [...idRange(2 * run + 1, 3 * run), ...idRange(5 * run + 1, 6 * run)]);
    for (const connection of connections) {
      assert.deepEqual(connection.writes.map((write) => write.length), [2 * run], `writes to ${connection.target}`);
    }
    assert.equal(dispatcher.counters.sent, 6 * run);
  } finally {
    await pool.close(100);
  }
});

test('Dispatcher - round robin per record with recordsPerPick 1', async () => {
  const { pool, connections } = await startPool(3, new RoundRobinStrategy({ recordsPerPick: 1 }));
  try {
    const queue = new MemoryQueue();
    const dispatcher = new Dispatcher(queue, pool, 6, 1024, noSwitch);
    fill(queue, 12);
    dispatcher.pump();

    assert.deepEqual(connections[0].ids, [1, 4, 7, 10]);
    assert.deepEqual(connections[1].ids, [2, 5, 8, 11]);
    assert.deepEqual(connections[2].ids, [3, 6, 9, 12]);
    assert.equal(dispatcher.counters.sent, 12);
  } finally {
    await pool.close(100);
  }
});

test('Dispatcher - weighted runs keep the weight shares', async () => {
  const run = 16;
  const { pool, connections } = await startPool(2, new RoundRobinStrategy({ recordsPerPick: run }), [3, 1]);
  try {
    const total = 1000;
    const queue = new MemoryQueue();
    // 100 records per batch make 7 picks, with runs of 14 or 15 records instead of six of 16 and one of 4.
    const dispatcher = new Dispatcher(queue, pool, 100, 1024 * 1024, noSwitch);
    fill(queue, total);
    dispatcher.pump();

    const [heavy, light] = connections;
    assert.equal(heavy.ids.length + light.ids.length, total);
    assert.ok(Math.abs(heavy.ids.length - (total * 3) / 4) <= run, `weight 3 got ${heavy.ids.length} of ${total}`);
    assert.ok(Math.abs(light.ids.length - total / 4) <= run, `weight 1 got ${light.ids.length} of ${total}`);

    // Every run starts where a pick starts: record floor(k * 100 / 7) of a batch, for k from 0 to 6.
    const pickStarts = new Set(Array.from({ length: 7 }, (_, pick) => Math.floor((pick * 100) / 7)));
    for (const connection of connections) {
      assert.deepEqual(connection.ids, [...connection.ids].sort((a, b) => a - b), `${connection.target} got records out of order`);
      for (const [first, last] of runsOf(connection.ids)) {
        assert.ok(pickStarts.has((first - 1) % 100), `${connection.target} has a run ${first}-${last} that starts inside a pick`);
      }
    }
    // With weights 3 and 1 the light upstream never gets two picks in a row, so its runs are at most one pick long.
    for (const [first, last] of runsOf(light.ids)) {
      assert.ok(last - first + 1 <= run, `the weight 1 upstream got ${first}-${last}, longer than one pick`);
    }
  } finally {
    await pool.close(100);
  }
});

test('Dispatcher - batch shorter than a run goes whole', async () => {
  const { pool, connections } = await startPool(3, new RoundRobinStrategy({ recordsPerPick: 8 }));
  try {
    const queue = new MemoryQueue();
    const dispatcher = new Dispatcher(queue, pool, 5, 1024, noSwitch);
    fill(queue, 12);
    dispatcher.pump();

    // Each batch of at most 5 records is one pick, so the upstreams take whole batches in turn.
    assert.deepEqual(connections[0].writes.map((write) => write.map((record) => record.id)), [[1, 2, 3, 4, 5]]);
    assert.deepEqual(connections[1].writes.map((write) => write.map((record) => record.id)), [[6, 7, 8, 9, 10]]);
    assert.deepEqual(connections[2].writes.map((write) => write.map((record) => record.id)), [[11, 12]]);
    assert.equal(dispatcher.counters.sent, 12);
  } finally {
    await pool.close(100);
  }
});

test('Dispatcher - stops at an upstream that is not writable', async () => {
  const { pool, connections } = await startPool(3, moduloStrategy);
  try {
    const queue = new MemoryQueue();
    const dispatcher = new Dispatcher(queue, pool, 6, 1024, noSwitch);
    connections[1].writable = false;
    fill(queue, 6);
    dispatcher.pump();

    // Record 2 is due on the second upstream, so only record 1 leaves; 2 to 6 wait in order.
    assert.deepEqual(connections[0].ids, [1]);
    assert.deepEqual(connections[1].ids, []);
    assert.deepEqual(connections[2].ids, []);
    assert.equal(dispatcher.counters.sent, 1);

    connections[1].writable = true;
    dispatcher.pump();
    const delivered = connections.flatMap((connection) => connection.ids).sort((a, b) => a - b);
    assert.deepEqual(delivered, [1, 2, 3, 4, 5, 6]);
    for (const connection of connections) {
      assert.deepEqual(connection.ids, [...connection.ids].sort((a, b) => a - b), `${connection.target} got records out of order`);
    }
  } finally {
    await pool.close(100);
  }
});

/**
 * Sends run k (records 4k + 1 to 4k + 4) to upstream k mod count whether or not that upstream is
 * writable, and makes the records from id `stopAt` on wait.
 */
class ModuloRunStrategy implements Strategy {
  readonly name = 'modulo-run';
  readonly recordsPerSelect = 4;
  stopAt = Number.POSITIVE_INFINITY;
  /** Ids of the records `select` was called with. */
  readonly selected: number[] = [];

  select(upstreams: readonly UpstreamView[], record: QueueRecord): UpstreamView | undefined {
    this.selected.push(record.id);
    if (record.id >= this.stopAt) return undefined;
    return upstreams[Math.floor((record.id - 1) / 4) % upstreams.length];
  }
}

test('Dispatcher - stops at a run whose upstream is not writable', async () => {
  const strategy = new ModuloRunStrategy();
  const { pool, connections } = await startPool(3, strategy);
  try {
    const queue = new MemoryQueue();
    const dispatcher = new Dispatcher(queue, pool, 12, 1024, noSwitch);
    connections[1].writable = false;
    fill(queue, 12);
    dispatcher.pump();

    // Records 5 to 8 are due on the second upstream, so only the first run leaves, and 5 to 12 wait in order.
    assert.deepEqual(strategy.selected, [1, 5]);
    assert.deepEqual(connections[0].ids, [1, 2, 3, 4]);
    assert.deepEqual(connections[1].ids, []);
    assert.deepEqual(connections[2].ids, []);
    assert.equal(dispatcher.counters.sent, 4);

    connections[1].writable = true;
    dispatcher.pump();
    assert.deepEqual(strategy.selected, [1, 5, 5, 9]);
    assert.deepEqual(connections[0].ids, [1, 2, 3, 4]);
    assert.deepEqual(connections[1].ids, [5, 6, 7, 8]);
    assert.deepEqual(connections[2].ids, [9, 10, 11, 12]);
    assert.equal(dispatcher.counters.sent, 12);
  } finally {
    await pool.close(100);
  }
});

test('Dispatcher - stops at a run with no upstream', async () => {
  const strategy = new ModuloRunStrategy();
  strategy.stopAt = 9;
  const { pool, connections } = await startPool(3, strategy);
  try {
    const queue = new MemoryQueue();
    const dispatcher = new Dispatcher(queue, pool, 12, 1024, noSwitch);
    fill(queue, 12);
    dispatcher.pump();

    assert.deepEqual(strategy.selected, [1, 5, 9]);
    assert.deepEqual(connections[0].ids, [1, 2, 3, 4]);
    assert.deepEqual(connections[1].ids, [5, 6, 7, 8]);
    assert.deepEqual(connections[2].ids, []);
    assert.equal(dispatcher.counters.sent, 8);

    strategy.stopAt = Number.POSITIVE_INFINITY;
    dispatcher.pump();
    assert.deepEqual(connections[2].ids, [9, 10, 11, 12]);
    assert.equal(dispatcher.counters.sent, 12);
  } finally {
    await pool.close(100);
  }
});

test('Dispatcher - round robin skips a busy upstream per run', async () => {
  const { pool, connections } = await startPool(3, new RoundRobinStrategy({ recordsPerPick: 4 }));
  try {
    const queue = new MemoryQueue();
    const dispatcher = new Dispatcher(queue, pool, 16, 1024, noSwitch);
    connections[1].writable = false;
    fill(queue, 16);
    dispatcher.pump();

    assert.deepEqual(connections[0].ids, [1, 2, 3, 4, 9, 10, 11, 12]);
    assert.deepEqual(connections[1].ids, []);
    assert.deepEqual(connections[2].ids, [5, 6, 7, 8, 13, 14, 15, 16]);
  } finally {
    await pool.close(100);
  }
});

test('Dispatcher - first upstream not writable sends nothing', async () => {
  const { pool, connections } = await startPool(1);
  try {
    const queue = new MemoryQueue();
    const dispatcher = new Dispatcher(queue, pool, 4, 1024, noSwitch);
    connections[0].writable = false;
    fill(queue, 3);
    dispatcher.pump();
    assert.deepEqual(connections[0].ids, []);

    connections[0].writable = true;
    dispatcher.pump();
    assert.deepEqual(connections[0].ids, [1, 2, 3]);
  } finally {
    await pool.close(100);
  }
});
