import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TestCollector } from '../helpers/collector.js';
import { createSender, delay, fixtureMessage, waitUntil } from '../helpers/sender.js';
import { FailoverStrategy } from '../../src/strategy/failover.js';

async function freePort(): Promise<number> {
  const probe = await TestCollector.start();
  const port = probe.port;
  await probe.close();
  return port;
}

test('Failover - backlog goes to backup when primary refuses', async () => {
  const primaryPort = await freePort();
  const backup = await TestCollector.start();
  const sender = createSender(
    [`tcp://127.0.0.1:${primaryPort}`, { url: `tcp://127.0.0.1:${backup.port}`, backup: true }],
    { strategy: new FailoverStrategy({ failbackProbes: 2 }) },
  );
  try {
    for (let n = 1; n <= 100; n += 1) sender.send(`event ${n}`);
    await backup.waitForFrames(100);
    assert.deepEqual(
      backup.frames,
      Array.from({ length: 100 }, (_, index) => fixtureMessage(`event ${index + 1}`)),
    );
    const [primaryStats, backupStats] = sender.stats().upstreams;
    assert.equal(primaryStats.status, 'down');
    assert.equal(backupStats.status, 'up');

    // The primary comes back: new events fail back to it, none of the old ones follow.
    const primary = await TestCollector.start(primaryPort);
    try {
      await waitUntil(() => sender.stats().upstreams[0].status === 'up', 'the primary is up');
      await delay(200);
      sender.send('after failback');
      await primary.waitForFrames(1);
      assert.deepEqual(primary.frames, [fixtureMessage('after failback')]);
      assert.equal(backup.frames.length, 100);
    } finally {
      await sender.close(1_000);
      await primary.close();
    }
  } finally {
    await sender.close(1_000);
    await backup.close();
  }
});

test('Failover - moves window to backup when primary dies', async () => {
  const primary = await TestCollector.start();
  const backup = await TestCollector.start();
  const switches: string[] = [];
  const sender = createSender([`tcp://127.0.0.1:${primary.port}`, `tcp://127.0.0.1:${backup.port}`]);
  sender.on('switch', (event) => switches.push(event.to));
  try {
    for (let n = 1; n <= 50; n += 1) sender.send(`event ${n}`);
    await primary.waitForFrames(50);
    await primary.kill();
    for (let n = 51; n <= 100; n += 1) sender.send(`event ${n}`);
    await waitUntil(() => backup.frames.includes(fixtureMessage('event 100')), 'event 100 reached the backup');
    const received = new Set([...primary.frames, ...backup.frames]);
    for (let n = 1; n <= 100; n += 1) assert.ok(received.has(fixtureMessage(`event ${n}`)), `event ${n} was lost`);
    // Events 1..50 were in the replay window of the killed connection, so they go out again, in order.
    const backupNumbers = backup.frames.map((frame) => Number(frame.split(' ').pop()));
    assert.deepEqual(backupNumbers, [...backupNumbers].sort((a, b) => a - b));
    assert.deepEqual(switches, [`tcp://127.0.0.1:${primary.port}`, `tcp://127.0.0.1:${backup.port}`]);
  } finally {
    await sender.close(1_000);
    await primary.close();
    await backup.close();
  }
});

test('Failover - frozen primary is detected by stall timeout', async () => {
  const primary = await TestCollector.start();
  const backup = await TestCollector.start();
  const sender = createSender(
    [`tcp://127.0.0.1:${primary.port}`, `tcp://127.0.0.1:${backup.port}`],
    { stallTimeoutMs: 300, highWaterMarkBytes: 64 * 1024, replayWindowMaxRecords: 1_000_000, replayWindowMaxBytes: 1024 ** 3 },
    { maxQueueRecords: 1_000_000, maxQueueBytes: 1024 ** 3 },
  );
  const downReasons: string[] = [];
  sender.on('status', (change) => {
    if (change.index === 0 && change.to === 'down') downReasons.push(change.reason ?? '');
  });
  try {
    await waitUntil(() => sender.stats().upstreams[0].status === 'up', 'the primary is up');
    primary.pause();
    const payload = 'x'.repeat(1000);
    const total = 20_000;
    for (let n = 1; n <= total; n += 1) sender.send(`${payload} ${n}`);
    // A frozen process still completes TCP handshakes from the listen backlog, so the primary may
    // come back up and stall again; what matters is that the stall was seen and nothing was lost.
    await waitUntil(() => downReasons.length > 0, 'the stalled primary is marked down', 20_000);
    assert.match(downReasons[0], /accepted no data for 300 ms/);
    await sender.flush(20_000);
    primary.resume();
    const numbers = () => new Set([...primary.frames, ...backup.frames].map((frame) => Number(frame.split(' ').pop())));
    await waitUntil(() => numbers().size >= total, 'every event arrived somewhere', 10_000).catch(() => {});
    const received = numbers();
    const missing: number[] = [];
    for (let n = 1; n <= total; n += 1) if (!received.has(n)) missing.push(n);
    assert.deepEqual(missing.slice(0, 10), []);
  } finally {
    await sender.close(1_000);
    await primary.close();
    await backup.close();
  }
});
