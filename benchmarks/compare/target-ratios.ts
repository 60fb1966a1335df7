/**
 * The estimators behind the ratio targets of the report. They take only the numbers they use,
 * so that tests can call them without the benchmark's dependencies.
 */
import { median } from './shared.js';

/** The part of a flood result that `pairedRatio` reads. */
export interface RoundRates {
  finished: boolean;
  /** Events/s of each flood round, in run order. */
  roundRates: number[];
}

/** The rates of one backlog run that the depth target compares. */
export interface BacklogRunRates {
  spoolRateShallow: number;
  spoolRateDeep: number;
  drainRateWindow: number;
}

/** The part of a backlog result that `depthRatios` reads: medians over runs, and each run's rates. */
export interface BacklogRates extends BacklogRunRates {
  runs?: readonly BacklogRunRates[];
}

/**
 * Returns the median over rounds of `flood`'s rate divided by `reference`'s rate in the same
 * round, for rows that take turns round by round. Returns NaN when either row did not finish or
 * the two ran a different number of rounds. Each pair of rounds ran within about a second, while
 * the median rounds of two rows may come from different moments of the run.
 */
export function pairedRatio(flood: RoundRates | undefined, reference: RoundRates | undefined): number {
  if (!flood?.finished || !reference?.finished || flood.roundRates.length !== reference.roundRates.length) return Number.NaN;
  return median(flood.roundRates.map((rate, round) => rate / reference.roundRates[round]));
}

/**
 * Computes the two ratios of the depth target, each the median over runs. The spool ratio divides
 * the last tenth's rate by the second tenth's in each run of the larger backlog. The drain ratio
 * divides the larger backlog's window rate by the smaller one's, run by run, because the two took
 * turns. Without per-run rates, or with a different number of runs, it divides the medians.
 */
export function depthRatios(larger: BacklogRates, smaller: BacklogRates): { spool: number; drain: number } {
  const runs = larger.runs ?? [];
  const smallerRuns = smaller.runs ?? [];
  const spool = runs.length > 0 ? median(runs.map((run) => run.spoolRateDeep / run.spoolRateShallow)) : larger.spoolRateDeep / larger.spoolRateShallow;
  const drain =
    runs.length > 0 && runs.length === smallerRuns.length
      ? median(runs.map((run, index) => run.drainRateWindow / smallerRuns[index].drainRateWindow))
      : larger.drainRateWindow / smaller.drainRateWindow;
  return { spool, drain };
}
