import diagnosticsChannel from 'node:diagnostics_channel';
import { debuglog } from 'node:util';
import type { DropReason } from './buffer/queue.js';
import type { UpstreamStatus } from './strategy/strategy.js';

/**
 * Every `diagnostics_channel` the library publishes to. Messages carry targets, counts and
 * errors, never event bodies. Nothing is built or published while a channel has no subscriber.
 */
export const CHANNEL_NAMES = {
  /** An upstream changed status. Message: `UpstreamStatusMessage`. */
  upstreamStatus: 'resilient-syslog:upstream:status',
  /** One connect attempt to an upstream failed; the reconnect loop retries it. Message: `ConnectErrorMessage`. */
  connectError: 'resilient-syslog:upstream:connect:error',
  /** With an exclusive strategy (failover), traffic moved to another upstream. Message: `FailoverMessage`. */
  failover: 'resilient-syslog:failover',
  /** Events were dropped. Message: `DropMessage`. */
  drop: 'resilient-syslog:drop',
  /** A connection failed and handed its unconfirmed events back to be sent again. Message: `ReplayMessage`. */
  replay: 'resilient-syslog:replay',
} as const;

export type ChannelName = (typeof CHANNEL_NAMES)[keyof typeof CHANNEL_NAMES];

export interface UpstreamStatusMessage {
  /** `protocol://host:port`. */
  target: string;
  /** Position of the upstream in the pool's list. */
  index: number;
  from: UpstreamStatus;
  to: UpstreamStatus;
  /** Reason the upstream went down, set when `to` is `down`. */
  reason?: string;
  error?: Error;
}

export interface ConnectErrorMessage {
  target: string;
  index: number;
  /** Attempt number in the current reconnect loop, from 1. A loop starts with the pool and after each failed connection. */
  attempt: number;
  error: Error;
}

export interface FailoverMessage {
  /** The upstream that took traffic before, if any. */
  from?: string;
  to: string;
}

export interface DropMessage {
  count: number;
  /** `full`, `io-error` and `oversize` come from the queue; `closed` counts `send()` calls after `close()`. */
  reason: DropReason | 'closed';
}

export interface ReplayMessage {
  target: string;
  index: number;
  /** Events handed back; each may reach a collector twice. */
  count: number;
  error: Error;
}

const upstreamStatusChannel = diagnosticsChannel.channel(CHANNEL_NAMES.upstreamStatus);
const connectErrorChannel = diagnosticsChannel.channel(CHANNEL_NAMES.connectError);
const failoverChannel = diagnosticsChannel.channel(CHANNEL_NAMES.failover);
const dropChannel = diagnosticsChannel.channel(CHANNEL_NAMES.drop);
const replayChannel = diagnosticsChannel.channel(CHANNEL_NAMES.replay);

export function publishUpstreamStatus(message: UpstreamStatusMessage): void {
  if (upstreamStatusChannel.hasSubscribers) upstreamStatusChannel.publish(message);
}

export function publishConnectError(message: ConnectErrorMessage): void {
  if (connectErrorChannel.hasSubscribers) connectErrorChannel.publish(message);
}

export function publishFailover(message: FailoverMessage): void {
  if (failoverChannel.hasSubscribers) failoverChannel.publish(message);
}

export function publishDrop(message: DropMessage): void {
  if (dropChannel.hasSubscribers) dropChannel.publish(message);
}

export function publishReplay(message: ReplayMessage): void {
  if (replayChannel.hasSubscribers) replayChannel.publish(message);
}

const debug = debuglog('resilient-syslog');

/** Shortest time between two debuglog lines about drops, in milliseconds. */
const DROP_LOG_INTERVAL_MS = 1_000;

/**
 * Writes drops to `util.debuglog('resilient-syslog')`, because the `drop-newest` policy can drop
 * every event: the first drop at once, then at most one line a second with the counts since the
 * previous line, and the rest when the sender closes.
 */
export class DropLog {
  private readonly counts = new Map<DropReason | 'closed', number>();
  private lastLogAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly now: () => number = Date.now) {}

  record(count: number, reason: DropReason | 'closed'): void {
    if (!debug.enabled) return;
    this.counts.set(reason, (this.counts.get(reason) ?? 0) + count);
    const now = this.now();
    if (now - this.lastLogAt < DROP_LOG_INTERVAL_MS) return;
    this.lastLogAt = now;
    this.write();
  }

  /** Writes the counts not yet logged, if any; the sender calls it when it closes. */
  flush(): void {
    if (this.counts.size > 0) this.write();
  }

  private write(): void {
    const parts = [...this.counts].map(([reason, count]) => `${count} (${reason})`);
    this.counts.clear();
    debug('dropped events: %s', parts.join(', '));
  }
}
