/**
 * A scriptable RELP server on a loopback port for tests that need a collector to misbehave:
 * respond late, out of order, with an error status, or not at all.
 */
import net from 'node:net';
import tls from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ConnectOptions } from '../../src/transport/options.js';
import { encodeFrame, RelpFrameParser, type RelpFrame } from '../../src/transport/relp-frame.js';

export interface FakeRelpServerOptions {
  /**
   * Data of the `rsp` to `open`, or `null` to never respond to it. Default: `200 OK` with the
   * offers librelp 1.11 sends.
   */
  openResponse?: string | null;
  /** Respond to every `syslog` command with `200 OK` as soon as it arrives. Default false. */
  autoAcknowledge?: boolean;
  /** Respond to `close` as librelp does: an empty `rsp`, then `serverclose`, then FIN. Default true. */
  respondToClose?: boolean;
  /** Serve TLS with these options instead of plain TCP. */
  tls?: tls.TlsOptions;
}

export const LIBRELP_OPEN_RESPONSE =
  '200 OK\nrelp_version=0\nrelp_software=librelp,1.11.0,http://librelp.adiscon.com\ncommands=syslog';

/** One client connection to the fake server and every frame it sent. */
export class FakeRelpSession {
  readonly frames: RelpFrame[] = [];
  /** Set when the client sent bytes that are not valid RELP. */
  parseError: Error | undefined;
  closed = false;

  private readonly parser = new RelpFrameParser(16 * 1024 * 1024);

  constructor(
    readonly socket: net.Socket,
    private readonly options: FakeRelpServerOptions,
  ) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => {});
    socket.on('close', () => (this.closed = true));
  }

  /** Frames with the `syslog` command, in arrival order. */
  get syslogFrames(): RelpFrame[] {
    return this.frames.filter((frame) => frame.command === 'syslog');
  }

  /** Sends `rsp` for `txnr` with `data` (default `200 OK`). */
  respond(txnr: number, data = '200 OK'): void {
    this.socket.write(encodeFrame(txnr, 'rsp', data));
  }

  /** Sends raw bytes, for frames that break the protocol. */
  sendRaw(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Polls until `predicate` holds for the received frames; rejects after `timeoutMs`. */
  async waitFor(predicate: (session: FakeRelpSession) => boolean, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this)) {
      if (Date.now() >= deadline) {
        throw new Error(`Fake RELP session condition not met within ${timeoutMs} ms; received ${this.frames.length} frames`);
      }
      await sleep(5);
    }
  }

  private onData(chunk: Buffer): void {
    const { frames, error } = this.parser.push(chunk);
    if (error !== undefined) {
      this.parseError = error;
      this.socket.destroy();
      return;
    }
    for (const frame of frames) {
      this.frames.push(frame);
      if (frame.command === 'open' && this.options.openResponse !== null) {
        this.respond(frame.txnr, this.options.openResponse ?? LIBRELP_OPEN_RESPONSE);
      } else if (frame.command === 'syslog' && this.options.autoAcknowledge) {
        this.respond(frame.txnr);
      } else if (frame.command === 'close' && this.options.respondToClose !== false) {
        this.respond(frame.txnr, '');
        this.socket.end(encodeFrame(0, 'serverclose'));
      }
    }
  }
}

/** A fake RELP collector listening on 127.0.0.1 on a port the kernel picks. */
export class FakeRelpServer {
  readonly sessions: FakeRelpSession[] = [];
  private readonly server: net.Server;
  private listeningPort = 0;

  private constructor(options: FakeRelpServerOptions) {
    const onSocket = (socket: net.Socket): void => {
      this.sessions.push(new FakeRelpSession(socket, options));
    };
    this.server = options.tls === undefined ? net.createServer(onSocket) : tls.createServer(options.tls, onSocket);
  }

  static async start(options: FakeRelpServerOptions = {}): Promise<FakeRelpServer> {
    const fake = new FakeRelpServer(options);
    await new Promise<void>((resolve, reject) => {
      fake.server.once('error', reject);
      fake.server.listen(0, '127.0.0.1', () => resolve());
    });
    fake.listeningPort = (fake.server.address() as net.AddressInfo).port;
    return fake;
  }

  get port(): number {
    return this.listeningPort;
  }

  /** Resolves with the `index`-th accepted session once it has arrived. */
  async session(index = 0, timeoutMs = 5000): Promise<FakeRelpSession> {
    const deadline = Date.now() + timeoutMs;
    while (this.sessions.length <= index) {
      if (Date.now() >= deadline) throw new Error(`Fake RELP server accepted no session ${index} within ${timeoutMs} ms`);
      await sleep(5);
    }
    return this.sessions[index];
  }

  /** Stops listening and destroys every session. */
  async close(): Promise<void> {
    for (const session of this.sessions) session.socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Connect options for a RELP connection to 127.0.0.1:`port`, with short timeouts for tests. */
export function relpOptions(port: number, overrides: Partial<ConnectOptions> = {}): ConnectOptions {
  return {
    protocol: 'relp',
    host: '127.0.0.1',
    port,
    target: `relp://127.0.0.1:${port}`,
    connectTimeoutMs: 2000,
    stallTimeoutMs: 5000,
    highWaterMarkBytes: 1024 * 1024,
    replayWindowMs: 0,
    replayWindowMaxRecords: 0,
    replayWindowMaxBytes: 0,
    keepAliveMs: 1000,
    framing: 'octet-counting',
    newlineEscape: { lf: '#012', cr: '#015' },
    maxDatagramBytes: 0,
    relpWindowSize: 128,
    ...overrides,
  };
}
