import { InvalidEventError, InvalidOptionError } from '../errors.js';
import {
  checkHeaderField,
  checkKey,
  describeValue,
  escapeHeaderField,
  fieldEntries,
  valueToText,
  type SiemValue,
} from './siem-fields.js';

export type LeefVersion = '1.0' | '2.0';

/** The device that reports events, and the attribute delimiter. Both are the same for every event of one formatter. */
export interface LeefOptions {
  /** Vendor, for example `Example Corp`. */
  vendor: string;
  /** Product, for example `Billing`. */
  product: string;
  /** Product version, for example `2.4.1`. */
  version: string;
  /** LEEF version. Default `1.0`, whose attribute delimiter is always a tab. */
  leefVersion?: LeefVersion;
  /**
   * LEEF 2.0 only: the attribute delimiter, as one character (`^`) or as its code in hex with an
   * `x` or `0x` prefix (`x09`, `0x5E`). Default tab, written `x09` in the header.
   */
  delimiter?: string;
}

/** One event in LEEF terms. */
export interface LeefEvent {
  /** Event ID: identifies the type of event. */
  eventId: string | number;
  /** Event attributes in the order they are written. `null` and `undefined` values leave the key out. */
  attributes?: Readonly<Record<string, SiemValue>>;
}

/** The LEEF 2.0 delimiter as written in the header and as the character that separates attributes. */
export interface LeefDelimiter {
  /** Header field: the character itself when it is printable ASCII, else `xHH`. */
  header: string;
  character: string;
}

const TAB = '\t';
const HEX_DELIMITER = /^(?:0x|x)([0-9a-f]{1,4})$/i;
/** Characters a delimiter cannot be: key characters, `=`, the escape character and line breaks. */
const FORBIDDEN_DELIMITER = /^[A-Za-z0-9_.=\\\r\n\0]$/;

/**
 * Parses a LEEF 2.0 delimiter given as one character or as `xHH` / `0xHH` (1 to 4 hex digits).
 * Throws `InvalidOptionError` for anything else, and for characters that would make the
 * attributes ambiguous: letters, digits, `_` and `.` (they occur in keys), `=`, `\`, CR, LF and NUL.
 */
export function parseLeefDelimiter(spec: string): LeefDelimiter {
  if (typeof spec !== 'string') {
    throw new InvalidOptionError(`Invalid LEEF delimiter ${describeValue(spec)}: expected one character or a hex code such as 'x09'`);
  }
  const hex = HEX_DELIMITER.exec(spec);
  let character: string;
  let header: string;
  if (hex) {
    const code = Number.parseInt(hex[1], 16);
    if (code >= 0xd800 && code <= 0xdfff) {
      throw new InvalidOptionError(`Invalid LEEF delimiter ${JSON.stringify(spec)}: U+${hex[1].toUpperCase()} is a surrogate, not a character`);
    }
    character = String.fromCharCode(code);
    header = spec;
  } else if ([...spec].length === 1) {
    character = spec;
    header = isPlainAscii(spec) ? spec : hexForm(spec);
  } else {
    throw new InvalidOptionError(
      `Invalid LEEF delimiter ${JSON.stringify(spec)}: expected one character such as '^' or a hex code such as 'x09' or '0x5E'`,
    );
  }
  if (FORBIDDEN_DELIMITER.test(character)) {
    throw new InvalidOptionError(
      `Invalid LEEF delimiter ${JSON.stringify(spec)}: ${JSON.stringify(character)} cannot separate attributes because it occurs in keys or escapes; use a tab ('x09'), '^' or another symbol`,
    );
  }
  return { header, character };
}

/**
 * Escapes a LEEF attribute value: `\` becomes `\\`, CR `\r` and LF `\n`. The delimiter becomes `\t`
 * when it is a tab, and a backslash followed by the delimiter otherwise.
 *
 * NOTE: IBM's LEEF best practices ask producers to keep the delimiter out of keys and values and
 * document no escape sequence for it. These escapes are this library's convention (the CEF rules
 * plus the delimiter), and a receiver that does not unescape them shows them as written.
 */
export function escapeLeefValue(text: string, delimiter: string = TAB): string {
  let output = '';
  let start = 0;
  for (let index = 0; index < text.length; index += 1) {
    const char = text[index];
    let escaped: string | undefined;
    if (char === '\\') escaped = '\\\\';
    else if (char === '\r') escaped = '\\r';
    else if (char === '\n') escaped = '\\n';
    else if (char === delimiter) escaped = delimiter === TAB ? '\\t' : `\\${delimiter}`;
    if (escaped === undefined) continue;
    output += text.slice(start, index) + escaped;
    start = index + 1;
  }
  return start === 0 ? text : output + text.slice(start);
}

