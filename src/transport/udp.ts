import { Buffer } from 'node:buffer';
import dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { EventEmitter } from 'eventemitter3';
import type { QueueRecord } from '../buffer/queue.js';
import { ConnectionClosedError, ConnectTimeoutError } from '../errors.js';
import { UDP_MAX_PAYLOAD_IPV4, UDP_MAX_PAYLOAD_IPV6, encodeDatagram } from '../format/framing.js';
import type { Connection, ConnectionEvents } from './connection.js';
import type { ConnectFunction, ConnectOptions } from './options.js';

/** How long a connect-time probe waits for an ICMP port unreachable before the collector counts as up. */
const PROBE_WAIT_MS = 100;

/** The records of one write, kept until the replay window passes. A class, for the reason given at `QueuedRecord`. */
class SentBatch {
  sentAt = 0;

  constructor(
    readonly records: readonly QueueRecord[],
    public remaining: number,
  ) {}
}

/**
 * A connected UDP socket to one collector: one message per datagram (RFC 5426). UDP has no
 * acknowledgement, so the only failure signal is ICMP port unreachable, which Linux reports as
 * ECONNREFUSED on a connected socket shortly after the datagram left. A datagram is therefore
 * confirmed `replayWindowMs` after it was sent, and an ECONNREFUSED in that time fails the
 * connection and hands the datagrams back.
 */
export class UdpConnection extends EventEmitter<ConnectionEvents> implements Connection {
  readonly target: string;
  private readonly socket: dgram.Socket;
  private readonly options: ConnectOptions;
  private readonly sent: SentBatch[] = [];
  private unconfirmedCount = 0;
  private dead = false;
  private readonly timer: NodeJS.Timeout;

  constructor(socket: dgram.Socket, options: ConnectOptions) {
    super();
    this.socket = socket;
    this.options = options;
    this.target = options.target;
    socket.on('error', (error) => this.fail(new ConnectionClosedError(this.target, error.message, { cause: error })));
    this.timer = setInterval(() => this.confirmAged(), Math.max(10, Math.floor(options.replayWindowMs / 2)));
    this.timer.unref();
  }

  get writable(): boolean {
    return !this.dead && this.socket.getSendQueueSize() < this.options.highWaterMarkBytes;
  }

  get unconfirmed(): number {
    return this.unconfirmedCount;
  }

  get closed(): boolean {
    return this.dead;
  }

  get settled(): boolean {
    return this.dead || this.sent.every((batch) => batch.remaining === 0);
  }

  write(records: readonly QueueRecord[]): void {
    if (records.length === 0) return;
    if (this.dead) {
      this.emit('fail', records.slice(), new ConnectionClosedError(this.target, 'write after the connection ended'));
      return;
    }
    const batch = new SentBatch(records, records.length);
    this.sent.push(batch);
    this.unconfirmedCount += records.length;
    const onSent = (error: Error | null) => {
      if (error && isRetryable(error)) {
        this.fail(new ConnectionClosedError(this.target, error.message, { cause: error }));
        return;
      }
      // Any other send error (EMSGSIZE after truncation, for one) is about this datagram only:
      // it is not retried and the collector is not marked down.
      batch.remaining -= 1;
      if (batch.remaining === 0) {
        batch.sentAt = Date.now();
        if (this.socket.getSendQueueSize() === 0) this.emit('drain');
      }
    };
    for (const record of records) {
      const { datagram, truncated } = encodeDatagram(record.payload, record.bytes, this.options.maxDatagramBytes);
      if (truncated) this.options.onTruncate?.();
      this.socket.send(datagram, onSent);
    }
  }

  async end(): Promise<void> {
    if (this.dead) return;
    // Let an ICMP error for the last datagrams arrive before counting them as sent.
    await new Promise((resolve) => setTimeout(resolve, Math.min(PROBE_WAIT_MS, this.options.replayWindowMs)).unref());
    if (this.dead) return;
    this.confirm(Number.POSITIVE_INFINITY);
    this.shutdown();
  }

  /** Sends an empty datagram: a closed port replies with ICMP port unreachable, which fails the connection. */
  probe(): void {
    if (!this.dead) this.socket.send(Buffer.alloc(0), () => {});
  }

  destroy(error?: Error): void {
    this.fail(error ?? new ConnectionClosedError(this.target, 'destroyed by the sender'));
  }

  private confirmAged(): void {
    this.confirm(Date.now() - this.options.replayWindowMs);
  }

  private confirm(sentBefore: number): void {
    let count = 0;
    while (count < this.sent.length && this.sent[count].sentAt !== 0 && this.sent[count].sentAt <= sentBefore) count += 1;
    if (count === 0) return;
    const batches = this.sent.splice(0, count);
    const ids: number[] = [];
    for (const batch of batches) for (const record of batch.records) ids.push(record.id);
    this.unconfirmedCount -= ids.length;
    this.emit('confirm', ids);
  }

  private fail(error: Error): void {
    if (this.dead) return;
    const records = this.sent.flatMap((batch) => batch.records);
    this.sent.length = 0;
    this.unconfirmedCount = 0;
    this.shutdown();
    this.emit('fail', records, error);
  }

  private shutdown(): void {
    this.dead = true;
    clearInterval(this.timer);
    try {
      this.socket.close();
    } catch {
      // Already closed.
    }
  }
}

function isRetryable(error: Error): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code !== 'EMSGSIZE';
}

/**
 * Resolves the host on every connect, so DNS changes are followed, and opens a `udp4` or `udp6`
 * socket to match the address. It then connects the socket and sends an empty datagram as a
 * probe. An ICMP port unreachable within a short wait rejects the connect.
 */
export const connectUdp: ConnectFunction = async (options) => {
  const address = await withTimeout(lookup(options.host), options);
  const socket = dgram.createSocket(address.family === 6 ? 'udp6' : 'udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.connect(options.port, address.address, () => {
        socket.removeListener('error', reject);
        resolve();
      });
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.removeListener('error', reject);
        resolve();
      }, PROBE_WAIT_MS);
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      socket.send(Buffer.alloc(0));
    });
  } catch (error) {
    socket.on('error', () => {});
    socket.close();
    throw error;
  }
  // The pool accepts caps up to the IPv6 limit. Over IPv4 a larger datagram fails with EMSGSIZE
  // and is lost, so the cap shrinks to the IPv4 limit once the address family is known.
  const familyLimit = address.family === 6 ? UDP_MAX_PAYLOAD_IPV6 : UDP_MAX_PAYLOAD_IPV4;
  return new UdpConnection(socket, { ...options, maxDatagramBytes: Math.min(options.maxDatagramBytes, familyLimit) });
};

async function withTimeout<T>(promise: Promise<T>, options: ConnectOptions): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ConnectTimeoutError(options.target, options.connectTimeoutMs)), options.connectTimeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
