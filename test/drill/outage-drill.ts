/**
 * The outage drill: numbered events at a steady rate while real rsyslog collectors are stopped,
 * restarted, killed and frozen on a timeline, then a count of what arrived.
 *
 * The drill only needs a sink that sends event number N. `senderSink` drives a `SyslogSender`;
 * the benchmark adds a sink that feeds an rsyslog forwarder. Every collector is an
 * `RsyslogCollector` from the test helpers, so the drill runs real rsyslogd processes on loopback
 * ports and nothing else.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { countDescents } from '../helpers/event-numbers.js';
import type { RsyslogCollector, ParsedMessage } from '../helpers/rsyslog.js';
import type { CloseResult, SenderStats, SyslogSender } from '../../src/sender/syslog-sender.js';
import type { UpstreamPoolOptions } from '../../src/pool/upstream-pool.js';

/** What a step does to its collectors: SIGTERM, start on the same ports, SIGKILL, SIGSTOP or SIGCONT. */
export type DrillAction = 'stop' | 'start' | 'kill' | 'pause' | 'resume';

/**
 * Which collectors a step acts on: the first one (`primary`), every one, the one that received
 * the most events in the last 200 ms (`busiest`), or the ones the previous step acted on.
 */
export type DrillTarget = 'primary' | 'all' | 'busiest' | 'previous';

export interface DrillStep {
  /** Time after the first event, in ms. A step starts late when the step before it ran long. */
  atMs: number;
  action: DrillAction;
  target: DrillTarget;
}

/** Where the drill sends its events. */
export interface DrillSink {
  /** Sends event number `n`; the drill calls it with 1, 2, 3 and so on. Must not throw. */
  send(n: number): void;
  /** Delivers what it can after the last event and releases its connections. */
  close(): Promise<void>;
}

/** One drill event as a source stored it. */
export interface DrillEntry {
  n: number;
  /** N of `[meta sequenceId="N"]`, when the message kept its structured data. */
  sequenceId?: number;
}

/** Something the drill reads events from besides the collectors, such as a forwarder's local buffer file. */
export interface DrillSource {
  name: string;
  /** Drill events stored so far, in arrival order. */
  read(): Promise<DrillEntry[]>;
}

export interface DrillOptions {
  collectors: readonly RsyslogCollector[];
  sink: DrillSink;
  /** Events per second. */
  ratePerSecond: number;
  /** How long events are sent, in ms; longer when the steps end later (then until 500 ms after the last one). */
  durationMs: number;
  steps: readonly DrillStep[];
  /** More places where events may end up; they count as received. */
  extraSources?: readonly DrillSource[];
  /** After `sink.close()`, stop waiting for missing events once nothing new arrived for this long. Default 3,000 ms. */
  quietMs?: number;
  /** After `sink.close()`, stop waiting for missing events after this long in any case. Default 20,000 ms. */
  settleTimeoutMs?: number;
  /** Called after each step, for progress output. */
  onStep?: (entry: DrillStepLog) => void;
}

/** One step as it ran. */
export interface DrillStepLog extends DrillStep {
  /** When the step started, in ms after the first event. */
  startedMs: number;
  /** How long the action took, in ms (a restart waits until rsyslogd listens again). */
  tookMs: number;
  /** Indexes of the collectors it acted on. */
  collectors: number[];
}

/** What one collector (or extra source) received. */
export interface DrillSourceTally {
  name: string;
  /** Event numbers in arrival order, duplicates included. */
  numbers: number[];
  /** Places where a number is lower than the one before it. Each one starts a replay or a second connection. */
  descents: number;
  /** Messages whose `[meta sequenceId]` differs from the number in MSG. Messages without the parameter are not counted. */
  sequenceMismatches: number;
}

export interface DrillReport {
  sent: number;
  /** Messages with an event number, duplicates included, over every source. */
  received: number;
  /** Distinct event numbers received. */
  unique: number;
  /** Numbers sent and never received, in ascending order. */
  lost: number[];
  /** Copies beyond the first of the numbers sent. */
  duplicates: number;
  /** Numbers received that were never sent; always empty unless a source is mixed up. */
  unexpected: number[];
  sources: DrillSourceTally[];
  steps: DrillStepLog[];
  /** From the first event to the end of the settle phase, in ms. */
  elapsedMs: number;
}

