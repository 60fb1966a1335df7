import net from 'node:net';
import tls from 'node:tls';
import { EventEmitter } from 'eventemitter3';
import type { QueueRecord } from '../buffer/queue.js';
import { ConnectionClosedError, ConnectTimeoutError, WriteStalledError } from '../errors.js';
import type { Connection, ConnectionEvents } from './connection.js';
import { FrameBatch } from './frame-batch.js';
import type { ConnectFunction, ConnectOptions } from './options.js';
import { resolveTlsOptions } from './tls-options.js';

export type { TlsFileOptions } from './tls-options.js';

/** How long a FIN from the collector waits for a following RST before the window counts as read. */
const FIN_GRACE_MS = 200;

/**
 * A TCP or TLS connection to a collector. Plain TCP gives no acknowledgement, so a written batch
 * stays in a replay window until the connection stayed healthy for `replayWindowMs` after the
 * batch reached the kernel. An RST, write error or stall fails everything in the window. A FIN
 * from the collector that no RST follows confirms the window (see `onPeerEnd`).
 */
export class StreamConnection extends EventEmitter<ConnectionEvents> implements Connection {
  readonly target: string;
  private readonly socket: net.Socket;
  private readonly options: ConnectOptions;
  private readonly octetCounting: boolean;
  /** Batches written and not confirmed, each confirmed or failed as a whole, from `windowHead` on. */
  private readonly window: FrameBatch[] = [];
  private windowHead = 0;
  private windowRecords = 0;
  private windowBytes = 0;
  private lastProgressAt = Date.now();
  private readonly timer: NodeJS.Timeout;
  private ending = false;
  private dead = false;
  private needDrain = false;

  constructor(socket: net.Socket, options: ConnectOptions) {
    super();
    this.socket = socket;
    this.options = options;
    this.target = options.target;
    this.octetCounting = options.protocol === 'tls' || options.framing === 'octet-counting';

    // Collectors send nothing, but reading is what makes a FIN or RST visible at once.
    socket.on('data', () => {});
    socket.on('end', () => this.onPeerEnd());
    socket.on('error', (error) => this.fail(new ConnectionClosedError(this.target, error.message, { cause: error })));
    socket.on('close', (hadError) => {
      if (this.ending && !hadError) return; // end() or the FIN grace period decides.
      this.fail(new ConnectionClosedError(this.target, 'socket closed'));
    });
    socket.on('drain', () => this.onDrain());
    socket.resume();

    const tick = Math.max(10, Math.min(1000, Math.floor(Math.min(options.replayWindowMs, options.stallTimeoutMs) / 4)));
    this.timer = setInterval(() => this.onTick(), tick);
    this.timer.unref();
  }

  get writable(): boolean {
    return !this.dead && !this.ending && this.socket.writableLength < this.options.highWaterMarkBytes;
  }

  get unconfirmed(): number {
    return this.windowRecords;
  }

  get closed(): boolean {
    return this.dead;
  }

  get settled(): boolean {
    return this.dead || this.socket.writableLength === 0;
  }

  write(records: readonly QueueRecord[]): void {
    if (records.length === 0) return;
    if (this.dead || this.ending) {
      // The caller raced a failure: hand the records straight back.
      this.emit('fail', records.slice(), new ConnectionClosedError(this.target, 'write after the connection ended'));
      return;
    }
    const batch = new FrameBatch(records, this.octetCounting, this.options.newlineEscape);
    this.window.push(batch);
    this.windowRecords += batch.count;
    this.windowBytes += batch.payloadBytes;
    if (this.socket.writableLength === 0) this.lastProgressAt = Date.now();
    const chunks = batch.chunks;
    const last = chunks.length - 1;
    // Corked, the chunks leave in one writev call. Callbacks run in order, so the last one means all were flushed.
    if (last > 0) this.socket.cork();
    for (let index = 0; index < last; index += 1) this.socket.write(chunks[index]);
    const accepted = this.socket.write(chunks[last], (error) => {
      if (error) return;
      batch.flushedAt = this.lastProgressAt = Date.now();
      this.trimWindow();
    });
    if (last > 0) this.socket.uncork();
    if (!accepted) this.needDrain = true;
  }

  async end(timeoutMs: number): Promise<void> {
    if (this.dead || this.ending) return;
    this.ending = true;
    await new Promise<void>((resolve) => {
      const timeout = setTimeout(() => {
        this.fail(new ConnectionClosedError(this.target, `the collector did not close within ${timeoutMs} ms`));
        resolve();
      }, timeoutMs);
      timeout.unref();
      // The collector sends its own FIN in reply only after it has read everything before ours.
      this.socket.once('end', () => {
        clearTimeout(timeout);
        this.confirmAll();
        this.shutdown();
        resolve();
      });
      this.once('fail', () => {
        clearTimeout(timeout);
        resolve();
      });
      this.socket.end();
    });
  }

  destroy(error?: Error): void {
    this.fail(error ?? new ConnectionClosedError(this.target, 'destroyed by the sender'));
  }

