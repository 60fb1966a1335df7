/**
 * End to end: a DiskBuffer keeps events through a SIGKILL while every collector is down, and a
 * new process with the same directory delivers them to real rsyslog collectors.
 *
 * Two rsyslogd collectors with a TCP input are started and stopped at once, so both are down.
 * A child process (fixtures/rsyslog-sender.ts) sends numbered events through a SyslogSender with
 * a FailoverStrategy over both, a DiskBuffer with fsync 'batch' and `sequenceId: true`, and is
 * killed with SIGKILL. Then the collectors start on the same ports and a second child with the
 * same directory drains the buffer.
 *
 * Which events must arrive: the child prints `{"sent":N}` only after `DiskBuffer.flush()`
 * resolved for its chunk, so events 1 to N were written and fsynced, which docs/disk-buffer.md
 * calls durable in fsync 'batch' mode. The test requires each of them, with N from the last line
 * the child printed. Lines read after the test sent SIGKILL count too, because the child wrote
 * them before it died. Events past N belong to the one chunk the child was sending when the kill
 * landed. Per the docs, SIGKILL loses the records pushed in the current event-loop turn and keeps
 * those already written, fsynced or not. So events past N may arrive, but only as a run without
 * gaps of at most one chunk.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { test, type TestContext } from 'node:test';
import { RsyslogCollector, requireRsyslog, type ParsedMessage } from '../helpers/rsyslog.js';

const SENDER_CHILD = fileURLToPath(new URL('./fixtures/rsyslog-sender.ts', import.meta.url));

const EVENTS = 100_000;
/** Events the child sends in one event-loop turn before it flushes the DiskBuffer and prints a line. */
const CHUNK_EVENTS = 1_000;
/** The mid-send variant kills the child once it reported at least this many events. */
const MID_SEND_KILL_AT = 30_000;
/** Delay of that kill in ms, so that it can land while the child pushes or writes the next chunk. */
const MID_SEND_KILL_DELAY_MS = 5;

/** How long a child may take to start (tsx compiles on the fly) on top of its own work. */
const CHILD_STARTUP_MS = 10_000;
const SEND_TIMEOUT_MS = CHILD_STARTUP_MS + 20_000;
const DRAIN_CLOSE_TIMEOUT_MS = 30_000;
/** How long rsyslog may take to store what the drain child handed to the kernel. */
const STORE_TIMEOUT_MS = 20_000;

/** `{"sent":N}` line of the send child. */
interface SentLine {
  sent: number;
  dropped: number;
  confirmed: number;
  done?: true;
}

/** Last line of the drain child. */
interface DrainLine {
  closed: { delivered: boolean; pending: number };
  recovered: number;
  closeMs: number;
  dropped: number;
  stats: { accepted: number; sent: number; confirmed: number; replayed: number; pending: number };
}

interface ChildOutput {
  code: number | null;
  signal: NodeJS.Signals | null;
  lines: Array<Record<string, unknown>>;
  stderr: string;
}

interface RunningChild {
  child: ChildProcess;
  output: Promise<ChildOutput>;
}

/** Starts the fixture with `env`, calling `onLine` with each JSON line of its stdout. */
function startChild(env: Record<string, string>, onLine: (line: Record<string, unknown>) => void = () => {}): RunningChild {
  const child = spawn(process.execPath, ['--import', 'tsx', SENDER_CHILD], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Array<Record<string, unknown>> = [];
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    let newline: number;
    while ((newline = stdout.indexOf('\n')) >= 0) {
      const line = JSON.parse(stdout.slice(0, newline)) as Record<string, unknown>;
      stdout = stdout.slice(newline + 1);
      lines.push(line);
      onLine(line);
    }
  });
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const output = new Promise<ChildOutput>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, lines, stderr }));
  });
  return { child, output };
}

/** Waits for the child to end. Kills it and fails when it is still running after `timeoutMs`. */
async function waitForExit({ child, output }: RunningChild, timeoutMs: number): Promise<ChildOutput> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
  const result = await Promise.race([output, timedOut]);
  clearTimeout(timer);
  if (result === 'timeout') {
    child.kill('SIGKILL');
    const killed = await output;
    assert.fail(`The child was still running after ${timeoutMs} ms; stderr: ${killed.stderr}`);
  }
  return result;
}

/** One stored message with the event number from MSG and the sequenceId from STRUCTURED-DATA. */
interface NumberedMessage {
  event: number;
  sequenceId: number;
}

