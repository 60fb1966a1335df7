import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DiskBuffer,
  type DiskBufferFs,
  type DiskBufferOptions,
  type DiskBufferStats,
  type EventQueue,
  type QueueRecord,
} from '../../src/buffer/index.js';
import { SEGMENT_HEADER_BYTES } from '../../src/buffer/segment.js';

/** Creates an empty temporary directory; `remove` deletes it with its content. */
export async function makeTempDirectory(prefix = 'disk-buffer-'): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** Reads every unread record in batches of `batchRecords`. */
export function readAll(queue: EventQueue, batchRecords = 100): QueueRecord[] {
  const records: QueueRecord[] = [];
  for (;;) {
    const batch = queue.read(batchRecords, Number.MAX_SAFE_INTEGER);
    if (batch.length === 0) return records;
    records.push(...batch);
  }
}

/** Resolves after the current event-loop turn, when a DiskBuffer has written its pending batch. */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Returns a payload of exactly `bytes` ASCII bytes that starts with `label`. */
export function payloadOf(label: string, bytes: number): string {
  return label.length >= bytes ? label.slice(0, bytes) : label + '.'.repeat(bytes - label.length);
}

/** Deterministic PRNG (mulberry32), so a failing randomized run can be replayed from its seed. */
export function createRandom(seed: number): { next: () => number; integer: (min: number, max: number) => number } {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, integer: (min, max) => min + Math.floor(next() * (max - min + 1)) };
}

/** Payload size of the records that `writeBacklog` writes. */
export const BACKLOG_PAYLOAD_BYTES = 40;
/** On-disk size of one backlog record: 16-byte header and payload. */
export const BACKLOG_RECORD_BYTES = 16 + BACKLOG_PAYLOAD_BYTES;

/** Returns the payload of backlog record `id`. */
export function backlogPayload(id: number): string {
  return payloadOf(`record-${id}`, BACKLOG_PAYLOAD_BYTES);
}

/**
 * Writes `segments` full segment files of `recordsPerSegment` records (ids from 1, payloads
 * from `backlogPayload`) into `directory`, closes the buffer and returns the segment paths.
 */
export async function writeBacklog(directory: string, segments: number, recordsPerSegment: number): Promise<string[]> {
  const buffer = new DiskBuffer({
    directory,
    segmentBytes: SEGMENT_HEADER_BYTES + recordsPerSegment * BACKLOG_RECORD_BYTES,
    maxBytes: 1024 * 1024 * 1024,
    fsync: 'never',
  });
  await buffer.open();
  for (let id = 1; id <= segments * recordsPerSegment; id += 1) buffer.push(backlogPayload(id), BACKLOG_PAYLOAD_BYTES);
  await buffer.close();
  return segmentPaths(directory);
}

/** Returns the paths of the segment files in `directory`, oldest first. */
export function segmentPaths(directory: string): string[] {
  return readdirSync(directory)
    .filter((name) => name.endsWith('.seg'))
    .sort()
    .map((name) => join(directory, name));
}

/** Byte range of each record in an intact segment file, found by following the length fields. */
export function recordRanges(path: string): Array<{ id: number; start: number; end: number }> {
  const file = readFileSync(path);
  const ranges: Array<{ id: number; start: number; end: number }> = [];
  for (let start = SEGMENT_HEADER_BYTES; start + 16 <= file.length; ) {
    const length = file.readUInt32LE(start);
    const id = file.readUInt32LE(start + 12) * 2 ** 32 + file.readUInt32LE(start + 8);
    ranges.push({ id, start, end: start + length });
    start += length;
  }
  return ranges;
}

/** Opens a DiskBuffer on `directory`, reads every record and closes it again. */
export async function reopenAndReadAll(
  directory: string,
  options: Partial<DiskBufferOptions> = {},
): Promise<{ records: QueueRecord[]; warnings: Error[]; stats: DiskBufferStats }> {
  const buffer = new DiskBuffer({ directory, maxBytes: 1024 * 1024 * 1024, fsync: 'never', ...options });
  const warnings: Error[] = [];
  buffer.on('warning', (warning) => warnings.push(warning));
  await buffer.open();
  const records = readAll(buffer);
  const stats = buffer.stats();
  await buffer.close();
  return { records, warnings, stats };
}

