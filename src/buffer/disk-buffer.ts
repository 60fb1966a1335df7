import { Buffer } from 'node:buffer';
import { join } from 'node:path';
import { EventEmitter } from 'eventemitter3';
import { BufferIOError, InvalidEventError } from '../errors.js';
import { toWellFormed } from '../format/utf8.js';
import { type DiskBufferOptions, type FsyncMode, resolveDiskBufferOptions } from './disk-buffer-options.js';
import { type DiskBufferFs, closeQuietly, errorCode, toError, writeFully } from './disk-fs.js';
import { type ExitFlushTarget, addExitFlush, removeExitFlush } from './exit-flush.js';
import { FsyncScheduler } from './fsync-scheduler.js';
import { InFlightRecords } from './in-flight-records.js';
import { HeldRecord, MemoryBacklog } from './memory-backlog.js';
import { countOf } from './messages.js';
import { METADATA_FILE_NAME, MetadataFile } from './metadata.js';
import { Quarantine } from './quarantine.js';
import { type DropReason, type EventQueue, type FullPolicy, type QueueEvents, QueuedRecord, type QueueRecord, type QueueStats } from './queue.js';
import { PendingBatch, type ReplacedPayload, type SegmentRun } from './pending-batch.js';
import { MAX_RECORD_BYTES, RECORD_HEADER_BYTES } from './record-format.js';
import { type RecoveredState, damageWarning, recoverDirectory } from './recovery.js';
import { SEGMENT_HEADER_BYTES, Segment } from './segment.js';
import { type DamagedRange, SegmentFileReader, scanNext } from './segment-reader.js';
import { TailCache, TailRecord } from './tail-cache.js';

/** Counters of a DiskBuffer. */
export interface DiskBufferStats extends QueueStats {
  /** Segment files holding unacknowledged records. */
  segments: number;
  /** Bytes of those segment files, headers and not yet written records included. */
  diskBytes: number;
  /** Records lost to damaged bytes found on open or while reading. */
  corruptRecords: number;
  /** Damaged bytes skipped. */
  corruptBytes: number;
  /** Segment files found missing, or cut below their 40-byte header, at open. */
  missingSegments: number;
  /**
   * Unacknowledged records lost with those files, counted from the ids in the header of the
   * next segment. A newest segment cut below its header adds nothing, because no header records its ids.
   */
  missingRecords: number;
  /** Records kept in memory because the directory was not open when they were pushed; lost if the process ends. */
  memoryRecords: number;
  /** Failed writes, fsyncs and deletes since open. */
  writeErrors: number;
  /** The most recent of those failures, or null. */
  lastError: Error | null;
}

/** A batch that reaches this size is written at once instead of at the end of the event-loop turn. */
const MAX_PENDING_BYTES = 1024 * 1024;

/** Returns the records of `replaced` whose ids lie in one of `runs`. Both lists are in id order. */
function recordsInRuns(replaced: ReplacedPayload[], runs: SegmentRun[]): ReplacedPayload[] {
  const inRuns: ReplacedPayload[] = [];
  let runIndex = 0;
  for (const record of replaced) {
    while (runIndex < runs.length && runs[runIndex].lastId < record.id) runIndex += 1;
    if (runIndex === runs.length) break;
    if (runs[runIndex].firstId <= record.id) inRuns.push(record);
  }
  return inRuns;
}

/**
 * `new` until `open()`, `memory` while the directory cannot be opened (records are kept in
 * memory and opening is retried), `open` once records go to disk.
 */
type State = 'new' | 'memory' | 'open' | 'closing' | 'closed';

/**
 * A crash-safe `EventQueue` on disk. Records are appended to segment files in a directory and
 * read back in order. Acknowledged positions go to a metadata file, and segments whose records
 * are all acknowledged are deleted. After a crash or restart every record that was not
 * acknowledged is read again. Acknowledged records may come back too, because duplicates are
 * preferred to loss.
 *
 * `push` only places the record in a pending batch, which encodes its payloads together just
 * before the write. The batch is written with one write per segment at the end of the
 * event-loop turn, or at once when it reaches 1 MiB, and a `process.on('exit')` hook writes it
 * when the process exits first. fsync follows the `fsync` option. Damaged data and failed writes never throw: they are counted in `stats()`
 * and reported as `warning` events. Until the directory opens, records are kept in memory
 * (see `open`). See docs/disk-buffer.md for the format and the loss bound of each fsync mode.
 */
export class DiskBuffer extends EventEmitter<QueueEvents> implements EventQueue, ExitFlushTarget {
  readonly directory: string;
  readonly maxBytes: number;
  readonly segmentBytes: number;
  readonly fsyncMode: FsyncMode;
  readonly fsyncIntervalMs: number;
  readonly whenFull: FullPolicy;
  readonly retryDelayMs: number;
  /** Largest payload in bytes: a record never spans two segments and never exceeds the format maximum. */
  private readonly maxPayloadBytes: number;

  private readonly fs: DiskBufferFs;
  private readonly metadata: MetadataFile;
  private readonly quarantine: Quarantine;
  /** Closes and deletes running on the thread pool, and the callers of `whenBackgroundIdle`. */
  private backgroundTasks = 0;
  private backgroundWaiters: Array<() => void> = [];
  private readonly fsyncScheduler: FsyncScheduler;
  private state: State = 'new';
  private closing: Promise<void> | null = null;
  /** Records pushed while the directory was not open. */
  private readonly memory = new MemoryBacklog();
  /** Added to disk ids in the ids this buffer returns, so that they stay above the ids `memory` returned. */
  private idOffset = 0;
  private openRetryTimer: NodeJS.Timeout | null = null;

  /** Live segments, oldest first; the last one takes appends unless it is sealed. */
  private segments: Segment[] = [];
  /** Segments whose records are all acknowledged, deleted after the next metadata write. */
  private retiring: Segment[] = [];
  /** Sum of `plannedBytes` over `segments`. */
  private plannedTotal = 0;
  private retiringBytes = 0;
  /** Acknowledged bytes at the start of `segments[0]` (0 when none). */
  private headAckOffset = 0;
  /** First id of the newest segment that stored records, for the previous-segment fields of the next header. */
  private newestFirstId = 0;
  /** Last id stored in that segment; used when no segment is left to ask. */
  private newestLastId = 0;

