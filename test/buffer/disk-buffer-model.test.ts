import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DiskBuffer, type DiskBufferFs, type FsyncMode, QueuedRecord } from '../../src/buffer/index.js';
import { FaultyFs, createRandom, makeTempDirectory, nextTurn } from './helpers.js';

/** Set DISK_BUFFER_SEED to replay one run; otherwise RUNS seeds from a fixed base run. */
const REPLAY_SEED = process.env.DISK_BUFFER_SEED === undefined ? null : Number(process.env.DISK_BUFFER_SEED);
const RUNS = Number(process.env.DISK_BUFFER_RUNS ?? 30);
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
function createKillableFs(base: DiskBufferFs): { fs: DiskBufferFs; kill: () => void } {
  const descriptors = new Set<number>();
  let dead = false;
  const check = (): void => {
    if (dead) throw Object.assign(new Error('EBADF: the simulated process is dead'), { code: 'EBADF' });
  };
  const killable: DiskBufferFs = {
    openSync(path, flags, mode) {
      check();
      const fd = base.openSync(path, flags, mode);
      descriptors.add(fd);
      return fd;
    },
    closeSync(fd) {
      check();
      descriptors.delete(fd);
      base.closeSync(fd);
    },
    readSync(fd, buffer, offset, length, position) {
      check();
      return base.readSync(fd, buffer, offset, length, position);
    },
    writeSync(fd, buffer, offset, length, position) {
      check();
      return base.writeSync(fd, buffer, offset, length, position);
    },
    fsync(fd, callback) {
      check();
      base.fsync(fd, callback);
    },
    fsyncSync(fd) {
      check();
      base.fsyncSync(fd);
    },
    ftruncateSync(fd, length) {
      check();
      base.ftruncateSync(fd, length);
    },
    statSync(path) {
      check();
      return base.statSync(path);
    },
    readdirSync(path) {
      check();
      return base.readdirSync(path);
    },
    mkdirSync(path, options) {
      check();
      return base.mkdirSync(path, options);
    },
    unlinkSync(path) {
      check();
      base.unlinkSync(path);
    },
  };
  const kill = (): void => {
    dead = true;
    for (const fd of descriptors) base.closeSync(fd);
    descriptors.clear();
  };
  return { fs: killable, kill };
}

async function runModel(seed: number): Promise<void> {
  const random = createRandom(seed);
  const directory = await makeTempDirectory('disk-buffer-model-');
  const segmentBytes = [320, 1024, 4096][random.integer(0, 2)];
  const fsyncMode: FsyncMode = (['never', 'never', 'interval', 'batch'] as const)[random.integer(0, 3)];
  // Segment writes fail with ENOSPC while `faultActive`, and the model drops what the buffer must drop.
  const faultyFs = new FaultyFs();
  let faultActive = false;
  let killable = createKillableFs(faultyFs);
  let current: DiskBuffer | null = null;

  const openBuffer = async (): Promise<DiskBuffer> => {
    killable = createKillableFs(faultyFs);
    const opened = new DiskBuffer({
      directory: directory.path,
      maxBytes: 16 * 1024 * 1024,
      segmentBytes,
      fsync: fsyncMode,
      fsyncIntervalMs: 5,
      retryDelayMs: 0,
      fs: killable.fs,
    });
    // An abandoned buffer reports its failing calls, and injected write errors are expected.
    // Any other warning from the current buffer is a failure.
    opened.on('warning', (warning) => {
      const injected = faultActive && (warning as { code?: string }).code === 'ERR_SYSLOG_BUFFER_IO';
      if (opened === current && !injected) warnings.push(warning.message);
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
  let maxAckedId = 0;
  /** Ids pushed since the last end of a turn, still in the pending batch. */
  let pendingIds: number[] = [];
  /** Records returned by read from a batch whose write failed: delivered, but gone after a restart. */
  const unwritten = new Set<number>();
  const warnings: string[] = [];
  let buffer = await openBuffer();
  const log: string[] = [];

  const heal = (): void => {
    faultActive = false;
    faultyFs.heal();
  };

  /**
   * Lets the buffer write its pending batch. While the disk is full the write fails: the
   * pending records not read yet are dropped, and the ones read are delivered but never stored.
   */
  const endTurn = async (): Promise<void> => {
    const failedBefore = faultyFs.failedCalls;
    await nextTurn();
    if (faultyFs.failedCalls > failedBefore) {
      const pending = new Set(pendingIds);
      const readIds = new Set(model.slice(0, readCount).map((record) => record.id));
      for (const id of pending) if (readIds.has(id)) unwritten.add(id);
      const dropped = model.filter((record) => pending.has(record.id) && !readIds.has(record.id)).length;
      model = model.filter((record) => !pending.has(record.id) || readIds.has(record.id));
      assert.ok(dropped >= 0);
    }
    pendingIds = [];
  };

  /** Applies a restart to the model: every unacknowledged record is unread again, except those never written. */
  const forgetUnwritten = (): void => {
    // Ids handed out for records that were never stored may be handed out again after a
    // restart. New ids only have to stay above the stored and the acknowledged ones.
    model = model.filter((record) => !unwritten.has(record.id));
    lastId = Math.max(maxAckedId, ...model.map((record) => record.id));
    unwritten.clear();
    pendingIds = [];
    readCount = 0;
  };

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
          model.push(new QueuedRecord(id, payload, Buffer.byteLength(payload)));
          pendingIds.push(id);
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
        maxAckedId = Math.max(maxAckedId, effective);
        const removed = model.filter((record) => record.id <= effective).length;
        model = model.slice(removed);
        readCount -= removed;
        buffer.ack(id);
        log.push(`ack ${id}`);
      } else if (dice < 0.87) {
        await endTurn();
        log.push('turn');
      } else if (dice < 0.9) {
        faultActive = !faultActive;
        // Every segment write fails from its first byte, so a failed turn drops its whole batch.
        // Writes cut short half-way are covered by the write error tests.
        if (faultActive) faultyFs.failWrites('ENOSPC');
        else faultyFs.heal();
        log.push(faultActive ? 'disk full' : 'disk healed');
      } else if (dice < 0.95) {
        heal();
        await buffer.close();
        buffer = await openBuffer();
        forgetUnwritten();
        log.push('reopen');
        checkCounts(`${step} after reopen`);
      } else {
        // Let the batch and the metadata reach the page cache, then abandon the buffer as a killed process would.
        heal();
        await endTurn();
        killable.kill();
        buffer = await openBuffer();
        forgetUnwritten();
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
        `${message}\nlast operations: ${log.slice(REPLAY_SEED === null ? -12 : 0).join(', ')}`,
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
