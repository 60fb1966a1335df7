import { Buffer } from 'node:buffer';
/**
 * Size of a pooled chunk buffer: room for an ASCII chunk of 48 K characters plus one record of up
 * to about 16 KiB. `FrameBatch` allocates a longer chunk, or a UTF-8 one, on its own.
 */
export const POOLED_CHUNK_BYTES = 64 * 1024;

/** Most free buffers kept: 4 MiB, while a full replay window holds up to 16 MiB of chunks in use. */
const MAX_FREE_BUFFERS = 64;

const free: Buffer[] = [];

/**
 * Returns a buffer of `POOLED_CHUNK_BYTES` for an encoded chunk, reused when one is free.
 *
 * Each chunk that a stream connection writes stays in its replay window until it is confirmed,
 * outside the JavaScript heap. Allocated anew for every write and freed at the same rate, that
 * memory made V8 start full collections: `node --trace-gc --import tsx
 * benchmarks/compare/send-path.ts --events=400000 --rounds=2` showed 7 mark-compacts without the
 * pool and 2 with it.
 */
export function takeChunkBuffer(): Buffer {
  return free.pop() ?? Buffer.allocUnsafeSlow(POOLED_CHUNK_BYTES);
}

/**
 * Gives a buffer from `takeChunkBuffer` back. The caller must not read it afterwards: only a
 * buffer whose write completed and whose records can no longer be replayed may come back.
 */
export function giveChunkBuffer(buffer: Buffer): void {
  if (free.length < MAX_FREE_BUFFERS) free.push(buffer);
}