  private nextId = 1;
  private ackedId = 0;

  /** Records pushed and not yet written, encoded as they go to disk. */
  private readonly batch = new PendingBatch();
  /** The pending records, and written records not yet read, so that `read` can skip the disk. */
  private readonly tail: TailCache;
  /** True when the record `peekRecord` returned last came from `tail`. */
  private peekedFromTail = false;
  private flushImmediate: NodeJS.Immediate | null = null;

  private cursorSegment: Segment | null = null;
  private cursorOffset = 0;
  /** Id of the last record the cursor passed in its segment, used to validate the next one. */
  private cursorPreviousId = 0;
  /** Records up to this id were acknowledged before open and are skipped. */
  private skipThroughId = 0;
  private reader: SegmentFileReader | null = null;
  private unreadRecords = 0;
  private unreadBytes = 0;

  /** Records returned by `read` and not yet acknowledged. */
  private readonly inFlight = new InFlightRecords();

  private dropped = 0;
  private corruptRecords = 0;
  private corruptBytes = 0;
  private missingSegments = 0;
  private missingRecords = 0;
  private writeErrors = 0;
  private lastError: Error | null = null;
  /** Time of the last failed append, or null while appends succeed. */
  private writeFailedAt: number | null = null;
  /** True from a failed write to the next successful one; one warning is sent per such episode. */
  private failing = false;
  private wasFull = false;
  /** Size on disk of the last pushed record, used by `full` as the size of the next one. */
  private lastRecordBytes = RECORD_HEADER_BYTES;

  private ackChanged = false;
  private metadataUnsynced = false;
  private directoryFd: number | null = null;
  private directoryUnsynced = false;
  private intervalTimer: NodeJS.Timeout | null = null;

  constructor(options: DiskBufferOptions) {
    super();
    const resolved = resolveDiskBufferOptions(options);
    this.directory = resolved.directory;
    this.maxBytes = resolved.maxBytes;
    this.segmentBytes = resolved.segmentBytes;
    this.fsyncMode = resolved.fsync;
    this.fsyncIntervalMs = resolved.fsyncIntervalMs;
    this.whenFull = resolved.whenFull;
    this.retryDelayMs = resolved.retryDelayMs;
    this.maxPayloadBytes = Math.min(MAX_RECORD_BYTES, this.segmentBytes - SEGMENT_HEADER_BYTES) - RECORD_HEADER_BYTES;
    this.fs = resolved.fs;
    this.tail = new TailCache(resolved.tailCacheBytes);
    this.metadata = new MetadataFile(this.fs, join(this.directory, METADATA_FILE_NAME));
    this.quarantine = new Quarantine(this.fs, this.directory, this.segmentBytes);
    this.fsyncScheduler = new FsyncScheduler(
      this.fs,
      () => this.collectUnsyncedDescriptors(),
      (error) => this.onFsyncCycleEnd(error),
    );
  }

  /**
   * Scans the directory (see `recoverDirectory`) and writes the records pushed before the call
   * to it. Damage is reported as `warning` events, emitted before the promise resolves.
   *
   * When the directory cannot be created or listed (EACCES, ENOTDIR, EROFS), the buffer emits
   * one `warning` with a `BufferIOError`, keeps new records in memory under the same limits,
   * and tries to open the directory again every `retryDelayMs`. The promise resolves then too,
   * because the buffer takes records. It rejects only when `open()` was called before.
   */
  async open(): Promise<void> {
    if (this.state !== 'new') {
      const reason = this.state === 'closing' || this.state === 'closed' ? 'it is closed' : 'open() was already called';
      throw new BufferIOError(`Cannot open the DiskBuffer at ${this.directory}: ${reason}`);
    }
    for (const warning of this.openDirectory()) this.emit('warning', warning);
  }

  /**
   * Recovers the directory and writes the records kept in memory to it. Returns the warnings to
   * emit. When the directory cannot be opened, the buffer stays in memory and schedules another attempt.
   */
  private openDirectory(): Error[] {
    let recovered: RecoveredState;
    try {
      this.quarantine.measure();
      recovered = recoverDirectory({
        fs: this.fs,
        directory: this.directory,
        metadata: this.metadata,
        quarantine: this.quarantine,
      });
    } catch (error) {
      return this.keepInMemory(error);
    }

    const warnings = this.adoptRecoveredState(recovered);
    this.state = 'open';
    for (const record of this.memory.takeUnread()) this.append(record.payload, record.bytes);
    this.signalSpace();
    return warnings;
  }

  private adoptRecoveredState(recovered: RecoveredState): Error[] {
    this.segments = recovered.segments;
    this.plannedTotal = this.segments.reduce((sum, segment) => sum + segment.plannedBytes, 0);
    this.headAckOffset = recovered.headAckOffset;
    this.newestFirstId = this.segments.at(-1)?.firstId ?? 0;
    this.newestLastId = this.segments.at(-1)?.lastId ?? recovered.ackedId;
    this.nextId = recovered.nextId;
    this.ackedId = recovered.ackedId;
    this.skipThroughId = recovered.ackedId;
    // The first record read from disk has an id above ackedId, and it must come out above
    // every id returned while the records were in memory.
    this.idOffset = Math.max(0, this.memory.lastReadId - recovered.ackedId);
    this.unreadRecords = recovered.unreadRecords;
    this.unreadBytes = recovered.unreadBytes;
    this.corruptRecords = recovered.corruptRecords;
    this.corruptBytes = recovered.corruptBytes;
    this.missingSegments = recovered.missingSegments;
    this.missingRecords = recovered.missingRecords;
    const head = this.segments[0];
    if (head !== undefined) {
      this.cursorSegment = head;
      this.cursorOffset = Math.max(this.headAckOffset, SEGMENT_HEADER_BYTES);
      this.cursorPreviousId = this.headAckOffset > 0 ? this.ackedId : head.firstId - 1;
    }

    const warnings = [...recovered.warnings];
    try {
      this.metadata.open(this.ackState(), recovered.rewriteMetadata);
    } catch (error) {
      this.metadata.close();
      warnings.push(this.recordError(`Opening the metadata file ${this.metadata.path} failed`, error));
    }
    try {
      this.directoryFd = this.fs.openSync(this.directory, 'r');
    } catch {
      // Without a descriptor the directory entry of a new segment is not fsynced; the data still is.
      this.directoryFd = null;
    }
    if (this.fsyncMode === 'interval') {
      this.intervalTimer = setInterval(() => this.syncIfNeeded(), this.fsyncIntervalMs);
      this.intervalTimer.unref();
    }
    addExitFlush(this);
    return warnings;
  }

