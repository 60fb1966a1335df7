/**
 * Compares resilient-syslog with a hand-written writer and with syslog-client, winston-syslog
 * and pino-syslog, every sender delivering the same events to one counting sink on loopback.
 *
 *   node --import tsx compare/main.ts [--quick] [--only=TEXT] [--json=FILE] [--cpu-prof=DIR]
 *     [--runner-flags="FLAGS"]
 *
 * `--quick` runs a tenth of the events, `--only` keeps the scenarios whose name contains TEXT
 * (several texts separated by commas keep a scenario that matches any of them),
 * `--json` writes every measurement to FILE, `--cpu-prof` writes a V8 CPU profile of each
 * scenario's runner process to DIR, and `--runner-flags` passes Node.js and V8 options, separated
 * by spaces, to every runner process (for example "--trace-gc"). The sink is one child process,
 * and every scenario runs in a child process of its own with --expose-gc. docs/benchmarks.md
 * explains each number.
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isStopping, stopOnSignal, trackChild, trackDirectory, untrackDirectory } from './cleanup.js';
import { checkRunnerFlags, parseArguments, prepareOutputPaths, UsageError } from './options.js';
import { formatReport, type ScenarioOutcome } from './report.js';
import type { BacklogResult } from './backlog.js';
import type { RunnerResult } from './runner.js';
import { type BacklogScenario, median, removeTemporaryDirectory, type QueueKind, type Scenario, type SenderScenario, type SinkPorts, type SinkReply, type SinkRequest } from './shared.js';

function buildScenarios(quick: boolean): Scenario[] {
  const scale = quick ? 0.1 : 1;
  const floodEvents = Math.round(200_000 * scale);
  // V8 optimizes a function that runs once per write or per fsync only after hundreds of
  // thousands of events. After 50,000 warm-up events the resilient-syslog rows still got faster
  // for the first five to ten rounds, and after 400,000 their rounds were level.
  const warmupEvents = Math.round(400_000 * scale);
  // A UDP row's rate is set by one system call per datagram, and 400,000 events took up to 3 s
  // each on a slow day, so those eight rows warm up with fewer to keep the run within 5 minutes.
  const udpWarmupEvents = Math.round(150_000 * scale);
  // The event-loop delay target is judged on the memory queue over TCP, so that run and its
  // reference get 2 s at 100,000 events/s. The other paced runs get 1 s to keep the run short.
  const longPaced = quick ? 0.5 : 2;
  const shortPaced = quick ? 0.5 : 1;
  // Three rounds, reported by their median, because one round's rate moved by up to 2x between runs on 2 shared cores.
  // The interleaved rows, whose ratios are the targets, get fifteen: their rounds take about 0.2 s
  // each, and one round's ratio moved by up to 30 %, so the median needs many of them.
  const floodRounds = quick ? 1 : 3;
  const targetRounds = quick ? 1 : 15;
  const base = { kind: 'sender', floodEvents, floodRounds, warmupEvents, pacedRate: 100_000, pacedSeconds: shortPaced, timeoutMs: 60_000 } as const;

  const scenarios: SenderScenario[] = [
    { ...base, name: 'hand-written, 64 KiB batches', library: 'batched', protocol: 'tcp', upstreams: 1, pacedSeconds: longPaced, interleaved: true, floodRounds: targetRounds },
    { ...base, name: 'hand-written, one write per event', library: 'per-line', protocol: 'tcp', upstreams: 1 },
  ];

  const queues: QueueKind[] = ['memory', 'disk-batch', 'disk-interval', 'disk-never'];
  for (const queue of queues) {
    for (const protocol of ['tcp', 'tls', 'udp'] as const) {
      for (const upstreams of [1, 3]) {
        // Paced runs cover one collector, and for the interval and never modes only TCP, to keep the run short.
        const paced = upstreams === 1 && (queue === 'memory' || queue === 'disk-batch' || protocol === 'tcp');
        // The two rows that the targets compare with the hand-written writer and with each other.
        const interleaved = protocol === 'tcp' && upstreams === 1 && (queue === 'memory' || queue === 'disk-batch');
        scenarios.push({
          ...base,
          name: `resilient-syslog ${queue} ${protocol} x${upstreams}`,
          library: 'resilient',
          protocol,
          upstreams,
          queue,
          pacedRate: paced ? base.pacedRate : 0,
          pacedSeconds: queue === 'memory' && protocol === 'tcp' ? longPaced : shortPaced,
          warmupEvents: protocol === 'udp' ? udpWarmupEvents : warmupEvents,
          interleaved,
          floodRounds: interleaved ? targetRounds : floodRounds,
        });
      }
    }
  }

  scenarios.push(
    { ...base, name: 'syslog-client', library: 'syslog-client', protocol: 'tcp', upstreams: 1 },
    { ...base, name: 'winston + winston-syslog', library: 'winston', protocol: 'tcp', upstreams: 1, timeoutMs: 30_000 },
    { ...base, name: 'pino + pino-syslog + pino-socket', library: 'pino', protocol: 'tcp', upstreams: 1 },
  );

  const smallBacklog = quick ? 10_000 : 100_000;
  const backlogs: Scenario[] = [];
  for (const queue of ['disk-batch', 'memory'] as const) {
    for (const events of [smallBacklog, smallBacklog * 10]) {
      // Seven runs of each: the drain window of the smaller backlog lasts 40 to 70 ms, so one run
      // is one noisy sample. The two backlogs of a queue take turns, run by run (see main).
      backlogs.push({ kind: 'backlog', name: `backlog ${queue} ${events}`, queue, events, drainWindowOf: smallBacklog, repeats: quick ? 1 : 7, timeoutMs: 120_000 });
    }
  }
  return [...scenarios, ...backlogs];
}

/**
 * Keeps the scenarios whose name contains one of the comma-separated texts of `--only`, or all
 * of them without the option. Throws a UsageError that lists every scenario name when the option
 * is empty or one of its texts matches no scenario, because a typo would otherwise go unnoticed.
 */
