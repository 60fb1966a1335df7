import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidOptionError } from '../../src/errors.js';
import { MessageFormatter, type FormatOptions } from '../../src/format/index.js';

const INVALID_OPTIONS: ReadonlyArray<[string, unknown, RegExp]> = [
  ['format', 'rfc5425', /^Invalid format "rfc5425": expected one of rfc5424, rfc3164$/],
  ['facility', 'local8', /^Invalid facility "local8": expected a facility name/],
  ['severity', 8, /^Invalid severity 8: expected a severity name/],
  ['hostname', 42, /^Invalid hostname 42: expected a string$/],
  ['fqdn', 'yes', /^Invalid fqdn "yes": expected true or false$/],
  ['appName', null, /^Invalid appName null: expected a string$/],
  ['procId', -1, /^Invalid procId -1: expected a string or a non-negative integer$/],
  ['procId', 1.5, /^Invalid procId 1.5: /],
  ['msgId', 7, /^Invalid msgId 7: expected a string$/],
  ['bom', 'sometimes', /^Invalid bom "sometimes": expected one of auto, always, never$/],
  ['sequenceId', 1, /^Invalid sequenceId 1: expected true or false$/],
  ['timeZone', 'Mars/Base', /^Invalid timeZone "Mars\/Base": expected 'UTC', 'local' or an IANA zone name/],
  ['timeZone', '', /^Invalid timeZone "": /],
  ['maxMessageBytes', 0, /^Invalid maxMessageBytes 0: expected a positive integer number of bytes$/],
  ['maxMessageBytes', 1.5, /^Invalid maxMessageBytes 1.5: /],
  ['maxMessageBytes', Number.POSITIVE_INFINITY, /^Invalid maxMessageBytes Infinity: /],
  ['sdNamePolicy', 'ignore', /^Invalid sdNamePolicy "ignore": expected one of drop, throw$/],
  ['replacementChar', '', /^Invalid replacementChar "": expected one printable US-ASCII character/],
  ['replacementChar', '__', /^Invalid replacementChar "__": /],
  ['replacementChar', ' ', /^Invalid replacementChar " ": /],
  ['replacementChar', 'ü', /^Invalid replacementChar "ü": /],
  ['now', 5, /^Invalid now 5: expected a function/],
];

test('Options - invalid values name the option and the value', () => {
  for (const [name, value, message] of INVALID_OPTIONS) {
    const options = { [name]: value } as FormatOptions;
    assert.throws(
      () => new MessageFormatter(options),
      (error: unknown) => {
        assert.ok(error instanceof InvalidOptionError, `${name}: ${String(error)}`);
        assert.match(error.message, message);
        return true;
      },
      `${name} = ${String(value)}`,
    );
  }
});

test('Options - valid values are accepted', () => {
  const options: FormatOptions[] = [
    {},
    { format: 'rfc3164', fqdn: true, timeZone: 'Europe/Berlin' },
    { facility: 23, severity: 0 },
    { procId: 0 },
    { procId: 'worker-1' },
    { timeZone: 'local' },
    { maxMessageBytes: 1 },
    { replacementChar: '~' },
    { sdNamePolicy: 'throw', bom: 'never', sequenceId: true },
  ];
  for (const option of options) {
    assert.doesNotThrow(() => new MessageFormatter(option), JSON.stringify(option));
  }
});

test('Options - non-object options are rejected', () => {
  assert.throws(() => new MessageFormatter('rfc5424' as unknown as FormatOptions), /^InvalidOptionError: Invalid format options "rfc5424": expected an object$/);
});

test('Options - RFC 3164 defaults to local time and 1024 bytes', (context) => {
  const saved = process.env.TZ;
  context.after(() => {
    if (saved === undefined) delete process.env.TZ;
    else process.env.TZ = saved;
  });
  process.env.TZ = 'America/New_York';
  const now = Date.UTC(2024, 2, 7, 9, 5, 3);
  const formatter = new MessageFormatter({ format: 'rfc3164', hostname: 'h', appName: 'a', procId: 1, now: () => now });
  assert.equal(formatter.format('x'), '<14>Mar  7 04:05:03 h a[1]: x');
  assert.equal(formatter.format('x'.repeat(2000)).length, 1024);
});

test('Options - RFC 5424 defaults to UTC and 65536 bytes', () => {
  const now = Date.UTC(2024, 2, 7, 9, 5, 3);
  const formatter = new MessageFormatter({ hostname: 'h', appName: 'a', procId: 1, now: () => now });
  assert.equal(formatter.format('x'), '<14>1 2024-03-07T09:05:03.000Z h a 1 - - x');
  assert.equal(formatter.format('x'.repeat(70_000)).length, 65_536);
});

test('Options - invalid clock falls back to Date.now', () => {
  const formatter = new MessageFormatter({ now: () => Number.NaN });
  const before = Date.now();
  const written = Date.parse(formatter.format('x').split(' ')[1]);
  assert.ok(written >= before, String(written));
  assert.ok(written <= Date.now(), String(written));
});
