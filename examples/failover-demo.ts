// Forwards a sample of a Debian system's syslog to two local collectors through
// FailoverStrategy, kills the primary half-way and brings it back, then prints what each
// collector received, when traffic moved, and how many events were lost.
//
// Run: npm run demo
import { fileURLToPath } from 'node:url';
import { FailoverStrategy, SyslogSender, UpstreamPool } from '../src/index.js';
import { LocalCollector, sequenceIds } from './lib/local-collector.js';
import { readSyslogFile } from './lib/syslog-file.js';

const SAMPLE = fileURLToPath(new URL('./data/syslog-sample.log', import.meta.url));
const EVENTS_PER_SECOND = 200;

const events = readSyslogFile(SAMPLE);
const primary = new LocalCollector('primary');
const backup = new LocalCollector('backup');
await primary.start();
await backup.start();

const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(2)} s`;

const sender = new SyslogSender({
  pool: new UpstreamPool([`tcp://127.0.0.1:${primary.port}`, `tcp://127.0.0.1:${backup.port}`], {
    strategy: new FailoverStrategy({ failbackProbes: 3 }),
    probeIntervalMs: 200,
    reconnect: { minDelayMs: 100, maxDelayMs: 1_000 },
  }),
  facility: 'local4',
  sequenceId: true,
});
sender.on('switch', ({ from, to }) => console.log(`[${elapsed()}] traffic ${from ? `moves from ${from} ` : 'starts '}to ${to}`));
sender.on('status', ({ target, to, reason }) => console.log(`[${elapsed()}] ${target} is ${to}${reason ? ` (${reason})` : ''}`));

console.log(`Forwarding ${events.length} events from ${SAMPLE} at ${EVENTS_PER_SECOND}/s`);
console.log(`primary  tcp://127.0.0.1:${primary.port}\nbackup   tcp://127.0.0.1:${backup.port}\n`);

for (const [index, event] of events.entries()) {
  if (index === Math.floor(events.length / 3)) {
    console.log(`[${elapsed()}] killing the primary after ${index} events`);
    primary.stop();
  }
  if (index === Math.floor((events.length * 2) / 3)) {
    console.log(`[${elapsed()}] restarting the primary after ${index} events`);
    await primary.start();
  }
  sender.send(event);
  await new Promise((resolve) => setTimeout(resolve, 1000 / EVENTS_PER_SECOND));
}

const result = await sender.close(10_000);
const received = new Set([...sequenceIds(primary.messages), ...sequenceIds(backup.messages)]);
let lost = 0;
for (let id = 1; id <= events.length; id += 1) if (!received.has(id)) lost += 1;
const duplicates = primary.messages.length + backup.messages.length - received.size;

console.log(`\nprimary received ${primary.messages.length} events, backup received ${backup.messages.length}`);
console.log(`sent ${events.length}, lost ${lost}, duplicates ${duplicates} (replayed after the primary died)`);
console.log(`close(): delivered=${result.delivered} pending=${result.pending}`);
console.log(`first event at the backup:\n  ${backup.messages[0] ?? '(none)'}`);
primary.stop();
backup.stop();
process.exitCode = lost === 0 ? 0 : 1;
