import { join } from 'node:path';
import { type DiskBufferFs, closeQuietly, errorCode, writeFully } from './disk-fs.js';
import type { SegmentFileReader } from './segment-reader.js';

export const QUARANTINE_DIRECTORY_NAME = 'quarantine';

/**
 * Keeps copies of damaged byte ranges in `<directory>/quarantine/` for later inspection, named
 * `<segment file>.<start offset>.corrupt`. The folder is capped at `limitBytes` in total, so
 * repeated damage cannot fill the disk; ranges past the cap are counted but not copied.
 */
export class Quarantine {
  readonly directory: string;
  private usedBytes = 0;

  constructor(
    private readonly fs: DiskBufferFs,
    bufferDirectory: string,
    private readonly limitBytes: number,
  ) {
    this.directory = join(bufferDirectory, QUARANTINE_DIRECTORY_NAME);
  }

  /** Adds up the size of the copies already present, so the cap applies across restarts. */
  measure(): void {
    this.usedBytes = 0;
    let names: string[];
    try {
      names = this.fs.readdirSync(this.directory);
    } catch {
      return;
    }
    for (const name of names) {
      try {
        this.usedBytes += this.fs.statSync(join(this.directory, name)).size;
      } catch {
        // A file that vanished takes no space.
      }
    }
  }

  /**
   * Copies bytes [start, end) of the segment read by `reader`. Returns a short description of
   * where the copy went, or why there is none, for the warning message.
   */
  copy(reader: SegmentFileReader, segmentName: string, start: number, end: number): string {
    const length = end - start;
    if (this.usedBytes + length > this.limitBytes) {
      return `not copied: the quarantine folder reached its ${this.limitBytes}-byte limit`;
    }
    const path = join(this.directory, `${segmentName}.${start}.corrupt`);
    let fd: number | null = null;
    try {
      this.fs.mkdirSync(this.directory, { recursive: true });
      fd = this.fs.openSync(path, 'wx');
      writeFully(this.fs, fd, reader.copy(start, end), 0);
      this.usedBytes += length;
      return `copied to ${path}`;
    } catch (error) {
      if (errorCode(error) === 'EEXIST') return `already copied to ${path}`;
      return `not copied: ${errorCode(error)} while writing ${path}`;
    } finally {
      closeQuietly(this.fs, fd);
    }
  }
}
