/**
 * The backlog scenario: resilient-syslog spools events while its only collector refuses
 * connections, then the collector comes up and the backlog drains.
 *
 * The spool rates at two queue depths come from the same run, so that both are measured with
 * the same JIT state: the second tenth of the events (the queue contains a tenth) against the last
 * tenth (it contains nine tenths and more). The drain rate is taken over a fixed window of frames
 * (see `drainWindow`) that skips the reconnect and the first reads, and the report compares
 * that window between a run with a small backlog and a run with a ten times larger one.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { SyslogSender, UpstreamPool } from '../../src/index.js';
import { createQueue } from './senders.js';
import { APP_NAME, type BacklogScenario, eventText, HOSTNAME, type SinkPorts } from './shared.js';
import { clock, collectGarbage, MIB, PeakSampler, type SinkClient, usedHeap } from './sink-client.js';
import type { BacklogRunRates } from './target-ratios.js';

const EVENTS_PER_TURN = 1000;
const IDLE_MS = 3_000;

/** Frames of the drain whose rate is compared between backlogs: from a fifth of the smaller backlog to its end. */
export function drainWindow(smallerBacklog: number): { from: number; to: number } {
  return { from: Math.floor(smallerBacklog / 5), to: smallerBacklog };
}

export interface BacklogResult {
  events: number;
  /** Events in each of the two spool windows: a tenth of `events`. */
  tenth: number;
  /** RSS after setup and a full GC, before the first event, in MiB. */
  rssIdleMiB: number;
  /** Peak RSS while the events spooled, above idle, in MiB. */
  rssPeakAboveIdleMiB: number;
  heapPeakAboveIdleMiB: number;
  /** `send()` rate with every collector down, for the second tenth of the events (the queue contains one tenth). */
  spoolRateShallow: number;
  /** The same for the last tenth (the queue contains nine tenths and more). */
  spoolRateDeep: number;
  spoolRate: number;
  /** Delivery rate over the frames `drainFrom` to `drainTo` (see `drainWindow`). */
  drainRateWindow: number;
  drainFrom: number;
  drainTo: number;
  /** Delivery rate of the whole backlog, from the sink's first frame to its last. */
  drainRate: number;
  drainCpuMicrosPerEvent: number;
  /** Delay of the sender's event loop from the collector's start until the sink counted every frame: p99 and highest, in ms. */
  drainEventLoopDelayP99Ms: number;
  drainEventLoopDelayMaxMs: number;
  counted: number;
  /**
   * The rates that the depth target compares, one entry per run, in run order. Set where the
   * result combines several runs (see `combineBacklogRuns` in main.ts).
   */
  runs?: BacklogRunRates[];
}

/** Resolves once an upstream of the sender went down, which shows that the pool tried the closed port. */
function waitUntilDown(sender: SyslogSender): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      if (!sender.pool.upstreams.some((upstream) => upstream.status === 'down')) return;
      sender.off('status', check);
      resolve();
    };
    sender.on('status', check);
    check();
  });
}

export async function runBacklogScenario(
  scenario: BacklogScenario,
  ports: SinkPorts,
  sink: SinkClient,
): Promise<BacklogResult> {
  await sink.reset();
  await sink.gate(false);
  const events = scenario.events;
  const tenth = Math.floor(events / 10);
  const { queue, remove } = await createQueue(scenario.queue);
  const pool = new UpstreamPool([`tcp://127.0.0.1:${ports.gated}`], {
    connectTimeoutMs: 1_000,
    reconnect: { minDelayMs: 20, maxDelayMs: 100 },
  });
  const sender = new SyslogSender({
    pool,
    hostname: HOSTNAME,
    appName: APP_NAME,
    ...(queue ? { buffer: queue } : { maxQueueRecords: events * 2, maxQueueBytes: 1024 * MIB }),
  });
  await sender.ready();
  await waitUntilDown(sender);

  collectGarbage();
  await sleep(100);
  collectGarbage();
  const rssIdle = process.memoryUsage.rss();
  const heapIdle = usedHeap();
  const rss = new PeakSampler(() => process.memoryUsage.rss());
  const heap = new PeakSampler(usedHeap);

  // marks[k] is the time after k tenths of the events were sent.
  const marks: number[] = [performance.now()];
  for (let index = 0; index < events; index += 1) {
    if (!sender.send(eventText(clock(), index))) await sender.ready();
    else if (index % EVENTS_PER_TURN === EVENTS_PER_TURN - 1) await nextTurn();
    if ((index + 1) % tenth === 0) marks.push(performance.now());
  }
  if (queue !== undefined) await (queue as unknown as { flush(): Promise<void> }).flush();
  const spoolSeconds = (performance.now() - marks[0]) / 1000;
  const rssPeak = rss.stop();
  const heapPeak = heap.stop();

  const { from: drainFrom, to: drainTo } = drainWindow(scenario.drainWindowOf);
  const windowStart = sink.watch(drainFrom);
  const windowEnd = sink.watch(drainTo);
  const all = sink.watch(events);
  const cpuBefore = process.cpuUsage();
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  loopDelay.enable();
  await sink.gate(true);
  const outcome = await sink.waitFor(all, clock() + scenario.timeoutMs, IDLE_MS);
  loopDelay.disable();
  const cpu = process.cpuUsage(cpuBefore);
  const { firstFrameAt } = await sink.stats();
  let drainRateWindow = Number.NaN;
  if (outcome.finished) {
    const [startAt, endAt] = await Promise.all([windowStart.reached, windowEnd.reached]);
    drainRateWindow = (drainTo - drainFrom) / ((endAt - startAt) / 1000);
  } else {
    windowStart.cancel();
    windowEnd.cancel();
  }

  await Promise.race([sender.close(), sleep(10_000)]);
  await sink.gate(false);
  await remove();
  const spoolRate = (from: number, to: number) => tenth / ((marks[to] - marks[from]) / 1000);
  return {
    events,
    tenth,
    rssIdleMiB: rssIdle / MIB,
    rssPeakAboveIdleMiB: (rssPeak - rssIdle) / MIB,
    heapPeakAboveIdleMiB: (heapPeak - heapIdle) / MIB,
    spoolRateShallow: spoolRate(1, 2),
    spoolRateDeep: spoolRate(9, 10),
    spoolRate: events / spoolSeconds,
    drainRateWindow,
    drainFrom,
    drainTo,
    drainRate: outcome.finished ? events / ((outcome.at - firstFrameAt) / 1000) : Number.NaN,
    drainCpuMicrosPerEvent: (cpu.user + cpu.system) / events,
    drainEventLoopDelayP99Ms: loopDelay.percentile(99) / 1e6,
    drainEventLoopDelayMaxMs: loopDelay.max / 1e6,
    counted: outcome.count,
  };
}