function selectScenarios(scenarios: Scenario[], only: string | undefined): Scenario[] {
  if (only === undefined) return scenarios;
  const texts = only.split(',').filter((text) => text !== '');
  const unmatched = texts.filter((text) => !scenarios.some((scenario) => scenario.name.includes(text)));
  if (texts.length === 0 || unmatched.length > 0) {
    const problem =
      texts.length === 0
        ? '--only is empty'
        : `--only: no scenario name contains ${unmatched.map((text) => JSON.stringify(text)).join(', ')}`;
    const names = scenarios.map((scenario) => `  ${scenario.name}`).join('\n');
    throw new UsageError(`${problem}. Give one or more parts of these scenario names, separated by commas:\n${names}`);
  }
  return scenarios.filter((scenario) => texts.some((text) => scenario.name.includes(text)));
}

/**
 * Runs `sync` so that the kernel writes back what earlier runs left dirty before the timed rows
 * start: a full run writes several hundred MiB to DiskBuffer segments. Does nothing where `sync`
 * is missing.
 */
function flushDirtyPages(): void {
  try {
    execFileSync('sync', [], { stdio: 'ignore' });
  } catch {
    // No sync command: the run starts without it.
  }
}

/** Writes a self-signed certificate for 127.0.0.1 with openssl; returns undefined when openssl is missing. */
function createTlsCertificate(): { key: string; cert: string } | undefined {
  const directory = mkdtempSync(join(tmpdir(), 'resilient-syslog-bench-tls-'));
  trackDirectory(directory);
  try {
    execFileSync(
      'openssl',
      [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
        '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
        '-keyout', join(directory, 'key.pem'), '-out', join(directory, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    return { key: readFileSync(join(directory, 'key.pem'), 'utf8'), cert: readFileSync(join(directory, 'cert.pem'), 'utf8') };
  } catch {
    return undefined;
  } finally {
    rmSync(directory, { recursive: true, force: true });
    untrackDirectory(directory);
  }
}

const compareDirectory = fileURLToPath(new URL('.', import.meta.url));
const tsxLoader = import.meta.resolve('tsx');

function startSink(env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; ports: SinkPorts }> {
  const child = fork(join(compareDirectory, 'sink.ts'), [], { execArgv: ['--import', tsxLoader], env });
  trackChild(child);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`The sink exited with code ${code} before it was ready`)));
    child.once('message', (message: SinkReply) => {
      if (message.op === 'ready') resolve({ child, ports: message.ports });
    });
  });
}

