import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  DEFAULT_NEWLINE_ESCAPE,
  MessageFormatter,
  byteLength,
  frameLf,
  frameOctetCounting,
} from '../../src/format/index.js';
import { F3164, F5424, F5424_HEADER } from './fixtures.js';

const STACK_TRACE = 'Error: boom\n    at f (a.js:1:1)\n    at g (b.js:2:2)';

function octetFrame(payload: string): string {
  return frameOctetCounting(payload, byteLength(payload));
}

/** Splits a stream of octet-counted frames (RFC 6587 section 3.4.1) back into SYSLOG-MSG strings. */
function parseOctetCounted(stream: Buffer): string[] {
  const messages: string[] = [];
  let offset = 0;
  while (offset < stream.length) {
    const space = stream.indexOf(0x20, offset);
    assert.ok(space > offset, `no MSG-LEN at offset ${offset}`);
    const lengthText = stream.toString('latin1', offset, space);
    assert.match(lengthText, /^[1-9][0-9]*$/, `MSG-LEN at offset ${offset}`);
    const length = Number(lengthText);
    const end = space + 1 + length;
    assert.ok(end <= stream.length, `frame at offset ${offset} runs past the end`);
    messages.push(stream.toString('utf8', space + 1, end));
    offset = end;
  }
  return messages;
}

test('Framing - octet counting has no delimiter between frames', () => {
  const formatter = new MessageFormatter(F3164);
  const stream = octetFrame(formatter.format('test 1')) + octetFrame(formatter.format('test 2'));
  assert.equal(
    stream,
    '47 <14>Mar  7 09:05:03 host1 billing[4242]: test 147 <14>Mar  7 09:05:03 host1 billing[4242]: test 2',
  );
});

test('Framing - LF framing ends each message with one LF', () => {
  const formatter = new MessageFormatter(F3164);
  const first = frameLf(formatter.format('test 1'), DEFAULT_NEWLINE_ESCAPE);
  const second = frameLf(formatter.format('test 2'), DEFAULT_NEWLINE_ESCAPE);
  assert.equal(
    first + second,
    '<14>Mar  7 09:05:03 host1 billing[4242]: test 1\n<14>Mar  7 09:05:03 host1 billing[4242]: test 2\n',
  );
  assert.equal(byteLength(first), 48);
  assert.equal(byteLength(second), 48);
});

test('Framing - MSG-LEN counts only SYSLOG-MSG', () => {
  const message = '<6>Sep 10 00:00:00 host1 app: hello!';
  assert.equal(byteLength(message), 36);
  assert.equal(
    octetFrame(message) + octetFrame(message),
    '36 <6>Sep 10 00:00:00 host1 app: hello!36 <6>Sep 10 00:00:00 host1 app: hello!',
  );
});

test('Framing - MSG-LEN counts UTF-8 bytes and the BOM', () => {
  const payload = new MessageFormatter(F5424).format('Grüße');
  assert.equal(octetFrame(payload), `76 ${payload}`);
  assert.equal(octetFrame(payload), `76 ${F5424_HEADER}\uFEFFGrüße`);
});

test('Framing - truncate first, then count', () => {
  const formatter = new MessageFormatter({ ...F5424, maxMessageBytes: 100 });
  const first = formatter.format('x'.repeat(200));
  const second = formatter.format('E2');
  assert.equal(first, F5424_HEADER + 'x'.repeat(34));
  assert.equal(byteLength(first), 100);
  assert.equal(formatter.counters.truncated, 1);

  const stream = octetFrame(first) + octetFrame(second);
  assert.equal(
    stream,
    `100 ${F5424_HEADER}${'x'.repeat(34)}68 <14>1 2024-03-07T09:05:03.000Z host1.example.com billing 4242 - - E2`,
  );
  assert.deepEqual(parseOctetCounted(Buffer.from(stream, 'utf8')), [first, second]);
});

