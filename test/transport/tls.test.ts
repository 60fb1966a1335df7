import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test, type TestContext } from 'node:test';
import type { UpstreamOptions } from '../../src/pool/upstream-config.js';
import type { UpstreamStatusChange } from '../../src/pool/upstream.js';
import { FailoverStrategy } from '../../src/strategy/failover.js';
import { RoundRobinStrategy } from '../../src/strategy/round-robin.js';
import { issueServerCertificate, makeTestCertificates, type IssuedCertificate } from '../helpers/rsyslog.js';
import { createSender, delay, fixtureMessage, waitUntil } from '../helpers/sender.js';
import { TlsTestCollector } from '../helpers/tls-collector.js';

/** Names resolved by `loopbackLookup`; the tests never look them up in DNS. */
const LOGS1 = 'logs1.example.com';
const LOGS2 = 'logs2.example.com';

interface Authority {
  caFile: string;
  caKeyFile: string;
  ca: Buffer;
  /** A certificate for 127.0.0.1, ::1 and localhost, signed by this CA. */
  server: IssuedCertificate;
}

let directory: string;
/** The CA every test trusts, and certificates it signed. */
let trusted: Authority;
/** A second CA, trusted only where a test passes it. */
let untrusted: Authority;
let logs1: IssuedCertificate;
let logs2: IssuedCertificate;
let everyName: IssuedCertificate;
let expired: IssuedCertificate;

async function makeAuthority(name: string): Promise<Authority> {
  const files = await makeTestCertificates(join(directory, name));
  const server = { certFile: files.certFile, keyFile: files.keyFile, cert: await readFile(files.certFile), key: await readFile(files.keyFile) };
  return { caFile: files.caFile, caKeyFile: files.caKeyFile, ca: files.ca, server };
}

before(async () => {
  directory = await mkdtemp(join(tmpdir(), 'resilient-syslog-tls-'));
  [trusted, untrusted] = await Promise.all([makeAuthority('trusted'), makeAuthority('untrusted')]);
  [logs1, logs2, everyName, expired] = await Promise.all([
    issueServerCertificate(trusted, directory, 'logs1', [LOGS1]),
    issueServerCertificate(trusted, directory, 'logs2', [LOGS2]),
    issueServerCertificate(trusted, directory, 'every-name', [LOGS1, LOGS2, '127.0.0.1', '::1']),
    issueServerCertificate(trusted, directory, 'expired', [LOGS1], {
      notBefore: new Date('2020-01-01T00:00:00Z'),
      notAfter: new Date('2020-01-02T00:00:00Z'),
    }),
  ]);
});

after(() => rm(directory, { recursive: true, force: true }));

