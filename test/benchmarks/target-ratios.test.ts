import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { depthRatios, pairedRatio } from '../../benchmarks/compare/target-ratios.js';

describe('pairedRatio', () => {
  it('takes the median of per-round ratios', () => {
    // Round by round: 2.0, 0.5 and 0.5. The median rounds (150 and 100) would give 1.5.
    const flood = { finished: true, roundRates: [200, 50, 150] };
    const reference = { finished: true, roundRates: [100, 100, 300] };
    assert.equal(pairedRatio(flood, reference), 0.5);
  });

  it('pairs rounds that ran together', () => {
    // Each round runs at the reference's speed, while the machine's speed drifts.
    const flood = { finished: true, roundRates: [100, 200, 300] };
    const reference = { finished: true, roundRates: [100, 200, 300] };
    assert.equal(pairedRatio(flood, reference), 1);
  });

  it('returns NaN for a row that did not finish', () => {
    const reference = { finished: true, roundRates: [100] };
    assert.ok(Number.isNaN(pairedRatio({ finished: false, roundRates: [100] }, reference)));
    assert.ok(Number.isNaN(pairedRatio(undefined, reference)));
  });

  it('returns NaN for different round counts', () => {
    const flood = { finished: true, roundRates: [100, 100] };
    const reference = { finished: true, roundRates: [100] };
    assert.ok(Number.isNaN(pairedRatio(flood, reference)));
  });
});

describe('depthRatios', () => {
  const run = (spoolRateShallow: number, spoolRateDeep: number, drainRateWindow: number) => ({
    spoolRateShallow,
    spoolRateDeep,
    drainRateWindow,
  });

  it('divides each run by the run before it', () => {
    // The smaller backlog's runs drift from 100 to 300, and each larger run is 0.95 of its partner.
    // The medians given beside them (190 and 300) would give 0.63.
    const smaller = { ...run(1, 1, 300), runs: [run(1, 1, 100), run(1, 1, 200), run(1, 1, 300)] };
    const larger = { ...run(1, 1, 190), runs: [run(1, 1, 95), run(1, 1, 190), run(1, 1, 285)] };
    assert.equal(depthRatios(larger, smaller).drain, 0.95);
  });

  it('takes the spool ratio within each larger run', () => {
    const smaller = { ...run(1, 1, 1), runs: [run(1, 1, 1), run(1, 1, 1), run(1, 1, 1)] };
    // Per run: 0.9, 0.5 and 1.2. The medians given beside them (100 and 60) would give 0.6.
    const larger = { ...run(100, 60, 1), runs: [run(100, 90, 1), run(200, 100, 1), run(50, 60, 1)] };
    assert.equal(depthRatios(larger, smaller).spool, 0.9);
  });

  it('divides the medians without per-run rates', () => {
    const ratios = depthRatios(run(100, 80, 90), run(1, 1, 100));
    assert.equal(ratios.spool, 0.8);
    assert.equal(ratios.drain, 0.9);
  });

  it('divides the medians for different run counts', () => {
    const smaller = { ...run(1, 1, 100), runs: [run(1, 1, 100)] };
    const larger = { ...run(1, 1, 80), runs: [run(1, 1, 50), run(1, 1, 60)] };
    assert.equal(depthRatios(larger, smaller).drain, 0.8);
  });
});
