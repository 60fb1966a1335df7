import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { test, type TestContext } from 'node:test';
import type { UpstreamStatusChange } from '../../src/pool/upstream.js';
import { FailoverStrategy } from '../../src/strategy/failover.js';
import type { ConnectFunction } from '../../src/transport/options.js';
import { connectUdp } from '../../src/transport/udp.js';
import { TestCollector, UdpTestCollector } from '../helpers/collector.js';
import { createSender, delay, fixtureMessage, waitUntil } from '../helpers/sender.js';

/** Largest UDP payload over IPv4 and over IPv6, in bytes. */
const IPV4_MAX_PAYLOAD = 65_507;
const IPV6_MAX_PAYLOAD = 65_527;

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Returns the non-empty datagrams; the empty ones are the sender's ICMP probes. */
function messageDatagrams(collector: UdpTestCollector): Buffer[] {
  return collector.datagrams.filter((datagram) => datagram.length > 0);
}

/** Returns the longest prefix of `bytes` that is at most `max` bytes and ends on a UTF-8 character boundary. */
function utf8Prefix(bytes: Buffer, max: number): Buffer {
  let end = Math.min(max, bytes.length);
  // A continuation byte (10xxxxxx) at `end` means the cut would split a character.
  while (end < bytes.length && end > 0 && (bytes[end] & 0xc0) === 0x80) end -= 1;
  return bytes.subarray(0, end);
}

/** Collects status changes per upstream index. */
function recordStatuses(sender: ReturnType<typeof createSender>): Map<number, UpstreamStatusChange[]> {
  const changes = new Map<number, UpstreamStatusChange[]>();
  sender.on('status', (change) => {
    const list = changes.get(change.index) ?? [];
    list.push(change);
    changes.set(change.index, list);
  });
  return changes;
}

/** Returns a UDP port on 127.0.0.1 with no socket bound to it a moment ago. */
async function closedUdpPort(): Promise<number> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

/** Skips the test when the loopback interface has no IPv6 address. */
async function requireIpv6Loopback(t: TestContext): Promise<boolean> {
  const socket = dgram.createSocket('udp6');
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, '::1', () => resolve());
    });
    return true;
  } catch (error) {
    t.skip(`::1 is not available: ${(error as Error).message}`);
    return false;
  } finally {
    socket.close();
  }
}

test('UDP transport - one message per datagram without trailer', async (t) => {
  const collector = await UdpTestCollector.start();
  t.after(() => collector.close());
  const sender = createSender([`udp://127.0.0.1:${collector.port}`]);
  t.after(() => sender.close(1_000));

  const messages = ['E1', 'E2 spans\ntwo lines', 'E3 ends with a space ', 'E4 ends with LF\n'];
  for (const message of messages) sender.send(message);
  await collector.waitForMessages(messages.length);
  await delay(100);

  const datagrams = messageDatagrams(collector);
  assert.equal(datagrams.length, messages.length);
  for (const [index, message] of messages.entries()) {
    // RFC 5426 section 3.1: one SYSLOG-MSG per datagram, with no framing, so LF stays as sent.
    assert.deepEqual(datagrams[index], Buffer.from(fixtureMessage(message), 'utf8'), `datagram ${index + 1}`);
  }
  assert.equal(sender.stats().truncated, 0);
});

test('UDP transport - cuts 70,000-byte message at UTF-8 boundary', async (t) => {
  const collector = await UdpTestCollector.start();
  t.after(() => collector.close());
  const sender = createSender(
    [{ url: `udp://127.0.0.1:${collector.port}`, maxDatagramBytes: IPV4_MAX_PAYLOAD }],
    {},
    { maxMessageBytes: 131_072 },
  );
  t.after(() => sender.close(1_000));
  const statuses = recordStatuses(sender);

  // The sender puts a BOM before a MSG with non-ASCII text. The padding makes the cap fall inside
  // a three-byte euro sign, so a byte-exact cut would split it.
  const headerBytes = Buffer.byteLength(fixtureMessage('\ufeff'));
  const padding = 'a'.repeat((IPV4_MAX_PAYLOAD - headerBytes) % 3 === 0 ? 1 : 0);
  const body = padding + '€'.repeat(Math.ceil((70_000 - headerBytes) / 3));
  const full = Buffer.from(fixtureMessage(`\ufeff${body}`), 'utf8');
  assert.ok(full.length >= 70_000, `the message has ${full.length} bytes`);
  const expected = utf8Prefix(full, IPV4_MAX_PAYLOAD);
  assert.ok(expected.length < IPV4_MAX_PAYLOAD, 'the cap does not fall inside a character');

  sender.send(body);
  for (const name of ['E1', 'E2', 'E3']) sender.send(name);
  await collector.waitForMessages(4);

  const [big, ...rest] = messageDatagrams(collector);
  assert.equal(big.length, expected.length);
  assert.deepEqual(big, expected);
  assert.doesNotThrow(() => strictUtf8.decode(big), 'the datagram is not valid UTF-8');
  assert.deepEqual(
    rest.map((datagram) => datagram.toString('utf8')),
    ['E1', 'E2', 'E3'].map(fixtureMessage),
  );
  assert.equal(sender.stats().truncated, 1);
  const primary = statuses.get(0) ?? [];
  assert.deepEqual(primary.map((change) => change.to), ['up']);
  assert.equal(sender.stats().upstreams[0].status, 'up');
});

