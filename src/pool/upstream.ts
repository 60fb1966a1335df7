import { debuglog } from 'node:util';
import { EventEmitter } from 'eventemitter3';
import { createPool, type Pool } from 'generic-pool';
import pRetry, { AbortError } from 'p-retry';
import type { QueueRecord } from '../buffer/queue.js';
import type { Connection, ConnectionEvents } from '../transport/connection.js';
import { ConnectFailedError, ConnectionClosedError } from '../errors.js';
import type { ConnectFunction, ConnectOptions } from '../transport/options.js';
import type { UpstreamStatus, UpstreamView } from '../strategy/strategy.js';
import type { UpstreamConfig } from './upstream-config.js';
import { probeTcp } from './health-probe.js';
import { publishConnectError, publishReplay, publishUpstreamStatus } from '../diagnostics.js';

const debug = debuglog('resilient-syslog');

/** Capped exponential backoff between connect attempts to an upstream that is down. */
export interface ReconnectOptions {
  /** First delay. Default 500 ms. */
  minDelayMs: number;
  /** Cap. Default 30,000 ms. */
  maxDelayMs: number;
  /** Growth per attempt. Default 2. */
  factor: number;
}

export interface UpstreamStatusChange {
  target: string;
  index: number;
  from: UpstreamStatus;
  to: UpstreamStatus;
  /** Reason for a change to `down`. */
  reason?: string;
  error?: Error;
}

export interface UpstreamEvents {
  status: (change: UpstreamStatusChange) => void;
  /** Ids of records the collector confirmed (see `ConnectionEvents.confirm`). */
  confirm: (upstream: Upstream, ids: ArrayLike<number>) => void;
  fail: (upstream: Upstream, records: QueueRecord[], error: Error) => void;
  drain: (upstream: Upstream) => void;
}

/** Counters kept per upstream. */
export interface UpstreamStats {
  target: string;
  status: UpstreamStatus;
  /** Reason for the current `down` status. */
  reason?: string;
  connects: number;
  failures: number;
  /** Records written (a replayed record counts again). */
  sent: number;
  confirmed: number;
  /** Records handed back for replay when a connection failed. */
  replayed: number;
  /** Records written and not yet confirmed. */
  pending: number;
}

/**
 * One collector: its status machine, its single connection (held in a generic-pool of size one)
 * and the reconnect loop (p-retry with capped exponential backoff and jitter). The loop runs
 * inside the pool's `create`, so generic-pool never gets a failing create to repeat in a tight
 * loop. `acquire` has a timeout and is retried while the loop runs.
 */
export class Upstream extends EventEmitter<UpstreamEvents> implements UpstreamView {
  readonly index: number;
  readonly target: string;
  readonly weight: number;
  readonly backup: boolean;
  status: UpstreamStatus = 'connecting';
  failures = 0;
  probesPassed = 0;
  reason: string | undefined;
  connection: Connection | undefined;

  private readonly options: ConnectOptions;
  private readonly connect: ConnectFunction;
  private readonly reconnect: ReconnectOptions;
  private readonly probeIntervalMs: number;
  private readonly pool: Pool<Connection>;
  private readonly abort = new AbortController();
  private probeTimer: NodeJS.Timeout | undefined;
  private probing = false;
  private readonly activeProbes: boolean;
  private counters = { connects: 0, sent: 0, confirmed: 0, replayed: 0 };

  constructor(
    config: UpstreamConfig,
    index: number,
    options: ConnectOptions,
    connect: ConnectFunction,
    reconnect: ReconnectOptions,
    probeIntervalMs: number,
    activeProbes: boolean,
  ) {
    super();
    this.index = index;
    this.target = config.target;
    this.weight = config.weight;
    this.backup = config.backup;
    this.options = options;
    this.connect = connect;
    this.reconnect = reconnect;
    this.probeIntervalMs = probeIntervalMs;
    this.activeProbes = activeProbes;
    this.pool = createPool<Connection>(
      {
        create: () => this.connectWithRetry(),
        destroy: async (connection) => {
          if (!connection.closed) connection.destroy();
        },
        // After close the sentinel connection must reach the waiting acquire, or the pool would create again at once.
        validate: async (connection) => this.abort.signal.aborted || !connection.closed,
      },
      { max: 1, min: 0, testOnBorrow: true, acquireTimeoutMillis: Math.max(1000, options.connectTimeoutMs), autostart: false },
    );
    // The create loop only rejects when the upstream is closed, which is expected.
    this.pool.on('factoryCreateError', (error) => debug('%s: connect loop ended: %s', this.target, error.message));
    this.pool.on('factoryDestroyError', (error) => debug('%s: destroy failed: %s', this.target, error.message));
  }