/** The test timeline: 8 s, with every kind of outage once. Collector 0 is the primary. */
export const TEST_TIMELINE: { durationMs: number; steps: DrillStep[] } = {
  durationMs: 8_000,
  steps: [
    { atMs: 1_000, action: 'stop', target: 'primary' },
    { atMs: 2_000, action: 'start', target: 'primary' },
    { atMs: 3_000, action: 'stop', target: 'all' },
    { atMs: 4_000, action: 'start', target: 'all' },
    { atMs: 5_000, action: 'kill', target: 'busiest' },
    { atMs: 5_500, action: 'start', target: 'previous' },
    { atMs: 6_000, action: 'pause', target: 'busiest' },
    { atMs: 7_500, action: 'resume', target: 'previous' },
  ],
};

/** The benchmark timeline: 12 s, primary down from 3 s to 5 s, every collector down from 7 s to 9 s. */
export const BENCHMARK_TIMELINE: { durationMs: number; steps: DrillStep[] } = {
  durationMs: 12_000,
  steps: [
    { atMs: 3_000, action: 'stop', target: 'primary' },
    { atMs: 5_000, action: 'start', target: 'primary' },
    { atMs: 7_000, action: 'stop', target: 'all' },
    { atMs: 9_000, action: 'start', target: 'all' },
  ],
};

/**
 * Pool options for the drill. Timeouts and backoff are short so that failover happens within the
 * drill's 0.5 to 1.5 s outages. The replay window is 1 s instead of the default 10 s, because
 * each failure over TCP or TLS replays the whole window. In the drill a window of 0 lost events
 * and 100 ms lost none, so 1 s keeps a tenfold margin with a tenth of the duplicates.
 * docs/delivery-guarantees.md has the measurements.
 */
export const DRILL_POOL_OPTIONS: UpstreamPoolOptions = {
  connectTimeoutMs: 1_000,
  stallTimeoutMs: 1_000,
  probeIntervalMs: 100,
  reconnect: { minDelayMs: 50, maxDelayMs: 500 },
  replayWindowMs: 1_000,
};

/**
 * How long a collector may take to start or restart, for `CollectorOptions.startTimeoutMs`.
 * rsyslogd with a TLS listener took 0.5 to 0.9 s to start on an idle 2-core machine (40 ms
 * without TLS), up to 6.6 s while other test files loaded both cores, and once more than the
 * harness default of 10 s.
 */
export const COLLECTOR_START_TIMEOUT_MS = 30_000;

/** Returns the MSG of event `n`. */
export function drillMessage(n: number): string {
  return `drill-event ${n}`;
}

/** Traffic after the last step, in ms, when the steps end after `durationMs`. */
const STEP_TAIL_MS = 500;

const NUMBER_PATTERN = /drill-event (\d+)/;
const SEQUENCE_PATTERN = /sequenceId="(\d+)"/;

/** Returns the drill event in `text` (a line or a message), or undefined for text the drill did not send. */
export function parseDrillEntry(text: string, structuredData = text): DrillEntry | undefined {
  const match = NUMBER_PATTERN.exec(text);
  if (match === null) return undefined;
  const sequence = SEQUENCE_PATTERN.exec(structuredData);
  return sequence === null ? { n: Number(match[1]) } : { n: Number(match[1]), sequenceId: Number(sequence[1]) };
}

function messageEntry(message: ParsedMessage): DrillEntry | undefined {
  return parseDrillEntry(message.msg, message.structuredData) ?? parseDrillEntry(message.rawmsg);
}

/** The result of a sender sink's `close()`, kept for the caller's checks. */
export interface SenderSinkResult {
  close?: CloseResult;
  stats?: SenderStats;
}

/**
 * Creates a sink that sends event N as `drill-event N` through `sender`. Its `close()` calls
 * `sender.close(closeTimeoutMs)` and fills in `result`.
 */
export function senderSink(sender: SyslogSender, closeTimeoutMs = 20_000): DrillSink & { result: SenderSinkResult } {
  const result: SenderSinkResult = {};
  return {
    result,
    send(n) {
      sender.send({ message: drillMessage(n) });
    },
    async close() {
      result.close = await sender.close(closeTimeoutMs);
      result.stats = sender.stats();
    },
  };
}

