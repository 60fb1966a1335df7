import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidEventError, InvalidOptionError } from '../../src/errors.js';
import { MessageFormatter, type FacilityName, type SeverityName } from '../../src/format/index.js';
import { F3164, F5424 } from './fixtures.js';

// PRI = facility * 8 + severity (RFC 5424 section 6.2.1, RFC 3164 section 4.1.1).
const PRI_CASES: ReadonlyArray<[FacilityName, SeverityName, number]> = [
  ['kern', 'emerg', 0],
  ['user', 'info', 14],
  ['auth', 'crit', 34],
  ['local0', 'debug', 135],
  ['local4', 'notice', 165],
  ['local7', 'info', 190],
  ['local7', 'debug', 191],
];

test('PRI - facility and severity names give facility * 8 + severity', () => {
  for (const [facility, severity, expected] of PRI_CASES) {
    const formatter = new MessageFormatter({ ...F5424, facility, severity });
    const output = formatter.format('x');
    assert.ok(output.startsWith(`<${expected}>1 `), `${facility}.${severity}: ${output}`);
  }
});

test('PRI - numeric codes give the same values', () => {
  const codes: ReadonlyArray<[number, number, number]> = [
    [0, 0, 0],
    [1, 6, 14],
    [4, 2, 34],
    [16, 7, 135],
    [20, 5, 165],
    [23, 6, 190],
    [23, 7, 191],
  ];
  for (const [facility, severity, expected] of codes) {
    const formatter = new MessageFormatter({ ...F5424, facility, severity });
    assert.ok(formatter.format('x').startsWith(`<${expected}>1 `), `${facility}/${severity}`);
  }
});

test('PRI - event facility and severity override the options', () => {
  const formatter = new MessageFormatter(F5424);
  for (const [facility, severity, expected] of PRI_CASES) {
    assert.ok(formatter.format({ facility, severity, message: 'x' }).startsWith(`<${expected}>1 `), `${facility}.${severity}`);
  }
  assert.ok(formatter.format({ severity: 'err', message: 'x' }).startsWith('<11>1 '));
  assert.ok(formatter.format('x').startsWith('<14>1 '));
});

test('PRI - RFC 3164 uses the same values', () => {
  for (const [facility, severity, expected] of PRI_CASES) {
    const formatter = new MessageFormatter({ ...F3164, facility, severity });
    assert.ok(formatter.format('x').startsWith(`<${expected}>Mar  7 `), `${facility}.${severity}`);
  }
});

test('PRI - rejects facility 24 and severity 8 at construction', () => {
  assert.throws(() => new MessageFormatter({ facility: 24 }), (error: unknown) => {
    assert.ok(error instanceof InvalidOptionError);
    assert.equal(error.code, 'ERR_SYSLOG_INVALID_OPTION');
    assert.match(error.message, /^Invalid facility 24: expected a facility name \(kern, .*\) or an integer from 0 to 23$/);
    return true;
  });
  assert.throws(() => new MessageFormatter({ severity: 8 }), /^InvalidOptionError: Invalid severity 8: expected/);
  assert.throws(() => new MessageFormatter({ facility: -1 }), InvalidOptionError);
  assert.throws(() => new MessageFormatter({ facility: 1.5 }), InvalidOptionError);
  assert.throws(() => new MessageFormatter({ facility: 'local8' as FacilityName }), /Invalid facility "local8"/);
  assert.throws(() => new MessageFormatter({ severity: 'warn' as SeverityName }), /Invalid severity "warn"/);
  assert.throws(() => new MessageFormatter({ facility: 'toString' as FacilityName }), InvalidOptionError);
});

test('PRI - rejects an event facility or severity out of range', () => {
  const formatter = new MessageFormatter(F5424);
  assert.throws(() => formatter.format({ facility: 24, message: 'x' }), (error: unknown) => {
    assert.ok(error instanceof InvalidEventError);
    assert.equal(error.code, 'ERR_SYSLOG_INVALID_EVENT');
    assert.match(error.message, /^Invalid event facility 24: expected/);
    return true;
  });
  assert.throws(() => formatter.format({ severity: 8, message: 'x' }), /Invalid event severity 8/);
  assert.throws(() => formatter.format({ severity: 'fatal' as SeverityName }), InvalidEventError);
});
