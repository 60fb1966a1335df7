import { DiskBuffer } from '../buffer/disk-buffer.js';
import type { DiskBufferOptions } from '../buffer/disk-buffer-options.js';
import type { FullPolicy } from '../buffer/queue.js';
import { InvalidOptionError } from '../errors.js';
import { describe, type FormatOptions } from '../format/format-options.js';
import type { UpstreamOptions } from '../pool/upstream-config.js';
import { UpstreamPool, type UpstreamPoolOptions } from '../pool/upstream-pool.js';
import { SyslogSender } from '../sender/syslog-sender.js';
import { FailoverStrategy } from '../strategy/failover.js';
import { RoundRobinStrategy } from '../strategy/round-robin.js';

/** Strategy names accepted in a `SenderConfig`. */
export type StrategyName = 'failover' | 'round-robin';

export const STRATEGY_NAMES: readonly StrategyName[] = ['failover', 'round-robin'];

/** The pool options that survive JSON: everything but the strategy object and custom connectors. */
export type PoolConfig = Omit<UpstreamPoolOptions, 'strategy' | 'connectors'>;

/** The DiskBuffer options that survive JSON: everything but the directory (see `bufferDir`) and `fs`. */
export type BufferConfig = Omit<DiskBufferOptions, 'directory' | 'fs'>;

/**
 * The options of `SyslogSender`, `UpstreamPool` and `DiskBuffer` in plain JSON form, for places
 * where objects cannot be passed: a pino worker thread, a configuration file, the command line.
 */
export interface SenderConfig extends Omit<FormatOptions, 'now'> {
  /** Collector URLs such as `tcp://127.0.0.1:5140`, or upstream objects; the first is the primary for failover. */
  upstreams: Array<string | UpstreamOptions>;
  /** `failover` (default): one collector at a time, in list order. `round-robin`: spread by weight. */
  strategy?: StrategyName;
  /** Failover only: probes a recovered upstream must pass before it takes traffic back. Default 3. */
  failbackProbes?: number;
  /** Round robin only: maximum consecutive records of a batch that go to the upstream of one pick. Default 64. */
  recordsPerPick?: number;
  /** Directory of a DiskBuffer that keeps undelivered events across restarts. Default: a memory queue. */
  bufferDir?: string;
  /** DiskBuffer options, used with `bufferDir`. */
  buffer?: BufferConfig;
  /** UpstreamPool options: timeouts, reconnect backoff, windows. */
  pool?: PoolConfig;
  /** Memory queue: maximum events held until confirmed. Default 100,000. */
  maxQueueRecords?: number;
  /** Memory queue: maximum bytes held until confirmed. Default 64 MiB. */
  maxQueueBytes?: number;
  /** Policy of `send()` when the queue is full. Default `block`. */
  whenFull?: FullPolicy;
  /** Records per write to one connection. Default 1,024. */
  batchRecords?: number;
  /** Bytes per write to one connection. Default 256 KiB. */
  batchBytes?: number;
  /** Deadline of `close()` in milliseconds. Default 10,000. */
  closeTimeoutMs?: number;
}

/** Every key `SenderConfig` accepts, for the check against misspelled options. */
export const SENDER_CONFIG_KEYS: readonly string[] = [
  'upstreams',
  'strategy',
  'failbackProbes',
  'recordsPerPick',
  'bufferDir',
  'buffer',
  'pool',
  'maxQueueRecords',
  'maxQueueBytes',
  'whenFull',
  'batchRecords',
  'batchBytes',
  'closeTimeoutMs',
  'format',
  'facility',
  'severity',
  'hostname',
  'fqdn',
  'appName',
  'procId',
  'msgId',
  'bom',
  'sequenceId',
  'timeZone',
  'maxMessageBytes',
  'sdNamePolicy',
  'replacementChar',
];

/**
 * Checks the shape of a `SenderConfig` that arrived as JSON. `extraKeys` are the caller's own
 * options mixed into the same object; any other unknown key is rejected as a likely misspelling.
 * The constructors check the values of the remaining options.
 */
export function checkSenderConfig(config: unknown, extraKeys: readonly string[] = [], label = 'options'): SenderConfig {
  if (!isPlainObject(config)) {
    throw new InvalidOptionError(`Invalid ${label} ${describe(config)}: expected an object with at least upstreams`);
  }
  for (const key of Object.keys(config)) {
    if (!SENDER_CONFIG_KEYS.includes(key) && !extraKeys.includes(key)) {
      throw new InvalidOptionError(
        `Unknown option ${JSON.stringify(key)} in ${label}: expected one of ${[...SENDER_CONFIG_KEYS, ...extraKeys].join(', ')}`,
      );
    }
  }

  const { upstreams, strategy, failbackProbes, recordsPerPick, bufferDir, buffer, pool } = config;
  if (!Array.isArray(upstreams) || upstreams.length === 0) {
    throw new InvalidOptionError(
      `Invalid upstreams ${describe(upstreams)}: expected a non-empty array of URLs such as "tcp://127.0.0.1:5140"`,
    );
  }
  if (strategy !== undefined && !STRATEGY_NAMES.includes(strategy as StrategyName)) {
    throw new InvalidOptionError(`Invalid strategy ${describe(strategy)}: expected one of ${STRATEGY_NAMES.join(', ')}`);
  }
  if (failbackProbes !== undefined && strategy === 'round-robin') {
    throw new InvalidOptionError('Invalid failbackProbes: it applies to the failover strategy only; remove it or use strategy "failover"');
  }
  if (recordsPerPick !== undefined && strategy !== 'round-robin') {
    throw new InvalidOptionError('Invalid recordsPerPick: it applies to the round-robin strategy only; remove it or use strategy "round-robin"');
  }
  if (bufferDir !== undefined && (typeof bufferDir !== 'string' || bufferDir === '')) {
    throw new InvalidOptionError(`Invalid bufferDir ${describe(bufferDir)}: expected a directory path`);
  }
  if (buffer !== undefined && !isPlainObject(buffer)) {
    throw new InvalidOptionError(`Invalid buffer ${describe(buffer)}: expected an object of DiskBuffer options`);
  }
  if (buffer !== undefined && bufferDir === undefined) {
    throw new InvalidOptionError('Invalid buffer: DiskBuffer options need bufferDir; set bufferDir or remove buffer');
  }
  if (pool !== undefined && !isPlainObject(pool)) {
    throw new InvalidOptionError(`Invalid pool ${describe(pool)}: expected an object of UpstreamPool options`);
  }
  return config as unknown as SenderConfig;
}

/** Builds the pool, the optional DiskBuffer and the sender that `config` describes. Throws InvalidOptionError. */
export function createSenderFromConfig(config: SenderConfig): SyslogSender {
  const {
    upstreams,
    strategy: strategyName,
    failbackProbes,
    recordsPerPick,
    bufferDir,
    buffer: bufferOptions,
    pool: poolOptions,
    ...senderOptions
  } = config;
  const strategy =
    strategyName === 'round-robin' ? new RoundRobinStrategy({ recordsPerPick }) : new FailoverStrategy({ failbackProbes });
  const pool = new UpstreamPool(upstreams, { ...poolOptions, strategy });
  const buffer =
    bufferDir === undefined
      ? undefined
      : new DiskBuffer({ ...bufferOptions, whenFull: bufferOptions?.whenFull ?? senderOptions.whenFull, directory: bufferDir });
  return new SyslogSender({ ...senderOptions, pool, buffer });
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