/** A forked runner: its result once it exits, and the turns of an interleaved scenario. */
interface Runner {
  result: Promise<RunnerResult>;
  /** Resolves when the runner reports that it waits for its next turn, or when it exits. */
  nextWait(): Promise<void>;
  /** Lets the runner take its next step. */
  giveTurn(): void;
}

/** Forks a runner for one scenario and relays its sink requests; kills it after `hardLimitMs`. */
function startRunner(
  scenario: Scenario,
  sink: ChildProcess,
  env: NodeJS.ProcessEnv,
  runnerArgv: readonly string[],
  hardLimitMs: number,
): Runner {
  if (isStopping()) {
    const stopped: RunnerResult = { kind: 'error', message: 'not run: a signal ended the run' };
    return { result: Promise.resolve(stopped), nextWait: () => Promise.resolve(), giveTurn: () => {} };
  }
  const execArgv = ['--expose-gc', ...runnerArgv, '--import', tsxLoader];
  // The runner creates its DiskBuffer directories in here and removes it when it exits.
  const temporaryDirectory = mkdtempSync(join(tmpdir(), 'resilient-syslog-bench-'));
  trackDirectory(temporaryDirectory);
  const child = fork(join(compareDirectory, 'runner.ts'), [], {
    execArgv,
    env: { ...env, BENCH_SCENARIO: JSON.stringify(scenario), BENCH_TEMP_DIRECTORY: temporaryDirectory },
  });
  trackChild(child);
  const relay = (message: SinkReply) => {
    if (message.op !== 'ready' && child.connected) child.send(message);
  };
  sink.on('message', relay);
  let waits = 0;
  let exited = false;
  const waiters: Array<() => void> = [];
  const wake = (): void => {
    while (waiters.length > 0 && (waits > 0 || exited)) {
      if (waits > 0) waits -= 1;
      waiters.shift()!();
    }
  };

  type RunnerMessage = { to: 'sink'; request: SinkRequest } | { to: 'orchestrator'; result?: RunnerResult; waiting?: true };
  const result = new Promise<RunnerResult>((resolve) => {
    let outcome: RunnerResult | undefined;
    const timer = setTimeout(() => {
      outcome ??= { kind: 'error', message: `the runner did not finish within ${hardLimitMs} ms and was killed` };
      child.kill('SIGKILL');
    }, hardLimitMs);
    child.on('message', (message: RunnerMessage) => {
      if (message.to === 'sink') {
        sink.send(message.request);
      } else if (message.waiting) {
        waits += 1;
        wake();
      } else if (message.result !== undefined) {
        outcome = message.result;
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      sink.off('message', relay);
      // A runner killed with SIGKILL, by the hard limit for example, could not remove the directory itself.
      removeTemporaryDirectory(temporaryDirectory, `the temporary directory of "${scenario.name}"`);
      untrackDirectory(temporaryDirectory);
      exited = true;
      wake();
      const hint = runnerArgv.length > 0 ? ` (it ran with ${runnerArgv.join(' ')}: check --runner-flags)` : '';
      const ending = code !== null ? `exited with code ${code}` : `was ended by ${signal}`;
      resolve(outcome ?? { kind: 'error', message: `the runner ${ending} and sent no result${hint}` });
    });
  });
  return {
    result,
    nextWait: () =>
      new Promise<void>((resolve) => {
        waiters.push(resolve);
        wake();
      }),
    giveTurn: () => {
      if (child.connected) child.send({ op: 'turn' });
    },
  };
}

/** Returns the hard limit for one runner: three times its scenario's timeout, plus 30 s. */
function hardLimitOf(scenario: Scenario): number {
  return 3 * scenario.timeoutMs + 30_000;
}

/** Runs one scenario to its end. */
function runScenario(
  scenario: Scenario,
  sink: ChildProcess,
  env: NodeJS.ProcessEnv,
  runnerArgv: readonly string[],
): Promise<RunnerResult> {
  return startRunner(scenario, sink, env, runnerArgv, hardLimitOf(scenario)).result;
}

/**
 * Runs interleaved scenarios together: each runner sets up and warms up in turn, then they take
 * turns for every flood round, and then each finishes alone (paced run and close).
 */
async function runInterleaved(
  scenarios: SenderScenario[],
  sink: ChildProcess,
  env: NodeJS.ProcessEnv,
  runnerArgv: readonly string[],
): Promise<RunnerResult[]> {
  const hardLimitMs = scenarios.reduce((sum, scenario) => sum + hardLimitOf(scenario), 0);
  const runners: Runner[] = [];
  for (const scenario of scenarios) {
    const runner = startRunner(scenario, sink, env, runnerArgv, hardLimitMs);
    runners.push(runner);
    await runner.nextWait();
  }
  const rounds = Math.max(...scenarios.map((scenario) => scenario.floodRounds));
  for (let round = 0; round < rounds; round += 1) {
    for (const runner of runners) {
      runner.giveTurn();
      await runner.nextWait();
    }
  }
  const results: RunnerResult[] = [];
  for (const runner of runners) {
    runner.giveTurn();
    results.push(await runner.result);
  }
  return results;
}

/**
 * Combines the runs of one backlog scenario: the median of every rate, and the highest RSS and
 * heap peaks and event-loop delays, so that memory and stalls are judged on the worst run. The
 * rates of each run are kept for the depth target. The first failed run is returned as it is.
 */
function combineBacklogRuns(results: RunnerResult[]): RunnerResult {
  const failed = results.find((result) => result.kind !== 'backlog');
  if (failed !== undefined) return failed;
  const runs = results.map((result) => (result as Extract<RunnerResult, { kind: 'backlog' }>).backlog);
  const medianOf = (field: (run: BacklogResult) => number): number => median(runs.map(field));
  const maxOf = (field: (run: BacklogResult) => number): number => Math.max(...runs.map(field));
  return {
    kind: 'backlog',
    backlog: {
      ...runs[0],
      rssIdleMiB: medianOf((run) => run.rssIdleMiB),
      rssPeakAboveIdleMiB: maxOf((run) => run.rssPeakAboveIdleMiB),
      heapPeakAboveIdleMiB: maxOf((run) => run.heapPeakAboveIdleMiB),
      spoolRateShallow: medianOf((run) => run.spoolRateShallow),
      spoolRateDeep: medianOf((run) => run.spoolRateDeep),
      spoolRate: medianOf((run) => run.spoolRate),
      drainRateWindow: medianOf((run) => run.drainRateWindow),
      drainRate: medianOf((run) => run.drainRate),
      drainCpuMicrosPerEvent: medianOf((run) => run.drainCpuMicrosPerEvent),
      drainEventLoopDelayP99Ms: maxOf((run) => run.drainEventLoopDelayP99Ms),
      drainEventLoopDelayMaxMs: maxOf((run) => run.drainEventLoopDelayMaxMs),
      counted: Math.min(...runs.map((run) => run.counted)),
      runs: runs.map(({ spoolRateShallow, spoolRateDeep, drainRateWindow }) => ({ spoolRateShallow, spoolRateDeep, drainRateWindow })),
    },
  };
}

function describeOutcome(outcome: ScenarioOutcome): string {
  const { result } = outcome;
  if (result.kind === 'error') return `error: ${result.message.split('\n')[0]}`;
  if (result.kind === 'backlog') {
    const { backlog } = result;
    return `spool ${Math.round(backlog.spoolRate)} events/s, drain ${Math.round(backlog.drainRate)} events/s, RSS +${backlog.rssPeakAboveIdleMiB.toFixed(1)} MiB`;
  }
  const flood = result.flood;
  return flood.finished ? `${Math.round(flood.eventsPerSecond)} events/s` : 'did not finish';
}

async function main(): Promise<void> {
  stopOnSignal();
  const options = parseArguments(process.argv.slice(2));
  const scenarios = selectScenarios(buildScenarios(options.quick), options.only);
  prepareOutputPaths(options);
  checkRunnerFlags(options.runnerFlags);
  flushDirtyPages();
  const certificate = createTlsCertificate();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    BENCH_CLOCK_BASE: process.hrtime.bigint().toString(),
    ...(certificate ? { BENCH_TLS_KEY: certificate.key, BENCH_TLS_CERT: certificate.cert } : {}),
  };
  const { child: sink, ports } = await startSink(env);
  const runnerArgv = [...options.runnerFlags];
  if (options.cpuProfileDirectory) runnerArgv.push('--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDirectory}`);
  const runnerEnv: NodeJS.ProcessEnv = { ...env, BENCH_PORTS: JSON.stringify(ports) };
  delete runnerEnv.BENCH_TLS_KEY;

  const started = performance.now();
  const outcomes: ScenarioOutcome[] = [];
  // Rows that could not run on this machine, which do not count as failed.
  const skipped = new Set<Scenario>();
  const interleaved = scenarios.filter((scenario): scenario is SenderScenario => scenario.kind === 'sender' && scenario.interleaved === true);
  for (const scenario of scenarios) {
    if (scenario.kind === 'sender' && scenario.protocol === 'tls' && !certificate) {
      outcomes.push({ scenario, result: { kind: 'error', message: 'skipped: openssl was not found to create a certificate' } });
      skipped.add(scenario);
      continue;
    }
    if (scenario.kind === 'sender' && scenario.interleaved) {
      // The whole group runs at the place of its first scenario.
      if (scenario !== interleaved[0]) continue;
      const groupStart = performance.now();
      const results = await runInterleaved(interleaved, sink, runnerEnv, runnerArgv);
      const groupSeconds = (performance.now() - groupStart) / 1000;
      interleaved.forEach((member, index) => {
        const outcome = { scenario: member, result: results[index] };
        outcomes.push(outcome);
        process.stderr.write(`${member.name}: ${describeOutcome(outcome)} (interleaved, ${groupSeconds.toFixed(1)} s for the group)\n`);
      });
      continue;
    }
    const scenarioStart = performance.now();
    if (scenario.kind === 'backlog') {
      // The backlogs of one queue take turns, so that the depth target divides the rates of two
      // runs a few seconds apart instead of runs that the machine's drift may have moved apart.
      const group = scenarios.filter((other): other is BacklogScenario => other.kind === 'backlog' && other.queue === scenario.queue);
      if (scenario !== group[0]) continue;
      const runs = group.map((): RunnerResult[] => []);
      const repeats = Math.max(...group.map((member) => member.repeats));
      for (let run = 0; run < repeats; run += 1) {
        for (const [index, member] of group.entries()) {
          if (run < member.repeats) runs[index].push(await runScenario(member, sink, runnerEnv, runnerArgv));
        }
      }
      const groupSeconds = (performance.now() - scenarioStart) / 1000;
      group.forEach((member, index) => {
        const outcome = { scenario: member, result: combineBacklogRuns(runs[index]) };
        outcomes.push(outcome);
        process.stderr.write(`${member.name}: ${describeOutcome(outcome)} (taking turns, ${groupSeconds.toFixed(1)} s for the queue)\n`);
      });
      continue;
    }

    const outcome = { scenario, result: await runScenario(scenario, sink, runnerEnv, runnerArgv) };
    outcomes.push(outcome);
    const scenarioSeconds = (performance.now() - scenarioStart) / 1000;
    process.stderr.write(`${scenario.name}: ${describeOutcome(outcome)} (${scenarioSeconds.toFixed(1)} s)\n`);
  }
  // The report lists scenarios in the order they were built, which the interleaved group changed.
  outcomes.sort((a, b) => scenarios.indexOf(a.scenario) - scenarios.indexOf(b.scenario));
  sink.disconnect();

  const seconds = (performance.now() - started) / 1000;
  // A signal ended the run: its handler exits, and the --json file of an earlier run stays as it was.
  if (isStopping()) return;
  process.stdout.write(formatReport(outcomes, { seconds, quick: options.quick }));
  if (options.json) writeFileSync(options.json, `${JSON.stringify(outcomes, null, 2)}\n`);

  const failed = outcomes.filter((outcome) => outcome.result.kind === 'error' && !skipped.has(outcome.scenario));
  if (failed.length > 0) {
    const names = failed.map((outcome) => outcome.scenario.name).join('; ');
    process.stderr.write(`${failed.length} of ${outcomes.length} scenarios failed, see their rows above: ${names}\n`);
    process.exitCode = 1;
  }
}

try {
  await main();
} catch (error) {
  if (!(error instanceof UsageError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exitCode = 1;
}
