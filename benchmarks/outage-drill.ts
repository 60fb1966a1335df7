/**
 * The outage drill as a comparison. It sends 2,000 numbered events/s for 12 s to a primary and a
 * backup rsyslog collector. The primary is stopped at 3 s and restarted at 5 s, and both are
 * stopped at 7 s and restarted at 9 s. The drill runs once through resilient-syslog and once
 * through an rsyslog forwarder set up as the failover chain of rsyslog's documentation, and
 * prints the lost and duplicated events of both side by side.
 *
 *   node --import tsx benchmarks/outage-drill.ts [--transport tcp|tls|relp] [--rate 2000]
 *
 * `--transport` sets how resilient-syslog reaches the collectors (default tcp); the forwarder
 * always uses omfwd over TCP. Needs rsyslogd (and rsyslog-relp or rsyslog-gnutls for those
 * transports). Everything runs on 127.0.0.1 with ports picked at run time.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { MessageFormatter } from '../src/format/formatter.js';
import { frameOctetCounting } from '../src/format/framing.js';
import { UpstreamPool } from '../src/pool/upstream-pool.js';
import type { UpstreamOptions } from '../src/pool/upstream-config.js';
import { SyslogSender } from '../src/sender/syslog-sender.js';
import { FailoverStrategy } from '../src/strategy/failover.js';
import { RsyslogCollector, findRsyslogd, freePort, makeTestCertificates } from '../test/helpers/rsyslog.js';
import {
  BENCHMARK_TIMELINE,
  COLLECTOR_START_TIMEOUT_MS,
  DRILL_POOL_OPTIONS,
  drillMessage,
  formatDrillReport,
  parseDrillEntry,
  runDrill,
  senderSink,
  type DrillEntry,
  type DrillReport,
  type DrillSink,
} from '../test/drill/outage-drill.js';

type Transport = 'tcp' | 'tls' | 'relp';

const { values } = parseArgs({
  options: {
    transport: { type: 'string', default: 'tcp' },
    rate: { type: 'string', default: '2000' },
  },
});
const transport = values.transport as Transport;
if (!['tcp', 'tls', 'relp'].includes(transport)) {
  throw new Error(`Invalid --transport ${JSON.stringify(values.transport)}: expected tcp, tls or relp`);
}
const rate = Number(values.rate);
if (!Number.isInteger(rate) || rate <= 0) throw new Error(`Invalid --rate ${JSON.stringify(values.rate)}: expected a positive integer`);

const FORMAT = { appName: 'drill', hostname: 'drill.example.com', procId: 1, sequenceId: true } as const;

/** Runs the drill through a SyslogSender with FailoverStrategy: collector 0 is the primary, collector 1 the backup. */
async function runResilientSyslog(): Promise<{ report: DrillReport; replayed: number }> {
  const certificateDirectory = transport === 'tls' ? await mkdtemp(join(tmpdir(), 'resilient-syslog-drill-certs-')) : undefined;
  const tls = certificateDirectory === undefined ? undefined : await makeTestCertificates(certificateDirectory);
  const collectors = await Promise.all(
    [0, 1].map(() =>
      RsyslogCollector.start({ inputs: [transport], startTimeoutMs: COLLECTOR_START_TIMEOUT_MS, ...(tls ? { tls } : {}) }),
    ),
  );
  const upstreams: UpstreamOptions[] = collectors.map((collector) => ({
    url: `${transport}://127.0.0.1:${collector.ports[transport]}`,
    ...(tls ? { tls: { caFile: tls.caFile } } : {}),
  }));
  const pool = new UpstreamPool(upstreams, { ...DRILL_POOL_OPTIONS, strategy: new FailoverStrategy() });
  const sender = new SyslogSender({ ...FORMAT, pool });
  const sink = senderSink(sender);
  try {
    const report = await runDrill({ collectors, sink, ratePerSecond: rate, ...BENCHMARK_TIMELINE });
    return { report, replayed: sink.result.stats?.replayed ?? 0 };
  } finally {
    await sender.close(1_000);
    await Promise.all(collectors.map((collector) => collector.dispose()));
    if (certificateDirectory) await rm(certificateDirectory, { recursive: true, force: true });
  }
}

/**
 * Builds the forwarder's config: an imtcp input for the drill, then the chain from rsyslog's
 * "Failover Syslog Server" tutorial with the legacy directives it uses. Each action after the
 * first runs only while the one before it is suspended, and the last one writes to a local
 * buffer file. Queues and retries keep rsyslog's defaults, as that tutorial does.
 */
function forwarderConfig(directory: string, inputPort: number, primaryPort: number, backupPort: number, bufferFile: string): string {
  return [
    `global(workDirectory="${join(directory, 'work')}")`,
    'module(load="imtcp")',
    `input(type="imtcp" port="${inputPort}" address="127.0.0.1")`,
    `*.* @@127.0.0.1:${primaryPort}`,
    '$ActionExecOnlyWhenPreviousIsSuspended on',
    `& @@127.0.0.1:${backupPort}`,
    `& ${bufferFile}`,
    '$ActionExecOnlyWhenPreviousIsSuspended off',
    '',
  ].join('\n');
}

/** Connects to 127.0.0.1:`port`, retrying every 50 ms until `timeoutMs` passes. */
async function connectWhenListening(port: number, timeoutMs: number): Promise<net.Socket> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await new Promise<net.Socket>((resolve, reject) => {
        const socket = net.connect({ host: '127.0.0.1', port }, () => {
          socket.removeListener('error', reject);
          resolve(socket);
        });
        socket.once('error', reject);
      });
    } catch (error) {
      if (Date.now() >= deadline) throw new Error(`The forwarder did not listen on 127.0.0.1:${port} within ${timeoutMs} ms`, { cause: error });
      await sleep(50);
    }
  }
}