function parseNumbered(message: ParsedMessage): NumberedMessage {
  const event = /^event (\d+)$/.exec(message.msg);
  const sequence = /^\[meta sequenceId="(\d+)"\]$/.exec(message.structuredData);
  assert.ok(event, `Unexpected MSG ${JSON.stringify(message.msg)} in ${JSON.stringify(message.rawmsg)}`);
  assert.ok(sequence, `Unexpected STRUCTURED-DATA ${JSON.stringify(message.structuredData)} in ${JSON.stringify(message.rawmsg)}`);
  return { event: Number(event[1]), sequenceId: Number(sequence[1]) };
}

/** Formats sorted numbers as ranges, such as `3-7, 12`, listing at most `limit` ranges. */
function formatRanges(numbers: number[], limit = 10): string {
  const ranges: string[] = [];
  let start = 0;
  for (let index = 0; index < numbers.length && ranges.length < limit; index += 1) {
    if (index + 1 < numbers.length && numbers[index + 1] === numbers[index] + 1) continue;
    ranges.push(start === index ? String(numbers[start]) : `${numbers[start]}-${numbers[index]}`);
    start = index + 1;
  }
  return ranges.length < limit ? ranges.join(', ') : `${ranges.join(', ')}, ...`;
}

/** Polls both collectors until together they stored at least `count` messages. */
async function waitForStored(collectors: RsyslogCollector[], count: number): Promise<ParsedMessage[][]> {
  const deadline = Date.now() + STORE_TIMEOUT_MS;
  for (;;) {
    const received = await Promise.all(collectors.map((collector) => collector.received()));
    const stored = received.reduce((sum, messages) => sum + messages.length, 0);
    if (stored >= count) return received;
    if (Date.now() >= deadline) {
      throw new Error(`The collectors stored ${stored} of ${count} confirmed messages within ${STORE_TIMEOUT_MS} ms`);
    }
    await sleep(200);
  }
}

type KillPoint = 'after-all-sent' | 'mid-send';

/**
 * Runs both child processes against two collectors that are down during the first one, and
 * checks what the collectors stored. The counts go to `t.diagnostic`.
 */