  /**
   * Schedules another attempt to open the directory. Returns the warning for the first failure,
   * and nothing for later ones.
   */
  private keepInMemory(error: unknown): Error[] {
    const firstFailure = this.state === 'new';
    this.state = 'memory';
    this.openRetryTimer = setTimeout(() => this.retryOpen(), this.retryDelayMs);
    this.openRetryTimer.unref();
    if (!firstFailure) return [];

    const reason =
      error instanceof BufferIOError
        ? error.message
        : `Cannot open the buffer directory ${this.directory} (${errorCode(error)}): ${toError(error).message}`;
    const warning = new BufferIOError(
      `${reason}. Records are kept in memory until it opens, up to maxBytes (${this.maxBytes} bytes), and are ` +
        `lost if the process ends first. Opening is tried again every ${this.retryDelayMs} ms`,
      { cause: error },
    );
    this.lastError = warning;
    return [warning];
  }

  private retryOpen(): void {
    this.openRetryTimer = null;
    if (this.state !== 'memory') return;
    for (const warning of this.openDirectory()) this.emit('warning', warning);
  }

  get full(): boolean {
    if (this.inMemory) return this.memory.unreadSize + this.lastRecordBytes > this.maxBytes;
    return this.liveBytes + this.bytesNeededFor(this.lastRecordBytes) > this.maxBytes;
  }

  /** Records not yet read. NOTE: after open this counts records by estimate, see `recoverDirectory`; it is never 0 while a record is unread. */
  get unread(): number {
    return this.inMemory ? this.memory.unread : this.unreadOnDisk;
  }

  /**
   * Appends a record and returns its id, or -1 when it was dropped. Returns 0 while the
   * directory is not open: the record is kept in memory and gets its id when `read` returns it
   * or when it is written to disk. Throws only after `close()`. `bytes` is the UTF-8 length of
   * `payload`; docs/disk-buffer.md ("Stated sizes") describes what a wrong one does.
   */
  push(payload: string, bytes: number): number {
    if (this.state === 'closing' || this.state === 'closed') {
      throw new BufferIOError(`Cannot push to the DiskBuffer at ${this.directory}: it is closed`);
    }
    if (this.state === 'open' && this.writeFailedAt !== null) {
      if (Date.now() - this.writeFailedAt < this.retryDelayMs) return this.dropNewest('io-error');
      this.writeFailedAt = null;
    }

    // A size equal to the UTF-16 length states an ASCII payload, which `PendingBatch.seal`
    // verifies. Any other size is measured here, so a wrong one costs only time.
    const payloadBytes = bytes === payload.length ? bytes : Buffer.byteLength(payload, 'utf8');
    if (payloadBytes > this.maxPayloadBytes) return this.dropNewest('oversize');
    if (this.inMemory) {
      const size = RECORD_HEADER_BYTES + payloadBytes;
      this.lastRecordBytes = size;
      return this.holdInMemory(new HeldRecord(payload, payloadBytes, size));
    }
    const id = this.append(payload, payloadBytes);
    return id < 0 ? id : id + this.idOffset;
  }


  /** True while records go to `memory`: before `open()`, and while the directory cannot be opened. */
  private get inMemory(): boolean {
    return this.state === 'new' || this.state === 'memory';
  }

  /**
   * Keeps a record in memory under the limits that apply on disk, counted without segment
   * headers. Only unread records count, like in `MemoryQueue`, because the connections that
   * hold the read ones bound them. Returns 0, or -1 when the full policy dropped the record.
   */
  private holdInMemory(record: HeldRecord): number {
    if (this.memory.unreadSize + record.size > this.maxBytes) {
      if (this.whenFull === 'drop-newest') return this.dropNewest('full');
      if (this.whenFull === 'drop-oldest') {
        const count = this.memory.dropOldest(record.size, this.maxBytes);
        if (count > 0) {
          this.dropped += count;
          this.emit('drop', count, 'full');
        }
      } else if (this.memory.unreadSize + record.size > this.maxBytes + this.segmentBytes) {
        // The hard bound of `block`, as on disk.
        return this.dropNewest('full');
      }
    }
    this.memory.push(record);
    if (this.full) this.wasFull = true;
    return 0;
  }

  /**
   * Appends a record of `payloadBytes` UTF-8 bytes (see `PendingBatch.add`) to the pending batch
   * under the full policy. Returns its disk id, or -1 when it was dropped. `push` has already
   * dropped payloads above the largest size.
   */
  private append(payload: string, payloadBytes: number): number {
    const size = RECORD_HEADER_BYTES + payloadBytes;
    // The full policy runs before the record joins the batch, because its `drop` and `warning`
    // listeners may push again.
    if (this.liveBytes + this.bytesNeededFor(size) > this.maxBytes) {
      if (this.whenFull === 'drop-newest') return this.dropNewest('full');
      if (this.whenFull === 'drop-oldest') this.dropOldestSegments(size);
      else if (this.diskBytes + this.bytesNeededFor(size) > this.maxBytes + this.segmentBytes) {
        // `block` takes records past maxBytes from callers that do not wait for `space`, up to the hard bound.
        return this.dropNewest('full');
      }
    }
    this.lastRecordBytes = size;

    let segment = this.activeSegment();
    if (segment === null || segment.plannedBytes + size > this.segmentBytes) segment = this.startSegment();

    const id = this.nextId;
    this.nextId += 1;
    this.batch.add(segment, id, payload, payloadBytes);
    // Read back from the file, a lone surrogate is U+FFFD, so the copy in memory must be too.
    const cached = payloadBytes === payload.length ? payload : toWellFormed(payload);
    this.tail.addPending(new TailRecord(id, cached, payloadBytes, segment, segment.plannedBytes));
    segment.plannedBytes += size;
    segment.lastId = id;
    this.plannedTotal += size;
    this.unreadRecords += 1;
    this.unreadBytes += payloadBytes;

    if (this.batch.size >= MAX_PENDING_BYTES) {
      this.writePending(true);
    } else if (this.flushImmediate === null) {
      this.flushImmediate = setImmediate(() => this.endTurn());
    }
    if (this.full) this.wasFull = true;
    return id;
  }