/** Creates a sink that writes octet-counted RFC 5424 messages to the forwarder's imtcp input over one connection. */
function forwarderSink(socket: net.Socket): DrillSink {
  const formatter = new MessageFormatter(FORMAT);
  let failure: Error | undefined;
  socket.on('error', (error) => (failure = error));
  return {
    send(n) {
      const payload = formatter.format({ message: drillMessage(n) }, n);
      socket.write(frameOctetCounting(payload, Buffer.byteLength(payload)));
    },
    async close() {
      // The forwarder never goes down in this drill, so its input connection must stay healthy.
      if (failure) throw new Error(`The connection to the forwarder failed: ${failure.message}`);
      await new Promise<void>((resolve) => socket.end(resolve));
    },
  };
}

/** Reads drill events from the forwarder's local buffer file, one message per line. */
async function readBufferFile(path: string): Promise<DrillEntry[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const entries: DrillEntry[] = [];
  for (const line of text.split('\n')) {
    const entry = parseDrillEntry(line);
    if (entry !== undefined) entries.push(entry);
  }
  return entries;
}

async function runForwarder(rsyslogd: string): Promise<DrillReport> {
  const collectors = await Promise.all(
    [0, 1].map(() => RsyslogCollector.start({ inputs: ['tcp'], startTimeoutMs: COLLECTOR_START_TIMEOUT_MS })),
  );
  const directory = await mkdtemp(join(tmpdir(), 'resilient-syslog-forwarder-'));
  await mkdir(join(directory, 'work'));
  const configFile = join(directory, 'rsyslog.conf');
  const bufferFile = join(directory, 'localbuffer');
  const inputPort = await freePort();
  await writeFile(configFile, forwarderConfig(directory, inputPort, collectors[0].ports.tcp!, collectors[1].ports.tcp!, bufferFile));

  let forwarder: ChildProcess | undefined;
  let output = '';
  try {
    forwarder = spawn(rsyslogd, ['-n', '-f', configFile, '-i', join(directory, 'rsyslogd.pid')], { stdio: ['ignore', 'pipe', 'pipe'] });
    forwarder.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    forwarder.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const socket = await connectWhenListening(inputPort, 10_000);
    return await runDrill({
      collectors,
      sink: forwarderSink(socket),
      ratePerSecond: rate,
      ...BENCHMARK_TIMELINE,
      extraSources: [{ name: 'local buffer file', read: () => readBufferFile(bufferFile) }],
    });
  } catch (error) {
    throw new Error(`${(error as Error).message}${output ? `\nforwarder output:\n${output.trim()}` : ''}`, { cause: error });
  } finally {
    forwarder?.kill('SIGTERM');
    await Promise.all(collectors.map((collector) => collector.dispose()));
    await rm(directory, { recursive: true, force: true });
  }
}

/** Counts distinct events that reached a collector, and those found only in the local buffer file. */
function summarize(report: DrillReport): { delivered: number; bufferOnly: number } {
  const delivered = new Set<number>();
  const buffered = new Set<number>();
  for (const source of report.sources) {
    for (const n of source.numbers) (source.name === 'local buffer file' ? buffered : delivered).add(n);
  }
  let bufferOnly = 0;
  for (const n of buffered) if (!delivered.has(n)) bufferOnly += 1;
  return { delivered: delivered.size, bufferOnly };
}

function formatCount(value: number | string): string {
  return (typeof value === 'number' ? value.toLocaleString('en-US') : value).padStart(24);
}

const rsyslogd = findRsyslogd();
if (rsyslogd === undefined) throw new Error('rsyslogd not found: install rsyslog (and rsyslog-relp, rsyslog-gnutls) or set RSYSLOGD');
const versionMatch = /rsyslogd\s+(\S+)/.exec(spawnSync(rsyslogd, ['-v'], { encoding: 'utf8' }).stdout);
const version = `rsyslog ${versionMatch?.[1] ?? 'of unknown version'}`;

console.log(`Outage drill: ${rate.toLocaleString('en-US')} events/s for 12 s to 2 collectors (${version}) on 127.0.0.1.`);
console.log('Primary stopped (SIGTERM) at 3 s, restarted at 5 s; both stopped at 7 s, restarted at 9 s.\n');

const ours = await runResilientSyslog();
console.log(formatDrillReport(`resilient-syslog over ${transport}, FailoverStrategy, memory queue`, ours.report));
const windowNote = transport === 'relp' ? '' : `replay window ${DRILL_POOL_OPTIONS.replayWindowMs} ms, `;
console.log(`  ${windowNote}records replayed ${ours.replayed}\n`);

const theirs = await runForwarder(rsyslogd);
console.log(formatDrillReport('rsyslog forwarder, omfwd TCP failover chain', theirs));
console.log('');

const oursSummary = summarize(ours.report);
const theirsSummary = summarize(theirs);
console.log(`${''.padEnd(28)}${`resilient-syslog (${transport})`.padStart(24)}${'rsyslog failover chain'.padStart(24)}`);
const rows: Array<[string, number | string, number | string]> = [
  ['events sent', ours.report.sent, theirs.sent],
  ['delivered to a collector', oursSummary.delivered, theirsSummary.delivered],
  ['only in local buffer file', '-', theirsSummary.bufferOnly],
  ['lost', ours.report.lost.length, theirs.lost.length],
  ['duplicates', ours.report.duplicates, theirs.duplicates],
];
for (const [label, left, right] of rows) console.log(`${label.padEnd(28)}${formatCount(left)}${formatCount(right)}`);
