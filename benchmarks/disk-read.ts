/**
 * Measures how fast a DiskBuffer reads a backlog back from disk, as a sender does after an
 * outage. `records` records of about 200 bytes are pushed while nothing reads, so they are read
 * from the segment files and not from the tail cache. Then they are read in batches of 1,024, and
 * each batch is acknowledged.
 *
 *   node --import tsx benchmarks/disk-read.ts [records=300000]
 *
 * Prints nanoseconds per record for the first batch, which runs before the JIT has compiled the
 * read path and so shows how long the first turns of a drain block the event loop, and for all
 * the batches after it. Run it several times: each run is one process, so each first batch is cold.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { DiskBuffer } from '../src/buffer/index.js';

const BATCH_RECORDS = 1024;
const records = Number(process.argv[2] ?? 300_000);
if (!Number.isSafeInteger(records) || records <= BATCH_RECORDS) {
  throw new Error(`Invalid records argument ${JSON.stringify(process.argv[2])}: expected an integer above ${BATCH_RECORDS}`);
}

const directory = await mkdtemp(join(tmpdir(), 'disk-read-benchmark-'));
try {
  const buffer = new DiskBuffer({ directory, maxBytes: 4 * records * 256 });
  await buffer.open();
  const filler = 'x'.repeat(150);
  for (let index = 0; index < records; index += 1) {
    const payload = `<134>1 2026-12-05T10:00:00.000Z bench-host bench - - - ${index} ${filler}`;
    buffer.push(payload, payload.length);
    if (index % 1000 === 999) await nextTurn();
  }
  await buffer.flush();

  let read = 0;
  let firstBatchLength = 0;
  let firstBatchNanos = 0;
  const start = process.hrtime.bigint();
  let afterFirst = start;
  for (;;) {
    const batch = buffer.read(BATCH_RECORDS, 1024 * 1024);
    if (batch.length === 0) break;
    if (read === 0) {
      afterFirst = process.hrtime.bigint();
      firstBatchLength = batch.length;
      firstBatchNanos = Number(afterFirst - start) / batch.length;
    }
    read += batch.length;
    buffer.ack(batch[batch.length - 1].id);
  }
  if (read !== records) throw new Error(`Only ${read} of ${records} pushed records were read back`);
  const restNanos = Number(process.hrtime.bigint() - afterFirst) / (read - firstBatchLength);
  console.log(
    `${records} records, Node.js ${process.version}: first batch ${firstBatchNanos.toFixed(0)} ns/record, ` +
      `the rest ${restNanos.toFixed(0)} ns/record`,
  );
  await buffer.close();
} finally {
  await rm(directory, { recursive: true, force: true });
}
