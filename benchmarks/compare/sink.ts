/**
 * The counting sink: a child process that plays every collector of the benchmark on loopback.
 *
 * It listens on three TCP ports, three TLS ports and three UDP ports, and on one TCP port that
 * rejects connections until a `gate` request opens it. Stream connections may use octet counting
 * or LF framing (RFC 6587), and the first byte decides: a digit for octet counting, `<` for LF.
 * Each non-empty datagram counts as one frame, so the empty probe datagram that
 * resilient-syslog's UDP transport sends on connect is not counted. Every 16th frame that lies
 * whole in one chunk gives a latency sample: the sink's shared-clock time minus the send time in
 * the event text.
 *
 * The orchestrator forks it with IPC and relays the runners' requests (see `SinkRequest`).
 */
import dgram from 'node:dgram';
import net from 'node:net';
import tls from 'node:tls';
import { type LatencySummary, type SinkPorts, type SinkReply, type SinkRequest, createClock, TIME_MARKER } from './shared.js';

const COLLECTORS = 3;
const SAMPLE_EVERY = 16;
const UDP_RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024;
const MARKER = Buffer.from(TIME_MARKER);
const DIGIT_ZERO = 48;
const SPACE = 32;
const LF = 10;
const LESS_THAN = 60;

const clock = createClock();

let count = 0;
let bytes = 0;
let firstFrameAt = 0;
let lastFrameAt = 0;
let latencies: number[] = [];
/** Watches ordered by target; `nextTarget` is the smallest one, or Infinity. */
let watches: Array<{ id: number; target: number }> = [];
let nextTarget = Number.POSITIVE_INFINITY;

function reply(message: SinkReply): void {
  process.send!(message);
}

/** Counts one frame whose bytes are `buffer[start, end)`; `whole` is false when the frame began in an earlier chunk. */
function countFrame(buffer: Buffer, start: number, end: number, whole: boolean): void {
  count += 1;
  bytes += end - start;
  if (whole && count % SAMPLE_EVERY === 0) sampleLatency(buffer, start, end);
  if (count >= nextTarget) reportReached();
}

function sampleLatency(buffer: Buffer, start: number, end: number): void {
  const at = buffer.indexOf(MARKER, start);
  if (at < 0 || at >= end) return;
  let micros = 0;
  for (let index = at + MARKER.length; index < end; index += 1) {
    const digit = buffer[index] - DIGIT_ZERO;
    if (digit < 0 || digit > 9) break;
    micros = micros * 10 + digit;
  }
  latencies.push(clock() - micros / 1000);
}

function reportReached(): void {
  const at = clock();
  while (watches.length > 0 && watches[0].target <= count) {
    const watch = watches.shift()!;
    reply({ op: 'reached', id: watch.id, count, at });
  }
  nextTarget = watches.length > 0 ? watches[0].target : Number.POSITIVE_INFINITY;
}

function markChunk(): void {
  lastFrameAt = clock();
  if (firstFrameAt === 0) firstFrameAt = lastFrameAt;
}

/** Parses one stream connection's frames, carrying partial frames and length prefixes across chunks. */
class StreamParser {
  private framing: 'unknown' | 'octet' | 'lf' = 'unknown';
  /** LF framing: bytes of the current frame seen in earlier chunks. */
  private carriedBytes = 0;
  /** Octet counting: the length prefix read so far. */
  private length = 0;
  /** Octet counting: MSG-LEN of the current frame, and its bytes still to come (0 while reading a length). */
  private frameLength = 0;
  private remaining = 0;

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    markChunk();
    if (this.framing === 'unknown') this.framing = chunk[0] === LESS_THAN ? 'lf' : 'octet';
    if (this.framing === 'lf') this.pushLf(chunk);
    else this.pushOctet(chunk);
  }

  private pushLf(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const end = chunk.indexOf(LF, start);
      if (end < 0) break;
      countFrame(chunk, start, end, this.carriedBytes === 0);
      this.carriedBytes = 0;
      start = end + 1;
    }
    this.carriedBytes += chunk.length - start;
  }

  private pushOctet(chunk: Buffer): void {
    let position = 0;
    while (position < chunk.length) {
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, chunk.length - position);
        position += take;
        this.remaining -= take;
        // The frame lies whole in this chunk only when its body was taken in one step.
        if (this.remaining === 0) countFrame(chunk, position - take, position, take === this.frameLength);
        continue;
      }
      const byte = chunk[position];
      position += 1;
      if (byte !== SPACE) {
        this.length = this.length * 10 + (byte - DIGIT_ZERO);
        continue;
      }
      this.frameLength = this.length;
      this.remaining = this.length;
      this.length = 0;
      if (this.frameLength === 0) countFrame(chunk, position, position, true);
    }
  }
}

