import type { QueueRecord } from '../buffer/queue.js';
import type { Strategy, UpstreamView } from './strategy.js';

/**
 * Smooth weighted round robin (the algorithm nginx uses) over the upstreams that are up. Each
 * pick adds every weight to its upstream's running score, takes the highest score and subtracts
 * the total weight from it. That spreads picks evenly instead of in bursts. Backups take part
 * only while no primary is up. An upstream that cannot take data right now is skipped.
 */
export class RoundRobinStrategy implements Strategy {
  readonly name = 'round-robin';
  /** Running score of each upstream, by its index; 0 for one that is not in the rotation. */
  private readonly scores: number[] = [];

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
