import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createCrcArena } from '../../src/buffer/crc32c-wasm.js';
import { RECORD_HEADER_BYTES, encodeRecord, recordChecksum, sealRecordsJs } from '../../src/buffer/record-format.js';
import { createRandom } from './helpers.js';

type Random = ReturnType<typeof createRandom>;

/** A buffer and the function under test that seals records in it. */
interface Sealer {
  bytes: Buffer;
  seal(start: number, end: number): void;
}

const ARENA_BYTES = 64 * 1024;

/** The two implementations, each run through the same cases. */
const implementations: Array<{ name: string; create: () => Sealer }> = [
  {
    name: 'CrcArena.sealRecords',
    create: () => {
      const arena = createCrcArena(ARENA_BYTES);
      assert.ok(arena !== null, 'WebAssembly is available in the test runtime');
      return { bytes: arena.bytes, seal: (start, end) => arena.sealRecords(start, end) };
    },
  },
  {
    name: 'sealRecordsJs',
    create: () => {
      const bytes = Buffer.alloc(ARENA_BYTES);
      return { bytes, seal: (start, end) => sealRecordsJs(bytes, start, end) };
    },
  },
];

/** Start and length of one record laid out by `layOutRecords`. */
interface RecordSpan {
  start: number;
  length: number;
}

/**
 * Writes records with the given payload lengths back to back from `start`: random ids and
 * payload bytes, and a random value in the checksum field so that a record left unsealed is
 * caught. Returns where each record lies.
 */
function layOutRecords(bytes: Buffer, start: number, payloadLengths: number[], random: Random): RecordSpan[] {
  const spans: RecordSpan[] = [];
  let offset = start;
  for (const payloadLength of payloadLengths) {
    const length = RECORD_HEADER_BYTES + payloadLength;
    bytes.writeUInt32LE(length, offset);
    for (let index = 4; index < length; index += 1) bytes[offset + index] = random.integer(0, 255);
    spans.push({ start: offset, length });
    offset += length;
  }
  return spans;
}

/** Returns a copy of `bytes` with the checksum of each record in `spans` stored, as sealing should leave it. */
function expectedAfterSealing(bytes: Buffer, spans: RecordSpan[]): Buffer {
  const expected = Buffer.from(bytes);
  for (const { start, length } of spans) expected.writeUInt32LE(recordChecksum(expected, start, length), start + 4);
  return expected;
}

