// Minimal declarations for the two packages that ship no types, covering only what the benchmark calls.

declare module 'syslog-client' {
  import type { EventEmitter } from 'node:events';

  export const Transport: { Tcp: 1; Udp: 2 };

  export interface ClientOptions {
    port?: number;
    transport?: 1 | 2;
    rfc3164?: boolean;
    syslogHostname?: string;
    appName?: string;
  }

  export interface Client extends EventEmitter {
    log(message: string, callback?: (error?: Error) => void): this;
    close(): this;
  }

  export function createClient(target: string, options?: ClientOptions): Client;

  const syslogClient: { Transport: typeof Transport; createClient: typeof createClient };
  export default syslogClient;
}

declare module 'winston-syslog' {
  import TransportStream from 'winston-transport';

  export interface SyslogTransportOptions extends TransportStream.TransportStreamOptions {
    host?: string;
    port?: number;
    protocol?: string;
    type?: string;
    localhost?: string;
    app_name?: string;
    eol?: string;
  }

  export class Syslog extends TransportStream {
    constructor(options?: SyslogTransportOptions);
  }
}
