import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { DiskBuffer } from '../../src/buffer/index.js';
import { makeTempDirectory, readAll, reopenAndReadAll, runChild } from './helpers.js';

const CRASH_WRITER = fileURLToPath(new URL('./fixtures/crash-writer.ts', import.meta.url));
const EXIT_WRITER = fileURLToPath(new URL('./fixtures/exit-writer.ts', import.meta.url));

/** Returns the highest id on lines `<kind> <id>`, or 0. */
function highest(stdout: string, kind: string): number {
  let max = 0;
  for (const line of stdout.split('\n')) {
    const [word, id] = line.split(' ');
    if (word === kind) max = Math.max(max, Number(id));
  }
  return max;
}

const crashPoints: Array<{ point: string; after: number; warning: RegExp | null }> = [
  { point: 'mid-append', after: 12, warning: /Truncated an incomplete record/ },
  { point: 'before-fsync', after: 12, warning: null },
  { point: 'mid-metadata', after: 6, warning: /Metadata file .* slot \d is damaged/ },
  { point: 'mid-segment-delete', after: 3, warning: null },
];

describe('DiskBuffer - crash', () => {
  for (const { point, after, warning } of crashPoints) {
    test(`keeps durable records after SIGKILL ${point}`, async () => {
      const directory = await makeTempDirectory('disk-buffer-crash-');
      try {
        const child = await runChild(CRASH_WRITER, {
          DISK_BUFFER_DIRECTORY: directory.path,
          CRASH_AT: point,
          CRASH_AFTER: String(after),
        });
        assert.equal(child.signal, 'SIGKILL', `the child crashed at ${point}; stderr: ${child.stderr}`);
        const durable = highest(child.stdout, 'durable');
        const acknowledged = highest(child.stdout, 'ack');
        assert.ok(durable > 20, `the child made records durable before crashing (durable ${durable})`);

        const { records, warnings } = await reopenAndReadAll(directory.path, { segmentBytes: 1024 });
        const ids = records.map((record) => record.id);
        for (let index = 1; index < ids.length; index += 1) assert.ok(ids[index] > ids[index - 1], 'ids in order');
        const present = new Set(ids);
        for (let id = acknowledged + 1; id <= durable; id += 1) {
          assert.ok(present.has(id), `durable, unacknowledged record ${id} is missing after ${point}`);
        }
        assert.ok(records.every((record) => /^record-\d+-\d$/.test(record.payload)), 'payloads intact');
        const messages = warnings.map((item) => item.message);
        if (warning === null) {
          assert.deepEqual(messages, []);
        } else {
          assert.equal(messages.length, 1, `one warning: ${messages.join(' | ')}`);
          assert.match(messages[0], warning);
        }

        const buffer = new DiskBuffer({ directory: directory.path, maxBytes: 1024 * 1024, segmentBytes: 1024 });
        await buffer.open();
        const id = buffer.push('after the crash', 15);
        assert.ok(id > Math.max(durable, ...ids), 'new ids continue above every id seen');
        assert.deepEqual(
          readAll(buffer).map((record) => record.id),
          [...ids, id],
        );
        await buffer.close();
      } finally {
        await directory.remove();
      }
    });
  }
});

describe('DiskBuffer - process.exit', () => {
  for (const fsyncMode of ['batch', 'never']) {
    test(`writes pending records on exit with fsync ${fsyncMode}`, async () => {
      const directory = await makeTempDirectory('disk-buffer-exit-');
      try {
        const child = await runChild(EXIT_WRITER, {
          DISK_BUFFER_DIRECTORY: directory.path,
          DISK_BUFFER_FSYNC: fsyncMode,
          RECORDS: '3',
        });
        assert.equal(child.code, 0, child.stderr);
        const { records } = await reopenAndReadAll(directory.path);
        assert.deepEqual(
          records.map((record) => record.payload),
          ['record 1', 'record 2', 'record 3'],
        );
      } finally {
        await directory.remove();
      }
    });
  }
});
