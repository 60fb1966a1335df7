import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidEventError, InvalidOptionError } from '../../src/errors.js';
import { LeefFormatter, escapeLeefValue, parseLeefDelimiter, type LeefOptions } from '../../src/format/index.js';

/** Every field of a LEEF string as a receiver parses it, all as strings. */
interface ParsedLeef {
  leefVersion: string;
  vendor: string;
  product: string;
  version: string;
  eventId: string;
  /** LEEF 2.0: the delimiter field as written in the header. */
  delimiterField?: string;
  attributes: Record<string, string>;
}

/**
 * Parses LEEF strictly, from the format's rules and independent of the builder. Header fields
 * split on unescaped `|`, with the escapes `\\` and `\|`. LEEF 2.0 adds a delimiter field: one
 * character, or `x` or `0x` and hex digits. Attributes split on the unescaped delimiter, each at
 * its first `=`, and values unescape `\\`, `\r`, `\n`, `\t` (tab delimiter) and `\` + delimiter.
 */
function parseLeef(text: string): ParsedLeef {
  const match = /^LEEF:(1\.0|2\.0)\|/.exec(text);
  assert.ok(match, `not a LEEF string: ${text}`);
  const leefVersion = match[1];
  const headerCount = leefVersion === '2.0' ? 5 : 4;
  const fields: string[] = [];
  let current = '';
  let index = match[0].length;
  while (fields.length < headerCount) {
    assert.ok(index < text.length, `header ends after ${fields.length} fields`);
    const char = text[index];
    if (char === '\\') {
      const next = text[index + 1];
      assert.ok(next === '\\' || next === '|', `invalid header escape \\${next}`);
      current += next;
      index += 2;
    } else if (char === '|') {
      fields.push(current);
      current = '';
      index += 1;
    } else {
      assert.notEqual(char, '\r', 'CR in the header');
      assert.notEqual(char, '\n', 'LF in the header');
      current += char;
      index += 1;
    }
  }
  const [vendor, product, version, eventId, delimiterField] = fields;
  const delimiter = delimiterField === undefined ? '\t' : decodeDelimiter(delimiterField);
  return {
    leefVersion,
    vendor,
    product,
    version,
    eventId,
    ...(delimiterField === undefined ? {} : { delimiterField }),
    attributes: parseAttributes(text.slice(index), delimiter),
  };
}

function decodeDelimiter(field: string): string {
  const hex = /^(?:0x|x)([0-9a-f]{1,4})$/i.exec(field);
  if (hex) return String.fromCharCode(Number.parseInt(hex[1], 16));
  assert.equal([...field].length, 1, `delimiter field ${JSON.stringify(field)}`);
  return field;
}

