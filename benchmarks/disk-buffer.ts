/**
 * Measures append and drain throughput of DiskBuffer in each fsync mode next to MemoryQueue.
 * Run with `node --import tsx benchmarks/disk-buffer.ts [records] [payloadBytes]`.
 *
 * Append pushes every record, letting the event loop turn every 1000 pushes as a sender would,
 * and ends when a flush (DiskBuffer) has written and fsynced everything. Drain reads batches of
 * 500 records and acknowledges each batch. Follow pushes 1000 records per turn and reads them
 * once the DiskBuffer has written them, as a sender whose collector keeps up does, so that its
 * reads come from the tail cache. Prints no verdict: the ratios depend on the disk.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DiskBuffer, type EventQueue, type FsyncMode, MemoryQueue } from '../src/buffer/index.js';

const records = Number(process.argv[2] ?? 200_000);
const payloadBytes = Number(process.argv[3] ?? 200);
const payload = 'x'.repeat(payloadBytes);

interface Result {
  name: string;
  appendSeconds: number;
  drainSeconds: number;
  followSeconds: number;
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

async function measure(name: string, queue: EventQueue, flush: () => Promise<void>): Promise<Result> {
  await queue.open();

  const appendStart = performance.now();
  for (let index = 0; index < records; index += 1) {
    queue.push(payload, payloadBytes);
    if (index % 1000 === 999) await nextTurn();
  }
  await flush();
  const appendSeconds = (performance.now() - appendStart) / 1000;

  const drainStart = performance.now();
  let drained = 0;
  for (;;) {
    const batch = queue.read(500, 1024 * 1024);
    if (batch.length === 0) break;
    drained += batch.length;
    queue.ack(batch[batch.length - 1].id);
    if (drained % 10_000 === 0) await nextTurn();
  }
  const drainSeconds = (performance.now() - drainStart) / 1000;
  if (drained !== records) throw new Error(`${name}: drained ${drained} of ${records} records`);

  const followSeconds = await follow(name, queue);
  await queue.close();
  return { name, appendSeconds, drainSeconds, followSeconds };
}

/** Pushes `records` records, 1000 per turn, and reads each turn's records once they are written. */
async function follow(name: string, queue: EventQueue): Promise<number> {
  const start = performance.now();
  let followed = 0;
  for (let index = 0; index < records; index += 1) {
    queue.push(payload, payloadBytes);
    if (index % 1000 !== 999) continue;
    // The DiskBuffer writes its batch in the first immediate of the turn, before this one runs.
    await nextTurn();
    for (;;) {
      const batch = queue.read(500, 1024 * 1024);
      if (batch.length === 0) break;
      followed += batch.length;
      queue.ack(batch[batch.length - 1].id);
    }
  }
  if (followed !== records - (records % 1000)) throw new Error(`${name}: followed ${followed} of ${records} records`);
  return (performance.now() - start) / 1000;
}

function formatRate(seconds: number): string {
  const perSecond = records / seconds;
  const megabytes = (records * payloadBytes) / seconds / 1024 / 1024;
  return `${Math.round(perSecond).toLocaleString('en-US').padStart(11)} rec/s ${megabytes.toFixed(1).padStart(7)} MiB/s`;
}

const results: Result[] = [];
results.push(
  await measure(
    'MemoryQueue',
    new MemoryQueue({ maxRecords: records + 1, maxBytes: records * payloadBytes * 2 }),
    async () => {},
  ),
);

for (const mode of ['batch', 'interval', 'never'] as FsyncMode[]) {
  const directory = await mkdtemp(join(tmpdir(), 'disk-buffer-benchmark-'));
  try {
    const buffer = new DiskBuffer({ directory, maxBytes: 4 * records * (payloadBytes + 16), fsync: mode });
    results.push(await measure(`DiskBuffer fsync=${mode}`, buffer, () => buffer.flush()));
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

const [memory] = results;
console.log(`${records} records of ${payloadBytes} bytes, Node.js ${process.version}`);
for (const result of results) {
  const appendRatio = (memory.appendSeconds / result.appendSeconds).toFixed(2);
  const drainRatio = (memory.drainSeconds / result.drainSeconds).toFixed(2);
  const followRatio = (memory.followSeconds / result.followSeconds).toFixed(2);
  console.log(
    `${result.name.padEnd(26)} append ${formatRate(result.appendSeconds)} (x${appendRatio} of memory)` +
      `  drain ${formatRate(result.drainSeconds)} (x${drainRatio} of memory)` +
      `  follow ${formatRate(result.followSeconds)} (x${followRatio} of memory)`,
  );
}
