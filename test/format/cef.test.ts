import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidEventError, InvalidOptionError } from '../../src/errors.js';
import { CefFormatter, MessageFormatter, escapeCefHeader, escapeCefValue } from '../../src/format/index.js';
import { F5424, F5424_HEADER } from './fixtures.js';

/** Every field of a CEF string as a receiver parses it, all as strings. */
interface ParsedCef {
  cefVersion: string;
  vendor: string;
  product: string;
  version: string;
  signatureId: string;
  name: string;
  severity: string;
  extension: Record<string, string>;
}

const KEY_CHAR = /[A-Za-z0-9_.]/;

/**
 * Parses CEF strictly, from the format's rules and independent of the builder. The header is
 * seven fields split on unescaped `|`, with the escapes `\\` and `\|`. In the extension, a key is
 * the run of key characters before an unescaped `=` at the start or after a space. A value runs
 * up to the space before the next key, with the escapes `\\`, `\=`, `\n` and `\r`.
 */
function parseCef(text: string): ParsedCef {
  assert.ok(text.startsWith('CEF:'), `not a CEF string: ${text}`);
  const fields: string[] = [];
  let current = '';
  let index = 'CEF:'.length;
  while (fields.length < 7) {
    assert.ok(index < text.length, `header ends after ${fields.length} fields`);
    const char = text[index];
    if (char === '\\') {
      const next = text[index + 1];
      assert.ok(next === '\\' || next === '|', `invalid header escape \\${next} at ${index}`);
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
  const [cefVersion, vendor, product, version, signatureId, name, severity] = fields;
  return { cefVersion, vendor, product, version, signatureId, name, severity, extension: parseExtension(text.slice(index)) };
}

function parseExtension(raw: string): Record<string, string> {
  const pairs: Array<{ key: string; keyStart: number; valueStart: number }> = [];
  for (let index = 0; index < raw.length; index += 1) {
    const char = raw[index];
    if (char === '\\') {
      index += 1;
      continue;
    }
    if (char !== '=') continue;
    let keyStart = index;
    while (keyStart > 0 && KEY_CHAR.test(raw[keyStart - 1])) keyStart -= 1;
    assert.ok(keyStart < index, `unescaped '=' without a key at ${index} in ${JSON.stringify(raw)}`);
    assert.ok(keyStart === 0 || raw[keyStart - 1] === ' ', `unescaped '=' inside a value at ${index} in ${JSON.stringify(raw)}`);
    pairs.push({ key: raw.slice(keyStart, index), keyStart, valueStart: index + 1 });
  }
  assert.ok(raw.length === 0 || pairs[0]?.keyStart === 0, `extension does not start with a key: ${JSON.stringify(raw)}`);
  const extension: Record<string, string> = {};
  pairs.forEach((pair, position) => {
    const next = pairs[position + 1];
    const valueEnd = next === undefined ? raw.length : next.keyStart - 1;
    assert.ok(!(pair.key in extension), `duplicate key ${pair.key}`);
    extension[pair.key] = unescapeValue(raw.slice(pair.valueStart, valueEnd));
  });
  return extension;
}

function unescapeValue(raw: string): string {
  let output = '';
  for (let index = 0; index < raw.length; index += 1) {
    const char = raw[index];
    assert.notEqual(char, '\r', 'raw CR in an extension value');
    assert.notEqual(char, '\n', 'raw LF in an extension value');
    if (char !== '\\') {
      output += char;
      continue;
    }
    const next = raw[index + 1];
    index += 1;
    if (next === '\\' || next === '=') output += next;
    else if (next === 'n') output += '\n';
    else if (next === 'r') output += '\r';
    else assert.fail(`invalid extension escape \\${next}`);
  }
  return output;
}

interface CefCase {
  vendor: string;
  product: string;
  version: string;
  signatureId: string;
  name: string;
  severity: 'Unknown' | 'Low' | 'Medium' | 'High' | 'Very-High';
  extension: Record<string, string>;
}

function build(input: CefCase): string {
  const formatter = new CefFormatter({ vendor: input.vendor, product: input.product, version: input.version });
  return formatter.format({
    signatureId: input.signatureId,
    name: input.name,
    severity: input.severity,
    extension: input.extension,
  });
}

function roundTrip(input: CefCase): void {
  const output = build(input);
  const parsed = parseCef(output);
  assert.deepEqual({ ...parsed, cefVersion: undefined }, { ...input, cefVersion: undefined }, `round trip of ${JSON.stringify(output)}`);
  assert.equal(parsed.cefVersion, '0');
}

const PLAIN: CefCase = {
  vendor: 'Example Corp',
  product: 'Billing',
  version: '2.4.1',
  signatureId: '100',
  name: 'card declined',
  severity: 'Medium',
  extension: {},
};


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

test('CEF - builds header and extension exactly', () => {
  const formatter = new CefFormatter({ vendor: 'Example Corp', product: 'Billing', version: '2.4.1' });
  const output = formatter.format({
    signatureId: 100,
    name: 'card declined',
    severity: 5,
    extension: { src: '192.0.2.10', suser: 'alice', cnt: 3, msg: 'limit reached' },
  });
  assert.equal(output, 'CEF:0|Example Corp|Billing|2.4.1|100|card declined|5|src=192.0.2.10 suser=alice cnt=3 msg=limit reached');
});

test('CEF - escapes pipe and backslash in header only', () => {
  const formatter = new CefFormatter({ vendor: 'A|B', product: 'C:\\bin', version: '1=2' });
  const output = formatter.format({ signatureId: 'x|y', name: 'a\\b=c', severity: 'High', extension: { path: 'p|q' } });
  assert.equal(output, 'CEF:0|A\\|B|C:\\\\bin|1=2|x\\|y|a\\\\b=c|High|path=p|q');
});

test('CEF - escapes backslash, equals and line breaks in values', () => {
  const formatter = new CefFormatter({ vendor: 'V', product: 'P', version: '1' });
  const output = formatter.format({
    signatureId: 1,
    name: 'n',
    severity: 0,
    extension: { filePath: 'C:\\dir\\file.txt', request: 'http://example.com/?a=1&b=2', msg: 'line 1\r\nline 2\nline 3' },
  });
  assert.equal(
    output,
    'CEF:0|V|P|1|1|n|0|filePath=C:\\\\dir\\\\file.txt request=http://example.com/?a\\=1&b\\=2 msg=line 1\\r\\nline 2\\nline 3',
  );
});

test('CEF - escape functions cover each special character', () => {
  assert.equal(escapeCefHeader('a|b\\c=d\te'), 'a\\|b\\\\c=d\te');
  assert.equal(escapeCefValue('a|b\\c=d\re\nf\tg'), 'a|b\\\\c\\=d\\re\\nf\tg');
  assert.equal(escapeCefValue(''), '');
  assert.equal(escapeCefValue('Grüße 日本 😀'), 'Grüße 日本 😀');
});

test('CEF - leaves null and undefined keys out', () => {
  const formatter = new CefFormatter({ vendor: 'V', product: 'P', version: '1' });
  const output = formatter.format({ signatureId: 1, name: 'n', severity: 1, extension: { a: null, b: '', c: undefined, d: false, e: 10n } });
  assert.equal(output, 'CEF:0|V|P|1|1|n|1|b= d=false e=10');
});

test('CEF - writes version 1 header', () => {
  const formatter = new CefFormatter({ vendor: 'V', product: 'P', version: '1', cefVersion: 1 });
  assert.equal(formatter.format({ signatureId: 7, name: 'n', severity: 'Very-High' }), 'CEF:1|V|P|1|7|n|Very-High|');
});

test('CEF - round trips tricky values', () => {
  const values = [
    'pipe | inside',
    'back\\slash',
    'ends with backslash\\',
    '\\\\double',
    'a=b',
    '=leading',
    'trailing=',
    'key=value other=thing',
    ' leading space',
    'trailing space ',
    'two  spaces',
    'line\nbreak',
    'cr\rlf\r\n',
    '\n',
    'tab\there',
    'Grüße, 日本語, emoji 😀',
    '',
    '\\=\\n literal escapes',
    'looks like key= but escaped',
  ];
  values.forEach((value, index) => {
    roundTrip({ ...PLAIN, extension: { [`k${index}`]: value } });
  });
  roundTrip({ ...PLAIN, extension: Object.fromEntries(values.map((value, index) => [`cs${index}`, value])) });
  roundTrip({ ...PLAIN, extension: { a: '', b: '', c: 'x' } });
});

test('CEF - round trips tricky header fields', () => {
  const headers = ['pipe|vendor', 'back\\slash', 'both\\|mixed|\\', 'equals=fine', 'Grüße 日本 😀', ' spaced ', 'tab\tinside'];
  for (const text of headers) {
    roundTrip({ ...PLAIN, vendor: text, product: text, version: text, signatureId: text, name: text, extension: { msg: text } });
  }
});

test('CEF - round trips random values', () => {
  const alphabet = ['\\', '|', '=', '\n', '\r', ' ', '\t', 'a', 'Z', '9', '.', 'é', '日', '😀', 'k=', ' x='];
  const random = seededRandom(42);
  for (let iteration = 0; iteration < 500; iteration += 1) {
    const extension: Record<string, string> = {};
    const keys = random(4) + 1;
    for (let key = 0; key < keys; key += 1) {
      let value = '';
      const length = random(12);
      for (let char = 0; char < length; char += 1) value += alphabet[random(alphabet.length)];
      extension[`key${key}`] = value;
    }
    roundTrip({ ...PLAIN, extension });
  }
});

test('CEF - goes into the syslog MSG unchanged', () => {
  const cef = new CefFormatter({ vendor: 'V', product: 'P', version: '1' }).format({
    signatureId: 1,
    name: 'n',
    severity: 3,
    extension: { msg: 'a=b\nc' },
  });
  const syslog = new MessageFormatter({ ...F5424, bom: 'never' }).format(cef);
  assert.equal(syslog, `${F5424_HEADER}CEF:0|V|P|1|1|n|3|msg=a\\=b\\nc`);
});

test('CEF - rejects invalid device options', () => {
  const cases: Array<[unknown, RegExp]> = [
    [{ product: 'P', version: '1' }, /^Invalid CEF vendor undefined: expected a non-empty string$/],
    [{ vendor: '', product: 'P', version: '1' }, /^Invalid CEF vendor "": it must not be empty$/],
    [{ vendor: 'V', product: 'a\nb', version: '1' }, /^Invalid CEF product "a\\nb": header fields cannot contain CR or LF/],
    [{ vendor: 'V', product: 'P', version: 2 }, /^Invalid CEF version 2: expected a non-empty string$/],
    [{ vendor: 'V', product: 'P', version: '1', cefVersion: 2 }, /^Invalid CEF cefVersion 2: expected 0 or 1$/],
    [null, /^Invalid CEF options null/],
  ];
  for (const [options, message] of cases) {
    assert.throws(
      () => new CefFormatter(options as never),
      (error: unknown) => error instanceof InvalidOptionError && error.code === 'ERR_SYSLOG_INVALID_OPTION' && message.test(error.message),
      `options ${JSON.stringify(options)}`,
    );
  }
});

test('CEF - rejects invalid event fields', () => {
  const formatter = new CefFormatter({ vendor: 'V', product: 'P', version: '1' });
  const valid = { signatureId: 1, name: 'n', severity: 5 };
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ signatureId: undefined }, /^Invalid CEF signatureId undefined: expected a non-empty string or a finite number$/],
    [{ signatureId: Number.NaN }, /^Invalid CEF signatureId NaN/],
    [{ name: '' }, /^Invalid CEF name "": it must not be empty$/],
    [{ name: 'two\r\nlines' }, /^Invalid CEF name "two\\r\\nlines": header fields cannot contain CR or LF/],
    [{ severity: 11 }, /^Invalid CEF severity 11: expected an integer from 0 to 10 or one of Unknown, Low, Medium, High, Very-High$/],
    [{ severity: 2.5 }, /^Invalid CEF severity 2\.5/],
    [{ severity: 'high' }, /^Invalid CEF severity "high"/],
    [{ extension: { 'bad key': 'x' } }, /^Invalid CEF extension key "bad key": use only letters, digits, '_' and '\.'$/],
    [{ extension: { 'a=b': 'x' } }, /^Invalid CEF extension key "a=b"/],
    [{ extension: { '': 'x' } }, /^Invalid CEF extension key ""/],
    [{ extension: { obj: { nested: 1 } } }, /^Invalid CEF extension value for key "obj": expected a string, number, boolean or bigint, received an object$/],
    [{ extension: ['x'] }, /^Invalid CEF extension an array: expected an object of key-value pairs$/],
  ];
  for (const [change, message] of cases) {
    assert.throws(
      () => formatter.format({ ...valid, ...change } as never),
      (error: unknown) => error instanceof InvalidEventError && error.code === 'ERR_SYSLOG_INVALID_EVENT' && message.test(error.message),
      `event change ${JSON.stringify(change)}`,
    );
  }
});