/** Returns the ids 1..count without the ones in `missing`. */
export function idsWithout(count: number, missing: Iterable<number>): number[] {
  const skip = new Set(missing);
  return Array.from({ length: count }, (_, index) => index + 1).filter((id) => !skip.has(id));
}

/**
 * A `node:fs` wrapper whose writes to segment files fail on demand, as a full or broken disk
 * would: `failWrites(code, afterBytes)` lets `afterBytes` more bytes through (the write that
 * crosses the limit is cut short), then every segment write and segment creation throws `code`
 * until `heal()`. `listError` fails every directory listing, and `openErrors` fails opening
 * the paths it maps, as permission errors would.
 */
export class FaultyFs implements DiskBufferFs {
  private readonly paths = new Map<number, string>();
  private failure: { code: string; remainingBytes: number } | null = null;
  fsyncError: string | null = null;
  metadataError: string | null = null;
  listError: string | null = null;
  readonly openErrors = new Map<string, string>();
  failedCalls = 0;

  failWrites(code: string, afterBytes = 0): void {
    this.failure = { code, remainingBytes: afterBytes };
  }

  heal(): void {
    this.failure = null;
    this.fsyncError = null;
    this.metadataError = null;
    this.listError = null;
    this.openErrors.clear();
  }

  openSync(path: string, flags: string, mode?: number): number {
    const openError = this.openErrors.get(path);
    if (openError !== undefined) this.throwError(openError, 'open', path);
    if (this.failure !== null && this.failure.remainingBytes === 0 && path.endsWith('.seg') && flags !== 'r') {
      this.throwError(this.failure.code, 'open', path);
    }
    const fd = fs.openSync(path, flags, mode);
    this.paths.set(fd, path);
    return fd;
  }

  closeSync(fd: number): void {
    this.paths.delete(fd);
    fs.closeSync(fd);
  }

  readSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number {
    return fs.readSync(fd, buffer, offset, length, position);
  }

  writeSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number {
    const path = this.paths.get(fd) ?? '';
    if (this.metadataError !== null && path.endsWith('metadata')) this.throwError(this.metadataError, 'write', path);
    if (this.failure !== null && path.endsWith('.seg')) {
      if (this.failure.remainingBytes === 0) this.throwError(this.failure.code, 'write', path);
      const allowed = Math.min(length, this.failure.remainingBytes);
      this.failure.remainingBytes -= allowed;
      return fs.writeSync(fd, buffer, offset, allowed, position);
    }
    return fs.writeSync(fd, buffer, offset, length, position);
  }

  fsync(fd: number, callback: (error: NodeJS.ErrnoException | null) => void): void {
    if (this.fsyncError !== null) {
      const error = this.makeError(this.fsyncError, 'fsync', this.paths.get(fd) ?? String(fd));
      process.nextTick(callback, error);
      return;
    }
    fs.fsync(fd, callback);
  }

  fsyncSync(fd: number): void {
    fs.fsyncSync(fd);
  }

  ftruncateSync(fd: number, length: number): void {
    fs.ftruncateSync(fd, length);
  }

  statSync(path: string): fs.Stats {
    return fs.statSync(path);
  }

  readdirSync(path: string): string[] {
    if (this.listError !== null) this.throwError(this.listError, 'scandir', path);
    return fs.readdirSync(path);
  }

  mkdirSync(path: string, options: { recursive: true }): unknown {
    return fs.mkdirSync(path, options);
  }

  unlinkSync(path: string): void {
    fs.unlinkSync(path);
  }

  private makeError(code: string, syscall: string, path: string): NodeJS.ErrnoException {
    this.failedCalls += 1;
    return Object.assign(new Error(`${code}: injected failure, ${syscall} '${path}'`), { code, syscall, path });
  }

  private throwError(code: string, syscall: string, path: string): never {
    throw this.makeError(code, syscall, path);
  }
}

/** What a fixture child process printed, and how it ended. */
export interface ChildResult {
  stdout: string;
  stderr: string;
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Runs a TypeScript fixture in a child process through tsx, with `env` added to this process's environment. */
export function runChild(script: string, env: Record<string, string>): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ stdout, stderr, code, signal }));
  });
}
