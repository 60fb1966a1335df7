import { Buffer } from 'node:buffer';
import { createRequire } from 'node:module';
import { debuglog } from 'node:util';
import { InvalidOptionError } from '../errors.js';
import { reportSenderProblems } from '../integrations/problem-reporter.js';
import { createSenderFromConfig } from '../integrations/sender-config.js';
import type { SyslogSender } from '../sender/syslog-sender.js';
import { FileFollower } from './file-follower.js';
import { HELP_TEXT } from './help.js';
import { LineSplitter } from './line-splitter.js';
import { parseCommandLine, UsageError, type CliSettings } from './options.js';
import { droppedTotal, formatStats, StatusOutput, type StatusStream } from './status-output.js';

const debug = debuglog('resilient-syslog');

/**
 * Signals that write the statistics line. Node 20 starts its inspector on SIGUSR1 and never calls
 * the listener, so SIGUSR2 does the same. Node versions that have the --disable-sigusr1 flag
 * deliver SIGUSR1 when started with it.
 */
export const STATS_SIGNALS: readonly NodeJS.Signals[] = ['SIGUSR1', 'SIGUSR2'];

/** Exit status of the CLI; docs/cli.md and the help text list the same values. */
export const EXIT_CODES = {
  ok: 0,
  /** Events were dropped or left undelivered at exit. */
  incomplete: 1,
  usage: 2,
  /** Reading standard input or a followed file failed. */
  input: 3,
  /** An unexpected exception; main.ts writes its stack trace. */
  internal: 70,
} as const;

/** The process parts the CLI uses, replaceable in tests. */
export interface CliIo {
  stdin: NodeJS.ReadableStream;
  stdout: { write(text: string): unknown };
  stderr: StatusStream;
  /** Subscribes to a signal; returns the function that unsubscribes. */
  onSignal(signal: NodeJS.Signals, listener: () => void): () => void;
  /** Ends the process at once, for a second SIGTERM or SIGINT. */
  exit(code: number): never;
}

export const PROCESS_IO: CliIo = {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  onSignal(signal, listener) {
    process.on(signal, listener);
    return () => process.off(signal, listener);
  },
  exit: (code) => process.exit(code),
};

/** Reason reading stopped. */
type StopReason = { kind: 'end' } | { kind: 'signal'; signal: NodeJS.Signals } | { kind: 'input-error'; error: Error };

/** Runs the CLI with `args` (without the node and script paths) and resolves with the exit status. */
export async function runCli(args: string[], io: CliIo = PROCESS_IO): Promise<number> {
  const output = new StatusOutput(io.stderr);
  let settings: CliSettings;
  let sender: SyslogSender;
  try {
    const command = parseCommandLine(args);
    if (command.kind === 'help') {
      io.stdout.write(HELP_TEXT);
      return EXIT_CODES.ok;
    }
    if (command.kind === 'version') {
      io.stdout.write(`${readVersion()}\n`);
      return EXIT_CODES.ok;
    }
    settings = command.settings;
    sender = createSenderFromConfig(settings.sender);
  } catch (error) {
    if (!(error instanceof UsageError) && !(error instanceof InvalidOptionError)) throw error;
    output.message(`${error.message}\nTry 'resilient-syslog --help' for the options.`);
    return EXIT_CODES.usage;
  }
  return forward(settings, sender, io, output);
}

