import { InvalidOptionError } from '../errors.js';
import type { EventQueue, FullPolicy } from '../buffer/queue.js';
import type { FormatOptions } from '../format/format-options.js';
import type { UpstreamPool } from '../pool/upstream-pool.js';

export interface SyslogSenderOptions extends FormatOptions {
  /** The collectors and the strategy. */
  pool: UpstreamPool;
  /** Queue for accepted events: a `DiskBuffer` to survive restarts. Default: a memory queue built from the three options below. */
  buffer?: EventQueue;
  /** Memory queue: maximum events waiting to be written to a connection. Default 100,000. Events written and not yet confirmed are bounded by the pool's replay window instead. */
  maxQueueRecords?: number;
  /** Memory queue: maximum bytes waiting to be written. Default 64 MiB. */
  maxQueueBytes?: number;
  /** Memory queue: what `send()` does when the queue is full. Default `block`: accept, return false, and let the caller wait on `ready()`. */
  whenFull?: FullPolicy;
  /** Records per write to one connection. Default 1,024. */
  batchRecords?: number;
  /** Bytes per write to one connection. Default 256 KiB. */
  batchBytes?: number;
  /** Deadline for `close()` when the caller gives none. Default 10,000 ms. */
  closeTimeoutMs?: number;
}

export interface ResolvedSenderOptions {
  batchRecords: number;
  batchBytes: number;
  closeTimeoutMs: number;
}

export function resolveSenderOptions(options: SyslogSenderOptions): ResolvedSenderOptions {
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionError(`Invalid options ${String(options)}: expected an object with at least a pool`);
  }
  if (options.pool === undefined || typeof (options.pool as { start?: unknown }).start !== 'function') {
    throw new InvalidOptionError(
      "Missing pool: pass pool: new UpstreamPool(['tcp://collector-1:514', 'tcp://collector-2:514'])",
    );
  }
  if (options.buffer !== undefined && typeof (options.buffer as { push?: unknown }).push !== 'function') {
    throw new InvalidOptionError('Invalid buffer: expected a DiskBuffer or another EventQueue');
  }
  if (options.maxQueueRecords !== undefined) positiveInteger('maxQueueRecords', options.maxQueueRecords);
  if (options.maxQueueBytes !== undefined) positiveInteger('maxQueueBytes', options.maxQueueBytes);
  return {
    batchRecords: positiveInteger('batchRecords', options.batchRecords ?? 1024),
    batchBytes: positiveInteger('batchBytes', options.batchBytes ?? 256 * 1024),
    closeTimeoutMs: positiveInteger('closeTimeoutMs', options.closeTimeoutMs ?? 10_000),
  };
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new InvalidOptionError(`Invalid ${name} ${typeof value === 'string' ? JSON.stringify(value) : String(value)}: expected a positive integer`);
  }
  return value;
}
