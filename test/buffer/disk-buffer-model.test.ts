import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { test } from 'node:test';
import { DiskBuffer, type DiskBufferFs, type FsyncMode } from '../../src/buffer/index.js';
import { createRandom, makeTempDirectory, nextTurn } from './helpers.js';

/** Set DISK_BUFFER_SEED to replay one run; otherwise RUNS seeds from a fixed base run. */
const REPLAY_SEED = process.env.DISK_BUFFER_SEED === undefined ? null : Number(process.env.DISK_BUFFER_SEED);
const RUNS = Number(process.env.DISK_BUFFER_RUNS ?? 40);
const OPERATIONS_PER_RUN = 300;
const CHARACTERS = ['a', 'b', 'z', '0', ' ', '-', 'é', '✓', '😀'];

interface ModelRecord {
  id: number;
  payload: string;
  bytes: number;
}

/**
 * A `node:fs` wrapper that can simulate the death of the process that uses it: `kill()` closes
 * every descriptor it opened and makes every later call fail, so an abandoned DiskBuffer can
 * neither write nor hold files open.
 */
function createKillableFs(): { fs: DiskBufferFs; kill: () => void } {
  const descriptors = new Set<number>();
  let dead = false;
  const check = (): void => {
    if (dead) throw Object.assign(new Error('EBADF: the simulated process is dead'), { code: 'EBADF' });
  };
  const killable: DiskBufferFs = {
    openSync(path, flags, mode) {
      check();
      const fd = fs.openSync(path, flags, mode);
      descriptors.add(fd);
      return fd;
    },
    closeSync(fd) {
      check();
      descriptors.delete(fd);
      fs.closeSync(fd);
    },
    readSync(fd, buffer, offset, length, position) {
      check();
      return fs.readSync(fd, buffer, offset, length, position);
    },
    writeSync(fd, buffer, offset, length, position) {
      check();
      return fs.writeSync(fd, buffer, offset, length, position);
    },
    fsync(fd, callback) {
      check();
      fs.fsync(fd, callback);
    },
    fsyncSync(fd) {
      check();
      fs.fsyncSync(fd);
    },
    ftruncateSync(fd, length) {
      check();
      fs.ftruncateSync(fd, length);
    },
    statSync(path) {
      check();
      return fs.statSync(path);
    },
    readdirSync(path) {
      check();
      return fs.readdirSync(path);
    },
    mkdirSync(path, options) {
      check();
      return fs.mkdirSync(path, options);
    },
    unlinkSync(path) {
      check();
      fs.unlinkSync(path);
    },
  };
  const kill = (): void => {
    dead = true;
    for (const fd of descriptors) fs.closeSync(fd);
    descriptors.clear();
  };
  return { fs: killable, kill };
}

async function runModel(seed: number): Promise<void> {
  const random = createRandom(seed);
  const directory = await makeTempDirectory('disk-buffer-model-');
  const segmentBytes = [320, 1024, 4096][random.integer(0, 2)];
  const fsyncMode: FsyncMode = (['never', 'never', 'interval', 'batch'] as const)[random.integer(0, 3)];
  let killable = createKillableFs();
  let current: DiskBuffer | null = null;

  const openBuffer = async (): Promise<DiskBuffer> => {
    killable = createKillableFs();
    const opened = new DiskBuffer({
      directory: directory.path,
      maxBytes: 16 * 1024 * 1024,
      segmentBytes,
      fsync: fsyncMode,
      fsyncIntervalMs: 5,
      fs: killable.fs,
    });
    // An abandoned buffer reports its failing calls; only the current one must stay quiet.
    opened.on('warning', (warning) => {
      if (opened === current) warnings.push(warning.message);
    });
    current = opened;
    await opened.open();
    return opened;
  };

  const randomPayload = (): string => {
    const length = random.integer(0, random.next() < 0.1 ? 60 : 12);
    let payload = '';
    for (let index = 0; index < length; index += 1) payload += CHARACTERS[random.integer(0, CHARACTERS.length - 1)];
    return payload;
  };

  /** Unacknowledged records in order; the first `readCount` were returned by read since the last open. */
  let model: ModelRecord[] = [];
  let readCount = 0;
  let lastId = 0;
  const warnings: string[] = [];
  let buffer = await openBuffer();
  const log: string[] = [];

  const checkCounts = (step: string): void => {
    assert.equal(buffer.stats().records, model.length, `${step}: stats().records`);
    assert.equal(
      buffer.stats().bytes,
      model.reduce((sum, record) => sum + record.bytes, 0),
      `${step}: stats().bytes`,
    );
    assert.equal(buffer.unread, model.length - readCount, `${step}: unread`);
    assert.deepEqual(warnings, [], `${step}: warnings`);
  };

  try {
    for (let operation = 0; operation < OPERATIONS_PER_RUN; operation += 1) {
      const dice = random.next();
      const step = `operation ${operation}`;
      assert.deepEqual(warnings, [], `before ${step}: warnings`);
      if (dice < 0.4) {
        const count = random.integer(1, 8);
        for (let index = 0; index < count; index += 1) {
          const payload = randomPayload();
          const id = buffer.push(payload, Buffer.byteLength(payload));
          assert.ok(id > lastId, `${step}: id ${id} after ${lastId}`);
          lastId = id;
          model.push({ id, payload, bytes: Buffer.byteLength(payload) });
        }
        log.push(`push ${count}`);
      } else if (dice < 0.65) {
        const maxRecords = random.integer(1, 20);
        const maxBytes = random.integer(1, 200);
        const expected: ModelRecord[] = [];
        let total = 0;
        for (const record of model.slice(readCount)) {
          if (expected.length >= maxRecords || (expected.length > 0 && total + record.bytes > maxBytes)) break;
          expected.push(record);
          total += record.bytes;
        }
        readCount += expected.length;
        log.push(`read ${maxRecords} ${maxBytes}`);
        assert.deepEqual(buffer.read(maxRecords, maxBytes), expected, `${step}: read(${maxRecords}, ${maxBytes})`);
      } else if (dice < 0.8) {
        if (readCount === 0) continue;
        const id = random.next() < 0.1 ? lastId + 5 : model[random.integer(0, readCount - 1)].id;
        const effective = Math.min(id, model[readCount - 1].id);
        const removed = model.filter((record) => record.id <= effective).length;
        model = model.slice(removed);
        readCount -= removed;
        buffer.ack(id);
        log.push(`ack ${id}`);
      } else if (dice < 0.9) {
        await nextTurn();
        log.push('turn');
      } else if (dice < 0.95) {
        await buffer.close();
        buffer = await openBuffer();
        readCount = 0;
        log.push('reopen');
        checkCounts(`${step} after reopen`);
      } else {
        // Let the batch and the metadata reach the page cache, then abandon the buffer as a killed process would.
        await nextTurn();
        killable.kill();
        buffer = await openBuffer();
        readCount = 0;
        log.push('crash');
        checkCounts(`${step} after crash`);
      }
    }
    checkCounts('end');
    await buffer.close();
  } catch (error) {
    killable.kill();
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(
      `seed ${seed} failed (replay with DISK_BUFFER_SEED=${seed}), segmentBytes ${segmentBytes}, fsync ${fsyncMode}: ` +
        `${message}\nlast operations: ${log.slice(-12).join(', ')}`,
      { cause: error },
    );
  } finally {
    await directory.remove();
  }
}

test('DiskBuffer - matches an in-memory model over random operations', async () => {
  const seeds = REPLAY_SEED === null ? Array.from({ length: RUNS }, (_, index) => 1000 + index) : [REPLAY_SEED];
  for (const seed of seeds) await runModel(seed);
});
