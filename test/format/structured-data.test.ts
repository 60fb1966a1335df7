import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidEventError } from '../../src/errors.js';
import { MessageFormatter, type StructuredData } from '../../src/format/index.js';
import { escapeParamValue, sdIdProblem, sdNameProblem } from '../../src/format/structured-data.js';
import { F5424 } from './fixtures.js';

const START = '<14>1 2024-03-07T09:05:03.000Z host1.example.com billing 4242 -';

function formatSd(structuredData: StructuredData, options = F5424): string {
  return new MessageFormatter(options).format({ message: 'hi', structuredData });
}

test('RFC 5424 - escapes quote in SD value', () => {
  const output = formatSd({ 'tags@32473': { app_name: 'name with " quote' } });
  assert.equal(output, `${START} [tags@32473 app_name="name with \\" quote"] hi`);

  const bytes = Buffer.from(output, 'utf8');
  const valueStart = bytes.indexOf('app_name="') + 'app_name="'.length;
  assert.deepEqual(
    [...bytes.subarray(valueStart, valueStart + 18)],
    [0x6e, 0x61, 0x6d, 0x65, 0x20, 0x77, 0x69, 0x74, 0x68, 0x20, 0x5c, 0x22, 0x20, 0x71, 0x75, 0x6f, 0x74, 0x65],
  );
});

test('RFC 5424 - escapes backslash and bracket in SD value', () => {
  const output = formatSd({ 'tags@32473': { path: 'C:\\temp\\[x]', q: '"', empty: '' } });
  assert.equal(output, `${START} [tags@32473 path="C:\\\\temp\\\\[x\\]" q="\\"" empty=""] hi`);
});

test('RFC 5424 - escapeParamValue escapes only quote, backslash and bracket', () => {
  assert.equal(escapeParamValue('plain [text] = ok'), 'plain [text\\] = ok');
  assert.equal(escapeParamValue('"'), '\\"');
  assert.equal(escapeParamValue('\\\\'), '\\\\\\\\');
  assert.equal(escapeParamValue(']"\\'), '\\]\\"\\\\');
  assert.equal(escapeParamValue('Grüße'), 'Grüße');
  assert.equal(escapeParamValue(''), '');
});

test('RFC 5424 - drops invalid SD param names', () => {
  const formatter = new MessageFormatter(F5424);
  const structuredData = {
    'kubernetes@32473': {
      'statefulset.kubernetes.io/pod-name': 'web-0',
      app: 'web',
      'bad name': 'x',
      'a=b': 'y',
      'q"': 'z',
    },
  };
  assert.equal('statefulset.kubernetes.io/pod-name'.length, 34);
  assert.equal(formatter.format({ message: 'hi', structuredData }), `${START} [kubernetes@32473 app="web"] hi`);
  assert.equal(formatter.counters.sdParamsDropped, 4);
  assert.equal(formatter.counters.sdElementsDropped, 0);
});

test('RFC 5424 - drops SD elements with invalid IDs', () => {
  const formatter = new MessageFormatter(F5424);
  const output = formatter.format({
    message: 'hi',
    structuredData: {
      kubernetes: { app: 'web' },
      ['k'.repeat(34) + '@32473']: { app: 'web' },
      'ok@32473': { app: 'web' },
    },
  });
  assert.equal(output, `${START} [ok@32473 app="web"] hi`);
  assert.equal(formatter.counters.sdElementsDropped, 2);
});

test('RFC 5424 - SD is NILVALUE when no element is left', () => {
  const formatter = new MessageFormatter(F5424);
  const output = formatter.format({ message: 'hi', structuredData: { kubernetes: { app: 'web' } } });
  assert.equal(output, `${START} - hi`);
  assert.equal(formatter.format({ message: 'hi', structuredData: {} }), `${START} - hi`);
});

test('RFC 5424 - element with every param dropped keeps its ID', () => {
  const formatter = new MessageFormatter(F5424);
  assert.equal(formatter.format({ message: 'hi', structuredData: { 'x@32473': { 'bad name': 'v' } } }), `${START} [x@32473] hi`);
  assert.equal(formatter.counters.sdParamsDropped, 1);
});

