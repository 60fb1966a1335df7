import { InvalidOptionError } from '../errors.js';
import { type DiskBufferFs, defaultFs } from './disk-fs.js';
import { FULL_POLICIES, type FullPolicy } from './queue.js';
import { RECORD_HEADER_BYTES } from './record-format.js';
import { SEGMENT_HEADER_BYTES } from './segment.js';

/**
 * When written records are fsynced:
 * - `batch`: after every written batch (one per event-loop turn at most); `flush()` resolves
 *   once its records are on stable storage.
 * - `interval`: every `fsyncIntervalMs`.
 * - `never`: only on `flush()`; the operating system writes dirty pages back when it chooses.
 */
export type FsyncMode = 'batch' | 'interval' | 'never';

export const FSYNC_MODES: readonly FsyncMode[] = ['batch', 'interval', 'never'];

export interface DiskBufferOptions {
  /** Folder for the segment files, the metadata file and the quarantine folder. Created when missing. */
  directory: string;
  /**
   * Maximum bytes of unacknowledged records on disk, record and segment headers included.
   * Segment files never exceed it by more than one segment. Default 256 MiB.
   */
  maxBytes?: number;
  /** Maximum size of one segment file in bytes, at most `maxBytes`. Default `maxBytes / 8`, at most 8 MiB. */
  segmentBytes?: number;
  /** When written records are fsynced. Default `batch`. */
  fsync?: FsyncMode;
  /** Period of the `interval` mode in milliseconds. Default 1000. */
  fsyncIntervalMs?: number;
  /** Policy of `push` for a record that does not fit under `maxBytes`. Default `block`. */
  whenFull?: FullPolicy;
  /** After a failed write, `push` drops records for this many milliseconds before writing is tried again. Default 1000. */
  retryDelayMs?: number;
  /**
   * Maximum bytes (record headers included) of written records that `read` has not returned
   * and that are kept in memory, so that a reader that keeps up does not read them back from
   * disk. 0 turns the cache off. Default 1 MiB.
   */
  tailCacheBytes?: number;
  /** File-system functions to use instead of `node:fs`, for tests that fail a call at a chosen point. */
  fs?: DiskBufferFs;
}

export interface ResolvedDiskBufferOptions {
  directory: string;
  maxBytes: number;
  segmentBytes: number;
  fsync: FsyncMode;
  fsyncIntervalMs: number;
  whenFull: FullPolicy;
  retryDelayMs: number;
  tailCacheBytes: number;
  fs: DiskBufferFs;
}

const DEFAULT_MAX_BYTES = 256 * 1024 * 1024;
const DEFAULT_MAX_SEGMENT_BYTES = 8 * 1024 * 1024;
const DEFAULT_TAIL_CACHE_BYTES = 1024 * 1024;
/** Smallest segment: its header and one record with a 16-byte payload. */
export const MIN_SEGMENT_BYTES = SEGMENT_HEADER_BYTES + RECORD_HEADER_BYTES + 16;

/** Fills in defaults and throws InvalidOptionError naming the first invalid option and the value received. */
export function resolveDiskBufferOptions(options: DiskBufferOptions): ResolvedDiskBufferOptions {
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionError(`Invalid DiskBuffer options ${String(options)}: expected an object with a directory`);
  }
  const { directory } = options;
  if (typeof directory !== 'string' || directory.length === 0) {
    throw new InvalidOptionError(`Invalid directory ${JSON.stringify(directory)}: expected a non-empty path`);
  }

  const maxBytes = integerAtLeast('maxBytes', options.maxBytes ?? DEFAULT_MAX_BYTES, MIN_SEGMENT_BYTES);
  const defaultSegmentBytes = Math.max(MIN_SEGMENT_BYTES, Math.min(DEFAULT_MAX_SEGMENT_BYTES, Math.floor(maxBytes / 8)));
  const segmentBytes = integerAtLeast('segmentBytes', options.segmentBytes ?? defaultSegmentBytes, MIN_SEGMENT_BYTES);
  if (segmentBytes > maxBytes) {
    throw new InvalidOptionError(
      `Invalid segmentBytes ${segmentBytes}: must not exceed maxBytes (${maxBytes}); lower segmentBytes or raise maxBytes`,
    );
  }

  const fsync = options.fsync ?? 'batch';
  if (!FSYNC_MODES.includes(fsync)) {
    throw new InvalidOptionError(`Invalid fsync ${JSON.stringify(fsync)}: expected one of ${FSYNC_MODES.join(', ')}`);
  }
  const whenFull = options.whenFull ?? 'block';
  if (!FULL_POLICIES.includes(whenFull)) {
    throw new InvalidOptionError(
      `Invalid whenFull ${JSON.stringify(whenFull)}: expected one of ${FULL_POLICIES.join(', ')}`,
    );
  }

  const fsyncIntervalMs = integerAtLeast('fsyncIntervalMs', options.fsyncIntervalMs ?? 1000, 1);
  const retryDelayMs = integerAtLeast('retryDelayMs', options.retryDelayMs ?? 1000, 0);
  const tailCacheBytes = integerAtLeast('tailCacheBytes', options.tailCacheBytes ?? DEFAULT_TAIL_CACHE_BYTES, 0);

  const fs = options.fs ?? defaultFs;
  if (fs === null || typeof fs !== 'object' || typeof fs.writeSync !== 'function') {
    throw new InvalidOptionError(`Invalid fs ${String(fs)}: expected an object with the node:fs functions DiskBuffer uses`);
  }

  return { directory, maxBytes, segmentBytes, fsync, fsyncIntervalMs, whenFull, retryDelayMs, tailCacheBytes, fs };
}

function integerAtLeast(name: string, value: unknown, minimum: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < minimum) {
    throw new InvalidOptionError(`Invalid ${name} ${String(value)}: expected an integer of at least ${minimum}`);
  }
  return value;
}
