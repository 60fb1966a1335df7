import type { FormatOptions } from '../../src/format/index.js';

/** 2024-03-07T09:05:03.000Z, the clock of every fixture. */
export const FIXED_NOW = Date.UTC(2024, 2, 7, 9, 5, 3, 0);

/**
 * Fixture F5424: RFC 5424, user.info, HOSTNAME host1.example.com, APP-NAME billing, PROCID 4242,
 * MSGID and SD NILVALUE, bom auto. The header with the space before MSG is 66 bytes.
 */
export const F5424: FormatOptions = {
  format: 'rfc5424',
  facility: 'user',
  severity: 'info',
  hostname: 'host1.example.com',
  appName: 'billing',
  procId: 4242,
  now: () => FIXED_NOW,
};

/** The 66-byte start of every F5424 message with a MSG: HEADER, SP, SD and the SP before MSG. */
export const F5424_HEADER = '<14>1 2024-03-07T09:05:03.000Z host1.example.com billing 4242 - - ';

/** Fixture for RFC 3164: user.info, HOSTNAME host1, TAG billing[4242], clock Mar 7 09:05:03 in UTC. */
export const F3164: FormatOptions = {
  format: 'rfc3164',
  facility: 'user',
  severity: 'info',
  hostname: 'host1',
  appName: 'billing',
  procId: 4242,
  timeZone: 'UTC',
  now: () => FIXED_NOW,
};