test('RFC 5424 - throw policy names the bad param', () => {
  const formatter = new MessageFormatter({ ...F5424, sdNamePolicy: 'throw' });
  assert.throws(
    () => formatter.format({ message: 'hi', structuredData: { 'kubernetes@32473': { app: 'web', 'bad name': 'x' } } }),
    (error: unknown) => {
      assert.ok(error instanceof InvalidEventError);
      assert.match(error.message, /^Invalid structured-data parameter name "bad name" in element "kubernetes@32473": /);
      return true;
    },
  );
  assert.throws(
    () => formatter.format({ structuredData: { 'kubernetes@32473': { 'statefulset.kubernetes.io/pod-name': 'web-0' } } }),
    /"statefulset\.kubernetes\.io\/pod-name".*34 characters, more than 32/,
  );
  assert.equal(formatter.counters.sdParamsDropped, 0);
});

test('RFC 5424 - throw policy names the bad SD-ID', () => {
  const formatter = new MessageFormatter({ ...F5424, sdNamePolicy: 'throw' });
  assert.throws(
    () => formatter.format({ structuredData: { kubernetes: { app: 'web' } } }),
    /^InvalidEventError: Invalid SD-ID "kubernetes": it has no '@' and is not an IANA-registered ID \(timeQuality, origin, meta\)/,
  );
});

test('RFC 5424 - accepts IANA SD-IDs without @', () => {
  const output = formatSd({
    timeQuality: { tzKnown: 1, isSynced: 1, syncAccuracy: 60000 },
    origin: { ip: ['192.0.2.1', '192.0.2.2'], software: 'resilient-syslog' },
    meta: { language: 'en' },
  });
  assert.equal(
    output,
    `${START} [timeQuality tzKnown="1" isSynced="1" syncAccuracy="60000"]` +
      '[origin ip="192.0.2.1" ip="192.0.2.2" software="resilient-syslog"][meta language="en"] hi',
  );
});

test('RFC 5424 - SD-ID rules', () => {
  assert.equal(sdIdProblem('exampleSDID@32473'), undefined);
  assert.equal(sdIdProblem('a@32473.1.2'), undefined);
  assert.equal(sdIdProblem('meta'), undefined);
  assert.notEqual(sdIdProblem('kubernetes'), undefined);
  assert.notEqual(sdIdProblem('@32473'), undefined);
  assert.notEqual(sdIdProblem('a@b@32473'), undefined);
  assert.notEqual(sdIdProblem('a@'), undefined);
  assert.notEqual(sdIdProblem('a@x1'), undefined);
  assert.notEqual(sdIdProblem('a@1.'), undefined);
  assert.notEqual(sdIdProblem('a@1..2'), undefined);
  assert.notEqual(sdIdProblem(`${'a'.repeat(27)}@32473`), undefined);
  assert.equal(sdIdProblem(`${'a'.repeat(26)}@32473`), undefined);
});

test('RFC 5424 - SD-NAME rules', () => {
  assert.equal(sdNameProblem('a'), undefined);
  assert.equal(sdNameProblem('x'.repeat(32)), undefined);
  assert.equal(sdNameProblem('!#$%&()*+,-./:;<>?@[\\^_`{|}~'), undefined);
  for (const name of ['', 'x'.repeat(33), 'a b', 'a=b', 'a]b', 'a"b', 'ü', 'a\tb', 'a\u007f']) {
    assert.notEqual(sdNameProblem(name), undefined, JSON.stringify(name));
  }
});

test('RFC 5424 - SD values convert with String and arrays repeat', () => {
  const output = formatSd({ 'x@32473': { n: 42, f: 1.5, b: true, big: 12345678901234567890n, list: ['a', 2], none: [] } });
  assert.equal(output, `${START} [x@32473 n="42" f="1.5" b="true" big="12345678901234567890" list="a" list="2"] hi`);
});

