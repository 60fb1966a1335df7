import { debuglog } from 'node:util';
import { EventEmitter } from 'eventemitter3';
import { MemoryQueue } from '../buffer/memory-queue.js';
import type { DropReason, EventQueue } from '../buffer/queue.js';
import { DropLog, publishDrop, publishFailover } from '../diagnostics.js';
import { DeadlineError, InvalidEventError, InvalidOptionError, SenderClosedError } from '../errors.js';
import { MessageFormatter } from '../format/formatter.js';
import type { SyslogEvent } from '../format/types.js';
import type { Upstream, UpstreamStats, UpstreamStatusChange } from '../pool/upstream.js';
import type { UpstreamPool } from '../pool/upstream-pool.js';
import { Dispatcher } from './dispatcher.js';
import { resolveSenderOptions, type ResolvedSenderOptions, type SyslogSenderOptions } from './options.js';

const debug = debuglog('resilient-syslog');

/** How often `flush()` checks whether every write has left the process. */
const FLUSH_POLL_MS = 5;

export interface SwitchEvent {
  /** Target that took traffic before, if any. */
  from?: string;
  to: string;
}

export interface DropEvent {
  count: number;
  reason: DropReason | 'closed';
}

export interface SyslogSenderEvents {
  /** An upstream changed status (connecting, up, down with a reason, closed). */
  status: (change: UpstreamStatusChange) => void;
  /** With an exclusive strategy (failover): traffic moved to another upstream. */
  switch: (event: SwitchEvent) => void;
  /** Events were dropped by the full policy, a buffer write error or a send after close. */
  drop: (event: DropEvent) => void;
  /** The queue has room again after `send()` returned false. */
  ready: () => void;
  /** A problem the sender recovered from (buffer damage, write errors, a send after close); reported here instead of thrown. */
  warning: (error: Error) => void;
}

export interface SenderStats {
  /** Events taken by `send()`. */
  accepted: number;
  /** Writes to a connection, replays included. */
  sent: number;
  /** Events confirmed by a collector (by the transport's rule) and removed from the queue. */
  confirmed: number;
  /** Events that came back from a failed connection and were sent again; each may arrive twice. */
  replayed: number;
  /** Events dropped, by reason. */
  dropped: Record<DropReason | 'closed', number>;
  /** Events accepted and not yet confirmed. */
  pending: number;
  /** Events written to a connection and not yet confirmed. */
  inFlight: number;
  /** Messages cut to `maxMessageBytes`, and datagrams cut to an upstream's size cap. */
  truncated: number;
  /** Structured-data parameters dropped because their names break RFC 5424. */
  sdParamsDropped: number;
  queue: ReturnType<EventQueue['stats']>;
  upstreams: UpstreamStats[];
}

export interface CloseResult {
  /** True when every accepted event was confirmed before the deadline. */
  delivered: boolean;
  /** Events left unconfirmed: kept by a DiskBuffer for the next start, lost with the memory queue. */
  pending: number;
}

/**
 * The facade an application holds: formats events, queues them, drives delivery through the
 * pool and reports status. `send()` never blocks and never throws because of a collector.
 */
export class SyslogSender extends EventEmitter<SyslogSenderEvents> {
  readonly pool: UpstreamPool;
  private readonly queue: EventQueue;
  private readonly formatter: MessageFormatter;
  private readonly dispatcher: Dispatcher;
  private readonly settings: ResolvedSenderOptions;
  private readonly opened: Promise<void>;
  private accepted = 0;
  private truncatedDatagrams = 0;
  private readonly dropped: Record<DropReason | 'closed', number> = { full: 0, 'io-error': 0, oversize: 0, closed: 0 };
  private closing: Promise<CloseResult> | undefined;
  private readonly dropLog = new DropLog();
  private blocked = false;

  constructor(options: SyslogSenderOptions) {
    super();
    this.settings = resolveSenderOptions(options);
    this.formatter = new MessageFormatter(options);
    this.pool = options.pool;
    if (poolsInUse.has(this.pool)) {
      throw new InvalidOptionError(
        'Invalid pool: this UpstreamPool already serves another SyslogSender; create one pool per sender',
      );
    }
    this.queue =
      options.buffer ??
      new MemoryQueue({ maxRecords: options.maxQueueRecords, maxBytes: options.maxQueueBytes, whenFull: options.whenFull });

    this.queue.on('drop', (count, reason) => this.reportDrop(count, reason));
    // Deferred by a microtask, so that listeners attached right after the constructor returns
    // receive what the buffer reports while it opens (damaged records, for one).
    this.queue.on('warning', (error) => queueMicrotask(() => this.emit('warning', error)));
    this.queue.on('space', () => {
      if (this.blocked) {
        this.blocked = false;
        this.emit('ready');
      }
    });
    this.pool.on('status', (change) => this.emit('status', change));
    this.pool.on('truncate', () => {
      this.truncatedDatagrams += 1;
    });
    this.dispatcher = new Dispatcher(this.queue, this.pool, this.settings.batchRecords, this.settings.batchBytes, {
      onSwitch: (from, to) => this.reportSwitch(from, to),
      onStrategyError: (error) => this.emit('warning', error),
    });
    poolsInUse.add(this.pool);

    this.opened = this.queue.open().then(
      () => {
        this.pool.start();
        this.dispatcher.schedule();
      },
      (error: Error) => {
        // A queue promises not to reject on damaged content; anything else is reported and the memory path goes on.
        this.emit('warning', error);
        this.pool.start();
        this.dispatcher.schedule();
      },
    );
  }

