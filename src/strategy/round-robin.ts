import type { QueueRecord } from '../buffer/queue.js';
import { InvalidOptionError } from '../errors.js';
import { describe } from '../format/format-options.js';
import type { Strategy, UpstreamView } from './strategy.js';

/**
 * Default of `recordsPerPick`. A full batch of 1,024 records still makes 16 picks. Of 1, 16, 64 and
 * 256, runs of 64 gave the best flood throughput with three collectors relative to one (the
 * numbers are in docs/round-robin-strategy.md).
 */
export const DEFAULT_RECORDS_PER_PICK = 64;

export interface RoundRobinStrategyOptions {
  /**
   * Maximum consecutive records of a batch that go to the upstream of one pick. Default 64. With 1,
   * the strategy picks an upstream for every record, and three upstreams get records 1, 4, 7 and so
   * on.
   */
  recordsPerPick?: number;
}

/**
 * Smooth weighted round robin (the algorithm nginx uses) over the upstreams that are up. Each
 * pick adds every weight to its upstream's running score, takes the highest score and subtracts
 * the total weight from it. That spreads picks evenly instead of in bursts. Backups take part
 * only while no primary is up. An upstream that cannot take data right now is skipped.
 *
 * One pick places a run of at most `recordsPerPick` consecutive records of a batch, so that each
 * connection encodes and writes a few long runs instead of every third record.
 */
export class RoundRobinStrategy implements Strategy {
  readonly name = 'round-robin';
  /** Records placed by one `select` call, set by the `recordsPerPick` option. */
  readonly recordsPerSelect: number;
  /** Running score of each upstream, by its index; 0 for one that is not in the rotation. */
  private readonly scores: number[] = [];

  constructor(options: RoundRobinStrategyOptions = {}) {
    if (options === null || typeof options !== 'object') {
      throw new InvalidOptionError(`Invalid RoundRobinStrategy options ${describe(options)}: expected an object or nothing`);
    }
    const recordsPerPick = options.recordsPerPick ?? DEFAULT_RECORDS_PER_PICK;
    if (typeof recordsPerPick !== 'number' || !Number.isSafeInteger(recordsPerPick) || recordsPerPick < 1) {
      throw new InvalidOptionError(
        `Invalid recordsPerPick ${describe(recordsPerPick)}: expected a positive integer, ` +
          `such as ${DEFAULT_RECORDS_PER_PICK} (the default), or 1 to pick an upstream for every record`,
      );
    }
    this.recordsPerSelect = recordsPerPick;
  }

  select(upstreams: readonly UpstreamView[], _record: QueueRecord): UpstreamView | undefined {
    let primariesUp = false;
    for (let index = 0; index < upstreams.length; index += 1) {
      if (!upstreams[index].backup && upstreams[index].status === 'up') {
        primariesUp = true;
        break;
      }
    }
    const scores = this.scores;
    let best: UpstreamView | undefined;
    let bestScore = Number.NEGATIVE_INFINITY;
    let total = 0;
    for (let index = 0; index < upstreams.length; index += 1) {
      const upstream = upstreams[index];
      if (upstream.status !== 'up' || upstream.backup === primariesUp) {
        scores[upstream.index] = 0;
        continue;
      }
      // A busy upstream (a full socket buffer or RELP window) sits this pick out and keeps its
      // score, so one slow collector does not hold up the others.
      if (upstream.writable === false) continue;
      const score = (scores[upstream.index] ?? 0) + upstream.weight;
      scores[upstream.index] = score;
      total += upstream.weight;
      if (score > bestScore) {
        best = upstream;
        bestScore = score;
      }
    }
    if (best !== undefined) scores[best.index] = bestScore - total;
    return best;
  }
}
