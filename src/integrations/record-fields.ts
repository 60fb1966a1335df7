import { InvalidOptionError } from '../errors.js';
import { describe } from '../format/format-options.js';
import { severityCode, severityExpectation } from '../format/pri.js';
import { sdIdProblem, sdNameProblem } from '../format/structured-data.js';
import type { SeverityName, StructuredData } from '../format/types.js';
import { isPlainObject } from './sender-config.js';

/** A structured-data parameter value as `SyslogEvent` takes it. */
type ParamValue = StructuredData[string][string];

/** Options that copy fields of a log record into one SD-ELEMENT. */
export interface StructuredDataOptions {
  /**
   * Record fields sent as SD-PARAMs, each under its own name. A dotted name (`req.id`) reads a
   * nested field when the record has no field of that exact name. Default: none.
   */
  structuredDataFields?: string[];
  /** SD-ID of the element, `name@enterprise-number`. The default uses 32473, the example number of RFC 5612. */
  structuredDataId?: string;
}

export interface ResolvedStructuredDataOptions {
  fields: string[];
  sdId: string;
}

/** Validates the structured-data options; every field name must be a valid PARAM-NAME. */
export function resolveStructuredDataOptions(
  options: StructuredDataOptions,
  defaultSdId: string,
): ResolvedStructuredDataOptions {
  const fields = options.structuredDataFields ?? [];
  if (!Array.isArray(fields)) {
    throw new InvalidOptionError(`Invalid structuredDataFields ${describe(fields)}: expected an array of field names`);
  }
  for (const field of fields) {
    const problem = typeof field === 'string' ? sdNameProblem(field) : 'it is not a string';
    if (problem !== undefined) {
      throw new InvalidOptionError(
        `Invalid structuredDataFields entry ${describe(field)}: ${problem}; each name becomes an RFC 5424 PARAM-NAME`,
      );
    }
  }
  const sdId = options.structuredDataId ?? defaultSdId;
  const problem = typeof sdId === 'string' ? sdIdProblem(sdId) : 'it is not a string';
  if (problem !== undefined) {
    throw new InvalidOptionError(
      `Invalid structuredDataId ${describe(sdId)}: ${problem}; use name@number with your private enterprise number, such as "app@32473"`,
    );
  }
  return { fields, sdId };
}

/**
 * Copies the chosen fields of `record` into structured data under `sdId`. Strings, numbers,
 * booleans and bigints are sent as they are, an array repeats the parameter, and objects and null
 * are sent as JSON. Missing fields are left out; returns undefined when none is present.
 */
export function pickStructuredData(
  record: Record<string, unknown>,
  fields: readonly string[],
  sdId: string,
): StructuredData | undefined {
  if (fields.length === 0) return undefined;
  let params: Record<string, ParamValue> | undefined;
  for (const field of fields) {
    const value = readField(record, field);
    if (value === undefined) continue;
    params ??= {};
    params[field] = toParamValue(value);
  }
  return params === undefined ? undefined : { [sdId]: params };
}

/** Reads `record[field]`, or follows a dotted path when no field has that exact name. */
export function readField(record: Record<string, unknown>, field: string): unknown {
  if (Object.hasOwn(record, field)) return record[field];
  if (!field.includes('.')) return undefined;
  let current: unknown = record;
  for (const part of field.split('.')) {
    if (!isPlainObject(current) || !Object.hasOwn(current, part)) return undefined;
    current = current[part];
  }
  return current;
}

function toParamValue(value: unknown): ParamValue {
  if (Array.isArray(value) && value.every(isScalar)) return value;
  if (isScalar(value)) return value;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    // A circular object, which can only come from an in-process logger.
    return String(value);
  }
}

function isScalar(value: unknown): value is string | number | boolean | bigint {
  const type = typeof value;
  return type === 'string' || type === 'number' || type === 'boolean' || type === 'bigint';
}

/**
 * Validates a user map from logger level (name or number) to syslog severity (name or code 0 to 7)
 * and returns it with codes in place of names.
 */
export function resolveLevelMap(
  map: Record<string, SeverityName | number> | undefined,
  optionName: string,
): Map<string, number> {
  const resolved = new Map<string, number>();
  if (map === undefined) return resolved;
  if (!isPlainObject(map)) {
    throw new InvalidOptionError(`Invalid ${optionName} ${describe(map)}: expected an object such as { "audit": "notice" }`);
  }
  for (const [level, severity] of Object.entries(map)) {
    const code = severityCode(severity);
    if (code === undefined) {
      throw new InvalidOptionError(
        `Invalid ${optionName}[${JSON.stringify(level)}] ${describe(severity)}: expected ${severityExpectation()}`,
      );
    }
    resolved.set(level, code);
  }
  return resolved;
}

/** Throws unless `value` is undefined or one of `allowed`. */
export function checkChoice<T extends string>(name: string, value: unknown, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  throw new InvalidOptionError(`Invalid ${name} ${describe(value)}: expected one of ${allowed.join(', ')}`);
}
