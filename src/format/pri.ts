import { FACILITIES, SEVERITIES } from './types.js';

/** Largest facility code (local7). RFC 5424 section 6.2.1 defines codes 0 to 23. */
export const MAX_FACILITY = 23;

/** Largest severity code (debug). RFC 5424 section 6.2.1 defines codes 0 to 7. */
export const MAX_SEVERITY = 7;

/**
 * Returns the facility code for a facility name or code, or undefined when `value` is neither a
 * known name nor an integer from 0 to 23.
 */
export function facilityCode(value: unknown): number | undefined {
  return code(value, FACILITIES, MAX_FACILITY);
}

/**
 * Returns the severity code for a severity name or code, or undefined when `value` is neither a
 * known name nor an integer from 0 to 7.
 */
export function severityCode(value: unknown): number | undefined {
  return code(value, SEVERITIES, MAX_SEVERITY);
}

/** Computes PRIVAL (RFC 5424 section 6.2.1, RFC 3164 section 4.1.1): facility * 8 + severity, from 0 to 191. */
export function priority(facility: number, severity: number): number {
  return facility * 8 + severity;
}

/** Describes the accepted facility values, for error messages. */
export function facilityExpectation(): string {
  return `a facility name (${Object.keys(FACILITIES).join(', ')}) or an integer from 0 to ${MAX_FACILITY}`;
}

/** Describes the accepted severity values, for error messages. */
export function severityExpectation(): string {
  return `a severity name (${Object.keys(SEVERITIES).join(', ')}) or an integer from 0 to ${MAX_SEVERITY}`;
}

function code(value: unknown, names: Readonly<Record<string, number>>, max: number): number | undefined {
  if (typeof value === 'number') {
    return Number.isInteger(value) && value >= 0 && value <= max ? value : undefined;
  }
  if (typeof value === 'string' && Object.hasOwn(names, value)) {
    return names[value];
  }
  return undefined;
}
