import { writeSync } from 'node:fs';
import { workerData } from 'node:worker_threads';
import build from 'pino-abstract-transport';
import { InvalidOptionError } from '../errors.js';
import { describe } from '../format/format-options.js';
import { SEVERITIES, type SeverityName, type SyslogEvent } from '../format/types.js';
import type { SyslogSender } from '../sender/syslog-sender.js';
import { reportSenderProblems } from './problem-reporter.js';
import {
  checkChoice,
  pickStructuredData,
  resolveLevelMap,
  resolveStructuredDataOptions,
  type StructuredDataOptions,
} from './record-fields.js';
import { checkSenderConfig, createSenderFromConfig, isPlainObject, type SenderConfig } from './sender-config.js';

/** Source of the MSG part: the message field of the record, or the whole JSON line. */
export type PinoMessageSource = 'field' | 'line';

export const PINO_MESSAGE_SOURCES: readonly PinoMessageSource[] = ['field', 'line'];

/**
 * Options of the pino transport. They cross from the application's thread to pino's worker
 * thread, so they must survive structured cloning: plain JSON, no functions or class instances.
 */
export interface PinoTransportOptions extends SenderConfig, StructuredDataOptions {
  /**
   * `field` (default): MSG is the message field (`messageKey`), or the whole JSON line when the
   * record has no message field. `line`: MSG is always the whole JSON line.
   */
  messageSource?: PinoMessageSource;
  /** Name of the message field. Default: pino's `messageKey` (`msg` unless the logger changes it). */
  messageKey?: string;
  /**
   * Severities for custom levels, or other severities for the standard ones, keyed by level
   * number or label: `{ "35": "notice", "audit": "notice" }`.
   */
  levelSeverities?: Record<string, SeverityName | number>;
}

/** SD-ID used when `structuredDataId` is not set. 32473 is the example enterprise number of RFC 5612. */
export const PINO_DEFAULT_SD_ID = 'pino@32473';

/**
 * Default deadline for delivering the tail on close, in ms. pino's worker thread has at most 10 s
 * (thread-stream 4's `end()`) to finish when the application exits, so this leaves room for
 * ending connections and closing the buffer.
 */
export const PINO_DEFAULT_CLOSE_TIMEOUT_MS = 5_000;

const PINO_OPTION_KEYS = ['messageSource', 'messageKey', 'levelSeverities', 'structuredDataFields', 'structuredDataId'];

/** pino's level numbers for its standard labels. */
const PINO_LEVEL_VALUES: Readonly<Record<string, number>> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };

/** A line from pino, with the parsed record when the line is a JSON object. */
interface PinoLine {
  line: string;
  record: Record<string, unknown> | undefined;
}

/** Logger settings that pino sends to the worker before the first line when `pinoWillSendConfig` is set (pino 10 does). */
interface PinoConfig {
  levels?: { values?: Record<string, number> };
  messageKey?: string;
}

/**
 * Maps a pino level number to a syslog severity: 60 fatal to crit, 50 error to err, 40 warn to
 * warning, 30 info to info, 20 debug and 10 trace to debug. A custom level takes the severity of
 * the next standard level below it, so 35 maps to info.
 */
export function pinoLevelToSeverity(level: number): number {
  if (level >= 60) return SEVERITIES.crit;
  if (level >= 50) return SEVERITIES.err;
  if (level >= 40) return SEVERITIES.warning;
  if (level >= 30) return SEVERITIES.info;
  return SEVERITIES.debug;
}

/**
 * Builds the pino transport: `pino({ transport: { target: 'resilient-syslog/pino', options } })`.
 * pino loads it in a worker thread, where it owns one `SyslogSender`. When the stream ends (the
 * logger is closed or the process exits), the close callback waits for `sender.close()`, so the
 * last lines are delivered, or kept in the DiskBuffer of `bufferDir`, before the worker stops.
 * Problems (collector down, drops, buffer warnings) are written to stderr.
 */
