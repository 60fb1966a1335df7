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
  private readonly scores = new Map<number, number>();

  select(upstreams: readonly UpstreamView[], _record: QueueRecord): UpstreamView | undefined {
    const primariesUp = upstreams.some((upstream) => !upstream.backup && upstream.status === 'up');
    let best: UpstreamView | undefined;
    let bestScore = Number.NEGATIVE_INFINITY;
    let total = 0;
    for (const upstream of upstreams) {
      if (upstream.status !== 'up' || upstream.backup === primariesUp) {
        this.scores.delete(upstream.index);
        continue;
      }
      // A busy upstream (a full socket buffer or RELP window) sits this pick out and keeps its
      // score, so one slow collector does not hold up the others.
      if (upstream.writable === false) continue;
      const score = (this.scores.get(upstream.index) ?? 0) + upstream.weight;
      this.scores.set(upstream.index, score);
      total += upstream.weight;
      if (score > bestScore) {
        best = upstream;
        bestScore = score;
      }
    }
    if (best !== undefined) this.scores.set(best.index, bestScore - total);
    return best;
  }
}