function acceptStream(socket: net.Socket, group?: Set<net.Socket>): void {
  group?.add(socket);
  const parser = new StreamParser();
  socket.on('data', (chunk: Buffer) => parser.push(chunk));
  socket.on('error', () => {});
  socket.on('close', () => group?.delete(socket));
}

function listen(server: net.Server, port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.removeListener('error', reject);
      resolve((server.address() as net.AddressInfo).port);
    });
  });
}

async function bindUdp(): Promise<number> {
  const socket = dgram.createSocket({ type: 'udp4', recvBufferSize: UDP_RECEIVE_BUFFER_BYTES });
  socket.on('message', (message: Buffer) => {
    if (message.length === 0) return;
    markChunk();
    countFrame(message, 0, message.length, true);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  return socket.address().port;
}

function summarize(values: number[]): LatencySummary {
  if (values.length === 0) return { samples: 0, p50Ms: Number.NaN, p99Ms: Number.NaN };
  const sorted = Float64Array.from(values).sort();
  const at = (quantile: number) => sorted[Math.min(sorted.length - 1, Math.floor(quantile * sorted.length))];
  return { samples: sorted.length, p50Ms: at(0.5), p99Ms: at(0.99) };
}

async function start(): Promise<void> {
  const tlsKey = process.env.BENCH_TLS_KEY;
  const tlsCert = process.env.BENCH_TLS_CERT;
  const ports: SinkPorts = { tcp: [], tls: [], udp: [], gated: 0 };
  for (let index = 0; index < COLLECTORS; index += 1) {
    ports.tcp.push(await listen(net.createServer((socket) => acceptStream(socket))));
    if (tlsKey && tlsCert) ports.tls.push(await listen(tls.createServer({ key: tlsKey, cert: tlsCert }, (socket) => acceptStream(socket))));
    ports.udp.push(await bindUdp());
  }

  let gatedServer: net.Server | undefined;
  const gatedSockets = new Set<net.Socket>();
  const reserve = net.createServer();
  ports.gated = await listen(reserve);
  await new Promise((resolve) => reserve.close(resolve));

  process.on('message', async (request: SinkRequest) => {
    switch (request.op) {
      case 'reset':
        count = 0;
        bytes = 0;
        firstFrameAt = 0;
        lastFrameAt = 0;
        latencies = [];
        watches = [];
        nextTarget = Number.POSITIVE_INFINITY;
        reply({ op: 'done', id: request.id });
        break;
      case 'watch':
        watches.push({ id: request.id, target: request.target });
        watches.sort((a, b) => a.target - b.target);
        nextTarget = watches[0].target;
        if (count >= nextTarget) reportReached();
        break;
      case 'sample':
        reply({ op: 'latency', id: request.id, latency: summarize(latencies) });
        latencies = [];
        break;
      case 'stats': {
        const cpu = process.cpuUsage();
        reply({ op: 'stats', id: request.id, count, bytes, firstFrameAt, lastFrameAt, cpuMicros: cpu.user + cpu.system });
        break;
      }
      case 'gate':
        if (request.open && gatedServer === undefined) {
          gatedServer = net.createServer((socket) => acceptStream(socket, gatedSockets));
          await listen(gatedServer, ports.gated);
        } else if (!request.open && gatedServer !== undefined) {
          gatedServer.close();
          gatedServer = undefined;
          for (const socket of gatedSockets) socket.destroy();
        }
        reply({ op: 'done', id: request.id });
        break;
    }
  });
  process.on('disconnect', () => process.exit(0));
  reply({ op: 'ready', id: 0, ports });
}

await start();
