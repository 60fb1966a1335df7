import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SyslogSender } from '../../src/sender/syslog-sender.js';
import { UpstreamPool } from '../../src/pool/upstream-pool.js';
import { InvalidEventError, InvalidOptionError } from '../../src/errors.js';
import { TestCollector } from '../helpers/collector.js';
import { createSender, fixtureMessage, waitUntil } from '../helpers/sender.js';
import type { UpstreamView } from '../../src/strategy/strategy.js';

test('SyslogSender - rejects options naming the value', () => {
  const pool = new UpstreamPool(['tcp://127.0.0.1:9']);
  const cases: Array<[unknown, RegExp]> = [
    [{}, /Missing pool/],
    [{ pool, batchRecords: 0 }, /Invalid batchRecords 0/],
    [{ pool, maxQueueRecords: 0 }, /Invalid maxQueueRecords 0/],
    [{ pool, maxQueueBytes: '1MB' }, /Invalid maxQueueBytes "1MB"/],
    [{ pool, whenFull: 'wait' }, /Invalid whenFull "wait"/],
    [{ pool, facility: 'local9' }, /facility/],
    [{ pool, buffer: {} }, /Invalid buffer/],
  ];
  for (const [options, message] of cases) {
    assert.throws(() => new SyslogSender(options as never), (error: unknown) => {
      assert.ok(error instanceof InvalidOptionError, `${String(message)} case threw ${String(error)}`);
      assert.match((error as Error).message, message);
      return true;
    });
  }
});

test('UpstreamPool - rejects options naming the value', () => {
  const cases: Array<[unknown, unknown, RegExp]> = [
    [[], {}, /non-empty array/],
    [['tcp://127.0.0.1:514'], { connectTimeoutMs: -1 }, /Invalid connectTimeoutMs -1/],
    [['tcp://127.0.0.1:514'], { reconnect: { minDelayMs: 500, maxDelayMs: 100 } }, /reconnect\.maxDelayMs 100/],
    [['tcp://127.0.0.1:514'], { strategy: {} }, /Invalid strategy/],
    [[{ url: 'udp://127.0.0.1:514', maxDatagramBytes: 70_000 }], {}, /maxDatagramBytes 70000/],
  ];
  for (const [upstreams, options, message] of cases) {
    assert.throws(() => new UpstreamPool(upstreams as never, options as never), (error: unknown) => {
      assert.ok(error instanceof InvalidOptionError);
      assert.match((error as Error).message, message);
      return true;
    });
  }
});

test('SyslogSender - bad event throws and loses nothing else', async () => {
  const collector = await TestCollector.start();
  const sender = createSender([`tcp://127.0.0.1:${collector.port}`], {}, { sdNamePolicy: 'throw' });
  try {
    sender.send('before');
    assert.throws(() => sender.send({ message: 'bad', structuredData: { 'no-at-sign': { a: '1' } } }), InvalidEventError);
    assert.throws(() => sender.send({ message: 'bad', severity: 9 }), InvalidEventError);
    sender.send('after');
    await collector.waitForFrames(2);
    assert.deepEqual(collector.frames, [fixtureMessage('before'), fixtureMessage('after')]);
    assert.equal(sender.stats().accepted, 2);
  } finally {
    await sender.close(1_000);
    await collector.close();
  }
});

test('SyslogSender - drop-newest counts drops while down', async () => {
  const sender = createSender(['tcp://127.0.0.1:9'], {}, { maxQueueRecords: 10, whenFull: 'drop-newest' });
  const drops: number[] = [];
  sender.on('drop', ({ count }) => drops.push(count));
  try {
    const results = Array.from({ length: 15 }, (_, index) => sender.send(`event ${index}`));
    assert.deepEqual(results, [...Array(10).fill(true), ...Array(5).fill(false)]);
    assert.equal(sender.stats().dropped.full, 5);
    assert.equal(drops.reduce((sum, count) => sum + count, 0), 5);
    assert.equal(sender.stats().pending, 10);
  } finally {
    await sender.close(100);
  }
});

test('SyslogSender - block policy signals backpressure', async () => {
  const probe = await TestCollector.start();
  const port = probe.port;
  await probe.close();
  const sender = createSender([`tcp://127.0.0.1:${port}`], { replayWindowMs: 10 }, { maxQueueRecords: 5, whenFull: 'block' });
  try {
    const results = Array.from({ length: 5 }, (_, index) => sender.send(`event ${index}`));
    assert.deepEqual(results, [true, true, true, true, false]);
    let ready = false;
    const waiting = sender.ready().then(() => {
      ready = true;
    });
    const collector = await TestCollector.start(port);
    try {
      await waiting;
      assert.equal(ready, true);
      await waitUntil(() => collector.frames.length === 5, 'the backlog arrived');
      assert.equal(sender.stats().dropped.full, 0);
    } finally {
      await sender.close(1_000);
      await collector.close();
    }
  } finally {
    await sender.close(100);
  }
});

test('SyslogSender - drop-oldest keeps newest events', async () => {
  const probe = await TestCollector.start();
  const port = probe.port;
  await probe.close();
  const sender = createSender([`tcp://127.0.0.1:${port}`], {}, { maxQueueRecords: 5, whenFull: 'drop-oldest' });
  try {
    const results = Array.from({ length: 8 }, (_, index) => sender.send(`event ${index + 1}`));
    assert.deepEqual(results, Array(8).fill(true));
    assert.equal(sender.stats().dropped.full, 3);
    const collector = await TestCollector.start(port);
    try {
      await waitUntil(() => collector.frames.length === 5, 'the five newest events arrived');
      assert.deepEqual(collector.frames, [4, 5, 6, 7, 8].map((n) => fixtureMessage(`event ${n}`)));
    } finally {
      await sender.close(1_000);
      await collector.close();
    }
  } finally {
    await sender.close(100);
  }
});

