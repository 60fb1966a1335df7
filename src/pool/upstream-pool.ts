import { debuglog } from 'node:util';
import { EventEmitter } from 'eventemitter3';
import { InvalidOptionError } from '../errors.js';
import type { QueueRecord } from '../buffer/queue.js';
import { FailoverStrategy } from '../strategy/failover.js';
import type { Strategy } from '../strategy/strategy.js';
import { connectTcp, connectTls } from '../transport/stream.js';
import { connectUdp } from '../transport/udp.js';
import { connectRelp } from '../transport/relp.js';
import type { ConnectFunction, ConnectOptions, Framing, Protocol } from '../transport/options.js';
import { Upstream, type ReconnectOptions, type UpstreamStats, type UpstreamStatusChange } from './upstream.js';
import { parseUpstream, type UpstreamOptions } from './upstream-config.js';

const debug = debuglog('resilient-syslog');

/** Datagram payload cap used when an upstream sets none: 2048 bytes, which RFC 5426 says receivers SHOULD accept. */
const DEFAULT_MAX_DATAGRAM_BYTES = 2048;
/** Largest UDP payload over IPv4 (65,535 - 20 IP - 8 UDP); IPv6 allows 65,527. */
const MAX_DATAGRAM_BYTES = 65_527;

export interface UpstreamPoolOptions {
  /** Picks the upstream for each record. Default `new FailoverStrategy()`. */
  strategy?: Strategy;
  /** Bound on one connect attempt (DNS, TCP, TLS handshake, RELP open). Default 5,000 ms. */
  connectTimeoutMs?: number;
  /** A connection with bytes pending and none drained for this long is declared dead. Default 15,000 ms. */
  stallTimeoutMs?: number;
  /** TCP and TLS: a written record is confirmed after the connection stayed healthy this long. Default 10,000 ms. */
  replayWindowMs?: number;
  /**
   * TCP and TLS: at most this many records wait in the replay window; older flushed ones are
   * confirmed early. Default 100,000, which with the byte bound below covers what Linux's default
   * socket buffers (up to 4 MiB sent plus 6 MiB received) can hold for a collector that stopped reading.
   */
  replayWindowMaxRecords?: number;
  /** TCP and TLS: the same bound in bytes. Default 16 MiB. */
  replayWindowMaxBytes?: number;
  /** UDP: a datagram is confirmed this long after it was sent unless an ICMP port unreachable arrives first. Default 200 ms. */
  udpReplayWindowMs?: number;
  /** A connection stops taking records above this many unsent bytes. Default 1 MiB. */
  highWaterMarkBytes?: number;
  /** TCP keepalive initial delay. Default 10,000 ms. */
  keepAliveMs?: number;
  /** Delay between consecutive health probes of a connected upstream. Default 2,000 ms. */
  probeIntervalMs?: number;
  /**
   * TCP, TLS and RELP: probe with a separate TCP handshake, which finds a collector host that went
   * silent without closing the connection. False counts a probe as passed while the connection
   * stays open. Default true. Upstreams whose protocol has an entry in `connectors` never probe
   * actively, because the handshake would bypass the connector.
   */
  activeProbes?: boolean;
  /** Backoff between connect attempts. Defaults 500 ms, 30,000 ms, factor 2, with jitter. */
  reconnect?: Partial<ReconnectOptions>;
  /** LF framing: replacements for LF and CR inside a message. Default `#012` and `#015`. */
  newlineEscape?: { lf: string; cr: string };
  /** RELP: unacknowledged transactions per connection. Default 128. */
  relpWindowSize?: number;
  /** Replaces the transport for a protocol; for tests and custom transports. */
  connectors?: Partial<Record<Protocol, ConnectFunction>>;
}

export interface UpstreamPoolEvents {
  status: (change: UpstreamStatusChange) => void;
  /** Ids of records the collector confirmed (see `ConnectionEvents.confirm`). */
  confirm: (upstream: Upstream, ids: ArrayLike<number>) => void;
  fail: (upstream: Upstream, records: QueueRecord[], error: Error) => void;
  drain: (upstream: Upstream) => void;
  /** A datagram was cut to its upstream's size cap. */
  truncate: (upstream: Upstream) => void;
}

