import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect as connectTcp } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect as connectTls } from 'node:tls';
import {
  RsyslogCollector,
  findRsyslogd,
  freePort,
  makeTestCertificates,
  requireRsyslog,
  type ParsedMessage,
} from './rsyslog.js';

/** Builds an RFC 5424 message whose header fields all differ from rsyslog's defaults. */
function sampleMessage(msgId: string, msg: string): string {
  return `<165>1 2024-03-07T09:05:03.000Z host1.example.com billing 4242 ${msgId} [origin ip="127.0.0.1"] ${msg}`;
}

function octetCounted(message: string): Buffer {
  const payload = Buffer.from(message, 'utf8');
  return Buffer.concat([Buffer.from(`${payload.length} `), payload]);
}

function sendTcp(port: number, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    // Resolves once the bytes and the FIN are handed to the kernel, which also works while the collector is paused.
    const socket = connectTcp({ host: '127.0.0.1', port }, () => socket.end(data));
    socket.on('error', reject);
    socket.on('finish', () => resolve());
  });
}

function sendUdp(port: number, message: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    socket.send(Buffer.from(message, 'utf8'), port, '127.0.0.1', (error) => {
      socket.close();
      if (error) reject(error);
      else resolve();
    });
  });
}

function sendTls(port: number, ca: Buffer, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    // No servername: Node then checks the certificate against the IP address 127.0.0.1.
    const socket = connectTls({ host: '127.0.0.1', port, ca, rejectUnauthorized: true }, () => socket.end(data));
    socket.on('error', reject);
    socket.on('finish', () => resolve());
  });
}

function assertSampleFields(received: ParsedMessage, msgId: string, msg: string): void {
  assert.equal(received.rawmsg, sampleMessage(msgId, msg));
  assert.equal(received.pri, 165);
  assert.equal(received.hostname, 'host1.example.com');
  assert.equal(received.appName, 'billing');
  assert.equal(received.procId, '4242');
  assert.equal(received.msgId, msgId);
  assert.equal(received.structuredData, '[origin ip="127.0.0.1"]');
  assert.equal(received.msg, msg);
}

test('findRsyslogd - returns an executable path or undefined', () => {
  const path = findRsyslogd();
  if (path !== undefined) assert.ok(existsSync(path), `${path} does not exist`);
});

test('requireRsyslog - throws with REQUIRE_RSYSLOG=1 when rsyslogd is missing', (t) => {
  const saved = { RSYSLOGD: process.env.RSYSLOGD, REQUIRE_RSYSLOG: process.env.REQUIRE_RSYSLOG };
  t.after(() => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });
  process.env.RSYSLOGD = '/nonexistent/rsyslogd';

  const skipped: string[] = [];
  const fakeContext = { skip: (message: string) => skipped.push(message) } as unknown as typeof t;
  delete process.env.REQUIRE_RSYSLOG;
  assert.equal(requireRsyslog(fakeContext), false);
  assert.deepEqual(skipped, ['rsyslogd not found']);

  process.env.REQUIRE_RSYSLOG = '1';
  assert.throws(() => requireRsyslog(fakeContext), /rsyslogd not found/);
});

test('freePort - returns distinct ports for tcp and udp', async () => {
  const ports = [await freePort(), await freePort('tcp'), await freePort('udp'), await freePort('udp')];
  for (const port of ports) assert.ok(port > 0 && port < 65536, `port ${port} out of range`);
  assert.equal(new Set(ports).size, ports.length);
});

test('RsyslogCollector - parses an octet-counted TCP frame', { timeout: 30_000 }, async (t) => {
  if (!requireRsyslog(t, ['tcp'])) return;
  const collector = await RsyslogCollector.start({ inputs: ['tcp'] });
  t.after(() => collector.dispose());
  assert.ok(collector.ports.tcp);
  assert.ok(collector.pid > 0);

  const msg = 'card declined for Jürgen: 💳 ошибка';
  await sendTcp(collector.ports.tcp, octetCounted(sampleMessage('TCP1', msg)));
  const [received] = await collector.waitFor(1);
  assertSampleFields(received, 'TCP1', msg);
});

test('RsyslogCollector - parses a UDP datagram', { timeout: 30_000 }, async (t) => {
  if (!requireRsyslog(t, ['udp'])) return;
  const collector = await RsyslogCollector.start({ inputs: ['udp'] });
  t.after(() => collector.dispose());
  assert.ok(collector.ports.udp);

  const msg = 'datagram with a "quote" and a \\ backslash';
  await sendUdp(collector.ports.udp, sampleMessage('UDP1', msg));
  const [received] = await collector.waitFor(1);
  assertSampleFields(received, 'UDP1', msg);
});

