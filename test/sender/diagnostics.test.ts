import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import diagnosticsChannel from 'node:diagnostics_channel';
import { fileURLToPath } from 'node:url';
import {
  CHANNEL_NAMES,
  type ConnectErrorMessage,
  type DropMessage,
  type FailoverMessage,
  type ReplayMessage,
  type UpstreamStatusMessage,
} from '../../src/diagnostics.js';
import { FailoverStrategy } from '../../src/strategy/failover.js';
import { TestCollector } from '../helpers/collector.js';
import { createSender, waitUntil } from '../helpers/sender.js';

/** Text in every event body, so a test can check that no channel message carries a body. */
const BODY_MARKER = 'body-marker-7f3a';

interface Recorded {
  status: UpstreamStatusMessage[];
  connectError: ConnectErrorMessage[];
  failover: FailoverMessage[];
  drop: DropMessage[];
  replay: ReplayMessage[];
}

/** Subscribes to every channel; returns the messages received so far and a function that unsubscribes. */
function record(): { messages: Recorded; stop: () => void } {
  const messages: Recorded = { status: [], connectError: [], failover: [], drop: [], replay: [] };
  const handlers: Array<[string, (message: unknown) => void]> = [
    [CHANNEL_NAMES.upstreamStatus, (message) => messages.status.push(message as UpstreamStatusMessage)],
    [CHANNEL_NAMES.connectError, (message) => messages.connectError.push(message as ConnectErrorMessage)],
    [CHANNEL_NAMES.failover, (message) => messages.failover.push(message as FailoverMessage)],
    [CHANNEL_NAMES.drop, (message) => messages.drop.push(message as DropMessage)],
    [CHANNEL_NAMES.replay, (message) => messages.replay.push(message as ReplayMessage)],
  ];
  for (const [name, handler] of handlers) diagnosticsChannel.subscribe(name, handler);
  return {
    messages,
    stop: () => {
      for (const [name, handler] of handlers) diagnosticsChannel.unsubscribe(name, handler);
    },
  };
}

/** Serializes a channel message with its error's message, to search it for event bodies. */
function serialize(message: object): string {
  return JSON.stringify(message, (_key, value: unknown) => (value instanceof Error ? { message: value.message } : value));
}

async function freePort(): Promise<number> {
  const probe = await TestCollector.start();
  const port = probe.port;
  await probe.close();
  return port;
}

test('Diagnostics - channel names are stable', () => {
  assert.deepEqual(CHANNEL_NAMES, {
    upstreamStatus: 'resilient-syslog:upstream:status',
    connectError: 'resilient-syslog:upstream:connect:error',
    failover: 'resilient-syslog:failover',
    drop: 'resilient-syslog:drop',
    replay: 'resilient-syslog:replay',
  });
});

test('Diagnostics - publishes status, failover, replay and connect errors', async () => {
  const primary = await TestCollector.start();
  const backup = await TestCollector.start();
  const primaryTarget = `tcp://127.0.0.1:${primary.port}`;
  const backupTarget = `tcp://127.0.0.1:${backup.port}`;
  const { messages, stop } = record();
  const sender = createSender([primaryTarget, backupTarget], { strategy: new FailoverStrategy() });
  try {
    for (let n = 1; n <= 20; n += 1) sender.send(`${BODY_MARKER} ${n}`);
    await primary.waitForFrames(20);
    await primary.kill();
    for (let n = 21; n <= 40; n += 1) sender.send(`${BODY_MARKER} ${n}`);
    await sender.flush(5_000);
    await waitUntil(() => messages.connectError.length > 0, 'a reconnect to the killed primary failed');

    const primaryStatus = messages.status.filter((message) => message.target === primaryTarget);
    const backupStatus = messages.status.filter((message) => message.target === backupTarget);
    assert.deepEqual(primaryStatus.slice(0, 2).map((message) => [message.from, message.to]), [['connecting', 'up'], ['up', 'down']]);
    assert.equal(primaryStatus[1].index, 0);
    assert.ok(primaryStatus[1].error instanceof Error, 'the down message carries the error');
    assert.equal(primaryStatus[1].reason, primaryStatus[1].error.message);
    assert.deepEqual(backupStatus[0], { target: backupTarget, index: 1, from: 'connecting', to: 'up' });

    assert.deepEqual(messages.failover, [{ to: primaryTarget }, { from: primaryTarget, to: backupTarget }]);

    assert.ok(messages.replay.length > 0, 'the killed connection handed events back');
    for (const message of messages.replay) {
      assert.equal(message.target, primaryTarget);
      assert.equal(message.index, 0);
      assert.ok(message.error instanceof Error);
    }
    const replayed = messages.replay.reduce((sum, message) => sum + message.count, 0);
    assert.equal(replayed, sender.stats().replayed);

    const connectError = messages.connectError[0];
    assert.equal(connectError.target, primaryTarget);
    assert.equal(connectError.index, 0);
    assert.equal(connectError.attempt, 1);
    assert.ok(connectError.error instanceof Error);

    assert.deepEqual(messages.drop, []);
    const all = [...messages.status, ...messages.connectError, ...messages.failover, ...messages.replay];
    for (const message of all) assert.ok(!serialize(message).includes(BODY_MARKER), `event body in ${serialize(message)}`);
  } finally {
    stop();
    await sender.close(1_000);
    await primary.close();
    await backup.close();
  }
});

