import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MessageFormatter, type SyslogEvent } from '../../src/format/index.js';
import { F3164, F5424 } from './fixtures.js';

/** Returns the TIMESTAMP field of an RFC 5424 message. */
function timestampOf(output: string): string {
  return output.split(' ')[1];
}

function rfc3339(timestamp: SyslogEvent['timestamp'], timeZone?: string): string {
  return timestampOf(new MessageFormatter({ ...F5424, timeZone }).format({ timestamp, message: 'x' }));
}

test('Timestamp - Date in UTC has 3 fraction digits', () => {
  assert.equal(rfc3339(new Date('2024-03-07T09:05:03.123Z')), '2024-03-07T09:05:03.123Z');
  assert.equal(rfc3339(new Date('2024-03-07T09:05:03Z')), '2024-03-07T09:05:03.000Z');
});

test('Timestamp - milliseconds have 3 fraction digits', () => {
  assert.equal(rfc3339(Date.UTC(2024, 2, 7, 9, 5, 3, 7)), '2024-03-07T09:05:03.007Z');
  assert.equal(rfc3339(Date.UTC(2024, 2, 7, 9, 5, 3, 7) + 0.9), '2024-03-07T09:05:03.007Z');
  assert.equal(rfc3339(0), '1970-01-01T00:00:00.000Z');
  assert.equal(rfc3339(-1), '1969-12-31T23:59:59.999Z');
});

test('Timestamp - bigint nanoseconds cut to 6 digits', () => {
  assert.equal(rfc3339(1709802303088609123n), '2024-03-07T09:05:03.088609Z');
  assert.equal(rfc3339(1709802359999999999n), '2024-03-07T09:05:59.999999Z');
  assert.equal(rfc3339(1709802303000000000n), '2024-03-07T09:05:03.000000Z');
  assert.equal(rfc3339(-1n), '1969-12-31T23:59:59.999999Z');
});

test('Timestamp - IANA zone gives offset with colon', () => {
  assert.equal(rfc3339(new Date('2024-03-07T09:05:03.123Z'), 'Europe/Berlin'), '2024-03-07T10:05:03.123+01:00');
  assert.equal(rfc3339(new Date('2024-07-07T09:05:03.123Z'), 'Europe/Berlin'), '2024-07-07T11:05:03.123+02:00');
  assert.equal(rfc3339(new Date('2024-03-07T09:05:03.123Z'), 'America/New_York'), '2024-03-07T04:05:03.123-05:00');
  assert.equal(rfc3339(new Date('2024-03-07T09:05:03.123Z'), 'Asia/Kathmandu'), '2024-03-07T14:50:03.123+05:45');
  assert.equal(rfc3339(new Date('2024-03-07T09:05:03.123Z'), 'America/St_Johns'), '2024-03-07T05:35:03.123-03:30');
});

test('Timestamp - zero offset is written as Z', () => {
  assert.equal(rfc3339(new Date('2024-01-07T09:05:03.123Z'), 'Europe/London'), '2024-01-07T09:05:03.123Z');
  assert.equal(rfc3339(new Date('2024-01-07T09:05:03.123Z'), 'Etc/UTC'), '2024-01-07T09:05:03.123Z');
});

test('Timestamp - follows a DST change within one formatter', () => {
  const formatter = new MessageFormatter({ ...F5424, timeZone: 'Europe/Berlin' });
  const before = Date.UTC(2024, 2, 31, 0, 59, 59, 999);
  assert.equal(timestampOf(formatter.format({ timestamp: before })), '2024-03-31T01:59:59.999+01:00');
  assert.equal(timestampOf(formatter.format({ timestamp: before + 1 })), '2024-03-31T03:00:00.000+02:00');
  assert.equal(timestampOf(formatter.format({ timestamp: before })), '2024-03-31T01:59:59.999+01:00');
});

test('Timestamp - string with 7 digits cuts to 6, never second 60', () => {
  assert.equal(rfc3339('2024-03-07T09:05:59.9999999Z'), '2024-03-07T09:05:59.999999Z');
  assert.equal(rfc3339('2024-03-07T09:05:59.123456789Z'), '2024-03-07T09:05:59.123456Z');
});

test('Timestamp - string keeps 3 to 6 fraction digits', () => {
  assert.equal(rfc3339('2024-03-07T09:05:03Z'), '2024-03-07T09:05:03.000Z');
  assert.equal(rfc3339('2024-03-07T09:05:03.1Z'), '2024-03-07T09:05:03.100Z');
  assert.equal(rfc3339('2024-03-07T09:05:03.1234Z'), '2024-03-07T09:05:03.1234Z');
  assert.equal(rfc3339('2024-03-07T09:05:03.12345Z'), '2024-03-07T09:05:03.12345Z');
});

