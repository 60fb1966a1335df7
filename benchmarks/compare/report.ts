/** Turns the scenario results into Markdown tables, ratios and target verdicts. */
import os from 'node:os';
import type { BacklogResult } from './backlog.js';
import type { FloodResult, PacedResult, RunnerResult } from './runner.js';
import type { BacklogScenario, Scenario, SenderScenario } from './shared.js';
import { depthRatios, pairedRatio } from './target-ratios.js';

export interface ScenarioOutcome {
  scenario: Scenario;
  result: RunnerResult;
}

const BATCHED_NAME = 'hand-written, 64 KiB batches';
const MEMORY_TCP_NAME = 'resilient-syslog memory tcp x1';
const DISK_BATCH_TCP_NAME = 'resilient-syslog disk-batch tcp x1';
const PINO_NAME = 'pino + pino-syslog + pino-socket';

function integer(value: number): string {
  return Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : '-';
}

function decimal(value: number, digits: number): string {
  return Number.isFinite(value) ? value.toFixed(digits) : '-';
}

function ratio(value: number, reference: number): string {
  return Number.isFinite(value) && Number.isFinite(reference) && reference > 0 ? `${(value / reference).toFixed(2)}x` : '-';
}

function loss(events: number, counted: number): string {
  if (counted >= events) return '0';
  return `${integer(events - counted)} (${(((events - counted) / events) * 100).toFixed(1)} %)`;
}

function floodOf(outcomes: ScenarioOutcome[], name: string): FloodResult | undefined {
  const outcome = outcomes.find((candidate) => candidate.scenario.name === name);
  return outcome?.result.kind === 'sender' ? outcome.result.flood : undefined;
}

function pacedOf(outcomes: ScenarioOutcome[], name: string): PacedResult | undefined {
  const outcome = outcomes.find((candidate) => candidate.scenario.name === name);
  return outcome?.result.kind === 'sender' ? outcome.result.paced : undefined;
}

function rateOf(flood: FloodResult | undefined): number {
  return flood?.finished ? flood.eventsPerSecond : Number.NaN;
}

/** Formats a target's ratio with two decimals, or three where two would round a miss up to the threshold. */
function targetRatio(value: number, threshold: number): string {
  if (!Number.isFinite(value)) return '-';
  const text = value.toFixed(2);
  return value < threshold && Number(text) >= threshold ? `${value.toFixed(3)}x` : `${text}x`;
}

function throughputTable(outcomes: ScenarioOutcome[]): string[] {
  const reference = rateOf(floodOf(outcomes, BATCHED_NAME));
  const lines = [
    '| Sender | Events/s | Rounds, events/s | Ratio to batched | CPU µs/event | Main thread CPU µs/event | Sink CPU µs/event | Heap peak MiB | Heap retained MiB | Mark-compacts | Frame bytes | Loss | Latency p50 / p99 ms |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const { scenario, result } of outcomes) {
    if (scenario.kind !== 'sender') continue;
    if (result.kind === 'error') {
      lines.push(`| ${scenario.name} | ${result.message.split('\n')[0]} | | | | | | | | | | | |`);
      continue;
    }
    if (result.kind !== 'sender') continue;
    const flood = result.flood;
    const rate = flood.finished ? integer(flood.eventsPerSecond) : `did not finish (${integer(flood.counted)} counted)`;
    lines.push(
      `| ${scenario.name} | ${rate} | ${roundRange(flood.roundRates)} | ${ratio(rateOf(flood), reference)} | ${decimal(flood.cpuMicrosPerEvent, 2)} | ${decimal(flood.mainThreadCpuMicrosPerEvent, 2)} | ` +
        `${decimal(flood.sinkCpuMicrosPerEvent, 2)} | ` +
        `${decimal(flood.heapPeakMiB, 1)} | ${decimal(flood.heapRetainedMiB, 1)} | ${flood.markCompacts} | ${decimal(flood.frameBytes, 0)} | ` +
        `${loss(flood.events, flood.counted)} | ${decimal(flood.latency.p50Ms, 1)} / ${decimal(flood.latency.p99Ms, 1)} |`,
    );
  }
  return lines;
}

