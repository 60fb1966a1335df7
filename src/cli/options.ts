import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { describe, MESSAGE_FORMATS, type MessageFormat } from '../format/format-options.js';
import { FACILITIES, SEVERITIES } from '../format/types.js';
import { checkSenderConfig, isPlainObject, type SenderConfig } from '../integrations/sender-config.js';

/** A command line or configuration file that cannot be used; the CLI exits with code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Keys of the configuration file beyond `SenderConfig`: the CLI's own settings. */
export interface CliConfig {
  /** Files to follow instead of reading standard input. */
  follow?: string[];
  /** Read followed files from their beginning instead of their end. Default false. */
  fromStart?: boolean;
  /** Interval between checks of followed files for new data, rotation and truncation. Default 1,000 ms. */
  pollIntervalMs?: number;
  /** Only poll: do not use fs.watch to learn of changes early. Default false. */
  pollOnly?: boolean;
  /** How long a rotated file is still read, for writers that have not reopened yet. Default 5,000 ms. */
  rotateWaitMs?: number;
}

const CLI_CONFIG_KEYS = ['follow', 'fromStart', 'pollIntervalMs', 'pollOnly', 'rotateWaitMs'];

/** Everything a run needs, after the configuration file and the command line were merged and checked. */
export interface CliSettings {
  sender: SenderConfig;
  follow: string[];
  fromStart: boolean;
  pollIntervalMs: number;
  pollOnly: boolean;
  rotateWaitMs: number;
  closeTimeoutMs: number;
}

export type CliCommand = { kind: 'help' } | { kind: 'version' } | { kind: 'run'; settings: CliSettings };

const DEFAULT_POLL_INTERVAL_MS = 1_000;
const DEFAULT_ROTATE_WAIT_MS = 5_000;
const DEFAULT_CLOSE_TIMEOUT_MS = 10_000;