function parseAttributes(raw: string, delimiter: string): Record<string, string> {
  const attributes: Record<string, string> = {};
  if (raw.length === 0) return attributes;
  const tokens: string[] = [];
  let current = '';
  for (let index = 0; index < raw.length; index += 1) {
    const char = raw[index];
    assert.notEqual(char, '\r', 'raw CR in the attributes');
    assert.notEqual(char, '\n', 'raw LF in the attributes');
    if (char === '\\') {
      current += char + raw[index + 1];
      index += 1;
    } else if (char === delimiter) {
      tokens.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  tokens.push(current);
  for (const token of tokens) {
    const equals = token.indexOf('=');
    assert.ok(equals > 0, `attribute without a key: ${JSON.stringify(token)}`);
    const key = token.slice(0, equals);
    assert.match(key, /^[A-Za-z0-9_.]+$/);
    assert.ok(!(key in attributes), `duplicate key ${key}`);
    attributes[key] = unescapeValue(token.slice(equals + 1), delimiter);
  }
  return attributes;
}

function unescapeValue(raw: string, delimiter: string): string {
  let output = '';
  for (let index = 0; index < raw.length; index += 1) {
    const char = raw[index];
    if (char !== '\\') {
      output += char;
      continue;
    }
    const next = raw[index + 1];
    index += 1;
    if (next === '\\') output += '\\';
    else if (next === 'n') output += '\n';
    else if (next === 'r') output += '\r';
    else if (next === 't' && delimiter === '\t') output += '\t';
    else if (next === delimiter && delimiter !== '\t') output += delimiter;
    else assert.fail(`invalid attribute escape \\${next}`);
  }
  return output;
}

const DEVICE = { vendor: 'Example Corp', product: 'Billing', version: '2.4.1' };

function roundTrip(options: LeefOptions, eventId: string, attributes: Record<string, string>): void {
  const output = new LeefFormatter(options).format({ eventId, attributes });
  const parsed = parseLeef(output);
  assert.deepEqual(
    { vendor: parsed.vendor, product: parsed.product, version: parsed.version, eventId: parsed.eventId, attributes: parsed.attributes },
    { vendor: options.vendor, product: options.product, version: options.version, eventId, attributes },
    `round trip of ${JSON.stringify(output)}`,
  );
  assert.equal(parsed.leefVersion, options.leefVersion ?? '1.0');
}

const TRICKY_VALUES = [
  'pipe | inside',
  'back\\slash',
  'ends with backslash\\',
  'a=b=c',
  '=leading',
  'line\nbreak',
  'cr\rlf\r\n',
  'tab\there',
  '\t',
  'caret^inside',
  'semi;colon',
  ' spaces  around ',
  'Grüße, 日本語, emoji 😀',
  '',
  '\\t \\n literal escapes',
];


/** Returns a function that gives integers from 0 to limit - 1 (mulberry32), the same sequence on every run. */
function seededRandom(seed: number): (limit: number) => number {
  let state = seed >>> 0;
  return (limit) => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4_294_967_296) * limit);
  };
}

test('LEEF - builds version 1.0 exactly', () => {
  const output = new LeefFormatter(DEVICE).format({
    eventId: 15345,
    attributes: { src: '192.0.2.10', dst: '192.0.2.20', sev: 5, usrName: 'alice' },
  });
  assert.equal(output, 'LEEF:1.0|Example Corp|Billing|2.4.1|15345|src=192.0.2.10\tdst=192.0.2.20\tsev=5\tusrName=alice');
});

test('LEEF - builds version 2.0 with caret', () => {
  const output = new LeefFormatter({ ...DEVICE, leefVersion: '2.0', delimiter: '^' }).format({
    eventId: 'login',
    attributes: { src: '192.0.2.10', msg: 'a^b' },
  });
  assert.equal(output, 'LEEF:2.0|Example Corp|Billing|2.4.1|login|^|src=192.0.2.10^msg=a\\^b');
});

test('LEEF - version 2.0 defaults to tab as x09', () => {
  const output = new LeefFormatter({ ...DEVICE, leefVersion: '2.0' }).format({ eventId: 1, attributes: { a: '1', b: 'x\ty' } });
  assert.equal(output, 'LEEF:2.0|Example Corp|Billing|2.4.1|1|x09|a=1\tb=x\\ty');
});

test('LEEF - keeps hex delimiter as written', () => {
  const cases: Array<[string, string, string]> = [
    ['x09', 'x09', '\t'],
    ['0x09', '0x09', '\t'],
    ['x5E', 'x5E', '^'],
    ['0x5e', '0x5e', '^'],
    ['xA6', 'xA6', '¦'],
    ['x7C', 'x7C', '|'],
    ['^', '^', '^'],
    ['\t', 'x09', '\t'],
    [' ', 'x20', ' '],
    ['|', 'x7C', '|'],
    ['¦', 'xA6', '¦'],
    ['€', 'x20AC', '€'],
  ];
  for (const [spec, header, character] of cases) {
    assert.deepEqual(parseLeefDelimiter(spec), { header, character }, `delimiter ${JSON.stringify(spec)}`);
    const output = new LeefFormatter({ ...DEVICE, leefVersion: '2.0', delimiter: spec }).format({ eventId: 1, attributes: { a: '1', b: '2' } });
    assert.equal(output, `LEEF:2.0|Example Corp|Billing|2.4.1|1|${header}|a=1${character}b=2`);
  }
});