/** Returns the lowest and highest rate of the flood rounds, in thousands of events/s. */
function roundRange(rates: number[]): string {
  const finished = rates.filter((rate) => Number.isFinite(rate));
  if (finished.length < 2) return '-';
  return `${Math.round(Math.min(...finished) / 1000)}k to ${Math.round(Math.max(...finished) / 1000)}k`;
}

function pacedTable(outcomes: ScenarioOutcome[]): string[] {
  const lines = [
    '| Sender | Achieved events/s | CPU µs/event | Latency p50 ms | Latency p99 ms | Event-loop delay p99 ms | Max ms | Loss |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const { scenario, result } of outcomes) {
    if (scenario.kind !== 'sender' || result.kind !== 'sender') continue;
    const paced = result.paced;
    if (paced === undefined) continue;
    const late = paced.finished ? '' : ' (did not finish)';
    lines.push(
      `| ${scenario.name}${late} | ${integer(paced.achievedRate)} | ${decimal(paced.cpuMicrosPerEvent, 2)} | ` +
        `${decimal(paced.latency.p50Ms, 2)} | ${decimal(paced.latency.p99Ms, 2)} | ${decimal(paced.eventLoopDelayP99Ms, 2)} | ` +
        `${decimal(paced.eventLoopDelayMaxMs, 1)} | ${loss(paced.events, paced.counted)} |`,
    );
  }
  return lines;
}

function backlogsOf(outcomes: ScenarioOutcome[]): Array<{ scenario: BacklogScenario; backlog: BacklogResult }> {
  const found: Array<{ scenario: BacklogScenario; backlog: BacklogResult }> = [];
  for (const { scenario, result } of outcomes) {
    if (scenario.kind === 'backlog' && result.kind === 'backlog') found.push({ scenario, backlog: result.backlog });
  }
  return found;
}

/** Finds the run of the same queue with the smaller backlog, whose drain window the larger run is compared with. */
function smallerBacklogOf(
  outcomes: ScenarioOutcome[],
  scenario: BacklogScenario,
): { scenario: BacklogScenario; backlog: BacklogResult } | undefined {
  return backlogsOf(outcomes).find(
    (other) => other.scenario.queue === scenario.queue && other.scenario.events === scenario.drainWindowOf && other.scenario !== scenario,
  );
}

function backlogTable(outcomes: ScenarioOutcome[]): string[] {
  const lines = [
    '| Queue | Events | RSS peak above idle MiB | Heap peak above idle MiB | Spool events/s | Spool, 2nd tenth | Spool, last tenth | Last / 2nd | Drain events/s | Drain, window | Window ratio to smaller backlog | Event-loop delay while draining, p99 / max ms |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const { scenario, backlog } of backlogsOf(outcomes)) {
    const smaller = smallerBacklogOf(outcomes, scenario);
    lines.push(
      `| ${scenario.queue} | ${integer(backlog.events)} | ${decimal(backlog.rssPeakAboveIdleMiB, 1)} | ` +
        `${decimal(backlog.heapPeakAboveIdleMiB, 1)} | ${integer(backlog.spoolRate)} | ${integer(backlog.spoolRateShallow)} | ` +
        `${integer(backlog.spoolRateDeep)} | ${ratio(backlog.spoolRateDeep, backlog.spoolRateShallow)} | ` +
        `${integer(backlog.drainRate)} | ${integer(backlog.drainRateWindow)} | ` +
        `${smaller ? ratio(backlog.drainRateWindow, smaller.backlog.drainRateWindow) : '-'} | ` +
        `${decimal(backlog.drainEventLoopDelayP99Ms, 1)} / ${decimal(backlog.drainEventLoopDelayMaxMs, 1)} |`,
    );
  }
  for (const { scenario, result } of outcomes) {
    if (scenario.kind === 'backlog' && result.kind === 'error') {
      lines.push(`| ${scenario.queue} | ${integer(scenario.events)} | ${result.message.split('\n')[0]} | | | | | | | | | |`);
    }
  }
  return lines;
}

interface Verdict {
  target: string;
  measured: string;
  met: boolean | undefined;
}

