/**
 * A primary collector whose host loses power: the sender's connection stays ESTABLISHED while
 * every packet vanishes in both directions (test/helpers/netns.ts shows how the link is cut).
 * The health probe must declare the primary down, the replay window must go to the backup with
 * nothing lost, and traffic must fail back once the host is reachable again.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { TestCollector } from '../helpers/collector.js';
import { createNetnsLab, requireNetns, type NetnsLab } from '../helpers/netns.js';
import { createSender, delay, waitUntil } from '../helpers/sender.js';
import { FailoverStrategy } from '../../src/strategy/failover.js';
import type { SyslogSender } from '../../src/sender/syslog-sender.js';
import type { UpstreamStatus } from '../../src/strategy/strategy.js';

const PROBE_INTERVAL_MS = 500;
const CONNECT_TIMEOUT_MS = 1_000;
/** Longer than the detection bound, so records written into the dead connection are still in the window when it fails. */
const REPLAY_WINDOW_MS = 4_000;
/** Slack on the detection bound for timers on a busy machine. */
const DETECTION_MARGIN_MS = 1_000;
/** A record leaves the window at the first trim after it aged (a write callback, or the tick of at most 1 s), plus slack. */
const WINDOW_SLACK_MS = 1_500;
const EVENTS_PER_SECOND = 40;
const COLLECTOR_PORT = 10514;
const FIXTURE = fileURLToPath(new URL('./fixtures/netns-collector.ts', import.meta.url));

/** The primary: the fixture collector inside the lab's collector namespace, read through its stdout. */
class NamespaceCollector {
  /** Every frame it printed, in arrival order. */
  readonly frames: Array<{ connection: number; n: number }> = [];
  private readonly child: ChildProcess;
  private stderr = '';

  private constructor(child: ChildProcess) {
    this.child = child;
  }

  static async start(lab: NetnsLab): Promise<NamespaceCollector> {
    const child = lab.spawnInCollector(process.execPath, ['--import', 'tsx', FIXTURE], {
      COLLECTOR_HOST: lab.collectorAddress,
      COLLECTOR_PORT: String(COLLECTOR_PORT),
    });
    const collector = new NamespaceCollector(child);
    child.stderr!.on('data', (chunk: Buffer) => {
      collector.stderr += chunk.toString('utf8');
    });
    await new Promise<void>((resolve, reject) => {
      const timeout = setTimeout(() => {
        reject(new Error(`The collector in ${lab.namespace} did not start within 10 s: ${collector.stderr}`));
      }, 10_000);
      child.once('exit', (code) => {
        clearTimeout(timeout);
        reject(new Error(`The collector in ${lab.namespace} exited with code ${code}: ${collector.stderr}`));
      });
      createInterface({ input: child.stdout! }).on('line', (line) => {
        if (line.startsWith('listening ')) {
          clearTimeout(timeout);
          resolve();
          return;
        }
        const match = /^frame (\d+) (.*)$/.exec(line);
        if (match !== null) collector.frames.push({ connection: Number(match[1]), n: eventNumber(match[2]) });
      });
    });
    return collector;
  }

  /** Closes its stdin, which makes it exit, and waits up to 5 s for that. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.stdin!.end();
    await Promise.race([exited, delay(5_000)]);
  }
}

/** Sends `event 1`, `event 2` and so on at EVENTS_PER_SECOND, and stores when each was sent. */
class EventPump {
  /** `sentAt[n]` is when `event n` was passed to `send()`; index 0 is unused. */
  readonly sentAt: number[] = [0];
  private readonly sender: SyslogSender;
  private timer: NodeJS.Timeout | undefined;

  constructor(sender: SyslogSender) {
    this.sender = sender;
  }

  get count(): number {
    return this.sentAt.length - 1;
  }

