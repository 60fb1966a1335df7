import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DiskBuffer } from '../../src/buffer/index.js';
import { makeTempDirectory, readAll } from './helpers.js';

interface WebAssemblyInstanceSlot {
  Instance: unknown;
}

// Expected: the constructor throws only InvalidOptionError, and the buffer falls back to the
// JavaScript CRC-32C whenever the WebAssembly one is not available, as it does under
// `node --jitless` (docs/disk-buffer.md, On-disk format).
// V8 throws from `new WebAssembly.Instance()` once the process has reserved its address space for
// Wasm memories: on Node.js 20.20 (Linux x64) the 12,944th DiskBuffer alive in one process met
// "WebAssembly.Instance(): Out of memory: Cannot allocate Wasm memory for new instance". This test
// makes the instance fail without that cost.
test('constructor survives a failed Wasm instance', async () => {
  const webAssembly = (globalThis as unknown as { WebAssembly: WebAssemblyInstanceSlot }).WebAssembly;
  const realInstance = webAssembly.Instance;
  const directory = await makeTempDirectory();
  let buffer: DiskBuffer | undefined;
  try {
    webAssembly.Instance = function failingInstance(): never {
      throw new RangeError('WebAssembly.Instance(): Out of memory: Cannot allocate Wasm memory for new instance');
    };
    assert.doesNotThrow(() => {
      buffer = new DiskBuffer({ directory: directory.path });
    });
    webAssembly.Instance = realInstance;

    assert.ok(buffer !== undefined);
    await buffer.open();
    buffer.push('record 1', 0);
    await buffer.flush();
    assert.deepEqual(
      readAll(buffer).map((record) => record.payload),
      ['record 1'],
    );
  } finally {
    webAssembly.Instance = realInstance;
    await buffer?.close();
    await directory.remove();
  }
});
