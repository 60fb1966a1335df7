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
 * The `QueueRecord` that queues create, one per event.
 *
 * Made with `new`, never as an object literal. V8 samples how many objects of each object
 * literal outlive a young-generation collection. Say 85 % or more of a sample of at least 100 did,
 * in a collection at the young generation's full size. Then V8 allocates that literal's objects
 * in the old generation from then on, until a mark-compact finds most of the old generation dead
 * (allocation-site pretenuring, in V8's src/heap/pretenuring-handler.cc). A record normally dies within one turn of the event
 * loop, but a sample taken while a turn's records wait for the pump can look as if all of them
 * survive. After that, every record and the payload string it points to reached the old
 * generation, and the send rate fell by about a fifth (docs/benchmarks.md, "Records in the old
 * generation"). Objects made by a class constructor have no allocation site to decide on.
 */
export class QueuedRecord implements QueueRecord {
  constructor(
    readonly id: number,
    readonly payload: string,
    readonly bytes: number,
  ) {}
}

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
