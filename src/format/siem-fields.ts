import { InvalidEventError, InvalidOptionError } from '../errors.js';

/** A value of a CEF extension field or a LEEF attribute. `null` and `undefined` leave the key out. */
export type SiemValue = string | number | boolean | bigint | null | undefined;

/** Keys of CEF extensions and LEEF attributes: letters, digits, `_` and `.`, as in `src`, `cs1Label` or `usrName`. */
export const SIEM_KEY_PATTERN = /^[A-Za-z0-9_.]+$/;

const HEADER_SPECIAL = /[\\|]/g;
const LINE_BREAK = /[\r\n]/;

/**
 * Escapes a CEF or LEEF header field: a backslash becomes `\\` and a pipe `\|`. Both formats use
 * the same rule because their headers are split on unescaped pipes.
 */
export function escapeHeaderField(text: string): string {
  return text.replace(HEADER_SPECIAL, (special) => `\\${special}`);
}

/**
 * Checks a header field set by the application: a non-empty string (or a number where allowed)
 * without CR or LF, because neither format has an escape for line breaks in its header.
 */
export function checkHeaderField(
  format: 'CEF' | 'LEEF',
  name: string,
  value: unknown,
  kind: 'option' | 'event',
  allowNumber = false,
): string {
  const fail = (detail: string): never => {
    const message = `Invalid ${format} ${name} ${describeValue(value)}: ${detail}`;
    throw kind === 'option' ? new InvalidOptionError(message) : new InvalidEventError(message);
  };
  let text: string;
  if (typeof value === 'string') text = value;
  else if (allowNumber && typeof value === 'number' && Number.isFinite(value)) text = String(value);
  else return fail(allowNumber ? 'expected a non-empty string or a finite number' : 'expected a non-empty string');
  if (text.length === 0) return fail('it must not be empty');
  if (LINE_BREAK.test(text)) return fail('header fields cannot contain CR or LF; put multi-line text in an extension value');
  return text;
}

/** Checks the key of one extension field or attribute. */
export function checkKey(format: 'CEF' | 'LEEF', container: string, key: string): void {
  if (!SIEM_KEY_PATTERN.test(key)) {
    throw new InvalidEventError(
      `Invalid ${format} ${container} key ${JSON.stringify(key)}: use only letters, digits, '_' and '.'`,
    );
  }
}

/** Converts an extension or attribute value to text, or to undefined for `null` and `undefined`. */
export function valueToText(format: 'CEF' | 'LEEF', container: string, key: string, value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(value);
    default:
      throw new InvalidEventError(
        `Invalid ${format} ${container} value for key ${JSON.stringify(key)}: expected a string, number, boolean or bigint, received ${describeValue(value)}`,
      );
  }
}

/** Checks that a container of fields is a plain object and returns its entries. */
export function fieldEntries(format: 'CEF' | 'LEEF', container: string, fields: unknown): Array<[string, unknown]> {
  if (fields === undefined || fields === null) return [];
  if (typeof fields !== 'object' || Array.isArray(fields)) {
    throw new InvalidEventError(`Invalid ${format} ${container} ${describeValue(fields)}: expected an object of key-value pairs`);
  }
  return Object.entries(fields);
}

export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return 'an array';
  if (value !== null && typeof value === 'object') return 'an object';
  return String(value);
}
