import TransportStream from 'winston-transport';
import { InvalidOptionError } from '../errors.js';
import { describe } from '../format/format-options.js';
import { SEVERITIES, type SeverityName, type SyslogEvent } from '../format/types.js';
import { SyslogSender, type CloseResult } from '../sender/syslog-sender.js';
import { reportSenderProblems } from './problem-reporter.js';
import {
  checkChoice,
  pickStructuredData,
  resolveLevelMap,
  resolveStructuredDataOptions,
  type StructuredDataOptions,
} from './record-fields.js';
import { checkSenderConfig, createSenderFromConfig, type SenderConfig } from './sender-config.js';

/**
 * Source of the MSG part. `message` is `info.message`. `formatted` is the output of the
 * transport's or the logger's format (`info[Symbol.for('message')]`), such as the line that
 * `format.json()` or `format.printf()` builds. `json` is every field of `info` as JSON.
 */
export type WinstonMessageSource = 'message' | 'formatted' | 'json';

export const WINSTON_MESSAGE_SOURCES: readonly WinstonMessageSource[] = ['message', 'formatted', 'json'];

export interface SyslogTransportOptions extends TransportStream.TransportStreamOptions, StructuredDataOptions {
  /**
   * The sender: a `SyslogSender` built by the application, or its options in JSON form
   * (`{ upstreams: ['tcp://127.0.0.1:5140'], bufferDir: '/var/lib/app/syslog' }`). Either way
   * the transport closes it when the transport closes.
   */
  sender: SyslogSender | SenderConfig;
  /** Source of MSG. Default `message`. */
  messageSource?: WinstonMessageSource;
  /** Severities for custom levels, or other severities for the standard ones: `{ "audit": "notice" }`. */
  levelSeverities?: Record<string, SeverityName | number>;
}

/** SD-ID used when `structuredDataId` is not set. 32473 is the example enterprise number of RFC 5612. */
export const WINSTON_DEFAULT_SD_ID = 'winston@32473';

/**
 * Syslog severity for each level name of winston's `npm` and `syslog` level sets. npm's `http`
 * maps to info, and `verbose` and `silly`, which rank below info, map to debug.
 */
export const WINSTON_LEVEL_SEVERITIES: Readonly<Record<string, number>> = {
  // winston.config.syslog.levels; `error` also belongs to the npm set.
  emerg: SEVERITIES.emerg,
  alert: SEVERITIES.alert,
  crit: SEVERITIES.crit,
  error: SEVERITIES.err,
  warning: SEVERITIES.warning,
  notice: SEVERITIES.notice,
  info: SEVERITIES.info,
  debug: SEVERITIES.debug,
  // winston.config.npm.levels
  warn: SEVERITIES.warning,
  http: SEVERITIES.info,
  verbose: SEVERITIES.debug,
  silly: SEVERITIES.debug,
};

/** Keys winston sets on `info` through `Symbol.for`, as the triple-beam package defines them. */
const LEVEL = Symbol.for('level');
const MESSAGE = Symbol.for('message');

/** A winston log entry: `level`, `message` and the metadata fields, plus triple-beam's symbols. */
type WinstonInfo = Record<string | symbol, unknown>;

/**
 * A winston transport that sends every entry through a `SyslogSender`, with failover and no loss.
 * `log()` pauses winston's stream while the sender's queue is full. `close()`, which winston calls
 * when the transport is removed or the logger is closed, and `logger.end()` both wait until the
 * sender delivered what it accepted, or until its close deadline. Sender problems (a collector
 * down, drops, buffer warnings) are emitted as `warn` events, which winston's logger re-emits.
 */
export class SyslogTransport extends TransportStream {
  readonly sender: SyslogSender;
  private readonly messageSource: WinstonMessageSource;
  private readonly levelSeverities: Map<string, number>;
  private readonly fields: string[];
  private readonly sdId: string;
  private readonly stopReporting: () => void;
  private closing: Promise<CloseResult> | undefined;

