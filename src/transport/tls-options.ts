import net from 'node:net';
import { readFileSync } from 'node:fs';
import type tls from 'node:tls';
import type { ConnectOptions } from './options.js';

/** TLS options that name files; they are read again on every connect so a rotated CA or key is picked up. */
export interface TlsFileOptions {
  caFile?: string;
  certFile?: string;
  keyFile?: string;
}

/**
 * Builds the options for `tls.connect` to one collector. They are the upstream's own TLS options
 * plus the CA, certificate and key read from their files now. SNI carries the collector's name
 * unless `servername` overrides it, and is left out for an IP literal, which RFC 6066 does not
 * allow in SNI. Certificates are checked unless `rejectUnauthorized` is false.
 */
export function resolveTlsOptions(options: ConnectOptions): tls.ConnectionOptions {
  const { caFile, certFile, keyFile, ...tlsOptions } = (options.tls ?? {}) as tls.ConnectionOptions & TlsFileOptions;
  return {
    ...tlsOptions,
    ...(caFile ? { ca: readFileSync(caFile) } : {}),
    ...(certFile ? { cert: readFileSync(certFile) } : {}),
    ...(keyFile ? { key: readFileSync(keyFile) } : {}),
    host: options.host,
    port: options.port,
    servername: tlsOptions.servername ?? (net.isIP(options.host) === 0 ? options.host : undefined),
    rejectUnauthorized: tlsOptions.rejectUnauthorized ?? true,
  };
}
