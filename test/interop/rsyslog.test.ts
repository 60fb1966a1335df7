import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test, type TestContext } from 'node:test';
import type { MessageFormat } from '../../src/format/format-options.js';
import type { SyslogEvent } from '../../src/format/types.js';
import type { UpstreamOptions } from '../../src/pool/upstream-config.js';
import { FailoverStrategy } from '../../src/strategy/failover.js';
import { RsyslogCollector, makeTestCertificates, requireRsyslog, type ParsedMessage } from '../helpers/rsyslog.js';
import { createSender, delay, waitUntil } from '../helpers/sender.js';

/** One event and the fields rsyslog is expected to parse from it. */
interface InteropCase {
  event: SyslogEvent;
  pri: number;
  msgId: string;
  structuredData: string;
  /** MSG as rsyslog stores it: LF as `#012`, CR as `#015`, TAB as `#011` (rsyslog escapes control characters on reception). */
  storedText: string;
}

/** Facility local4 (20); PRI is 20 * 8 + severity. */
const FACILITY = 'local4';

const UTF8_TEXT = 'Jürgen paid 12 € — ошибка 💳 日本語';

/**
 * The parameter values contain every character that RFC 5424 section 6.3.3 requires to be
 * escaped in a PARAM-VALUE: `"`, `\` and `]`. The expected STRUCTURED-DATA is written out by hand.
 */
const SD_EVENT_DATA = {
  'order@32473': { note: 'say "hi"', path: 'C:\\logs\\app', range: '[0]', all: '"\\]' },
  origin: { ip: '127.0.0.1' },
};
const SD_EXPECTED = '[order@32473 note="say \\"hi\\"" path="C:\\\\logs\\\\app" range="[0\\]" all="\\"\\\\\\]"][origin ip="127.0.0.1"]';

const CASES: InteropCase[] = [
  {
    event: { severity: 'err', msgId: 'ASCII', message: 'plain ASCII event' },
    pri: 163,
    msgId: 'ASCII',
    structuredData: '-',
    storedText: 'plain ASCII event',
  },
  {
    event: { severity: 'warning', msgId: 'UTF8', message: UTF8_TEXT },
    pri: 164,
    msgId: 'UTF8',
    structuredData: '-',
    storedText: UTF8_TEXT,
  },
  {
    event: { severity: 'notice', msgId: 'LINES', message: 'first line\nsecond line\r\n\tthird line' },
    pri: 165,
    msgId: 'LINES',
    structuredData: '-',
    storedText: 'first line#012second line#015#012#011third line',
  },
  {
    event: { severity: 'info', msgId: 'SD', structuredData: SD_EVENT_DATA, message: 'with structured data' },
    pri: 166,
    msgId: 'SD',
    structuredData: SD_EXPECTED,
    storedText: 'with structured data',
  },
];

/**
 * Returns the MSG that rsyslog 8.2302 stores. RFC 5424: a BOM precedes a MSG with non-ASCII
 * characters (the sender's `bom: 'auto'`) and rsyslog keeps it. RFC 3164: rsyslog's `msg`
 * property starts with the space that follows the TAG's colon.
 */
function storedMsg(format: MessageFormat, text: string): string {
  if (format === 'rfc3164') return ` ${text}`;
  return /[^\x00-\x7f]/.test(text) ? `\ufeff${text}` : text;
}

/** Returns the raw message rsyslog stores: what the sender formatted, with control characters escaped. */
function storedRawMessage(format: MessageFormat, appName: string, interopCase: InteropCase): string {
  const msg = storedMsg(format, interopCase.storedText);
  if (format === 'rfc3164') return `<${interopCase.pri}>Mar  7 09:05:03 host1 ${appName}[4242]:${msg}`;
  const header = `<${interopCase.pri}>1 2024-03-07T09:05:03.000Z host1.example.com ${appName} 4242`;
  return `${header} ${interopCase.msgId} ${interopCase.structuredData} ${msg}`;
}

let certificateDirectory: string | undefined;
let sharedCollector: Promise<{ collector: RsyslogCollector; ca: Buffer }> | undefined;

/** Starts one rsyslogd with TCP, UDP and TLS inputs for every field test in this file. */
function startSharedCollector(): Promise<{ collector: RsyslogCollector; ca: Buffer }> {
  sharedCollector ??= (async () => {
    certificateDirectory = await mkdtemp(join(tmpdir(), 'resilient-syslog-interop-'));
    const certificates = await makeTestCertificates(certificateDirectory);
    const collector = await RsyslogCollector.start({ inputs: ['tcp', 'udp', 'tls'], tls: certificates });
    return { collector, ca: certificates.ca };
  })();
  return sharedCollector;
}

after(async () => {
  if (sharedCollector) await (await sharedCollector).collector.dispose();
  if (certificateDirectory) await rm(certificateDirectory, { recursive: true, force: true });
});

type TransportName = 'udp' | 'tcp-octet-counting' | 'tcp-lf' | 'tls';

function upstreamFor(transport: TransportName, collector: RsyslogCollector, ca: Buffer): UpstreamOptions {
  const { tcp, udp, tls } = collector.ports;
  switch (transport) {
    case 'udp':
      return { url: `udp://127.0.0.1:${udp}` };
    case 'tcp-octet-counting':
      return { url: `tcp://127.0.0.1:${tcp}`, framing: 'octet-counting' };
    case 'tcp-lf':
      return { url: `tcp://127.0.0.1:${tcp}`, framing: 'lf' };
    case 'tls':
      return { url: `tls://127.0.0.1:${tls}`, tls: { ca, rejectUnauthorized: true } };
  }
}

