/**
 * Measures the CPU time of resilient-syslog's own send path in one process, without sockets:
 * format, memory queue, dispatcher and pool, with a stub connection in place of TCP. The stub
 * frames every write as the TCP transport does and keeps the newest `--window` records
 * unconfirmed, as the TCP replay window does (up to 100,000 records by default).
 *
 *   node --import tsx compare/send-path.ts [--events=1000000] [--window=100000] [--rounds=3]
 *     [--queue=memory|batch|interval|never]
 *
 * Prints CPU microseconds per event for each round, of the process and of the main thread,
 * after a warm-up round of a fifth of the events. It sends through `SyslogSender.send()` with a
 * string event, yielding to the event loop every 1,000 events as the comparison benchmark does.
 * `--queue` names the fsync mode of a DiskBuffer in a temporary directory to use instead of the
 * memory queue.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { EventEmitter } from 'eventemitter3';
import {
  type Connection,
  type ConnectionEvents,
  DiskBuffer,
  type FsyncMode,
  type QueueRecord,
  SyslogSender,
  UpstreamPool,
} from '../../src/index.js';
import { DEFAULT_NEWLINE_ESCAPE } from '../../src/format/framing.js';
import { FrameBatch } from '../../src/transport/frame-batch.js';
import { APP_NAME, eventText, HOSTNAME } from './shared.js';
import { threadCpuMicros } from './sink-client.js';

/**
 * A connection that frames each write as the TCP transport does and keeps the frames, confirming
 * the oldest once more than `window` records wait.
 */
class StubConnection extends EventEmitter<ConnectionEvents> implements Connection {
  readonly writable = true;
  readonly settled = true;
  closed = false;
  private readonly batches: FrameBatch[] = [];
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
    const batch = new FrameBatch(records, true, DEFAULT_NEWLINE_ESCAPE);
    // The stub's write completes at once, as a socket's does when the kernel takes the bytes.
    batch.flushedAt = Date.now();
    this.batches.push(batch);
    this.waiting += batch.count;
    while (this.waiting > this.window) {
      const oldest = this.batches.shift()!;
      this.waiting -= oldest.count;
      this.emit('confirm', oldest.ids);
      oldest.release();
    }
  }

  async end(): Promise<void> {
    for (const batch of this.batches.splice(0)) {
      this.emit('confirm', batch.ids);
      batch.release();
    }
    this.waiting = 0;
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
const window = numberOption('window', 100_000);
const rounds = numberOption('rounds', 3);
const queueArgument = process.argv.slice(2).find((candidate) => candidate.startsWith('--queue='));
const queueName = queueArgument === undefined ? 'memory' : queueArgument.slice('--queue='.length);
if (!['memory', 'batch', 'interval', 'never'].includes(queueName)) {
  throw new Error(`Invalid --queue=${queueName}: expected memory, batch, interval or never`);
}
const directory = queueName === 'memory' ? null : mkdtempSync(join(tmpdir(), 'resilient-syslog-send-path-'));
const buffer = directory === null ? undefined : new DiskBuffer({ directory, fsync: queueName as FsyncMode });

const pool = new UpstreamPool(['tcp://127.0.0.1:9'], {
  connectors: { tcp: async (options) => new StubConnection(options.target, window) },
});
const sender = new SyslogSender({ pool, hostname: HOSTNAME, appName: APP_NAME, buffer });
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

/** Sends `count` events and returns the CPU time per event in microseconds, of the process and of the main thread. */
async function measure(count: number): Promise<{ process: number; main: number }> {
  const before = process.cpuUsage();
  const mainBefore = threadCpuMicros();
  for (let index = 0; index < count; index += 1) {
    if (!sender.send(eventText(performance.now(), index))) await sender.ready();
    else if (index % 1000 === 999) await nextTurn();
  }
  await sender.flush();
  const cpu = process.cpuUsage(before);
  return { process: (cpu.user + cpu.system) / count, main: (threadCpuMicros() - mainBefore) / count };
}

await measure(Math.ceil(events / 5));
const processResults: string[] = [];
const mainResults: string[] = [];
for (let round = 0; round < rounds; round += 1) {
  const result = await measure(events);
  processResults.push(result.process.toFixed(2));
  mainResults.push(result.main.toFixed(2));
}
process.stdout.write(
  `${queueName} queue, window ${window} records, ${events} events per round, CPU µs/event:\n` +
    `  process     ${processResults.join(', ')}\n  main thread ${mainResults.join(', ')}\n`,
);
await sender.close(1_000);
if (directory !== null) rmSync(directory, { recursive: true, force: true });