for (const { name, create } of implementations) {
  describe(name, () => {
    test('stores each record checksum in random batches', () => {
      const random = createRandom(0x5ea1);
      const sealer = create();
      for (let batch = 0; batch < 60; batch += 1) {
        sealer.bytes.fill(0xa5);
        const start = random.integer(0, 63);
        const payloadLengths = Array.from({ length: random.integer(1, 40) }, () => random.integer(0, 600));
        const spans = layOutRecords(sealer.bytes, start, payloadLengths, random);
        const end = spans[spans.length - 1].start + spans[spans.length - 1].length;
        const expected = expectedAfterSealing(sealer.bytes, spans);

        sealer.seal(start, end);

        for (const [index, { start: recordStart, length }] of spans.entries()) {
          assert.equal(
            sealer.bytes.readUInt32LE(recordStart + 4),
            recordChecksum(sealer.bytes, recordStart, length),
            `batch ${batch}, record ${index} at ${recordStart}, length ${length}`,
          );
        }
        assert.ok(sealer.bytes.equals(expected), `batch ${batch}: only the checksum fields changed`);
      }
    });

    test('matches encodeRecord', () => {
      const sealer = create();
      const records = ['', 'a', 'one syslog message', 'é'.repeat(300)].map((payload, index) =>
        encodeRecord(2 ** 40 + index, payload),
      );
      const batch = Buffer.concat(records);
      batch.copy(sealer.bytes, 5);
      let offset = 5;
      for (const record of records) {
        sealer.bytes.writeUInt32LE(0, offset + 4);
        offset += record.length;
      }

      sealer.seal(5, 5 + batch.length);

      assert.ok(sealer.bytes.subarray(5, 5 + batch.length).equals(batch));
    });

    test('accepts an empty range', () => {
      const sealer = create();
      sealer.bytes.fill(0xa5);
      sealer.seal(100, 100);
      assert.ok(sealer.bytes.every((byte) => byte === 0xa5));
    });

    test('rejects a range outside the buffer', () => {
      const sealer = create();
      const ranges: Array<[number, number]> = [
        [-1, 16],
        [32, 16],
        [0, ARENA_BYTES + 1],
        [0.5, 16],
        [0, Number.NaN],
      ];
      for (const [start, end] of ranges) {
        assert.throws(() => sealer.seal(start, end), RangeError, `range [${start}, ${end})`);
      }
    });

    // Each case lays out four records of 40 payload bytes (56 bytes each) from offset 64, then
    // damages them or cuts the range short. `stopIndex` is the record where the walk stops.
    // Records before it are sealed, and the others keep their random checksum fields.
    const corruptions: Array<{
      case: string;
      damage: (bytes: Buffer, spans: RecordSpan[]) => number;
      stopIndex: number;
      message: RegExp;
    }> = [
      {
        case: 'length 0',
        damage: (bytes, spans) => {
          bytes.writeUInt32LE(0, spans[2].start);
          return spans[3].start + spans[3].length;
        },
        stopIndex: 2,
        message: /invalid record length 0 at offset 176, below the 16-byte header/,
      },
      {
        case: 'length 15',
        damage: (bytes, spans) => {
          bytes.writeUInt32LE(15, spans[0].start);
          return spans[3].start + spans[3].length;
        },
        stopIndex: 0,
        message: /invalid record length 15 at offset 64, below the 16-byte header/,
      },
      {
        case: 'length 2^32 - 1',
        damage: (bytes, spans) => {
          bytes.writeUInt32LE(0xffffffff, spans[1].start);
          return spans[3].start + spans[3].length;
        },
        stopIndex: 1,
        message: /record length 4294967295 at offset 120 runs past the end at 288/,
      },
      {
        case: 'length one byte past end',
        damage: (bytes, spans) => {
          bytes.writeUInt32LE(spans[3].length + 1, spans[3].start);
          return spans[3].start + spans[3].length;
        },
        stopIndex: 3,
        message: /record length 57 at offset 232 runs past the end at 288/,
      },
      {
        case: 'end inside the last record',
        damage: (_bytes, spans) => spans[3].start + spans[3].length - 1,
        stopIndex: 3,
        message: /record length 56 at offset 232 runs past the end at 287/,
      },
      {
        case: 'end inside the last header',
        damage: (_bytes, spans) => spans[3].start + 6,
        stopIndex: 3,
        message: /6 bytes at offset 232 are too few for a 16-byte record header before the end at 238/,
      },
    ];
    for (const corruption of corruptions) {
      test(`stops at ${corruption.case} and writes nothing past end`, () => {
        const random = createRandom(0xbad);
        const sealer = create();
        sealer.bytes.fill(0xa5);
        const spans = layOutRecords(sealer.bytes, 64, [40, 40, 40, 40], random);
        const end = corruption.damage(sealer.bytes, spans);
        const expected = expectedAfterSealing(sealer.bytes, spans.slice(0, corruption.stopIndex));

        assert.throws(() => sealer.seal(64, end), corruption.message);

        for (const [index, span] of spans.entries()) {
          assert.equal(
            sealer.bytes.readUInt32LE(span.start + 4),
            expected.readUInt32LE(span.start + 4),
            `checksum field of record ${index} (${index < corruption.stopIndex ? 'sealed' : 'untouched'})`,
          );
        }
        assert.ok(sealer.bytes.subarray(0, 64).equals(expected.subarray(0, 64)), 'bytes before start untouched');
        assert.ok(sealer.bytes.subarray(end).equals(expected.subarray(end)), 'bytes from end on untouched');
        assert.ok(sealer.bytes.equals(expected), 'no other byte changed');
      });
    }
  });
}