/**
 * The collectors: their addresses, protocols, weights and backup flags, one connection each,
 * health and reconnects. The pool starts connecting when a sender starts it.
 */
export class UpstreamPool extends EventEmitter<UpstreamPoolEvents> {
  readonly strategy: Strategy;
  readonly upstreams: readonly Upstream[];
  private started = false;

  constructor(upstreams: ReadonlyArray<string | UpstreamOptions>, options: UpstreamPoolOptions = {}) {
    super();
    if (options === null || typeof options !== 'object') {
      throw new InvalidOptionError(`Invalid UpstreamPool options ${String(options)}: expected an object or nothing`);
    }
    if (!Array.isArray(upstreams) || upstreams.length === 0) {
      throw new InvalidOptionError(
        `Invalid upstreams ${JSON.stringify(upstreams)}: expected a non-empty array of URLs such as 'tcp://collector-1:514'`,
      );
    }
    this.strategy = options.strategy ?? new FailoverStrategy();
    if (typeof this.strategy?.select !== 'function') {
      throw new InvalidOptionError('Invalid strategy: expected an object with a select(upstreams, record) method');
    }
    recordsPerSelectOf(this.strategy);
    const connectTimeoutMs = positive('connectTimeoutMs', options.connectTimeoutMs ?? 5_000);
    const stallTimeoutMs = positive('stallTimeoutMs', options.stallTimeoutMs ?? 15_000);
    const replayWindowMs = nonNegative('replayWindowMs', options.replayWindowMs ?? 10_000);
    const replayWindowMaxRecords = positive('replayWindowMaxRecords', options.replayWindowMaxRecords ?? 100_000);
    const replayWindowMaxBytes = positive('replayWindowMaxBytes', options.replayWindowMaxBytes ?? 16 * 1024 * 1024);
    const udpReplayWindowMs = nonNegative('udpReplayWindowMs', options.udpReplayWindowMs ?? 200);
    const highWaterMarkBytes = positive('highWaterMarkBytes', options.highWaterMarkBytes ?? 1024 * 1024);
    const keepAliveMs = positive('keepAliveMs', options.keepAliveMs ?? 10_000);
    const probeIntervalMs = positive('probeIntervalMs', options.probeIntervalMs ?? 2_000);
    const activeProbes = boolean('activeProbes', options.activeProbes ?? true);
    const relpWindowSize = positive('relpWindowSize', options.relpWindowSize ?? 128);
    const reconnect: ReconnectOptions = {
      minDelayMs: positive('reconnect.minDelayMs', options.reconnect?.minDelayMs ?? 500),
      maxDelayMs: positive('reconnect.maxDelayMs', options.reconnect?.maxDelayMs ?? 30_000),
      factor: positive('reconnect.factor', options.reconnect?.factor ?? 2),
    };
    if (reconnect.maxDelayMs < reconnect.minDelayMs) {
      throw new InvalidOptionError(
        `Invalid reconnect.maxDelayMs ${reconnect.maxDelayMs}: it must be at least reconnect.minDelayMs (${reconnect.minDelayMs})`,
      );
    }
    const newlineEscape = checkNewlineEscape(options.newlineEscape ?? { lf: '#012', cr: '#015' });
    for (const [protocol, connect] of Object.entries(options.connectors ?? {})) {
      if (typeof connect !== 'function') {
        throw new InvalidOptionError(`Invalid connectors.${protocol} ${String(connect)}: expected a function (options) => Promise<Connection>`);
      }
    }
    const connectors: Record<Protocol, ConnectFunction> = {
      udp: connectUdp,
      tcp: connectTcp,
      tls: connectTls,
      relp: connectRelp,
      ...options.connectors,
    };

    this.upstreams = upstreams.map((input, index) => {
      const config = parseUpstream(input, index);
      const maxDatagramBytes = config.maxDatagramBytes ?? DEFAULT_MAX_DATAGRAM_BYTES;
      if (!Number.isInteger(maxDatagramBytes) || maxDatagramBytes < 480 || maxDatagramBytes > MAX_DATAGRAM_BYTES) {
        throw new InvalidOptionError(
          `Invalid upstreams[${index}].maxDatagramBytes ${String(maxDatagramBytes)}: expected an integer from 480 to ${MAX_DATAGRAM_BYTES}`,
        );
      }
      const connectOptions: ConnectOptions = {
        protocol: config.protocol,
        host: config.host,
        port: config.port,
        target: config.target,
        connectTimeoutMs,
        stallTimeoutMs,
        highWaterMarkBytes,
        replayWindowMs: config.protocol === 'udp' ? udpReplayWindowMs : replayWindowMs,
        replayWindowMaxRecords,
        replayWindowMaxBytes,
        keepAliveMs,
        framing: config.framing ?? ('octet-counting' as Framing),
        newlineEscape,
        maxDatagramBytes,
        tls: config.tls,
        relpWindowSize,
      };
      // A custom connector may reach the collector another way (a tunnel, its own resolver), where
      // a direct handshake to host:port fails and would tear down every healthy connection.
      const probesActive = activeProbes && options.connectors?.[config.protocol] === undefined;
      const upstream = new Upstream(config, index, connectOptions, connectors[config.protocol], reconnect, probeIntervalMs, probesActive);
      connectOptions.onTruncate = () => this.emit('truncate', upstream);
      upstream.on('status', (change) => this.emit('status', change));
      upstream.on('confirm', (source, ids) => this.emit('confirm', source, ids));
      upstream.on('fail', (source, records, error) => this.emit('fail', source, records, error));
      upstream.on('drain', (source) => this.emit('drain', source));
      return upstream;
    });
  }

