import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type QueueRecord, QueuedRecord } from '../../src/buffer/queue.js';
import { frameLf, frameOctetCounting } from '../../src/format/framing.js';
import { FrameBatch } from '../../src/transport/frame-batch.js';

const ESCAPE = { lf: '#012', cr: '#015' };

function record(id: number, payload: string): QueueRecord {
  return new QueuedRecord(id, payload, Buffer.byteLength(payload, 'utf8'));
}

/** Payloads that framing or UTF-8 could get wrong: digits and spaces, CR and LF, non-ASCII, an empty one. */
const RECORDS: QueueRecord[] = [
  record(7, '<14>1 - - - - - - first'),
  record(8, '12 34 looks like a frame'),
  record(9, ''),
  record(12, 'line one\nline two\r\nline three'),
  record(13, 'Grüße 日本 😀'),
  record(20, '\r'),
  record(21, 'x'.repeat(70_000)),
];

test('FrameBatch - octet counting writes MSG-LEN SP MSG', () => {
  const batch = new FrameBatch(RECORDS, true, ESCAPE);
  const expected = RECORDS.map((entry) => frameOctetCounting(entry.payload, entry.bytes)).join('');
  assert.deepEqual(Buffer.concat(batch.chunks), Buffer.from(expected, 'utf8'));
  assert.deepEqual(Array.from(batch.ids), [7, 8, 9, 12, 13, 20, 21]);
  assert.equal(batch.payloadBytes, RECORDS.reduce((sum, entry) => sum + entry.bytes, 0));
});

test('FrameBatch - LF framing escapes CR and LF', () => {
  const batch = new FrameBatch(RECORDS, false, ESCAPE);
  const expected = RECORDS.map((entry) => frameLf(entry.payload, ESCAPE)).join('');
  assert.deepEqual(Buffer.concat(batch.chunks), Buffer.from(expected, 'utf8'));
});

for (const octetCounting of [true, false]) {
  test(`FrameBatch - decodes the records it framed (${octetCounting ? 'octet counting' : 'LF'})`, () => {
    const batch = new FrameBatch(RECORDS, octetCounting, ESCAPE);
    assert.deepEqual(batch.records(), RECORDS);
  });
}

test('FrameBatch - large write spans chunks', () => {
  const records = Array.from({ length: 2_000 }, (_, index) => record(index + 1, `event ${index} ${'ü'.repeat(index % 7)} ${'x'.repeat(100)}`));
  for (const octetCounting of [true, false]) {
    const batch = new FrameBatch(records, octetCounting, ESCAPE);
    assert.ok(batch.chunks.length > 1, `${batch.chunks.length} chunks`);
    const framed = records.map((entry) => (octetCounting ? frameOctetCounting(entry.payload, entry.bytes) : frameLf(entry.payload, ESCAPE)));
    assert.deepEqual(Buffer.concat(batch.chunks), Buffer.from(framed.join(''), 'utf8'));
    assert.deepEqual(batch.records(), records);
  }
});

test('FrameBatch - encodes non-ASCII newline escapes as UTF-8', () => {
  const escape = { lf: '\u21B5', cr: '\u240D' };
  const batch = new FrameBatch([record(1, 'one\ntwo\rthree')], false, escape);
  assert.deepEqual(Buffer.concat(batch.chunks), Buffer.from('one\u21B5two\u240Dthree\n', 'utf8'));
});

test('FrameBatch - a lone surrogate comes back as U+FFFD with the same bytes', () => {
  const original = record(1, 'broken \uD800 pair');
  const [decoded] = new FrameBatch([original], true, ESCAPE).records();
  assert.equal(decoded.payload, 'broken \uFFFD pair');
  assert.equal(decoded.bytes, original.bytes);
  assert.deepEqual(Buffer.from(decoded.payload, 'utf8'), Buffer.from(original.payload, 'utf8'));
});

// A queue record whose `bytes` is not the UTF-8 length of its payload, next to a non-ASCII one,
// must not shift the octet-counted frames that follow it: MSG-LEN is measured again for that chunk.
test('FrameBatch - wrong sizes keep frames intact', () => {
  const records: QueueRecord[] = [
    record(1, 'before'),
    { id: 2, payload: 'café', bytes: 4 },
    record(3, 'Grüße'),
    { id: 4, payload: 'plain', bytes: 9 },
    record(5, 'after'),
  ];
  const batch = new FrameBatch(records, true, ESCAPE);
  const expected = records.map((entry) => frameOctetCounting(entry.payload, Buffer.byteLength(entry.payload, 'utf8'))).join('');

  assert.equal(Buffer.concat(batch.chunks).toString('utf8'), expected);
  assert.deepEqual(
    batch.records().map((entry) => entry.payload),
    records.map((entry) => entry.payload),
  );
  assert.equal(batch.payloadBytes, records.reduce((sum, entry) => sum + Buffer.byteLength(entry.payload, 'utf8'), 0));
});

/** Returns ASCII records of about 170 bytes, so that a batch of them fills one pooled chunk. */
function asciiRecords(firstId: number, count: number, label: string): QueueRecord[] {
  return Array.from({ length: count }, (_, index) => record(firstId + index, `${label} ${index} ${'x'.repeat(160)}`));
}

// Chunk buffers come from a pool (src/transport/chunk-pool.ts). A batch gives them back in
// release() only when its write completed: until then the socket may still read them, and a
// failed connection decodes its records from them.
test('FrameBatch - unwritten chunks stay out of the pool', () => {
  const first = new FrameBatch(asciiRecords(1, 100, 'first'), true, ESCAPE);
  const before = Buffer.from(Buffer.concat(first.chunks));
  first.release();

  const second = new FrameBatch(asciiRecords(101, 100, 'second'), true, ESCAPE);
  assert.notEqual(second.chunks[0].buffer, first.chunks[0].buffer, 'the unwritten chunk was not reused');
  assert.deepEqual(Buffer.concat(first.chunks), before, 'the unwritten chunk kept its bytes');
});

test('FrameBatch - written chunks are reused after release', () => {
  const first = new FrameBatch(asciiRecords(1, 100, 'first'), true, ESCAPE);
  const buffer = first.chunks[0].buffer;
  first.flushedAt = Date.now();
  first.release();
  assert.equal(first.chunks.length, 0);
  assert.throws(() => first.records(), /after release/);

  const second = new FrameBatch(asciiRecords(101, 100, 'second'), true, ESCAPE);
  assert.equal(second.chunks[0].buffer, buffer, 'the written chunk was reused');
  assert.deepEqual(
    second.records().map((entry) => entry.payload),
    asciiRecords(101, 100, 'second').map((entry) => entry.payload),
  );
});
