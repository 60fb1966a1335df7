import dgram from 'node:dgram';
import net from 'node:net';
import { waitUntil } from './wait.js';

/** One connection as the test collector saw it: the frames it parsed, in order. */
export interface CollectedConnection {
  socket: net.Socket;
  frames: string[];
}

/**
 * A TCP syslog collector for tests, on a loopback port chosen by the kernel. It parses
 * octet-counted or LF-framed messages and can, on command, stop listening, close or reset every
 * connection, or stop reading (a frozen collector).
 */
export class TestCollector {
  /** Connections that carried data, in the order their first byte arrived. */
  readonly connections: CollectedConnection[] = [];
  /** Every accepted connection, health probes included. */
  accepted = 0;
  private server: net.Server | undefined;
  private sockets = new Set<net.Socket>();
  private paused = false;
  port = 0;
  /** Called for every frame, with the connection's index. */
  onFrame: ((frame: string, connection: number) => void) | undefined;

  static async start(port = 0, host = '127.0.0.1'): Promise<TestCollector> {
    const collector = new TestCollector();
    await collector.listen(port, host);
    return collector;
  }

  get frames(): string[] {
    return this.connections.flatMap((connection) => connection.frames);
  }

  async listen(port = this.port, host = '127.0.0.1'): Promise<void> {
    const server = net.createServer((socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    this.server = server;
    this.port = (server.address() as net.AddressInfo).port;
  }

  /** Stops accepting; open connections stay. */
  async stopListening(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    // close() stops accepting at once; its callback would wait for open connections to end.
    server?.close();
  }

  /** Ends every open connection with FIN. */
  endAll(): void {
    for (const socket of this.sockets) socket.end();
  }

  /** Resets every open connection with RST. */
  resetAll(): void {
    for (const socket of this.sockets) socket.resetAndDestroy();
  }

  /** Stops reading from every connection, so the sender's writes pile up. */
  pause(): void {
    this.paused = true;
    for (const socket of this.sockets) socket.pause();
  }

  resume(): void {
    this.paused = false;
    for (const socket of this.sockets) socket.resume();
  }

  /** Stops listening and resets every connection: a collector that died. */
  async kill(): Promise<void> {
    await this.stopListening();
    this.resetAll();
  }

  async close(): Promise<void> {
    await this.stopListening();
    for (const socket of this.sockets) socket.destroy();
  }

  /** Waits until `count` frames arrived in total. */
  async waitForFrames(count: number, timeoutMs = 10_000): Promise<string[]> {
    await waitUntil(() => this.frames.length >= count, () => `${count} frames arrived (received ${this.frames.length})`, timeoutMs);
    return this.frames;
  }

  private accept(socket: net.Socket): void {
    // A connection joins `connections` with its first byte, so health probes (a handshake and
    // nothing else) do not count.
    const connection: CollectedConnection = { socket, frames: [] };
    let index = -1;
    this.accepted += 1;
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => {});
    if (this.paused) socket.pause();
    let pending: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      if (index < 0) index = this.connections.push(connection) - 1;
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      for (;;) {
        const parsed = parseFrame(pending);
        if (parsed === undefined) break;
        pending = pending.subarray(parsed.consumed);
        connection.frames.push(parsed.message);
        this.onFrame?.(parsed.message, index);
      }
    });
    // Reply to the sender's FIN with ours, as rsyslog does.
    socket.on('end', () => socket.end());
  }
}

/** Parses one octet-counted (digits first) or LF-terminated frame from the start of `data`. */
export function parseFrame(data: Buffer): { message: string; consumed: number } | undefined {
  if (data.length === 0) return undefined;
  if (data[0] >= 0x30 && data[0] <= 0x39) {
    const space = data.indexOf(0x20);
    if (space < 0) return undefined;
    const length = Number(data.subarray(0, space).toString('latin1'));
    if (data.length < space + 1 + length) return undefined;
    return { message: data.subarray(space + 1, space + 1 + length).toString('utf8'), consumed: space + 1 + length };
  }
  const newline = data.indexOf(0x0a);
  if (newline < 0) return undefined;
  return { message: data.subarray(0, newline).toString('utf8'), consumed: newline + 1 };
}

/** A UDP collector for tests that keeps every datagram. */
export class UdpTestCollector {
  readonly datagrams: Buffer[] = [];
  port = 0;
  private socket: dgram.Socket | undefined;

  static async start(type: 'udp4' | 'udp6' = 'udp4', port = 0): Promise<UdpTestCollector> {
    const collector = new UdpTestCollector();
    await collector.listen(type, port);
    return collector;
  }

  get messages(): string[] {
    return this.datagrams.filter((datagram) => datagram.length > 0).map((datagram) => datagram.toString('utf8'));
  }

  async listen(type: 'udp4' | 'udp6' = 'udp4', port = this.port): Promise<void> {
    const socket = dgram.createSocket(type);
    socket.on('message', (message) => this.datagrams.push(message));
    await new Promise<void>((resolve) => socket.bind(port, type === 'udp6' ? '::1' : '127.0.0.1', () => resolve()));
    this.socket = socket;
    this.port = socket.address().port;
  }

  async close(): Promise<void> {
    const socket = this.socket;
    this.socket = undefined;
    if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
  }

  async waitForMessages(count: number, timeoutMs = 10_000): Promise<string[]> {
    await waitUntil(() => this.messages.length >= count, () => `${count} datagrams arrived (received ${this.messages.length})`, timeoutMs);
    return this.messages;
  }
}
