import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MessageFormatter, byteLength } from '../../src/format/index.js';
import { F5424, F5424_HEADER } from './fixtures.js';

const BOM = '\uFEFF';

test('RFC 5424 - fixture header is 66 bytes', () => {
  const output = new MessageFormatter(F5424).format('E2');
  assert.equal(output, '<14>1 2024-03-07T09:05:03.000Z host1.example.com billing 4242 - - E2');
  assert.equal(byteLength(F5424_HEADER), 66);
  assert.equal(byteLength(output), 68);
});

test('RFC 5424 - writes NILVALUE for empty SD', () => {
  const output = new MessageFormatter(F5424).format({ message: 'hello' });
  assert.equal(output, '<14>1 2024-03-07T09:05:03.000Z host1.example.com billing 4242 - - hello');
  assert.equal(byteLength(output), 71);
});

test('RFC 5424 - empty MSG has no trailing space', () => {
  const formatter = new MessageFormatter(F5424);
  const expected = '<14>1 2024-03-07T09:05:03.000Z host1.example.com billing 4242 - -';
  assert.equal(formatter.format({ message: '' }), expected);
  assert.equal(formatter.format({}), expected);
  assert.equal(formatter.format(''), expected);
});

test('RFC 5424 - empty MSG gets no BOM even with always', () => {
  const formatter = new MessageFormatter({ ...F5424, bom: 'always' });
  assert.equal(formatter.format(''), '<14>1 2024-03-07T09:05:03.000Z host1.example.com billing 4242 - -');
});

test('RFC 5424 - string input is the MSG', () => {
  const formatter = new MessageFormatter(F5424);
  assert.equal(formatter.format('card declined'), formatter.format({ message: 'card declined' }));
});

test('RFC 5424 - BOM auto for non-ASCII MSG', () => {
  const output = new MessageFormatter(F5424).format({ message: 'Grüße' });
  assert.equal(output, `<14>1 2024-03-07T09:05:03.000Z host1.example.com billing 4242 - - ${BOM}Grüße`);

  const bytes = Buffer.from(output, 'utf8');
  assert.equal(bytes[0], 0x3c);
  assert.deepEqual([...bytes.subarray(64)], [0x2d, 0x20, 0xef, 0xbb, 0xbf, 0x47, 0x72, 0xc3, 0xbc, 0xc3, 0x9f, 0x65]);
  assert.equal(bytes.length, 76);
  assert.equal(output.includes('BOM'), false);
});

test('RFC 5424 - BOM auto leaves ASCII MSG alone', () => {
  const output = new MessageFormatter(F5424).format({ message: 'hello' });
  assert.equal(output, `${F5424_HEADER}hello`);
});

test('RFC 5424 - BOM always and never', () => {
  const always = new MessageFormatter({ ...F5424, bom: 'always' });
  assert.equal(always.format('hello'), `${F5424_HEADER}${BOM}hello`);
  assert.equal(always.format('Grüße'), `${F5424_HEADER}${BOM}Grüße`);

  const never = new MessageFormatter({ ...F5424, bom: 'never' });
  assert.equal(never.format('hello'), `${F5424_HEADER}hello`);
  assert.equal(never.format('Grüße'), `${F5424_HEADER}Grüße`);
});

test('RFC 5424 - MSG that starts with a BOM keeps only one', () => {
  assert.equal(new MessageFormatter(F5424).format(`${BOM}Grüße`), `${F5424_HEADER}${BOM}Grüße`);
  assert.equal(new MessageFormatter({ ...F5424, bom: 'always' }).format(`${BOM}hi`), `${F5424_HEADER}${BOM}hi`);
  assert.equal(new MessageFormatter({ ...F5424, bom: 'never' }).format(`${BOM}Grüße`), `${F5424_HEADER}Grüße`);
});

test('RFC 5424 - BOM sits after the SP that follows SD', () => {
  const output = new MessageFormatter(F5424).format({
    message: 'Grüße',
    structuredData: { 'tags@32473': { a: 'b' } },
  });
  assert.equal(output, `<14>1 2024-03-07T09:05:03.000Z host1.example.com billing 4242 - [tags@32473 a="b"] ${BOM}Grüße`);
});

test('RFC 5424 - replaces spaces and non-ASCII in header fields', () => {
  const formatter = new MessageFormatter({ ...F5424, hostname: 'Core Router', appName: 'WAN Connection' });
  assert.equal(formatter.format('x'), '<14>1 2024-03-07T09:05:03.000Z Core_Router WAN_Connection 4242 - - x');

  const german = new MessageFormatter({ ...F5424, appName: 'Überwachung' });
  assert.equal(german.format('x'), '<14>1 2024-03-07T09:05:03.000Z host1.example.com _berwachung 4242 - - x');
});

test('RFC 5424 - replaces every byte outside 33..126 in each field', () => {
  const formatter = new MessageFormatter(F5424);
  const output = formatter.format({
    hostname: 'a\tb',
    appName: 'x\u007fy',
    procId: 'p q',
    msgId: 'm\u0000n😀',
    message: 'x',
  });
  assert.equal(output, '<14>1 2024-03-07T09:05:03.000Z a_b x_y p_q m_n_ - x');
});