test('LEEF - escapes pipe and backslash in header', () => {
  const output = new LeefFormatter({ vendor: 'A|B', product: 'C:\\bin', version: 'v=1' }).format({ eventId: 'x|y', attributes: { k: 'p|q' } });
  assert.equal(output, 'LEEF:1.0|A\\|B|C:\\\\bin|v=1|x\\|y|k=p|q');
});

test('LEEF - escape function covers each special character', () => {
  assert.equal(escapeLeefValue('a\\b\rc\nd\te=f^g'), 'a\\\\b\\rc\\nd\\te=f^g');
  assert.equal(escapeLeefValue('a\\b\rc\nd\te=f^g', '^'), 'a\\\\b\\rc\\nd\te=f\\^g');
  assert.equal(escapeLeefValue(''), '');
  assert.equal(escapeLeefValue('Grüße 日本 😀'), 'Grüße 日本 😀');
});

test('LEEF - leaves null and undefined keys out', () => {
  const output = new LeefFormatter(DEVICE).format({ eventId: 1, attributes: { a: null, b: '', c: undefined, d: true, e: 7n } });
  assert.equal(output, 'LEEF:1.0|Example Corp|Billing|2.4.1|1|b=\td=true\te=7');
});

test('LEEF - round trips tricky values', () => {
  const delimiters: Array<LeefOptions> = [
    DEVICE,
    { ...DEVICE, leefVersion: '2.0' },
    { ...DEVICE, leefVersion: '2.0', delimiter: '^' },
    { ...DEVICE, leefVersion: '2.0', delimiter: '0x5E' },
    { ...DEVICE, leefVersion: '2.0', delimiter: '|' },
    { ...DEVICE, leefVersion: '2.0', delimiter: ' ' },
    { ...DEVICE, leefVersion: '2.0', delimiter: ';' },
  ];
  for (const options of delimiters) {
    TRICKY_VALUES.forEach((value, index) => roundTrip(options, '42', { [`k${index}`]: value }));
    roundTrip(options, '42', Object.fromEntries(TRICKY_VALUES.map((value, index) => [`key${index}`, value])));
    roundTrip(options, '42', {});
    roundTrip(options, '42', { a: '', b: '' });
  }
});

test('LEEF - round trips tricky header fields', () => {
  const headers = ['pipe|vendor', 'back\\slash', 'both\\|mixed|\\', 'equals=fine', 'Grüße 日本 😀', ' spaced ', 'tab\tinside', '^'];
  for (const text of headers) {
    roundTrip({ vendor: text, product: text, version: text }, text, { msg: text });
    roundTrip({ vendor: text, product: text, version: text, leefVersion: '2.0', delimiter: '^' }, text, { msg: text });
  }
});

test('LEEF - round trips random values', () => {
  const alphabet = ['\\', '|', '=', '\n', '\r', ' ', '\t', '^', 'a', '9', 'é', '日', '😀', '\\t', '\\^'];
  const random = seededRandom(7);
  for (const options of [DEVICE, { ...DEVICE, leefVersion: '2.0' as const, delimiter: '^' }]) {
    for (let iteration = 0; iteration < 300; iteration += 1) {
      const attributes: Record<string, string> = {};
      const keys = random(4) + 1;
      for (let key = 0; key < keys; key += 1) {
        let value = '';
        const length = random(12);
        for (let char = 0; char < length; char += 1) value += alphabet[random(alphabet.length)];
        attributes[`key${key}`] = value;
      }
      roundTrip(options, 'e', attributes);
    }
  }
});