  read(maxRecords: number, maxBytes: number): QueueRecord[] {
    // Records pushed before open() wait for it, so that they are read after the backlog on disk.
    // A closing buffer returns none, so its records stay on disk for the next open. A segment
    // file opened for them now would stay open after close() resolves.
    if (this.state === 'new' || this.state === 'closing' || this.state === 'closed') return [];
    if (this.state === 'memory') {
      const records = this.memory.read(maxRecords, maxBytes);
      this.signalSpace();
      return records;
    }
    const batch: QueueRecord[] = [];
    let total = 0;
    while (batch.length < maxRecords) {
      const record = this.peekRecord();
      if (record === null) break;
      if (batch.length > 0 && total + record.bytes > maxBytes) break;
      this.consume(record, this.peekedFromTail);
      batch.push(new QueuedRecord(record.id + this.idOffset, record.payload, record.bytes));
      total += record.bytes;
    }
    return batch;
  }

  ack(id: number): void {
    if (this.state === 'new' || this.state === 'closed') return;
    this.memory.ack(id);
    if (this.state !== 'memory') this.ackOnDisk(id - this.idOffset);
  }

  /** Acknowledges the records read from disk up to disk id `id`. */
  private ackOnDisk(id: number): void {
    const inFlight = this.inFlight;
    if (inFlight.ackThrough(id) === 0) return;
    this.ackedId = inFlight.lastAckedId;
    const segment = inFlight.lastStoredSegment;
    const storedEnd = inFlight.lastStoredEnd;

    if (segment !== null && !segment.removed) {
      while (this.segments[0] !== segment) this.retire(this.segments[0]);
      const end = Math.min(storedEnd, segment.plannedBytes);
      if (segment.sealed && end >= segment.plannedBytes) this.retire(segment);
      else this.headAckOffset = end;
    }
    this.ackChanged = true;
    this.scheduleTurnEnd();
    this.signalSpace();
  }

  private signalSpace(): void {
    if (this.wasFull && !this.full) {
      this.wasFull = false;
      this.emit('space');
    }
  }

  stats(): DiskBufferStats {
    const memoryRecords = this.memory.unread + this.memory.inFlight;
    return {
      records: this.unreadOnDisk + this.inFlight.count + memoryRecords,
      bytes: this.unreadBytes + this.inFlight.bytes + this.memory.unreadBytes + this.memory.inFlightBytes,
      dropped: this.dropped,
      segments: this.segments.length,
      diskBytes: this.diskBytes,
      corruptRecords: this.corruptRecords,
      corruptBytes: this.corruptBytes,
      missingSegments: this.missingSegments,
      missingRecords: this.missingRecords,
      memoryRecords,
      writeErrors: this.writeErrors,
      lastError: this.lastError,
    };
  }

  /**
   * Writes the pending records and the acknowledged position, then fsyncs them whatever the
   * `fsync` mode. Rejects with BufferIOError when a write or fsync failed, so the records
   * pushed before the call may not be on stable storage, and while records are kept in memory
   * because the directory was not open.
   *
   * NOTE: in `never` mode a segment that filled up was closed without fsync, so there this
   * fsyncs only the newest segment and the metadata file.
   */
  async flush(): Promise<void> {
    if (this.state === 'open') {
      const errorsBefore = this.writeErrors;
      this.endTurn();
      if (this.writeErrors > errorsBefore) throw this.lastError ?? new BufferIOError('Writing the disk buffer failed');
      try {
        await this.fsyncScheduler.waitForCycle();
      } catch (error) {
        throw new BufferIOError(`fsync in ${this.directory} failed (${errorCode(error)})`, { cause: error });
      }
    }
    this.throwIfRecordsInMemory();
  }

  /** Throws BufferIOError while records that are not on disk wait to be read or acknowledged. */
  private throwIfRecordsInMemory(): void {
    if (this.state === 'closing' || this.state === 'closed') return;
    const count = this.memory.unread + this.memory.inFlight;
    if (count === 0) return;
    const records = `${countOf(count, 'record')} ${count === 1 ? 'is' : 'are'} kept in memory only`;
    if (this.state === 'new') {
      throw new BufferIOError(`${records}: call open() first, which writes records to ${this.directory}`);
    }
    if (this.state === 'memory') {
      throw new BufferIOError(`${records}, because the buffer directory ${this.directory} could not be opened`, {
        cause: this.lastError,
      });
    }
    throw new BufferIOError(
      `${records} until acknowledged, because they were read before the buffer directory ${this.directory} opened`,
    );
  }

  /**
   * Writes what is pending, fsyncs it unless `fsync` is `never`, and releases the files.
   * Unacknowledged records stay on disk for the next open, and records kept in memory are
   * lost. From the call on, `read` returns no record. Failures become `warning` events.
   */
  close(): Promise<void> {
    if (this.inMemory || this.state === 'closed') {
      // Records kept in memory are lost, as with MemoryQueue.
      if (this.openRetryTimer !== null) clearTimeout(this.openRetryTimer);
      this.openRetryTimer = null;
      this.memory.clear();
      this.state = 'closed';
      return Promise.resolve();
    }
    this.closing ??= this.closeFiles();
    return this.closing;
  }

