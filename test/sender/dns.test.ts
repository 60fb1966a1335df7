import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SyslogSender } from '../../src/sender/syslog-sender.js';
import type { UpstreamStatusChange } from '../../src/pool/upstream.js';
import { RoundRobinStrategy } from '../../src/strategy/round-robin.js';
import type { ConnectFunction } from '../../src/transport/options.js';
import { connectTcp } from '../../src/transport/stream.js';
import { TestCollector } from '../helpers/collector.js';
import { createSender, delay, fixtureMessage, waitUntil } from '../helpers/sender.js';

/** The name whose lookup the test breaks and repairs; it is never sent to a DNS server. */
const BROKEN_NAME = 'logs2.example.com';

/** Builds the error Node's getaddrinfo-based lookup raises for a name that does not resolve. */
function notFound(hostname: string): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException & { hostname?: string } = new Error(`getaddrinfo ENOTFOUND ${hostname}`);
  error.code = 'ENOTFOUND';
  error.errno = -3008;
  error.syscall = 'getaddrinfo';
  error.hostname = hostname;
  return error;
}

const numberOf = (frame: string): number => Number(frame.split(' ').pop());

test('SyslogSender - unresolvable upstream joins once lookup works', async (t) => {
  const first = await TestCollector.start();
  const second = await TestCollector.start();
  t.after(() => Promise.all([first.close(), second.close()]));

  // The TCP transport with a simulated resolver: BROKEN_NAME fails with ENOTFOUND until the test
  // repairs it, then resolves to 127.0.0.1.
  let lookupWorks = false;
  let lookups = 0;
  const connectWithFakeDns: ConnectFunction = (options) => {
    if (options.host !== BROKEN_NAME) return connectTcp(options);
    lookups += 1;
    if (!lookupWorks) return Promise.reject(notFound(options.host));
    return connectTcp({ ...options, host: '127.0.0.1' });
  };

  let sender: SyslogSender | undefined;
  assert.doesNotThrow(() => {
    sender = createSender(
      [`tcp://127.0.0.1:${first.port}`, `tcp://${BROKEN_NAME}:${second.port}`],
      // The pool turns active probes off for a custom connector anyway. The option stays explicit,
      // because an active probe would send the name to the system resolver, past the fake one.
      {
        strategy: new RoundRobinStrategy({ recordsPerPick: 1 }),
        connectors: { tcp: connectWithFakeDns },
        activeProbes: false,
      },
    );
  });
  assert.ok(sender);
  const active = sender;
  t.after(() => active.close(1_000));
  const brokenChanges: UpstreamStatusChange[] = [];
  active.on('status', (change) => {
    if (change.index === 1) brokenChanges.push(change);
  });

  for (let n = 1; n <= 10; n += 1) assert.doesNotThrow(() => active.send(`${n}`));
  await first.waitForFrames(10);
  await waitUntil(() => lookups >= 3, 'three lookups of the broken name failed');

  const brokenStats = active.stats().upstreams[1];
  assert.equal(brokenStats.status, 'down');
  assert.match(brokenStats.reason ?? '', /ENOTFOUND logs2\.example\.com/);
  assert.deepEqual(brokenChanges.map((change) => `${change.from}->${change.to}`), ['connecting->down']);
  assert.equal((brokenChanges[0].error as NodeJS.ErrnoException).code, 'ENOTFOUND');
  assert.deepEqual(first.frames.map(numberOf), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.equal(second.connections.length, 0);

  // The lookup works again: the upstream comes up and takes its share of new events.
  lookupWorks = true;
  await waitUntil(() => active.stats().upstreams[1].status === 'up', 'the repaired upstream is up');
  assert.deepEqual(brokenChanges.map((change) => change.to), ['down', 'up']);
  for (let n = 11; n <= 20; n += 1) active.send(`${n}`);
  await waitUntil(() => first.frames.length + second.frames.length >= 20, 'events 11 to 20 arrived');

  assert.deepEqual(second.frames.map(numberOf), [12, 14, 16, 18, 20]);
  assert.deepEqual(first.frames.map(numberOf).slice(10), [11, 13, 15, 17, 19]);
  assert.deepEqual(second.frames, [12, 14, 16, 18, 20].map((n) => fixtureMessage(`${n}`)));
  const stats = active.stats();
  assert.equal(stats.accepted, 20);
  assert.deepEqual(stats.dropped, { full: 0, 'io-error': 0, oversize: 0, closed: 0 });
});

test('SyslogSender - custom connector keeps default probes passive', async (t) => {
  const collector = await TestCollector.start();
  t.after(() => collector.close());
  // The URL names a port with no listener; the connector reaches the collector another way, as a
  // tunnel or a resolver of its own would. A handshake straight to the URL's port would fail.
  const unused = await TestCollector.start();
  const unusedPort = unused.port;
  await unused.close();
  const tunnel: ConnectFunction = (options) => connectTcp({ ...options, port: collector.port });

  const sender = createSender([`tcp://127.0.0.1:${unusedPort}`], { connectors: { tcp: tunnel }, probeIntervalMs: 50 });
  t.after(() => sender.close(1_000));
  const changes: string[] = [];
  sender.on('status', (change) => changes.push(`${change.from}->${change.to}`));

  sender.send('E1');
  await collector.waitForFrames(1);
  // Ten probe intervals: an active probe would have failed and torn the connection down each time.
  await delay(500);
  sender.send('E2');
  await collector.waitForFrames(2);

  assert.deepEqual(changes, ['connecting->up']);
  assert.equal(collector.connections.length, 1);
  assert.deepEqual(collector.frames, ['E1', 'E2'].map(fixtureMessage));
  assert.equal(sender.stats().upstreams[0].connects, 1);
});
