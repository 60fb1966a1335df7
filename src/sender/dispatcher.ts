import { performance } from 'node:perf_hooks';
import type { EventQueue, QueueRecord } from '../buffer/queue.js';
import type { Upstream } from '../pool/upstream.js';
import { recordsPerSelectOf, type UpstreamPool } from '../pool/upstream-pool.js';
import type { Strategy } from '../strategy/strategy.js';
import { StrategyError } from '../errors.js';
import { AckTracker } from './ack-tracker.js';

/** Pause before routing again after a strategy threw. */
const STRATEGY_RETRY_MS = 1_000;

/**
 * Milliseconds that one turn of the event loop spends writing a backlog, after which the rest
 * waits for the next turn. A collector on loopback or a fast network takes a backlog as fast as
 * it is written, so without a limit the drain of a million waiting events would hold the host's
 * event loop for most of a second. The first batch of a turn is always written, and so are as
 * many records as the queue gained since the previous turn (see `Dispatcher.pump`).
 */
export const TURN_SLICE_MS = 2;

export interface DispatcherCounters {
  /** Records written to a connection, replays included. */
  sent: number;
  confirmed: number;
  /** Records that came back from a failed connection and were queued again. */
  replayed: number;
}

/**
 * Moves records from the queue to upstream connections and back. Records that a failed
 * connection hands back wait in `retry`, sorted by id, and always leave before unread records,
 * so order is kept and the backlog follows whichever upstream the strategy picks next.
 */
export class Dispatcher {
  readonly counters: DispatcherCounters = { sent: 0, confirmed: 0, replayed: 0 };
  private readonly tracker = new AckTracker();
  private retry: QueueRecord[] = [];
  private scheduled = false;
  private pumping = false;
  private stopped = false;
  private lastTarget: Upstream | undefined;
  /**
   * Unread records in the queue when the previous pump ended. The queue contains more than this
   * at the next pump only because events arrived in between. It starts at infinity, so that what
   * waits at the first pump counts as a backlog.
   */
  private unreadAfterPump = Number.POSITIVE_INFINITY;
  private readonly onStrategyError: (error: Error) => void;
  private readonly onSwitch: (from: Upstream | undefined, to: Upstream) => void;

  constructor(
    private readonly queue: EventQueue,
    private readonly pool: UpstreamPool,
    private readonly batchRecords: number,
    private readonly batchBytes: number,
    hooks: { onSwitch: (from: Upstream | undefined, to: Upstream) => void; onStrategyError: (error: Error) => void },
  ) {
    this.onSwitch = hooks.onSwitch;
    this.onStrategyError = hooks.onStrategyError;
    pool.on('confirm', (_upstream, ids) => this.onConfirm(ids));
    pool.on('fail', (_upstream, records) => this.onFail(records));
    pool.on('drain', () => this.schedule());
    pool.on('status', () => this.schedule());
  }

  /** Records accepted and not yet confirmed: unread, waiting for a retry, or on a connection. */
  get pending(): number {
    return this.queue.stats().records;
  }

  /** True when no record waits to be written and every connection has handed its writes off (see `Connection.settled`). */
  get settled(): boolean {
    if (this.retry.length > 0 || this.queue.unread > 0) return false;
    return this.pool.upstreams.every((upstream) => upstream.connection === undefined || upstream.connection.settled);
  }

  /** Records on connections, not yet confirmed. */
  get inFlight(): number {
    return this.tracker.pending - this.retry.length;
  }

  /** Runs `pump` once the current turn of the event loop ends, so that events sent together leave in one write. */
  schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  /** Stops writing; records keep flowing back through confirm and fail. */
  stop(): void {
    this.stopped = true;
  }

  pump(): void {
    if (this.pumping || this.stopped) return;
    this.pumping = true;
    try {
      const strategy = this.pool.strategy;
      const upstreams = this.pool.upstreams;
      const deadline = performance.now() + TURN_SLICE_MS;
      // The slice bounds a backlog only. This turn writes at least the records that arrived since
      // the previous one, because a producer that queues more per turn would otherwise fall behind.
      const arrived = Math.max(0, this.queue.unread - this.unreadAfterPump);
      let written = 0;
      for (;;) {
        if (written >= arrived && performance.now() >= deadline) {
          // Timers and I/O of the host run first. The next turn goes on where this one stopped.
          this.schedule();
          return;
        }
        const batch = this.take();
        if (batch.length === 0) return;
        // The pool checked recordsPerSelect at construction, but a getter can return another value
        // later. A run length that is not a positive integer would never advance or skip records.
        let runLength: number;
        try {
          runLength = strategy.exclusive ? 1 : recordsPerSelectOf(strategy);
        } catch (error) {
          this.postpone(batch, error instanceof Error ? error : new StrategyError(strategy.name, error));
          return;
        }
        let routing: ReturnType<typeof route>;
        try {
          routing = route(batch, strategy, upstreams, runLength);
        } catch (error) {
          this.postpone(batch, new StrategyError(strategy.name, error));
          return;
        }
        const { groups, routed } = routing;
        if (routed < batch.length) this.putBack(routed === 0 ? batch : batch.slice(routed));
        for (const [upstream, records] of groups) {
          this.counters.sent += records.length;
          if (strategy.exclusive && upstream !== this.lastTarget) {
            const previous = this.lastTarget;
            this.lastTarget = upstream;
            this.onSwitch(previous, upstream);
          }
          upstream.write(records);
        }
        written += routed;
        if (routed < batch.length) return;
      }
    } finally {
      this.unreadAfterPump = this.queue.unread;
      this.pumping = false;
    }
  }