/** Escapes a LEEF header field: `\` becomes `\\` and `|` becomes `\|`. */
export function escapeLeefHeader(text: string): string {
  return escapeHeaderField(text);
}

/**
 * Builds QRadar Log Event Extended Format strings: `LEEF:1.0|Vendor|Product|Version|EventID|`
 * followed by tab-separated `key=value` attributes, or
 * `LEEF:2.0|Vendor|Product|Version|EventID|Delimiter|` followed by attributes separated by the
 * configured delimiter.
 *
 * The result goes into the MSG of a syslog event. Header fields escape `\` and `|`; attribute
 * values escape `\`, CR, LF and the delimiter (see `escapeLeefValue`). The constructor validates
 * the device fields and the delimiter and throws `InvalidOptionError`; `format()` validates the
 * event and throws `InvalidEventError`, naming the field in both cases.
 */
export class LeefFormatter {
  /** `LEEF:1.0|Vendor|Product|Version|`, escaped once for every event. */
  readonly prefix: string;
  readonly leefVersion: LeefVersion;
  /** The character between attributes. */
  readonly delimiter: string;
  /** LEEF 2.0: the delimiter field of the header with its closing pipe. Empty for LEEF 1.0. */
  private readonly delimiterField: string;

  constructor(options: LeefOptions) {
    if (options === null || typeof options !== 'object') {
      throw new InvalidOptionError(`Invalid LEEF options ${describeValue(options)}: expected { vendor, product, version }`);
    }
    const leefVersion = options.leefVersion ?? '1.0';
    if (leefVersion !== '1.0' && leefVersion !== '2.0') {
      throw new InvalidOptionError(`Invalid LEEF leefVersion ${describeValue(leefVersion)}: expected '1.0' or '2.0'`);
    }
    if (leefVersion === '1.0' && options.delimiter !== undefined) {
      throw new InvalidOptionError(
        `Invalid LEEF delimiter ${describeValue(options.delimiter)}: LEEF 1.0 always separates attributes with a tab; set leefVersion: '2.0' to choose a delimiter`,
      );
    }
    const vendor = checkHeaderField('LEEF', 'vendor', options.vendor, 'option');
    const product = checkHeaderField('LEEF', 'product', options.product, 'option');
    const version = checkHeaderField('LEEF', 'version', options.version, 'option');
    this.leefVersion = leefVersion;
    this.prefix = `LEEF:${leefVersion}|${escapeHeaderField(vendor)}|${escapeHeaderField(product)}|${escapeHeaderField(version)}|`;
    if (leefVersion === '2.0') {
      const delimiter = parseLeefDelimiter(options.delimiter ?? 'x09');
      this.delimiter = delimiter.character;
      this.delimiterField = `${delimiter.header}|`;
    } else {
      this.delimiter = TAB;
      this.delimiterField = '';
    }
  }

  /** Returns the LEEF string for one event. Throws `InvalidEventError` naming the invalid field. */
  format(event: LeefEvent): string {
    if (event === null || typeof event !== 'object') {
      throw new InvalidEventError(`Invalid LEEF event ${describeValue(event)}: expected { eventId, attributes }`);
    }
    const eventId = checkHeaderField('LEEF', 'eventId', event.eventId, 'event', true);
    let output = `${this.prefix}${escapeHeaderField(eventId)}|${this.delimiterField}`;
    let separator = '';
    for (const [key, value] of fieldEntries('LEEF', 'attributes', event.attributes)) {
      checkKey('LEEF', 'attributes', key);
      const text = valueToText('LEEF', 'attributes', key, value);
      if (text === undefined) continue;
      output += `${separator}${key}=${escapeLeefValue(text, this.delimiter)}`;
      separator = this.delimiter;
    }
    return output;
  }
}

function isPlainAscii(char: string): boolean {
  const code = char.charCodeAt(0);
  return code > 0x20 && code < 0x7f && char !== '|' && char !== '\\';
}

function hexForm(char: string): string {
  const code = char.codePointAt(0)!;
  if (code > 0xffff) {
    throw new InvalidOptionError(
      `Invalid LEEF delimiter ${JSON.stringify(char)}: the header can only name characters up to U+FFFF`,
    );
  }
  return `x${code.toString(16).toUpperCase().padStart(code > 0xff ? 4 : 2, '0')}`;
}
