import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DiskBuffer } from '../../src/buffer/index.js';
import { makeTempDirectory, nextTurn, readAll } from './helpers.js';

const LONE_SURROGATES = ['\uD800', 'a\uDC00', '\uDBFF\uDBFF', 'end \uD83D'];

/** Returns each payload as its UTF-16 code units in hex, so that a failure shows the replaced units. */
function codeUnits(payloads: string[]): string[] {
  return payloads.map((payload) => [...payload].map((unit) => unit.charCodeAt(0).toString(16)).join(' '));
}

// Expected: read() returns the same payload whether the record comes from the tail cache, the
// pending batch or the disk (docs/disk-buffer.md: "The cache holds copies only"). The segment
// file stores a lone surrogate as U+FFFD, so that is what every read should return.
// A cache that kept the string push() received would return lone surrogates to a reader that
// keeps up and U+FFFD to a reader after a restart, for the same ids.
for (const when of ['pending', 'cached'] as const) {
  test(`lone surrogates read ${when} match the disk`, async () => {
    const directory = await makeTempDirectory();
    try {
      const first = new DiskBuffer({ directory: directory.path });
      await first.open();
      for (const payload of LONE_SURROGATES) first.push(payload, 0);
      if (when === 'cached') await nextTurn();
      const fromMemory = readAll(first).map((record) => record.payload);
      await first.close();

      const second = new DiskBuffer({ directory: directory.path });
      await second.open();
      const fromDisk = readAll(second).map((record) => record.payload);
      await second.close();

      assert.equal(fromDisk.length, LONE_SURROGATES.length);
      assert.deepEqual(codeUnits(fromMemory), codeUnits(fromDisk));
    } finally {
      await directory.remove();
    }
  });
}
