import { Buffer } from 'node:buffer';
import { join } from 'node:path';
import { BufferCorruptError, BufferIOError } from '../errors.js';
import { type DiskBufferFs, closeQuietly, errorCode, readFully } from './disk-fs.js';
import { countOf, directoryHint } from './messages.js';
import { type AckState, METADATA_FILE_NAME, MetadataFile } from './metadata.js';
import { QUARANTINE_DIRECTORY_NAME, type Quarantine } from './quarantine.js';
import { RECORD_HEADER_BYTES } from './record-format.js';
import {
  SEGMENT_HEADER_BYTES,
  Segment,
  type SegmentHeader,
  decodeSegmentHeader,
  parseSegmentFileName,
  segmentFileName,
} from './segment.js';
import { SegmentFileReader, scanNext } from './segment-reader.js';

export interface RecoveryInput {
  fs: DiskBufferFs;
  directory: string;
  metadata: MetadataFile;
  quarantine: Quarantine;
}

/** The queue state that `recoverDirectory` rebuilt from the directory. */
export interface RecoveredState {
  /** Live segments, oldest first. */
  segments: Segment[];
  /** Every record up to this id was acknowledged. */
  ackedId: number;
  /** Offset in `segments[0]` where reading resumes, or 0 when it starts after the segment header. */
  headAckOffset: number;
  /** Id for the next pushed record. */
  nextId: number;
  /** True when the newest segment takes further appends; its `fd` is then open for writing. */
  appendable: boolean;
  /** Unacknowledged records on disk. NOTE: estimated from segment headers without reading records, see `estimateUnread`. */
  unreadRecords: number;
  /** UTF-8 payload bytes of those records, estimated the same way. */
  unreadBytes: number;
  corruptRecords: number;
  corruptBytes: number;
  /** Segment files found missing, or cut below their header, at open. */
  missingSegments: number;
  /** Unacknowledged records known to be lost with those files, see `linkSegments`. */
  missingRecords: number;
  /** True when the metadata file is missing or damaged and must be written afresh. */
  rewriteMetadata: boolean;
  warnings: Error[];
}

/**
 * Rebuilds the queue state from the directory without reading the backlog: it lists the
 * files, reads the metadata, the 32-byte header of each segment and the whole newest segment
 * (at most `segmentBytes`), whose torn tail it truncates. Damage is reported in `warnings`.
 * Throws BufferIOError only when the directory cannot be created or listed.
 */
export function recoverDirectory(input: RecoveryInput): RecoveredState {
  const { fs, directory } = input;
  const warnings: Error[] = [];
  const names = listDirectory(fs, directory);

  const found: Array<{ firstId: number; name: string }> = [];
  const foreign: string[] = [];
  for (const name of names) {
    const firstId = parseSegmentFileName(name);
    if (firstId !== null) found.push({ firstId, name });
    else if (name !== METADATA_FILE_NAME && name !== QUARANTINE_DIRECTORY_NAME) foreign.push(name);
  }
  if (foreign.length > 0) {
    const shown = foreign.slice(0, 5).join(', ') + (foreign.length > 5 ? ', ...' : '');
    warnings.push(
      new BufferCorruptError(
        `Ignoring ${countOf(foreign.length, 'unknown file')} in the buffer directory ${directory}: ${shown}`,
      ),
    );
  }
  found.sort((a, b) => a.firstId - b.firstId);

  const loaded = input.metadata.load();
  const ack: AckState | null = loaded.state;
  if (loaded.problems.length > 0) {
    const consequence =
      ack === null
        ? 'all records on disk will be delivered again'
        : `using the older slot (acknowledged up to id ${ack.ackedId}); later acknowledgements may be delivered again`;
    warnings.push(
      new BufferCorruptError(`Metadata file ${input.metadata.path} ${loaded.problems.join(' and ')}: ${consequence}`),
    );
  }
  const ackedId = ack?.ackedId ?? 0;

  const { segments, cutSizes } = openSegments(fs, directory, found, ackedId, warnings);
  const missing = linkSegments(segments, ack, ackedId, cutSizes, warnings);

  let nextId = Math.max(ackedId + 1, 1);
  let appendable = false;
  let corruptRecords = 0;
  let corruptBytes = 0;
  const newest = segments.at(-1);
  if (newest !== undefined) {
    const tail = recoverNewestSegment(input, newest, ackedId, warnings);
    corruptRecords = tail.corruptRecords;
    corruptBytes = tail.corruptBytes;
    if (tail.cutBelowHeader) missing.segments += 1;
    if (tail.discard) {
      deleteQuietly(fs, newest.path);
      segments.pop();
      nextId = Math.max(nextId, newest.firstId);
    } else {
      const lastId = newest.lastId ?? newest.firstId - 1;
      nextId = Math.max(nextId, lastId + 1);
      appendable = tail.appendable && nextId === lastId + 1;
      if (!appendable && lastId < newest.firstId) {
        closeQuietly(fs, newest.fd);
        deleteQuietly(fs, newest.path);
        segments.pop();
      } else if (!appendable) {
        newest.sealed = true;
        closeQuietly(fs, newest.fd);
        newest.fd = null;
      }
    }
  }

  let headAckOffset = 0;
  const head = segments[0];
  if (ack !== null && head !== undefined && ack.headSegment === head.firstId && ack.headOffset >= SEGMENT_HEADER_BYTES) {
    headAckOffset = Math.min(ack.headOffset, head.writtenBytes);
  }

  const estimate = estimateUnread(segments, ackedId, headAckOffset, corruptBytes);
  return {
    segments,
    ackedId,
    headAckOffset,
    nextId,
    appendable,
    unreadRecords: estimate.records,
    unreadBytes: estimate.bytes,
    corruptRecords,
    corruptBytes,
    missingSegments: missing.segments,
    missingRecords: missing.records,
    rewriteMetadata: ack === null || loaded.problems.length > 0,
    warnings,
  };
}