  /** Writes the pending batch and the acknowledged position synchronously; run by the exit hook. */
  flushOnExit(): void {
    if (this.state !== 'open') return;
    try {
      this.endTurn();
      // `warning` listeners of that write may push again, so their records get one more write.
      // NOTE: records that listeners push during the second write are lost.
      if (!this.batch.empty) this.endTurn();
      if (this.fsyncMode === 'batch') {
        for (const fd of this.collectUnsyncedDescriptors()) this.fs.fsyncSync(fd);
      }
    } catch {
      // The process is exiting, and no listener would receive a warning now.
    }
  }

  private async closeFiles(): Promise<void> {
    this.state = 'closing';
    if (this.intervalTimer !== null) clearInterval(this.intervalTimer);
    this.intervalTimer = null;
    // A `warning` or `drop` listener may throw, for example by pushing to this closing buffer.
    // The files are closed all the same, and `close()` then rejects with the first such error.
    let listenerError: unknown;
    const run = (step: () => void): void => {
      try {
        step();
      } catch (error) {
        listenerError ??= error;
      }
    };
    run(() => this.endTurn());
    if (this.fsyncMode !== 'never') {
      try {
        await this.fsyncScheduler.waitForCycle();
      } catch {
        // Counted and reported as a warning by onFsyncCycleEnd.
      }
    }
    await new Promise<void>((resolve) => this.fsyncScheduler.whenIdle(resolve));
    // Acknowledgements that arrived during the fsync go to the page cache at least.
    run(() => this.writeMetadata());
    run(() => this.deleteRetiredSegments());
    for (const segment of this.segments) this.closeSegmentFile(segment);
    this.reader?.close();
    this.reader = null;
    this.batch.clear();
    this.tail.clear();
    this.metadata.close();
    await this.whenBackgroundIdle();
    closeQuietly(this.fs, this.directoryFd);
    this.directoryFd = null;
    removeExitFlush(this);
    this.state = 'closed';
    if (listenerError !== undefined) throw listenerError;
  }

  // ----- capacity -----

  /** Bytes of unacknowledged records on disk or pending, segment headers included. */
  private get liveBytes(): number {
    return this.plannedTotal - this.headAckOffset;
  }

  /** Bytes the segment files take or will take once pending records are written. */
  private get diskBytes(): number {
    return this.plannedTotal + this.retiringBytes;
  }

  /** Bytes a record of `size` adds: its size, plus a segment header when it starts a new segment. */
  private bytesNeededFor(size: number): number {
    const active = this.activeSegment();
    return active === null || active.plannedBytes + size > this.segmentBytes ? size + SEGMENT_HEADER_BYTES : size;
  }

  private dropNewest(reason: DropReason): number {
    this.dropped += 1;
    this.emit('drop', 1, reason);
    return -1;
  }

  /** Deletes whole oldest segments until a record of `size` fits; counts the unread records they held as dropped. */
  private dropOldestSegments(size: number): void {
    let count = 0;
    while (this.segments.length > 0 && this.liveBytes + this.bytesNeededFor(size) > this.maxBytes) {
      count += this.discardOldestSegment();
    }
    if (count > 0) {
      this.dropped += count;
      this.emit('drop', count, 'full');
    }
  }

  private discardOldestSegment(): number {
    const segment = this.segments[0];
    const unread = this.unreadIn(segment);

    if (this.segments.length === 1) this.newestLastId = this.lastIdOf(segment);
    this.segments.shift();
    this.plannedTotal -= segment.plannedBytes;
    this.headAckOffset = 0;
    segment.removed = true;
    segment.sealed = true;
    // Its pending records are not written: `writePending` skips deleted segments.
    this.tail.removeDeletedSegments();
    this.closeSegmentFile(segment);
    this.deleteSegmentFile(segment);
    this.unreadRecords = Math.max(0, this.unreadRecords - unread.records);
    this.unreadBytes = Math.max(0, this.unreadBytes - unread.bytes);
    this.ackChanged = true;
    this.scheduleTurnEnd();
    return unread.records;
  }

  /** Unread records in `segment` and their payload bytes; estimated for segments found at open. */
  private unreadIn(segment: Segment): { records: number; bytes: number } {
    this.resolveCursor();
    const index = this.segments.indexOf(segment);
    const cursorIndex = this.cursorSegment === null ? -1 : this.segments.indexOf(this.cursorSegment);
    if (cursorIndex > index) return { records: 0, bytes: 0 };

    const lastId = this.lastIdOf(segment);
    let fromId = Math.max(segment.firstId, this.skipThroughId + 1);
    let remainingBytes = segment.plannedBytes - Math.max(SEGMENT_HEADER_BYTES, this.headAckOffset);
    if (cursorIndex === index) {
      fromId = Math.max(fromId, this.cursorPreviousId + 1);
      remainingBytes = segment.plannedBytes - this.cursorOffset;
    }
    const records = Math.max(0, lastId - fromId + 1);
    return { records, bytes: Math.max(0, remainingBytes - records * RECORD_HEADER_BYTES) };
  }

  /** Returns the id of the last record in `segment`, estimated from the next segment's name when no header recorded it. */
  private lastIdOf(segment: Segment): number {
    if (segment.lastId !== null) return segment.lastId;
    const next = this.segments[this.segments.indexOf(segment) + 1];
    return next === undefined ? this.nextId - 1 : next.firstId - 1;
  }

  // ----- writing -----

  private activeSegment(): Segment | null {
    // Indexing, not `at(-1)`: this runs several times per push, and Node 20 does not inline `at`.
    const last = this.segments[this.segments.length - 1];
    return last !== undefined && !last.sealed ? last : null;
  }

  private startSegment(): Segment {
    const previous = this.segments[this.segments.length - 1];
    if (previous !== undefined) previous.sealed = true;
    const previousLastId = previous?.lastId ?? this.newestLastId;
    const segment = new Segment(this.directory, this.nextId, this.newestFirstId, previousLastId, 0);
    segment.sealed = false;
    segment.plannedBytes = SEGMENT_HEADER_BYTES;
    segment.lastId = this.nextId - 1;
    segment.writtenLastId = this.nextId - 1;
    this.segments.push(segment);
    this.plannedTotal += SEGMENT_HEADER_BYTES;
    this.newestFirstId = segment.firstId;
    return segment;
  }