  /** Starts connecting to every upstream; called by the sender. Calling it twice does nothing. */
  start(): void {
    if (this.started) return;
    this.started = true;
    debug('starting %s strategy over %s', this.strategy.name, this.upstreams.map((upstream) => upstream.target).join(', '));
    for (const upstream of this.upstreams) upstream.start();
  }

  stats(): UpstreamStats[] {
    return this.upstreams.map((upstream) => upstream.stats());
  }

  /** Ends every connection cleanly within `timeoutMs` and stops reconnecting. */
  async close(timeoutMs = 5_000): Promise<void> {
    await Promise.all(this.upstreams.map((upstream) => upstream.close(timeoutMs)));
  }
}

/** Largest delay Node's timers take (2^31 - 1 ms); a longer one fires after 1 ms. */
const MAX_TIMER_MS = 2_147_483_647;

function positive(name: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > MAX_TIMER_MS) {
    throw new InvalidOptionError(`Invalid ${name} ${describe(value)}: expected a positive number up to ${MAX_TIMER_MS}`);
  }
  return value;
}

function nonNegative(name: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_TIMER_MS) {
    throw new InvalidOptionError(`Invalid ${name} ${describe(value)}: expected a number from 0 to ${MAX_TIMER_MS}`);
  }
  return value;
}

/**
 * Returns the strategy's `recordsPerSelect`, 1 when it is undefined. Throws InvalidOptionError for
 * a value that cannot split a batch into runs: with 0, routing would never advance.
 */
export function recordsPerSelectOf(strategy: Strategy): number {
  const value: unknown = strategy.recordsPerSelect;
  if (value === undefined) return 1;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new InvalidOptionError(
      `Invalid recordsPerSelect ${describe(value)} of strategy ${JSON.stringify(strategy.name)}: ` +
        'expected a positive integer, or undefined to select an upstream for every record',
    );
  }
  return value;
}

function boolean(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new InvalidOptionError(`Invalid ${name} ${describe(value)}: expected true or false`);
  return value;
}

function checkNewlineEscape(value: { lf: string; cr: string }): { lf: string; cr: string } {
  const valid = (text: unknown) => typeof text === 'string' && !/[\r\n]/.test(text);
  if (value === null || typeof value !== 'object' || !valid(value.lf) || !valid(value.cr)) {
    throw new InvalidOptionError(
      `Invalid newlineEscape ${JSON.stringify(value)}: expected { lf, cr } with two strings that contain no CR or LF, such as { lf: '#012', cr: '#015' }`,
    );
  }
  return value;
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}