function listDirectory(fs: DiskBufferFs, directory: string): string[] {
  try {
    fs.mkdirSync(directory, { recursive: true });
    return fs.readdirSync(directory);
  } catch (error) {
    const code = errorCode(error);
    throw new BufferIOError(`Cannot open the buffer directory ${directory} (${code}): ${directoryHint(code)}`, {
      cause: error,
    });
  }
}

/**
 * Stats every segment, deletes the ones left behind by an interrupted cleanup (every record
 * acknowledged, or an empty file that is not the newest) and reads each header. Returns the
 * segments and, by first id, the size of each deleted file that was shorter than a header,
 * whose loss `linkSegments` reports.
 */
function openSegments(
  fs: DiskBufferFs,
  directory: string,
  found: Array<{ firstId: number; name: string }>,
  ackedId: number,
  warnings: Error[],
): { segments: Segment[]; cutSizes: Map<number, number> } {
  const segments: Segment[] = [];
  const cutSizes = new Map<number, number>();
  for (let index = 0; index < found.length; index += 1) {
    const { firstId, name } = found[index];
    const path = join(directory, name);
    const next = found[index + 1];

    let size: number;
    try {
      const stat = fs.statSync(path);
      if (!stat.isFile()) {
        warnings.push(new BufferCorruptError(`Skipping segment ${path}: it is not a regular file`));
        continue;
      }
      size = stat.size;
    } catch (error) {
      warnings.push(new BufferIOError(`Skipping segment ${path}: stat failed (${errorCode(error)})`, { cause: error }));
      continue;
    }

    const fullyAcknowledged = next !== undefined && next.firstId - 1 <= ackedId;
    const empty = next !== undefined && size <= SEGMENT_HEADER_BYTES;
    if (fullyAcknowledged || empty) {
      if (!fullyAcknowledged && size < SEGMENT_HEADER_BYTES) cutSizes.set(firstId, size);
      deleteQuietly(fs, path);
      continue;
    }

    const { header, error } = readSegmentHeader(fs, path);
    const segment = new Segment(directory, firstId, header?.previousFirstId ?? 0, header?.previousLastId ?? 0, size);
    segment.headerValid = header !== null && header.firstId === firstId;
    if (error !== null) {
      warnings.push(
        new BufferIOError(
          `Reading the header of segment ${path} failed (${errorCode(error)}): check the owner and mode of the ` +
            'file. The reader tries it again when it reaches the segment, and skips its records if that fails too',
          { cause: error },
        ),
      );
    } else if (!segment.headerValid && size >= SEGMENT_HEADER_BYTES) {
      warnings.push(
        new BufferCorruptError(`Segment ${path} has a damaged header; its records are still read and checked one by one`),
      );
    }
    segments.push(segment);
  }
  return { segments, cutSizes };
}

/**
 * Reads and decodes a segment header. `header` is null when it is damaged or unreadable, and
 * `error` is the read error, or null.
 */
function readSegmentHeader(fs: DiskBufferFs, path: string): { header: SegmentHeader | null; error: unknown } {
  let fd: number | null = null;
  try {
    fd = fs.openSync(path, 'r');
    const buffer = Buffer.alloc(SEGMENT_HEADER_BYTES);
    const length = readFully(fs, fd, buffer, 0, SEGMENT_HEADER_BYTES, 0);
    return { header: length === SEGMENT_HEADER_BYTES ? decodeSegmentHeader(buffer) : null, error: null };
  } catch (error) {
    return { header: null, error };
  } finally {
    closeQuietly(fs, fd);
  }
}