test('Timestamp - string offset converts to the configured zone', () => {
  assert.equal(rfc3339('2024-03-07T10:05:03.123+01:00'), '2024-03-07T09:05:03.123Z');
  assert.equal(rfc3339('2024-03-07T00:30:00.000-05:00'), '2024-03-07T05:30:00.000Z');
  assert.equal(rfc3339('2024-03-07t09:05:03.123z', 'Europe/Berlin'), '2024-03-07T10:05:03.123+01:00');
  assert.equal(rfc3339('2024-03-07 09:05:03.123+0000'), '2024-03-07T09:05:03.123Z');
});

test('Timestamp - leap second becomes end of second 59', () => {
  assert.equal(rfc3339('2016-12-31T23:59:60Z'), '2016-12-31T23:59:59.999Z');
  assert.equal(rfc3339('2016-12-31T23:59:60.5Z'), '2016-12-31T23:59:59.999Z');
  assert.equal(rfc3339('2016-12-31T23:59:60.123456Z'), '2016-12-31T23:59:59.999999Z');
});

test('Timestamp - other Date.parse strings are accepted', () => {
  assert.equal(rfc3339('Thu, 07 Mar 2024 09:05:03 GMT'), '2024-03-07T09:05:03.000Z');
});

test('Timestamp - invalid input falls back to the clock', () => {
  const formatter = new MessageFormatter(F5424);
  const invalid: unknown[] = [
    'yesterday',
    '2024-02-30T00:00:00Z',
    '2024-13-01T00:00:00Z',
    '2024-03-07T24:00:00Z',
    '2024-03-07T09:05:03+25:00',
    Number.NaN,
    Number.POSITIVE_INFINITY,
    new Date(Number.NaN),
    8.64e15 + 1,
    10n ** 30n,
    Date.UTC(10000, 0, 1),
    { not: 'a time' },
  ];
  for (const timestamp of invalid) {
    const output = formatter.format({ timestamp: timestamp as SyslogEvent['timestamp'], message: 'x' });
    assert.equal(timestampOf(output), '2024-03-07T09:05:03.000Z', String(timestamp));
  }
  assert.equal(formatter.counters.invalidTimestamps, invalid.length);
});

test('Timestamp - years 0000 and 9999 are in range', () => {
  assert.equal(rfc3339('0000-01-01T00:00:00Z'), '0000-01-01T00:00:00.000Z');
  assert.equal(rfc3339('9999-12-31T23:59:59.999Z'), '9999-12-31T23:59:59.999Z');
  assert.equal(rfc3339(Date.UTC(999, 0, 1)), '0999-01-01T00:00:00.000Z');
});

test('Timestamp - clock is read for each event', () => {
  let now = Date.UTC(2024, 2, 7, 9, 5, 3, 0);
  const formatter = new MessageFormatter({ ...F5424, now: () => now });
  assert.equal(timestampOf(formatter.format('a')), '2024-03-07T09:05:03.000Z');
  now += 1;
  assert.equal(timestampOf(formatter.format('b')), '2024-03-07T09:05:03.001Z');
  now += 1000;
  assert.equal(timestampOf(formatter.format('c')), '2024-03-07T09:05:04.001Z');
});

test('Timestamp - local zone follows TZ', (context) => {
  const saved = process.env.TZ;
  context.after(() => {
    if (saved === undefined) delete process.env.TZ;
    else process.env.TZ = saved;
  });
  process.env.TZ = 'Europe/Berlin';
  assert.equal(rfc3339(new Date('2024-03-07T09:05:03.123Z'), 'local'), '2024-03-07T10:05:03.123+01:00');

  const rfc3164 = new MessageFormatter({ ...F3164, timeZone: undefined });
  assert.equal(rfc3164.format('x'), '<14>Mar  7 10:05:03 host1 billing[4242]: x');
});

test('Timestamp - RFC 3164 honours timeZone', () => {
  const formatter = new MessageFormatter({ ...F3164, timeZone: 'America/New_York' });
  assert.equal(formatter.format('x'), '<14>Mar  7 04:05:03 host1 billing[4242]: x');
  assert.equal(
    formatter.format({ timestamp: 1709802303088609123n, message: 'x' }),
    '<14>Mar  7 04:05:03 host1 billing[4242]: x',
  );
});
