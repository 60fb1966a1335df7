import net from 'node:net';

/**
 * A minimal syslog collector on a loopback port, for the demos: it accepts TCP connections,
 * parses octet-counted frames (RFC 6587) and keeps every message. `stop()` kills it the way a
 * crashed collector dies (listening socket closed, connections reset); `start()` brings it back
 * on the same port.
 */
export class LocalCollector {
  readonly messages: string[] = [];
  port = 0;
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();

  constructor(readonly name: string) {}

  async start(): Promise<void> {
    const server = net.createServer((socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as net.AddressInfo).port;
  }

  stop(): void {
    this.server?.close();
    this.server = undefined;
    for (const socket of this.sockets) socket.resetAndDestroy();
  }

  private accept(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => {});
    socket.on('end', () => socket.end());
    let pending: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      for (;;) {
        const space = pending.indexOf(0x20);
        if (space < 0) return;
        const length = Number(pending.subarray(0, space).toString('latin1'));
        if (pending.length < space + 1 + length) return;
        this.messages.push(pending.subarray(space + 1, space + 1 + length).toString('utf8'));
        pending = pending.subarray(space + 1 + length);
      }
    });
  }
}

/** Reads the `sequenceId` of each message, as the sender writes it with `sequenceId: true`. */
export function sequenceIds(messages: readonly string[]): number[] {
  return messages.map((message) => Number(/\[meta sequenceId="(\d+)"\]/.exec(message)?.[1] ?? NaN));
}
