import assert from 'node:assert/strict';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  statSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DiskBuffer, type DiskBufferStats } from '../../src/buffer/index.js';
import { BufferCorruptError, BufferIOError } from '../../src/errors.js';
import {
  FaultyFs,
  backlogPayload,
  idsWithout,
  makeTempDirectory,
  nextTurn,
  readAll,
  recordRanges,
  reopenAndReadAll,
  segmentPaths,
  writeBacklog,
} from './helpers.js';

let root: { path: string; remove: () => Promise<void> };
let caseNumber = 0;

before(async () => {
  root = await makeTempDirectory('disk-buffer-corruption-');
});

after(async () => {
  await root.remove();
});

/** Returns a new, empty directory under the test root. */
function caseDirectory(): string {
  caseNumber += 1;
  const path = join(root.path, `case-${caseNumber}`);
  mkdirSync(path);
  return path;
}

/** Applies `edit` to the bytes of the file at `path`. */
function editFile(path: string, edit: (content: Buffer) => void): void {
  const content = readFileSync(path);
  edit(content);
  writeFileSync(path, content);
}

function quarantineFiles(directory: string): string[] {
  const path = join(directory, 'quarantine');
  return existsSync(path) ? readdirSync(path) : [];
}

describe('DiskBuffer - torn tail', () => {
  test('keeps records before every cut of the last record', async () => {
    const template = caseDirectory();
    const [segment] = await writeBacklog(template, 1, 5);
    const last = recordRanges(segment).at(-1)!;

    for (let cut = last.start; cut < last.end; cut += 1) {
      const directory = caseDirectory();
      cpSync(template, directory, { recursive: true });
      const copy = join(directory, segment.slice(template.length + 1));
      truncateSync(copy, cut);

      const buffer = new DiskBuffer({ directory, maxBytes: 1024 * 1024, fsync: 'never' });
      const warnings: Error[] = [];
      buffer.on('warning', (warning) => warnings.push(warning));
      await buffer.open();
      assert.equal(statSync(copy).size, last.start, `cut ${cut}: file truncated to the valid prefix`);
      assert.equal(warnings.length, cut === last.start ? 0 : 1, `cut ${cut}: one warning for a torn record`);
      assert.deepEqual(
        readAll(buffer).map((record) => record.id),
        [1, 2, 3, 4],
        `cut ${cut}`,
      );
      assert.equal(buffer.stats().corruptRecords, 0, `cut ${cut}: a torn tail is not counted as corruption`);

      assert.equal(buffer.push('after the cut', 13), 5, `cut ${cut}: appends continue after the valid prefix`);
      await buffer.close();

      const reopened = await reopenAndReadAll(directory);
      assert.deepEqual(
        reopened.records.map((record) => record.payload),
        [1, 2, 3, 4].map(backlogPayload).concat('after the cut'),
        `cut ${cut}: records after reopen`,
      );
      assert.deepEqual(reopened.warnings, [], `cut ${cut}: no warning after the repair`);
    }
  });

  test('truncates zero bytes appended after the last record', async () => {
    const directory = caseDirectory();
    const [segment] = await writeBacklog(directory, 1, 5);
    const size = statSync(segment).size;
    writeFileSync(segment, Buffer.alloc(16), { flag: 'a' });

    const { records, warnings, stats } = await reopenAndReadAll(directory);
    assert.deepEqual(
      records.map((record) => record.id),
      [1, 2, 3, 4, 5],
    );
    assert.equal(warnings.length, 1);
    assert.equal(stats.corruptRecords, 0);
    assert.equal(statSync(segment).size, size);
  });
});

/** One damaged field of one record: where in the record, and how it changes. */
const fieldDamage: Array<{ name: string; damage: (content: Buffer, start: number) => void }> = [
  { name: 'flipped low bit in the length', damage: (content, start) => void (content[start] ^= 0x01) },
  { name: 'flipped high bit in the length', damage: (content, start) => void (content[start + 2] ^= 0x40) },
  { name: 'zero length', damage: (content, start) => content.writeUInt32LE(0, start) },
  { name: 'length past the end of the file', damage: (content, start) => content.writeUInt32LE(1_000_000, start) },
  { name: 'length over the maximum', damage: (content, start) => content.writeUInt32LE(0xffffffff, start) },
  { name: 'flipped bit in the checksum', damage: (content, start) => void (content[start + 5] ^= 0x10) },
  { name: 'flipped bit in the id', damage: (content, start) => void (content[start + 8] ^= 0x02) },
  { name: 'flipped bit in the payload', damage: (content, start) => void (content[start + 30] ^= 0x04) },
];