  start(): void {
    this.timer ??= setInterval(() => this.sendNext(), 1_000 / EVENTS_PER_SECOND);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private sendNext(): void {
    const n = this.sentAt.length;
    this.sentAt.push(Date.now());
    this.sender.send(`event ${n}`);
  }
}

interface Scenario {
  lab: NetnsLab;
  primary: NamespaceCollector;
  backup: TestCollector;
  sender: SyslogSender;
  pump: EventPump;
  primaryTarget: string;
  backupTarget: string;
  /** Status changes of the primary, with the time each was seen. */
  primaryStatus: Array<{ at: number; to: UpstreamStatus; reason: string | undefined }>;
  /** Switches of the traffic, with the time each was seen. */
  switches: Array<{ at: number; to: string }>;
}

/** Times of the outage, all from `Date.now()`. */
interface Outage {
  blackholeAt: number;
  /** When the sender declared the primary down. */
  downAt: number;
  /** When packets got through again. */
  restoredAt: number;
  /** When traffic switched back to the primary. */
  failbackAt: number;
}

function eventNumber(message: string): number {
  const match = / event (\d+)$/.exec(message);
  if (match === null) throw new Error(`Expected a message ending in "event <n>", received ${JSON.stringify(message)}`);
  return Number(match[1]);
}

/**
 * Builds the lab, starts the primary in it and the backup on loopback, runs `body` with a
 * failover sender to both, and tears everything down, also when `body` fails.
 */
async function withScenario(body: (scenario: Scenario) => Promise<void>): Promise<void> {
  const lab = createNetnsLab();
  let primary: NamespaceCollector | undefined;
  let backup: TestCollector | undefined;
  let sender: SyslogSender | undefined;
  try {
    primary = await NamespaceCollector.start(lab);
    backup = await TestCollector.start();
    sender = createSender(
      [`tcp://${lab.collectorAddress}:${COLLECTOR_PORT}`, { url: `tcp://127.0.0.1:${backup.port}`, backup: true }],
      {
        strategy: new FailoverStrategy({ failbackProbes: 2 }),
        probeIntervalMs: PROBE_INTERVAL_MS,
        connectTimeoutMs: CONNECT_TIMEOUT_MS,
        replayWindowMs: REPLAY_WINDOW_MS,
        // Far longer than the test, so only the health probe can find the dead host.
        stallTimeoutMs: 60_000,
        reconnect: { minDelayMs: 100, maxDelayMs: 500 },
      },
    );
    const [primaryStats, backupStats] = sender.stats().upstreams;
    const scenario: Scenario = {
      lab,
      primary,
      backup,
      sender,
      pump: new EventPump(sender),
      primaryTarget: primaryStats.target,
      backupTarget: backupStats.target,
      primaryStatus: [],
      switches: [],
    };
    sender.on('status', (change) => {
      if (change.index === 0) scenario.primaryStatus.push({ at: Date.now(), to: change.to, reason: change.reason });
    });
    sender.on('switch', (event) => scenario.switches.push({ at: Date.now(), to: event.to }));
    await waitUntil(() => sender!.stats().upstreams[0].status === 'up', 'the primary is up');
    try {
      await body(scenario);
    } finally {
      scenario.pump.stop();
    }
  } finally {
    try {
      await sender?.close(1_000);
      await primary?.stop();
      await backup?.close();
    } finally {
      lab.destroy();
    }
  }
}

/**
 * Cuts the primary off and checks that the sender declares it down within one probe interval
 * plus one probe timeout, by the health probe, and moves traffic to the backup. Returns when the
 * blackhole started and when the primary was declared down.
 */
async function cutPrimary(t: TestContext, scenario: Scenario): Promise<{ blackholeAt: number; downAt: number }> {
  scenario.lab.blackhole();
  const blackholeAt = Date.now();
  const bound = PROBE_INTERVAL_MS + CONNECT_TIMEOUT_MS + DETECTION_MARGIN_MS;
  const findDown = () => scenario.primaryStatus.find((change) => change.at >= blackholeAt && change.to === 'down');
  await waitUntil(() => findDown() !== undefined, 'the primary is declared down', bound + 5_000);
  const down = findDown()!;
  t.diagnostic(`primary declared down ${down.at - blackholeAt} ms after the blackhole: ${down.reason}`);
  assert.ok(
    down.at - blackholeAt <= bound,
    `The primary was declared down ${down.at - blackholeAt} ms after the blackhole, expected at most ${bound} ms ` +
      `(probeIntervalMs ${PROBE_INTERVAL_MS} + connectTimeoutMs ${CONNECT_TIMEOUT_MS} + ${DETECTION_MARGIN_MS} ms margin)`,
  );
  assert.match(down.reason ?? '', /health probe to .* timed out/);

  await waitUntil(
    () => scenario.switches.some((change) => change.at >= blackholeAt && change.to === scenario.backupTarget),
    'traffic switches to the backup',
  );
  return { blackholeAt, downAt: down.at };
}

/** Lets packets through again and returns when that happened and when traffic switched back to the primary. */
async function restorePrimary(t: TestContext, scenario: Scenario): Promise<{ restoredAt: number; failbackAt: number }> {
  scenario.lab.restore();
  const restoredAt = Date.now();
  const findFailback = () => scenario.switches.find((change) => change.at >= restoredAt && change.to === scenario.primaryTarget);
  await waitUntil(() => findFailback() !== undefined, 'traffic fails back to the primary', 10_000);
  const failbackAt = findFailback()!.at;
  t.diagnostic(`traffic failed back ${failbackAt - restoredAt} ms after the blackhole ended`);
  return { restoredAt, failbackAt };
}

/**
 * Stops sending, waits until every event arrived somewhere, closes the sender and checks where
 * each event went. Returns the events that arrived at both collectors.
 */
async function checkDelivery(t: TestContext, scenario: Scenario, outage: Outage): Promise<number[]> {
  const { pump, primary, backup, sender } = scenario;
  pump.stop();
  const total = pump.count;
  const primaryCounts = new Map<number, number>();
  const backupCounts = new Map<number, number>();
  const count = () => {
    primaryCounts.clear();
    backupCounts.clear();
    for (const frame of primary.frames) primaryCounts.set(frame.n, (primaryCounts.get(frame.n) ?? 0) + 1);
    for (const frame of backup.frames) backupCounts.set(eventNumber(frame), (backupCounts.get(eventNumber(frame)) ?? 0) + 1);
  };
  const missing = () => {
    count();
    const numbers: number[] = [];
    for (let n = 1; n <= total; n += 1) if (!primaryCounts.has(n) && !backupCounts.has(n)) numbers.push(n);
    return numbers;
  };
  await waitUntil(() => missing().length === 0, 'every event arrived', 10_000).catch(() => {});
  assert.deepEqual(missing(), [], 'events lost');
  assert.deepEqual(await sender.close(5_000), { delivered: true, pending: 0 });

  const events = Array.from({ length: total }, (_, index) => index + 1);
  const stats = sender.stats();
  t.diagnostic(`${total} events, ${stats.replayed} replayed, ${primary.frames.length} at the primary, ${backup.frames.length} at the backup`);
  assert.deepEqual(stats.dropped, { full: 0, 'io-error': 0, oversize: 0, closed: 0 });

  // No connection to the backup failed, and the window of the primary's failed connection went to
  // the backup, so neither collector received an event twice.
  assert.deepEqual(events.filter((n) => (primaryCounts.get(n) ?? 0) > 1), [], 'events the primary received twice');
  assert.deepEqual(events.filter((n) => (backupCounts.get(n) ?? 0) > 1), [], 'events the backup received twice');

  // An event is replayed only while its batch is in the window, that is for REPLAY_WINDOW_MS after it was written.
  const duplicates = events.filter((n) => primaryCounts.has(n) && backupCounts.has(n));
  const windowStart = outage.downAt - REPLAY_WINDOW_MS - WINDOW_SLACK_MS;
  assert.deepEqual(
    duplicates.filter((n) => pump.sentAt[n] < windowStart),
    [],
    'events at both collectors that had left the replay window before the primary failed',
  );

  // Nothing crosses the blackhole, and the failed connection does not deliver its unsent bytes
  // once the network is back. Events sent after that may go to the primary as soon as it passed
  // its failback probes, a moment before the switch is reported.
  const sentDuringOutage = events.filter((n) => pump.sentAt[n] > outage.blackholeAt && pump.sentAt[n] < outage.restoredAt);
  assert.ok(sentDuringOutage.length > 0, 'events were sent during the outage');
  assert.deepEqual(sentDuringOutage.filter((n) => primaryCounts.has(n)), [], 'events sent during the outage that reached the primary');

  // After failback new events go to the primary, over a new connection.
  const sentAfterFailback = events.filter((n) => pump.sentAt[n] > outage.failbackAt);
  assert.ok(sentAfterFailback.length > 0, 'events were sent after failback');
  assert.deepEqual(sentAfterFailback.filter((n) => backupCounts.has(n)), [], 'events sent after failback that went to the backup');
  const firstConnection = new Set(primary.frames.filter((frame) => frame.connection === 0).map((frame) => frame.n));
  assert.deepEqual(sentAfterFailback.filter((n) => firstConnection.has(n)), [], 'events sent after failback on the old connection');
  return duplicates;
}

test('Half-open primary - busy connection fails over and back', { timeout: 40_000 }, async (t) => {
  if (!requireNetns(t)) return;
  await withScenario(async (scenario) => {
    const { pump, primary, backup } = scenario;
    pump.start();
    // Long enough that the first events left the replay window before the blackhole.
    await delay(REPLAY_WINDOW_MS + WINDOW_SLACK_MS + 1_000);
    assert.ok(primary.frames.length > 0, 'the primary received events before the blackhole');
    assert.equal(backup.frames.length, 0);

    const { blackholeAt, downAt } = await cutPrimary(t, scenario);
    await delay(1_500);
    const { restoredAt, failbackAt } = await restorePrimary(t, scenario);
    await delay(1_500);

    const duplicates = await checkDelivery(t, scenario, { blackholeAt, downAt, restoredAt, failbackAt });
    // The primary received the last REPLAY_WINDOW_MS of events before the blackhole, and the
    // failed connection handed them back, so they arrived at the backup as well.
    assert.ok(duplicates.length > 0, 'events in the replay window were replayed to the backup');
    assert.ok(
      pump.sentAt[1] < downAt - REPLAY_WINDOW_MS - WINDOW_SLACK_MS,
      'the first events were sent before the replay window, so the window check above covered them',
    );
  });
});

test('Half-open primary - idle connection fails over and back', { timeout: 40_000 }, async (t) => {
  if (!requireNetns(t)) return;
  await withScenario(async (scenario) => {
    const { pump, primary, sender } = scenario;
    pump.start();
    await waitUntil(() => pump.count >= 20, '20 events were sent');
    pump.stop();
    await waitUntil(() => primary.frames.length >= 20, 'the primary received 20 events');
    // Idle with an empty replay window: every event was confirmed, none is pending.
    await waitUntil(() => sender.stats().confirmed === 20, 'the 20 events left the replay window', REPLAY_WINDOW_MS + 5_000);

    // The application sends again shortly after the host died, before the probe noticed, so the
    // first of these events go into the dead connection.
    const outage = cutPrimary(t, scenario);
    await delay(300);
    pump.start();
    const { blackholeAt, downAt } = await outage;
    assert.ok(
      pump.sentAt.some((sentAt) => sentAt > blackholeAt && sentAt < downAt),
      'events were sent between the blackhole and the primary being declared down',
    );
    await delay(1_500);
    const { restoredAt, failbackAt } = await restorePrimary(t, scenario);
    await delay(1_500);

    const duplicates = await checkDelivery(t, scenario, { blackholeAt, downAt, restoredAt, failbackAt });
    assert.deepEqual(duplicates, [], 'events at both collectors, although the replay window was empty at the blackhole');
  });
});
