import net from 'node:net';
import tls from 'node:tls';
import { parseFrame } from './collector.js';
import { waitUntil } from './wait.js';

/** One TLS session as the collector saw it. */
export interface TlsSession {
  /** The SNI name the client sent, or false when it sent none. */
  servername: string | false;
  /** Messages parsed from the session, in order. */
  frames: string[];
  socket: tls.TLSSocket;
}

/** A server certificate and its private key, both PEM. */
export interface ServerCertificate {
  cert: Buffer;
  key: Buffer;
}

/**
 * A TLS syslog collector for tests, on a loopback port chosen by the kernel. A plain TCP front
 * takes each connection, records every byte the client sends and forwards it to the TLS server
 * behind it, so a test can check what went over the wire before encryption. The certificate can
 * be replaced while the collector runs; new handshakes use the new one.
 */
export class TlsTestCollector {
  readonly sessions: TlsSession[] = [];
  /** Handshakes the TLS server saw fail, such as a client that rejected the certificate. */
  readonly handshakeErrors: Error[] = [];
  /** TCP connections accepted by the front, failed handshakes included. */
  connections = 0;
  port = 0;
  private readonly rawChunks: Buffer[] = [];
  private readonly sockets = new Set<net.Socket>();
  private readonly front: net.Server;
  private readonly server: tls.Server;

  private constructor(certificate: ServerCertificate) {
    this.server = tls.createServer({ cert: certificate.cert, key: certificate.key }, (socket) => this.accept(socket));
    this.server.on('tlsClientError', (error, socket) => {
      this.handshakeErrors.push(error);
      socket.destroy();
    });
    this.front = net.createServer((client) => this.forward(client));
  }

  /** Starts the TLS server on an internal port and the recording front on `host` and `port` (0: chosen by the kernel). */
  static async start(certificate: ServerCertificate, host = '127.0.0.1', port = 0): Promise<TlsTestCollector> {
    const collector = new TlsTestCollector(certificate);
    await listen(collector.server, host, 0);
    await listen(collector.front, host, port);
    collector.port = (collector.front.address() as net.AddressInfo).port;
    return collector;
  }

  get frames(): string[] {
    return this.sessions.flatMap((session) => session.frames);
  }

  /** Every byte that clients sent to the front, as received: TLS records, or plain text if a client sent any. */
  get rawBytes(): Buffer {
    return Buffer.concat(this.rawChunks);
  }

  /** Presents `certificate` in every handshake from now on. */
  setCertificate(certificate: ServerCertificate): void {
    this.server.setSecureContext({ cert: certificate.cert, key: certificate.key });
  }

  /** Closes every open connection, as a collector restart would. */
  destroyConnections(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  async close(): Promise<void> {
    this.destroyConnections();
    await Promise.all([closeServer(this.front), closeServer(this.server)]);
  }

  /** Waits until `count` frames arrived in total. */
  async waitForFrames(count: number, timeoutMs = 10_000): Promise<string[]> {
    await waitUntil(() => this.frames.length >= count, () => `${count} frames arrived (received ${this.frames.length})`, timeoutMs);
    return this.frames;
  }

  private forward(client: net.Socket): void {
    this.connections += 1;
    this.track(client);
    const address = this.server.address() as net.AddressInfo;
    const backend = net.connect({ host: address.address, port: address.port });
    this.track(backend);
    client.on('data', (chunk: Buffer) => this.rawChunks.push(chunk));
    client.pipe(backend);
    backend.pipe(client);
    client.on('close', () => backend.destroy());
    backend.on('close', () => client.destroy());
  }

  private accept(socket: tls.TLSSocket): void {
    const session: TlsSession = { servername: socket.servername ?? false, frames: [], socket };
    this.sessions.push(session);
    this.track(socket);
    let pending: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      for (;;) {
        const parsed = parseFrame(pending);
        if (parsed === undefined) break;
        pending = pending.subarray(parsed.consumed);
        session.frames.push(parsed.message);
      }
    });
    socket.on('end', () => socket.end());
  }

  private track(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => this.sockets.delete(socket));
  }
}

function listen(server: net.Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
}

function closeServer(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}