  private scheduleTurnEnd(): void {
    if (this.flushImmediate === null && this.state === 'open') {
      this.flushImmediate = setImmediate(() => this.endTurn());
    }
  }

  /** Writes the pending batch and the acknowledged position, then deletes acknowledged segments. */
  private endTurn(): void {
    if (this.flushImmediate !== null) clearImmediate(this.flushImmediate);
    this.flushImmediate = null;
    this.writePending();
    this.writeMetadata();
    this.deleteRetiredSegments();
  }

  /**
   * Writes the pending records with one write per segment. Returns false when a write failed.
   * `midTurn` marks a write that `push` made because the batch grew large, before the reader
   * could run.
   */
  private writePending(midTurn = false): boolean {
    if (this.batch.empty) return true;
    const replaced = this.batch.seal();
    const writtenRuns: SegmentRun[] = [];
    for (const run of this.batch.runs) {
      // Records pending for a deleted segment were acknowledged or dropped: they are not written.
      if (run.segment.removed) continue;
      try {
        this.writeRun(run);
      } catch (error) {
        this.failAppend(error, run);
        // The runs before the failed one stay on disk, with the payloads replaced in them.
        if (replaced !== null) this.reportReplacedPayloads(replaced, writtenRuns);
        return false;
      }
      writtenRuns.push(run);
    }
    this.batch.clear();
    this.tail.markWritten(midTurn);
    this.failing = false;
    if (this.fsyncMode === 'batch') this.fsyncScheduler.request();
    else if (this.fsyncMode === 'never') this.closeSealedSegmentFiles();
    if (replaced !== null) this.reportReplacedPayloads(replaced, writtenRuns);
    return true;
  }

  /**
   * Makes the cached copies match what was stored for payloads pushed with a wrong size, and
   * warns once per write. Only the records in `writtenRuns` count, because the others were
   * dropped or acknowledged before the write, or their write failed.
   */
  private reportReplacedPayloads(replaced: ReplacedPayload[], writtenRuns: SegmentRun[]): void {
    const stored = recordsInRuns(replaced, writtenRuns);
    if (stored.length === 0) return;
    for (const record of stored) this.tail.replacePayload(record.id, record.stored);
    const first = stored[0];
    const more = stored.length > 1 ? ` (and ${stored.length - 1} more records in the same write)` : '';
    this.emit(
      'warning',
      new InvalidEventError(
        `DiskBuffer.push() was given ${first.pushed.length} bytes for a payload of ${first.actualBytes} UTF-8 bytes, ` +
          `so record ${first.id + this.idOffset} was stored with "?" for each non-ASCII character${more}. ` +
          'Pass Buffer.byteLength(payload) as the size.',
      ),
    );
  }

  private writeRun(run: SegmentRun): void {
    const segment = run.segment;
    if (segment.fd === null) {
      segment.fd = this.fs.openSync(segment.path, segment.writtenBytes === 0 ? 'w' : 'r+');
      if (segment.writtenBytes === 0) this.directoryUnsynced = true;
    }
    const data = this.batch.bytesOf(run);
    writeFully(this.fs, segment.fd, data, segment.writtenBytes);
    segment.writtenBytes += data.length;
    segment.writtenLastId = run.lastId;
    segment.dirty = true;
  }

  /**
   * Handles a failed write of `run` and the runs after it: undoes the partial write, seals the
   * segment at its last whole record (so ids stay consecutive inside every segment), drops the
   * records `read` has not returned yet, and makes `push` drop records for `retryDelayMs`.
   */
  private failAppend(error: unknown, run: SegmentRun): void {
    const failed = run.segment;
    const warning = this.recordError(`Writing segment ${failed.path} failed`, error);
    this.writeFailedAt = Date.now();

    // Records already returned by read are not dropped: the caller still delivers them.
    const lost = this.tail.countUnreadPendingFrom(run.firstId);
    const droppedRecords = lost.records;
    this.unreadRecords = Math.max(0, this.unreadRecords - lost.records);
    this.unreadBytes = Math.max(0, this.unreadBytes - lost.bytes);
    this.batch.clear();
    // Written records that were cached are read from disk from here on.
    this.tail.clear();

    if (failed.fd !== null) {
      try {
        this.fs.ftruncateSync(failed.fd, failed.writtenBytes);
      } catch {
        // The reader stops at writtenBytes; after a restart the leftover bytes are found as damage.
      }
    }
    // Newest first, so that `newestFirstId` falls back one segment per removal.
    const position = this.segments.indexOf(failed);
    const affected = this.segments.slice(position);
    for (const segment of [...affected].reverse()) {
      this.plannedTotal -= segment.plannedBytes - segment.writtenBytes;
      segment.plannedBytes = segment.writtenBytes;
      segment.lastId = segment.writtenLastId;
      segment.sealed = true;
      if (segment.writtenBytes <= SEGMENT_HEADER_BYTES) this.removeNewestSegment(segment);
    }
    // A cursor in a segment removed here had returned every record before it, so it moves to
    // the end of what is left. (A cursor in a segment retired earlier moves to the head later.)
    if (this.cursorSegment !== null && this.cursorSegment.removed && affected.includes(this.cursorSegment)) {
      const last = this.segments.at(-1) ?? null;
      this.cursorSegment = last;
      this.cursorOffset = last === null ? SEGMENT_HEADER_BYTES : last.plannedBytes;
      this.reader?.close();
      this.reader = null;
    } else if (this.cursorSegment !== null) {
      this.cursorOffset = Math.min(this.cursorOffset, this.cursorSegment.plannedBytes);
    }
    // Records read from the failed batch may have been acknowledged past the new end.
    this.headAckOffset = Math.min(this.headAckOffset, this.segments[0]?.plannedBytes ?? 0);

    if (!this.failing) {
      this.failing = true;
      this.emit(
        'warning',
        new BufferIOError(
          `${warning.message}; ${countOf(droppedRecords, 'record')} dropped, and new records are dropped for ` +
            `${this.retryDelayMs} ms before writing is tried again`,
          { cause: error },
        ),
      );
    }
    if (droppedRecords > 0) {
      this.dropped += droppedRecords;
      this.emit('drop', droppedRecords, 'io-error');
    }
  }

