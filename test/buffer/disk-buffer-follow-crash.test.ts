import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { DiskBuffer } from '../../src/buffer/index.js';
import { makeTempDirectory, readAll } from './helpers.js';

const CHILD = fileURLToPath(new URL('./fixtures/follow-and-kill.ts', import.meta.url));

// Expected (docs/disk-buffer.md, Durability): a written record survives the death of the process
// in every fsync mode, whether the reader took it from the tail cache, the pending batch or not
// at all. Only the records pushed in the turn of the SIGKILL (251-260) may be lost, and records
// 1-100 may come back because duplicates are allowed.
for (const fsyncMode of ['batch', 'interval', 'never']) {
  for (const tailCacheBytes of [1024 * 1024, 0]) {
    test(`SIGKILL keeps written, ${fsyncMode}, cache ${tailCacheBytes}`, async () => {
      const directory = await makeTempDirectory();
      try {
        const child = spawnSync(process.execPath, ['--import', 'tsx', CHILD], {
          env: {
            ...process.env,
            DISK_BUFFER_DIRECTORY: directory.path,
            FSYNC_MODE: fsyncMode,
            TAIL_CACHE_BYTES: String(tailCacheBytes),
          },
          encoding: 'utf8',
          timeout: 30_000,
        });
        assert.equal(child.signal, 'SIGKILL', `the child ended otherwise; stderr: ${child.stderr}`);

        const buffer = new DiskBuffer({ directory: directory.path, segmentBytes: 4096 });
        const warnings: string[] = [];
        buffer.on('warning', (warning) => warnings.push(warning.message));
        await buffer.open();
        const numbers = readAll(buffer).map((record) => Number(/^record (\d+) /.exec(record.payload)?.[1]));
        const stats = buffer.stats();
        await buffer.close();

        const written = numbers.filter((number) => number > 100 && number <= 250);
        assert.deepEqual(written, Array.from({ length: 150 }, (_, index) => 101 + index));
        assert.deepEqual(numbers, [...numbers].sort((a, b) => a - b), 'records in order');
        assert.equal(stats.corruptRecords, 0);
        assert.deepEqual(warnings, []);
      } finally {
        await directory.remove();
      }
    });
  }
}
