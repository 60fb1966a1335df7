/**
 * Runs one scenario in a process of its own, so that heap, RSS and JIT state of one sender do
 * not carry over to the next. The orchestrator forks it with the scenario in `BENCH_SCENARIO`, relays
 * its sink requests, and receives one `RunnerResult` over IPC.
 */
import { constants as performanceConstants, monitorEventLoopDelay, type PerformanceEntry, PerformanceObserver } from 'node:perf_hooks';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { type BacklogResult, runBacklogScenario } from './backlog.js';
import { createSender, type SenderUnderTest } from './senders.js';
import { eventText, type LatencySummary, removeTemporaryDirectory, type Scenario, type SenderScenario, type SinkPorts } from './shared.js';
import { clock, collectGarbage, MIB, PeakSampler, SinkClient, threadCpuMicros, usedHeap } from './sink-client.js';

/** Events sent between two yields to the event loop in a flood, as an application producing events in bursts would. */
const EVENTS_PER_TURN = 1000;
/** A stream sink that counted nothing new for this long while frames are missing means the sender stopped delivering. */
const STREAM_IDLE_MS = 3_000;
/** UDP frames still missing after this long without a new datagram are counted as lost. */
const UDP_IDLE_MS = 1_000;

export interface FloodResult {
  finished: boolean;
  events: number;
  /** Frames the sink counted for this run. */
  counted: number;
  /** From the first send until the sink counted the last frame, in seconds. */
  seconds: number;
  eventsPerSecond: number;
  cpuMicrosPerEvent: number;
  /** CPU time of the main thread per event, which limits a flood: the rest of `cpuMicrosPerEvent` ran on other threads. */
  mainThreadCpuMicrosPerEvent: number;
  /** CPU time of the sink process per event, to show when the sink rather than the sender limits the rate. */
  sinkCpuMicrosPerEvent: number;
  /** Peak of V8's used heap above the value before the run, in MiB (main thread only). */
  heapPeakMiB: number;
  /** Used heap after a full GC once the sink counted everything, above the value before the run, in MiB. */
  heapRetainedMiB: number;
  /**
   * Mark-compact collections during the round and the sink's report that ends it. A send path
   * whose objects die young needs none.
   */
  markCompacts: number;
  frameBytes: number;
  latency: LatencySummary;
  /** Events per second of every round, in the order they ran; this result is the round with the median. */
  roundRates: number[];
}

export interface PacedResult {
  finished: boolean;
  events: number;
  counted: number;
  /** Rate at which the loop managed to hand events to the sender. */
  achievedRate: number;
  cpuMicrosPerEvent: number;
  eventLoopDelayP99Ms: number;
  eventLoopDelayMaxMs: number;
  latency: LatencySummary;
}

export type RunnerResult =
  | { kind: 'sender'; flood: FloodResult; paced?: PacedResult }
  | { kind: 'backlog'; backlog: BacklogResult }
  | { kind: 'error'; message: string };

const sink = new SinkClient();

let sequence = 0;

/** Sends `count` events as fast as the sender takes them, yielding to the event loop every `EVENTS_PER_TURN` events. */
async function flood(sender: SenderUnderTest, count: number, deadline: number): Promise<boolean> {
  for (let index = 0; index < count; index += 1) {
    const accepted = sender.send(eventText(clock(), sequence++));
    if (!accepted) await sender.drained();
    else if (index % EVENTS_PER_TURN === EVENTS_PER_TURN - 1) await nextTurn();
    if (index % EVENTS_PER_TURN === 0 && clock() > deadline) return false;
  }
  sender.flush();
  return true;
}