  /**
   * Resolves when the sender takes more events: once the buffer is open and, after `send()`
   * returned false under `block`, once the queue has room again. Resolves at once after
   * `close()`, so a waiting producer never hangs at shutdown. `send()` works before it resolves.
   */
  ready(): Promise<void> {
    if (this.closing) return Promise.resolve();
    if (!this.queue.full) return this.opened;
    return new Promise((resolve) => {
      this.blocked = true;
      this.once('ready', resolve);
    });
  }

  /**
   * Formats and queues one event. Returns true when the event was queued and there is room for
   * more. Returns false in two cases. With `block` the queue is now full, so the event was taken
   * and the caller should `await sender.ready()` before sending more. With `drop-newest` (or
   * after a buffer write error) the event was dropped and counted. With `drop-oldest` the new
   * event is always queued and older ones are dropped and counted.
   *
   * Throws `InvalidEventError` only for input that is neither a string nor an event object, or
   * for an event that cannot be formatted (see `sdNamePolicy`). It never throws because of a
   * collector's state.
   */
  send(event: SyslogEvent | string): boolean {
    if (typeof event !== 'string' && (typeof event !== 'object' || event === null || Array.isArray(event))) {
      throw new InvalidEventError(
        `Invalid event ${describeValue(event)}: expected a string or an object such as { message: 'text' }`,
      );
    }
    if (this.closing) {
      this.reportDrop(1, 'closed');
      this.emit('warning', new SenderClosedError());
      return false;
    }
    const payload = this.formatter.format(event);
    const id = this.queue.push(payload, this.formatter.byteLength);
    if (id < 0) return false;
    this.accepted += 1;
    this.dispatcher.schedule();
    if (this.queue.full && this.queue.whenFull === 'block') {
      this.blocked = true;
      return false;
    }
    return true;
  }

  /** Events accepted and not yet confirmed. */
  get pending(): number {
    return this.dispatcher.pending;
  }

  /**
   * Resolves when every event accepted so far has been written and has left the process (TCP and
   * TLS: handed to the kernel; UDP: sent; RELP: acknowledged by the collector). Rejects with
   * `DeadlineError` after `timeoutMs`, for example while every collector is down. `close()` waits
   * for confirmation as well.
   */
  async flush(timeoutMs = this.settings.closeTimeoutMs): Promise<void> {
    checkTimeout('flush', timeoutMs);
    await this.opened;
    const deadline = Date.now() + timeoutMs;
    while (!this.dispatcher.settled) {
      if (Date.now() >= deadline) throw new DeadlineError('flush()', timeoutMs, this.dispatcher.pending);
      await new Promise((resolve) => setTimeout(resolve, FLUSH_POLL_MS));
    }
  }

  /**
   * Stops taking events, delivers what it can within `timeoutMs`, ends every connection cleanly
   * and closes the buffer. A DiskBuffer keeps what was not confirmed for the next start. Never
   * rejects because a collector is down.
   */
  close(timeoutMs = this.settings.closeTimeoutMs): Promise<CloseResult> {
    try {
      checkTimeout('close', timeoutMs);
    } catch (error) {
      return Promise.reject(error);
    }
    this.closing ??= this.closeOnce(timeoutMs);
    return this.closing;
  }

  stats(): SenderStats {
    const counters = this.dispatcher.counters;
    return {
      accepted: this.accepted,
      sent: counters.sent,
      confirmed: counters.confirmed,
      replayed: counters.replayed,
      dropped: { ...this.dropped },
      pending: this.dispatcher.pending,
      inFlight: this.dispatcher.inFlight,
      truncated: this.formatter.counters.truncated + this.truncatedDatagrams,
      sdParamsDropped: this.formatter.counters.sdParamsDropped,
      queue: this.queue.stats(),
      upstreams: this.pool.stats(),
    };
  }

  private async closeOnce(timeoutMs: number): Promise<CloseResult> {
    const deadline = Date.now() + timeoutMs;
    debug('closing: %d events pending', this.dispatcher.pending);
    try {
      await this.flush(timeoutMs);
    } catch (error) {
      debug('close: %s', (error as Error).message);
    }
    this.dispatcher.stop();
    // Ending connections cleanly confirms what each collector read; nothing is replayed.
    await this.pool.close(Math.max(100, deadline - Date.now()));
    const pending = this.dispatcher.pending;
    await this.queue.close();
    this.dropLog.flush();
    debug('closed: %d events not confirmed', pending);
    if (this.blocked) {
      this.blocked = false;
      this.emit('ready');
    }
    return { delivered: pending === 0, pending };
  }

  private reportSwitch(from: Upstream | undefined, to: Upstream): void {
    debug('traffic moves %s-> %s', from ? `${from.target} ` : '', to.target);
    const event: SwitchEvent = { ...(from ? { from: from.target } : {}), to: to.target };
    this.emit('switch', event);
    publishFailover(event);
  }

  private reportDrop(count: number, reason: DropReason | 'closed'): void {
    this.dropped[reason] += count;
    this.dropLog.record(count, reason);
    this.emit('drop', { count, reason });
    publishDrop({ count, reason });
  }
}

/** Pools that a sender already uses: two senders on one pool would each deliver every event. */
const poolsInUse = new WeakSet<UpstreamPool>();

function checkTimeout(method: string, timeoutMs: number): void {
  if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new InvalidOptionError(`Invalid ${method}() timeoutMs ${describeValue(timeoutMs)}: expected a positive number of milliseconds`);
  }
}

function describeValue(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}
