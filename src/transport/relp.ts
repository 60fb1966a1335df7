import { Buffer } from 'node:buffer';
import net from 'node:net';
import tls from 'node:tls';
import { EventEmitter } from 'eventemitter3';
import type { QueueRecord } from '../buffer/queue.js';
import { ConnectionClosedError, ConnectTimeoutError, RelpProtocolError, WriteStalledError } from '../errors.js';
import type { Connection, ConnectionEvents } from './connection.js';
import type { ConnectFunction, ConnectOptions } from './options.js';
import { encodeFrame, nextTxnr, parseOffers, parseResponse, RelpFrameParser, type RelpFrame } from './relp-frame.js';
import { resolveTlsOptions } from './tls-options.js';

/**
 * Offers sent with `open`. The specification calls version 0 experimental, but librelp 1.11
 * (imrelp in rsyslog 8.2302) speaks it and responds with `relp_version=0`.
 */
const OPEN_OFFERS = 'relp_version=0\nrelp_software=resilient-syslog\ncommands=syslog';

/** Maximum data of a response. librelp responds to `syslog` with 6 bytes and to `open` with about 100. */
const MAX_RESPONSE_BYTES = 64 * 1024;

/** One `syslog` command written and not yet confirmed. A class, for the reason given at `QueuedRecord`. */
export class Transaction {
  /** The server sent `rsp 200`, but an older transaction has no response yet. */
  acknowledged = false;

  constructor(
    readonly txnr: number,
    readonly record: QueueRecord,
  ) {}
}

/**
 * A RELP session with one collector. Each record travels as one `syslog` command and is
 * confirmed when the collector sends `rsp 200` for its transaction number, so nothing written
 * is lost: a record is either confirmed or reported through `fail`.
 *
 * At most `relpWindowSize` commands wait for a response at a time. Records written beyond the window
 * wait in a backlog on this connection and are sent as responses arrive.
 */
export class RelpConnection extends EventEmitter<ConnectionEvents> implements Connection {
  readonly target: string;

  private readonly socket: net.Socket;
  private readonly options: ConnectOptions;
  private readonly parser = new RelpFrameParser(MAX_RESPONSE_BYTES);

  private txnr = 1;
  private openTxnr = 0;
  private closeTxnr = 0;

  /** Sent transactions in transaction order; entries before `inflightHead` are confirmed. */
  private inflight: Transaction[] = [];
  private inflightHead = 0;
  private inflightBytes = 0;
  /** Records accepted by `write` that wait for room in the window. */
  private backlog: QueueRecord[] = [];
  private backlogHead = 0;

  private offers: ReadonlyMap<string, string[]> = new Map();
  private opened = false;
  private ending = false;
  private dead = false;
  private needDrain = false;
  private lastProgressAt = Date.now();
  private readonly timer: NodeJS.Timeout;

  private openResolve?: () => void;
  private openReject?: (error: Error) => void;
  private endPromise?: Promise<void>;
  private endResolve?: () => void;
  private endTimer?: NodeJS.Timeout;

  constructor(socket: net.Socket, options: ConnectOptions) {
    super();
    this.socket = socket;
    this.options = options;
    this.target = options.target;

    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => this.fail(new ConnectionClosedError(this.target, 'the collector closed the connection')));
    socket.on('error', (error) => this.fail(new ConnectionClosedError(this.target, error.message, { cause: error })));
    socket.on('close', () => this.fail(new ConnectionClosedError(this.target, 'socket closed')));
    socket.on('drain', () => this.onProgress());