async function runFlood(scenario: SenderScenario, sender: SenderUnderTest, base: number): Promise<FloodResult> {
  const events = scenario.floodEvents;
  const idleMs = scenario.protocol === 'udp' ? UDP_IDLE_MS : STREAM_IDLE_MS;
  await sink.sample();
  collectGarbage();
  const heapBefore = usedHeap();
  const heap = new PeakSampler(usedHeap);
  const majorCollections = countMajorCollections();
  const statsBefore = await sink.stats();
  const watch = sink.watch(base + events);
  const cpuBefore = process.cpuUsage();
  const mainThreadBefore = threadCpuMicros();
  const start = clock();
  const deadline = start + scenario.timeoutMs;

  const sentAll = await flood(sender, events, deadline);
  const outcome = sentAll
    ? await sink.waitFor(watch, deadline, idleMs)
    : { finished: false, at: clock(), count: (await sink.stats()).count };
  if (!sentAll) watch.cancel();

  const cpu = process.cpuUsage(cpuBefore);
  const mainThreadCpu = threadCpuMicros() - mainThreadBefore;
  const heapPeak = heap.stop();
  const latency = await sink.sample();
  const statsAfter = await sink.stats();
  // Read after the sink replied: garbage collection entries reach the observer in a later task.
  const markCompacts = majorCollections.stop();
  collectGarbage();
  const seconds = (outcome.at - start) / 1000;
  const counted = outcome.count - base;
  // A sender that did not finish gets no rate: part of its work is still inside it.
  const finished = outcome.finished || (scenario.protocol === 'udp' && sentAll);
  return {
    finished,
    events,
    counted,
    seconds,
    eventsPerSecond: finished ? counted / seconds : Number.NaN,
    cpuMicrosPerEvent: (cpu.user + cpu.system) / events,
    mainThreadCpuMicrosPerEvent: mainThreadCpu / events,
    heapPeakMiB: (heapPeak - heapBefore) / MIB,
    heapRetainedMiB: (usedHeap() - heapBefore) / MIB,
    markCompacts,
    sinkCpuMicrosPerEvent: (statsAfter.cpuMicros - statsBefore.cpuMicros) / events,
    frameBytes: (statsAfter.bytes - statsBefore.bytes) / Math.max(1, statsAfter.count - statsBefore.count),
    latency,
    roundRates: [],
  };
}

/** Counts V8's mark-compact collections from now until `stop()`. */
function countMajorCollections(): { stop: () => number } {
  let count = 0;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const detail = (entry as PerformanceEntry & { detail?: { kind?: number } }).detail;
      if (detail?.kind === performanceConstants.NODE_PERFORMANCE_GC_MAJOR) count += 1;
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return {
    stop: () => {
      observer.disconnect();
      return count;
    },
  };
}

/**
 * Waits for this runner's turn when the scenario is interleaved, and returns at once otherwise.
 * The runner first reports to the orchestrator that it is ready for its next step.
 */
async function waitForTurn(scenario: SenderScenario): Promise<void> {
  if (!scenario.interleaved) return;
  await new Promise<void>((resolve) => {
    const onMessage = (message: { op?: string }): void => {
      if (message.op !== 'turn') return;
      process.off('message', onMessage);
      resolve();
    };
    process.on('message', onMessage);
    process.send!({ to: 'orchestrator', waiting: true });
  });
}

/** Runs the flood `scenario.floodRounds` times and returns the round with the median rate, or the first round that did not finish. */
async function runFloodRounds(scenario: SenderScenario, sender: SenderUnderTest): Promise<FloodResult> {
  const rounds: FloodResult[] = [];
  for (let round = 0; round < scenario.floodRounds; round += 1) {
    await waitForTurn(scenario);
    // Counted at the start of each round, because other runners may have reset the sink's count meanwhile.
    const counted = (await sink.stats()).count;
    const result = await runFlood(scenario, sender, counted);
    rounds.push(result);
    if (!result.finished) return { ...result, roundRates: rounds.map((entry) => entry.eventsPerSecond) };
  }
  const median = [...rounds].sort((a, b) => a.eventsPerSecond - b.eventsPerSecond)[Math.floor(rounds.length / 2)];
  return { ...median, roundRates: rounds.map((entry) => entry.eventsPerSecond) };
}

