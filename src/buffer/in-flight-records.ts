import type { Segment } from './segment.js';

/** Slots the ring starts with. */
const INITIAL_CAPACITY = 1024;

/** A ring larger than this shrinks back to `INITIAL_CAPACITY` once it is empty; a smaller one keeps its slots for the next read. */
const KEPT_CAPACITY = 64 * 1024;

/**
 * The records that a DiskBuffer's `read` returned and `ack` has not confirmed yet, oldest first:
 * for each, its id, its payload bytes, its segment and the offset just past it in that segment.
 *
 * With three TCP upstreams, each keeping a 100,000-record replay window, 300,000 records can be
 * in flight. Plain arrays of that length, cut from the front by `ack`, cost a copy of what remains
 * per cut and end up in the old generation, where every mark-compact scans them. Here the numbers
 * live in typed arrays used as a ring, which doubles when full and whose memory is outside the
 * JavaScript heap: 20 bytes per slot, so 300,000 records take a ring of 524,288 slots, 10 MiB.
 * Segments are kept once per run of records that share one, because records are read in order
 * and a segment contains thousands of them.
 */
export class InFlightRecords {
  private ids = new Float64Array(INITIAL_CAPACITY);
  /** Payload bytes, which `MAX_RECORD_BYTES` keeps far below 2^32. */
  private sizes = new Uint32Array(INITIAL_CAPACITY);
  private ends = new Float64Array(INITIAL_CAPACITY);
  /** Slot of the oldest record. */
  private head = 0;
  private length = 0;
  /** Payload bytes of the records in flight. */
  private totalBytes = 0;
  /** Segment of each run of records, oldest first from `runHead`, and the records left in it. */
  private runSegments: Array<Segment | undefined> = [];
  private runCounts: number[] = [];
  private runHead = 0;
  /** Set by `ackThrough`: id of the last record it removed. */
  lastAckedId = 0;
  /**
   * Set by `ackThrough`: the segment of the last removed record whose segment was not deleted,
   * and the offset just past that record, or null when every removed record's segment was deleted.
   */
  lastStoredSegment: Segment | null = null;
  lastStoredEnd = 0;

  get count(): number {
    return this.length;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  /** Slots of the ring: at least `count`, and back to 1,024 once a deep window has emptied. */
  get capacity(): number {
    return this.ids.length;
  }

  push(id: number, bytes: number, segment: Segment, end: number): void {
    if (this.length === this.ids.length) this.grow();
    const slot = (this.head + this.length) & (this.ids.length - 1);
    this.ids[slot] = id;
    this.sizes[slot] = bytes;
    this.ends[slot] = end;
    this.length += 1;
    this.totalBytes += bytes;
    const lastRun = this.runSegments.length - 1;
    if (lastRun >= this.runHead && this.runSegments[lastRun] === segment) {
      this.runCounts[lastRun] += 1;
    } else {
      this.runSegments.push(segment);
      this.runCounts.push(1);
    }
  }

  /**
   * Removes the oldest records with an id up to `id` and returns how many it removed. When it
   * removed any, `lastAckedId`, `lastStoredSegment` and `lastStoredEnd` describe them.
   */
  ackThrough(id: number): number {
    const mask = this.ids.length - 1;
    let removed = 0;
    let lastStored = -1;
    let lastStoredSegment: Segment | null = null;
    let slot = this.head;
    while (removed < this.length && this.ids[slot] <= id) {
      const segment = this.runSegments[this.runHead] as Segment;
      // Records read from a batch whose write failed have no segment to advance in.
      if (!segment.removed) {
        lastStored = slot;
        lastStoredSegment = segment;
      }
      this.totalBytes -= this.sizes[slot];
      removed += 1;
      slot = (slot + 1) & mask;
      this.runCounts[this.runHead] -= 1;
      if (this.runCounts[this.runHead] === 0) {
        // Released, so that the ring keeps no segment after its last record.
        this.runSegments[this.runHead] = undefined;
        this.runHead += 1;
      }
    }
    if (removed === 0) return 0;

    this.lastAckedId = this.ids[(slot - 1) & mask];
    this.lastStoredSegment = lastStoredSegment;
    this.lastStoredEnd = lastStored >= 0 ? this.ends[lastStored] : 0;
    this.head = slot;
    this.length -= removed;
    if (this.length === 0) this.reset();
    else if (this.runHead > 64 && this.runHead * 2 > this.runSegments.length) this.compactRuns();
    return removed;
  }

  /** Empties the ring, and gives back the memory a deep window took. */
  private reset(): void {
    this.head = 0;
    this.totalBytes = 0;
    this.runSegments = [];
    this.runCounts = [];
    this.runHead = 0;
    if (this.ids.length > KEPT_CAPACITY) {
      this.ids = new Float64Array(INITIAL_CAPACITY);
      this.sizes = new Uint32Array(INITIAL_CAPACITY);
      this.ends = new Float64Array(INITIAL_CAPACITY);
    }
  }

  private compactRuns(): void {
    this.runSegments = this.runSegments.slice(this.runHead);
    this.runCounts = this.runCounts.slice(this.runHead);
    this.runHead = 0;
  }

  /** Doubles the ring, moving the records to slots 0 onward in order. */
  private grow(): void {
    this.ids = doubled(this.ids, this.head);
    this.sizes = doubled(this.sizes, this.head);
    this.ends = doubled(this.ends, this.head);
    this.head = 0;
  }
}

/** Copies a full ring that starts at slot `head` into the front of a ring twice its size. */
function doubled<Ring extends Float64Array<ArrayBuffer> | Uint32Array<ArrayBuffer>>(ring: Ring, head: number): Ring {
  const grown = new (ring.constructor as new (length: number) => Ring)(2 * ring.length);
  grown.set(ring.subarray(head));
  grown.set(ring.subarray(0, head), ring.length - head);
  return grown;
}
