import type { EventEmitter } from 'eventemitter3';

/** One accepted event as it sits in a queue: the formatted SYSLOG-MSG and its position. */
export interface QueueRecord {
  /** Position in the queue, assigned on push; strictly increasing, never reused by one queue. */
  readonly id: number;
  /** The formatted SYSLOG-MSG without framing. It travels as UTF-8. */
  readonly payload: string;
  /** UTF-8 length of `payload` in bytes. */
  readonly bytes: number;
}

/**
 * The `QueueRecord` that queues create, one per event. It is a class because V8 may allocate
 * every later object of an object literal in the old generation once a sample of them outlived
 * a young-generation collection (allocation-site pretenuring). Records would then cost a
 * mark-compact per 200,000 events; docs/benchmarks.md, "Records in the old generation", has the
 * trace and the rule.
 */
export class QueuedRecord implements QueueRecord {
  constructor(
    readonly id: number,
    readonly payload: string,
    readonly bytes: number,
  ) {}
}

/**
 * A record that lives as long as the process. V8 references the hidden class of a complete record
 * only weakly, so a full garbage collection between two bursts freed it and threw away the
 * optimized code of every function that reads records (`--trace-deopt`: "reason: weak objects").
 * A private static field would do the same but would make the public `QueuedRecord` type nominal.
 */
export const queuedRecordKeeper = new QueuedRecord(0, '', 0);

/** Policy for a new event when the queue is at its maximum. */
export type FullPolicy = 'block' | 'drop-newest' | 'drop-oldest';

export const FULL_POLICIES: readonly FullPolicy[] = ['block', 'drop-newest', 'drop-oldest'];

/** Reason a queue dropped records. */
export type DropReason = 'full' | 'io-error' | 'oversize';

export interface QueueEvents {
  /** Records were dropped; `count` of them, for `reason`. */
  drop: (count: number, reason: DropReason) => void;
  /** The queue went from full to having room again (the `block` policy waits for this). */
  space: () => void;
  /** A problem the queue recovered from (damaged record skipped, write failed); never thrown. */
  warning: (error: Error) => void;
}

/** Counters every queue reports; a DiskBuffer adds its own. */
export interface QueueStats {
  /** Records accepted and not yet acknowledged, read or not. */
  records: number;
  /** UTF-8 bytes of those records. */
  bytes: number;
  /** Records dropped by the full policy or after a write error. */
  dropped: number;
}

/**
 * The queue between `SyslogSender.send()` and the network. The memory queue and `DiskBuffer`
 * implement it, and one conformance suite tests both.
 *
 * A record is pushed, read (handed to a connection, which keeps it until it is confirmed or
 * fails) and acknowledged. `read` moves a read cursor and never returns a record twice while the
 * queue stays open. Records read but not acknowledged come back from `read` after the queue is
 * reopened (a crash replays them). `ack(id)` confirms every record with an id up to `id`.
 */
export interface EventQueue extends EventEmitter<QueueEvents> {
  /** Prepares the queue (a DiskBuffer scans its directory). Never rejects because of damaged content. */
  open(): Promise<void>;

  /**
   * Appends one record and returns its id, 0 when a DiskBuffer keeps it in memory until its
   * directory opens, or -1 when the full policy dropped it (`drop-newest`, or a write error). With `drop-oldest` the oldest unread records make room. With `block` the
   * record is always taken and `full` signals the caller to wait for `space`.
   */
  push(payload: string, bytes: number): number;

  /** Returns up to `maxRecords` unread records in order, at most `maxBytes` in total but always at least one if any is unread. */
  read(maxRecords: number, maxBytes: number): QueueRecord[];

  /** Confirms every record whose id is at most `id`; they leave the queue for good. */
  ack(id: number): void;

  /** Policy `push` applies at the maximum. */
  readonly whenFull: FullPolicy;

  /** True while the queue is at its maximum. */
  readonly full: boolean;

  /** Records not yet read. */
  readonly unread: number;

  stats(): QueueStats;

  /** Writes what it holds (a DiskBuffer persists it) and releases files. Unacknowledged records stay for the next open. */
  close(): Promise<void>;
}
