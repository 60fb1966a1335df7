import assert from 'node:assert/strict';
import { readdirSync, readlinkSync } from 'node:fs';
import { test } from 'node:test';
import { DiskBuffer } from '../../src/buffer/index.js';
import { BufferIOError } from '../../src/errors.js';
import { makeTempDirectory, readAll } from './helpers.js';

/** Returns the paths inside `directory` that this process has open, from /proc/self/fd. */
function openFilesIn(directory: string): string[] {
  const paths: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const path = readlinkSync(`/proc/self/fd/${fd}`);
      if (path.startsWith(directory)) paths.push(path);
    } catch {
      // The descriptor was closed between listing and reading.
    }
  }
  return paths;
}

// A `warning` listener that pushes every warning into the same buffer throws once the buffer is
// closing, because push() throws after close(). The final write of close() emits such a warning
// (here for a payload stated as ASCII that is not). close() must still write and close the
// files, and then reject with the listener's error.
test('close with a throwing warning listener', async () => {
  const directory = await makeTempDirectory();
  try {
    const first = new DiskBuffer({ directory: directory.path });
    await first.open();
    first.on('warning', (warning) => first.push(`warning: ${warning.message}`, 0));
    first.push('kept before', 11);
    first.push('naïve', 5);
    first.push('kept after', 10);

    await assert.rejects(first.close(), BufferIOError);
    assert.deepEqual(openFilesIn(directory.path), [], 'close() closed every file');
    assert.throws(() => first.push('late', 4), BufferIOError, 'the buffer is closed');

    const second = new DiskBuffer({ directory: directory.path });
    await second.open();
    const payloads = readAll(second).map((record) => record.payload);
    await second.close();
    assert.deepEqual(payloads, ['kept before', 'na?ve', 'kept after']);
  } finally {
    await directory.remove();
  }
});
