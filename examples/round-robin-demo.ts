// Forwards a sample of a Debian system's syslog to three local collectors through
// RoundRobinStrategy, kills one of them for a while, then prints each collector's share and
// the count of lost events.
//
// Run: npx tsx examples/round-robin-demo.ts
import { fileURLToPath } from 'node:url';
import { RoundRobinStrategy, SyslogSender, UpstreamPool } from '../src/index.js';
import { LocalCollector, sequenceIds } from './lib/local-collector.js';
import { readSyslogFile } from './lib/syslog-file.js';

const SAMPLE = fileURLToPath(new URL('./data/syslog-sample.log', import.meta.url));
const EVENTS_PER_SECOND = 200;

const events = readSyslogFile(SAMPLE);
const collectors = [new LocalCollector('a'), new LocalCollector('b'), new LocalCollector('c')];
for (const collector of collectors) await collector.start();

const sender = new SyslogSender({
  pool: new UpstreamPool(
    collectors.map((collector) => `tcp://127.0.0.1:${collector.port}`),
    { strategy: new RoundRobinStrategy(), probeIntervalMs: 200, reconnect: { minDelayMs: 100, maxDelayMs: 1_000 } },
  ),
  facility: 'local4',
  sequenceId: true,
});
sender.on('status', ({ target, to, reason }) => console.log(`${target} is ${to}${reason ? ` (${reason})` : ''}`));

for (const [index, event] of events.entries()) {
  if (index === Math.floor(events.length / 3)) {
    console.log(`killing collector b after ${index} events`);
    collectors[1].stop();
  }
  if (index === Math.floor((events.length * 2) / 3)) {
    console.log(`restarting collector b after ${index} events`);
    await collectors[1].start();
  }
  sender.send(event);
  await new Promise((resolve) => setTimeout(resolve, 1000 / EVENTS_PER_SECOND));
}

await sender.close(10_000);
const all = collectors.flatMap((collector) => sequenceIds(collector.messages));
const received = new Set(all);
let lost = 0;
for (let id = 1; id <= events.length; id += 1) if (!received.has(id)) lost += 1;
for (const collector of collectors) console.log(`collector ${collector.name} received ${collector.messages.length}`);
console.log(`sent ${events.length}, lost ${lost}, duplicates ${all.length - received.size}`);
for (const collector of collectors) collector.stop();
process.exitCode = lost === 0 ? 0 : 1;