/** Resolves every name to 127.0.0.1 for tls.connect, so no DNS query leaves the host. */
function loopbackLookup(
  _hostname: string,
  options: { all?: boolean },
  callback: (error: Error | null, address: string | Array<{ address: string; family: number }>, family?: number) => void,
): void {
  if (options.all) callback(null, [{ address: '127.0.0.1', family: 4 }]);
  else callback(null, '127.0.0.1', 4);
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

function errorCode(change: UpstreamStatusChange | undefined): string | undefined {
  return (change?.error as NodeJS.ErrnoException | undefined)?.code;
}

async function startCollector(t: TestContext, certificate: IssuedCertificate, host = '127.0.0.1', port = 0): Promise<TlsTestCollector> {
  const collector = await TlsTestCollector.start(certificate, host, port);
  t.after(() => collector.close());
  return collector;
}

/** Returns a TCP port on 127.0.0.1 that nothing listened on a moment ago. */
async function closedTcpPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

test('TLS transport - verifies each upstream by its own name', async (t) => {
  // Neither certificate lists 127.0.0.1, so each handshake passes only through its servername.
  const first = await startCollector(t, logs1);
  const second = await startCollector(t, logs2);
  const sender = createSender(
    [
      { url: `tls://127.0.0.1:${first.port}`, tls: { ca: trusted.ca, servername: LOGS1 } },
      { url: `tls://127.0.0.1:${second.port}`, tls: { ca: trusted.ca, servername: LOGS2 } },
    ],
    { strategy: new RoundRobinStrategy({ recordsPerPick: 1 }) },
  );
  t.after(() => sender.close(1_000));

  await waitUntil(() => sender.stats().upstreams.every((upstream) => upstream.status === 'up'), 'both upstreams are up');
  for (let n = 1; n <= 4; n += 1) sender.send(`E${n}`);
  await first.waitForFrames(2);
  await second.waitForFrames(2);

  assert.deepEqual(first.frames, ['E1', 'E3'].map(fixtureMessage));
  assert.deepEqual(second.frames, ['E2', 'E4'].map(fixtureMessage));
  assert.deepEqual(first.sessions.map((session) => session.servername), [LOGS1]);
  assert.deepEqual(second.sessions.map((session) => session.servername), [LOGS2]);
});

test('TLS transport - rejects backup with wrong certificate', async (t) => {
  const primaryPort = await closedTcpPort();
  // The backup is expected to be logs2 but presents the certificate of logs1, from the same CA.
  const backup = await startCollector(t, logs1);
  const sender = createSender(
    [
      { url: `tls://127.0.0.1:${primaryPort}`, tls: { ca: trusted.ca, servername: LOGS1 } },
      { url: `tls://127.0.0.1:${backup.port}`, tls: { ca: trusted.ca, servername: LOGS2 }, backup: true },
    ],
    { strategy: new FailoverStrategy() },
  );
  t.after(() => sender.close(1_000));
  const statuses = recordStatuses(sender);

  const marker = 'must-not-leave-in-clear';
  for (let n = 1; n <= 3; n += 1) sender.send(`${marker} E${n}`);
  await waitUntil(() => backup.connections >= 3, 'the sender tried the backup three times');

  const backupChanges = statuses.get(1) ?? [];
  assert.equal(backupChanges[0]?.to, 'down');
  assert.equal(errorCode(backupChanges[0]), 'ERR_TLS_CERT_ALTNAME_INVALID');
  assert.ok(backupChanges.every((change) => change.to === 'down'), 'the backup came up');
  assert.equal(sender.stats().upstreams[1].status, 'down');
  assert.equal(backup.sessions.length, 0);
  assert.equal(sender.stats().pending, 3);
  assert.equal(sender.stats().sent, 0);
  const raw = backup.rawBytes;
  assert.ok(raw.length > 0, 'the backup received no ClientHello');
  // 0x16 is the TLS handshake record type: each connection began with a ClientHello.
  assert.equal(raw[0], 0x16);
  assert.equal(raw.includes(marker), false, 'an event went to the backup in clear');

  // The primary comes up: the events waited for it and leave now.
  const primary = await startCollector(t, logs1, '127.0.0.1', primaryPort);
  await primary.waitForFrames(3);
  assert.deepEqual(primary.frames, [1, 2, 3].map((n) => fixtureMessage(`${marker} E${n}`)));
  assert.equal(backup.sessions.length, 0);
  assert.equal(backup.rawBytes.includes(marker), false, 'an event went to the backup in clear');
});

interface SniCase {
  name: string;
  upstream: (ports: { ipv4: number; ipv6: number }) => UpstreamOptions;
  expected: string | false;
}

const SNI_CASES: SniCase[] = [
  {
    name: 'host name',
    upstream: ({ ipv4 }) => ({ url: `tls://${LOGS1}:${ipv4}`, tls: { ca: trusted.ca, lookup: loopbackLookup } }),
    expected: LOGS1,
  },
  {
    name: 'IPv4 literal',
    upstream: ({ ipv4 }) => ({ url: `tls://127.0.0.1:${ipv4}`, tls: { ca: trusted.ca } }),
    expected: false,
  },
  {
    name: 'IPv6 literal',
    upstream: ({ ipv6 }) => ({ url: `tls://[::1]:${ipv6}`, tls: { ca: trusted.ca } }),
    expected: false,
  },
  {
    name: 'servername on an IP literal',
    upstream: ({ ipv4 }) => ({ url: `tls://127.0.0.1:${ipv4}`, tls: { ca: trusted.ca, servername: LOGS2 } }),
    expected: LOGS2,
  },
  {
    name: 'servername on a host name',
    upstream: ({ ipv4 }) => ({ url: `tls://${LOGS1}:${ipv4}`, tls: { ca: trusted.ca, lookup: loopbackLookup, servername: LOGS2 } }),
    expected: LOGS2,
  },
];

test('TLS transport - sends SNI by host and servername', async (t) => {
  const ipv4 = await startCollector(t, everyName);
  const ipv6 = await startCollector(t, everyName, '::1');
  for (const sniCase of SNI_CASES) {
    await t.test(sniCase.name, async (t) => {
      // Health probes would resolve the host name through the system resolver, so they stay off.
      const sender = createSender([sniCase.upstream({ ipv4: ipv4.port, ipv6: ipv6.port })], { activeProbes: false });
      t.after(() => sender.close(1_000));
      const message = fixtureMessage(`SNI case ${sniCase.name}`);
      sender.send(`SNI case ${sniCase.name}`);

      const collector = sniCase.name === 'IPv6 literal' ? ipv6 : ipv4;
      await waitUntil(() => collector.frames.includes(message), `the event of case ${sniCase.name} arrived`);
      const session = collector.sessions.find((candidate) => candidate.frames.includes(message));
      assert.ok(session, 'no session carried the event');
      assert.equal(session.servername, sniCase.expected);
    });
  }
});

interface BadCertificateCase {
  name: string;
  certificate: () => IssuedCertificate;
  code: string;
}

const BAD_CERTIFICATE_CASES: BadCertificateCase[] = [
  { name: 'expired', certificate: () => expired, code: 'CERT_HAS_EXPIRED' },
  { name: 'other name', certificate: () => logs2, code: 'ERR_TLS_CERT_ALTNAME_INVALID' },
  { name: 'unknown CA', certificate: () => untrusted.server, code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' },
];

test('TLS transport - retries until certificate is fixed', async (t) => {
  for (const badCase of BAD_CERTIFICATE_CASES) {
    await t.test(badCase.name, async (t) => {
      const collector = await startCollector(t, badCase.certificate());
      const sender = createSender(
        [{ url: `tls://127.0.0.1:${collector.port}`, tls: { ca: trusted.ca, servername: LOGS1 } }],
        { reconnect: { minDelayMs: 100, maxDelayMs: 400 } },
      );
      t.after(() => sender.close(1_000));
      const statuses = recordStatuses(sender);

      for (let n = 1; n <= 5; n += 1) sender.send(`E${n}`);
      const cpuBefore = process.cpuUsage();
      const startedAt = Date.now();
      await delay(1_500);
      const cpu = process.cpuUsage(cpuBefore);
      const cpuShare = (cpu.user + cpu.system) / 1000 / (Date.now() - startedAt);

      const changes = statuses.get(0) ?? [];
      assert.deepEqual(changes.map((change) => `${change.from}->${change.to}`), ['connecting->down']);
      assert.equal(errorCode(changes[0]), badCase.code);
      // Backoff from 100 ms, doubling up to 400 ms with jitter: about 4 to 8 attempts in 1.5 s.
      assert.ok(collector.connections >= 2, `${collector.connections} connect attempts, expected retries`);
      assert.ok(collector.connections <= 10, `${collector.connections} connect attempts in 1.5 s`);
      assert.ok(cpuShare < 0.25, `the process used ${Math.round(cpuShare * 100)}% of one core while retrying`);
      assert.equal(collector.sessions.length, 0);
      assert.equal(sender.stats().pending, 5);
      assert.deepEqual(sender.stats().dropped, { full: 0, 'io-error': 0, oversize: 0, closed: 0 });

      // The collector gets a valid certificate; the same sender delivers the buffered events.
      collector.setCertificate(logs1);
      await collector.waitForFrames(5);
      assert.deepEqual(collector.frames, ['E1', 'E2', 'E3', 'E4', 'E5'].map(fixtureMessage));
      assert.equal(sender.stats().upstreams[0].status, 'up');
      assert.equal(sender.stats().replayed, 0);
    });
  }
});

test('TLS transport - rereads caFile on every reconnect', async (t) => {
  const caFile = join(directory, 'current-ca.pem');
  await copyFile(untrusted.caFile, caFile);
  const collector = await startCollector(t, trusted.server);
  const sender = createSender([{ url: `tls://127.0.0.1:${collector.port}`, tls: { caFile } }]);
  t.after(() => sender.close(1_000));
  const statuses = recordStatuses(sender);

  // The file names the wrong CA, so the first attempts fail.
  sender.send('E1');
  await waitUntil(() => sender.stats().upstreams[0].status === 'down', 'the upstream is down');
  assert.equal(errorCode(statuses.get(0)?.[0]), 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');

  await copyFile(trusted.caFile, caFile);
  await collector.waitForFrames(1);
  assert.deepEqual(collector.frames, [fixtureMessage('E1')]);

  // The collector moves to a certificate of the other CA and drops the connection. The file still
  // names the old CA, so reconnecting fails until the file changes again.
  collector.setCertificate(untrusted.server);
  const downBefore = (statuses.get(0) ?? []).filter((change) => change.to === 'down').length;
  collector.destroyConnections();
  // A reconnect that fails for a new reason while the upstream stays down emits no status event,
  // so the reason is read from stats().
  await waitUntil(
    () => /unable to verify/i.test(sender.stats().upstreams[0].reason ?? ''),
    'a reconnect failed verification against the old CA',
  );
  assert.ok((statuses.get(0) ?? []).filter((change) => change.to === 'down').length > downBefore);

  await copyFile(untrusted.caFile, caFile);
  await waitUntil(() => sender.stats().upstreams[0].status === 'up', 'the upstream is up with the new CA');
  sender.send('E2');
  await collector.waitForFrames(2);
  assert.deepEqual(collector.frames, ['E1', 'E2'].map(fixtureMessage));
});