test('RFC 5424 - SD values keep UTF-8 and LF', () => {
  assert.equal(formatSd({ 'x@32473': { v: 'Grüße\nzwei' } }), `${START} [x@32473 v="Grüße\nzwei"] hi`);
});

test('RFC 5424 - skips null and undefined SD values', () => {
  const structuredData = { 'x@32473': { a: undefined, b: null, c: 'v' } } as unknown as StructuredData;
  const formatter = new MessageFormatter(F5424);
  assert.equal(formatter.format({ message: 'hi', structuredData }), `${START} [x@32473 c="v"] hi`);
  assert.equal(formatter.counters.sdParamsDropped, 0);
});

test('RFC 5424 - drops an element whose params are not an object', () => {
  const structuredData = { 'x@32473': 'oops', 'y@32473': { a: '1' } } as unknown as StructuredData;
  const formatter = new MessageFormatter(F5424);
  assert.equal(formatter.format({ message: 'hi', structuredData }), `${START} [y@32473 a="1"] hi`);
  assert.equal(formatter.counters.sdElementsDropped, 1);
  assert.throws(() => new MessageFormatter({ ...F5424, sdNamePolicy: 'throw' }).format({ structuredData }), InvalidEventError);
});

test('RFC 5424 - meta sequenceId comes first', () => {
  const formatter = new MessageFormatter({ ...F5424, sequenceId: true });
  assert.equal(formatter.format('a', 7), `${START} [meta sequenceId="7"] a`);
  assert.equal(
    formatter.format({ message: 'b', structuredData: { 'tags@32473': { app: 'web' } } }, 7),
    `${START} [meta sequenceId="7"][tags@32473 app="web"] b`,
  );
});

test('RFC 5424 - sequenceId counts from 1 on its own', () => {
  const formatter = new MessageFormatter({ ...F5424, sequenceId: true });
  assert.equal(formatter.format('a'), `${START} [meta sequenceId="1"] a`);
  assert.equal(formatter.format('b'), `${START} [meta sequenceId="2"] b`);
  assert.equal(formatter.format(''), `${START} [meta sequenceId="3"]`);
  assert.equal(formatter.format('explicit', 100), `${START} [meta sequenceId="100"] explicit`);
  assert.equal(formatter.format('c'), `${START} [meta sequenceId="4"] c`);
});

test('RFC 5424 - sequenceId wraps from 2147483647 to 1', () => {
  const formatter = new MessageFormatter({ ...F5424, sequenceId: true });
  (formatter as unknown as { nextSequenceId: number }).nextSequenceId = 2_147_483_646;
  assert.equal(formatter.format('a'), `${START} [meta sequenceId="2147483646"] a`);
  assert.equal(formatter.format('b'), `${START} [meta sequenceId="2147483647"] b`);
  assert.equal(formatter.format('c'), `${START} [meta sequenceId="1"] c`);
});

test('RFC 5424 - rejected event consumes no sequenceId', () => {
  const formatter = new MessageFormatter({ ...F5424, sequenceId: true, sdNamePolicy: 'throw' });
  assert.throws(() => formatter.format({ structuredData: { bad: {} } }), InvalidEventError);
  assert.equal(formatter.format('a'), `${START} [meta sequenceId="1"] a`);
});

test('RFC 5424 - sequenceId merges event meta params', () => {
  const formatter = new MessageFormatter({ ...F5424, sequenceId: true });
  const output = formatter.format({ message: 'a', structuredData: { meta: { sequenceId: 99, language: 'de' } } }, 5);
  assert.equal(output, `${START} [meta sequenceId="5" language="de"] a`);
  assert.equal(formatter.counters.sdParamsDropped, 1);
});

test('RFC 5424 - sequenceId argument is checked', () => {
  const formatter = new MessageFormatter({ ...F5424, sequenceId: true });
  for (const value of [0, -1, 1.5, 2_147_483_648, Number.NaN]) {
    assert.throws(() => formatter.format('a', value), RangeError, String(value));
  }
  const off = new MessageFormatter(F5424);
  assert.equal(off.format('a', 7), `${START} - a`);
});
