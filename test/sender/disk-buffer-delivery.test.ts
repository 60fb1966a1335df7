import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestCollector } from '../helpers/collector.js';
import { createSender, delay, fixtureMessage, waitUntil } from '../helpers/sender.js';
import { DiskBuffer } from '../../src/buffer/index.js';

test('SyslogSender - event during downtime waits in DiskBuffer', async () => {
  const directory = await mkdtemp(join(tmpdir(), 'resilient-syslog-delivery-'));
  const collector = await TestCollector.start();
  const port = collector.port;
  const buffer = new DiskBuffer({ directory });
  const sender = createSender([`tcp://127.0.0.1:${port}`], { replayWindowMs: 50 }, { buffer });
  try {
    sender.send('MESSAGE_0');
    await collector.waitForFrames(1);
    await waitUntil(() => buffer.stats().records === 0, 'MESSAGE_0 is confirmed');

    await collector.kill();
    await waitUntil(() => sender.stats().upstreams[0].status === 'down', 'the collector is down');
    sender.send('MESSAGE_1');
    await delay(200);
    assert.equal(buffer.stats().records, 1);

    await collector.listen(port);
    await waitUntil(() => collector.frames.includes(fixtureMessage('MESSAGE_1')), 'MESSAGE_1 arrived');
    sender.send('MESSAGE_2');
    await waitUntil(() => collector.frames.includes(fixtureMessage('MESSAGE_2')), 'MESSAGE_2 arrived');
    const order = collector.frames.filter((frame) => frame !== fixtureMessage('MESSAGE_0'));
    assert.deepEqual(order, [fixtureMessage('MESSAGE_1'), fixtureMessage('MESSAGE_2')]);
    assert.equal(`75 ${order[0]}`, '75 <14>1 2024-03-07T09:05:03.000Z host1.example.com billing 4242 - - MESSAGE_1');
    await waitUntil(() => buffer.stats().records === 0, 'the buffer drained');
  } finally {
    await sender.close(1_000);
    await collector.close();
    await rm(directory, { recursive: true, force: true });
  }
});

test('SyslogSender - DiskBuffer backlog survives a restart', async () => {
  const directory = await mkdtemp(join(tmpdir(), 'resilient-syslog-restart-'));
  const probe = await TestCollector.start();
  const port = probe.port;
  await probe.close();
  try {
    const first = createSender([`tcp://127.0.0.1:${port}`], {}, { buffer: new DiskBuffer({ directory }) });
    for (let n = 1; n <= 100; n += 1) first.send(`event ${n}`);
    const result = await first.close(300);
    assert.equal(result.delivered, false);
    assert.equal(result.pending, 100);

    const collector = await TestCollector.start(port);
    const second = createSender([`tcp://127.0.0.1:${port}`], {}, { buffer: new DiskBuffer({ directory }) });
    try {
      await collector.waitForFrames(100);
      assert.deepEqual(
        collector.frames,
        Array.from({ length: 100 }, (_, index) => fixtureMessage(`event ${index + 1}`)),
      );
      assert.deepEqual(await second.close(5_000), { delivered: true, pending: 0 });
    } finally {
      await second.close(1_000);
      await collector.close();
    }
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
});

test('SyslogSender - reports buffer damage found at open', async () => {
  const directory = await mkdtemp(join(tmpdir(), 'resilient-syslog-damage-'));
  try {
    await writeFile(join(directory, 'not-a-segment.txt'), 'left here by hand');
    const sender = createSender(['tcp://127.0.0.1:9'], {}, { buffer: new DiskBuffer({ directory }) });
    // Attached after the constructor returned, as applications do.
    const warnings: Error[] = [];
    sender.on('warning', (error) => warnings.push(error));
    await sender.ready();
    await delay(10);
    assert.ok(warnings.some((error) => error.message.includes('not-a-segment.txt')), warnings.map((error) => error.message).join('\n'));
    await sender.close(100);
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
});
