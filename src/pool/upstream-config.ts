import net from 'node:net';
import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import { InvalidOptionError } from '../errors.js';
import { describe } from '../format/format-options.js';
import type { TlsFileOptions } from '../transport/stream.js';
import type { Framing, Protocol } from '../transport/options.js';

/** Default port per protocol: 514 for UDP and TCP (as rsyslog uses them), 6514 for TLS (RFC 5425), 2514 for RELP (rsyslog's examples). */
export const DEFAULT_PORTS: Record<Protocol, number> = { udp: 514, tcp: 514, tls: 6514, relp: 2514 };

const PROTOCOLS: readonly Protocol[] = ['udp', 'tcp', 'tls', 'relp'];

/** One collector as the application describes it. */
export interface UpstreamOptions {
  /** `udp://host:514`, `tcp://host:5140`, `tls://host:6514` or `relp://host:2514`; IPv6 literals in brackets. */
  url?: string;
  protocol?: Protocol;
  host?: string;
  port?: number;
  /** Share in round robin. Default 1. */
  weight?: number;
  /** A backup takes traffic only while no primary is usable. Default false. */
  backup?: boolean;
  /** TCP framing. Default `octet-counting`. */
  framing?: Framing;
  /** UDP: largest datagram payload in bytes, from 480 to 65,527. Default 2048. Over IPv4 the transport lowers it to 65,507. */
  maxDatagramBytes?: number;
  /** TLS options for this collector; `caFile`, `certFile` and `keyFile` are read again on every connect. */
  tls?: TlsConnectionOptions & TlsFileOptions;
}

export interface UpstreamConfig {
  protocol: Protocol;
  host: string;
  port: number;
  target: string;
  weight: number;
  backup: boolean;
  framing?: Framing;
  maxDatagramBytes?: number;
  tls?: TlsConnectionOptions & TlsFileOptions;
}

/** Parses a URL or an options object into a checked upstream description. */
export function parseUpstream(input: string | UpstreamOptions, index: number): UpstreamConfig {
  const options: UpstreamOptions = typeof input === 'string' ? { url: input } : { ...input };
  const label = `upstreams[${index}]`;
  let { protocol, host, port } = options;
  if (options.url !== undefined) {
    const parsed = parseUrl(options.url, label);
    protocol = parsed.protocol;
    host = parsed.host;
    port = parsed.port;
  }
  if (protocol === undefined || !PROTOCOLS.includes(protocol)) {
    throw new InvalidOptionError(
      `Invalid ${label}.protocol ${JSON.stringify(protocol)}: expected one of ${PROTOCOLS.join(', ')}`,
    );
  }
  if (typeof host !== 'string' || host.length === 0) {
    throw new InvalidOptionError(`Missing ${label}.host: give a host name or an IP address`);
  }
  host = stripBrackets(host);
  if (net.isIP(host) === 0 && host.includes(':')) {
    throw new InvalidOptionError(
      `Invalid ${label}.host ${JSON.stringify(host)}: it is not an IP address; write an IPv6 address with its port as [address]:port in a URL`,
    );
  }
  port ??= DEFAULT_PORTS[protocol];
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new InvalidOptionError(`Invalid ${label}.port ${JSON.stringify(port)}: expected an integer from 1 to 65535`);
  }
  const weight = options.weight ?? 1;
  // Safe integers keep the round-robin scores finite: two weights of 1e308 add up to Infinity, and
  // the scores then turn NaN, so that no upstream is ever picked again.
  if (typeof weight !== 'number' || !Number.isSafeInteger(weight) || weight < 1) {
    throw new InvalidOptionError(`Invalid ${label}.weight ${describe(weight)}: expected a positive integer up to ${Number.MAX_SAFE_INTEGER}`);
  }
  if (options.framing !== undefined && options.framing !== 'octet-counting' && options.framing !== 'lf') {
    throw new InvalidOptionError(
      `Invalid ${label}.framing ${JSON.stringify(options.framing)}: expected 'octet-counting' or 'lf'`,
    );
  }
  if (options.framing === 'lf' && protocol === 'tls') {
    throw new InvalidOptionError(`Invalid ${label}.framing 'lf': TLS always uses octet counting (RFC 5425)`);
  }
  if (options.backup !== undefined && typeof options.backup !== 'boolean') {
    throw new InvalidOptionError(`Invalid ${label}.backup ${JSON.stringify(options.backup)}: expected true or false`);
  }
  if (options.tls !== undefined && protocol !== 'tls' && protocol !== 'relp') {
    throw new InvalidOptionError(
      `Invalid ${label}.tls: the upstream uses ${protocol}, which sends in clear; use a tls:// (or relp://) URL to encrypt`,
    );
  }
  const hostInTarget = net.isIPv6(host) ? `[${host}]` : host;
  return {
    protocol,
    host,
    port,
    target: `${protocol}://${hostInTarget}:${port}`,
    weight,
    backup: options.backup ?? false,
    framing: options.framing,
    maxDatagramBytes: options.maxDatagramBytes,
    tls: options.tls,
  };
}

function parseUrl(url: string, label: string): { protocol: Protocol; host: string; port: number | undefined } {
  const match = /^([a-z]+):\/\/(\[[^\]]+\]|[^:/[\]]+)(?::(\d+))?\/?$/i.exec(url);
  if (!match) {
    const hint = /^[a-z]+:\/\/[^[]*:.*:/i.test(url) ? ' (write an IPv6 address in brackets, as in tcp://[2001:db8::2]:5140)' : '';
    throw new InvalidOptionError(
      `Invalid ${label} URL ${JSON.stringify(url)}: expected protocol://host:port with protocol udp, tcp, tls or relp${hint}`,
    );
  }
  const protocol = match[1].toLowerCase() as Protocol;
  if (!PROTOCOLS.includes(protocol)) {
    throw new InvalidOptionError(
      `Invalid ${label} URL ${JSON.stringify(url)}: protocol ${JSON.stringify(match[1])} is not one of ${PROTOCOLS.join(', ')}`,
    );
  }
  const host = stripBrackets(match[2]);
  if (match[2].startsWith('[') && net.isIPv6(host) === false) {
    throw new InvalidOptionError(`Invalid ${label} URL ${JSON.stringify(url)}: ${JSON.stringify(host)} is not an IPv6 address`);
  }
  return { protocol, host, port: match[3] === undefined ? undefined : Number(match[3]) };
}

function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}