    const tick = Math.max(10, Math.min(1000, Math.floor(options.stallTimeoutMs / 4)));
    this.timer = setInterval(() => this.onTick(), tick);
    this.timer.unref();
  }

  get writable(): boolean {
    return (
      this.opened &&
      !this.dead &&
      !this.ending &&
      this.unconfirmed < this.options.relpWindowSize &&
      this.socket.writableLength < this.options.highWaterMarkBytes
    );
  }

  get unconfirmed(): number {
    return this.inflight.length - this.inflightHead + this.backlog.length - this.backlogHead;
  }

  /** True when the collector acknowledged every record written so far. */
  get settled(): boolean {
    return this.unconfirmed === 0;
  }

  get closed(): boolean {
    return this.dead;
  }

  /** The offers in the collector's response to `open`, such as `relp_software`. */
  get serverOffers(): ReadonlyMap<string, string[]> {
    return this.offers;
  }

  /** Sends `open` and resolves once the collector accepted the session with `rsp 200`. */
  open(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.openResolve = resolve;
      this.openReject = reject;
      this.openTxnr = this.takeTxnr();
      this.lastProgressAt = Date.now();
      this.socket.write(encodeFrame(this.openTxnr, 'open', OPEN_OFFERS));
    });
  }

  write(records: readonly QueueRecord[]): void {
    if (records.length === 0) return;
    if (this.dead || this.ending) {
      // The caller raced a failure or end(): hand the records straight back.
      this.emit('fail', records.slice(), new ConnectionClosedError(this.target, 'write after the connection ended'));
      return;
    }
    for (const record of records) this.backlog.push(record);
    try {
      this.sendBacklog();
    } catch (error) {
      // Encoding can only fail on a payload beyond V8's string or buffer limits.
      this.fail(error as Error);
      return;
    }
    if (!this.writable) this.needDrain = true;
  }

  end(timeoutMs: number): Promise<void> {
    if (this.endPromise !== undefined) return this.endPromise;
    if (this.dead) return Promise.resolve();
    this.ending = true;
    this.endPromise = new Promise<void>((resolve) => {
      this.endResolve = resolve;
      this.endTimer = setTimeout(() => {
        if (this.unconfirmed === 0) {
          // Every record is confirmed and only the rsp to close is missing: nothing to report.
          this.shutdown();
          this.socket.destroy();
          return;
        }
        const detail = `${this.unconfirmed} records unacknowledged when end() timed out after ${timeoutMs} ms`;
        this.fail(new ConnectionClosedError(this.target, detail));
      }, timeoutMs);
      this.endTimer.unref();
      this.sendCloseWhenIdle();
    });
    return this.endPromise;
  }

  destroy(error?: Error): void {
    this.fail(error ?? new ConnectionClosedError(this.target, 'destroyed by the sender'));
  }

  /** Moves backlog records into the window and writes all their frames with one socket write. */
  private sendBacklog(): void {
    const room = this.options.relpWindowSize - (this.inflight.length - this.inflightHead);
    const count = Math.min(room, this.backlog.length - this.backlogHead);
    if (count <= 0 || this.dead) return;

    if (this.inflight.length === this.inflightHead) this.lastProgressAt = Date.now();
    const firstTxnr = this.txnr;
    let frames = '';
    let expectedBytes = 0;
    for (let index = 0; index < count; index += 1) {
      const record = this.backlog[this.backlogHead + index];
      const txnr = this.takeTxnr();
      const header = record.bytes === 0 ? `${txnr} syslog 0` : `${txnr} syslog ${record.bytes} `;
      frames += header + record.payload + '\n';
      expectedBytes += header.length + record.bytes + 1;
      this.inflight.push(new Transaction(txnr, record));
      this.inflightBytes += record.bytes;
    }
    const slice = this.backlog.slice(this.backlogHead, this.backlogHead + count);
    this.backlogHead += count;
    this.compactBacklog();

    let data: Buffer = Buffer.from(frames, 'utf8');
    // DATALEN comes from QueueRecord.bytes. A wrong value would desynchronize the collector's
    // parser, so the batch is encoded again from measured lengths when the total disagrees.
    if (data.length !== expectedBytes) data = encodeSyslogFrames(firstTxnr, slice);
    this.socket.write(data);
  }

  private takeTxnr(): number {
    // NOTE: librelp's server expects 1,000,000,000 after 999,999,999 and cannot parse it, so
    // imrelp ends the session when this wraps to 1 and the records in flight come back through
    // fail. Read in librelp's source; no test sends a billion commands.
    const txnr = this.txnr;
    this.txnr = nextTxnr(txnr);
    return txnr;
  }

  private onData(chunk: Buffer): void {
    if (this.dead) return;
    const { frames, error } = this.parser.push(chunk);
    const confirmed: QueueRecord[] = [];
    let problem: Error | undefined;
    for (const frame of frames) {
      problem = this.handleFrame(frame, confirmed);
      if (problem !== undefined || this.dead) break;
    }
    problem ??= error;
    this.emitConfirmed(confirmed);
    if (problem !== undefined) {
      this.fail(problem);
      return;
    }
    if (this.dead) return;
    if (frames.length > 0) this.lastProgressAt = Date.now();
    this.sendBacklog();
    this.sendCloseWhenIdle();
    this.emitDrainIfWritable();
  }

  /** Applies one frame; returns the error that ends the session, if any. Confirmed records are appended to `confirmed`. */
  private handleFrame(frame: RelpFrame, confirmed: QueueRecord[]): Error | undefined {
    if (frame.txnr === 0) {
      if (frame.command === 'serverclose') {
        if (this.closeTxnr !== 0) return undefined; // librelp sends it after its rsp to our own close.
        return new ConnectionClosedError(this.target, 'the collector sent serverclose');
      }
      return undefined; // Other hints carry nothing that a client must act on.
    }
    if (frame.command !== 'rsp') {
      return new RelpProtocolError(`Collector ${this.target} sent the command ${frame.command}, but a RELP server may only send rsp`);
    }

    if (frame.txnr === this.openTxnr && !this.opened) return this.handleOpenResponse(frame);
    if (frame.txnr === this.closeTxnr) return this.handleCloseResponse(frame);

    const response = tryParseResponse(frame.data);
    if (response instanceof Error) return response;
    const transaction = this.findTransaction(frame.txnr);
    if (transaction === undefined) {
      return new RelpProtocolError(`Collector ${this.target} sent rsp for transaction ${frame.txnr}, which is not outstanding`);
    }
    if (response.status !== 200) {
      return new RelpProtocolError(
        `Collector ${this.target} rejected transaction ${frame.txnr} with ${response.status} ${response.text}`.trimEnd(),
      );
    }
    transaction.acknowledged = true;
    this.collectConfirmed(confirmed);
    return undefined;
  }

  private handleOpenResponse(frame: RelpFrame): Error | undefined {
    const response = tryParseResponse(frame.data);
    if (response instanceof Error) return response;
    if (response.status !== 200) {
      return new RelpProtocolError(`Collector ${this.target} rejected the RELP session: ${response.status} ${response.text}`.trimEnd());
    }
    const offers = parseOffers(response.body);
    if (!offers.has('relp_version')) {
      return new RelpProtocolError(`Collector ${this.target} accepted the RELP session without a relp_version offer`);
    }
    if (!(offers.get('commands') ?? []).includes('syslog')) {
      return new RelpProtocolError(`Collector ${this.target} does not offer the syslog command (commands=${(offers.get('commands') ?? []).join(',')})`);
    }
    this.offers = offers;
    this.opened = true;
    this.openResolve?.();
    return undefined;
  }

  private handleCloseResponse(frame: RelpFrame): Error | undefined {
    // librelp responds to close with an empty rsp (DATALEN 0), so only a present non-200 status is an error.
    if (frame.data.length > 0) {
      const response = tryParseResponse(frame.data);
      if (response instanceof Error) return response;
      if (response.status !== 200) {
        return new RelpProtocolError(`Collector ${this.target} rejected close: ${response.status} ${response.text}`.trimEnd());
      }
    }
    this.finishEnd();
    return undefined;
  }

  /** Finds the transaction `txnr`. Servers respond in order, so the oldest outstanding one matches first. */
  private findTransaction(txnr: number): Transaction | undefined {
    for (let index = this.inflightHead; index < this.inflight.length; index += 1) {
      const transaction = this.inflight[index];
      if (transaction.txnr === txnr) return transaction.acknowledged ? undefined : transaction;
    }
    return undefined;
  }

  /** Confirms the acknowledged transactions at the head of the window, in order. */
  private collectConfirmed(confirmed: QueueRecord[]): void {
    while (this.inflightHead < this.inflight.length && this.inflight[this.inflightHead].acknowledged) {
      const { record } = this.inflight[this.inflightHead];
      confirmed.push(record);
      this.inflightBytes -= record.bytes;
      this.inflightHead += 1;
    }
    if (this.inflightHead === this.inflight.length) {
      this.inflight = [];
      this.inflightHead = 0;
    } else if (this.inflightHead > 1024 && this.inflightHead * 2 > this.inflight.length) {
      this.inflight = this.inflight.slice(this.inflightHead);
      this.inflightHead = 0;
    }
  }

  private emitConfirmed(confirmed: QueueRecord[]): void {
    if (confirmed.length > 0) this.emit('confirm', confirmed.map((record) => record.id));
  }

  private onProgress(): void {
    this.lastProgressAt = Date.now();
    this.emitDrainIfWritable();
  }

  private emitDrainIfWritable(): void {
    if (this.needDrain && this.writable) {
      this.needDrain = false;
      this.emit('drain');
    }
  }

  private onTick(): void {
    if (this.dead) return;
    // Before the session is open, connectTimeoutMs bounds the wait instead.
    const waiting = this.opened && (this.inflight.length > this.inflightHead || this.closeTxnr !== 0);
    if (waiting && Date.now() - this.lastProgressAt > this.options.stallTimeoutMs) {
      this.fail(new WriteStalledError(this.target, this.options.stallTimeoutMs, this.inflightBytes + this.socket.writableLength));
    }
  }

  /** Sends `close` once `end()` was called and every transaction is confirmed. */
  private sendCloseWhenIdle(): void {
    if (!this.ending || this.dead || this.closeTxnr !== 0 || this.unconfirmed > 0) return;
    this.closeTxnr = this.takeTxnr();
    this.lastProgressAt = Date.now();
    this.socket.write(encodeFrame(this.closeTxnr, 'close'));
  }

  /** Ends the session after the collector's rsp to `close`; every record is confirmed by now. */
  private finishEnd(): void {
    this.shutdown();
    this.socket.end();
    // The collector closes its side after its rsp; destroy the socket if it does not.
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  private fail(error: Error): void {
    if (this.dead) return;
    const records = this.takeUnconfirmed();
    const rejectOpen = this.openReject;
    this.shutdown();
    this.socket.destroy();
    rejectOpen?.(error);
    this.emit('fail', records, error);
  }

  private shutdown(): void {
    this.dead = true;
    clearInterval(this.timer);
    if (this.endTimer !== undefined) clearTimeout(this.endTimer);
    this.openResolve = undefined;
    this.openReject = undefined;
    this.endResolve?.();
    this.endResolve = undefined;
  }

  /** Removes and returns every unconfirmed record in write order: the window first, then the backlog. */
  private takeUnconfirmed(): QueueRecord[] {
    const records: QueueRecord[] = [];
    for (let index = this.inflightHead; index < this.inflight.length; index += 1) records.push(this.inflight[index].record);
    for (let index = this.backlogHead; index < this.backlog.length; index += 1) records.push(this.backlog[index]);
    this.inflight = [];
    this.inflightHead = 0;
    this.inflightBytes = 0;
    this.backlog = [];
    this.backlogHead = 0;
    return records;
  }

  private compactBacklog(): void {
    if (this.backlogHead === this.backlog.length) {
      this.backlog = [];
      this.backlogHead = 0;
    } else if (this.backlogHead > 1024 && this.backlogHead * 2 > this.backlog.length) {
      this.backlog = this.backlog.slice(this.backlogHead);
      this.backlogHead = 0;
    }
  }
}

