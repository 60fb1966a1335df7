import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { crc32c } from '../../src/buffer/crc32c.js';
import { createCrcArena } from '../../src/buffer/crc32c-wasm.js';
import { createRandom } from './helpers.js';

/** Bit-at-a-time CRC-32C, the definition the table version must match. */
function referenceCrc32c(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit += 1) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return ~crc >>> 0;
}

describe('crc32c', () => {
  // Published CRC-32C check values for fixed inputs; the bitwise reference above gives them too.
  const vectors: Array<{ name: string; data: Uint8Array; crc: number }> = [
    { name: '"123456789"', data: Buffer.from('123456789'), crc: 0xe3069283 },
    { name: '32 zero bytes', data: new Uint8Array(32), crc: 0x8a9136aa },
    { name: '32 bytes of 0xff', data: new Uint8Array(32).fill(0xff), crc: 0x62a8ab43 },
    { name: 'bytes 0 to 31', data: Uint8Array.from({ length: 32 }, (_, index) => index), crc: 0x46dd794e },
    { name: 'bytes 31 to 0', data: Uint8Array.from({ length: 32 }, (_, index) => 31 - index), crc: 0x113fdb5c },
  ];
  for (const { name, data, crc } of vectors) {
    test(`matches the known value for ${name}`, () => {
      assert.equal(crc32c(data), crc);
    });
  }

  test('matches the bitwise definition at every length', () => {
    const data = Uint8Array.from({ length: 300 }, (_, index) => (index * 2654435761) >>> 13);
    for (let start = 0; start < 20; start += 1) {
      for (let end = start; end <= data.length; end += 1) {
        assert.equal(crc32c(data, 0, start, end), referenceCrc32c(data.subarray(start, end)), `bytes ${start} to ${end}`);
      }
    }
  });

  test('continues a checksum across calls', () => {
    const data = Buffer.from('a record split in two parts, at every offset');
    for (let split = 0; split <= data.length; split += 1) {
      assert.equal(crc32c(data, crc32c(data, 0, 0, split), split), crc32c(data));
    }
  });
});

describe('createCrcArena', () => {
  test('matches crc32c at every length and offset', () => {
    const arena = createCrcArena(4096);
    assert.ok(arena !== null, 'WebAssembly is available in the test runtime');
    for (let index = 0; index < 1024; index += 1) arena.bytes[index] = (index * 2654435761) >>> 13;
    for (let start = 0; start < 24; start += 1) {
      for (let length = 0; length <= 300; length += 1) {
        const expected = crc32c(arena.bytes, 7, start, start + length);
        assert.equal(arena.crc(start, length, 7), expected, `bytes ${start} to ${start + length}`);
      }
    }
  });

  test('matches crc32c at random lengths, offsets and seeds', () => {
    const random = createRandom(0x32c);
    const arena = createCrcArena(4096);
    assert.ok(arena !== null, 'WebAssembly is available in the test runtime');
    for (let index = 0; index < arena.bytes.length; index += 1) arena.bytes[index] = random.integer(0, 255);
    for (let trial = 0; trial < 5000; trial += 1) {
      const start = random.integer(0, 3400);
      const length = random.integer(0, 600);
      const seed = random.integer(0, 0xffffffff);
      const expected = crc32c(arena.bytes, seed, start, start + length);
      assert.equal(arena.crc(start, length, seed), expected, `start ${start}, length ${length}, seed ${seed}`);
    }
  });

  test('matches the known value at every alignment', () => {
    const arena = createCrcArena(64);
    assert.ok(arena !== null, 'WebAssembly is available in the test runtime');
    for (let start = 0; start < 20; start += 1) {
      arena.bytes.fill(0xa5);
      arena.bytes.write('123456789', start, 'ascii');
      assert.equal(arena.crc(start, 9, 0), 0xe3069283, `"123456789" at offset ${start}`);
    }
  });

  test('gives each arena its own memory', () => {
    const first = createCrcArena(64);
    const second = createCrcArena(64);
    assert.ok(first !== null, 'first arena');
    assert.ok(second !== null, 'second arena');
    first.bytes.write('123456789');
    second.bytes.fill(0);
    assert.equal(first.crc(0, 9, 0), 0xe3069283);
    assert.equal(second.crc(0, 9, 0), crc32c(new Uint8Array(9)));
  });
});