/** `parseArgs` definitions; the help text in help.ts lists the same options. */
const OPTIONS = {
  upstream: { type: 'string', short: 'u', multiple: true },
  failover: { type: 'boolean' },
  'round-robin': { type: 'boolean' },
  'buffer-dir': { type: 'string' },
  format: { type: 'string' },
  priority: { type: 'string', short: 'p' },
  tag: { type: 'string', short: 't' },
  hostname: { type: 'string' },
  msgid: { type: 'string' },
  follow: { type: 'string', short: 'f', multiple: true },
  'from-start': { type: 'boolean' },
  'poll-interval': { type: 'string' },
  'poll-only': { type: 'boolean' },
  'rotate-wait': { type: 'string' },
  'close-timeout': { type: 'string' },
  config: { type: 'string', short: 'c' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const;

/** Severity names that `logger -p` accepts besides the RFC 5424 ones. */
const SEVERITY_ALIASES: Readonly<Record<string, number>> = { warn: SEVERITIES.warning, error: SEVERITIES.err, panic: SEVERITIES.emerg };

/** Parses the command line and the configuration file it names. Throws UsageError. */
export function parseCommandLine(args: string[]): CliCommand {
  let parsed: ReturnType<typeof parseArgs<{ args: string[]; options: typeof OPTIONS; allowPositionals: true; strict: true }>>;
  try {
    parsed = parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return { kind: 'help' };
  if (values.version) return { kind: 'version' };

  const file: Partial<SenderConfig> & CliConfig = values.config === undefined ? {} : readConfigFile(values.config);
  const { follow: fileFollow, fromStart, pollIntervalMs, pollOnly, rotateWaitMs, ...fileSender } = file;
  const sender: Record<string, unknown> = { ...fileSender };

  const urls = [...positionals, ...(values.upstream ?? [])];
  if (urls.length > 0) sender.upstreams = urls;
  if (sender.upstreams === undefined) {
    throw new UsageError('Missing collector: give at least one URL, such as tcp://127.0.0.1:514, as an argument or with --upstream');
  }
  if (values.failover && values['round-robin']) {
    throw new UsageError('Invalid options: --failover and --round-robin exclude each other; give one of them');
  }
  if (values.failover) sender.strategy = 'failover';
  if (values['round-robin']) sender.strategy = 'round-robin';
  if (values['buffer-dir'] !== undefined) sender.bufferDir = values['buffer-dir'];
  if (values.format !== undefined) {
    if (!MESSAGE_FORMATS.includes(values.format as MessageFormat)) {
      throw new UsageError(`Invalid --format ${JSON.stringify(values.format)}: expected one of ${MESSAGE_FORMATS.join(', ')}`);
    }
    sender.format = values.format;
  }
  if (values.priority !== undefined) Object.assign(sender, parsePriority(values.priority));
  // logger(1) sends user.notice unless -p sets another priority.
  sender.facility ??= 'user';
  sender.severity ??= 'notice';
  if (values.tag !== undefined) sender.appName = values.tag;
  sender.appName ??= 'resilient-syslog';
  if (values.hostname !== undefined) sender.hostname = values.hostname;
  if (values.msgid !== undefined) sender.msgId = values.msgid;

  const closeTimeoutMs =
    values['close-timeout'] === undefined
      ? numberSetting('closeTimeoutMs', sender.closeTimeoutMs) ?? DEFAULT_CLOSE_TIMEOUT_MS
      : parseDuration('--close-timeout', values['close-timeout']);
  sender.closeTimeoutMs = closeTimeoutMs;

  let checked: SenderConfig;
  try {
    checked = checkSenderConfig(sender, [], values.config === undefined ? 'options' : values.config);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }

  const follow = values.follow ?? stringList('follow', fileFollow) ?? [];
  return {
    kind: 'run',
    settings: {
      sender: checked,
      follow,
      fromStart: values['from-start'] ?? booleanSetting('fromStart', fromStart) ?? false,
      pollIntervalMs:
        values['poll-interval'] === undefined
          ? numberSetting('pollIntervalMs', pollIntervalMs) ?? DEFAULT_POLL_INTERVAL_MS
          : parseDuration('--poll-interval', values['poll-interval']),
      pollOnly: values['poll-only'] ?? booleanSetting('pollOnly', pollOnly) ?? false,
      rotateWaitMs:
        values['rotate-wait'] === undefined
          ? numberSetting('rotateWaitMs', rotateWaitMs, 0) ?? DEFAULT_ROTATE_WAIT_MS
          : parseDuration('--rotate-wait', values['rotate-wait'], 0),
      closeTimeoutMs,
    },
  };
}

/**
 * Parses a `logger -p` priority: `facility.severity` with names (`local0.notice`, also `warn`,
 * `error` and `panic`), or a PRI number from 0 to 191.
 */
export function parsePriority(text: string): { facility: number; severity: number } {
  if (/^\d+$/.test(text)) {
    const pri = Number(text);
    if (pri > 191) throw new UsageError(`Invalid --priority ${JSON.stringify(text)}: a PRI number must be from 0 to 191`);
    return { facility: Math.floor(pri / 8), severity: pri % 8 };
  }
  const dot = text.lastIndexOf('.');
  const facilityName = dot < 0 ? 'user' : text.slice(0, dot);
  const severityName = dot < 0 ? text : text.slice(dot + 1);
  const facility = Object.hasOwn(FACILITIES, facilityName) ? FACILITIES[facilityName as keyof typeof FACILITIES] : undefined;
  if (facility === undefined) {
    throw new UsageError(
      `Invalid --priority ${JSON.stringify(text)}: unknown facility ${JSON.stringify(facilityName)}; expected one of ${Object.keys(FACILITIES).join(', ')}`,
    );
  }
  const severity = Object.hasOwn(SEVERITIES, severityName)
    ? SEVERITIES[severityName as keyof typeof SEVERITIES]
    : SEVERITY_ALIASES[severityName];
  if (severity === undefined) {
    throw new UsageError(
      `Invalid --priority ${JSON.stringify(text)}: unknown severity ${JSON.stringify(severityName)}; expected one of ${Object.keys(SEVERITIES).join(', ')}`,
    );
  }
  return { facility, severity };
}

const DURATION_UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000 };

/** Parses `250ms`, `5s`, `2m` or a bare number of seconds into milliseconds. */
export function parseDuration(option: string, text: string, minimum = 1): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  const milliseconds = match === null ? Number.NaN : Math.round(Number(match[1]) * DURATION_UNITS[match[2] ?? 's']);
  if (!Number.isFinite(milliseconds) || milliseconds < minimum) {
    throw new UsageError(
      `Invalid ${option} ${JSON.stringify(text)}: expected a duration such as 500ms, 5s or 2m (a bare number is seconds), of at least ${minimum} ms`,
    );
  }
  return milliseconds;
}

function readConfigFile(path: string): SenderConfig & CliConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`Cannot read --config ${JSON.stringify(path)}: ${(error as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`Invalid JSON in --config ${JSON.stringify(path)}: ${(error as Error).message}`);
  }
  if (!isPlainObject(value)) throw new UsageError(`Invalid --config ${JSON.stringify(path)}: expected a JSON object`);
  const { upstreams, ...rest } = value;
  try {
    // Upstreams may come from the command line instead, so the check uses a placeholder when the file has none.
    checkSenderConfig({ upstreams: upstreams ?? ['tcp://127.0.0.1:514'], ...rest }, CLI_CONFIG_KEYS, path);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  return value as unknown as SenderConfig & CliConfig;
}

function numberSetting(name: string, value: unknown, minimum = 1): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < minimum) {
    throw new UsageError(`Invalid ${name} ${describe(value)} in --config: expected a number of milliseconds of at least ${minimum}`);
  }
  return value;
}

function booleanSetting(name: string, value: unknown): boolean | undefined {
  if (value === undefined || typeof value === 'boolean') return value;
  throw new UsageError(`Invalid ${name} ${describe(value)} in --config: expected true or false`);
}

function stringList(name: string, value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value) && value.every((item) => typeof item === 'string' && item !== '')) return value as string[];
  throw new UsageError(`Invalid ${name} ${describe(value)} in --config: expected an array of file paths`);
}