function verdicts(outcomes: ScenarioOutcome[]): Verdict[] {
  const memoryFlood = floodOf(outcomes, MEMORY_TCP_NAME);
  const batchedFlood = floodOf(outcomes, BATCHED_NAME);
  const diskFlood = floodOf(outcomes, DISK_BATCH_TCP_NAME);
  const memory = rateOf(memoryFlood);
  const batched = rateOf(batchedFlood);
  const pino = rateOf(floodOf(outcomes, PINO_NAME));
  const disk = rateOf(diskFlood);
  // The rows of these two targets take turns, so each compares them round by round (see pairedRatio).
  const memoryToBatched = pairedRatio(memoryFlood, batchedFlood);
  const diskToMemory = pairedRatio(diskFlood, memoryFlood);
  const paced = pacedOf(outcomes, MEMORY_TCP_NAME);
  const judge = (value: number, passes: (value: number) => boolean) => (Number.isFinite(value) ? passes(value) : undefined);

  const result: Verdict[] = [
    {
      target: 'memory queue over TCP >= 1.0x the hand-written batched writer (median of per-round ratios)',
      measured: `${targetRatio(memoryToBatched, 1.0)} (median rounds: ${ratio(memory, batched)})`,
      met: judge(memoryToBatched, (value) => value >= 1.0),
    },
    {
      target: 'memory queue over TCP >= 6x pino',
      measured: ratio(memory, pino),
      met: judge(memory / pino, (value) => value >= 6),
    },
    {
      target: "DiskBuffer fsync 'batch' >= 0.5x memory queue (TCP, one collector; median of per-round ratios)",
      measured: `${targetRatio(diskToMemory, 0.5)} (median rounds: ${ratio(disk, memory)})`,
      met: judge(diskToMemory, (value) => value >= 0.5),
    },
    {
      target: 'event-loop delay p99 < 10 ms at 100,000 events/s (memory queue, TCP)',
      measured: paced ? `${decimal(paced.eventLoopDelayP99Ms, 2)} ms at ${integer(paced.achievedRate)} events/s` : '-',
      met: paced ? paced.eventLoopDelayP99Ms < 10 && paced.achievedRate >= 95_000 : undefined,
    },
  ];

  for (const { scenario, backlog } of backlogsOf(outcomes)) {
    const smaller = smallerBacklogOf(outcomes, scenario);
    if (smaller === undefined) continue;
    const events = integer(backlog.events);
    if (scenario.queue === 'disk-batch') {
      result.push({
        target: `RSS <= 64 MiB above idle while ${events} events spool to DiskBuffer (fsync batch)`,
        measured: `${decimal(backlog.rssPeakAboveIdleMiB, 1)} MiB`,
        met: backlog.rssPeakAboveIdleMiB <= 64,
      });
    }
    const { spool, drain } = depthRatios(backlog, smaller.backlog);
    result.push({
      target: `${scenario.queue}: events/s with ${events} queued no more than 10 % below ${integer(smaller.backlog.events)} queued (spool; drain; median of per-run ratios)`,
      measured:
        `${targetRatio(spool, 0.9)}; ${targetRatio(drain, 0.9)} ` +
        `(medians: ${ratio(backlog.spoolRateDeep, backlog.spoolRateShallow)}; ${ratio(backlog.drainRateWindow, smaller.backlog.drainRateWindow)})`,
      met: Number.isFinite(spool) && Number.isFinite(drain) ? spool >= 0.9 && drain >= 0.9 : undefined,
    });
  }
  return result;
}

/** Returns the distinct values in ascending order, joined with "or" (for example "3 or 7"). */
function distinctText(values: number[], format: (value: number) => string): string {
  return [...new Set(values)].sort((a, b) => a - b).map(format).join(' or ');
}

function roundsText(rounds: number[]): string {
  return rounds.length === 1 && rounds[0] === 1 ? '1 round' : `the median of ${distinctText(rounds, String)} rounds`;
}

/** Describes the flood rounds of the sender rows, with the count of the rows that take turns apart when it differs. */
function describeRounds(senders: SenderScenario[]): string {
  const alone = [...new Set(senders.filter((scenario) => !scenario.interleaved).map((scenario) => scenario.floodRounds))];
  const inTurns = [...new Set(senders.filter((scenario) => scenario.interleaved).map((scenario) => scenario.floodRounds))];
  if (alone.length === 0) return roundsText(inTurns);
  if (inTurns.length === 0 || (inTurns.length === 1 && alone.length === 1 && inTurns[0] === alone[0])) return roundsText(alone);
  return `${roundsText(alone)} (${distinctText(inTurns, String)} for the rows that take turns)`;
}