test('UpstreamPool - rejects options that would misbehave', () => {
  const cases: Array<[unknown, unknown, RegExp]> = [
    [['tcp://127.0.0.1:514'], { probeIntervalMs: 3e9 }, /Invalid probeIntervalMs 3000000000/],
    [['tcp://127.0.0.1:514'], { connectTimeoutMs: 3e9 }, /Invalid connectTimeoutMs 3000000000/],
    [['tcp://127.0.0.1:514'], { newlineEscape: {} }, /Invalid newlineEscape/],
    [['tcp://127.0.0.1:514'], { newlineEscape: { lf: '\n', cr: '#015' } }, /Invalid newlineEscape/],
    [['tcp://127.0.0.1:514'], { activeProbes: 'no' }, /Invalid activeProbes "no"/],
    [['tcp://127.0.0.1:514'], { connectors: { tcp: 1 } }, /Invalid connectors\.tcp 1/],
    [['tcp://127.0.0.1:514'], null, /Invalid UpstreamPool options null/],
    [[{ url: 'tcp://127.0.0.1:514', backup: 'yes' }], {}, /Invalid upstreams\[0\]\.backup "yes"/],
    [[{ url: 'tcp://127.0.0.1:514', tls: { rejectUnauthorized: true } }], {}, /sends in clear/],
    [[{ protocol: 'tcp', host: '127.0.0.1', port: '514' }], {}, /Invalid upstreams\[0\]\.port "514"/],
  ];
  for (const [upstreams, options, message] of cases) {
    assert.throws(() => new UpstreamPool(upstreams as never, options as never), (error: unknown) => {
      assert.ok(error instanceof InvalidOptionError, `${String(message)} case threw ${String(error)}`);
      assert.match((error as Error).message, message);
      return true;
    });
  }
});

test('SyslogSender - rejects a pool already in use', async () => {
  const pool = new UpstreamPool(['tcp://127.0.0.1:9'], { activeProbes: false });
  const first = new SyslogSender({ pool });
  try {
    assert.throws(() => new SyslogSender({ pool }), /already serves another SyslogSender/);
  } finally {
    await first.close(100);
  }
});

test('SyslogSender - rejects non-event input and bad timeouts', async () => {
  const sender = createSender(['tcp://127.0.0.1:9']);
  try {
    for (const input of [42, null, undefined, ['a'], true]) {
      assert.throws(() => sender.send(input as never), InvalidEventError, String(input));
    }
    assert.equal(sender.stats().accepted, 0);
    await assert.rejects(sender.flush(Number.NaN), /Invalid flush\(\) timeoutMs NaN/);
    await assert.rejects(sender.close('100' as never), /Invalid close\(\) timeoutMs "100"/);
  } finally {
    await sender.close(100);
  }
});

test('SyslogSender - ready() resolves after close', async () => {
  const sender = createSender(['tcp://127.0.0.1:9'], {}, { maxQueueRecords: 2, whenFull: 'block' });
  sender.send('a');
  assert.equal(sender.send('b'), false);
  const waiting = sender.ready();
  await sender.close(100);
  await waiting;
  await sender.ready();
});

test('SyslogSender - survives a strategy that throws', async () => {
  const collector = await TestCollector.start();
  let calls = 0;
  const strategy = {
    name: 'flaky',
    select(upstreams: readonly UpstreamView[]) {
      calls += 1;
      if (calls === 1) throw new Error('boom');
      return upstreams.find((upstream) => upstream.status === 'up');
    },
  };
  const sender = createSender([`tcp://127.0.0.1:${collector.port}`], { strategy });
  const warnings: Error[] = [];
  sender.on('warning', (error) => warnings.push(error));
  try {
    await waitUntil(() => sender.stats().upstreams[0].status === 'up', 'the collector is up');
    sender.send('after a throw');
    await collector.waitForFrames(1, 5_000);
    assert.equal((warnings[0] as { code?: string }).code, 'ERR_SYSLOG_STRATEGY');
    assert.match(warnings[0].message, /"flaky" threw in select\(\): boom/);
  } finally {
    await sender.close(1_000);
    await collector.close();
  }
});

test('Upstream - backs off when a connector throws TypeError', async () => {
  let attempts = 0;
  const broken = async () => {
    attempts += 1;
    throw new TypeError('broken connector');
  };
  const sender = createSender(['tcp://127.0.0.1:9'], {
    connectors: { tcp: broken },
    reconnect: { minDelayMs: 100, maxDelayMs: 200 },
  });
  try {
    const ticks = await new Promise<number>((resolve) => {
      let count = 0;
      const timer = setInterval(() => {
        count += 1;
        if (count === 5) {
          clearInterval(timer);
          resolve(count);
        }
      }, 100);
    });
    assert.equal(ticks, 5, 'the event loop kept running');
    assert.ok(attempts <= 10, `${attempts} connect attempts in 500 ms`);
    assert.match(sender.stats().upstreams[0].reason ?? '', /Connecting to tcp:\/\/127\.0\.0\.1:9 failed: broken connector/);
  } finally {
    await sender.close(100);
  }
});
