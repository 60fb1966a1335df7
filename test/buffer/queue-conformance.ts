import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import type { DropReason, EventQueue, FullPolicy } from '../../src/buffer/index.js';
import { payloadOf, readAll } from './helpers.js';

/** Payload size every conformance test uses, so implementations can size their capacity in records. */
export const CONFORMANCE_PAYLOAD_BYTES = 100;

export interface ConformanceQueueOptions {
  whenFull: FullPolicy;
  /** The queue must be full after exactly this many records of CONFORMANCE_PAYLOAD_BYTES. */
  capacityRecords: number;
}

export interface ConformanceFactory {
  /** Returns an opened, empty queue. */
  create(options: ConformanceQueueOptions): Promise<EventQueue>;
  /** Releases what `create` made (files, directories). */
  dispose(queue: EventQueue): Promise<void>;
  /**
   * True when records read but not yet acknowledged count towards the maximum (DiskBuffer keeps
   * them on disk). The memory queue counts only unread records, because the connections holding
   * the read ones bound them with their replay windows.
   */
  countsReadRecords: boolean;
}

/** Registers the behaviour every EventQueue implementation shares, under `name`. */
export function runQueueConformance(name: string, factory: ConformanceFactory): void {
  describe(`${name} - EventQueue conformance`, () => {
    const created: EventQueue[] = [];

    async function create(whenFull: FullPolicy = 'block', capacityRecords = 40): Promise<EventQueue> {
      const queue = await factory.create({ whenFull, capacityRecords });
      created.push(queue);
      return queue;
    }

    function push(queue: EventQueue, label: string): number {
      const payload = payloadOf(label, CONFORMANCE_PAYLOAD_BYTES);
      return queue.push(payload, Buffer.byteLength(payload));
    }

    function recordDrops(queue: EventQueue): Array<{ count: number; reason: DropReason }> {
      const drops: Array<{ count: number; reason: DropReason }> = [];
      queue.on('drop', (count, reason) => drops.push({ count, reason }));
      return drops;
    }

    /** Pushes records labelled r0, r1, ... until the queue reports full; returns the labels. */
    function fill(queue: EventQueue): string[] {
      const labels: string[] = [];
      while (!queue.full) {
        const label = `r${labels.length}`;
        assert.notEqual(push(queue, label), -1, `push ${label} was dropped before the queue reported full`);
        labels.push(label);
        assert.ok(labels.length < 10_000, 'queue never reported full');
      }
      return labels;
    }

    function labelOf(payload: string): string {
      return payload.split('.')[0];
    }

    afterEach(async () => {
      for (const queue of created.splice(0)) await factory.dispose(queue);
    });

    test('assigns increasing ids and reads in push order', async () => {
      const queue = await create();
      const payloads = Array.from({ length: 25 }, (_, index) => `event ${index} é ✓ 😀`);
      const ids = payloads.map((payload) => queue.push(payload, Buffer.byteLength(payload)));
      for (let index = 1; index < ids.length; index += 1) assert.ok(ids[index] > ids[index - 1], `id ${index} not increasing`);

      const records = readAll(queue, 10);
      assert.deepEqual(
        records.map((record) => record.id),
        ids,
      );
      assert.deepEqual(
        records.map((record) => record.payload),
        payloads,
      );
      assert.deepEqual(
        records.map((record) => record.bytes),
        payloads.map((payload) => Buffer.byteLength(payload)),
      );
    });

    test('read honours maxRecords and maxBytes', async () => {
      const queue = await create();
      for (let index = 0; index < 6; index += 1) push(queue, `r${index}`);

      assert.equal(queue.read(2, Number.MAX_SAFE_INTEGER).length, 2);
      assert.equal(queue.read(10, 250).length, 2, 'two 100-byte records fit in 250 bytes, three do not');
      assert.equal(queue.read(10, 10).length, 1, 'one record is returned even when it exceeds maxBytes');
      assert.equal(queue.read(0, Number.MAX_SAFE_INTEGER).length, 0);
      assert.equal(queue.read(10, Number.MAX_SAFE_INTEGER).length, 1);
      assert.deepEqual(queue.read(10, Number.MAX_SAFE_INTEGER), []);
    });

    test('read never returns a record twice', async () => {
      const queue = await create();
      for (let index = 0; index < 10; index += 1) push(queue, `r${index}`);
      assert.equal(queue.unread, 10);

      const first = queue.read(4, Number.MAX_SAFE_INTEGER);
      assert.equal(queue.unread, 6);
      push(queue, 'r10');
      const rest = readAll(queue, 3);
      assert.equal(queue.unread, 0);
      assert.deepEqual(
        [...first, ...rest].map((record) => labelOf(record.payload)),
        Array.from({ length: 11 }, (_, index) => `r${index}`),
      );
    });

    test('ack releases read records up to the id', async () => {
      const queue = await create();
      for (let index = 0; index < 10; index += 1) push(queue, `r${index}`);
      const records = queue.read(10, Number.MAX_SAFE_INTEGER);
      assert.equal(queue.stats().records, 10);
      assert.equal(queue.stats().bytes, 10 * CONFORMANCE_PAYLOAD_BYTES);

      queue.ack(records[4].id);
      assert.equal(queue.stats().records, 5);
      assert.equal(queue.stats().bytes, 5 * CONFORMANCE_PAYLOAD_BYTES);

      queue.ack(records[9].id);
      assert.equal(queue.stats().records, 0);
      assert.equal(queue.stats().bytes, 0);
    });

    test('ack leaves unread records in place', async () => {
      const queue = await create();
      const ids = [push(queue, 'r0'), push(queue, 'r1'), push(queue, 'r2')];
      queue.read(1, Number.MAX_SAFE_INTEGER);
      queue.ack(ids[2] + 100);

      assert.equal(queue.stats().records, 2);
      assert.deepEqual(
        readAll(queue).map((record) => record.id),
        ids.slice(1),
      );
    });

    test('drop-newest rejects pushes while full', async () => {
      const queue = await create('drop-newest');
      const drops = recordDrops(queue);
      const accepted = fill(queue);

      assert.equal(push(queue, 'late0'), -1);
      assert.equal(push(queue, 'late1'), -1);
      assert.deepEqual(drops, [
        { count: 1, reason: 'full' },
        { count: 1, reason: 'full' },
      ]);
      assert.equal(queue.stats().dropped, 2);
      assert.deepEqual(
        readAll(queue).map((record) => labelOf(record.payload)),
        accepted,
      );
    });

    test('drop-oldest drops the oldest unread records', async () => {
      const queue = await create('drop-oldest');
      const drops = recordDrops(queue);
      const labels = fill(queue);
      for (let index = 0; index < 20; index += 1) {
        const label = `new${index}`;
        assert.notEqual(push(queue, label), -1, `push ${label} was dropped`);
        labels.push(label);
      }

      const dropped = queue.stats().dropped;
      assert.ok(dropped >= 20, `expected at least 20 drops, got ${dropped}`);
      assert.equal(
        drops.reduce((sum, drop) => sum + drop.count, 0),
        dropped,
      );
      assert.ok(drops.every((drop) => drop.reason === 'full'));
      assert.equal(queue.stats().records, labels.length - dropped);
      assert.deepEqual(
        readAll(queue).map((record) => labelOf(record.payload)),
        labels.slice(dropped),
      );
    });

    test('block keeps records and emits space', async () => {
      const queue = await create('block');
      const drops = recordDrops(queue);
      let spaceEvents = 0;
      queue.on('space', () => {
        spaceEvents += 1;
      });
      const labels = fill(queue);

      assert.notEqual(push(queue, 'extra'), -1, 'block takes a record pushed while full');
      assert.equal(queue.full, true);
      assert.deepEqual(drops, []);

      const records = readAll(queue);
      assert.equal(records.length, labels.length + 1);
      if (factory.countsReadRecords) {
        assert.equal(spaceEvents, 0, 'reading alone does not make room while read records count');
        queue.ack(records[0].id);
        assert.equal(spaceEvents, 0, 'one acknowledged record does not make room below the maximum');
      } else {
        assert.equal(spaceEvents, 1, 'reading makes room when only unread records count');
        assert.equal(queue.full, false);
      }
      queue.ack(records[records.length - 1].id);
      assert.equal(spaceEvents, 1);
      assert.equal(queue.full, false);
    });

    test('space is only emitted after full', async () => {
      const queue = await create('block');
      let spaceEvents = 0;
      queue.on('space', () => {
        spaceEvents += 1;
      });
      push(queue, 'r0');
      push(queue, 'r1');
      const records = readAll(queue);
      queue.ack(records[1].id);
      assert.equal(spaceEvents, 0);
    });
  });
}
