/**
 * Measures the record checksums of a DiskBuffer write batch: nanoseconds per 186-byte record
 * (16-byte header, 170-byte payload) over a 1 MiB batch of such records laid out back to back.
 * Run with `node --import tsx benchmarks/crc32c.ts [rounds=7]`.
 *
 * Each record's CRC-32C covers its bytes [0, 4) and [8, 186). The variants are:
 * - `crc32c` (JavaScript): two calls per record, as `recordChecksum` makes them;
 * - `CrcArena.crc` (WebAssembly): two calls per record, as `PendingBatch` makes them;
 * - `CrcArena.sealRecords` (WebAssembly): one call for the whole batch, checksums stored;
 * - `sealRecordsJs` (JavaScript): the same walk as `sealRecords`, for buffers outside an arena.
 *
 * Each round runs every variant once over 200 batches, in turn, and the median round is
 * printed. Prints no verdict: the numbers depend on the CPU and the Node.js version.
 */
import { cpus } from 'node:os';
import { crc32c } from '../src/buffer/crc32c.js';
import { createCrcArena } from '../src/buffer/crc32c-wasm.js';
import { RECORD_HEADER_BYTES, sealRecordsJs } from '../src/buffer/record-format.js';

const RECORD_BYTES = 186;
const BATCH_BYTES = 1024 * 1024;
const BATCHES_PER_ROUND = 200;

const rounds = Number(process.argv[2] ?? 7);
if (!Number.isInteger(rounds) || rounds < 1) {
  throw new Error(`Invalid rounds argument ${JSON.stringify(process.argv[2])}: expected a positive integer`);
}

const recordCount = Math.floor(BATCH_BYTES / RECORD_BYTES);
const batchEnd = recordCount * RECORD_BYTES;

const arena = createCrcArena(BATCH_BYTES);
if (arena === null) throw new Error('WebAssembly is not available, so there is no CrcArena to measure');
const bytes = arena.bytes;

/** Lays out `recordCount` records of `RECORD_BYTES` bytes with ids 1, 2, … and printable payloads. */
function fillBatch(): void {
  for (let index = 0; index < recordCount; index += 1) {
    const start = index * RECORD_BYTES;
    bytes.writeUInt32LE(RECORD_BYTES, start);
    bytes.writeUInt32LE(0, start + 4);
    bytes.writeUInt32LE(index + 1, start + 8);
    bytes.writeUInt32LE(0, start + 12);
    for (let offset = RECORD_HEADER_BYTES; offset < RECORD_BYTES; offset += 1) {
      bytes[start + offset] = 0x20 + ((index * 31 + offset * 7) % 95);
    }
  }
}

/** Sum of every checksum computed, printed at the end so that no variant's work can be skipped. */
let sink = 0;

const variants: Array<{ name: string; run: () => void }> = [
  {
    name: 'crc32c (JavaScript), two calls per record',
    run: () => {
      for (let start = 0; start < batchEnd; start += RECORD_BYTES) {
        sink = (sink + crc32c(bytes, crc32c(bytes, 0, start, start + 4), start + 8, start + RECORD_BYTES)) | 0;
      }
    },
  },
  {
    name: 'CrcArena.crc (WebAssembly), two calls per record',
    run: () => {
      for (let start = 0; start < batchEnd; start += RECORD_BYTES) {
        sink = (sink + arena.crc(start + 8, RECORD_BYTES - 8, arena.crc(start, 4, 0))) | 0;
      }
    },
  },
  {
    name: 'CrcArena.sealRecords (WebAssembly), one call per batch',
    run: () => {
      arena.sealRecords(0, batchEnd);
      sink = (sink + bytes.readUInt32LE(4)) | 0;
    },
  },
  {
    name: 'sealRecordsJs (JavaScript), one call per batch',
    run: () => {
      sealRecordsJs(bytes, 0, batchEnd);
      sink = (sink + bytes.readUInt32LE(4)) | 0;
    },
  },
];

/** Runs `run` over `BATCHES_PER_ROUND` batches and returns the nanoseconds per record. */
function measure(run: () => void): number {
  const startTime = process.hrtime.bigint();
  for (let batch = 0; batch < BATCHES_PER_ROUND; batch += 1) run();
  const elapsed = Number(process.hrtime.bigint() - startTime);
  return elapsed / (BATCHES_PER_ROUND * recordCount);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

fillBatch();
const samples = variants.map(() => [] as number[]);
// Warm-up, so that no round includes the first compilation of a variant.
for (const variant of variants) measure(variant.run);
for (let round = 0; round < rounds; round += 1) {
  variants.forEach((variant, index) => samples[index].push(measure(variant.run)));
}

console.log(`Node.js ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'}`);
console.log(
  `${recordCount} records of ${RECORD_BYTES} bytes per batch, ${BATCHES_PER_ROUND} batches per round, ` +
    `median of ${rounds} rounds`,
);
variants.forEach((variant, index) => {
  const values = samples[index];
  const range = `${Math.min(...values).toFixed(1)} to ${Math.max(...values).toFixed(1)}`;
  console.log(`${variant.name.padEnd(56)} ${median(values).toFixed(1).padStart(7)} ns/record (rounds: ${range})`);
});
console.log(`sum of checksums ${(sink >>> 0).toString(16)}`);