/** Sends every case through one sender and returns what rsyslog parsed for this sender's APP-NAME. */
async function sendCases(
  t: TestContext,
  transport: TransportName,
  format: MessageFormat,
  appName: string,
): Promise<ParsedMessage[] | undefined> {
  if (!requireRsyslog(t, ['tcp', 'udp', 'tls'])) return undefined;
  const { collector, ca } = await startSharedCollector();
  const sender = createSender([upstreamFor(transport, collector, ca)], {}, { format, appName, facility: FACILITY, timeZone: 'UTC' });
  try {
    for (const interopCase of CASES) assert.equal(sender.send(interopCase.event), true);
    await sender.flush(5_000);
    assert.deepEqual(await sender.close(5_000), { delivered: true, pending: 0 });
  } finally {
    await sender.close(1_000);
  }
  return waitForAppName(collector, appName, CASES.length);
}

/** Polls rsyslog's output until it contains `count` messages with `appName`; fails after 10 s. */
async function waitForAppName(collector: RsyslogCollector, appName: string, count: number): Promise<ParsedMessage[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const mine = (await collector.received()).filter((message) => message.appName === appName);
    if (mine.length >= count) return mine;
    if (Date.now() > deadline) throw new Error(`rsyslog stored ${mine.length} of ${count} messages from ${appName} within 10,000 ms`);
    await delay(20);
  }
}

for (const transport of ['udp', 'tcp-octet-counting', 'tcp-lf', 'tls'] as const) {
  for (const format of ['rfc5424', 'rfc3164'] as const) {
    test(`rsyslog interop - ${transport} ${format} fields match`, { timeout: 30_000 }, async (t) => {
      // RFC 3164 limits the TAG, `[4242]:` included, to 32 characters, so the name stays short.
      const appName = `${transport.replace('-octet-counting', '-oc')}-${format.slice(3)}`;
      const received = await sendCases(t, transport, format, appName);
      if (received === undefined) return;

      assert.equal(received.length, CASES.length, `rsyslog stored ${received.length} messages`);
      for (const [index, interopCase] of CASES.entries()) {
        const message: ParsedMessage = received[index];
        const label = `${interopCase.msgId} over ${transport} (${format})`;
        assert.equal(message.pri, interopCase.pri, `PRI of ${label}`);
        assert.equal(message.hostname, format === 'rfc5424' ? 'host1.example.com' : 'host1', `HOSTNAME of ${label}`);
        assert.equal(message.appName, appName, `APP-NAME of ${label}`);
        assert.equal(message.procId, '4242', `PROCID of ${label}`);
        assert.equal(message.msgId, format === 'rfc5424' ? interopCase.msgId : '-', `MSGID of ${label}`);
        assert.equal(message.structuredData, format === 'rfc5424' ? interopCase.structuredData : '-', `SD of ${label}`);
        assert.equal(message.msg, storedMsg(format, interopCase.storedText), `MSG of ${label}`);
        assert.equal(message.rawmsg, storedRawMessage(format, appName, interopCase), `raw message of ${label}`);
      }
    });
  }
}

test('rsyslog interop - failover pair loses nothing across a restart', { timeout: 60_000 }, async (t) => {
  if (!requireRsyslog(t, ['tcp'])) return;
  const [primary, backup] = await Promise.all([
    RsyslogCollector.start({ inputs: ['tcp'] }),
    RsyslogCollector.start({ inputs: ['tcp'] }),
  ]);
  t.after(() => Promise.all([primary.dispose(), backup.dispose()]));

  const primaryTarget = `tcp://127.0.0.1:${primary.ports.tcp}`;
  const sender = createSender(
    [primaryTarget, { url: `tcp://127.0.0.1:${backup.ports.tcp}`, backup: true }],
    { strategy: new FailoverStrategy({ failbackProbes: 2 }), replayWindowMs: 500 },
    { appName: 'interop-failover' },
  );
  t.after(() => sender.close(1_000));
  const primaryStatuses: string[] = [];
  sender.on('status', (change) => {
    if (change.target === primaryTarget) primaryStatuses.push(change.to);
  });
  const sendRange = (first: number, last: number): void => {
    for (let n = first; n <= last; n += 1) sender.send({ msgId: `E${n}`, message: `event ${n}` });
  };

  sendRange(1, 20);
  await primary.waitFor(20);

  // SIGTERM: rsyslogd closes its connections and exits; the events sent now go to the backup.
  await primary.stop();
  sendRange(21, 40);
  await waitUntil(() => sender.stats().upstreams[0].status === 'down', 'the stopped primary is down');
  await sender.flush(10_000);

  await primary.restart();
  await waitUntil(() => sender.stats().upstreams[0].status === 'up', 'the restarted primary is up');
  // Traffic fails back once the restarted primary passed two health probes.
  await waitUntil(() => sender.pool.upstreams[0].probesPassed >= 2, 'the restarted primary passed two probes');
  sendRange(41, 60);
  await sender.flush(10_000);
  assert.deepEqual(await sender.close(5_000), { delivered: true, pending: 0 });

  const onPrimary = (await primary.received()).map((message) => message.msgId);
  const onBackup = (await backup.received()).map((message) => message.msgId);
  const arrived = new Set([...onPrimary, ...onBackup]);
  const missing = Array.from({ length: 60 }, (_, index) => `E${index + 1}`).filter((id) => !arrived.has(id));
  assert.deepEqual(missing, []);
  assert.ok(onBackup.includes('E21'), `the backup received ${onBackup.join(', ')}`);
  assert.ok(onPrimary.includes('E60'), `the primary received ${onPrimary.join(', ')} after its restart`);
  assert.ok(primaryStatuses.includes('down'), `primary statuses were ${primaryStatuses.join(', ')}`);
  assert.equal(sender.stats().dropped.full, 0);
});