  /**
   * Keeps `batch` for later and reports `error`, after a strategy failed. A custom strategy must not
   * crash the host, so routing is tried again after a pause instead of in a tight loop.
   */
  private postpone(batch: QueueRecord[], error: Error): void {
    this.putBack(batch);
    this.onStrategyError(error);
    setTimeout(() => this.schedule(), STRATEGY_RETRY_MS).unref();
  }

  private take(): QueueRecord[] {
    if (this.retry.length > 0) {
      if (this.retry.length <= this.batchRecords) {
        const all = this.retry;
        this.retry = [];
        return all;
      }
      return this.retry.splice(0, this.batchRecords);
    }
    const records = this.queue.read(this.batchRecords, this.batchBytes);
    this.tracker.add(records);
    return records;
  }

  private putBack(records: QueueRecord[]): void {
    this.retry = mergeById(records, this.retry);
  }

  private onConfirm(ids: ArrayLike<number>): void {
    this.counters.confirmed += ids.length;
    const ackId = this.tracker.confirm(ids);
    if (ackId >= 0) this.queue.ack(ackId);
  }

  private onFail(records: QueueRecord[]): void {
    if (records.length > 0) {
      this.counters.replayed += records.length;
      // A connection hands records back in write order. That is not id order when a replay was
      // written to it after newer records, and the retry list must stay sorted by id.
      this.putBack(sortById(records));
    }
    this.schedule();
  }
}

/**
 * Asks the strategy for the upstream of each run of at most `runLength` records, in order, and
 * stops at the first run that has none or whose upstream is not writable. Returns the records
 * routed so far, grouped by upstream in order, and how many they are.
 *
 * An exclusive strategy (failover) selects once, for the first record, and its choice takes the
 * whole batch. While every record goes to one upstream, as with a single collector, the group is
 * the batch itself (or its prefix) and no per-record copy is made. Writability is checked once per
 * upstream, which is enough because nothing is written until routing ends.
 */
function route(
  batch: QueueRecord[],
  strategy: Strategy,
  upstreams: readonly Upstream[],
  runLength: number,
): { groups: Map<Upstream, QueueRecord[]>; routed: number } {
  if (strategy.exclusive) {
    // All traffic goes to one upstream at a time, so one selection serves the whole batch.
    const upstream = strategy.select(upstreams, batch[0]) as Upstream | undefined;
    if (upstream === undefined || !upstream.writable) return { groups: new Map(), routed: 0 };
    return { groups: new Map([[upstream, batch]]), routed: batch.length };
  }
  // The runs of a batch differ in length by at most one record, and none is longer than
  // `runLength`. Every pick counts the same in a weighted rotation: with two equal upstreams,
  // batches of 87 records cut into runs of 64 + 23 would give the upstream of every second pick
  // about a quarter of the records. Runs of 43 + 44 take the same number of picks.
  const runCount = Math.ceil(batch.length / runLength);
  let single: Upstream | undefined;
  let groups: Map<Upstream, QueueRecord[]> | undefined;
  let routed = 0;
  let run = 0;
  while (routed < batch.length) {
    const upstream = strategy.select(upstreams, batch[routed]) as Upstream | undefined;
    if (upstream === undefined) break;
    run += 1;
    const runEnd = Math.floor((run * batch.length) / runCount);
    if (groups === undefined) {
      if (upstream === single) {
        routed = runEnd;
        continue;
      }
      if (single === undefined) {
        if (!upstream.writable) break;
        single = upstream;
        routed = runEnd;
        continue;
      }
      // A second upstream: from here on every run is copied into its group.
      groups = new Map([[single, batch.slice(0, routed)]]);
    }
    let group = groups.get(upstream);
    if (group === undefined) {
      if (!upstream.writable) break;
      group = [];
      groups.set(upstream, group);
    }
    for (let index = routed; index < runEnd; index += 1) group.push(batch[index]);
    routed = runEnd;
  }
  if (groups !== undefined) return { groups, routed };
  if (single === undefined) return { groups: new Map(), routed };
  return { groups: new Map([[single, routed === batch.length ? batch : batch.slice(0, routed)]]), routed };
}

/** Merges two lists sorted by id. */
function mergeById(first: QueueRecord[], second: QueueRecord[]): QueueRecord[] {
  if (second.length === 0) return first;
  if (first.length === 0) return second;
  if (first[first.length - 1].id < second[0].id) return first.concat(second);
  if (second[second.length - 1].id < first[0].id) return second.concat(first);
  return first.concat(second).sort((a, b) => a.id - b.id);
}

/** Returns `records` sorted by id: the same array when it already is, otherwise a sorted copy. */
function sortById(records: QueueRecord[]): QueueRecord[] {
  for (let index = 1; index < records.length; index += 1) {
    if (records[index].id < records[index - 1].id) return records.slice().sort((a, b) => a.id - b.id);
  }
  return records;
}
