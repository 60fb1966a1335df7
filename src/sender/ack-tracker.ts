import type { QueueRecord } from '../buffer/queue.js';

interface ReadBatch {
  first: number;
  last: number;
  /** Records of this batch not yet confirmed. */
  remaining: number;
}

/**
 * Turns out-of-order confirmations into in-order queue acknowledgements. Records are read from
 * the queue in batches of increasing ids; connections confirm them in any order (round robin,
 * replays). A queue may only drop a prefix, so the tracker reports the last id of the longest
 * run of fully confirmed batches.
 */
export class AckTracker {
  private readonly batches: ReadBatch[] = [];
  private head = 0;
  private hint = 0;
  private outstanding = 0;

  /** Records read and not yet confirmed. */
  get pending(): number {
    return this.outstanding;
  }

  /** Registers records just read from the queue (ids increasing, all above earlier ones). */
  add(records: readonly QueueRecord[]): void {
    if (records.length === 0) return;
    this.batches.push({ first: records[0].id, last: records[records.length - 1].id, remaining: records.length });
    this.outstanding += records.length;
  }

  /** Marks the records with these ids confirmed; returns the id the queue may acknowledge up to, or -1 when the prefix did not move. */
  confirm(ids: ArrayLike<number>): number {
    const whole = ids.length > 0 ? this.find(ids[0]) : undefined;
    if (
      whole !== undefined &&
      whole.first === ids[0] &&
      whole.last === ids[ids.length - 1] &&
      whole.remaining === ids.length &&
      increasing(ids)
    ) {
      // The usual case: a connection confirms every open record of one batch, in id order.
      whole.remaining = 0;
      this.outstanding -= ids.length;
      return this.advance();
    }
    for (let index = 0; index < ids.length; index += 1) {
      const batch = this.find(ids[index]);
      if (batch === undefined) continue;
      batch.remaining -= 1;
      this.outstanding -= 1;
    }
    return this.advance();
  }

  /** Moves past the fully confirmed batches at the head; returns the last id of the last one, or -1 when none. */
  private advance(): number {
    let acked = -1;
    while (this.head < this.batches.length && this.batches[this.head].remaining === 0) {
      acked = this.batches[this.head].last;
      this.head += 1;
    }
    if (this.head > 1024 && this.head * 2 > this.batches.length) {
      this.batches.splice(0, this.head);
      this.hint = Math.max(0, this.hint - this.head);
      this.head = 0;
    }
    return acked;
  }

  private find(id: number): ReadBatch | undefined {
    const hinted = this.batches[this.hint];
    if (hinted !== undefined && this.hint >= this.head && hinted.first <= id && id <= hinted.last) return hinted;
    let low = this.head;
    let high = this.batches.length - 1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      const batch = this.batches[middle];
      if (id < batch.first) high = middle - 1;
      else if (id > batch.last) low = middle + 1;
      else {
        this.hint = middle;
        return batch;
      }
    }
    return undefined;
  }
}

/** True when every id is greater than the one before it. */
function increasing(ids: ArrayLike<number>): boolean {
  for (let index = 1; index < ids.length; index += 1) if (ids[index] <= ids[index - 1]) return false;
  return true;
}