/** Sends `events` at `rate` per second, as many per timer tick as are due, and measures the event-loop delay meanwhile. */
async function runPaced(scenario: SenderScenario, sender: SenderUnderTest, base: number): Promise<PacedResult> {
  const rate = scenario.pacedRate;
  const events = Math.round(rate * scenario.pacedSeconds);
  const idleMs = scenario.protocol === 'udp' ? UDP_IDLE_MS : STREAM_IDLE_MS;
  await sink.sample();
  const watch = sink.watch(base + events);
  const delay = monitorEventLoopDelay({ resolution: 1 });
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  const deadline = clock() + scenario.timeoutMs;
  delay.enable();

  // A sender that falls behind gets at most 10 ms worth of events per tick instead of one long
  // catch-up burst, so the achieved rate shows that it fell behind and the delay stays its own.
  const maxPerTick = Math.ceil(rate / 100);
  let sent = 0;
  while (sent < events) {
    const due = Math.min(events, sent + maxPerTick, Math.floor(((performance.now() - start) * rate) / 1000));
    while (sent < due) {
      sent += 1;
      if (!sender.send(eventText(clock(), sequence++))) await sender.drained();
    }
    if (clock() > deadline) break;
    await sleep(1);
  }
  sender.flush();
  const sendSeconds = (performance.now() - start) / 1000;
  delay.disable();

  const outcome =
    sent === events
      ? await sink.waitFor(watch, deadline, idleMs)
      : { finished: false, at: clock(), count: (await sink.stats()).count };
  if (sent !== events) watch.cancel();
  const cpu = process.cpuUsage(cpuBefore);
  return {
    finished: outcome.finished || (scenario.protocol === 'udp' && sent === events),
    events,
    counted: outcome.count - base,
    achievedRate: sent / sendSeconds,
    cpuMicrosPerEvent: (cpu.user + cpu.system) / Math.max(1, sent),
    eventLoopDelayP99Ms: delay.percentile(99) / 1e6,
    eventLoopDelayMaxMs: delay.max / 1e6,
    latency: await sink.sample(),
  };
}

async function runSenderScenario(scenario: SenderScenario, ports: SinkPorts, tlsCert: string): Promise<RunnerResult> {
  await sink.reset();
  const sender = await createSender(scenario, { ports, tlsCert });

  const warmup = sink.watch(scenario.warmupEvents);
  await flood(sender, scenario.warmupEvents, Number.POSITIVE_INFINITY);
  const warmupIdleMs = scenario.protocol === 'udp' ? UDP_IDLE_MS : STREAM_IDLE_MS;
  await sink.waitFor(warmup, clock() + scenario.timeoutMs, warmupIdleMs);

  // UDP may lose warm-up datagrams, so each run counts from what actually arrived.
  const floodResult = await runFloodRounds(scenario, sender);
  await waitForTurn(scenario);
  let paced: PacedResult | undefined;
  if (floodResult.finished && scenario.pacedRate > 0) {
    const base = (await sink.stats()).count;
    paced = await runPaced(scenario, sender, base);
  }
  await Promise.race([sender.close(), sleep(10_000)]);
  return { kind: 'sender', flood: floodResult, ...(paced ? { paced } : {}) };
}

/**
 * Removes this runner's temporary directory, which contains its DiskBuffer directories, when the
 * runner exits. That includes SIGINT, SIGTERM, and the end of the IPC channel when the
 * orchestrator exits or is killed. The orchestrator removes the directory too once the runner
 * has exited, which covers a runner killed with SIGKILL.
 */
function removeTemporaryDirectoryOnExit(): void {
  const directory = process.env.BENCH_TEMP_DIRECTORY;
  if (directory === undefined) return;
  process.on('exit', () => removeTemporaryDirectory(directory, "the runner's temporary directory"));
  // Exit codes 128 + signal number, as a shell reports a process ended by that signal.
  process.once('SIGINT', () => process.exit(130));
  process.once('SIGTERM', () => process.exit(143));
  process.once('disconnect', () => process.exit(1));
}

async function main(): Promise<void> {
  removeTemporaryDirectoryOnExit();
  const scenario = JSON.parse(process.env.BENCH_SCENARIO ?? '') as Scenario;
  const ports = JSON.parse(process.env.BENCH_PORTS ?? '') as SinkPorts;
  const tlsCert = process.env.BENCH_TLS_CERT ?? '';
  let result: RunnerResult;
  try {
    if (scenario.kind === 'sender') result = await runSenderScenario(scenario, ports, tlsCert);
    else result = { kind: 'backlog', backlog: await runBacklogScenario(scenario, ports, sink) };
  } catch (error) {
    result = { kind: 'error', message: (error as Error).stack ?? String(error) };
  }
  process.send!({ to: 'orchestrator', result }, () => process.exit(0));
}

await main();