  /** Removes the newest segment, which contains no record, and deletes its file if one was created. */
  private removeNewestSegment(segment: Segment): void {
    this.segments.pop();
    this.plannedTotal -= segment.plannedBytes;
    if (this.segments.length === 0) this.headAckOffset = 0;
    this.newestFirstId = segment.previousFirstId;
    this.newestLastId = segment.previousLastId;
    segment.removed = true;
    this.closeSegmentFile(segment);
    this.deleteSegmentFile(segment);
  }

  private writeMetadata(): void {
    if (!this.ackChanged) return;
    try {
      if (this.metadata.fd === null) this.metadata.open(this.ackState(), true);
      else this.metadata.write(this.ackState());
      this.ackChanged = false;
      this.metadataUnsynced = true;
    } catch (error) {
      this.emit('warning', this.recordError(`Writing the metadata file ${this.metadata.path} failed`, error));
    }
  }

  private ackState(): { ackedId: number; headSegment: number; headOffset: number } {
    return {
      ackedId: this.ackedId,
      headSegment: this.segments[0]?.firstId ?? this.nextId,
      headOffset: this.headAckOffset,
    };
  }

  private retire(segment: Segment): void {
    if (this.segments.length === 1) this.newestLastId = this.lastIdOf(segment);
    this.segments.shift();
    this.plannedTotal -= segment.plannedBytes;
    this.retiringBytes += segment.plannedBytes;
    this.headAckOffset = 0;
    segment.removed = true;
    this.retiring.push(segment);
    // Records pending for a retired segment were all read and acknowledged: no need to write them.
    this.scheduleTurnEnd();
  }

  private deleteRetiredSegments(): void {
    for (const segment of this.retiring) {
      this.closeSegmentFile(segment);
      // In the background: an acknowledged segment's name is never used again, because ids only grow.
      this.deleteSegmentFile(segment, true);
    }
    this.retiring = [];
    this.retiringBytes = 0;
  }

  /**
   * Deletes a segment file. With `inBackground` and an `unlink` in the fs object, the deletion
   * runs on the thread pool: deleting a full 8 MiB segment can take milliseconds, and it must not
   * hold up the event loop. Only a file whose name is never used again may go there.
   */
  private deleteSegmentFile(segment: Segment, inBackground = false): void {
    if (this.reader !== null && this.reader.path === segment.path) {
      this.reader.close();
      this.reader = null;
    }
    const onError = (error: unknown): void => {
      if (errorCode(error) === 'ENOENT') return;
      this.emit('warning', this.recordError(`Deleting segment ${segment.path} failed`, error));
    };
    const unlink = this.fs.unlink;
    if (inBackground && unlink !== undefined) {
      this.runInBackground((done) =>
        unlink.call(this.fs, segment.path, (error) => {
          if (error) onError(error);
          done();
        }),
      );
      return;
    }
    try {
      this.fs.unlinkSync(segment.path);
    } catch (error) {
      onError(error);
    }
  }

  /** Closes a segment's descriptor once no fsync cycle runs, on the thread pool when the fs object has `close`. */
  private closeSegmentFile(segment: Segment): void {
    const fd = segment.fd;
    if (fd === null) return;
    segment.fd = null;
    segment.dirty = false;
    const close = this.fs.close;
    if (close === undefined) {
      this.fsyncScheduler.whenIdle(() => closeQuietly(this.fs, fd));
      return;
    }
    // Errors are ignored as in closeQuietly: the descriptor is gone either way.
    this.runInBackground((done) => this.fsyncScheduler.whenIdle(() => close.call(this.fs, fd, () => done())));
  }

  /** Starts `task`, which calls `done` when it ends; `close()` waits for every such task. */
  private runInBackground(task: (done: () => void) => void): void {
    this.backgroundTasks += 1;
    task(() => {
      this.backgroundTasks -= 1;
      if (this.backgroundTasks === 0) {
        const waiters = this.backgroundWaiters;
        this.backgroundWaiters = [];
        for (const resolve of waiters) resolve();
      }
    });
  }

  private whenBackgroundIdle(): Promise<void> {
    if (this.backgroundTasks === 0) return Promise.resolve();
    return new Promise((resolve) => this.backgroundWaiters.push(resolve));
  }

  /**
   * Closes the descriptors of full segments once they are fsynced. In `never` mode they are
   * closed unsynced, so the number of open files stays at one whatever the segment count.
   */
  private closeSealedSegmentFiles(): void {
    for (const segment of this.segments) {
      if (segment.sealed && segment.fd !== null && (!segment.dirty || this.fsyncMode === 'never')) {
        this.closeSegmentFile(segment);
      }
    }
  }

  // ----- fsync -----

  private collectUnsyncedDescriptors(): number[] {
    const descriptors: number[] = [];
    for (const segment of this.segments) {
      if (segment.fd !== null && segment.dirty) {
        descriptors.push(segment.fd);
        segment.dirty = false;
      }
    }
    if (this.metadataUnsynced && this.metadata.fd !== null) {
      descriptors.push(this.metadata.fd);
      this.metadataUnsynced = false;
    }
    if (this.directoryUnsynced && this.directoryFd !== null) {
      descriptors.push(this.directoryFd);
      this.directoryUnsynced = false;
    }
    return descriptors;
  }

  private onFsyncCycleEnd(error: Error | null): void {
    if (error !== null) this.emit('warning', this.recordError(`fsync in ${this.directory} failed`, error));
    if (this.state === 'open' || this.state === 'closing') this.closeSealedSegmentFiles();
  }

  private syncIfNeeded(): void {
    const unsynced =
      this.metadataUnsynced || this.directoryUnsynced || this.segments.some((segment) => segment.dirty && segment.fd !== null);
    if (unsynced) this.fsyncScheduler.request();
  }

  private recordError(action: string, error: unknown): BufferIOError {
    const wrapped = new BufferIOError(`${action} (${errorCode(error)}): ${toError(error).message}`, { cause: error });
    this.writeErrors += 1;
    this.lastError = wrapped;
    return wrapped;
  }

  // ----- reading -----