/**
 * Takes the last id of each segment from the header of the next one, and reports segment files
 * deleted from the middle or the front of the queue by something other than the buffer.
 *
 * The header after a gap records the first and last id of the missing file just before it, so
 * that file's unacknowledged records are counted. NOTE: when several files in a row are missing,
 * the records of the earlier ones are not counted, because no surviving header records their ids.
 */
function linkSegments(
  segments: Segment[],
  ack: AckState | null,
  ackedId: number,
  cutSizes: Map<number, number>,
  warnings: Error[],
): { segments: number; records: number } {
  const missing = { segments: 0, records: 0 };
  for (let index = 1; index < segments.length; index += 1) {
    const previous = segments[index - 1];
    const segment = segments[index];
    if (!segment.headerValid) continue;
    if (segment.previousFirstId === previous.firstId) {
      previous.lastId = segment.previousLastId;
      previous.writtenLastId = segment.previousLastId;
    } else if (segment.previousFirstId > previous.firstId) {
      const loss = describeMissingSegment(segment, ackedId, cutSizes);
      missing.segments += 1;
      missing.records += loss.records;
      warnings.push(
        new BufferCorruptError(`Segment files between ${previous.name} and ${segment.name} are missing: ${loss.text}`),
      );
    }
  }
  // The segment before the oldest one is missing unless it was acknowledged, dropped by the
  // full policy (the metadata then names a later head) or never stored a record.
  const head = segments[0];
  if (
    head !== undefined &&
    head.headerValid &&
    head.previousLastId > ackedId &&
    (ack === null || head.previousFirstId >= ack.headSegment)
  ) {
    const loss = describeMissingSegment(head, ackedId, cutSizes);
    missing.segments += 1;
    missing.records += loss.records;
    warnings.push(new BufferCorruptError(`Segment files before ${head.name} are missing: ${loss.text}`));
  }
  return missing;
}

/** Counts the unacknowledged records of the missing segment that `next`'s header describes, and words the loss. */
function describeMissingSegment(
  next: Segment,
  ackedId: number,
  cutSizes: Map<number, number>,
): { records: number; text: string } {
  const from = Math.max(next.previousFirstId, ackedId + 1);
  const to = next.previousLastId;
  const records = Math.max(0, to - from + 1);
  const cutSize = cutSizes.get(next.previousFirstId);
  const name =
    segmentFileName(next.previousFirstId) +
    (cutSize === undefined ? '' : ` (found cut to ${countOf(cutSize, 'byte')}, below its header, and deleted)`);
  if (records === 0) return { records, text: `the last of them, ${name}, contained no unacknowledged records` };
  const ids = records === 1 ? `id ${from}` : `ids ${from} to ${to}`;
  return {
    records,
    text:
      `the last of them, ${name}, contained ${countOf(records, 'unacknowledged record')} (${ids}), ` +
      `which ${records === 1 ? 'is' : 'are'} lost`,
  };
}

interface TailResult {
  /** True when the file contains no header and no record, so it is deleted. */
  discard: boolean;
  /** True when the file is shorter than a segment header, so the number of records lost with it is unknown. */
  cutBelowHeader: boolean;
  appendable: boolean;
  corruptRecords: number;
  corruptBytes: number;
}

/**
 * Scans the newest segment from its first record. Damaged ranges followed by a valid record
 * are quarantined and counted. A damaged or incomplete range at the end of the file is a write
 * cut off by a crash, so the file is truncated to the valid prefix and appends continue there.
 */
