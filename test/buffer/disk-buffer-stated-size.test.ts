import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DiskBuffer } from '../../src/buffer/index.js';
import { InvalidEventError } from '../../src/errors.js';
import { makeTempDirectory, nextTurn, payloadOf, readAll } from './helpers.js';

// DiskBuffer takes a size equal to the payload's UTF-16 length as a statement that the payload is
// ASCII, and encodes a turn's payloads together (PendingBatch). These tests push payloads whose
// stated size is wrong next to correct ones in the same write, then compare what read() returns
// before and after a reopen with what was pushed.

/** Pushes `payloads` with their sizes in one turn, lets the DiskBuffer write them, and returns what a reopened buffer reads. */
async function pushAndReopen(
  entries: Array<{ payload: string; bytes: number }>,
): Promise<{ beforeReopen: string[]; afterReopen: string[]; warnings: Error[] }> {
  const directory = await makeTempDirectory();
  try {
    const first = new DiskBuffer({ directory: directory.path, segmentBytes: 64 * 1024 });
    const warnings: Error[] = [];
    first.on('warning', (warning) => warnings.push(warning));
    await first.open();
    for (const { payload, bytes } of entries) assert.ok(first.push(payload, bytes) > 0);
    await nextTurn();
    const beforeReopen = readAll(first).map((record) => record.payload);
    await first.close();

    const second = new DiskBuffer({ directory: directory.path });
    await second.open();
    const records = readAll(second);
    await second.close();
    assert.deepEqual(
      records.map((record) => record.bytes),
      records.map((record) => Buffer.byteLength(record.payload, 'utf8')),
      'every stored size is the UTF-8 length of the stored payload',
    );
    return { beforeReopen, afterReopen: records.map((record) => record.payload), warnings };
  } finally {
    await directory.remove();
  }
}

// The payloads are ASCII and not, and span several groups and segments.
test('exact sizes store payloads unchanged', async () => {
  const entries: Array<{ payload: string; bytes: number }> = [];
  for (let index = 0; index < 3000; index += 1) {
    // Mixed ASCII, two-, three- and four-byte characters; about 600 KiB, so several segments and groups.
    const text = index % 7 === 0 ? `été ${index} 日本 🙂 ` : `event ${index} `;
    const payload = text + payloadOf('', 50 + (index % 300));
    entries.push({ payload, bytes: Buffer.byteLength(payload, 'utf8') });
  }
  const { beforeReopen, afterReopen, warnings } = await pushAndReopen(entries);
  const pushed = entries.map((entry) => entry.payload);
  assert.deepEqual(warnings, []);
  assert.deepEqual(beforeReopen, pushed);
  assert.deepEqual(afterReopen, pushed);
});

test('other wrong sizes are measured', async () => {
  const entries = [
    { payload: 'first', bytes: 5 },
    { payload: 'größer', bytes: 0 },
    { payload: 'größer', bytes: 1000 },
    { payload: 'last', bytes: 4 },
  ];
  const { beforeReopen, afterReopen, warnings } = await pushAndReopen(entries);
  const pushed = entries.map((entry) => entry.payload);
  assert.deepEqual(warnings, []);
  assert.deepEqual(beforeReopen, pushed);
  assert.deepEqual(afterReopen, pushed);
});

// The wrong record is stored with "?" and a warning, and its neighbours are unchanged.
test('non-ASCII payload stated as ASCII', async () => {
  const neighbour = (index: number) => `neighbour ${index} ${payloadOf('', 100)}`;
  const entries: Array<{ payload: string; bytes: number }> = [];
  for (let index = 0; index < 50; index += 1) {
    const payload = neighbour(index);
    entries.push({ payload, bytes: payload.length });
  }
  // Stated as its UTF-16 length: 'é' takes 2 UTF-8 bytes, the emoji 4 for 2 units, a lone surrogate 3.
  entries.push({ payload: 'café 🙂 \uD800 end', bytes: 'café 🙂 \uD800 end'.length });
  for (let index = 50; index < 100; index += 1) {
    const payload = neighbour(index);
    entries.push({ payload, bytes: payload.length });
  }

  const { beforeReopen, afterReopen, warnings } = await pushAndReopen(entries);
  const expected = entries.map((entry) => entry.payload);
  expected[50] = 'caf? ?? ? end';
  assert.deepEqual(afterReopen, expected, 'stored: the wrong one replaced, every other one unchanged');
  assert.deepEqual(beforeReopen, expected, 'the copy in memory matches the disk');
  assert.equal(warnings.length, 1);
  assert.ok(warnings[0] instanceof InvalidEventError);
  assert.equal((warnings[0] as InvalidEventError).code, 'ERR_SYSLOG_INVALID_EVENT');
  assert.match(warnings[0].message, /was given 13 bytes for a payload of 18 UTF-8 bytes, so record 51 was stored/);
});
