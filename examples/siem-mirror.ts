// Mirrors security events to two SIEM-style collectors, the way a site feeds an ArcSight-style
// collector over TCP (port 5140 in a typical setup) and a QRadar-style collector over UDP (port
// 5141). Each collector gets every event, as CEF over TCP and as LEEF 2.0 over UDP, through its
// own SyslogSender. Half-way, the UDP collector goes away for a second: the sender receives the
// ICMP port unreachable, keeps the datagrams and delivers them once the collector is back.
//
// Both collectors run inside this process on 127.0.0.1 with ports chosen by the kernel, so the
// example needs no setup and sends nothing off the machine.
//
// Run: npx tsx examples/siem-mirror.ts
import dgram from 'node:dgram';
import { CefFormatter, LeefFormatter, SyslogSender, UpstreamPool, type SyslogSenderOptions } from '../src/index.js';
import { LocalCollector } from './lib/local-collector.js';

/** A UDP syslog collector on a loopback port: one message per datagram (RFC 5426). */
class UdpCollector {
  readonly messages: string[] = [];
  port = 0;
  private socket: dgram.Socket | undefined;

  async start(): Promise<void> {
    const socket = dgram.createSocket('udp4');
    socket.on('message', (datagram) => {
      // The sender's health probes are empty datagrams.
      if (datagram.length > 0) this.messages.push(datagram.toString('utf8'));
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(this.port, '127.0.0.1', () => resolve());
    });
    this.socket = socket;
    this.port = socket.address().port;
  }

  async stop(): Promise<void> {
    const socket = this.socket;
    this.socket = undefined;
    if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
  }
}

interface LoginEvent {
  user: string;
  source: string;
  outcome: 'success' | 'failure';
  detail: string;
}

const EVENTS: LoginEvent[] = [
  { user: 'alice', source: '192.0.2.10', outcome: 'success', detail: 'password' },
  { user: 'bob', source: '198.51.100.7', outcome: 'failure', detail: 'bad password; attempt=3|5' },
  { user: 'carol', source: '203.0.113.42', outcome: 'failure', detail: 'account locked\nby policy' },
  { user: 'dave', source: '192.0.2.11', outcome: 'success', detail: 'key C:\\keys\\dave.pem' },
  { user: 'erin', source: '198.51.100.8', outcome: 'failure', detail: 'unknown user' },
  { user: 'frank', source: '203.0.113.43', outcome: 'success', detail: 'Grüße, MFA ok' },
];

const DEVICE = { vendor: 'Example Corp', product: 'Billing', version: '2.4.1' };
const cef = new CefFormatter(DEVICE);
const leef = new LeefFormatter({ ...DEVICE, leefVersion: '2.0', delimiter: '^' });

function toCef(event: LoginEvent): string {
  return cef.format({
    signatureId: event.outcome === 'success' ? 'login-ok' : 'login-failed',
    name: event.outcome === 'success' ? 'Login succeeded' : 'Login failed',
    severity: event.outcome === 'success' ? 'Low' : 'High',
    extension: { suser: event.user, src: event.source, outcome: event.outcome, msg: event.detail },
  });
}

function toLeef(event: LoginEvent): string {
  return leef.format({
    eventId: event.outcome === 'success' ? 'login-ok' : 'login-failed',
    attributes: { usrName: event.user, src: event.source, sev: event.outcome === 'success' ? 2 : 7, msg: event.detail },
  });
}

/** Short backoff and probes, so the outage below is noticed and healed within the demo. */
const DEMO_POOL = { probeIntervalMs: 200, reconnect: { minDelayMs: 100, maxDelayMs: 500 } };
/** No BOM before MSG, so the MSG starts with `CEF:` or `LEEF:` even for non-ASCII text. */
const MESSAGE: Partial<SyslogSenderOptions> = { appName: 'billing', facility: 'auth', bom: 'never', sequenceId: true };

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting until ${what}`);
    await delay(20);
  }
}

const arcsight = new LocalCollector('arcsight');
const qradar = new UdpCollector();
await arcsight.start();
await qradar.start();
console.log(`ArcSight-style collector: tcp://127.0.0.1:${arcsight.port} (CEF)`);
console.log(`QRadar-style collector:   udp://127.0.0.1:${qradar.port} (LEEF 2.0)\n`);

const cefSender = new SyslogSender({ ...MESSAGE, pool: new UpstreamPool([`tcp://127.0.0.1:${arcsight.port}`], DEMO_POOL) });
const leefSender = new SyslogSender({ ...MESSAGE, pool: new UpstreamPool([`udp://127.0.0.1:${qradar.port}`], DEMO_POOL) });
for (const [name, sender] of [['CEF sender', cefSender], ['LEEF sender', leefSender]] as const) {
  sender.on('status', ({ target, to, reason }) => console.log(`  ${name}: ${target} is ${to}${reason ? ` (${reason})` : ''}`));
  sender.on('warning', (error) => console.log(`  ${name}: warning: ${error.message}`));
}

function mirror(event: LoginEvent): void {
  cefSender.send(toCef(event));
  leefSender.send(toLeef(event));
}

const half = EVENTS.length / 2;
for (const event of EVENTS.slice(0, half)) mirror(event);
await waitFor(() => arcsight.messages.length === half && qradar.messages.length === half, 'both collectors have the first half');
// A datagram counts as delivered once udpReplayWindowMs (200 ms) passed without an ICMP error.
// Datagrams still inside that window when the collector vanishes are sent again, and may then
// arrive twice, so the outage starts after the first half is confirmed.
await waitFor(() => leefSender.pending === 0, 'the UDP sender confirmed the first half');

console.log('\nStopping the UDP collector and sending the second half');
await qradar.stop();
for (const event of EVENTS.slice(half)) mirror(event);
await delay(1_000);
console.log('Starting the UDP collector again on the same port');
await qradar.start();
await waitFor(() => arcsight.messages.length === EVENTS.length && qradar.messages.length >= EVENTS.length, 'both collectors have every event');

const cefResult = await cefSender.close(5_000);
const leefResult = await leefSender.close(5_000);
arcsight.stop();
await qradar.stop();

for (const [title, messages] of [
  ['ArcSight-style collector received (TCP, CEF):', arcsight.messages],
  ['QRadar-style collector received (UDP, LEEF 2.0):', qradar.messages],
] as const) {
  const distinct = new Set(messages.map((message) => /sequenceId="(\d+)"/.exec(message)?.[1])).size;
  console.log(`\n${title} ${messages.length} messages, ${distinct} distinct`);
  for (const message of messages) console.log(`  ${message}`);
}

console.log(
  `\nCEF sender:  ${cefResult.delivered ? 'delivered everything' : `${cefResult.pending} pending`}, ` +
    `${cefSender.stats().replayed} sent again after a failed connection`,
);
console.log(
  `LEEF sender: ${leefResult.delivered ? 'delivered everything' : `${leefResult.pending} pending`}, ` +
    `${leefSender.stats().replayed} sent again after a failed connection`,
);
