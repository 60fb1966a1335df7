/**
 * Error classes with stable `code` values. Callers match on `code`, never on the message text.
 */
export class SyslogError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** An option passed to a constructor is missing, has the wrong type or is out of range. */
export class InvalidOptionError extends SyslogError {
  constructor(message: string) {
    super('ERR_SYSLOG_INVALID_OPTION', message);
  }
}

/** An event passed to `send()` cannot be formatted (for example an invalid structured-data name with `sdNamePolicy: 'throw'`). */
export class InvalidEventError extends SyslogError {
  constructor(message: string) {
    super('ERR_SYSLOG_INVALID_EVENT', message);
  }
}

/** `send()` or `flush()` was called after `close()`. */
export class SenderClosedError extends SyslogError {
  constructor(message = 'The sender is closed: create a new SyslogSender to send more events') {
    super('ERR_SYSLOG_SENDER_CLOSED', message);
  }
}

/** A connection attempt did not complete within `connectTimeoutMs`. */
export class ConnectTimeoutError extends SyslogError {
  constructor(target: string, timeoutMs: number) {
    super('ERR_SYSLOG_CONNECT_TIMEOUT', `Connecting to ${target} timed out after ${timeoutMs} ms`);
  }
}

/** A connect attempt failed with something other than a network error (an invalid TLS option, a connector that threw). It is retried with backoff like any other failure. */
export class ConnectFailedError extends SyslogError {
  constructor(target: string, cause: unknown) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    super('ERR_SYSLOG_CONNECT_FAILED', `Connecting to ${target} failed: ${detail}; check the upstream's options`, { cause });
  }
}

/** A strategy's `select()` threw; the records wait and routing is tried again. */
export class StrategyError extends SyslogError {
  constructor(strategy: string, cause: unknown) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    super('ERR_SYSLOG_STRATEGY', `Strategy ${JSON.stringify(strategy)} threw in select(): ${detail}; events wait until it returns an upstream`, { cause });
  }
}

/** Bytes were pending on a connection and none drained within `stallTimeoutMs`. */
export class WriteStalledError extends SyslogError {
  constructor(target: string, timeoutMs: number, pendingBytes: number) {
    super(
      'ERR_SYSLOG_WRITE_STALLED',
      `Collector ${target} accepted no data for ${timeoutMs} ms with ${pendingBytes} bytes pending: treating it as down`,
    );
  }
}

/** The collector closed or reset the connection. */
export class ConnectionClosedError extends SyslogError {
  constructor(target: string, detail: string, options?: { cause?: unknown }) {
    super('ERR_SYSLOG_CONNECTION_CLOSED', `Connection to ${target} closed: ${detail}`, options);
  }
}

/** A RELP peer sent a frame that breaks the protocol, or answered a command with an error status. */
export class RelpProtocolError extends SyslogError {
  constructor(message: string) {
    super('ERR_SYSLOG_RELP_PROTOCOL', message);
  }
}

/** Reading or writing the disk buffer failed (ENOSPC, EIO, EACCES and similar). */
export class BufferIOError extends SyslogError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_SYSLOG_BUFFER_IO', message, options);
  }
}

/**
 * The disk buffer found damaged or missing data (a failed checksum, a missing segment file,
 * unreadable metadata) and carried on without it. DiskBuffer sends it as a `warning` event
 * and never throws it.
 */
export class BufferCorruptError extends SyslogError {
  constructor(message: string) {
    super('ERR_SYSLOG_BUFFER_CORRUPT', message);
  }
}

/** `flush()` or `close()` reached its deadline with events still undelivered. */
export class DeadlineError extends SyslogError {
  constructor(operation: string, timeoutMs: number, pending: number) {
    super(
      'ERR_SYSLOG_DEADLINE',
      `${operation} reached its ${timeoutMs} ms deadline with ${pending} ${pending === 1 ? 'event' : 'events'} not yet confirmed`,
    );
  }
}