describe('DiskBuffer - damaged record', () => {
  for (const { name, damage } of fieldDamage) {
    for (const segmentIndex of [1, 2]) {
      const where = segmentIndex === 1 ? 'a middle segment' : 'the newest segment';
      test(`skips one record with ${name} in ${where}`, async () => {
        const directory = caseDirectory();
        const segments = await writeBacklog(directory, 3, 20);
        const target = recordRanges(segments[segmentIndex])[9];
        const original = readFileSync(segments[segmentIndex]).subarray(target.start, target.end);
        editFile(segments[segmentIndex], (content) => damage(content, target.start));

        const { records, warnings, stats } = await reopenAndReadAll(directory);
        assert.deepEqual(
          records.map((record) => record.id),
          idsWithout(60, [target.id]),
        );
        assert.ok(records.every((record) => record.payload === backlogPayload(record.id)));
        assert.equal(stats.corruptRecords, 1);
        assert.equal(stats.corruptBytes, target.end - target.start);
        assert.equal(warnings.length, 1);
        assert.match(warnings[0].message, /damaged bytes/);
        assert.match(warnings[0].message, /\(1 record lost\)/);

        const quarantined = quarantineFiles(directory);
        assert.equal(quarantined.length, 1);
        const copy = readFileSync(join(directory, 'quarantine', quarantined[0]));
        assert.equal(copy.length, original.length);
        assert.notDeepEqual(copy, original, 'the quarantine holds the damaged bytes');
      });
    }
  }

  test('skips 16 overwritten bytes inside record 50 of segment 2', async () => {
    const directory = caseDirectory();
    const segments = await writeBacklog(directory, 3, 100);
    const target = recordRanges(segments[1])[49];
    editFile(segments[1], (content) => content.fill(0xa5, target.start + 20, target.start + 36));

    const { records, warnings, stats } = await reopenAndReadAll(directory);
    assert.equal(records.length, 299);
    assert.deepEqual(
      records.map((record) => record.id),
      idsWithout(300, [150]),
    );
    assert.equal(stats.corruptRecords, 1);
    assert.equal(warnings.length, 1);
  });

  test('skips records under a zeroed 4 KiB page', async () => {
    const directory = caseDirectory();
    const segments = await writeBacklog(directory, 2, 200);
    const ranges = recordRanges(segments[0]);
    editFile(segments[0], (content) => content.fill(0, 4096, 8192));
    const lost = ranges.filter((range) => range.start < 8192 && range.end > 4096).map((range) => range.id);

    const { records, warnings, stats } = await reopenAndReadAll(directory);
    assert.deepEqual(
      records.map((record) => record.id),
      idsWithout(400, lost),
    );
    assert.equal(stats.corruptRecords, lost.length);
    assert.equal(stats.corruptBytes, ranges.find((range) => range.id === lost.at(-1))!.end - ranges.find((range) => range.id === lost[0])!.start);
    assert.equal(warnings.length, 1);
  });

  test('skips a damaged last record of a middle segment', async () => {
    const directory = caseDirectory();
    const segments = await writeBacklog(directory, 3, 20);
    const target = recordRanges(segments[0]).at(-1)!;
    editFile(segments[0], (content) => content.writeUInt32LE(500, target.start));

    const { records, stats } = await reopenAndReadAll(directory);
    assert.deepEqual(
      records.map((record) => record.id),
      idsWithout(60, [20]),
    );
    assert.equal(stats.corruptRecords, 1);
  });
});

/** Returns the ids from `from` to `to`, both included. */
function idRange(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, index) => from + index);
}

/** Opens a DiskBuffer on `directory` and returns its stats and warnings right after open. */
async function statsAfterOpen(directory: string): Promise<{ stats: DiskBufferStats; warnings: Error[] }> {
  const buffer = new DiskBuffer({ directory, maxBytes: 1024 * 1024 * 1024, fsync: 'never' });
  const warnings: Error[] = [];
  buffer.on('warning', (warning) => warnings.push(warning));
  await buffer.open();
  const stats = buffer.stats();
  await buffer.close();
  return { stats, warnings };
}