export default async function pinoTransport(workerOptions: PinoTransportOptions) {
  const options = withoutPinoKeys(workerOptions);
  const config = checkSenderConfig(options, PINO_OPTION_KEYS, 'pino transport options');
  const messageSource = checkChoice('messageSource', options.messageSource, PINO_MESSAGE_SOURCES) ?? 'field';
  if (options.messageKey !== undefined && (typeof options.messageKey !== 'string' || options.messageKey === '')) {
    throw new InvalidOptionError(`Invalid messageKey ${describe(options.messageKey)}: expected a field name such as "msg"`);
  }
  const levelSeverities = resolveLevelMap(options.levelSeverities, 'levelSeverities');
  const structuredData = resolveStructuredDataOptions(options, PINO_DEFAULT_SD_ID);
  const {
    messageSource: _messageSource,
    messageKey: _messageKey,
    levelSeverities: _levelSeverities,
    structuredDataFields: _fields,
    structuredDataId: _sdId,
    ...senderConfig
  } = config as PinoTransportOptions;
  const sender = createSenderFromConfig({
    ...senderConfig,
    closeTimeoutMs: senderConfig.closeTimeoutMs ?? PINO_DEFAULT_CLOSE_TIMEOUT_MS,
  });
  const stopReporting = reportSenderProblems(sender, reportToStderr);

  return build(
    async (source) => {
      const pinoConfig = source as unknown as PinoConfig;
      const mapper = new PinoRecordMapper({
        messageSource,
        messageKey: options.messageKey ?? pinoConfig.messageKey ?? 'msg',
        levelSeverities,
        levelValues: { ...PINO_LEVEL_VALUES, ...pinoConfig.levels?.values },
        fields: structuredData.fields,
        sdId: structuredData.sdId,
        defaultHostname: config.hostname === undefined,
        defaultProcId: config.procId === undefined,
        defaultAppName: config.appName === undefined,
      });
      for await (const entry of source as AsyncIterable<PinoLine>) {
        await sendLine(sender, mapper.toEvent(entry));
      }
    },
    {
      // Waiting for settings that a pino version never sends would fail at start, so wait only when pino announced them.
      expectPinoConfig: pinoWillSendConfig(),
      // Never throws, so an unparsable line is sent as it is instead of being skipped.
      parseLine: parsePinoLine,
      close: async () => {
        const result = await sender.close();
        stopReporting();
        if (!result.delivered) {
          const where = config.bufferDir === undefined ? 'lost with the memory queue' : `kept in ${config.bufferDir}`;
          reportToStderr(`closed with ${result.pending} events not delivered, ${where}`);
        }
      },
    },
  );
}

/** Keys that pino 10 adds to a single target's options: custom levels, dedupe and the settings flag. */
const PINO_ADDED_KEYS = ['levels', 'dedupe', 'pinoWillSendConfig'];

/**
 * Removes what pino and thread-stream add to the options on their way to the worker
 * (`PINO_ADDED_KEYS`, and `$context` and other keys starting with `$`), so that the check for
 * misspelled options checks only the caller's own.
 */
function withoutPinoKeys(options: PinoTransportOptions): PinoTransportOptions {
  if (!isPlainObject(options)) return options;
  const entries = Object.entries(options).filter(([key]) => !key.startsWith('$') && !PINO_ADDED_KEYS.includes(key));
  return Object.fromEntries(entries) as unknown as PinoTransportOptions;
}

async function sendLine(sender: SyslogSender, event: SyslogEvent): Promise<void> {
  let accepted: boolean;
  try {
    accepted = sender.send(event);
  } catch (error) {
    // Only InvalidEventError, with sdNamePolicy 'throw'.
    reportToStderr(`event not sent: ${(error as Error).message}`);
    return;
  }
  // The queue is full: stop reading, so pino's buffer fills up instead of this thread's memory.
  if (!accepted) await sender.ready();
}

/** Reads the flag with which pino announces its settings, where pino-abstract-transport 3 reads it. */
function pinoWillSendConfig(): boolean {
  const data = workerData as { workerData?: { pinoWillSendConfig?: unknown } } | null | undefined;
  return data?.workerData?.pinoWillSendConfig === true;
}

