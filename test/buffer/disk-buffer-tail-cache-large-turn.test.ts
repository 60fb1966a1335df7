import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { test } from 'node:test';
import { DiskBuffer, type DiskBufferFs } from '../../src/buffer/index.js';
import { makeTempDirectory, nextTurn, payloadOf } from './helpers.js';

const TURNS = 20;
const PAYLOAD_BYTES = 84;

/** Wraps node:fs and counts the bytes that readSync returns. */
function createCountingFs(): { fs: DiskBufferFs; bytesRead: () => number } {
  let bytes = 0;
  const countingFs: DiskBufferFs = {
    ...fs,
    readSync(fd, buffer, offset, length, position) {
      const count = fs.readSync(fd, buffer, offset, length, position);
      bytes += count;
      return count;
    },
  };
  return { fs: countingFs, bytesRead: () => bytes };
}

// Expected (docs/disk-buffer.md): "A reader that keeps up with push ... does not read its records
// back from disk", and a larger tailCacheBytes lets a lagging reader skip the disk too. Here the
// reader takes every record once per turn, and the 8 MiB cache has room for several turns.
// A turn that pushes more than 1 MiB writes twice: once from push() when the batch reaches 1 MiB
// and once at the end of the turn. The reader cannot run between the two, so the first write must
// not count as a sign of an idle reader, or every record of such a turn is read back from disk.
for (const recordsPerTurn of [9_000, 12_000]) {
  test(`follower skips disk at ${recordsPerTurn} records per turn`, async () => {
    const directory = await makeTempDirectory();
    const counting = createCountingFs();
    const buffer = new DiskBuffer({
      directory: directory.path,
      fsync: 'never',
      fs: counting.fs,
      maxBytes: 1024 * 1024 * 1024,
      tailCacheBytes: 8 * 1024 * 1024,
    });
    await buffer.open();
    try {
      let received = 0;
      for (let turn = 0; turn < TURNS; turn += 1) {
        for (let index = 0; index < recordsPerTurn; index += 1) buffer.push(payloadOf('event', PAYLOAD_BYTES), PAYLOAD_BYTES);
        await nextTurn();
        for (;;) {
          const batch = buffer.read(1000, Number.MAX_SAFE_INTEGER);
          if (batch.length === 0) break;
          received += batch.length;
          buffer.ack(batch[batch.length - 1].id);
        }
      }

      assert.equal(received, TURNS * recordsPerTurn);
      assert.equal(counting.bytesRead(), 0, 'bytes read back from the segment files');
    } finally {
      await buffer.close();
      await directory.remove();
    }
  });
}
