/**
 * The outage drill against three real rsyslog collectors, per transport, strategy and queue.
 *
 * By default six combinations run (each transport with both strategies, the queue alternating),
 * about 65 s in all on 2 cores. DRILL_FULL=1 runs all twelve in about 2 minutes, which needs a
 * `--test-timeout` above 120,000 ms because the runner applies it to the whole file as well. DRILL_RATE and DRILL_REPLAY_WINDOW_MS override
 * the event rate and the replay window, for measuring.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { RsyslogCollector, makeTestCertificates, requireRsyslog } from '../helpers/rsyslog.js';
import { DiskBuffer } from '../../src/buffer/disk-buffer.js';
import { UpstreamPool } from '../../src/pool/upstream-pool.js';
import type { UpstreamOptions } from '../../src/pool/upstream-config.js';
import { SyslogSender } from '../../src/sender/syslog-sender.js';
import { FailoverStrategy } from '../../src/strategy/failover.js';
import { RoundRobinStrategy } from '../../src/strategy/round-robin.js';
import {
  COLLECTOR_START_TIMEOUT_MS,
  DRILL_POOL_OPTIONS,
  TEST_TIMELINE,
  formatDrillReport,
  runDrill,
  senderSink,
} from './outage-drill.js';

type Transport = 'tcp' | 'tls' | 'relp';
type StrategyName = 'failover' | 'round-robin';
type QueueName = 'memory' | 'disk';

interface Combination {
  transport: Transport;
  strategy: StrategyName;
  queue: QueueName;
}

const FULL = process.env.DRILL_FULL === '1';
const RATE = Number(process.env.DRILL_RATE ?? 400);
const REPLAY_WINDOW_MS = process.env.DRILL_REPLAY_WINDOW_MS === undefined ? undefined : Number(process.env.DRILL_REPLAY_WINDOW_MS);

const TRANSPORTS: Transport[] = ['tcp', 'tls', 'relp'];
const STRATEGIES: StrategyName[] = ['failover', 'round-robin'];

/** Returns every combination with DRILL_FULL=1, otherwise each transport with both strategies and the queues alternating. */
function combinations(): Combination[] {
  const list: Combination[] = [];
  let alternate = 0;
  for (const transport of TRANSPORTS) {
    for (const strategy of STRATEGIES) {
      if (FULL) {
        list.push({ transport, strategy, queue: 'memory' }, { transport, strategy, queue: 'disk' });
      } else {
        list.push({ transport, strategy, queue: alternate % 2 === 0 ? 'memory' : 'disk' });
        alternate += 1;
      }
    }
  }
  return list;
}

let certificates: Promise<{ caFile: string; certFile: string; keyFile: string }> | undefined;

/** Creates the TLS certificates once per file, in a directory removed when the process exits. */
function testCertificates(): Promise<{ caFile: string; certFile: string; keyFile: string }> {
  certificates ??= (async () => {
    const directory = await mkdtemp(join(tmpdir(), 'resilient-syslog-drill-certs-'));
    process.once('exit', () => rmSync(directory, { recursive: true, force: true }));
    return makeTestCertificates(directory);
  })();
  return certificates;
}

async function runCombination(t: TestContext, combination: Combination): Promise<void> {
  const { transport, strategy, queue } = combination;
  if (!requireRsyslog(t, [transport])) return;

  const tls = transport === 'tls' ? await testCertificates() : undefined;
  const collectors = await Promise.all(
    [0, 1, 2].map(() =>
      RsyslogCollector.start({ inputs: [transport], startTimeoutMs: COLLECTOR_START_TIMEOUT_MS, ...(tls ? { tls } : {}) }),
    ),
  );
  const bufferDirectory = queue === 'disk' ? await mkdtemp(join(tmpdir(), 'resilient-syslog-drill-buffer-')) : undefined;
  const upstreams: UpstreamOptions[] = collectors.map((collector) => ({
    url: `${transport}://127.0.0.1:${collector.ports[transport]}`,
    ...(tls ? { tls: { caFile: tls.caFile } } : {}),
  }));
  const pool = new UpstreamPool(upstreams, {
    ...DRILL_POOL_OPTIONS,
    ...(REPLAY_WINDOW_MS === undefined ? {} : { replayWindowMs: REPLAY_WINDOW_MS }),
    strategy: strategy === 'failover' ? new FailoverStrategy() : new RoundRobinStrategy(),
  });
  const sender = new SyslogSender({
    pool,
    ...(bufferDirectory ? { buffer: new DiskBuffer({ directory: bufferDirectory }) } : {}),
    sequenceId: true,
    appName: 'drill',
    hostname: 'drill.example.com',
    procId: 1,
  });
  const sink = senderSink(sender);

  try {
    const report = await runDrill({ collectors, sink, ratePerSecond: RATE, ...TEST_TIMELINE });
    const stats = sink.result.stats!;
    const failures = stats.upstreams.reduce((sum, upstream) => sum + upstream.failures, 0);
    for (const line of formatDrillReport(`${transport}, ${strategy}, ${queue} queue`, report).split('\n')) t.diagnostic(line);
    t.diagnostic(
      `  sender: replayed ${stats.replayed}, connection failures ${failures}, ` +
        `connects ${stats.upstreams.map((upstream) => upstream.connects).join('/')}`,
    );

    assert.deepEqual(report.lost, [], `${report.lost.length} of ${report.sent} events were lost`);
    assert.deepEqual(report.unexpected, []);
    assert.deepEqual(sink.result.close, { delivered: true, pending: 0 });
    assert.equal(stats.dropped.full + stats.dropped['io-error'] + stats.dropped.oversize + stats.dropped.closed, 0);
    for (const source of report.sources) {
      assert.equal(source.sequenceMismatches, 0, `${source.name}: sequenceId differs from the number in MSG`);
      // rsyslog's output names no connection, so order is checked per collector. Only a failed
      // connection hands records back, and a replay adds at most one drop to each collector's
      // arrival order. More drops than failures would mean reordering.
      assert.ok(
        source.descents <= failures,
        `${source.name}: ${source.descents} descents in arrival order, more than the ${failures} connection failures`,
      );
    }
  } finally {
    await sender.close(1_000);
    await Promise.all(collectors.map((collector) => collector.dispose()));
    if (bufferDirectory) await rm(bufferDirectory, { recursive: true, force: true });
  }
}

for (const combination of combinations()) {
  const { transport, strategy, queue } = combination;
  test(`Outage drill - ${transport}, ${strategy}, ${queue} queue`, (t) => runCombination(t, combination));
}