async function forward(settings: CliSettings, sender: SyslogSender, io: CliIo, output: StatusOutput): Promise<number> {
  const stopReporting = reportSenderProblems(sender, (line) => output.message(line));
  const unsubscribe: Array<() => void> = [];
  let stopRequested: ((reason: StopReason) => void) | undefined;
  const stopped = new Promise<StopReason>((resolve) => {
    stopRequested = resolve;
  });
  const requestStop = (reason: StopReason): void => stopRequested?.(reason);

  let signals = 0;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    unsubscribe.push(
      io.onSignal(signal, () => {
        signals += 1;
        if (signals > 1) {
          output.message(`received ${signal} again: exiting at once with ${sender.pending} events not delivered`);
          io.exit(EXIT_CODES.incomplete);
        }
        requestStop({ kind: 'signal', signal });
      }),
    );
  }
  for (const signal of STATS_SIGNALS) {
    unsubscribe.push(io.onSignal(signal, () => output.message(formatStats(sender.stats()))));
  }
  output.startProgress(() => formatStats(sender.stats()));

  const send = (lines: string[]): boolean => {
    let accepted = true;
    for (const line of lines) {
      if (line === '') continue;
      if (!sender.send(line)) accepted = false;
    }
    return accepted;
  };

  const targets = settings.sender.upstreams.map((upstream) => (typeof upstream === 'string' ? upstream : upstream.url ?? upstream.host)).join(', ');
  let stopInput: () => Promise<void>;
  if (settings.follow.length > 0) {
    output.message(`following ${settings.follow.join(', ')}; sending to ${targets}`);
    stopInput = followFiles(settings, sender, send, output, requestStop);
  } else {
    stopInput = readStream(io.stdin, sender, send, requestStop);
  }
  debug('cli started: reading %s, sending to %s', settings.follow.length > 0 ? 'files' : 'standard input', targets);

  const reason = await stopped;
  await stopInput();
  if (reason.kind === 'signal') {
    output.message(`received ${reason.signal}: delivering ${sender.pending} pending events within ${settings.closeTimeoutMs} ms`);
  }
  if (reason.kind === 'input-error') output.message(`reading input failed: ${reason.error.message}`);

  const result = await sender.close(settings.closeTimeoutMs);
  stopReporting();
  output.stopProgress();
  for (const remove of unsubscribe) remove();

  const stats = sender.stats();
  const dropped = droppedTotal(stats);
  if (!result.delivered) {
    const where = settings.sender.bufferDir === undefined ? 'lost (no --buffer-dir)' : `kept in ${settings.sender.bufferDir} for the next run`;
    output.message(`${result.pending} events not delivered within ${settings.closeTimeoutMs} ms: ${where}`);
  }
  if (settings.follow.length > 0 || reason.kind !== 'end' || !result.delivered || dropped > 0) {
    output.message(`stopped: ${formatStats(stats)}`);
  }
  if (reason.kind === 'input-error') return EXIT_CODES.input;
  return result.delivered && dropped === 0 ? EXIT_CODES.ok : EXIT_CODES.incomplete;
}

/** Reads lines from `stream` until it ends; pauses while the sender's queue is full. */
function readStream(
  stream: NodeJS.ReadableStream,
  sender: SyslogSender,
  send: (lines: string[]) => boolean,
  requestStop: (reason: StopReason) => void,
): () => Promise<void> {
  const splitter = new LineSplitter();
  const onData = (chunk: Buffer | string): void => {
    const lines = splitter.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    if (send(lines)) return;
    stream.pause();
    void sender.ready().then(() => stream.resume());
  };
  const onEnd = (): void => {
    const last = splitter.end();
    if (last !== undefined) send([last]);
    requestStop({ kind: 'end' });
  };
  const onError = (error: Error): void => requestStop({ kind: 'input-error', error });
  stream.on('data', onData);
  stream.on('end', onEnd);
  stream.on('error', onError);
  return async () => {
    stream.off('data', onData);
    stream.off('end', onEnd);
    stream.off('error', onError);
    stream.pause();
  };
}

/** Follows every file of `settings.follow` until stopped; an unreadable file stops the run. */
function followFiles(
  settings: CliSettings,
  sender: SyslogSender,
  send: (lines: string[]) => boolean,
  output: StatusOutput,
  requestStop: (reason: StopReason) => void,
): () => Promise<void> {
  const followers: FileFollower[] = [];
  for (const path of settings.follow) {
    const follower: FileFollower = new FileFollower(path, {
      fromStart: settings.fromStart,
      pollIntervalMs: settings.pollIntervalMs,
      watch: !settings.pollOnly,
      rotateWaitMs: settings.rotateWaitMs,
      onLines: (lines) => {
        if (send(lines)) return true;
        void sender.ready().then(() => follower.resume());
        return false;
      },
      onNotice: (message) => output.message(message),
      onError: (error) => requestStop({ kind: 'input-error', error: new Error(`${path}: ${error.message}`) }),
    });
    followers.push(follower);
    follower.start();
  }
  return async () => {
    await Promise.all(followers.map((follower) => follower.stop()));
  };
}

function readVersion(): string {
  // The same relative path from src/cli (run through tsx) and from dist/cli.
  const require = createRequire(import.meta.url);
  return (require('../../package.json') as { version: string }).version;
}
