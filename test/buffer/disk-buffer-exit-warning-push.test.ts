import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { makeTempDirectory, reopenAndReadAll, runChild } from './helpers.js';

const WRITER = fileURLToPath(new URL('./fixtures/exit-warning-push-writer.ts', import.meta.url));

// process.exit() right after push keeps the record, because an exit hook writes the batch. That
// write can emit a warning (here for a payload stored with '?'), and a record that a `warning`
// listener pushes then must be written too.
test('exit keeps warning listener push', async () => {
  const directory = await makeTempDirectory('disk-buffer-exit-');
  try {
    const child = await runChild(WRITER, { DISK_BUFFER_DIRECTORY: directory.path });
    assert.equal(child.code, 0, `the child exited normally; stderr: ${child.stderr}`);
    assert.equal(child.stdout, 'pushed 1\npushed 2\n', 'both pushes were accepted');

    const { records, warnings } = await reopenAndReadAll(directory.path);
    assert.deepEqual(warnings, []);
    assert.deepEqual(
      records.map((record) => record.payload),
      ['caf?', 'warning: InvalidEventError'],
    );
  } finally {
    await directory.remove();
  }
});
