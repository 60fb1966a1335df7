// A small host agent built on the library: every 100 ms it sends this process's metrics as
// structured data to two local collectors in round robin, through a DiskBuffer so that a restart
// loses nothing. One collector is killed half-way, and SIGINT or SIGTERM stops the agent early.
//
// Run: node --import tsx examples/custom-agent.ts
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DiskBuffer, RoundRobinStrategy, SyslogSender, UpstreamPool } from '../src/index.js';
import { LocalCollector } from './lib/local-collector.js';

const RUN_MS = 3_000;
const INTERVAL_MS = 100;
/** Resident set size above which a sample is sent as a warning, in bytes. */
const RSS_WARNING_BYTES = 512 * 1024 * 1024;

const collectorA = new LocalCollector('a');
const collectorB = new LocalCollector('b');
await collectorA.start();
await collectorB.start();
const bufferDirectory = await mkdtemp(join(tmpdir(), 'custom-agent-'));

const sender = new SyslogSender({
  pool: new UpstreamPool([`tcp://127.0.0.1:${collectorA.port}`, `tcp://127.0.0.1:${collectorB.port}`], {
    strategy: new RoundRobinStrategy(),
    reconnect: { minDelayMs: 100, maxDelayMs: 1_000 },
  }),
  buffer: new DiskBuffer({ directory: bufferDirectory, maxBytes: 16 * 1024 * 1024 }),
  appName: 'host-agent',
  facility: 'daemon',
  sequenceId: true,
});
sender.on('status', ({ target, to, reason }) => console.log(`${target} is ${to}${reason ? ` (${reason})` : ''}`));
sender.on('drop', ({ count, reason }) => console.log(`dropped ${count} events (${reason})`));
sender.on('warning', (error) => console.log(`warning: ${error.message}`));

let stopRequested = false;
const requestStop = (signal: NodeJS.Signals) => {
  console.log(`received ${signal}: stopping`);
  stopRequested = true;
};
process.once('SIGINT', requestStop);
process.once('SIGTERM', requestStop);

const started = Date.now();
let samples = 0;
while (!stopRequested && Date.now() - started < RUN_MS) {
  if (samples === RUN_MS / INTERVAL_MS / 2) {
    console.log(`killing collector b after ${samples} samples`);
    collectorB.stop();
  }
  const memory = process.memoryUsage();
  const accepted = sender.send({
    severity: memory.rss > RSS_WARNING_BYTES ? 'warning' : 'info',
    message: 'metrics sample',
    structuredData: {
      'metrics@32473': {
        loadAverage1m: loadavg()[0].toFixed(2),
        rssBytes: memory.rss,
        heapUsedBytes: memory.heapUsed,
        uptimeSeconds: Math.round(process.uptime()),
      },
    },
  });
  samples += 1;
  // A full queue: wait for room instead of piling up more samples.
  if (!accepted) await sender.ready();
  await new Promise((resolve) => setTimeout(resolve, INTERVAL_MS));
}

const result = await sender.close(5_000);
const stats = sender.stats();
console.log(`\nsent ${samples} samples; collector a received ${collectorA.messages.length}, b received ${collectorB.messages.length}`);
console.log(`close(): delivered=${result.delivered} pending=${result.pending}; replayed=${stats.replayed}`);
console.log(`a sample as collector a received it:\n  ${collectorA.messages.at(-1) ?? '(none)'}`);
collectorA.stop();
await rm(bufferDirectory, { recursive: true, force: true });
