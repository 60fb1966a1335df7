/** The runner's side of the sink protocol, and the measuring helpers that the scenarios share. */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import v8 from 'node:v8';
import { createClock, type LatencySummary, type SinkReply, type SinkRequest, type SinkStats } from './shared.js';

export const clock = createClock();
export const MIB = 1024 * 1024;

/** Runs a full garbage collection when the process was started with --expose-gc, and does nothing otherwise. */
export const collectGarbage = (globalThis as { gc?: () => void }).gc ?? (() => {});

export const usedHeap = (): number => v8.getHeapStatistics().used_heap_size;

/** Clock ticks per second of /proc stat files (USER_HZ), 100 on Linux. */
const CLOCK_TICKS_PER_SECOND = 100;

/**
 * Returns the CPU time of the calling thread in microseconds, from /proc/thread-self/stat (10 ms
 * ticks), or NaN where that file is missing. The main thread runs the whole send path, while
 * `process.cpuUsage()` also counts other threads, such as the thread pool that runs fsync.
 */
export function threadCpuMicros(): number {
  try {
    const fields = readFileSync('/proc/thread-self/stat', 'utf8').split(') ')[1].split(' ');
    // Fields 14 and 15 of stat(5) (utime and stime), counted from field 3 after the command name.
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return Number.NaN;
  }
}

export interface Watch {
  /** Resolves with the shared-clock time at which the sink counted the target. */
  reached: Promise<number>;
  /** Stops waiting for the reply, for a target that will never be reached. */
  cancel: () => void;
}

/** Sends requests to the sink through the orchestrator and matches replies by id. */
export class SinkClient {
  /** Request ids start at a multiple of the process id, because interleaved runners receive each other's replies. */
  private nextId = process.pid * 1_000_000 + 1;
  private readonly pending = new Map<number, (reply: SinkReply) => void>();

  constructor() {
    process.on('message', (reply: SinkReply) => {
      const resolve = this.pending.get(reply.id);
      if (resolve === undefined) return;
      this.pending.delete(reply.id);
      resolve(reply);
    });
  }

  reset(): Promise<SinkReply> {
    return this.request((id) => ({ op: 'reset', id }));
  }

  /** Opens or closes the gated port. */
  gate(open: boolean): Promise<SinkReply> {
    return this.request((id) => ({ op: 'gate', id, open }));
  }

  /** Returns the latency of the frames counted since the previous call, and starts over. */
  async sample(): Promise<LatencySummary> {
    const reply = await this.request<Extract<SinkReply, { op: 'latency' }>>((id) => ({ op: 'sample', id }));
    return reply.latency;
  }

  stats(): Promise<SinkStats> {
    return this.request<Extract<SinkReply, { op: 'stats' }>>((id) => ({ op: 'stats', id }));
  }

  /** Asks the sink to report when it has counted `target` frames since the last reset. */
  watch(target: number): Watch {
    let cancel = () => {};
    const reached = new Promise<number>((resolve) => {
      cancel = this.send<Extract<SinkReply, { op: 'reached' }>>({ op: 'watch', id: this.nextId++, target }, (reply) =>
        resolve(reply.at),
      );
    });
    return { reached, cancel };
  }

  /**
   * Waits until `watch` is reached. Gives up when `deadline` (shared clock) passes, or when the
   * sink counted no new frame for `idleMs`. The result then carries the count so far and the time
   * of the last frame.
   */
  async waitFor(watch: Watch, deadline: number, idleMs: number): Promise<{ finished: boolean; at: number; count: number }> {
    let reachedAt: number | undefined;
    void watch.reached.then((at) => {
      reachedAt = at;
    });
    let lastCount = -1;
    let lastChange = clock();
    for (;;) {
      await Promise.race([watch.reached, sleep(200)]);
      const stats = await this.stats();
      if (reachedAt !== undefined) return { finished: true, at: reachedAt, count: stats.count };
      const now = clock();
      if (stats.count !== lastCount) {
        lastCount = stats.count;
        lastChange = now;
      }
      if (now > deadline || now - lastChange > idleMs) {
        watch.cancel();
        return { finished: false, at: stats.lastFrameAt, count: stats.count };
      }
    }
  }

  private send<T extends SinkReply>(request: SinkRequest, resolve: (reply: T) => void): () => void {
    this.pending.set(request.id, resolve as (reply: SinkReply) => void);
    process.send!({ to: 'sink', request });
    return () => this.pending.delete(request.id);
  }

  private request<T extends SinkReply>(build: (id: number) => SinkRequest): Promise<T> {
    return new Promise((resolve) => this.send<T>(build(this.nextId++), resolve));
  }
}

/** Tracks the peak of a value sampled every 10 ms. */
export class PeakSampler {
  peak: number;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly read: () => number) {
    this.peak = read();
    this.timer = setInterval(() => this.sample(), 10);
  }

  sample(): void {
    this.peak = Math.max(this.peak, this.read());
  }

  /** Stops sampling and returns the peak. */
  stop(): number {
    clearInterval(this.timer);
    this.sample();
    return this.peak;
  }
}