/** Runs the drill and returns what arrived where. Every collector is running and resumed when it returns. */
export async function runDrill(options: DrillOptions): Promise<DrillReport> {
  const { collectors, sink, ratePerSecond, durationMs } = options;
  const paused = new Set<number>();
  const startedAt = performance.now();
  const elapsed = (): number => performance.now() - startedAt;

  // Sending ends at durationMs, or STEP_TAIL_MS after the last step when the steps ended later
  // (a loaded machine can take seconds to restart rsyslogd), so that every outage meets traffic.
  let sendUntilMs = Number.POSITIVE_INFINITY;
  let sent = 0;
  const sending = new Promise<void>((resolve) => {
    const sendDue = (): void => {
      const now = elapsed();
      const due = Math.floor((Math.min(now, sendUntilMs) * ratePerSecond) / 1000);
      while (sent < due) {
        sent += 1;
        sink.send(sent);
      }
      if (now >= sendUntilMs) {
        clearInterval(timer);
        resolve();
      }
    };
    const timer = setInterval(sendDue, 5);
    sendDue();
  });

  const steps: DrillStepLog[] = [];
  let previous: number[] = [];
  try {
    for (const step of options.steps) {
      const wait = step.atMs - elapsed();
      if (wait > 0) await sleep(wait);
      const startedMs = elapsed();
      const indexes = await resolveTarget(step.target, collectors, paused, previous);
      await Promise.all(indexes.map((index) => applyAction(step.action, collectors[index], index, paused)));
      const entry: DrillStepLog = { ...step, startedMs: Math.round(startedMs), tookMs: Math.round(elapsed() - startedMs), collectors: indexes };
      steps.push(entry);
      options.onStep?.(entry);
      previous = indexes;
    }
  } finally {
    const stepsEndedMs = elapsed();
    sendUntilMs = stepsEndedMs > durationMs ? stepsEndedMs + STEP_TAIL_MS : durationMs;
    await sending;
    await restoreCollectors(collectors, paused);
  }

  await sink.close();
  const sources: DrillSource[] = [
    ...collectors.map((collector, index) => collectorSource(`collector ${index}`, collector)),
    ...(options.extraSources ?? []),
  ];
  const tallies = await waitForEvents(sources, sent, options.quietMs ?? 3_000, options.settleTimeoutMs ?? 20_000);
  return buildReport(sent, tallies, steps, Math.round(elapsed()));
}

async function resolveTarget(
  target: DrillTarget,
  collectors: readonly RsyslogCollector[],
  paused: ReadonlySet<number>,
  previous: number[],
): Promise<number[]> {
  switch (target) {
    case 'primary':
      return [0];
    case 'all':
      return collectors.map((_, index) => index);
    case 'previous':
      return previous;
    case 'busiest':
      return [await findBusiest(collectors, paused)];
  }
}

/** Returns the running, unpaused collector that stored the most events in a 200 ms sample; the primary when none stored any. */
async function findBusiest(collectors: readonly RsyslogCollector[], paused: ReadonlySet<number>): Promise<number> {
  const before = await Promise.all(collectors.map(async (collector) => (await collector.received()).length));
  await sleep(200);
  const after = await Promise.all(collectors.map(async (collector) => (await collector.received()).length));
  let busiest = 0;
  let maxGained = 0;
  collectors.forEach((collector, index) => {
    const gained = after[index] - before[index];
    if (collector.running && !paused.has(index) && gained > maxGained) {
      busiest = index;
      maxGained = gained;
    }
  });
  return busiest;
}

async function applyAction(action: DrillAction, collector: RsyslogCollector, index: number, paused: Set<number>): Promise<void> {
  switch (action) {
    case 'stop':
      paused.delete(index);
      await collector.stop();
      return;
    case 'start':
      if (!collector.running) await collector.restart();
      return;
    case 'kill':
      paused.delete(index);
      await collector.kill();
      return;
    case 'pause':
      paused.add(index);
      await collector.pause();
      return;
    case 'resume':
      paused.delete(index);
      await collector.resume();
      return;
  }
}

/** Resumes paused collectors and starts stopped ones, so that the sink can deliver its backlog. */
async function restoreCollectors(collectors: readonly RsyslogCollector[], paused: Set<number>): Promise<void> {
  await Promise.all(
    collectors.map(async (collector, index) => {
      if (paused.delete(index)) await collector.resume();
      if (!collector.running) await collector.restart();
    }),
  );
}

