import type { DiskBufferFs } from './disk-fs.js';

interface Waiter {
  /** First cycle that may hold the waiter's data: the running one, whose descriptors were already collected. */
  firstCycle: number;
  /** Cycle that covers everything written before the waiter was added. */
  lastCycle: number;
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * Runs fsync cycles one at a time: a cycle takes the descriptors that `collect` returns, fsyncs
 * them in parallel on the libuv pool, then reports to `onCycleEnd`. A request made while a
 * cycle runs starts one more cycle afterwards, so writes made during a cycle are covered by the
 * next one (group commit).
 */
export class FsyncScheduler {
  private running = false;
  private rerun = false;
  /** Number of the last cycle started. */
  private started = 0;
  private waiters: Waiter[] = [];
  private afterCycle: Array<() => void> = [];

  constructor(
    private readonly fs: DiskBufferFs,
    private readonly collect: () => number[],
    private readonly onCycleEnd: (error: Error | null) => void,
  ) {}

  get busy(): boolean {
    return this.running;
  }

  /** Starts a cycle now, or once the running one ends. */
  request(): void {
    if (this.running) {
      this.rerun = true;
      return;
    }
    this.start();
  }

  /**
   * Resolves once a cycle that started after this call has ended. Rejects when that cycle or
   * the one running at the call failed, since either may have held data written before it.
   */
  waitForCycle(): Promise<void> {
    return new Promise((resolve, reject) => {
      const firstCycle = this.running ? this.started : this.started + 1;
      this.waiters.push({ firstCycle, lastCycle: this.started + 1, resolve, reject });
      this.request();
    });
  }

  /** Runs `task` now when no cycle runs, otherwise after the running cycle (closing a descriptor mid-fsync would race). */
  whenIdle(task: () => void): void {
    if (this.running) this.afterCycle.push(task);
    else task();
  }

  private start(): void {
    this.running = true;
    this.rerun = false;
    this.started += 1;
    const cycle = this.started;
    const descriptors = this.collect();
    let remaining = descriptors.length;
    let failure: Error | null = null;

    const finish = (): void => {
      this.running = false;
      this.onCycleEnd(failure);
      const isSettled = (waiter: Waiter): boolean =>
        failure === null ? waiter.lastCycle <= cycle : waiter.firstCycle <= cycle;
      const settled = this.waiters.filter(isSettled);
      this.waiters = this.waiters.filter((waiter) => !isSettled(waiter));
      for (const waiter of settled) {
        if (failure === null) waiter.resolve();
        else waiter.reject(failure);
      }
      const tasks = this.afterCycle;
      this.afterCycle = [];
      for (const task of tasks) task();
      if (this.rerun || this.waiters.length > 0) this.start();
    };

    if (remaining === 0) {
      process.nextTick(finish);
      return;
    }
    const onSynced = (error: Error | null): void => {
      if (error && failure === null) failure = error;
      remaining -= 1;
      if (remaining === 0) finish();
    };
    for (const fd of descriptors) {
      try {
        this.fs.fsync(fd, onSynced);
      } catch (error) {
        process.nextTick(onSynced, error instanceof Error ? error : new Error(String(error)));
      }
    }
  }
}
