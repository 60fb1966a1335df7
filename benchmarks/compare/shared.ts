/**
 * Definitions shared by the orchestrator, the sink and the scenario runners: the shared clock,
 * the event text, the IPC messages, the scenario descriptions and small helpers.
 */
import { rmSync } from 'node:fs';

/**
 * Milliseconds since the orchestrator's start on the system's monotonic clock.
 *
 * `process.hrtime` and `performance.now()` both read CLOCK_MONOTONIC on Linux, which every
 * process on the machine shares, so a time taken in a runner and a time taken in the sink can
 * be subtracted. The orchestrator passes its start as `BENCH_CLOCK_BASE` (nanoseconds).
 */
export function createClock(): () => number {
  const base = BigInt(process.env.BENCH_CLOCK_BASE ?? '0');
  // The first call of performance.now() loads perf_hooks and takes milliseconds, so it must not
  // fall between the two readings. The hrtime readings on both sides bound the error to a microsecond.
  performance.now();
  const before = process.hrtime.bigint();
  const now = performance.now();
  const after = process.hrtime.bigint();
  const offset = Number((before + after) / 2n - base) / 1e6 - now;
  return () => performance.now() + offset;
}

/** Marker in front of the send time (microseconds on the shared clock) inside every event's text. */
export const TIME_MARKER = 'bench-ts=';

/** Filler that brings the event text to about 100 bytes. */
const FILLER = 'user=alice action=checkout status=ok items=3 total=129.90 currency=EUR region=eu-west';

/** Builds the text of one event, about 100 bytes: the send time on the shared clock, the sequence number and filler. */
export function eventText(sendTimeMs: number, sequence: number): string {
  return `${TIME_MARKER}${Math.round(sendTimeMs * 1000)} seq=${sequence} ${FILLER}`;
}

/** HOSTNAME and APP-NAME that every sender is configured with, so that frames have about the same size. */
export const HOSTNAME = 'bench-host';
export const APP_NAME = 'bench';

export type QueueKind = 'memory' | 'disk-batch' | 'disk-interval' | 'disk-never';
export type Protocol = 'tcp' | 'tls' | 'udp';
export type Library = 'batched' | 'per-line' | 'resilient' | 'syslog-client' | 'winston' | 'pino';

/** One sender under test for the throughput and latency runs. */
export interface SenderScenario {
  kind: 'sender';
  /** Row label in the results table. */
  name: string;
  library: Library;
  protocol: Protocol;
  /** Number of collectors; with more than one, resilient-syslog uses round robin. */
  upstreams: number;
  queue?: QueueKind;
  /** Events sent as fast as the sender takes them, in each flood round. */
  floodEvents: number;
  /** Flood rounds; the report shows the round with the median rate. */
  floodRounds: number;
  /** Events sent before the measured runs, to warm up the JIT and open connections. */
  warmupEvents: number;
  /** Events per second of the paced run, or 0 to skip it. */
  pacedRate: number;
  pacedSeconds: number;
  /** Time after which the flood or the paced run counts as not finished. */
  timeoutMs: number;
  /**
   * True for the scenarios whose ratios are targets. Their runners start together and take turns
   * round by round (A, B, C, A, B, C, ...), so that a change in the machine's speed during the
   * run affects each of them alike instead of whichever ran at that time.
   */
  interleaved?: boolean;
}

/** resilient-syslog with every collector down while `events` records spool into the queue, then the collector comes up. */
export interface BacklogScenario {
  kind: 'backlog';
  name: string;
  queue: QueueKind;
  events: number;
  /** The smaller backlog of the comparison, which sets the window of frames whose drain rate is compared. */
  drainWindowOf: number;
  /** Runs of the scenario, each in a process of its own; the report shows the median of each rate. */
  repeats: number;
  timeoutMs: number;
}

export type Scenario = SenderScenario | BacklogScenario;

/** Loopback ports of the sink, one per collector. */
export interface SinkPorts {
  tcp: number[];
  tls: number[];
  udp: number[];
  /** A TCP port that rejects connections until a `gate` request opens it. */
  gated: number;
}

/** Requests to the sink. Each carries an id that its reply repeats. */
export type SinkRequest =
  | { op: 'reset'; id: number }
  | { op: 'watch'; id: number; target: number }
  | { op: 'sample'; id: number }
  | { op: 'stats'; id: number }
  | { op: 'gate'; id: number; open: boolean };

export interface LatencySummary {
  samples: number;
  p50Ms: number;
  p99Ms: number;
}

export interface SinkStats {
  count: number;
  bytes: number;
  /** Shared-clock time of the first and the last frame since the reset, or 0. */
  firstFrameAt: number;
  lastFrameAt: number;
  /** CPU time the sink process used since it started, user and system, in microseconds. */
  cpuMicros: number;
}

/** Replies from the sink. */
export type SinkReply =
  | { op: 'ready'; id: 0; ports: SinkPorts }
  | { op: 'done'; id: number }
  /** The count reached the watched target at `at` (shared clock). */
  | { op: 'reached'; id: number; count: number; at: number }
  /** Latency of the frames counted since the previous `sample`, which this request starts over. */
  | { op: 'latency'; id: number; latency: LatencySummary }
  | ({ op: 'stats'; id: number } & SinkStats);

/**
 * Removes a temporary directory and everything in it. A failure is written to standard error,
 * because it leaves only a folder behind and must not end the run.
 */
export function removeTemporaryDirectory(directory: string, description: string): void {
  try {
    rmSync(directory, { recursive: true, force: true });
  } catch (error) {
    process.stderr.write(`Failed to remove ${description} ${directory}: ${(error as Error).message}\n`);
  }
}

/** Returns the median of `values`, the upper one of the two middle values for an even count. */
export function median(values: readonly number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
}
