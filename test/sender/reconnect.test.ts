import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TestCollector } from '../helpers/collector.js';
import { createSender, delay, fixtureMessage, waitUntil } from '../helpers/sender.js';

test('SyslogSender - FIN while idle sends next event on a new connection', async () => {
  const collector = await TestCollector.start();
  const sender = createSender([`tcp://127.0.0.1:${collector.port}`]);
  try {
    sender.send('E1');
    await collector.waitForFrames(1);
    collector.endAll();
    await delay(400);
    sender.send('E2');
    sender.send('E3');
    await collector.waitForFrames(3);
    assert.deepEqual(await sender.close(5_000), { delivered: true, pending: 0 });
    assert.deepEqual(collector.connections[0].frames, [fixtureMessage('E1')]);
    assert.deepEqual(collector.connections[1].frames, [fixtureMessage('E2'), fixtureMessage('E3')]);
    assert.equal(collector.connections.length, 2);
    assert.equal(sender.stats().confirmed, 3);
    assert.equal(sender.stats().replayed, 0);
  } finally {
    await sender.close(1_000);
    await collector.close();
  }
});

test('SyslogSender - replays event lost to RST', async () => {
  const collector = await TestCollector.start();
  let resetFirst = true;
  collector.onFrame = (_frame, connection) => {
    if (connection === 0 && resetFirst) {
      resetFirst = false;
      collector.connections[0].socket.resetAndDestroy();
    }
  };
  const sender = createSender([`tcp://127.0.0.1:${collector.port}`]);
  try {
    await waitUntil(() => sender.stats().upstreams[0].status === 'up', 'the sender connected');
    sender.send('E1');
    await delay(100);
    sender.send('E2');
    await waitUntil(() => (collector.connections[1]?.frames.length ?? 0) >= 2, 'E1 and E2 arrived on connection 2');
    assert.deepEqual(collector.connections[1].frames, [fixtureMessage('E1'), fixtureMessage('E2')]);
    assert.ok(sender.stats().replayed >= 1);
  } finally {
    await sender.close(1_000);
    await collector.close();
  }
});

test('SyslogSender - keeps order across a collector crash', async () => {
  const collector = await TestCollector.start();
  const sender = createSender([`tcp://127.0.0.1:${collector.port}`]);
  try {
    sender.send('E1');
    await collector.waitForFrames(1);
    await collector.kill();
    sender.send('E2');
    sender.send('E3');
    await delay(300);
    await collector.listen();
    sender.send('E4');
    await waitUntil(
      () => collector.frames.includes(fixtureMessage('E4')),
      'E4 arrived',
    );
    const last = collector.connections[collector.connections.length - 1].frames;
    const expected = ['E2', 'E3', 'E4'].map(fixtureMessage);
    assert.deepEqual(last.filter((frame) => frame !== fixtureMessage('E1')), expected);
    assert.equal(sender.stats().dropped.full, 0);
  } finally {
    await sender.close(1_000);
    await collector.close();
  }
});

test('SyslogSender - collector down at start gets backlog in order', async () => {
  const probe = await TestCollector.start();
  const port = probe.port;
  await probe.close();
  const statuses: string[] = [];
  const sender = createSender([`tcp://127.0.0.1:${port}`]);
  sender.on('status', (change) => statuses.push(change.to));
  try {
    sender.send('E1');
    await delay(100);
    sender.send('E2');
    await delay(300);
    const collector = await TestCollector.start(port);
    try {
      await collector.waitForFrames(2);
      sender.send('E3');
      await collector.waitForFrames(3);
      assert.deepEqual(collector.frames, ['E1', 'E2', 'E3'].map(fixtureMessage));
      assert.ok(statuses.includes('down'), `statuses were ${statuses.join(', ')}`);
      assert.equal(statuses[statuses.length - 1], 'up');
    } finally {
      await sender.close(1_000);
      await collector.close();
    }
  } finally {
    await sender.close(1_000);
  }
});

test('SyslogSender - close ends connection cleanly without replay', async () => {
  const collector = await TestCollector.start();
  const sender = createSender([`tcp://127.0.0.1:${collector.port}`]);
  for (let n = 1; n <= 500; n += 1) sender.send(`event ${n}`);
  const result = await sender.close(5_000);
  assert.deepEqual(result, { delivered: true, pending: 0 });
  assert.equal(collector.frames.length, 500);
  assert.equal(sender.stats().replayed, 0);
  assert.equal(sender.send('late'), false);
  assert.equal(sender.stats().dropped.closed, 1);
  await collector.close();
});

test('SyslogSender - close with collector down reports pending', async () => {
  const probe = await TestCollector.start();
  const port = probe.port;
  await probe.close();
  const sender = createSender([`tcp://127.0.0.1:${port}`]);
  sender.send('E1');
  sender.send('E2');
  const result = await sender.close(300);
  assert.deepEqual(result, { delivered: false, pending: 2 });
});