describe('DiskBuffer - damaged directory', () => {
  test('counts a deleted middle segment', async () => {
    const directory = caseDirectory();
    const segments = await writeBacklog(directory, 3, 20);
    unlinkSync(segments[1]);

    const opened = await statsAfterOpen(directory);
    assert.equal(opened.stats.records, 40, 'the estimate leaves out the missing records');
    assert.equal(opened.stats.missingSegments, 1);
    assert.equal(opened.stats.missingRecords, 20);
    assert.equal(opened.stats.corruptRecords, 0);

    const { records, warnings } = await reopenAndReadAll(directory);
    assert.deepEqual(
      records.map((record) => record.id),
      idsWithout(60, idRange(21, 40)),
    );
    assert.equal(warnings.length, 1);
    assert.ok(warnings[0] instanceof BufferCorruptError);
    assert.match(warnings[0].message, /missing/);
    assert.match(warnings[0].message, /0000000000000021\.seg, contained 20 unacknowledged records \(ids 21 to 40\), which are lost/);
  });

  test('counts a middle segment cut below its header', async () => {
    const directory = caseDirectory();
    const segments = await writeBacklog(directory, 3, 20);
    truncateSync(segments[1], 10);

    const { records, warnings, stats } = await reopenAndReadAll(directory);
    assert.deepEqual(
      records.map((record) => record.id),
      idsWithout(60, idRange(21, 40)),
    );
    assert.equal(stats.missingSegments, 1);
    assert.equal(stats.missingRecords, 20);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0].message, /0000000000000021\.seg \(found cut to 10 bytes, below its header, and deleted\)/);
  });

  test('counts a deleted front segment after an ack', async () => {
    const directory = caseDirectory();
    const segments = await writeBacklog(directory, 3, 20);
    const writer = new DiskBuffer({ directory, maxBytes: 1024 * 1024 * 1024, fsync: 'never' });
    await writer.open();
    readAll(writer);
    writer.ack(10);
    await writer.close();
    unlinkSync(segments[0]);

    const { records, warnings, stats } = await reopenAndReadAll(directory);
    assert.deepEqual(
      records.map((record) => record.id),
      idRange(21, 60),
    );
    assert.equal(stats.missingSegments, 1);
    assert.equal(stats.missingRecords, 10);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0].message, /before 0000000000000021\.seg are missing/);
    assert.match(warnings[0].message, /10 unacknowledged records \(ids 11 to 20\)/);
  });

  test('counts only the last of two deleted segments', async () => {
    const directory = caseDirectory();
    const segments = await writeBacklog(directory, 4, 20);
    unlinkSync(segments[1]);
    unlinkSync(segments[2]);

    const { records, warnings, stats } = await reopenAndReadAll(directory);
    assert.deepEqual(
      records.map((record) => record.id),
      [...idRange(1, 20), ...idRange(61, 80)],
    );
    // Only the header of segment 61 survives, and it records the ids of segment 41 alone.
    assert.equal(stats.missingSegments, 1);
    assert.equal(stats.missingRecords, 20);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0].message, /ids 41 to 60/);
  });

  test('words one missing record in the singular', async () => {
    const directory = caseDirectory();
    const segments = await writeBacklog(directory, 3, 1);
    unlinkSync(segments[1]);

    const { records, warnings, stats } = await reopenAndReadAll(directory);
    assert.deepEqual(
      records.map((record) => record.id),
      [1, 3],
    );
    assert.equal(stats.missingRecords, 1);
    assert.match(warnings[0].message, /contained 1 unacknowledged record \(id 2\), which is lost/);
  });

  for (const size of [0, 10, 39]) {
    test(`reports a newest segment cut to ${size} bytes`, async () => {
      const directory = caseDirectory();
      const segments = await writeBacklog(directory, 3, 20);
      truncateSync(segments[2], size);

      const buffer = new DiskBuffer({ directory, maxBytes: 1024 * 1024 * 1024, fsync: 'never' });
      const warnings: Error[] = [];
      buffer.on('warning', (warning) => warnings.push(warning));
      await buffer.open();
      assert.equal(warnings.length, 1);
      assert.ok(warnings[0] instanceof BufferCorruptError);
      assert.ok(warnings[0].message.includes(segments[2]), warnings[0].message);
      assert.match(warnings[0].message, new RegExp(`is ${size} bytes?, shorter than its 40-byte header`));
      assert.match(warnings[0].message, /from id 41 on, are lost/);
      assert.equal(buffer.stats().missingSegments, 1);
      assert.equal(buffer.stats().missingRecords, 0, 'no header records how many there were');
      assert.equal(existsSync(segments[2]), false);

      assert.deepEqual(
        readAll(buffer).map((record) => record.id),
        idRange(1, 40),
      );
      assert.equal(buffer.push('after the cut', 13), 41);
      await buffer.close();
    });
  }

  test('reports a foreign file and folder', async () => {
    const directory = caseDirectory();
    await writeBacklog(directory, 1, 5);
    writeFileSync(join(directory, 'notes.txt'), 'not a segment');
    mkdirSync(join(directory, 'backup'));

    const { records, warnings } = await reopenAndReadAll(directory);
    assert.equal(records.length, 5);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0].message, /Ignoring 2 unknown files/);
    assert.match(warnings[0].message, /notes\.txt/);
    assert.ok(existsSync(join(directory, 'notes.txt')), 'foreign files are left alone');
  });

  test('reads past a damaged segment header', async () => {
    const directory = caseDirectory();
    const segments = await writeBacklog(directory, 3, 20);
    editFile(segments[1], (content) => content.fill(0xff, 0, 8));

    const { records, warnings } = await reopenAndReadAll(directory);
    assert.deepEqual(
      records.map((record) => record.id),
      idsWithout(60, []),
    );
    assert.equal(warnings.length, 1);
    assert.match(warnings[0].message, /damaged header/);
  });
});

