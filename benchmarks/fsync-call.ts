/**
 * Measures how long the main thread spends in the call that starts an asynchronous `fs.fsync`
 * (not the fsync itself, which runs on the thread pool), for a file with and without dirty pages,
 * next to `fs.fstat`. The DiskBuffer in `batch` mode starts an fsync of the segment, and of the
 * metadata file when acknowledgements changed it, after each written batch.
 *
 *   node --import tsx benchmarks/fsync-call.ts [calls=200] [batchBytes=190000]
 *
 * In the rows named "after a write", each call follows a `writeSync` of `batchBytes`, as the
 * DiskBuffer's write at the end of a turn does. Prints the mean per call in microseconds.
 */
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const calls = Number(process.argv[2] ?? 200);
const batchBytes = Number(process.argv[3] ?? 190_000);

const directory = fs.mkdtempSync(join(tmpdir(), 'fsync-call-'));
const fd = fs.openSync(join(directory, 'segment'), 'w');
const batch = Buffer.alloc(batchBytes, 0x61);
let position = 0;

/** Returns the mean time in microseconds that `start` took to return, over `calls` calls. */
async function measure(start: (done: () => void) => void, writeFirst: boolean): Promise<number> {
  let total = 0n;
  for (let index = 0; index < calls; index += 1) {
    if (writeFirst) {
      fs.writeSync(fd, batch, 0, batch.length, position);
      position += batch.length;
    }
    await new Promise<void>((resolve) => {
      const before = process.hrtime.bigint();
      start(resolve);
      total += process.hrtime.bigint() - before;
    });
    await new Promise((resolve) => setImmediate(resolve));
  }
  return Number(total / BigInt(calls)) / 1000;
}

try {
  const rows: Array<[string, number]> = [
    ['fs.fstat', await measure((done) => fs.fstat(fd, () => done()), false)],
    ['fs.fsync, no dirty pages', await measure((done) => fs.fsync(fd, () => done()), false)],
    ['fs.fsync after a write', await measure((done) => fs.fsync(fd, () => done()), true)],
    ['fs.fstat after a write', await measure((done) => fs.fstat(fd, () => done()), true)],
  ];
  console.log(`${calls} calls each, ${batchBytes}-byte writes, Node.js ${process.version}`);
  for (const [name, micros] of rows) console.log(`${name.padEnd(26)} ${micros.toFixed(1).padStart(7)} µs in the call`);
} finally {
  fs.closeSync(fd);
  fs.rmSync(directory, { recursive: true, force: true });
}