test('UDP transport - caps datagrams at IPv4 limit when set higher', async (t) => {
  const collector = await UdpTestCollector.start();
  t.after(() => collector.close());
  // 65,527 is valid for IPv6 only; over IPv4 such a datagram fails with EMSGSIZE and would be lost.
  const sender = createSender(
    [{ url: `udp://127.0.0.1:${collector.port}`, maxDatagramBytes: IPV6_MAX_PAYLOAD }],
    {},
    { maxMessageBytes: 131_072 },
  );
  t.after(() => sender.close(1_000));

  sender.send('x'.repeat(70_000));
  sender.send('after');
  await collector.waitForMessages(2);
  const [big, after] = messageDatagrams(collector);
  assert.equal(big.length, IPV4_MAX_PAYLOAD);
  assert.equal(after.toString('utf8'), fixtureMessage('after'));
  assert.equal(sender.stats().truncated, 1);
});

test('UDP transport - survives 300,000-byte message and burst', async (t) => {
  const collector = await UdpTestCollector.start();
  t.after(() => collector.close());
  const sender = createSender(
    [{ url: `udp://127.0.0.1:${collector.port}`, maxDatagramBytes: IPV4_MAX_PAYLOAD }],
    {},
    { maxMessageBytes: 400_000 },
  );
  t.after(() => sender.close(1_000));
  const statuses = recordStatuses(sender);
  await waitUntil(() => sender.stats().upstreams[0].status === 'up', 'the upstream is up');

  sender.send('y'.repeat(300_000));
  sender.send('after the large one');
  await collector.waitForMessages(2);
  const [large, after] = messageDatagrams(collector);
  assert.equal(large.length, IPV4_MAX_PAYLOAD);
  assert.equal(after.toString('utf8'), fixtureMessage('after the large one'));
  assert.equal(sender.stats().truncated, 1);

  // 100 datagrams of 60 KB fill the collector's receive buffer, so the kernel drops some of them.
  // UDP cannot report that; the sender must stay up and keep going.
  const before = messageDatagrams(collector).length;
  const payload = 'z'.repeat(60 * 1024);
  for (let n = 1; n <= 100; n += 1) sender.send(`${n} ${payload}`);
  await sender.flush(10_000);
  assert.equal(sender.stats().upstreams[0].sent, 102);
  await delay(200);
  sender.send('after the burst');
  await waitUntil(() => collector.messages.includes(fixtureMessage('after the burst')), 'the event after the burst arrived');
  const burst = messageDatagrams(collector).slice(before, -1);
  assert.ok(burst.length >= 1, 'no datagram of the burst arrived');
  const prefix = fixtureMessage('');
  const numbers: number[] = [];
  for (const datagram of burst) {
    const text = datagram.toString('utf8');
    const n = Number(text.slice(prefix.length, text.indexOf(' ', prefix.length)));
    assert.equal(text, fixtureMessage(`${n} ${payload}`), `datagram of event ${n} is not one whole message`);
    numbers.push(n);
  }
  assert.deepEqual(numbers, [...numbers].sort((a, b) => a - b));
  assert.equal(sender.stats().truncated, 1);
  assert.deepEqual((statuses.get(0) ?? []).map((change) => change.to), ['up']);
});

test('UDP transport - refused primary fails over once', async (t) => {
  const primaryPort = await closedUdpPort();
  const backup = await UdpTestCollector.start();
  t.after(() => backup.close());
  let attempts = 0;
  const countingConnect: ConnectFunction = (options) => {
    if (options.port === primaryPort) attempts += 1;
    return connectUdp(options);
  };
  const sender = createSender(
    [`udp://127.0.0.1:${primaryPort}`, { url: `udp://127.0.0.1:${backup.port}`, backup: true }],
    { strategy: new FailoverStrategy(), connectors: { udp: countingConnect } },
  );
  t.after(() => sender.close(1_000));
  const statuses = recordStatuses(sender);

  for (let n = 1; n <= 5; n += 1) sender.send(`E${n}`);
  await backup.waitForMessages(5);
  assert.deepEqual(backup.messages, ['E1', 'E2', 'E3', 'E4', 'E5'].map(fixtureMessage));

  // The connect probe draws ICMP port unreachable on every attempt; the status changes only once.
  await waitUntil(() => attempts >= 5, 'five connect attempts to the primary failed');
  const primary = statuses.get(0) ?? [];
  assert.deepEqual(
    primary.map((change) => `${change.from}->${change.to}`),
    ['connecting->down'],
  );
  assert.match(primary[0].reason ?? '', /ECONNREFUSED/);
  assert.equal(sender.stats().upstreams[0].status, 'down');
  assert.match(sender.stats().upstreams[0].reason ?? '', /ECONNREFUSED/);
});