describe('DiskBuffer - unreadable segment', () => {
  test('reports EACCES on a segment as an I/O error', async () => {
    const directory = caseDirectory();
    const segments = await writeBacklog(directory, 3, 20);
    const faultyFs = new FaultyFs();
    faultyFs.openErrors.set(segments[1], 'EACCES');

    const { records, warnings, stats } = await reopenAndReadAll(directory, { fs: faultyFs });
    assert.deepEqual(
      records.map((record) => record.id),
      idsWithout(60, idRange(21, 40)),
    );
    assert.equal(
      warnings.filter((warning) => /damaged header/.test(warning.message)).length,
      0,
      warnings.map((warning) => warning.message).join(' | '),
    );
    const atOpen = warnings[0];
    assert.ok(atOpen instanceof BufferIOError);
    assert.ok(atOpen.message.includes(segments[1]), atOpen.message);
    assert.match(atOpen.message, /Reading the header of segment .* failed \(EACCES/);
    assert.match(warnings[1].message, /Reading .* from offset 40 failed; skipped 20 records \(EACCES\)/);
    assert.equal(warnings.length, 2);
    assert.equal(stats.corruptRecords, 20);
  });

  test(
    'reports a segment with mode 000 as an I/O error',
    { skip: process.getuid?.() === 0 ? 'root reads a file with mode 000' : undefined },
    async () => {
      const directory = caseDirectory();
      const segments = await writeBacklog(directory, 3, 20);
      chmodSync(segments[1], 0);

      const { warnings } = await reopenAndReadAll(directory);
      assert.equal(warnings.filter((warning) => /damaged header/.test(warning.message)).length, 0);
      assert.ok(warnings[0] instanceof BufferIOError);
      assert.ok(warnings[0].message.includes(segments[1]));
      assert.match(warnings[0].message, /\(EACCES/);
    },
  );
});

describe('DiskBuffer - damaged metadata', () => {
  /** Writes 10 records, acknowledges 4 and then 7 in separate turns so each ack lands in its own slot. */
  async function writeAcknowledged(directory: string): Promise<string> {
    const buffer = new DiskBuffer({ directory, maxBytes: 1024 * 1024, fsync: 'never' });
    await buffer.open();
    for (let id = 1; id <= 10; id += 1) buffer.push(backlogPayload(id), 40);
    readAll(buffer);
    buffer.ack(4);
    await nextTurn();
    buffer.ack(7);
    await buffer.close();
    return join(directory, 'metadata');
  }

  const cases: Array<{ name: string; damage: (path: string) => void; ids: number[] }> = [
    { name: 'intact', damage: () => {}, ids: [8, 9, 10] },
    { name: 'newest slot garbage', damage: (path) => editFile(path, (content) => content.fill(0x5a, 64, 128)), ids: [5, 6, 7, 8, 9, 10] },
    { name: 'both slots garbage', damage: (path) => editFile(path, (content) => content.fill(0x5a)), ids: idsWithout(10, []) },
    { name: 'truncated to one slot', damage: (path) => truncateSync(path, 64), ids: [5, 6, 7, 8, 9, 10] },
    { name: 'truncated to zero bytes', damage: (path) => truncateSync(path, 0), ids: idsWithout(10, []) },
  ];

  for (const { name, damage, ids } of cases) {
    test(`replays from the last intact ack: ${name}`, async () => {
      const directory = caseDirectory();
      const metadata = await writeAcknowledged(directory);
      damage(metadata);

      const { records, warnings } = await reopenAndReadAll(directory);
      assert.deepEqual(
        records.map((record) => record.id),
        ids,
      );
      assert.equal(warnings.length, name === 'intact' ? 0 : 1);
      const again = await reopenAndReadAll(directory);
      assert.deepEqual(again.warnings, [], 'the metadata file is rewritten after a warning');
    });
  }
});