function collectorSource(name: string, collector: RsyslogCollector): DrillSource {
  return {
    name,
    async read() {
      const entries: DrillEntry[] = [];
      for (const message of await collector.received()) {
        const entry = messageEntry(message);
        if (entry !== undefined) entries.push(entry);
      }
      return entries;
    },
  };
}

/**
 * Polls every source until each of the numbers 1..`total` arrived somewhere, nothing new arrived
 * for `quietMs`, or `timeoutMs` passed; returns the last reading.
 */
async function waitForEvents(
  sources: readonly DrillSource[],
  total: number,
  quietMs: number,
  timeoutMs: number,
): Promise<DrillSourceTally[]> {
  const deadline = Date.now() + timeoutMs;
  let lastCount = -1;
  let lastChangeAt = Date.now();
  for (;;) {
    const tallies = await readSources(sources);
    const seen = new Set<number>();
    let count = 0;
    for (const tally of tallies) {
      for (const n of tally.numbers) seen.add(n);
      count += tally.numbers.length;
    }
    let complete = true;
    for (let n = 1; n <= total && complete; n += 1) complete = seen.has(n);
    if (count !== lastCount) {
      lastCount = count;
      lastChangeAt = Date.now();
    }
    if (complete || Date.now() - lastChangeAt >= quietMs || Date.now() >= deadline) return tallies;
    await sleep(100);
  }
}

async function readSources(sources: readonly DrillSource[]): Promise<DrillSourceTally[]> {
  return Promise.all(
    sources.map(async (source) => {
      const entries = await source.read();
      const numbers = entries.map((entry) => entry.n);
      const sequenceMismatches = entries.filter((entry) => entry.sequenceId !== undefined && entry.sequenceId !== entry.n).length;
      return { name: source.name, numbers, descents: countDescents(numbers), sequenceMismatches };
    }),
  );
}

function buildReport(total: number, sources: DrillSourceTally[], steps: DrillStepLog[], elapsedMs: number): DrillReport {
  const seen = new Set<number>();
  const unexpected = new Set<number>();
  let received = 0;
  let receivedInRange = 0;
  for (const source of sources) {
    for (const n of source.numbers) {
      received += 1;
      if (n >= 1 && n <= total) {
        seen.add(n);
        receivedInRange += 1;
      } else {
        unexpected.add(n);
      }
    }
  }
  const lost: number[] = [];
  for (let n = 1; n <= total; n += 1) if (!seen.has(n)) lost.push(n);
  return {
    sent: total,
    received,
    unique: seen.size,
    lost,
    duplicates: receivedInRange - seen.size,
    unexpected: [...unexpected].sort((a, b) => a - b),
    sources,
    steps,
    elapsedMs,
  };
}

/** Formats a report as a few lines: totals, then each source, then the steps with their timing. */
export function formatDrillReport(label: string, report: DrillReport): string {
  const lostList = report.lost.length === 0 ? '' : ` (${formatRanges(report.lost, 6)})`;
  const lines = [
    `${label}: sent ${report.sent}, received ${report.received}, lost ${report.lost.length}${lostList}, ` +
      `duplicates ${report.duplicates}`,
  ];
  for (const source of report.sources) {
    lines.push(`  ${source.name}: ${source.numbers.length} events, ${source.descents} descents`);
  }
  const steps = report.steps.map(
    (step) => `${step.action} ${step.collectors.join('+') || '-'} at ${step.startedMs} ms (${step.tookMs} ms)`,
  );
  lines.push(`  steps: ${steps.join(', ')}`);
  return lines.join('\n');
}

/** Formats ascending numbers as ranges such as `5992-6087, 7001`, listing at most `maxRanges` of them. */
function formatRanges(numbers: readonly number[], maxRanges: number): string {
  const ranges: string[] = [];
  let start = 0;
  for (let index = 1; index <= numbers.length; index += 1) {
    if (index < numbers.length && numbers[index] === numbers[index - 1] + 1) continue;
    const first = numbers[start];
    const last = numbers[index - 1];
    ranges.push(first === last ? String(first) : `${first}-${last}`);
    start = index;
  }
  const shown = ranges.slice(0, maxRanges).join(', ');
  return ranges.length > maxRanges ? `${shown} and ${ranges.length - maxRanges} more ranges` : shown;
}