  get pending(): number {
    return this.connection?.unconfirmed ?? 0;
  }

  /** True when the upstream is up and its connection takes more data now. */
  get writable(): boolean {
    return this.status === 'up' && this.connection !== undefined && this.connection.writable;
  }

  start(): void {
    void this.acquireLoop();
  }

  write(records: readonly QueueRecord[]): void {
    this.counters.sent += records.length;
    this.connection!.write(records);
  }

  stats(): UpstreamStats {
    return {
      target: this.target,
      status: this.status,
      ...(this.status === 'down' && this.reason ? { reason: this.reason } : {}),
      connects: this.counters.connects,
      failures: this.failures,
      sent: this.counters.sent,
      confirmed: this.counters.confirmed,
      replayed: this.counters.replayed,
      pending: this.pending,
    };
  }

  /** Ends the connection cleanly (the collector confirms what it read) and stops reconnecting. */
  async close(timeoutMs: number): Promise<void> {
    if (this.status === 'closed') return;
    this.abort.abort();
    this.stopProbes();
    const deadline = Date.now() + timeoutMs;
    const connection = this.connection;
    if (connection && !connection.closed) await connection.end(timeoutMs);
    this.setStatus('closed');
    // The connection is borrowed for its whole life; the pool drains only once it is destroyed.
    if (connection && this.pool.isBorrowedResource(connection)) await this.pool.destroy(connection).catch(() => {});
    // A connect attempt in flight (a TLS handshake, a custom connector) delays the drain until it
    // settles. The deadline wins, and the attempt's connection is destroyed when it arrives.
    const drained = this.pool
      .drain()
      .then(() => this.pool.clear())
      .catch(() => {});
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
      timer.unref();
    });
    await Promise.race([drained, expired]);
    clearTimeout(timer);
  }

  private async acquireLoop(): Promise<void> {
    while (!this.abort.signal.aborted) {
      try {
        const connection = await this.pool.acquire();
        if (this.abort.signal.aborted) {
          await this.pool.destroy(connection).catch(() => {});
          return;
        }
        this.attach(connection);
        return;
      } catch (error) {
        // An acquire timeout only means the connect loop is still backing off.
        if ((error as Error).name !== 'TimeoutError') debug('%s: acquire failed: %s', this.target, (error as Error).message);
      }
    }
  }

  /**
   * Connects, retrying with backoff until it succeeds or the upstream closes. On close it
   * resolves with an already closed connection instead of rejecting, because generic-pool calls
   * create again at once after a rejected create while an acquire waits.
   */
  private connectWithRetry(): Promise<Connection> {
    return this.retryConnect().catch((error: Error) => {
      if (this.abort.signal.aborted) return new ClosedConnection(this.target);
      throw error;
    });
  }

  private retryConnect(): Promise<Connection> {
    return pRetry(
      async () => {
        if (this.abort.signal.aborted) throw new AbortError('upstream closed');
        try {
          return await this.connect(this.options);
        } catch (error) {
          // p-retry gives up at once on a TypeError (a bad TLS option, a broken connector), and
          // generic-pool would then call create again with no delay: wrap it so that it backs off.
          if (error instanceof Error && !(error instanceof TypeError)) throw error;
          throw new ConnectFailedError(this.target, error);
        }
      },
      {
        retries: Number.POSITIVE_INFINITY,
        minTimeout: this.reconnect.minDelayMs,
        maxTimeout: this.reconnect.maxDelayMs,
        factor: this.reconnect.factor,
        randomize: true,
        signal: this.abort.signal,
        unref: true,
        onFailedAttempt: ({ error, attemptNumber }) => {
          debug('%s: connect attempt %d failed: %s', this.target, attemptNumber, error.message);
          publishConnectError({ target: this.target, index: this.index, attempt: attemptNumber, error });
          this.setStatus('down', error);
        },
      },
    );
  }

  private attach(connection: Connection): void {
    this.connection = connection;
    this.counters.connects += 1;
    this.probesPassed = 1;
    connection.on('confirm', (ids) => {
      this.counters.confirmed += ids.length;
      this.emit('confirm', this, ids);
    });
    connection.on('drain', () => this.emit('drain', this));
    connection.once('fail', (records, error) => this.onFail(connection, records, error));
    this.startProbes();
    this.setStatus('up');
  }

  private onFail(connection: Connection, records: QueueRecord[], error: Error): void {
    this.stopProbes();
    this.counters.replayed += records.length;
    if (this.connection === connection) this.connection = undefined;
    void this.pool.destroy(connection).catch(() => {});
    if (this.status !== 'closed') {
      this.failures += 1;
      this.probesPassed = 0;
      this.setStatus('down', error);
    }
    if (records.length > 0) {
      debug('%s: %d records handed back to be sent again', this.target, records.length);
      publishReplay({ target: this.target, index: this.index, count: records.length, error });
    }
    this.emit('fail', this, records, error);
    if (!this.abort.signal.aborted) this.start();
  }

  /**
   * Probes the upstream every `probeIntervalMs` while it is up. Over TCP, TLS and RELP a probe is
   * a separate TCP handshake (see `probeTcp`); a failed one destroys the data connection, so its
   * replay window goes elsewhere. Over UDP a probe is an empty datagram, and an ICMP port
   * unreachable fails the connection. Each probe that passes counts towards failback.
   */
  private startProbes(): void {
    this.stopProbes();
    this.probeTimer = setInterval(() => void this.probe(), this.probeIntervalMs);
    this.probeTimer.unref();
  }

  private async probe(): Promise<void> {
    const connection = this.connection;
    if (connection === undefined || connection.closed || this.probing) return;
    if (this.options.protocol === 'udp' || !this.activeProbes) {
      connection.probe?.();
      this.probesPassed += 1;
      return;
    }
    this.probing = true;
    const error = await probeTcp(this.options.host, this.options.port, this.options.connectTimeoutMs);
    this.probing = false;
    if (connection !== this.connection || connection.closed) return;
    if (error === undefined) {
      this.probesPassed += 1;
      return;
    }
    debug('%s: %s', this.target, error.message);
    connection.destroy(new ConnectionClosedError(this.target, error.message, { cause: error }));
  }

  private stopProbes(): void {
    if (this.probeTimer) clearInterval(this.probeTimer);
    this.probeTimer = undefined;
  }

  private setStatus(to: UpstreamStatus, error?: Error): void {
    const from = this.status;
    const reason = error?.message;
    if (from === 'closed') return;
    if (from === to) {
      // One report per change of state, not per failed attempt: a new reason while down (reset,
      // then refused on every retry) only updates `stats()`.
      if (to === 'down' && reason !== this.reason) debug('%s: still down (%s)', this.target, reason);
      if (to === 'down') this.reason = reason;
      return;
    }
    this.status = to;
    this.reason = to === 'down' ? reason : undefined;
    debug('%s: %s -> %s%s', this.target, from, to, reason ? ` (${reason})` : '');
    const change: UpstreamStatusChange = { target: this.target, index: this.index, from, to, ...(reason ? { reason, error } : {}) };
    this.emit('status', change);
    publishUpstreamStatus(change);
  }
}

/** A connection that was never opened, returned by a connect loop that ended because its upstream closed. */
class ClosedConnection extends EventEmitter<ConnectionEvents> implements Connection {
  readonly writable = false;
  readonly unconfirmed = 0;
  readonly settled = true;
  readonly closed = true;

  constructor(readonly target: string) {
    super();
  }

  write(records: readonly QueueRecord[]): void {
    this.emit('fail', records.slice(), new ConnectionClosedError(this.target, 'the upstream is closed'));
  }

  async end(): Promise<void> {}

  destroy(): void {}
}