test('RFC 5424 - replacement character is configurable', () => {
  const formatter = new MessageFormatter({ ...F5424, hostname: 'Core Router', replacementChar: '-' });
  assert.equal(formatter.format('x'), '<14>1 2024-03-07T09:05:03.000Z Core-Router billing 4242 - - x');
});

test('RFC 5424 - sends an IDN hostname as punycode', () => {
  const formatter = new MessageFormatter({ ...F5424, hostname: 'überwachung.example.com' });
  assert.equal(formatter.format('x'), '<14>1 2024-03-07T09:05:03.000Z xn--berwachung-8db.example.com billing 4242 - - x');
  assert.equal(
    new MessageFormatter(F5424).format({ hostname: 'überwachung.example.com', message: 'x' }),
    '<14>1 2024-03-07T09:05:03.000Z xn--berwachung-8db.example.com billing 4242 - - x',
  );
});

test('RFC 5424 - writes an IPv6 hostname without brackets', () => {
  const plain = new MessageFormatter({ ...F5424, hostname: '2001:db8::2' });
  assert.equal(plain.format('x'), '<14>1 2024-03-07T09:05:03.000Z 2001:db8::2 billing 4242 - - x');
  const bracketed = new MessageFormatter({ ...F5424, hostname: '[2001:db8::2]' });
  assert.equal(bracketed.format('x'), '<14>1 2024-03-07T09:05:03.000Z 2001:db8::2 billing 4242 - - x');
});

test('RFC 5424 - cuts header fields to their limits', () => {
  const longName = 'payments-api_worker.3.k2j4h5g6f7d8s9a0q1w2e3r4t5y6';
  assert.equal(longName.length, 50);
  const formatter = new MessageFormatter({
    ...F5424,
    appName: longName,
    msgId: longName,
    procId: '1'.repeat(200),
    hostname: 'h'.repeat(300),
  });
  const output = formatter.format('x');
  const expected =
    `<14>1 2024-03-07T09:05:03.000Z ${'h'.repeat(255)} payments-api_worker.3.k2j4h5g6f7d8s9a0q1w2e3r4t5 ` +
    `${'1'.repeat(128)} payments-api_worker.3.k2j4h5g6f7 - x`;
  assert.equal(output, expected);
  assert.equal(formatter.counters.fieldsTruncated, 4);

  assert.equal(formatter.format('y'), `${expected.slice(0, -1)}y`);
  assert.equal(formatter.counters.fieldsTruncated, 8);
});

test('RFC 5424 - cuts event header fields and counts them', () => {
  const formatter = new MessageFormatter(F5424);
  const output = formatter.format({ appName: 'a'.repeat(49), msgId: 'm'.repeat(33), message: 'x' });
  assert.equal(output, `<14>1 2024-03-07T09:05:03.000Z host1.example.com ${'a'.repeat(48)} 4242 ${'m'.repeat(32)} - x`);
  assert.equal(formatter.counters.fieldsTruncated, 2);
  formatter.format('x');
  assert.equal(formatter.counters.fieldsTruncated, 2);
});

test('RFC 5424 - empty header field becomes NILVALUE', () => {
  const formatter = new MessageFormatter({ ...F5424, hostname: '', appName: '', procId: '' });
  assert.equal(formatter.format('x'), '<14>1 2024-03-07T09:05:03.000Z - - - - - x');
  assert.equal(new MessageFormatter(F5424).format({ appName: '', message: 'x' }), '<14>1 2024-03-07T09:05:03.000Z host1.example.com - 4242 - - x');
});

test('RFC 5424 - event fields override and then fall back', () => {
  const formatter = new MessageFormatter(F5424);
  assert.equal(
    formatter.format({ hostname: 'web 2', appName: 'api', procId: 7, msgId: 'LOGIN', message: 'x' }),
    '<14>1 2024-03-07T09:05:03.000Z web_2 api 7 LOGIN - x',
  );
  assert.equal(
    formatter.format({ hostname: 'web 2', appName: 'api', procId: 7, msgId: 'LOGIN', message: 'y' }),
    '<14>1 2024-03-07T09:05:03.000Z web_2 api 7 LOGIN - y',
  );
  assert.equal(formatter.format({ procId: 4242, message: 'x' }), `${F5424_HEADER}x`);
  assert.equal(formatter.format('x'), `${F5424_HEADER}x`);
});

test('RFC 5424 - MSG passes through unchanged', () => {
  const message = 'tab\there, LF\nthere, NUL\u0000, quote " and ] kept';
  assert.equal(new MessageFormatter(F5424).format(message), `${F5424_HEADER}${message}`);
});

test('RFC 5424 - default options fill every header field', () => {
  const output = new MessageFormatter().format('x');
  const fields = output.split(' ');
  assert.match(fields[0], /^<14>1$/);
  assert.match(fields[1], /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  assert.match(fields[2], /^[!-~]{1,255}$/);
  assert.match(fields[3], /^[!-~]{1,48}$/);
  assert.equal(fields[4], String(process.pid));
  assert.equal(fields[5], '-');
  assert.equal(fields[6], '-');
  assert.equal(fields[7], 'x');
});
