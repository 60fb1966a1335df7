/**
 * One adapter per sender under test, behind the same small interface, so that the runner drives
 * each of them with the same loop.
 */
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import syslogClient from 'syslog-client';
import winston from 'winston';
import { Syslog as WinstonSyslog } from 'winston-syslog';
import {
  DiskBuffer,
  type EventQueue,
  type FsyncMode,
  RoundRobinStrategy,
  SyslogSender,
  UpstreamPool,
  type UpstreamOptions,
} from '../../src/index.js';
import { APP_NAME, HOSTNAME, type QueueKind, type SenderScenario, type SinkPorts } from './shared.js';

/** The size at which the hand-written batched writer writes its batch. */
const BATCH_BYTES = 64 * 1024;

export interface SenderUnderTest {
  /** Sends one event. Returns false when the caller should await `drained()` before sending more. */
  send(text: string): boolean;
  drained(): Promise<void>;
  /** Hands everything the sender holds back to its socket (the batched writer's partial batch). */
  flush(): void;
  close(): Promise<void>;
}

export interface SenderContext {
  ports: SinkPorts;
  /** PEM certificate of the sink's TLS servers, trusted as a CA. */
  tlsCert: string;
}

export async function createSender(scenario: SenderScenario, context: SenderContext): Promise<SenderUnderTest> {
  const port = context.ports.tcp[0];
  switch (scenario.library) {
    case 'batched':
      return BatchedWriter.connect(port);
    case 'per-line':
      return PerLineWriter.connect(port);
    case 'resilient':
      return createResilient(scenario, context);
    case 'syslog-client':
      return createSyslogClient(port);
    case 'winston':
      return createWinston(port);
    case 'pino':
      return createPino(port);
  }
}

/** RFC 5424 timestamp of the current millisecond, formatted at most once per millisecond. */
class TimestampCache {
  private lastMs = 0;
  private lastText = '';

  now(): string {
    const ms = Date.now();
    if (ms !== this.lastMs) {
      this.lastMs = ms;
      this.lastText = new Date(ms).toISOString();
    }
    return this.lastText;
  }
}

/** Builds the RFC 5424 line and its octet-counting frame with template strings, as a hand-written sender would. */
function frameLine(timestamps: TimestampCache, text: string): string {
  const line = `<14>1 ${timestamps.now()} ${HOSTNAME} ${APP_NAME} ${process.pid} - - ${text}`;
  return `${Buffer.byteLength(line)} ${line}`;
}

async function connectSocket(port: number): Promise<net.Socket> {
  const socket = net.connect({ host: '127.0.0.1', port, noDelay: true });
  await once(socket, 'connect');
  return socket;
}

/**
 * The practical ceiling: frames appended to one string and written in batches of about 64 KiB,
 * waiting for `drain` when `write` returns false. A partial batch leaves at the end of the
 * event-loop turn.
 */
class BatchedWriter implements SenderUnderTest {
  private readonly timestamps = new TimestampCache();
  private batch = '';
  private flushScheduled = false;

  private constructor(private readonly socket: net.Socket) {}

  static async connect(port: number): Promise<BatchedWriter> {
    return new BatchedWriter(await connectSocket(port));
  }

  send(text: string): boolean {
    this.batch += frameLine(this.timestamps, text);
    if (this.batch.length >= BATCH_BYTES) return this.write();
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => {
        this.flushScheduled = false;
        this.flush();
      });
    }
    return true;
  }

  async drained(): Promise<void> {
    if (this.socket.writableNeedDrain) await once(this.socket, 'drain');
  }

  flush(): void {
    if (this.batch.length > 0) this.write();
  }

  async close(): Promise<void> {
    this.flush();
    this.socket.end();
    await once(this.socket, 'close');
  }

  private write(): boolean {
    const accepted = this.socket.write(this.batch);
    this.batch = '';
    return accepted;
  }
}

/** One `socket.write` per event, waiting for `drain` when `write` returns false. */
class PerLineWriter implements SenderUnderTest {
  private readonly timestamps = new TimestampCache();

  private constructor(private readonly socket: net.Socket) {}

  static async connect(port: number): Promise<PerLineWriter> {
    return new PerLineWriter(await connectSocket(port));
  }

  send(text: string): boolean {
    return this.socket.write(frameLine(this.timestamps, text));
  }

  async drained(): Promise<void> {
    if (this.socket.writableNeedDrain) await once(this.socket, 'drain');
  }

  flush(): void {}

  async close(): Promise<void> {
    this.socket.end();
    await once(this.socket, 'close');
  }
}

