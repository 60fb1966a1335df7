import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'eventemitter3';
import { TestCollector } from '../helpers/collector.js';
import { createSender, delay, waitUntil } from '../helpers/sender.js';
import { MemoryQueue } from '../../src/buffer/memory-queue.js';
import type { QueueRecord } from '../../src/buffer/queue.js';
import { UpstreamPool } from '../../src/pool/upstream-pool.js';
import { Dispatcher } from '../../src/sender/dispatcher.js';
import { DEFAULT_RECORDS_PER_PICK, RoundRobinStrategy } from '../../src/strategy/round-robin.js';
import type { Connection, ConnectionEvents } from '../../src/transport/connection.js';
import type { ConnectOptions } from '../../src/transport/options.js';

const numberOf = (frame: string) => Number(frame.split(' ').pop());

/**
 * About 3,000 bytes per message, so a batch of `batchBytes` (256 KiB) contains about 87 records:
 * more than one run of 64 and fewer than two.
 */
const BODY = 'x'.repeat(3_000);

for (const weights of [
  [1, 1],
  [3, 1],
]) {
  test(`RoundRobin - 3 KB messages keep weights ${weights.join(':')}`, async () => {
    const collectors = await Promise.all(weights.map(() => TestCollector.start()));
    const sender = createSender(
      collectors.map((collector, index) => ({ url: `tcp://127.0.0.1:${collector.port}`, weight: weights[index] })),
      // A high-water mark above the 30 MB sent keeps every connection writable, so the shares show
      // the routing alone and not which collector happened to read faster.
      { strategy: new RoundRobinStrategy(), highWaterMarkBytes: 64 * 1024 * 1024 },
    );
    try {
      await waitUntil(() => sender.stats().upstreams.every((upstream) => upstream.status === 'up'), 'every collector is up');

      // A steady flood: every batch is cut by batchBytes, not by batchRecords.
      const total = 10_000;
      let sent = 0;
      while (sent < total) {
        for (let count = 0; count < 2_000 && sent < total; count += 1) {
          sent += 1;
          sender.send(`${BODY} ${sent}`);
        }
        await delay(1);
      }
      await sender.flush(20_000);
      await waitUntil(
        () => collectors.reduce((sum, collector) => sum + collector.frames.length, 0) >= total,
        `${total} events arrived`,
      );

      const totalWeight = weights.reduce((sum, weight) => sum + weight, 0);
      for (const [index, collector] of collectors.entries()) {
        const expected = (total * weights[index]) / totalWeight;
        assert.ok(
          Math.abs(collector.frames.length - expected) <= 2 * DEFAULT_RECORDS_PER_PICK,
          `the collector of weight ${weights[index]} got ${collector.frames.length} of ${total} events, expected about ${expected}`,
        );
        const numbers = collector.frames.map(numberOf);
        assert.deepEqual(numbers, [...numbers].sort((a, b) => a - b), `collector ${index} got events out of order`);
      }
    } finally {
      await sender.close(2_000);
      await Promise.all(collectors.map((collector) => collector.close()));
    }
  });
}

/** A connection that keeps the length of every write and is always writable. */
class CountingConnection extends EventEmitter<ConnectionEvents> implements Connection {
  readonly writeLengths: number[] = [];
  readonly writable = true;
  readonly unconfirmed = 0;
  readonly settled = true;
  readonly closed = false;

  constructor(readonly target: string) {
    super();
  }

  get records(): number {
    return this.writeLengths.reduce((sum, length) => sum + length, 0);
  }

  write(records: readonly QueueRecord[]): void {
    this.writeLengths.push(records.length);
  }

  async end(): Promise<void> {}

  destroy(): void {}
}

test('Dispatcher - batches of 87 records split evenly', async () => {
  const connections: CountingConnection[] = [];
  const connect = async (options: ConnectOptions) => {
    const connection = new CountingConnection(options.target);
    connections[Number(options.port) - 1] = connection;
    return connection;
  };
  const pool = new UpstreamPool(['tcp://127.0.0.1:1', 'tcp://127.0.0.1:2'], {
    strategy: new RoundRobinStrategy(),
    connectors: { tcp: connect },
  });
  pool.start();
  try {
    await waitUntil(() => pool.upstreams.every((upstream) => upstream.status === 'up'), 'both upstreams are up');
    const queue = new MemoryQueue();
    // 3,000 bytes per record and 261,000 per batch: every batch contains 87 records, 2 picks of at most 64.
    const dispatcher = new Dispatcher(queue, pool, 1024, 87 * 3_000, { onSwitch: () => {}, onStrategyError: () => {} });
    const batches = 100;
    // The payloads are really 3,000 bytes long, because beyond 4,096 unread records the queue
    // packs them and counts their measured bytes.
    for (let index = 0; index < batches * 87; index += 1) queue.push(`event ${index + 1} `.padEnd(3_000, 'x'), 3_000);
    dispatcher.pump();
    // A turn of the event loop writes for a few milliseconds, and the next turn goes on.
    const written = () => connections[0].records + connections[1].records;
    await waitUntil(() => written() === batches * 87, () => `${written()} of ${batches * 87} records were written`);

    // Each batch gives one pick to each upstream. Runs of 64 and 23 would send 6,400 and 2,300
    // records. Runs of 43 and 44 keep the two within one record per batch.
    const [first, second] = connections;
    assert.equal(first.records + second.records, batches * 87);
    assert.ok(Math.abs(first.records - second.records) <= batches, `the upstreams got ${first.records} and ${second.records} records`);
    for (const connection of connections) {
      assert.ok(
        connection.writeLengths.every((length) => length === 43 || length === 44),
        `${connection.target} got writes of ${[...new Set(connection.writeLengths)].join(', ')} records`,
      );
    }
  } finally {
    await pool.close(100);
  }
});
