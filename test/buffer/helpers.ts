import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EventQueue, QueueRecord } from '../../src/buffer/index.js';

/** Creates an empty temporary directory; `remove` deletes it with its content. */
export async function makeTempDirectory(prefix = 'disk-buffer-'): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** Reads every unread record in batches of `batchRecords`. */
export function readAll(queue: EventQueue, batchRecords = 100): QueueRecord[] {
  const records: QueueRecord[] = [];
  for (;;) {
    const batch = queue.read(batchRecords, Number.MAX_SAFE_INTEGER);
    if (batch.length === 0) return records;
    records.push(...batch);
  }
}

/** Resolves after the current event-loop turn, when a DiskBuffer has written its pending batch. */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Returns a payload of exactly `bytes` ASCII bytes that starts with `label`. */
export function payloadOf(label: string, bytes: number): string {
  return label.length >= bytes ? label.slice(0, bytes) : label + '.'.repeat(bytes - label.length);
}

/** Deterministic PRNG (mulberry32), so a failing randomized run can be replayed from its seed. */
export function createRandom(seed: number): { next: () => number; integer: (min: number, max: number) => number } {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, integer: (min, max) => min + Math.floor(next() * (max - min + 1)) };
}
