import * as nodeFs from 'node:fs';

/**
 * The file-system calls a DiskBuffer makes, with the signatures of `node:fs`. Pass your own
 * object (usually `{ ...fs, writeSync: failingWrite }`) to fail or delay a call at a chosen
 * point in tests. Every call is synchronous except `fsync`, `close` and `unlink`, which run on
 * the libuv thread pool so that waiting for the disk does not block the event loop. `close` and
 * `unlink` are optional: without them, closing and deleting full segments use `closeSync` and
 * `unlinkSync`.
 */
export interface DiskBufferFs {
  openSync(path: string, flags: string, mode?: number): number;
  closeSync(fd: number): void;
  readSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number;
  writeSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number;
  fsync(fd: number, callback: (error: NodeJS.ErrnoException | null) => void): void;
  fsyncSync(fd: number): void;
  close?(fd: number, callback: (error: NodeJS.ErrnoException | null) => void): void;
  unlink?(path: string, callback: (error: NodeJS.ErrnoException | null) => void): void;
  ftruncateSync(fd: number, length: number): void;
  statSync(path: string): { size: number; isFile(): boolean; isDirectory(): boolean };
  readdirSync(path: string): string[];
  mkdirSync(path: string, options: { recursive: true }): unknown;
  unlinkSync(path: string): void;
}

export const defaultFs: DiskBufferFs = nodeFs;

/** Writes all of `data` at `position`, repeating short writes. Throws the first error. */
export function writeFully(fs: DiskBufferFs, fd: number, data: Uint8Array, position: number): void {
  let written = 0;
  while (written < data.length) {
    written += fs.writeSync(fd, data, written, data.length - written, position + written);
  }
}

/** Reads up to `length` bytes at `position` into `buffer[offset..]`, stopping early only at end of file. */
export function readFully(
  fs: DiskBufferFs,
  fd: number,
  buffer: Uint8Array,
  offset: number,
  length: number,
  position: number,
): number {
  let total = 0;
  while (total < length) {
    const count = fs.readSync(fd, buffer, offset + total, length - total, position + total);
    if (count === 0) break;
    total += count;
  }
  return total;
}

/** Closes `fd`, ignoring errors: used on paths that are already handling a failure. */
export function closeQuietly(fs: DiskBufferFs, fd: number | null): void {
  if (fd === null) return;
  try {
    fs.closeSync(fd);
  } catch {
    // The descriptor is gone either way.
  }
}

/** Returns the `code` of a Node.js system error, or the error name. */
export function errorCode(error: unknown): string {
  if (error !== null && typeof error === 'object' && 'code' in error && typeof error.code === 'string') return error.code;
  return error instanceof Error ? error.name : 'unknown error';
}

/** Converts anything thrown into an Error. */
export function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
