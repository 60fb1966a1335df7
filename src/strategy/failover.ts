import { InvalidOptionError } from '../errors.js';
import type { QueueRecord } from '../buffer/queue.js';
import type { Strategy, UpstreamView } from './strategy.js';

export interface FailoverStrategyOptions {
  /**
   * Probes an upstream that went down must pass, after it is up again, before it takes traffic
   * back from a lower-priority one. Default 3 (with the pool's default 2 s probe interval, about
   * 4 s of stable service).
   */
  failbackProbes?: number;
}

/**
 * Primary first, then backups in order: every record goes to the first usable upstream, where
 * primaries (not `backup`) come before backups and each group keeps the order of the list. An
 * upstream that has gone down is usable again once it passed `failbackProbes` probes, so traffic
 * fails back to the primary only after it proved stable.
 */
export class FailoverStrategy implements Strategy {
  readonly name = 'failover';
  readonly exclusive = true;
  readonly failbackProbes: number;

  constructor(options: FailoverStrategyOptions = {}) {
    const probes = options.failbackProbes ?? 3;
    if (!Number.isInteger(probes) || probes < 1) {
      throw new InvalidOptionError(`Invalid failbackProbes ${String(probes)}: expected a positive integer`);
    }
    this.failbackProbes = probes;
  }

  select(upstreams: readonly UpstreamView[], _record: QueueRecord): UpstreamView | undefined {
    let fallback: UpstreamView | undefined;
    for (const backup of [false, true]) {
      for (const upstream of upstreams) {
        if (upstream.backup !== backup || upstream.status !== 'up') continue;
        if (upstream.failures === 0 || upstream.probesPassed >= this.failbackProbes) return upstream;
        fallback ??= upstream;
      }
    }
    // Nothing has proved stable yet: an upstream that is up but still on probation beats waiting.
    return fallback;
  }
}