async function runKillAndDrain(t: TestContext, killPoint: KillPoint): Promise<void> {
  if (!requireRsyslog(t, ['tcp'])) return;
  const directory = await mkdtemp(join(tmpdir(), 'resilient-syslog-rsyslog-buffer-'));
  const collectors: RsyslogCollector[] = [];
  try {
    for (let index = 0; index < 2; index += 1) {
      const collector = await RsyslogCollector.start({ inputs: ['tcp'] });
      collectors.push(collector);
      // Stopped right away: the ports stay assigned for restart(), and nothing listens on them.
      await collector.stop();
    }
    const urls = collectors.map((collector) => `tcp://127.0.0.1:${collector.ports.tcp}`).join(',');
    const env = { BUFFER_DIRECTORY: directory, UPSTREAM_URLS: urls };

    // Phase 1: send with every collector down, then SIGKILL.
    const sendStartedAt = performance.now();
    let killSentAtLine: number | undefined;
    const sendEnv = { ...env, SENDER_MODE: 'send', EVENTS: String(EVENTS), CHUNK_EVENTS: String(CHUNK_EVENTS) };
    const sender = startChild(sendEnv, (line) => {
      const sent = (line as unknown as SentLine).sent;
      const due = killPoint === 'after-all-sent' ? sent === EVENTS : sent >= MID_SEND_KILL_AT;
      if (!due || killSentAtLine !== undefined) return;
      killSentAtLine = sent;
      if (killPoint === 'after-all-sent') sender.child.kill('SIGKILL');
      else setTimeout(() => sender.child.kill('SIGKILL'), MID_SEND_KILL_DELAY_MS);
    });
    const killed = await waitForExit(sender, SEND_TIMEOUT_MS);
    const sendMs = Math.round(performance.now() - sendStartedAt);

    assert.equal(killed.signal, 'SIGKILL', `The send child ended without SIGKILL (code ${killed.code}); stderr: ${killed.stderr}`);
    assert.ok(killSentAtLine !== undefined, 'The test never sent SIGKILL');
    const sentLines = killed.lines as unknown as SentLine[];
    const lastLine = sentLines.at(-1);
    assert.ok(lastLine, `The send child printed no line; stderr: ${killed.stderr}`);
    for (const line of sentLines) {
      assert.equal(line.dropped, 0, `The send child dropped events by ${line.sent}; stderr: ${killed.stderr}`);
      assert.equal(line.confirmed, 0, `A collector confirmed events by ${line.sent} while every collector was down`);
    }
    // Every event up to the last printed N was flushed before the line was written.
    const accepted = lastLine.sent;
    if (killPoint === 'after-all-sent') {
      assert.equal(lastLine.done, true);
      assert.equal(accepted, EVENTS);
    } else {
      assert.ok(accepted < EVENTS, `The child sent all ${EVENTS} events before SIGKILL landed; the kill was not mid-send`);
    }
    for (const collector of collectors) {
      assert.deepEqual(await collector.received(), [], 'A collector stored messages while it was stopped');
    }

    // Phase 2: the collectors come back on the same ports and a new process drains the buffer.
    for (const collector of collectors) await collector.restart();
    const drainStartedAt = performance.now();
    const drainer = startChild({ ...env, SENDER_MODE: 'drain', CLOSE_TIMEOUT_MS: String(DRAIN_CLOSE_TIMEOUT_MS) });
    const drained = await waitForExit(drainer, CHILD_STARTUP_MS + DRAIN_CLOSE_TIMEOUT_MS + 5_000);
    assert.equal(drained.code, 0, drained.stderr);
    const drainLine = drained.lines.at(-1) as unknown as DrainLine | undefined;
    assert.ok(drainLine, `The drain child printed nothing; stderr: ${drained.stderr}`);
    assert.ok('closed' in drainLine, `The drain child printed no close result; stderr: ${drained.stderr}`);
    assert.deepEqual(drainLine.closed, { delivered: true, pending: 0 });
    assert.equal(drainLine.dropped, 0);
    assert.equal(drainLine.stats.accepted, 0);

    const received = await waitForStored(collectors, drainLine.stats.confirmed);
    const drainMs = Math.round(performance.now() - drainStartedAt);

    // Each message carries its event number twice: in MSG and as the sequenceId.
    const perCollector = received.map((messages) => messages.map(parseNumbered));
    for (const message of perCollector.flat()) {
      assert.equal(message.sequenceId, message.event, `sequenceId ${message.sequenceId} came with event ${message.event}`);
    }

    // In order per collector: each message repeats one that this collector already stored, or it
    // is newer than all messages before it.
    perCollector.forEach((messages, index) => {
      const seen = new Set<number>();
      let highest = 0;
      for (const [position, { sequenceId }] of messages.entries()) {
        if (seen.has(sequenceId)) continue;
        assert.ok(
          sequenceId > highest,
          `Collector ${index + 1} stored sequenceId ${sequenceId} after ${highest}, at position ${position}`,
        );
        seen.add(sequenceId);
        highest = sequenceId;
      }
    });

    // Every accepted event arrived. Events past them form a run without gaps, inside the chunk
    // that the kill cut off.
    const counts = new Map<number, number>();
    for (const { sequenceId } of perCollector.flat()) counts.set(sequenceId, (counts.get(sequenceId) ?? 0) + 1);
    let highestStored = 0;
    for (const sequenceId of counts.keys()) highestStored = Math.max(highestStored, sequenceId);
    const missing: number[] = [];
    for (let n = 1; n <= highestStored; n += 1) if (!counts.has(n)) missing.push(n);
    assert.equal(missing.length, 0, `Events missing below ${highestStored}: ${formatRanges(missing)}`);
    assert.ok(highestStored >= accepted, `Accepted events ${formatRanges(range(highestStored + 1, accepted))} never arrived`);
    assert.ok(
      highestStored <= Math.min(EVENTS, accepted + CHUNK_EVENTS),
      `Event ${highestStored} arrived, but the child was at most one chunk past ${accepted}`,
    );

    assert.ok(drainLine.stats.confirmed >= accepted, `The drain child confirmed ${drainLine.stats.confirmed} of ${accepted} events`);

    const stored = received.reduce((sum, messages) => sum + messages.length, 0);
    const duplicates = stored - counts.size;
    t.diagnostic(
      `SIGKILL after the line for ${killSentAtLine} (${sendMs} ms); accepted ${accepted}; ` +
        `stored ${highestStored} distinct (${highestStored - accepted} past the accepted ones), ` +
        `${duplicates} duplicates; per collector ${received.map((messages) => messages.length).join(' + ')}; ` +
        `replayed ${drainLine.stats.replayed}; drain and store took ${drainMs} ms (close ${drainLine.closeMs} ms)`,
    );
  } finally {
    for (const collector of collectors) await collector.dispose();
    await rm(directory, { recursive: true, force: true });
  }
}

/** Returns the integers from `first` to `last`, both included. */
function range(first: number, last: number): number[] {
  return Array.from({ length: Math.max(0, last - first + 1) }, (_, index) => first + index);
}

test('DiskBuffer rsyslog - SIGKILL after all events sent', async (t) => {
  await runKillAndDrain(t, 'after-all-sent');
});

test('DiskBuffer rsyslog - SIGKILL while sending', async (t) => {
  await runKillAndDrain(t, 'mid-send');
});
