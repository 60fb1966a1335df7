/**
 * How a sender behaves when its process ends: after `close()`, on `process.exit()` right after
 * `send()`, and on SIGTERM while every collector is down. Each case runs the sender in a child
 * process (fixtures/exit-child.ts) and checks what a real TCP collector received.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { TestCollector } from '../helpers/collector.js';
import { fixtureMessage } from '../helpers/sender.js';

const EXIT_CHILD = fileURLToPath(new URL('./fixtures/exit-child.ts', import.meta.url));

/** How long a child may take to start (tsx compiles on the fly) and to finish on top of its own deadlines. */
const CHILD_STARTUP_MS = 10_000;

interface ChildOutput {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Parsed JSON lines from stdout. */
  lines: Array<Record<string, unknown>>;
  stderr: string;
}

interface CloseLine {
  closed: { delivered: boolean; pending: number };
  closeMs: number;
  stats: { accepted: number; confirmed: number; replayed: number; pending: number };
}

function startChild(env: Record<string, string>): { child: ChildProcess; output: Promise<ChildOutput>; ready: Promise<void> } {
  const child = spawn(process.execPath, ['--import', 'tsx', EXIT_CHILD], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Array<Record<string, unknown>> = [];
  let stdout = '';
  let stderr = '';
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    let newline: number;
    while ((newline = stdout.indexOf('\n')) >= 0) {
      const line = JSON.parse(stdout.slice(0, newline)) as Record<string, unknown>;
      stdout = stdout.slice(newline + 1);
      lines.push(line);
      if (line.ready === true) markReady();
    }
  });
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const output = new Promise<ChildOutput>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, lines, stderr }));
  });
  return { child, output, ready };
}

/** Waits for the child to end; kills it and fails when it is still running after `timeoutMs`. */
async function waitForExit(child: ChildProcess, output: Promise<ChildOutput>, timeoutMs: number): Promise<ChildOutput> {
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

function closeLine(output: ChildOutput): CloseLine {
  const line = output.lines.find((entry) => 'closed' in entry);
  assert.ok(line, `The child printed no close result; stderr: ${output.stderr}`);
  return line as unknown as CloseLine;
}

function expectedFrames(count: number): string[] {
  return Array.from({ length: count }, (_, index) => fixtureMessage(`E${index + 1}`));
}

test('Sender exit - close() delivers E1..E3 and the process ends', async () => {
  const collector = await TestCollector.start();
  try {
    const { child, output } = startChild({ EXIT_MODE: 'close', COLLECTOR_URL: `tcp://127.0.0.1:${collector.port}` });
    // The child does not call process.exit(): it must end by itself once close() resolved.
    const result = await waitForExit(child, output, CHILD_STARTUP_MS + 10_000);

    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(closeLine(result).closed, { delivered: true, pending: 0 });
    assert.deepEqual(collector.frames, expectedFrames(3));
  } finally {
    await collector.close();
  }
});

test('Sender exit - DiskBuffer keeps events sent before process.exit()', async (t) => {
  const collector = await TestCollector.start();
  const directory = await mkdtemp(join(tmpdir(), 'resilient-syslog-exit-'));
  const env = { COLLECTOR_URL: `tcp://127.0.0.1:${collector.port}`, BUFFER_DIRECTORY: directory };
  try {
    const first = startChild({ ...env, EXIT_MODE: 'exit' });
    const exited = await waitForExit(first.child, first.output, CHILD_STARTUP_MS);
    assert.equal(exited.code, 0, exited.stderr);
    const framesFromFirst = collector.frames.length;

    const second = startChild({ ...env, EXIT_MODE: 'drain' });
    const drained = await waitForExit(second.child, second.output, CHILD_STARTUP_MS + 10_000);
    assert.equal(drained.code, 0, drained.stderr);
    assert.deepEqual(closeLine(drained).closed, { delivered: true, pending: 0 });

    // Every event arrives at least once, in order per connection; copies are counted, not forbidden.
    const frames = collector.frames;
    assert.deepEqual([...new Set(frames)].sort(), expectedFrames(3));
    for (const connection of collector.connections) {
      const numbers = connection.frames.map((frame) => Number(frame.slice(frame.lastIndexOf('E') + 1)));
      assert.deepEqual(numbers, [...numbers].sort((a, b) => a - b));
    }
    t.diagnostic(`first process delivered ${framesFromFirst}, duplicates ${frames.length - 3}`);
  } finally {
    await collector.close();
    await rm(directory, { recursive: true, force: true });
  }
});

test('Sender exit - SIGTERM with collectors down keeps backlog', async (t) => {
  const events = 500;
  const closeTimeoutMs = 1_500;
  // A port with no listener: the collector is down for the whole first process.
  const probe = await TestCollector.start();
  const port = probe.port;
  await probe.close();
  const directory = await mkdtemp(join(tmpdir(), 'resilient-syslog-exit-'));
  const env = { COLLECTOR_URL: `tcp://127.0.0.1:${port}`, BUFFER_DIRECTORY: directory, EVENTS: String(events) };
  let collector: TestCollector | undefined;
  try {
    const first = startChild({ ...env, EXIT_MODE: 'sigterm', CLOSE_TIMEOUT_MS: String(closeTimeoutMs) });
    await Promise.race([first.ready, first.output]);
    const signalledAt = performance.now();
    first.child.kill('SIGTERM');
    const stopped = await waitForExit(first.child, first.output, closeTimeoutMs + 2_000);
    const exitMs = performance.now() - signalledAt;

    assert.equal(stopped.code, 0, stopped.stderr);
    const closed = closeLine(stopped);
    assert.deepEqual(closed.closed, { delivered: false, pending: events });
    assert.equal(closed.stats.confirmed, 0);
    // close() ends at its deadline; the process then has nothing left to wait for.
    assert.ok(exitMs < closeTimeoutMs + 1_000, `the child exited ${Math.round(exitMs)} ms after SIGTERM`);
    t.diagnostic(`close() took ${closed.closeMs} ms, the process exited ${Math.round(exitMs)} ms after SIGTERM`);

    collector = await TestCollector.start(port);
    const second = startChild({ ...env, EXIT_MODE: 'drain' });
    const drained = await waitForExit(second.child, second.output, CHILD_STARTUP_MS + 10_000);
    assert.equal(drained.code, 0, drained.stderr);
    assert.deepEqual(closeLine(drained).closed, { delivered: true, pending: 0 });
    assert.deepEqual(collector.frames, expectedFrames(events));
  } finally {
    await collector?.close();
    await rm(directory, { recursive: true, force: true });
  }
});
