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

/** CEF severity: an integer from 0 to 10, or one of the names ArcSight defines. */
export type CefSeverity = number | 'Unknown' | 'Low' | 'Medium' | 'High' | 'Very-High';

export const CEF_SEVERITY_NAMES: readonly CefSeverity[] = ['Unknown', 'Low', 'Medium', 'High', 'Very-High'];

/** The device that reports events. It is the same for every event of one formatter. */
export interface CefOptions {
  /** Device Vendor, for example `Example Corp`. */
  vendor: string;
  /** Device Product, for example `Billing`. */
  product: string;
  /** Device Version, for example `2.4.1`. */
  version: string;
  /** CEF version in the header: 0 (`CEF:0`) or 1 (`CEF:1`). Default 0. */
  cefVersion?: 0 | 1;
}

/** One event in CEF terms. */
export interface CefEvent {
  /** Signature ID (Device Event Class ID): identifies the type of event. */
  signatureId: string | number;
  /** Human-readable description of the event type. */
  name: string;
  severity: CefSeverity;
  /** Extension fields in the order they are written. `null` and `undefined` values leave the key out. */
  extension?: Readonly<Record<string, SiemValue>>;
}

const VALUE_SPECIAL = /[\\=\r\n]/g;
const VALUE_ESCAPES: Readonly<Record<string, string>> = { '\\': '\\\\', '=': '\\=', '\r': '\\r', '\n': '\\n' };

/** Escapes a CEF header field: `\` becomes `\\` and `|` becomes `\|`. */
export function escapeCefHeader(text: string): string {
  return escapeHeaderField(text);
}

/** Escapes a CEF extension value: `\` becomes `\\`, `=` becomes `\=`, CR becomes `\r` and LF becomes `\n`. */
export function escapeCefValue(text: string): string {
  return text.replace(VALUE_SPECIAL, (special) => VALUE_ESCAPES[special]);
}

/**
 * Builds ArcSight Common Event Format strings:
 * `CEF:Version|Device Vendor|Device Product|Device Version|Signature ID|Name|Severity|Extension`.
 *
 * The result goes into the MSG of a syslog event (`sender.send(cef.format(...))`). Header fields
 * escape `\` and `|`, extension values escape `\`, `=`, CR and LF, and the extension is a
 * space-separated list of `key=value` pairs. The constructor validates the device fields and
 * throws `InvalidOptionError`; `format()` validates the event and throws `InvalidEventError`,
 * naming the field in both cases.
 */
export class CefFormatter {
  /** `CEF:0|Vendor|Product|Version|`, escaped once for every event. */
  readonly prefix: string;

  constructor(options: CefOptions) {
    if (options === null || typeof options !== 'object') {
      throw new InvalidOptionError(`Invalid CEF options ${describeValue(options)}: expected { vendor, product, version }`);
    }
    const cefVersion = options.cefVersion ?? 0;
    if (cefVersion !== 0 && cefVersion !== 1) {
      throw new InvalidOptionError(`Invalid CEF cefVersion ${describeValue(cefVersion)}: expected 0 or 1`);
    }
    const vendor = checkHeaderField('CEF', 'vendor', options.vendor, 'option');
    const product = checkHeaderField('CEF', 'product', options.product, 'option');
    const version = checkHeaderField('CEF', 'version', options.version, 'option');
    this.prefix = `CEF:${cefVersion}|${escapeHeaderField(vendor)}|${escapeHeaderField(product)}|${escapeHeaderField(version)}|`;
  }

  /** Returns the CEF string for one event. Throws `InvalidEventError` naming the invalid field. */
  format(event: CefEvent): string {
    if (event === null || typeof event !== 'object') {
      throw new InvalidEventError(`Invalid CEF event ${describeValue(event)}: expected { signatureId, name, severity }`);
    }
    const signatureId = checkHeaderField('CEF', 'signatureId', event.signatureId, 'event', true);
    const name = checkHeaderField('CEF', 'name', event.name, 'event');
    const severity = checkSeverity(event.severity);
    let output = `${this.prefix}${escapeHeaderField(signatureId)}|${escapeHeaderField(name)}|${severity}|`;
    let separator = '';
    for (const [key, value] of fieldEntries('CEF', 'extension', event.extension)) {
      checkKey('CEF', 'extension', key);
      const text = valueToText('CEF', 'extension', key, value);
      if (text === undefined) continue;
      output += `${separator}${key}=${escapeCefValue(text)}`;
      separator = ' ';
    }
    return output;
  }
}

function checkSeverity(severity: unknown): string {
  if (typeof severity === 'number' && Number.isInteger(severity) && severity >= 0 && severity <= 10) {
    return String(severity);
  }
  if (typeof severity === 'string' && CEF_SEVERITY_NAMES.includes(severity as CefSeverity)) return severity;
  throw new InvalidEventError(
    `Invalid CEF severity ${describeValue(severity)}: expected an integer from 0 to 10 or one of ${CEF_SEVERITY_NAMES.join(', ')}`,
  );
}