test('Diagnostics - publishes every drop with its reason', async () => {
  const port = await freePort();
  const { messages, stop } = record();
  const sender = createSender([`tcp://127.0.0.1:${port}`], {}, { whenFull: 'drop-newest', maxQueueRecords: 2 });
  try {
    for (let n = 1; n <= 5; n += 1) sender.send(`${BODY_MARKER} ${n}`);
    await sender.close(200);
    sender.send(`${BODY_MARKER} after close`);
    assert.deepEqual(messages.drop, [
      { count: 1, reason: 'full' },
      { count: 1, reason: 'full' },
      { count: 1, reason: 'full' },
      { count: 1, reason: 'closed' },
    ]);
    assert.deepEqual(sender.stats().dropped, { full: 3, 'io-error': 0, oversize: 0, closed: 1 });
  } finally {
    stop();
    await sender.close(200);
  }
});

test('Diagnostics - debuglog covers the life cycle', () => {
  const fixture = fileURLToPath(new URL('./fixtures/debuglog-run.ts', import.meta.url));
  const child = spawnSync(process.execPath, ['--import', 'tsx', fixture], {
    env: { ...process.env, NODE_DEBUG: 'resilient-syslog' },
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(child.status, 0, `fixture failed: ${child.stderr}`);
  const lines = child.stderr.split('\n').filter((line) => line.startsWith('RESILIENT-SYSLOG '));
  const expected: Array<[string, RegExp]> = [
    ['start', /starting failover strategy over tcp:\/\/127\.0\.0\.1:\d+, tcp:\/\/127\.0\.0\.1:\d+$/],
    ['retry', /tcp:\/\/127\.0\.0\.1:\d+: connect attempt 1 failed: connect ECONNREFUSED/],
    ['status change', /tcp:\/\/127\.0\.0\.1:\d+: connecting -> down \(connect ECONNREFUSED/],
    ['failover', /traffic moves -> tcp:\/\/127\.0\.0\.1:\d+$/],
    ['replay', /tcp:\/\/127\.0\.0\.1:\d+: 5 records handed back to be sent again$/],
    ['close start', /closing: \d+ events pending$/],
    ['upstream stop', /tcp:\/\/127\.0\.0\.1:\d+: up -> closed$/],
    ['close end', /closed: 0 events not confirmed$/],
  ];
  for (const [step, pattern] of expected) {
    assert.ok(lines.some((line) => pattern.test(line)), `no debuglog line for ${step} (${String(pattern)}) in:\n${lines.join('\n')}`);
  }

  // The first drop is logged at once and the rest within a second or at close, so the counts add up.
  const dropped = lines
    .map((line) => /dropped events: (\d+) \(full\)$/.exec(line))
    .reduce((sum, match) => sum + (match ? Number(match[1]) : 0), 0);
  assert.equal(dropped, 5);
  assert.ok(!child.stderr.includes(BODY_MARKER), 'an event body reached the debug output');
});
