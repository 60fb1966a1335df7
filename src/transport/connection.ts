import type { EventEmitter } from 'eventemitter3';
import type { QueueRecord } from '../buffer/queue.js';

export interface ConnectionEvents {
  /**
   * The records with these ids reached the collector as far as the transport can tell; they may
   * leave the queue. Ids only, so that a transport may keep its unconfirmed records in a compact
   * form (the TCP replay window keeps the written bytes).
   */
  confirm: (ids: ArrayLike<number>) => void;
  /** The connection can take more records again after `writable` was false. */
  drain: () => void;
  /**
   * The connection is dead. `records` are every record written to it and not confirmed, in the
   * order they were written. The sender puts them back at the head of its queue. Emitted once.
   */
  fail: (records: QueueRecord[], error: Error) => void;
}

/**
 * One live connection to one collector. Transports (UDP, TCP, TLS, RELP) implement it; what
 * "confirmed" means is the transport's own rule.
 */
export interface Connection extends EventEmitter<ConnectionEvents> {
  /** The collector, as `protocol://host:port`. */
  readonly target: string;
  /** False while the connection has more unsent bytes than its high-water mark, or while it is closing or dead. */
  readonly writable: boolean;
  /** Records written and not yet confirmed. */
  readonly unconfirmed: number;
  /**
   * True when every written record has left the process: TCP and TLS handed the bytes to the
   * kernel, UDP sent the datagrams, RELP received the acknowledgements. `flush()` waits for it.
   */
  readonly settled: boolean;
  /** True once `fail` was emitted or the connection was ended. */
  readonly closed: boolean;

  /** Frames and writes the records in order. Never throws: a failure is reported through `fail`. */
  write(records: readonly QueueRecord[]): void;

  /**
   * Ends the connection cleanly: stops taking records, then confirms what the collector is known
   * to have read, or reports the rest through `fail` once `timeoutMs` passes.
   */
  end(timeoutMs: number): Promise<void>;

  /** Sends a health probe over this connection where the transport has one (UDP: an empty datagram). */
  probe?(): void;

  /** Closes at once; every unconfirmed record is reported through `fail`. */
  destroy(error?: Error): void;
}
