/**
 * Measures how much it costs to turn formatted records into the bytes of one TCP write, in one
 * process and without sockets:
 *
 *   node --import tsx compare/frame-encoding.ts [--rounds=2000]
 *
 * - `FrameBatch` as the TCP transport uses it (48 KiB chunks, cached MSG-LEN prefixes);
 * - one string per write, joined and encoded at once, at 384 records (about 64 KiB) and at
 *   1,024 records (about 175 KiB, above V8's 128 KiB large-object size).
 *
 * Payloads come from `MessageFormatter`, so they are the same joined strings that `send()`
 * queues. Prints nanoseconds per record for each variant, after a warm-up pass.
 */
import { DEFAULT_NEWLINE_ESCAPE } from '../../src/format/framing.js';
import { MessageFormatter } from '../../src/format/formatter.js';
import type { QueueRecord } from '../../src/index.js';
import { FrameBatch } from '../../src/transport/frame-batch.js';
import { APP_NAME, eventText, HOSTNAME } from './shared.js';

function numberOption(name: string, fallback: number): number {
  const argument = process.argv.slice(2).find((candidate) => candidate.startsWith(`--${name}=`));
  if (argument === undefined) return fallback;
  const value = Number(argument.slice(name.length + 3));
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new Error(`Invalid --${name} ${JSON.stringify(argument)}: expected a positive integer`);
  }
  return value;
}

const rounds = numberOption('rounds', 2000);
const formatter = new MessageFormatter({ hostname: HOSTNAME, appName: APP_NAME });

/** Formats `count` new events, as `send()` would queue them. */
function formatRecords(count: number): QueueRecord[] {
  const records: QueueRecord[] = [];
  for (let index = 0; index < count; index += 1) {
    const payload = formatter.format(eventText(performance.now(), index));
    records.push({ id: index + 1, payload, bytes: formatter.byteLength });
  }
  return records;
}

/** Joins the octet-counted frames into one string and encodes it with one call. */
function encodeAsOneString(records: readonly QueueRecord[]): Buffer {
  let text = '';
  for (const record of records) text += `${record.bytes} ${record.payload}`;
  return Buffer.from(text, 'latin1');
}

const variants: Array<[string, number, (records: readonly QueueRecord[]) => unknown]> = [
  ['FrameBatch, 1,024 records per write', 1024, (records) => new FrameBatch(records, true, DEFAULT_NEWLINE_ESCAPE)],
  ['one string, 384 records per write', 384, encodeAsOneString],
  ['one string, 1,024 records per write', 1024, encodeAsOneString],
];

let lastResult: unknown;
for (const pass of ['warm-up', 'measured']) {
  for (const [name, count, encode] of variants) {
    let nanoseconds = 0;
    for (let round = 0; round < rounds; round += 1) {
      const records = formatRecords(count);
      const start = process.hrtime.bigint();
      lastResult = encode(records);
      nanoseconds += Number(process.hrtime.bigint() - start);
    }
    if (pass === 'measured') process.stdout.write(`${name}: ${(nanoseconds / rounds / count).toFixed(0)} ns/record\n`);
  }
}
if (lastResult === undefined) process.exitCode = 1;