test('UDP transport - resends refused datagram to backup', async (t) => {
  const primary = await UdpTestCollector.start();
  const backup = await UdpTestCollector.start();
  t.after(() => Promise.all([primary.close(), backup.close()]));
  const primaryTarget = `udp://127.0.0.1:${primary.port}`;
  let attempts = 0;
  const countingConnect: ConnectFunction = (options) => {
    if (options.target === primaryTarget) attempts += 1;
    return connectUdp(options);
  };
  // Probes every 10 s, so that the first datagram after the primary closes draws the ICMP error.
  const sender = createSender(
    [primaryTarget, { url: `udp://127.0.0.1:${backup.port}`, backup: true }],
    { strategy: new FailoverStrategy(), probeIntervalMs: 10_000, connectors: { udp: countingConnect } },
  );
  t.after(() => sender.close(1_000));
  const statuses = recordStatuses(sender);

  sender.send('E1');
  await primary.waitForMessages(1);
  // A datagram counts as delivered once udpReplayWindowMs (200 ms) passed without ICMP error.
  await waitUntil(() => sender.stats().confirmed === 1, 'E1 is confirmed');
  await primary.close();
  const attemptsBefore = attempts;
  sender.send('E2');
  await backup.waitForMessages(1);
  sender.send('E3');
  await backup.waitForMessages(2);
  assert.deepEqual(primary.messages, [fixtureMessage('E1')]);
  assert.deepEqual(backup.messages, ['E2', 'E3'].map(fixtureMessage));
  assert.equal(sender.stats().upstreams[0].replayed, 1);

  await waitUntil(() => attempts >= attemptsBefore + 5, 'five reconnect attempts to the primary failed');
  const changes = (statuses.get(0) ?? []).map((change) => `${change.from}->${change.to}`);
  assert.equal(changes.filter((change) => change === 'up->down').length, 1, `changes were ${changes.join(', ')}`);
  // Failed reconnects after the failure add no event, even when their reason differs.
  assert.deepEqual(changes, ['connecting->up', 'up->down']);
  for (const change of statuses.get(0) ?? []) {
    if (change.to === 'down') assert.match(change.reason ?? '', /ECONNREFUSED/);
  }
});

test('UDP and TCP transports - reach collectors on ::1', async (t) => {
  if (!(await requireIpv6Loopback(t))) return;
  const udp = await UdpTestCollector.start('udp6');
  const tcp = await TestCollector.start(0, '::1');
  t.after(() => Promise.all([udp.close(), tcp.close()]));
  const udpSender = createSender([{ url: `udp://[::1]:${udp.port}`, maxDatagramBytes: IPV6_MAX_PAYLOAD }], {}, { maxMessageBytes: 131_072 });
  const tcpSender = createSender([`tcp://[::1]:${tcp.port}`]);
  t.after(() => Promise.all([udpSender.close(1_000), tcpSender.close(1_000)]));

  for (const sender of [udpSender, tcpSender]) {
    sender.send('E1');
    sender.send('E2');
  }
  // Over IPv6 a datagram may carry 65,527 bytes.
  udpSender.send('w'.repeat(70_000));
  await udp.waitForMessages(3);
  await tcp.waitForFrames(2);

  const [first, second, big] = messageDatagrams(udp);
  assert.equal(first.toString('utf8'), fixtureMessage('E1'));
  assert.equal(second.toString('utf8'), fixtureMessage('E2'));
  assert.equal(big.length, IPV6_MAX_PAYLOAD);
  assert.deepEqual(tcp.frames, ['E1', 'E2'].map(fixtureMessage));
  assert.equal(udpSender.stats().upstreams[0].target, `udp://[::1]:${udp.port}`);
  assert.equal(tcpSender.stats().upstreams[0].target, `tcp://[::1]:${tcp.port}`);
  assert.equal(udpSender.stats().upstreams[0].status, 'up');
  assert.equal(tcpSender.stats().upstreams[0].status, 'up');
});
