import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';

export type Protocol = 'udp' | 'tcp' | 'tls' | 'relp';

/** Delimiting of SYSLOG-MSG frames on a stream (RFC 6587). TLS always uses octet counting (RFC 5425). */
export type Framing = 'octet-counting' | 'lf';

/** Everything a transport needs to open one connection to one collector. */
export interface ConnectOptions {
  protocol: Protocol;
  /** Host name or IP literal without brackets; names are resolved on every connect. */
  host: string;
  port: number;
  /** `protocol://host:port`, used in messages and events. */
  target: string;
  connectTimeoutMs: number;
  /** A connection with bytes pending and none drained for this long is declared dead. */
  stallTimeoutMs: number;
  /** `writable` turns false above this many unsent bytes. */
  highWaterMarkBytes: number;
  /** TCP and TLS: a written record is confirmed once the connection stayed healthy this long after the write reached the kernel. */
  replayWindowMs: number;
  /** TCP and TLS: the oldest flushed records are confirmed early once the window contains more than this many records. */
  replayWindowMaxRecords: number;
  /** TCP and TLS: the same bound in bytes. */
  replayWindowMaxBytes: number;
  /** TCP keepalive initial delay. */
  keepAliveMs: number;
  /** TCP: RFC 6587 framing. TLS ignores it and always counts octets. */
  framing: Framing;
  /** LF framing: what replaces LF and CR inside a message. Default `#012` and `#015` as rsyslog writes them. */
  newlineEscape: { lf: string; cr: string };
  /** UDP: largest datagram payload in bytes; longer messages are cut at a UTF-8 character boundary. */
  maxDatagramBytes: number;
  /** TLS options (CA, cert, key, servername, rejectUnauthorized) for this collector. */
  tls?: TlsConnectionOptions;
  /** RELP: maximum unacknowledged transactions. */
  relpWindowSize: number;
  /** Called once per truncated datagram so the sender can count it. */
  onTruncate?: () => void;
}

/** Opens one connection; rejects when it cannot be established within `connectTimeoutMs`. */
export type ConnectFunction = (options: ConnectOptions) => Promise<import('./connection.js').Connection>;
