import assert from 'node:assert/strict';
import { test } from 'node:test';
import { byteLength, truncateUtf8 } from '../../src/format/index.js';

test('truncateUtf8 - returns short text unchanged', () => {
  assert.equal(truncateUtf8('hello', 5), 'hello');
  assert.equal(truncateUtf8('hello', 100), 'hello');
  assert.equal(truncateUtf8('', 0), '');
  assert.equal(truncateUtf8('Grüße', 7), 'Grüße');
});

test('truncateUtf8 - cuts ASCII at the byte limit', () => {
  assert.equal(truncateUtf8('hello', 3), 'hel');
  assert.equal(truncateUtf8('hello', 0), '');
});

test('truncateUtf8 - keeps multi-byte characters whole', () => {
  // 'ü' and 'ß' are 2 bytes, '€' is 3 bytes.
  assert.equal(truncateUtf8('Grüße', 3), 'Gr');
  assert.equal(truncateUtf8('Grüße', 4), 'Grü');
  assert.equal(truncateUtf8('Grüße', 5), 'Grü');
  assert.equal(truncateUtf8('€€', 5), '€');
  assert.equal(truncateUtf8('€€', 2), '');
});

test('truncateUtf8 - keeps surrogate pairs whole', () => {
  assert.equal(truncateUtf8('a😀b', 4), 'a');
  assert.equal(truncateUtf8('a😀b', 5), 'a😀');
});

test('truncateUtf8 - counts a lone surrogate as 3 bytes', () => {
  assert.equal(byteLength('\uD800'), 3);
  assert.equal(truncateUtf8('a\uD800b', 3), 'a');
  assert.equal(truncateUtf8('a\uD800b', 4), 'a\uD800');
  assert.equal(truncateUtf8('a\uDC00b', 4), 'a\uDC00');
});

test('truncateUtf8 - result never exceeds the limit', () => {
  const text = 'aü€😀\uFEFF中\uD800'.repeat(50);
  for (let maxBytes = 0; maxBytes <= byteLength(text); maxBytes++) {
    const cut = truncateUtf8(text, maxBytes);
    assert.ok(byteLength(cut) <= maxBytes, String(maxBytes));
    assert.ok(byteLength(cut) > maxBytes - 4, String(maxBytes));
    assert.ok(text.startsWith(cut), String(maxBytes));
  }
});

test('truncateUtf8 - rejects an invalid limit', () => {
  assert.throws(() => truncateUtf8('abc', -1), RangeError);
  assert.throws(() => truncateUtf8('abc', 1.5), RangeError);
  assert.throws(() => truncateUtf8('abc', Number.NaN), RangeError);
});

test('byteLength - counts UTF-8 bytes', () => {
  assert.equal(byteLength(''), 0);
  assert.equal(byteLength('abc'), 3);
  assert.equal(byteLength('\uFEFF'), 3);
  assert.equal(byteLength('Grüße'), 7);
  assert.equal(byteLength('😀'), 4);
});