test('Framing - truncation keeps UTF-8 characters whole', () => {
  const formatter = new MessageFormatter({ ...F5424, maxMessageBytes: 71 });
  // Header 66 bytes, BOM 3 bytes, then 'ü' (2 bytes) fits and the next 'ü' does not.
  const output = formatter.format('üüü');
  assert.equal(output, `${F5424_HEADER}\uFEFFü`);
  assert.equal(byteLength(output), 71);

  const emoji = new MessageFormatter({ ...F5424, maxMessageBytes: 72 }).format('😀😀');
  assert.equal(emoji, `${F5424_HEADER}\uFEFF`);
});

test('Framing - message within the cap is not counted', () => {
  const formatter = new MessageFormatter({ ...F5424, maxMessageBytes: 68 });
  assert.equal(formatter.format('E2'), `${F5424_HEADER}E2`);
  assert.equal(formatter.counters.truncated, 0);
});

test('Framing - octet counting carries embedded LF', () => {
  const payload = new MessageFormatter(F5424).format(STACK_TRACE);
  assert.equal(byteLength(STACK_TRACE), 51);
  assert.equal(octetFrame(payload), `117 <14>1 2024-03-07T09:05:03.000Z host1.example.com billing 4242 - - ${STACK_TRACE}`);
});

test('Framing - LF framing escapes embedded LF and CR', () => {
  const payload = new MessageFormatter(F5424).format(STACK_TRACE);
  assert.equal(
    frameLf(payload, DEFAULT_NEWLINE_ESCAPE),
    '<14>1 2024-03-07T09:05:03.000Z host1.example.com billing 4242 - - Error: boom#012    at f (a.js:1:1)#012    at g (b.js:2:2)\n',
  );
  assert.equal(frameLf('a\r\nb\rc', DEFAULT_NEWLINE_ESCAPE), 'a#015#012b#015c\n');
});

test('Framing - LF escapes are configurable', () => {
  assert.equal(frameLf('a\nb\r', { lf: '\\n', cr: '\\r' }), 'a\\nb\\r\n');
  assert.equal(frameLf('a\nb', { lf: ' ', cr: '' }), 'a b\n');
  assert.equal(frameLf('', DEFAULT_NEWLINE_ESCAPE), '\n');
});

test('Framing - no trailer on octet counting', () => {
  const payload = new MessageFormatter(F3164).format('started');
  const frame = octetFrame(payload);
  assert.equal(frame, '48 <14>Mar  7 09:05:03 host1 billing[4242]: started');
  assert.equal(frame.charCodeAt(frame.length - 1), 0x64);
});

/** Deterministic PRNG (mulberry32), so a failing case can be replayed from its seed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const ALPHABET = ['a', 'Z', '0', '9', ' ', '\n', '\r', '\t', '"', ']', '\\', '<', '>', 'ü', 'ß', '€', '😀', '\uFEFF', '\u0000', '中'];

test('Framing - octet-counted frames parse back to the messages', () => {
  const seed = 20240307;
  const next = random(seed);
  const formatter = new MessageFormatter(F5424);
  const lengths = [0, 1, 1, 2, 3];
  for (let index = 0; index < 500; index++) lengths.push(Math.floor(next() * 300));

  const messages = lengths.map((length) => {
    let text = '';
    for (let position = 0; position < length; position++) text += ALPHABET[Math.floor(next() * ALPHABET.length)];
    return text;
  });
  const payloads = messages.map((message) => formatter.format(message));
  const stream = Buffer.from(payloads.map(octetFrame).join(''), 'utf8');
  const parsed = parseOctetCounted(stream);

  assert.equal(parsed.length, payloads.length, `seed ${seed}`);
  parsed.forEach((payload, index) => {
    assert.equal(payload, payloads[index], `seed ${seed}, message ${index}`);
    const message = messages[index];
    const expected = message === '' ? F5424_HEADER.slice(0, -1) : `${F5424_HEADER}${expectedMsg(message)}`;
    assert.equal(payload, expected, `seed ${seed}, message ${index}: ${JSON.stringify(message)}`);
  });
});

/** MSG as the fixture writes it with bom auto: a BOM before non-ASCII text, unless the text starts with one. */
function expectedMsg(message: string): string {
  const ascii = [...message].every((character) => character.charCodeAt(0) < 128);
  return ascii || message.startsWith('\uFEFF') ? message : `\uFEFF${message}`;
}