test('RsyslogCollector - parses a TLS frame', { timeout: 30_000 }, async (t) => {
  if (!requireRsyslog(t, ['tls'])) return;
  const certificateDirectory = await mkdtemp(join(tmpdir(), 'resilient-syslog-certs-'));
  t.after(() => rm(certificateDirectory, { recursive: true, force: true }));
  const certificates = await makeTestCertificates(certificateDirectory, ['collector.test']);
  const collector = await RsyslogCollector.start({ inputs: ['tls'], tls: certificates });
  t.after(() => collector.dispose());
  assert.ok(collector.ports.tls);

  const msg = 'über TLS';
  await sendTls(collector.ports.tls, certificates.ca, octetCounted(sampleMessage('TLS1', msg)));
  const [received] = await collector.waitFor(1);
  assertSampleFields(received, 'TLS1', msg);
});

test('RsyslogCollector - opens every input at once', { timeout: 30_000 }, async (t) => {
  if (!requireRsyslog(t, ['tcp', 'udp', 'relp'])) return;
  const collector = await RsyslogCollector.start({ inputs: ['tcp', 'udp', 'relp'] });
  t.after(() => collector.dispose());

  const { tcp, udp, relp } = collector.ports;
  assert.ok(tcp, 'no tcp port');
  assert.ok(udp, 'no udp port');
  assert.ok(relp, 'no relp port');
  assert.equal(new Set([tcp, udp, relp]).size, 3);
  await sendTcp(tcp, octetCounted(sampleMessage('ALL1', 'tcp')));
  await sendUdp(udp, sampleMessage('ALL2', 'udp'));
  const received = await collector.waitFor(2);
  assert.deepEqual(received.map((message) => message.msgId).sort(), ['ALL1', 'ALL2']);
});

test('RsyslogCollector - keeps a message up to maxMessageSize', { timeout: 30_000 }, async (t) => {
  if (!requireRsyslog(t, ['tcp'])) return;
  const collector = await RsyslogCollector.start({ inputs: ['tcp'], maxMessageSize: '64k' });
  t.after(() => collector.dispose());

  const msg = 'x'.repeat(40_000);
  await sendTcp(collector.ports.tcp!, octetCounted(sampleMessage('BIG1', msg)));
  const [received] = await collector.waitFor(1);
  assert.equal(received.msg.length, msg.length);
});

test('RsyslogCollector - restart keeps the port and appends', { timeout: 30_000 }, async (t) => {
  if (!requireRsyslog(t, ['tcp'])) return;
  const collector = await RsyslogCollector.start({ inputs: ['tcp'] });
  t.after(() => collector.dispose());
  const port = collector.ports.tcp!;
  const firstPid = collector.pid;

  await sendTcp(port, octetCounted(sampleMessage('RS1', 'before')));
  await collector.waitFor(1);
  await collector.kill();
  assert.equal(collector.running, false);

  await collector.restart();
  assert.equal(collector.ports.tcp, port);
  assert.notEqual(collector.pid, firstPid);
  await sendTcp(port, octetCounted(sampleMessage('RS2', 'after')));
  const received = await collector.waitFor(2);
  assert.deepEqual(received.map((message) => message.msgId), ['RS1', 'RS2']);

  await collector.restart();
  assert.equal(collector.running, true);
  await collector.stop();
  assert.equal(collector.running, false);
});

test('RsyslogCollector - stores nothing while paused', { timeout: 30_000 }, async (t) => {
  if (!requireRsyslog(t, ['tcp'])) return;
  const collector = await RsyslogCollector.start({ inputs: ['tcp'] });
  t.after(() => collector.dispose());

  await collector.pause();
  // The kernel still completes the handshake and buffers the bytes for the frozen process.
  await sendTcp(collector.ports.tcp!, octetCounted(sampleMessage('P1', 'while paused')));
  await sleep(300);
  assert.equal((await collector.received()).length, 0);

  await collector.resume();
  const [received] = await collector.waitFor(1);
  assert.equal(received.msgId, 'P1');
});

test('RsyslogCollector - dispose stops rsyslogd and removes its directory', { timeout: 30_000 }, async (t) => {
  if (!requireRsyslog(t, ['tcp'])) return;
  const collector = await RsyslogCollector.start({ inputs: ['tcp'] });
  const pid = collector.pid;
  assert.ok(existsSync(collector.directory));

  await collector.pause();
  await collector.dispose();
  assert.equal(collector.running, false);
  assert.equal(existsSync(collector.directory), false);
  assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' });
  await collector.dispose();
});

test('RsyslogCollector.start - rejects a tls input without certificates', async () => {
  await assert.rejects(RsyslogCollector.start({ inputs: ['tls'] }), /requires CollectorOptions\.tls/);
});
