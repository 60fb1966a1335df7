import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RelpProtocolError } from '../../src/errors.js';
import {
  MAX_TXNR,
  RelpFrameParser,
  encodeFrame,
  nextTxnr,
  parseOffers,
  parseResponse,
} from '../../src/transport/relp-frame.js';

test('nextTxnr - wraps from 999999999 to 1', () => {
  assert.equal(nextTxnr(1), 2);
  assert.equal(nextTxnr(MAX_TXNR - 1), MAX_TXNR);
  assert.equal(nextTxnr(MAX_TXNR), 1);
});

test('encodeFrame - counts DATALEN in UTF-8 bytes', () => {
  assert.equal(encodeFrame(7, 'syslog', 'é€😀').toString('utf8'), '7 syslog 9 é€😀\n');
  assert.equal(encodeFrame(12, 'close').toString('utf8'), '12 close 0\n');
  assert.equal(encodeFrame(MAX_TXNR, 'syslog', 'x').toString('utf8'), '999999999 syslog 1 x\n');
});

test('RelpFrameParser - parses frames split at every byte', () => {
  const stream = Buffer.concat([
    encodeFrame(1, 'rsp', '200 OK\nrelp_version=0\ncommands=syslog'),
    encodeFrame(2, 'rsp', '200 OK'),
    encodeFrame(3, 'rsp'),
    encodeFrame(0, 'serverclose'),
    encodeFrame(4, 'rsp', 'ü\n\n'),
  ]);
  const expected = [
    { txnr: 1, command: 'rsp', data: '200 OK\nrelp_version=0\ncommands=syslog' },
    { txnr: 2, command: 'rsp', data: '200 OK' },
    { txnr: 3, command: 'rsp', data: '' },
    { txnr: 0, command: 'serverclose', data: '' },
    { txnr: 4, command: 'rsp', data: 'ü\n\n' },
  ];

  for (const chunkSize of [1, 2, 3, 7, stream.length]) {
    const parser = new RelpFrameParser();
    const frames = [];
    for (let offset = 0; offset < stream.length; offset += chunkSize) {
      const result = parser.push(stream.subarray(offset, offset + chunkSize));
      assert.equal(result.error, undefined, `chunk size ${chunkSize}`);
      frames.push(...result.frames);
    }
    const decoded = frames.map((frame) => ({ txnr: frame.txnr, command: frame.command, data: frame.data.toString('utf8') }));
    assert.deepEqual(decoded, expected, `chunk size ${chunkSize}`);
  }
});

test('RelpFrameParser - rejects frames that break the grammar', () => {
  const cases: Array<[string, string | Buffer, RegExp]> = [
    ['letter in TXNR', '1a rsp 0\n', /expected a space after TXNR/],
    ['missing TXNR', ' rsp 0\n', /expected a digit of TXNR/],
    ['TXNR of 10 digits', '1234567890 rsp 0\n', /TXNR has more than 9 digits/],
    ['digit in COMMAND', '1 rsp2 0\n', /expected a space after COMMAND/],
    ['empty COMMAND', '1  0\n', /expected a letter of COMMAND/],
    ['COMMAND of 33 letters', `1 ${'a'.repeat(33)} 0\n`, /COMMAND has more than 32 letters/],
    ['DATALEN of 10 digits', '1 rsp 1234567890 x\n', /DATALEN has more than 9 digits/],
    ['space after DATALEN 0', '1 rsp 0 \n', /expected LF after DATALEN 0/],
    ['no space before data', '1 rsp 6x200 OK\n', /expected a space after DATALEN/],
    ['data longer than DATALEN', '1 rsp 2 200\n', /expected LF after 2 bytes of data/],
    ['CR LF trailer', '1 rsp 3 200\r\n', /expected LF after 3 bytes of data/],
  ];
  for (const [name, input, message] of cases) {
    const { frames, error } = new RelpFrameParser().push(Buffer.from(input));
    assert.deepEqual(frames, [], name);
    assert.ok(error instanceof RelpProtocolError, `${name}: no RelpProtocolError`);
    assert.match(error.message, message, name);
  }
});

test('RelpFrameParser - keeps frames before an invalid one', () => {
  const parser = new RelpFrameParser();
  const first = parser.push(Buffer.from('2 rsp 6 200 OK\n3 rsp 6 200 OKX\n'));
  assert.deepEqual(first.frames.map((frame) => frame.txnr), [2]);
  assert.match(first.error?.message ?? '', /expected LF after 6 bytes of data/);

  const later = parser.push(Buffer.from('4 rsp 6 200 OK\n'));
  assert.deepEqual(later.frames, [], 'a broken stream yields no more frames');
  assert.equal(later.error, first.error);
});

test('RelpFrameParser - rejects data over its limit', () => {
  const { error } = new RelpFrameParser(10).push(Buffer.from('5 rsp 11 '));
  assert.match(error?.message ?? '', /announces 11 bytes of data, more than the limit of 10/);
});

test('RelpFrameParser - waits for an incomplete frame', () => {
  const parser = new RelpFrameParser();
  assert.deepEqual(parser.push(Buffer.from('12 rsp 6 200 O')), { frames: [] });
  const [frame] = parser.push(Buffer.from('K\n')).frames;
  assert.equal(frame.txnr, 12);
  assert.equal(frame.data.toString(), '200 OK');
});

test('parseResponse - splits status, text and body', () => {
  assert.deepEqual(parseResponse(Buffer.from('200 OK')), { status: 200, text: 'OK', body: '' });
  assert.deepEqual(parseResponse(Buffer.from('500 error 3 on connect')), { status: 500, text: 'error 3 on connect', body: '' });
  assert.deepEqual(parseResponse(Buffer.from('200 OK\nrelp_version=0\n')), { status: 200, text: 'OK', body: 'relp_version=0\n' });
  assert.deepEqual(parseResponse(Buffer.from('200')), { status: 200, text: '', body: '' });
  assert.throws(() => parseResponse(Buffer.from('OK')), RelpProtocolError);
  assert.throws(() => parseResponse(Buffer.from('20 OK')), RelpProtocolError);
  assert.throws(() => parseResponse(Buffer.alloc(0)), RelpProtocolError);
});

test('parseOffers - reads names and comma-separated values', () => {
  const offers = parseOffers('relp_version=0\nrelp_software=librelp,1.11.0,http://librelp.adiscon.com\ncommands=syslog\n\nflag');
  assert.deepEqual(offers.get('relp_version'), ['0']);
  assert.deepEqual(offers.get('relp_software'), ['librelp', '1.11.0', 'http://librelp.adiscon.com']);
  assert.deepEqual(offers.get('commands'), ['syslog']);
  assert.deepEqual(offers.get('flag'), []);
  assert.equal(offers.size, 4);
});
