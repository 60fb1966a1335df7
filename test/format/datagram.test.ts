import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  MessageFormatter,
  UDP_MAX_PAYLOAD_IPV4,
  UDP_MAX_PAYLOAD_IPV6,
  UDP_SIZE_PRESETS,
  byteLength,
  encodeDatagram,
} from '../../src/format/index.js';
import { F3164, F5424, F5424_HEADER } from './fixtures.js';

function encode(payload: string, maxBytes: number): { datagram: Buffer; truncated: boolean } {
  return encodeDatagram(payload, byteLength(payload), maxBytes);
}

test('UDP - size limits', () => {
  assert.equal(UDP_MAX_PAYLOAD_IPV4, 65_535 - 20 - 8);
  assert.equal(UDP_MAX_PAYLOAD_IPV6, 65_535 - 8);
  assert.deepEqual(UDP_SIZE_PRESETS, { ipv4Minimum: 480, ipv6Minimum: 1180, recommended: 2048 });
});

test('UDP - datagram is the message with no trailer', () => {
  const payload = new MessageFormatter(F3164).format('started');
  const { datagram, truncated } = encode(payload, UDP_SIZE_PRESETS.recommended);
  assert.equal(datagram.toString('utf8'), '<14>Mar  7 09:05:03 host1 billing[4242]: started');
  assert.equal(datagram.length, 48);
  assert.equal(datagram[datagram.length - 1], 0x64);
  assert.equal(datagram.includes(0x00), false);
  assert.equal(datagram.includes(0x0d), false);
  assert.equal(datagram.includes(0x0a), false);
  assert.equal(truncated, false);
});

test('UDP - keeps embedded LF', () => {
  const payload = new MessageFormatter(F5424).format('Error: boom\n    at f (a.js:1:1)');
  const { datagram } = encode(payload, UDP_SIZE_PRESETS.recommended);
  assert.equal(datagram.toString('utf8'), `${F5424_HEADER}Error: boom\n    at f (a.js:1:1)`);
});

test('UDP - oversize message cut to the IPv4 limit', () => {
  const formatter = new MessageFormatter(F5424);
  const payload = formatter.format('x'.repeat(70_000));
  assert.equal(byteLength(payload), 65_536);
  assert.equal(formatter.counters.truncated, 1);

  const { datagram, truncated } = encode(payload, UDP_MAX_PAYLOAD_IPV4);
  assert.equal(truncated, true);
  assert.equal(datagram.length, 65_507);
  assert.equal(datagram.toString('utf8'), payload.slice(0, 65_507));
});

test('UDP - oversize message cut to the IPv6 limit', () => {
  const payload = new MessageFormatter(F5424).format('x'.repeat(70_000));
  const { datagram, truncated } = encode(payload, UDP_MAX_PAYLOAD_IPV6);
  assert.equal(truncated, true);
  assert.equal(datagram.length, 65_527);
});

test('UDP - RFC 3164 message within the default cap', () => {
  const payload = new MessageFormatter(F3164).format('x'.repeat(70_000));
  assert.equal(byteLength(payload), 1024);
  const { datagram, truncated } = encode(payload, UDP_MAX_PAYLOAD_IPV4);
  assert.equal(datagram.length, 1024);
  assert.equal(truncated, false);
});

test('UDP - huge message and burst fit', () => {
  const formatter = new MessageFormatter({ ...F5424, maxMessageBytes: 400_000 });
  const huge = formatter.format('y'.repeat(300_000));
  assert.equal(encode(huge, UDP_MAX_PAYLOAD_IPV4).datagram.length, UDP_MAX_PAYLOAD_IPV4);

  for (let index = 0; index < 100; index++) {
    const payload = formatter.format('z'.repeat(60_000 + index * 100));
    const { datagram } = encode(payload, UDP_MAX_PAYLOAD_IPV4);
    assert.ok(datagram.length <= UDP_MAX_PAYLOAD_IPV4, `message ${index}`);
    assert.ok(datagram.toString('utf8').startsWith(F5424_HEADER), `message ${index}`);
  }
  const small = encode(formatter.format('E1'), UDP_MAX_PAYLOAD_IPV4);
  assert.equal(small.datagram.toString('utf8'), `${F5424_HEADER}E1`);
  assert.equal(small.truncated, false);
});

test('UDP - cut respects UTF-8 boundaries', () => {
  const payload = `${F5424_HEADER}\uFEFF${'€'.repeat(1000)}`;
  for (const maxBytes of [UDP_SIZE_PRESETS.ipv4Minimum, UDP_SIZE_PRESETS.ipv6Minimum, UDP_SIZE_PRESETS.recommended]) {
    const { datagram, truncated } = encode(payload, maxBytes);
    assert.equal(truncated, true);
    assert.ok(datagram.length <= maxBytes, String(maxBytes));
    assert.ok(datagram.length > maxBytes - 3, String(maxBytes));
    const text = datagram.toString('utf8');
    assert.equal(text.includes('\uFFFD'), false, String(maxBytes));
    assert.equal(Buffer.byteLength(text), datagram.length, String(maxBytes));
  }
});