  /** Moves a cursor left in a removed segment to the start of the oldest live segment. */
  private resolveCursor(): void {
    if (this.cursorSegment !== null && !this.cursorSegment.removed) return;
    const head = this.segments[0] ?? null;
    if (this.cursorSegment === head && head === null) return;
    this.moveCursorTo(head);
  }

  private moveCursorTo(segment: Segment | null): void {
    if (this.reader !== null) {
      this.reader.close();
      this.reader = null;
    }
    this.cursorSegment = segment;
    this.cursorOffset = SEGMENT_HEADER_BYTES;
    this.cursorPreviousId = segment === null ? 0 : segment.firstId - 1;
  }

  /** Records on disk or pending that were not read yet; estimated after open, but never 0 while one is unread. */
  private get unreadOnDisk(): number {
    if (!this.hasUnread()) {
      this.unreadRecords = 0;
      this.unreadBytes = 0;
      return 0;
    }
    return Math.max(1, this.unreadRecords);
  }

  private hasUnread(): boolean {
    this.resolveCursor();
    let segment = this.cursorSegment;
    if (segment === null) return false;
    if (this.cursorOffset < segment.plannedBytes) return true;
    for (let index = this.segments.indexOf(segment) + 1; index < this.segments.length; index += 1) {
      segment = this.segments[index];
      if (segment.plannedBytes > SEGMENT_HEADER_BYTES) return true;
    }
    return false;
  }

  /**
   * Returns the record at the cursor without consuming it, skipping damage and acknowledged
   * records. Sets `peekedFromTail` when the record came from `tail` instead of the disk.
   */
  private peekRecord(): TailRecord | null {
    for (;;) {
      this.resolveCursor();
      const segment = this.cursorSegment;
      if (segment === null) return null;

      if (this.cursorOffset >= segment.plannedBytes) {
        const next = this.segments[this.segments.indexOf(segment) + 1];
        if (!segment.sealed || next === undefined) {
          // The reader is at the newest record: records written from now on are worth caching.
          this.tail.noteReaderAtPending();
          return null;
        }
        this.moveCursorTo(next);
        continue;
      }

      if (this.cursorOffset >= segment.writtenBytes) return this.peekPending(segment);

      const cached = this.tail.peek(segment, this.cursorOffset, this.cursorPreviousId);
      if (cached !== undefined) {
        this.peekedFromTail = true;
        return cached;
      }

      const damagedEnd = segment.damagedRanges.get(this.cursorOffset);
      if (damagedEnd !== undefined) {
        this.cursorOffset = damagedEnd;
        continue;
      }

      this.reader ??= new SegmentFileReader(this.fs, segment.path);
      let step;
      try {
        step = scanNext(this.reader, this.cursorOffset, segment.writtenBytes, this.cursorPreviousId);
      } catch (error) {
        this.skipUnreadableRange(segment, error);
        continue;
      }
      if (step.kind === 'end') {
        this.cursorOffset = segment.writtenBytes;
        continue;
      }
      if (step.kind === 'damaged') {
        this.reportDamage(segment, this.reader, step);
        this.cursorOffset = step.end;
        continue;
      }
      if (step.id <= this.skipThroughId) {
        this.cursorOffset += step.length;
        this.cursorPreviousId = step.id;
        continue;
      }
      const { buffer, index } = step.view;
      this.peekedFromTail = false;
      return new TailRecord(
        step.id,
        buffer.toString('utf8', index + RECORD_HEADER_BYTES, index + step.length),
        step.length - RECORD_HEADER_BYTES,
        segment,
        this.cursorOffset,
      );
    }
  }

  private peekPending(segment: Segment): TailRecord | null {
    this.tail.noteReaderAtPending();
    // The cursor takes pending records in order, so the search is not expected to run.
    const record =
      this.tail.peek(segment, this.cursorOffset, this.cursorPreviousId) ?? this.tail.findPending(segment, this.cursorOffset);
    if (record === undefined) return null;
    this.peekedFromTail = true;
    return record;
  }

  private consume(record: TailRecord, fromTail: boolean): void {
    const end = record.offset + RECORD_HEADER_BYTES + record.bytes;
    this.cursorOffset = end;
    this.cursorPreviousId = record.id;
    if (fromTail) this.tail.consume();
    else this.tail.noteDiskRead();
    this.unreadRecords = Math.max(0, this.unreadRecords - 1);
    this.unreadBytes = Math.max(0, this.unreadBytes - record.bytes);
    this.inFlight.push(record.id, record.bytes, record.segment, end);
  }

  private reportDamage(segment: Segment, reader: SegmentFileReader, range: DamagedRange): void {
    const lastId = range.nextId !== null ? range.nextId - 1 : this.lastIdOf(segment);
    const records = Math.max(0, lastId - this.cursorPreviousId);
    const where = this.quarantine.copy(reader, segment.name, range.start, range.end);
    segment.damagedRanges.set(range.start, range.end);
    this.corruptRecords += records;
    this.corruptBytes += range.end - range.start;
    this.unreadRecords = Math.max(0, this.unreadRecords - records);
    this.unreadBytes = Math.max(0, this.unreadBytes - Math.max(0, range.end - range.start - records * RECORD_HEADER_BYTES));
    this.emit('warning', damageWarning(segment, range.start, range.end, records, where));
  }

  /** Gives up on the written part of a segment the reader cannot read (EIO), counting it as damage. */
  private skipUnreadableRange(segment: Segment, error: unknown): void {
    const start = this.cursorOffset;
    const records = Math.max(0, (segment.writtenLastId ?? this.lastIdOf(segment)) - this.cursorPreviousId);
    this.corruptRecords += records;
    this.corruptBytes += segment.writtenBytes - start;
    this.unreadRecords = Math.max(0, this.unreadRecords - records);
    this.cursorOffset = segment.writtenBytes;
    this.cursorPreviousId = segment.writtenLastId ?? this.cursorPreviousId;
    this.reader?.close();
    this.reader = null;
    this.emit(
      'warning',
      this.recordError(`Reading ${segment.path} from offset ${start} failed; skipped ${countOf(records, 'record')}`, error),
    );
  }
}
