import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'eventemitter3';
import { MemoryQueue } from '../../src/buffer/memory-queue.js';
import type { QueueRecord } from '../../src/buffer/queue.js';
import { UpstreamPool } from '../../src/pool/upstream-pool.js';
import { Dispatcher } from '../../src/sender/dispatcher.js';
import { RoundRobinStrategy } from '../../src/strategy/round-robin.js';
import type { Strategy } from '../../src/strategy/strategy.js';
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

async function startPool(targets: number, strategy?: Strategy): Promise<{ pool: UpstreamPool; connections: RecordingConnection[] }> {
  const connections: RecordingConnection[] = [];
  const connect = async (options: ConnectOptions) => {
    const connection = new RecordingConnection(options.target);
    connections[Number(options.port) - 1] = connection;
    return connection;
  };
  const urls = Array.from({ length: targets }, (_, index) => `tcp://127.0.0.1:${index + 1}`);
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

test('Dispatcher - round robin splits batches in order', async () => {
  const { pool, connections } = await startPool(3, new RoundRobinStrategy());
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
