import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TestCollector } from '../helpers/collector.js';
import { createSender, delay, fixtureMessage, waitUntil } from '../helpers/sender.js';
import { RoundRobinStrategy } from '../../src/strategy/round-robin.js';
import type { Framing } from '../../src/transport/options.js';

// Stream connections share a pool of chunk buffers (src/transport/chunk-pool.ts). A buffer given
// back while a socket write or a replay decode still reads it would show up as a frame whose
// bytes belong to another message. Every payload here is unique to its number, so each frame is
// compared byte for byte with the message of that number.

const KIB = 1024;

/**
 * Returns the payload of message `n`. Runs of 64 messages share a kind, so that whole chunks stay
 * ASCII (and come from the pool) between runs of UTF-8 ones and of sizes around the 64 KiB buffer.
 */
function payloadOf(n: number): string {
  const head = `#${n}#`;
  const kind = Math.floor(n / 64) % 8;
  // Whole units only, because a cut between the halves of a surrogate pair would be sent as U+FFFD.
  const fill = (length: number, unit: string) => head + unit.repeat(Math.ceil(length / unit.length)) + head;
  switch (kind) {
    case 0:
    case 1:
      return fill(150 + (n % 97), `${n.toString(36)}-`);
    case 2:
      return fill([15, 16, 17][n % 3] * KIB, `${n.toString(36)}.`);
    case 3:
      return fill(150 + (n % 50), `é€${n}😀`);
    case 4:
      return fill((n % 2 === 0 ? 70 : 63) * KIB, `${n.toString(36)}_`);
    case 5:
      return fill(300, `${n} line\nbreak\r`);
    default:
      return fill(1_000 + (n % 300), `${n.toString(16)}:`);
  }
}

/** Returns the frame a collector reads for message `n`. LF framing escapes CR and LF as `#015` and `#012`. */
function expectedFrame(n: number, framing: Framing): string {
  const message = fixtureMessage(payloadOf(n));
  return framing === 'lf' ? message.replaceAll('\n', '#012').replaceAll('\r', '#015') : message;
}

function numberOf(frame: string): number {
  const match = /- - #(\d+)#/.exec(frame);
  return match === null ? -1 : Number(match[1]);
}

for (const framing of ['octet-counting', 'lf'] as const) {
  test(`chunk pool - round robin with RST and stall, ${framing}`, async () => {
    const collectors = await Promise.all([0, 1, 2].map(() => TestCollector.start()));
    const sender = createSender(
      collectors.map((collector) => ({ url: `tcp://127.0.0.1:${collector.port}`, framing })),
      {
        strategy: new RoundRobinStrategy(),
        // Batches on the healthy connections age out of this window, and give their buffers back,
        // during the flood. It stays above the stall timeout, because records that a paused
        // collector never read would otherwise be confirmed and lost.
        replayWindowMs: 1_000,
        stallTimeoutMs: 400,
        highWaterMarkBytes: 4 * 1024 * 1024,
      },
      { maxMessageBytes: 256 * KIB, bom: 'never', maxQueueBytes: 512 * 1024 * 1024, maxQueueRecords: 1_000_000 },
    );
    try {
      await waitUntil(() => sender.stats().upstreams.every((upstream) => upstream.status === 'up'), 'every collector is up');

      let total = 0;
      const sendUpTo = async (limit: number) => {
        for (; total < limit; total += 1) {
          sender.send(payloadOf(total));
          if (total % 50 === 0) await delay(1);
        }
      };

      await sendUpTo(1_200);
      // Collector 0 dies with writes pending: its window is decoded and replayed to the others.
      await collectors[0].kill();
      await sendUpTo(1_600);

      // Collector 1 stops reading: its writes stay pending until the stall timeout fails the connection.
      collectors[1].pause();
      const stallStart = Date.now();
      while (sender.stats().upstreams[1].failures === 0 && Date.now() - stallStart < 10_000) {
        await sendUpTo(total + 100);
        await delay(5);
      }
      assert.ok(sender.stats().upstreams[1].failures > 0, 'the paused collector stalled its connection');
      collectors[1].resume();
      await collectors[0].listen();
      await sendUpTo(total + 1_500);

      await sender.flush(30_000);
      const received = () => new Set(collectors.flatMap((collector) => collector.frames.map(numberOf)));
      await waitUntil(() => received().size >= total, () => `${total} distinct messages arrived (received ${received().size})`, 15_000);

      let checked = 0;
      for (const [index, collector] of collectors.entries()) {
        for (const frame of collector.frames) {
          const n = numberOf(frame);
          assert.ok(n >= 0, `collector ${index} got a frame with no message number: ${frame.slice(0, 120)}`);
          assert.ok(n < total, `collector ${index} got message ${n}, above the ${total} sent`);
          if (frame !== expectedFrame(n, framing)) {
            assert.fail(`collector ${index} got message ${n} with other bytes: ${frame.slice(0, 200)}`);
          }
          checked += 1;
        }
      }
      assert.ok(checked >= total);
      assert.ok(sender.stats().replayed > 0, 'the RST and the stall replayed records');
      assert.deepEqual(await sender.close(10_000), { delivered: true, pending: 0 });
    } finally {
      await sender.close(1_000);
      await Promise.all(collectors.map((collector) => collector.close()));
    }
  });
}
