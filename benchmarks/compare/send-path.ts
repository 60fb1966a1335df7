/**
 * Measures the CPU time of resilient-syslog's own send path in one process, without sockets:
 * format, memory queue, dispatcher and pool, with a stub connection in place of TCP. The stub
 * keeps the newest `--window` records unconfirmed, as the TCP replay window does (10,000 records
 * by default), so the cost of records that survive young-generation GCs shows up.
 *
 *   node --import tsx compare/send-path.ts [--events=1000000] [--window=10000] [--rounds=3]
 *
 * Prints CPU microseconds per event for each round after a warm-up round of a fifth of the
 * events. It sends through `SyslogSender.send()` with a string event, yielding to the event loop
 * every 1,000 events as the comparison benchmark does.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { EventEmitter } from 'eventemitter3';
import {
  type Connection,
  type ConnectionEvents,
  type QueueRecord,
  SyslogSender,
  UpstreamPool,
} from '../../src/index.js';
import { APP_NAME, eventText, HOSTNAME } from './shared.js';

/** A connection that confirms the oldest written batches once more than `window` records wait. */
class StubConnection extends EventEmitter<ConnectionEvents> implements Connection {
  readonly writable = true;
  readonly settled = true;
  closed = false;
  private readonly batches: Array<readonly QueueRecord[]> = [];
  private waiting = 0;

  constructor(
    readonly target: string,
    private readonly window: number,
  ) {
    super();
  }

  get unconfirmed(): number {
    return this.waiting;
  }

  write(records: readonly QueueRecord[]): void {
    this.batches.push(records);
    this.waiting += records.length;
    while (this.waiting > this.window) {
      const oldest = this.batches.shift()!;
      this.waiting -= oldest.length;
      this.emit('confirm', oldest.map((record) => record.id));
    }
  }

  async end(): Promise<void> {
    const records = this.batches.flat();
    this.batches.length = 0;
    this.waiting = 0;
    if (records.length > 0) this.emit('confirm', records.map((record) => record.id));
    this.closed = true;
  }

  destroy(): void {
    this.closed = true;
  }
}

function numberOption(name: string, fallback: number): number {
  const argument = process.argv.slice(2).find((candidate) => candidate.startsWith(`--${name}=`));
  if (argument === undefined) return fallback;
  const value = Number(argument.slice(name.length + 3));
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new Error(`Invalid --${name} ${JSON.stringify(argument)}: expected a non-negative integer`);
  }
  return value;
}

const events = numberOption('events', 1_000_000);
const window = numberOption('window', 10_000);
const rounds = numberOption('rounds', 3);

const pool = new UpstreamPool(['tcp://127.0.0.1:9'], {
  connectors: { tcp: async (options) => new StubConnection(options.target, window) },
});
const sender = new SyslogSender({ pool, hostname: HOSTNAME, appName: APP_NAME });
await sender.ready();
await new Promise<void>((resolve) => {
  const check = () => {
    if (pool.upstreams[0].status !== 'up') return;
    sender.off('status', check);
    resolve();
  };
  sender.on('status', check);
  check();
});

/** Sends `count` events and returns the CPU time per event in microseconds. */
async function measure(count: number): Promise<number> {
  const before = process.cpuUsage();
  for (let index = 0; index < count; index += 1) {
    if (!sender.send(eventText(performance.now(), index))) await sender.ready();
    else if (index % 1000 === 999) await nextTurn();
  }
  await sender.flush();
  const cpu = process.cpuUsage(before);
  return (cpu.user + cpu.system) / count;
}

await measure(Math.ceil(events / 5));
const results: string[] = [];
for (let round = 0; round < rounds; round += 1) results.push((await measure(events)).toFixed(2));
process.stdout.write(`window ${window} records: ${results.join(', ')} CPU µs/event (${events} events per round)\n`);
await sender.close(1_000);