  constructor(options: SyslogTransportOptions) {
    super(checkOptionsObject(options));
    this.messageSource = checkChoice('messageSource', options.messageSource, WINSTON_MESSAGE_SOURCES) ?? 'message';
    this.levelSeverities = resolveLevelMap(options.levelSeverities, 'levelSeverities');
    const structuredData = resolveStructuredDataOptions(options, WINSTON_DEFAULT_SD_ID);
    this.fields = structuredData.fields;
    this.sdId = structuredData.sdId;
    this.sender = options.sender instanceof SyslogSender ? options.sender : createSenderFromConfig(checkSenderConfig(options.sender, [], 'sender'));
    this.stopReporting = reportSenderProblems(this.sender, (line) => this.emit('warn', new Error(line)));
  }

  /** Sends one entry; calls `next` at once, or once the sender's queue has room again. */
  override log(info: WinstonInfo, next: () => void): void {
    let accepted = true;
    try {
      accepted = this.sender.send(this.toEvent(info));
    } catch (error) {
      // Only InvalidEventError, with sdNamePolicy 'throw': the entry is reported and skipped.
      this.emit('warn', error);
    }
    setImmediate(() => this.emit('logged', info));
    if (accepted) {
      next();
      return;
    }
    this.sender.ready().then(next, next);
  }

  /** Closes the sender within its `closeTimeoutMs` and resolves with what was left undelivered. Calling it again returns the same promise. */
  override close(): Promise<CloseResult> {
    this.closing ??= this.sender.close().then((result) => {
      this.stopReporting();
      if (!result.delivered) this.emit('warn', new Error(`closed with ${result.pending} events not delivered`));
      this.emit('closed', result);
      return result;
    });
    return this.closing;
  }

  /** Called when the logger ends the stream (`logger.end()`): `finish` waits for the sender. */
  override _final(callback: (error?: Error | null) => void): void {
    this.close().then(
      () => callback(),
      (error: Error) => callback(error),
    );
  }

  /** Turns one winston entry into a `SyslogEvent`. */
  toEvent(info: WinstonInfo): SyslogEvent {
    const event: SyslogEvent = { message: this.message(info) };
    const severity = this.severity(info);
    if (severity !== undefined) event.severity = severity;
    const timestamp = info.timestamp;
    if (typeof timestamp === 'string' || typeof timestamp === 'number' || timestamp instanceof Date) {
      event.timestamp = timestamp;
    }
    const structuredData = pickStructuredData(info as Record<string, unknown>, this.fields, this.sdId);
    if (structuredData !== undefined) event.structuredData = structuredData;
    return event;
  }

  private message(info: WinstonInfo): string {
    if (this.messageSource === 'formatted' && typeof info[MESSAGE] === 'string') return info[MESSAGE];
    if (this.messageSource === 'json') return toJson(info);
    const message = info.message;
    if (typeof message === 'string') return message;
    return message === undefined ? '' : toJson(message);
  }

  /** Returns undefined for an unknown level, which leaves the sender's default severity. */
  private severity(info: WinstonInfo): number | undefined {
    // format.colorize() adds color codes to info.level, so info[LEVEL] is read first.
    const level = typeof info[LEVEL] === 'string' ? info[LEVEL] : info.level;
    if (typeof level !== 'string') return undefined;
    return this.levelSeverities.get(level) ?? (Object.hasOwn(WINSTON_LEVEL_SEVERITIES, level) ? WINSTON_LEVEL_SEVERITIES[level] : undefined);
  }
}

function checkOptionsObject(options: SyslogTransportOptions): SyslogTransportOptions {
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionError(`Invalid options ${describe(options)}: expected an object with a sender`);
  }
  return options;
}

/** Serializes a value to JSON; a circular reference or a throwing `toJSON` falls back to `String()`. */
function toJson(value: unknown): string {
  try {
    return JSON.stringify(value, (_key, item: unknown) => (typeof item === 'bigint' ? item.toString() : item)) ?? String(value);
  } catch {
    return String(value);
  }
}

export default SyslogTransport;
