import { test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { QueueRecord } from '../../src/buffer/queue.js';
import { TURN_SLICE_MS } from '../../src/sender/dispatcher.js';
import { FailoverStrategy } from '../../src/strategy/failover.js';
import type { UpstreamView } from '../../src/strategy/strategy.js';
import { TestCollector } from '../helpers/collector.js';
import { assertEventsInOrder } from '../helpers/event-numbers.js';
import { createSender, waitUntil } from '../helpers/sender.js';

/**
 * Failover that spends `costMs` of CPU in every `select`. An exclusive strategy selects once per
 * batch, so each batch costs at least that long to write. The cost is realistic: on a 2-CPU
 * machine, writing a 256 KiB batch of 2 KB messages over loopback took an estimated 0.75 ms.
 */
class CostlyFailover extends FailoverStrategy {
  constructor(private readonly costMs: number) {
    super();
  }

  override select(upstreams: readonly UpstreamView[], record: QueueRecord): UpstreamView | undefined {
    const end = performance.now() + this.costMs;
    while (performance.now() < end) {
      // Busy wait: the cost must fall inside the dispatcher's turn.
    }
    return super.select(upstreams, record);
  }
}

test('Drain slice - producer per turn keeps up', async () => {
  const collector = await TestCollector.start();
  const batchRecords = 100;
  // Each batch costs half a slice, and the producer queues four batches per turn: twice what one
  // slice writes.
  const strategy = new CostlyFailover(TURN_SLICE_MS / 2);
  const sender = createSender([`tcp://127.0.0.1:${collector.port}`], { strategy }, { batchRecords });
  try {
    await waitUntil(() => sender.stats().upstreams[0].status === 'up', 'the collector is up');

    // A producer that sends a fixed number of events per turn and yields with setImmediate. Its
    // events take about 70 bytes each, so the socket never reaches the 1 MiB high-water mark and
    // only the dispatcher's turn decides how much is written.
    const perTurn = 4 * batchRecords;
    const turns = 20;
    const total = perTurn * turns;
    let sent = 0;
    for (let turn = 0; turn < turns; turn += 1) {
      for (let index = 0; index < perTurn; index += 1) {
        sent += 1;
        assert.ok(sender.send(`E${sent}`), `send() of E${sent} returned false`);
      }
      await nextTurn();
    }

    // Every turn must leave time to write what the producer queued in it. A writer that stops after
    // a fixed slice writes at most two of the four batches per turn, so at least 4,000 of 8,000
    // would still wait.
    const unwritten = total - sender.stats().sent;
    assert.ok(unwritten <= perTurn, `${unwritten} of ${total} events were not written after ${turns} turns`);

    await sender.flush(5_000);
    await collector.waitForFrames(total, 5_000);
    assertEventsInOrder(collector.frames, total);
  } finally {
    await sender.close(1_000);
    await collector.close();
  }
});