const FSYNC_MODES: Record<Exclude<QueueKind, 'memory'>, FsyncMode> = {
  'disk-batch': 'batch',
  'disk-interval': 'interval',
  'disk-never': 'never',
};

/**
 * Creates a DiskBuffer with default options in a new directory under the runner's temporary
 * directory (BENCH_TEMP_DIRECTORY, see runner.ts); returns undefined for the memory queue.
 */
export async function createQueue(kind: QueueKind): Promise<{ queue: EventQueue | undefined; remove: () => Promise<void> }> {
  if (kind === 'memory') return { queue: undefined, remove: async () => {} };
  const directory = await mkdtemp(join(process.env.BENCH_TEMP_DIRECTORY ?? tmpdir(), 'resilient-syslog-bench-'));
  const queue = new DiskBuffer({ directory, fsync: FSYNC_MODES[kind] });
  return { queue, remove: () => rm(directory, { recursive: true, force: true }) };
}

/** Resolves once every upstream of the sender reported `up`. */
export function waitUntilUp(sender: SyslogSender, upstreams: number): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      if (sender.pool.upstreams.filter((upstream) => upstream.status === 'up').length < upstreams) return;
      sender.off('status', check);
      resolve();
    };
    sender.on('status', check);
    check();
  });
}

async function createResilient(scenario: SenderScenario, context: SenderContext): Promise<SenderUnderTest> {
  const upstreams: UpstreamOptions[] = [];
  for (let index = 0; index < scenario.upstreams; index += 1) {
    const port = context.ports[scenario.protocol][index];
    const url = `${scenario.protocol}://127.0.0.1:${port}`;
    upstreams.push(scenario.protocol === 'tls' ? { url, tls: { ca: context.tlsCert } } : { url });
  }
  const pool = new UpstreamPool(upstreams, scenario.upstreams > 1 ? { strategy: new RoundRobinStrategy() } : {});
  const { queue, remove } = await createQueue(scenario.queue ?? 'memory');
  const sender = new SyslogSender({ pool, hostname: HOSTNAME, appName: APP_NAME, ...(queue ? { buffer: queue } : {}) });
  await waitUntilUp(sender, scenario.upstreams);
  return {
    send: (text) => sender.send(text),
    drained: () => sender.ready(),
    flush: () => {},
    close: async () => {
      await sender.close(5_000);
      await remove();
    },
  };
}

function createSyslogClient(port: number): SenderUnderTest {
  const client = syslogClient.createClient('127.0.0.1', {
    port,
    transport: syslogClient.Transport.Tcp,
    rfc3164: false,
    syslogHostname: HOSTNAME,
    appName: APP_NAME,
  });
  // The client reports an idle connection after tcpTimeout (10 s) as an error event.
  client.on('error', () => {});
  return {
    send: (text) => {
      client.log(text);
      return true;
    },
    drained: async () => {},
    flush: () => {},
    close: async () => {
      client.close();
    },
  };
}

function createWinston(port: number): SenderUnderTest {
  const transport = new WinstonSyslog({
    host: '127.0.0.1',
    port,
    protocol: 'tcp4',
    type: '5424',
    localhost: HOSTNAME,
    app_name: APP_NAME,
    eol: '\n',
  });
  const logger = winston.createLogger({
    levels: winston.config.syslog.levels,
    format: winston.format.printf((info) => String(info.message)),
    transports: [transport],
  });
  return {
    send: (text) => {
      logger.info(text);
      return true;
    },
    drained: async () => {},
    flush: () => {},
    close: async () => {
      // winston-syslog reconnects when its socket closes; removing the listener lets it close for good.
      (transport as unknown as { socket?: net.Socket }).socket?.removeAllListeners('close');
      logger.close();
    },
  };
}

/**
 * pino in the main thread, and pino-syslog (RFC 5424, MSG only, LF after each message) piped
 * into pino-socket (TCP) in one worker thread through `pino.transport({ pipeline })`.
 */
async function createPino(port: number): Promise<SenderUnderTest> {
  const transport = pino.transport({
    pipeline: [
      {
        target: 'pino-syslog',
        options: { enablePipelining: true, modern: true, messageOnly: true, appname: APP_NAME, newline: true },
      },
      { target: 'pino-socket', options: { mode: 'tcp', address: '127.0.0.1', port } },
    ],
  });
  await once(transport, 'ready');
  const logger = pino({ base: { pid: process.pid, hostname: HOSTNAME } }, transport);
  return {
    send: (text) => {
      logger.info(text);
      return true;
    },
    drained: async () => {},
    flush: () => logger.flush(),
    close: async () => {
      transport.end();
      await once(transport, 'close');
    },
  };
}