  /**
   * The collector sent FIN. A collector that closes with unread data sends RST instead, and
   * data still in flight when it closed draws an RST too, so a FIN with no RST within
   * `FIN_GRACE_MS` means it read everything: the window is confirmed and nothing is replayed.
   *
   * NOTE: read is not stored. A collector killed after reading records and before storing them
   * sends a FIN with no RST, and those records are confirmed and lost.
   */
  private onPeerEnd(): void {
    if (this.ending || this.dead) return; // end() handles the reply to our own FIN.
    this.ending = true;
    const grace = setTimeout(() => {
      if (this.dead) return;
      this.confirmAll();
      this.fail(new ConnectionClosedError(this.target, 'the collector closed the connection'));
    }, FIN_GRACE_MS);
    grace.unref();
  }

  private onDrain(): void {
    this.lastProgressAt = Date.now();
    if (this.needDrain && !this.dead && !this.ending) {
      this.needDrain = false;
      this.emit('drain');
    }
  }

  private onTick(): void {
    if (this.dead) return;
    const pending = this.socket.writableLength;
    if (pending > 0 && Date.now() - this.lastProgressAt > this.options.stallTimeoutMs) {
      this.fail(new WriteStalledError(this.target, this.options.stallTimeoutMs, pending));
      return;
    }
    this.trimWindow();
  }

  /** Confirms flushed batches that aged past the window, and the oldest flushed ones while the window is over its bounds. */
  private trimWindow(): void {
    const now = Date.now();
    const confirmed: FrameBatch[] = [];
    while (this.windowHead < this.window.length) {
      const batch = this.window[this.windowHead];
      if (batch.flushedAt === 0) break;
      const aged = now - batch.flushedAt >= this.options.replayWindowMs;
      const overflow =
        this.windowRecords - batch.count >= this.options.replayWindowMaxRecords ||
        this.windowBytes - batch.payloadBytes >= this.options.replayWindowMaxBytes;
      if (!aged && !overflow) break;
      confirmed.push(batch);
      this.windowRecords -= batch.count;
      this.windowBytes -= batch.payloadBytes;
      this.windowHead += 1;
    }
    this.compactWindow();
    for (const batch of confirmed) {
      this.emit('confirm', batch.ids);
      batch.release();
    }
  }

  private confirmAll(): void {
    for (const batch of this.takeWindow()) {
      this.emit('confirm', batch.ids);
      batch.release();
    }
  }

  private takeWindow(): FrameBatch[] {
    const batches = this.window.slice(this.windowHead);
    this.window.length = 0;
    this.windowHead = 0;
    this.windowRecords = 0;
    this.windowBytes = 0;
    return batches;
  }

  private compactWindow(): void {
    if (this.windowHead > 64 && this.windowHead * 2 > this.window.length) {
      this.window.splice(0, this.windowHead);
      this.windowHead = 0;
    }
  }

  private fail(error: Error): void {
    if (this.dead) return;
    const records: QueueRecord[] = [];
    for (const batch of this.takeWindow()) {
      for (const record of batch.records()) records.push(record);
      batch.release();
    }
    this.shutdown(true);
    this.emit('fail', records, error);
  }

  /**
   * Stops the connection. With `reset` a plain TCP socket is reset (RST) instead of closed, because
   * after a close the kernel goes on retransmitting what the connection had not sent yet. A collector
   * that became reachable again would then receive records already replayed elsewhere, late.
   */
  private shutdown(reset = false): void {
    this.dead = true;
    clearInterval(this.timer);
    // NOTE: a TLSSocket has no TCP handle to reset (resetAndDestroy throws), so TLS keeps the late delivery.
    if (reset && !this.socket.destroyed && !(this.socket instanceof tls.TLSSocket)) this.socket.resetAndDestroy();
    else this.socket.destroy();
  }
}

/** Opens a plain TCP connection; the host name is resolved on every call. */
export const connectTcp: ConnectFunction = (options) =>
  openStream(options, () =>
    net.connect({
      host: options.host,
      port: options.port,
      keepAlive: true,
      keepAliveInitialDelay: options.keepAliveMs,
      noDelay: true,
      // Keeps the socket open after the collector's FIN, so an RST that follows it is still seen.
      allowHalfOpen: true,
    }),
  'connect');

/** Opens a TLS connection, verified against this collector's own name (or `tls.servername`). */
export const connectTls: ConnectFunction = (options) =>
  openStream(options, () => {
    // As for TCP: without allowHalfOpen Node closes the socket on the collector's FIN, and the RST
    // that reports unread records arrives after the socket is gone, so they would be confirmed.
    // tls.connect honours the option (checked on Node 20.20) although @types/node does not declare it.
    const connectOptions: tls.ConnectionOptions & { allowHalfOpen: boolean } = {
      ...resolveTlsOptions(options),
      allowHalfOpen: true,
    };
    return tls.connect(connectOptions);
  }, 'secureConnect');

function openStream(options: ConnectOptions, create: () => net.Socket, readyEvent: 'connect' | 'secureConnect'): Promise<Connection> {
  return new Promise((resolve, reject) => {
    let socket: net.Socket;
    try {
      socket = create();
    } catch (error) {
      reject(error);
      return;
    }
    const timeout = setTimeout(() => {
      socket.destroy();
      reject(new ConnectTimeoutError(options.target, options.connectTimeoutMs));
    }, options.connectTimeoutMs);
    const onError = (error: Error) => {
      clearTimeout(timeout);
      socket.destroy();
      reject(error);
    };
    socket.once('error', onError);
    socket.once(readyEvent, () => {
      clearTimeout(timeout);
      socket.removeListener('error', onError);
      socket.setKeepAlive(true, options.keepAliveMs);
      resolve(new StreamConnection(socket, options));
    });
  });
}