/** Encodes `syslog` frames with DATALEN measured from each payload. */
function encodeSyslogFrames(firstTxnr: number, records: readonly QueueRecord[]): Buffer {
  const parts: Buffer[] = [];
  let txnr = firstTxnr;
  for (const record of records) {
    parts.push(encodeFrame(txnr, 'syslog', record.payload));
    txnr = nextTxnr(txnr);
  }
  return Buffer.concat(parts);
}

function createSocket(options: ConnectOptions): net.Socket {
  const socketOptions = { host: options.host, port: options.port, noDelay: true };
  if (options.tls === undefined) return net.connect(socketOptions);

  return tls.connect({ ...resolveTlsOptions(options), noDelay: true } as tls.ConnectionOptions);
}

/**
 * Opens a RELP session: TCP connect (TLS when `options.tls` is set), `open`, and the collector's
 * `rsp 200`, all within `connectTimeoutMs`. Rejects with `ConnectTimeoutError`, the socket error,
 * or `RelpProtocolError` when the collector refuses the session.
 */
export const connectRelp: ConnectFunction = (options) =>
  new Promise<Connection>((resolve, reject) => {
    let socket: net.Socket;
    try {
      socket = createSocket(options);
    } catch (error) {
      reject(error);
      return;
    }

    let connection: RelpConnection | undefined;
    const timeout = setTimeout(() => {
      const error = new ConnectTimeoutError(options.target, options.connectTimeoutMs);
      if (connection !== undefined) connection.destroy(error);
      else socket.destroy();
      reject(error);
    }, options.connectTimeoutMs);

    const onError = (error: Error): void => {
      clearTimeout(timeout);
      socket.destroy();
      reject(error);
    };
    socket.once('error', onError);
    socket.once(options.tls === undefined ? 'connect' : 'secureConnect', () => {
      socket.removeListener('error', onError);
      socket.setKeepAlive(true, options.keepAliveMs);
      connection = new RelpConnection(socket, options);
      connection.open().then(
        () => {
          clearTimeout(timeout);
          resolve(connection as RelpConnection);
        },
        (error: Error) => {
          clearTimeout(timeout);
          reject(error);
        },
      );
    });
  });

/** Parses an `rsp` body, returning the parse error instead of throwing it. */
function tryParseResponse(data: Buffer): ReturnType<typeof parseResponse> | Error {
  try {
    return parseResponse(data);
  } catch (error) {
    return error as Error;
  }
}
