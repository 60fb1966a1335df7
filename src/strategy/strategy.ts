import type { QueueRecord } from '../buffer/queue.js';

/** Status of one upstream: `connecting` (first attempt), `up`, `down` (with a reason) or `closed`. */
export type UpstreamStatus = 'connecting' | 'up' | 'down' | 'closed';

/** The fields of an upstream that a strategy may read. */
export interface UpstreamView {
  /** Position in the list the pool was given; lower is higher priority. */
  readonly index: number;
  /** `protocol://host:port`. */
  readonly target: string;
  readonly weight: number;
  readonly backup: boolean;
  readonly status: UpstreamStatus;
  /** Times this upstream went down since the pool started. */
  readonly failures: number;
  /** Consecutive probes passed since it last came up; 0 while it is not up. */
  readonly probesPassed: number;
  /** Records written to it and not yet confirmed. */
  readonly pending: number;
  /** True while it is up and its connection takes more data now (no full socket buffer or RELP window). */
  readonly writable?: boolean;
}

/**
 * Chooses the upstream for each record, or for each run of records (see `recordsPerSelect`). The
 * pool owns connections and health; a strategy only decides "which upstream next". `select`
 * returns undefined to make the record wait (for example while the preferred upstream is busy),
 * and the sender calls it again when something changes.
 */
export interface Strategy {
  readonly name: string;
  /**
   * True when all traffic goes to one upstream at a time (failover). The sender then calls `select`
   * once per batch of records, with the batch's first record, and reports each change of that
   * upstream as a `switch` event.
   */
  readonly exclusive?: boolean;
  /**
   * Maximum length n of the run of consecutive records in a batch that one `select` call places.
   * The sender calls `select` with the first record of each run and sends the whole run to the
   * upstream it returns. A batch of m records makes ceil(m / n) runs whose lengths differ by at
   * most one, so runs are shorter than n when n does not divide m. When absent or 1, `select` is
   * called for every record, which a strategy that routes by record content needs. `UpstreamPool`
   * rejects a value that is not a positive safe integer. The sender reads it again for every
   * batch: an invalid value then keeps the batch queued, emits a `warning` and retries after 1 s.
   * Exclusive strategies ignore it.
   */
  readonly recordsPerSelect?: number;
  select(upstreams: readonly UpstreamView[], record: QueueRecord): UpstreamView | undefined;
}
