import { Buffer } from 'node:buffer';
import { watch, type FSWatcher } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { LineSplitter } from './line-splitter.js';

export interface FileFollowerOptions {
  /** Start at the beginning of the file present at start. Default false: at its end, as `tail -F`. */
  fromStart: boolean;
  /** Interval between checks for new data, rotation and truncation, in ms. */
  pollIntervalMs: number;
  /** Also check when fs.watch reports a change in the file's directory. */
  watch: boolean;
  /** How long a rotated file is still read after a new file took its path, in ms. */
  rotateWaitMs: number;
  /** Receives lines in file order. Returning false pauses reading until `resume()`. */
  onLines: (lines: string[]) => boolean;
  /** Receives one line for each notable change (waiting, rotated, truncated) and each error. */
  onNotice: (message: string) => void;
  /** Receives an error that ends following: the path cannot be read for a reason other than not found. */
  onError: (error: Error) => void;
}

/** One opened file: the handle, its identity and the read position. */
interface OpenFile {
  handle: FileHandle;
  dev: number;
  ino: number;
  position: number;
  splitter: LineSplitter;
  /** For a rotated file: when reading it stops, in ms since the epoch. */
  retireAt?: number;
}

const READ_CHUNK_BYTES = 64 * 1024;

/**
 * Follows a file by path like `tail -F`. Rotation by rename or delete is noticed when the path
 * names another inode or none: the old file is read on for `rotateWaitMs`, for writers that
 * still hold it open, and the new file is read from its beginning. Truncation is noticed when the
 * file gets shorter than the read position, and reading restarts at 0.
 *
 * NOTE: a file truncated and then refilled past the read position between two checks looks
 * unchanged, so those lines are missed, as with `tail -F`. Copytruncate rotation has this race.
 */
export class FileFollower {
  private current: OpenFile | undefined;
  private rotated: OpenFile[] = [];
  private timer: NodeJS.Timeout | undefined;
  private watcher: FSWatcher | undefined;
  private checking: Promise<void> | undefined;
  private checkAgain = false;
  private paused = false;
  private stopped = false;
  private firstOpen = true;
  private waitingReported = false;

  constructor(
    readonly path: string,
    private readonly options: FileFollowerOptions,
  ) {}

  start(): void {
    if (this.options.watch) this.startWatching();
    this.check();
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.check();
  }

  /** Stops following and closes the files; lines not yet read stay unread. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.watcher?.close();
    await this.checking;
    const files = [...this.rotated, ...(this.current ? [this.current] : [])];
    this.rotated = [];
    this.current = undefined;
    await Promise.all(files.map((file) => file.handle.close().catch(() => undefined)));
  }

  /** Runs one check now, or right after the one in progress. */
  private check(): void {
    if (this.stopped) return;
    if (this.checking) {
      this.checkAgain = true;
      return;
    }
    clearTimeout(this.timer);
    this.checking = this.checkOnce()
      .catch((error: Error) => {
        this.stopped = true;
        this.options.onError(error);
      })
      .finally(() => {
        this.checking = undefined;
        if (this.stopped) return;
        if (this.checkAgain && !this.paused) {
          this.checkAgain = false;
          this.check();
          return;
        }
        this.timer = setTimeout(() => this.check(), this.options.pollIntervalMs);
      });
  }

  private async checkOnce(): Promise<void> {
    if (this.paused) return;
    for (const file of [...this.rotated]) {
      if (!(await this.readToEnd(file))) return;
      if (Date.now() >= (file.retireAt ?? 0)) await this.retire(file);
    }

    if (this.current === undefined) {
      // Only the file present at start may begin at its end; one created later is read whole.
      const atEnd = this.firstOpen && !this.options.fromStart;
      this.firstOpen = false;
      this.current = await this.openPath(atEnd);
      if (this.current === undefined) return;
    }
    const current = this.current;
    if (!(await this.readToEnd(current))) return;

    const { size } = await current.handle.stat();
    if (size < current.position) {
      this.options.onNotice(`${this.path} was truncated to ${size} bytes: reading it again from the start`);
      this.flushPartial(current);
      current.position = 0;
      if (!(await this.readToEnd(current))) return;
    }

    const onPath = await statOrUndefined(this.path);
    if (onPath !== undefined && (onPath.ino !== current.ino || onPath.dev !== current.dev)) {
      // A new file took the path: read the old one on for a while, and the new one from its start.
      this.options.onNotice(`${this.path} was rotated: reading the new file from the start`);
      current.retireAt = Date.now() + this.options.rotateWaitMs;
      this.rotated.push(current);
      this.current = await this.openPath(false);
      if (this.current !== undefined) await this.readToEnd(this.current);
    }
    // A path that names nothing is a rename or delete whose new file is not there yet: keep reading the old one.
  }

  /** Opens the path at its end or its start; returns undefined while it does not exist. */
  private async openPath(atEnd: boolean): Promise<OpenFile | undefined> {
    let handle: FileHandle;
    try {
      handle = await open(this.path, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      if (!this.waitingReported) this.options.onNotice(`${this.path} not found: waiting for it to be created`);
      this.waitingReported = true;
      return undefined;
    }
    this.waitingReported = false;
    const stats = await handle.stat();
    return {
      handle,
      dev: stats.dev,
      ino: stats.ino,
      position: atEnd ? stats.size : 0,
      splitter: new LineSplitter(),
    };
  }

  /** Reads and hands on every complete line up to the end; returns false when the consumer paused reading. */
  private async readToEnd(file: OpenFile): Promise<boolean> {
    const buffer = Buffer.allocUnsafe(READ_CHUNK_BYTES);
    for (;;) {
      if (this.paused || this.stopped) return false;
      const { bytesRead } = await file.handle.read(buffer, 0, buffer.length, file.position);
      if (bytesRead === 0) return true;
      file.position += bytesRead;
      const lines = file.splitter.push(buffer.subarray(0, bytesRead));
      if (lines.length > 0 && !this.options.onLines(lines)) this.paused = true;
    }
  }

  /** Hands on an unterminated last line: its writer is gone or started over. */
  private flushPartial(file: OpenFile): void {
    const last = file.splitter.end();
    if (last !== undefined && !this.options.onLines([last])) this.paused = true;
  }

  private async retire(file: OpenFile): Promise<void> {
    this.flushPartial(file);
    this.rotated = this.rotated.filter((item) => item !== file);
    await file.handle.close().catch(() => undefined);
  }

  private startWatching(): void {
    const name = basename(this.path);
    try {
      // The directory, not the file: it reports the file's changes and also its rename and re-creation.
      this.watcher = watch(dirname(this.path), { persistent: false }, (_event, changed) => {
        if (changed === null || changed === name) this.check();
      });
      this.watcher.on('error', () => {
        this.watcher?.close();
        this.watcher = undefined;
      });
    } catch (error) {
      this.options.onNotice(`cannot watch the folder of ${this.path} (${(error as Error).message}): polling only`);
    }
  }
}

async function statOrUndefined(path: string): Promise<{ dev: number; ino: number } | undefined> {
  try {
    return await stat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