/**
 * Describes the rate and duration of the paced runs that produced a result. The setting of most
 * rows comes first, then each other setting with the rows that used it.
 */
function describePaced(outcomes: ScenarioOutcome[]): string {
  const groups = new Map<string, { rate: number; seconds: number; names: string[] }>();
  for (const { scenario, result } of outcomes) {
    if (scenario.kind !== 'sender' || result.kind !== 'sender' || result.paced === undefined) continue;
    const key = `${scenario.pacedRate}/${scenario.pacedSeconds}`;
    const group = groups.get(key) ?? { rate: scenario.pacedRate, seconds: scenario.pacedSeconds, names: [] };
    group.names.push(`"${scenario.name}"`);
    groups.set(key, group);
  }
  if (groups.size === 0) return 'no paced runs';

  // Array.prototype.sort is stable, so groups of equal size keep the order of the report's rows.
  const [main, ...others] = [...groups.values()].sort((a, b) => b.names.length - a.names.length);
  const parts = [`${integer(main.rate)} events/s for ${main.seconds} s`];
  for (const other of others) {
    const rate = other.rate === main.rate ? '' : ` ${integer(other.rate)} events/s`;
    parts.push(`and${rate} for ${other.seconds} s in ${other.names.join(' and ')}`);
  }
  return `paced: ${parts.join(', ')}`;
}

/** Describes the flood and paced settings of the sender rows in the report, or returns '' without such rows. */
function describeSettings(outcomes: ScenarioOutcome[]): string {
  const senders = outcomes.map((outcome) => outcome.scenario).filter((scenario): scenario is SenderScenario => scenario.kind === 'sender');
  if (senders.length === 0) return '';
  const floodEvents = distinctText(senders.map((scenario) => scenario.floodEvents), integer);
  const warmupEvents = distinctText(senders.map((scenario) => scenario.warmupEvents), integer);
  return (
    `Flood: ${floodEvents} events after ${warmupEvents} warm-up events, ${describeRounds(senders)}; ` +
    `${describePaced(outcomes)}. Ratios compare rows of this run only.`
  );
}

export function formatReport(outcomes: ScenarioOutcome[], run: { seconds: number; quick: boolean }): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const hasSenders = outcomes.some((outcome) => outcome.scenario.kind === 'sender');
  const hasPaced = outcomes.some((outcome) => outcome.result.kind === 'sender' && outcome.result.paced !== undefined);
  const hasBacklogs = outcomes.some((outcome) => outcome.scenario.kind === 'backlog');
  // A quick run is too short for its numbers to mean anything, so its targets get no verdict.
  const verdictText = (met: boolean | undefined): string => {
    if (met === undefined) return 'not measured';
    if (run.quick) return 'not judged in a --quick run';
    return met ? 'met' : 'missed';
  };
  const settings = describeSettings(outcomes);
  const lines: string[] = [
    '',
    `# Sender benchmark${run.quick ? ' (--quick)' : ''}`,
    '',
    `Node.js ${process.version}, ${os.cpus().length} cores (${cpu}), finished in ${run.seconds.toFixed(0)} s.`,
    ...(settings === '' ? [] : [settings]),
    '',
  ];
  if (hasSenders) {
    lines.push('## Flood: events/s from the first send until the sink counted every frame', '', ...throughputTable(outcomes), '');
  }
  if (hasPaced) {
    lines.push('## Paced: latency from send to sink and event-loop delay while sending at a fixed rate', '', ...pacedTable(outcomes), '');
  }
  if (hasBacklogs) {
    lines.push('## Backlog: every collector down while events spool, then the collector comes up', '', ...backlogTable(outcomes), '');
  }
  lines.push(
    '## Targets (reported, never asserted)',
    '',
    '| Target | Measured | Verdict |',
    '| --- | --- | --- |',
    ...verdicts(outcomes).map((verdict) => `| ${verdict.target} | ${verdict.measured} | ${verdictText(verdict.met)} |`),
    '',
  );
  return lines.join('\n');
}