function parsePinoLine(line: string): PinoLine {
  try {
    const value: unknown = JSON.parse(line);
    return { line, record: isPlainObject(value) ? value : undefined };
  } catch {
    return { line, record: undefined };
  }
}

/** Writes straight to fd 2, because the worker's `process.stderr` is relayed through the main thread, which may be blocked in exit. */
function reportToStderr(message: string): void {
  try {
    writeSync(2, `resilient-syslog/pino: ${message}\n`);
  } catch {
    // stderr is closed: nothing else can report the problem.
  }
}

interface MapperSettings {
  messageSource: PinoMessageSource;
  messageKey: string;
  levelSeverities: Map<string, number>;
  levelValues: Record<string, number>;
  fields: string[];
  sdId: string;
  /** True when the configuration leaves HOSTNAME to the record's `hostname` field. */
  defaultHostname: boolean;
  /** True when the configuration leaves PROCID to the record's `pid` field. */
  defaultProcId: boolean;
  /** True when the configuration leaves APP-NAME to the record's `name` field. */
  defaultAppName: boolean;
}

/** Turns one pino line into a `SyslogEvent`. Exported for tests. */
export class PinoRecordMapper {
  /** Level labels by number, the reverse of `levelValues`. */
  private readonly labels: Map<number, string>;

  constructor(private readonly settings: MapperSettings) {
    this.labels = new Map(Object.entries(settings.levelValues).map(([label, value]) => [value, label]));
  }

  toEvent({ line, record }: PinoLine): SyslogEvent {
    if (record === undefined) return { message: line };
    const { settings } = this;
    const event: SyslogEvent = { message: this.message(line, record) };

    const severity = this.severity(record.level);
    if (severity !== undefined) event.severity = severity;
    const timestamp = pinoTime(record.time);
    if (timestamp !== undefined) event.timestamp = timestamp;
    if (settings.defaultHostname && typeof record.hostname === 'string') event.hostname = record.hostname;
    if (settings.defaultProcId && typeof record.pid === 'number') event.procId = record.pid;
    if (settings.defaultAppName && typeof record.name === 'string') event.appName = record.name;
    const structuredData = pickStructuredData(record, settings.fields, settings.sdId);
    if (structuredData !== undefined) event.structuredData = structuredData;
    return event;
  }

  private message(line: string, record: Record<string, unknown>): string {
    if (this.settings.messageSource === 'line') return line;
    const value = record[this.settings.messageKey];
    if (typeof value === 'string') return value;
    if (typeof value === 'number' || typeof value === 'boolean') return String(value);
    // No message: the whole line keeps the record's content.
    return line;
  }

  /**
   * Looks the level up in `levelSeverities` by number and by label, then falls back to the
   * standard mapping. Returns undefined for a level it cannot read, which leaves the configured
   * default severity.
   */
  private severity(level: unknown): number | undefined {
    let value: number;
    if (typeof level === 'number' && Number.isFinite(level)) {
      value = level;
    } else if (typeof level === 'string' && Object.hasOwn(this.settings.levelValues, level)) {
      value = this.settings.levelValues[level];
    } else {
      return typeof level === 'string' ? this.settings.levelSeverities.get(level) : undefined;
    }
    const { levelSeverities } = this.settings;
    const label = this.labels.get(value);
    return (
      levelSeverities.get(String(value)) ??
      (label === undefined ? undefined : levelSeverities.get(label)) ??
      pinoLevelToSeverity(value)
    );
  }
}

/** Smallest `time` read as milliseconds; smaller numbers are seconds (pino's `stdTimeFunctions.unixTime`). */
const MIN_EPOCH_MILLISECONDS = 100_000_000_000;

/** Reads pino's `time`: milliseconds by default, seconds with `unixTime`, an ISO string with `isoTime`. */
function pinoTime(time: unknown): number | string | undefined {
  if (typeof time === 'number' && Number.isFinite(time)) {
    return time < MIN_EPOCH_MILLISECONDS ? time * 1000 : time;
  }
  if (typeof time === 'string') return time;
  return undefined;
}
