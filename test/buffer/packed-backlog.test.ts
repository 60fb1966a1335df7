import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { MemoryQueue } from '../../src/buffer/index.js';
import type { QueueRecord } from '../../src/buffer/queue.js';
import { AckTracker } from '../../src/sender/ack-tracker.js';
import { TestCollector } from '../helpers/collector.js';
import { createSender, delay, waitUntil } from '../helpers/sender.js';

/** More records than the memory queue keeps unpacked (16,384), so that the oldest are packed. */
const BACKLOG = 20_000;

/** Returns 1,000 bytes for an even id and a few bytes for an odd one, so that a byte budget ends reads of packed records early. */
function mixedPayload(id: number): string {
  return id % 2 === 0 ? 'L'.repeat(1_000) : `s${id}`;
}

function fillQueue(queue: MemoryQueue): void {
  for (let id = 1; id <= BACKLOG; id += 1) {
    const payload = mixedPayload(id);
    queue.push(payload, Buffer.byteLength(payload, 'utf8'));
  }
}

/** Returns a loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

// Expected: read() returns the oldest unread records in id order. When the byte budget stops it
// inside the packed records, it must not go on with the newer unpacked ones.
test('MemoryQueue - read stops at packed records', () => {
  const queue = new MemoryQueue({ maxRecords: 1_000_000, maxBytes: 1024 * 1024 * 1024 });
  fillQueue(queue);

  const batch = queue.read(1024, 1_500);
  const ids = batch.map((record) => record.id);

  assert.deepEqual(ids, ids.map((_, index) => index + 1), 'ids 1, 2, 3, ... with no gap');
});

// Expected: the sender's read-and-confirm cycle (Dispatcher.take feeds AckTracker.add, and each
// confirmation calls queue.ack) ends with nothing pending, in whatever order the connections
// confirm. A round robin pool or a replay confirms newer batches before older ones.
test('AckTracker - packed backlog confirmed newest first', () => {
  const queue = new MemoryQueue({ maxRecords: 1_000_000, maxBytes: 1024 * 1024 * 1024 });
  fillQueue(queue);
  const tracker = new AckTracker();
  const batches: QueueRecord[][] = [];
  while (queue.unread > 0) {
    const batch = queue.read(1024, 1_500);
    tracker.add(batch);
    batches.push(batch);
  }

  const newestFirst = batches.flat().map((record) => record.id).reverse();
  for (const id of newestFirst) {
    const ackId = tracker.confirm([id]);
    if (ackId >= 0) queue.ack(ackId);
  }

  assert.equal(tracker.pending, 0, 'records read and not confirmed');
  assert.equal(queue.stats().records, 0, 'records the queue still counts as pending');
});

// Expected: with no connection failure the collector receives a backlog in the order it was sent
// (delivery-guarantees.md: order drops back only where a replay starts).
test('SyslogSender - backlog of mixed sizes arrives in order', async () => {
  const port = await closedPort();
  const sender = createSender([`tcp://127.0.0.1:${port}`], { replayWindowMs: 100 }, { batchBytes: 64 * 1024 });
  for (let index = 0; index < BACKLOG; index += 1) {
    sender.send(index % 50 === 0 ? `E${index} ${'L'.repeat(30_000)}` : `E${index}`);
  }
  await delay(300);

  const collector = await TestCollector.start(port);
  try {
    await collector.waitForFrames(BACKLOG, 20_000);
    const arrived = collector.frames.map((frame) => Number(/ E(\d+)/.exec(frame)?.[1]));
    const dropBacks: string[] = [];
    for (let index = 1; index < arrived.length; index += 1) {
      if (arrived[index] < arrived[index - 1]) dropBacks.push(`E${arrived[index - 1]} then E${arrived[index]}`);
    }

    assert.equal(sender.stats().replayed, 0, 'no connection failed');
    assert.deepEqual(dropBacks, []);
    await waitUntil(() => sender.pending === 0, () => `pending is 0 (pending ${sender.pending})`, 5_000);
  } finally {
    await sender.close(2_000);
    await collector.close();
  }
});

// Expected: each payload reads back as it was pushed (a lone surrogate as U+FFFD), even when one
// payload ends with a lone high surrogate and the next starts with a lone low surrogate.
test('MemoryQueue - lone surrogates at a packed boundary', () => {
  const queue = new MemoryQueue({ maxRecords: 1_000_000, maxBytes: 1024 * 1024 * 1024 });
  const payloads = ['first\uD83D', '\uDE00second'];
  for (let index = 2; index < 16_400; index += 1) payloads.push(`event ${index}`);
  for (const payload of payloads) queue.push(payload, Buffer.byteLength(payload, 'utf8'));

  const batch = queue.read(4, 1024 * 1024);

  assert.deepEqual(
    batch.map((record) => record.payload),
    ['first\uFFFD', '\uFFFDsecond', 'event 2', 'event 3'],
  );
});