test('LEEF - rejects invalid options', () => {
  const cases: Array<[unknown, RegExp]> = [
    [{ product: 'P', version: '1' }, /^Invalid LEEF vendor undefined: expected a non-empty string$/],
    [{ vendor: 'V', product: '', version: '1' }, /^Invalid LEEF product "": it must not be empty$/],
    [{ vendor: 'V', product: 'P', version: '1\n2' }, /^Invalid LEEF version "1\\n2": header fields cannot contain CR or LF/],
    [{ ...DEVICE, leefVersion: '3.0' }, /^Invalid LEEF leefVersion "3\.0": expected '1\.0' or '2\.0'$/],
    [{ ...DEVICE, delimiter: '^' }, /^Invalid LEEF delimiter "\^": LEEF 1\.0 always separates attributes with a tab/],
    [{ ...DEVICE, leefVersion: '2.0', delimiter: '' }, /^Invalid LEEF delimiter "": expected one character/],
    [{ ...DEVICE, leefVersion: '2.0', delimiter: '^^' }, /^Invalid LEEF delimiter "\^\^": expected one character/],
    [{ ...DEVICE, leefVersion: '2.0', delimiter: 'x0G' }, /^Invalid LEEF delimiter "x0G": expected one character/],
    [{ ...DEVICE, leefVersion: '2.0', delimiter: 'x12345' }, /^Invalid LEEF delimiter "x12345"/],
    [{ ...DEVICE, leefVersion: '2.0', delimiter: '=' }, /^Invalid LEEF delimiter "=": "=" cannot separate attributes/],
    [{ ...DEVICE, leefVersion: '2.0', delimiter: 'x3D' }, /^Invalid LEEF delimiter "x3D": "=" cannot separate attributes/],
    [{ ...DEVICE, leefVersion: '2.0', delimiter: '\\' }, /^Invalid LEEF delimiter "\\\\": "\\\\" cannot separate attributes/],
    [{ ...DEVICE, leefVersion: '2.0', delimiter: 'a' }, /^Invalid LEEF delimiter "a": "a" cannot separate attributes/],
    [{ ...DEVICE, leefVersion: '2.0', delimiter: '.' }, /^Invalid LEEF delimiter "\.": "\." cannot separate attributes/],
    [{ ...DEVICE, leefVersion: '2.0', delimiter: '\n' }, /^Invalid LEEF delimiter "\\n"/],
    [{ ...DEVICE, leefVersion: '2.0', delimiter: 'x0A' }, /^Invalid LEEF delimiter "x0A"/],
    [{ ...DEVICE, leefVersion: '2.0', delimiter: 'x00' }, /^Invalid LEEF delimiter "x00"/],
    [{ ...DEVICE, leefVersion: '2.0', delimiter: 'xD800' }, /^Invalid LEEF delimiter "xD800": U\+D800 is a surrogate/],
    [{ ...DEVICE, leefVersion: '2.0', delimiter: '😀' }, /^Invalid LEEF delimiter "😀": the header can only name characters up to U\+FFFF$/],
    [{ ...DEVICE, leefVersion: '2.0', delimiter: 9 }, /^Invalid LEEF delimiter 9: expected one character or a hex code/],
  ];
  for (const [options, message] of cases) {
    assert.throws(
      () => new LeefFormatter(options as never),
      (error: unknown) => error instanceof InvalidOptionError && error.code === 'ERR_SYSLOG_INVALID_OPTION' && message.test(error.message),
      `options ${JSON.stringify(options)}`,
    );
  }
});

test('LEEF - rejects invalid event fields', () => {
  const formatter = new LeefFormatter(DEVICE);
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ eventId: undefined }, /^Invalid LEEF eventId undefined: expected a non-empty string or a finite number$/],
    [{ eventId: '' }, /^Invalid LEEF eventId "": it must not be empty$/],
    [{ eventId: 'a\rb' }, /^Invalid LEEF eventId "a\\rb": header fields cannot contain CR or LF/],
    [{ eventId: 1, attributes: { 'bad key': 'x' } }, /^Invalid LEEF attributes key "bad key": use only letters, digits, '_' and '\.'$/],
    [{ eventId: 1, attributes: { 'tab\tkey': 'x' } }, /^Invalid LEEF attributes key "tab\\tkey"/],
    [{ eventId: 1, attributes: { list: [1, 2] } }, /^Invalid LEEF attributes value for key "list": expected a string, number, boolean or bigint, received an array$/],
    [{ eventId: 1, attributes: 'src=1' }, /^Invalid LEEF attributes "src=1": expected an object of key-value pairs$/],
  ];
  for (const [event, message] of cases) {
    assert.throws(
      () => formatter.format(event as never),
      (error: unknown) => error instanceof InvalidEventError && error.code === 'ERR_SYSLOG_INVALID_EVENT' && message.test(error.message),
      `event ${JSON.stringify(event)}`,
    );
  }
});
