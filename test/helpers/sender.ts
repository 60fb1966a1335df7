import { SyslogSender } from '../../src/sender/syslog-sender.js';
import type { SyslogSenderOptions } from '../../src/sender/options.js';
import { UpstreamPool, type UpstreamPoolOptions } from '../../src/pool/upstream-pool.js';
import type { UpstreamOptions } from '../../src/pool/upstream-config.js';

/** The fixed fields most tests use: `<14>1 2024-03-07T09:05:03.000Z host1.example.com billing 4242 - - MSG`. */
export const FIXTURE = {
  hostname: 'host1.example.com',
  appName: 'billing',
  procId: 4242,
  facility: 'user',
  severity: 'info',
  now: () => Date.UTC(2024, 2, 7, 9, 5, 3),
} as const;

/** The RFC 5424 message the fixture produces for `message`. */
export function fixtureMessage(message: string): string {
  return `<14>1 2024-03-07T09:05:03.000Z host1.example.com billing 4242 - - ${message}`;
}

/** Pool options that make tests quick: short backoff, probes and windows. */
export const FAST_POOL: UpstreamPoolOptions = {
  connectTimeoutMs: 1_000,
  stallTimeoutMs: 1_000,
  probeIntervalMs: 50,
  reconnect: { minDelayMs: 50, maxDelayMs: 200 },
};

export function createSender(
  upstreams: Array<string | UpstreamOptions>,
  poolOptions: UpstreamPoolOptions = {},
  senderOptions: Partial<SyslogSenderOptions> = {},
): SyslogSender {
  const pool = new UpstreamPool(upstreams, { ...FAST_POOL, ...poolOptions });
  return new SyslogSender({ ...FIXTURE, ...senderOptions, pool });
}

export { delay, waitUntil } from './wait.js';