function recoverNewestSegment(input: RecoveryInput, segment: Segment, ackedId: number, warnings: Error[]): TailResult {
  const { fs } = input;
  const result: TailResult = {
    discard: false,
    cutBelowHeader: false,
    appendable: false,
    corruptRecords: 0,
    corruptBytes: 0,
  };
  if (segment.writtenBytes < SEGMENT_HEADER_BYTES) {
    // The buffer writes the header together with the first records, so a shorter file lost
    // records: a crash cut its first write, or something else truncated it.
    result.discard = true;
    result.cutBelowHeader = true;
    warnings.push(
      new BufferCorruptError(
        `Segment ${segment.path} is ${countOf(segment.writtenBytes, 'byte')}, shorter than its ` +
          `${SEGMENT_HEADER_BYTES}-byte header (a crash during its first write, or the file was truncated), ` +
          `so it is deleted. Any unacknowledged records it contained, from id ` +
          `${Math.max(segment.firstId, ackedId + 1)} on, are lost, and their number is unknown`,
      ),
    );
    return result;
  }

  const reader = new SegmentFileReader(fs, segment.path);
  let offset = SEGMENT_HEADER_BYTES;
  let previousId = segment.firstId - 1;
  let lastId: number | null = null;
  let tornAt: number | null = null;
  try {
    for (;;) {
      const step = scanNext(reader, offset, segment.writtenBytes, previousId);
      if (step.kind === 'end') break;
      if (step.kind === 'record') {
        lastId = step.id;
        previousId = step.id;
        offset += step.length;
        continue;
      }
      if (step.nextId === null) {
        tornAt = step.start;
        break;
      }
      const records = step.nextId - previousId - 1;
      const where = input.quarantine.copy(reader, segment.name, step.start, step.end);
      segment.damagedRanges.set(step.start, step.end);
      result.corruptRecords += records;
      result.corruptBytes += step.end - step.start;
      warnings.push(damageWarning(segment, step.start, step.end, records, where));
      offset = step.end;
    }
  } catch (error) {
    // The rest of the file is left as it is, and the reader tries it later. New records go to
    // a new segment, with ids above any that the unread part could contain.
    warnings.push(new BufferIOError(`Reading segment ${segment.path} failed (${errorCode(error)})`, { cause: error }));
    segment.lastId = segment.firstId + Math.ceil((segment.writtenBytes - SEGMENT_HEADER_BYTES) / RECORD_HEADER_BYTES);
    return result;
  } finally {
    reader.close();
  }

  if (lastId === null && !segment.headerValid) {
    result.discard = true;
    return result;
  }
  segment.lastId = lastId ?? segment.firstId - 1;
  segment.writtenLastId = segment.lastId;

  const validEnd = tornAt ?? offset;
  result.appendable = segment.headerValid;
  try {
    segment.fd = fs.openSync(segment.path, 'r+');
    if (tornAt !== null) {
      fs.ftruncateSync(segment.fd, tornAt);
      warnings.push(
        new BufferCorruptError(
          `Truncated an incomplete record of ${segment.writtenBytes - tornAt} bytes at the end of ${segment.path} ` +
            `(a write cut off by a crash); appends continue after id ${segment.lastId}`,
        ),
      );
    }
  } catch (error) {
    warnings.push(
      new BufferIOError(`Cannot reopen ${segment.path} for appends (${errorCode(error)}): new records go to a new segment`, {
        cause: error,
      }),
    );
    result.appendable = false;
  }
  segment.writtenBytes = validEnd;
  segment.plannedBytes = validEnd;
  segment.sealed = !result.appendable;
  return result;
}

/** Builds the warning for one damaged range. */
export function damageWarning(segment: Segment, start: number, end: number, records: number, where: string): Error {
  return new BufferCorruptError(
    `Skipped ${end - start} damaged bytes at offset ${start} of ${segment.path} ` +
      `(${countOf(records, 'record')} lost); ${where}`,
  );
}

/**
 * Estimates the unacknowledged records and their payload bytes without reading the segments.
 * A segment contains the ids from its name up to the last id stored in the next segment's
 * header, so the estimate is exact unless records are damaged or segment files are missing.
 */
function estimateUnread(
  segments: Segment[],
  ackedId: number,
  headAckOffset: number,
  newestCorruptBytes: number,
): { records: number; bytes: number } {
  let records = 0;
  let diskBytes = -headAckOffset - newestCorruptBytes;
  segments.forEach((segment, index) => {
    const next = segments[index + 1];
    const lastId = segment.lastId ?? (next === undefined ? segment.firstId - 1 : firstIdAfter(segment, next) - 1);
    records += Math.max(0, lastId - Math.max(segment.firstId, ackedId + 1) + 1);
    diskBytes += segment.writtenBytes;
    if (index > 0 || headAckOffset === 0) diskBytes -= Math.min(SEGMENT_HEADER_BYTES, segment.writtenBytes);
  });
  return { records, bytes: Math.max(0, diskBytes - records * RECORD_HEADER_BYTES) };
}

/**
 * Returns the first id after `segment`'s records: that of `next`, or of the missing file between
 * them that `next`'s header names.
 */
function firstIdAfter(segment: Segment, next: Segment): number {
  return next.headerValid && next.previousFirstId > segment.firstId ? next.previousFirstId : next.firstId;
}

function deleteQuietly(fs: DiskBufferFs, path: string): void {
  try {
    fs.unlinkSync(path);
  } catch {
    // Left for the next open, which tries again.
  }
}
