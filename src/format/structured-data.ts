import { InvalidEventError } from '../errors.js';
import { NILVALUE } from './header-fields.js';

/** Handling of an SD-ID or PARAM-NAME that breaks RFC 5424: `drop` leaves it out and counts it, `throw` raises InvalidEventError. */
export type SdNamePolicy = 'drop' | 'throw';

export const SD_NAME_POLICIES: readonly SdNamePolicy[] = ['drop', 'throw'];

/** SD-IDs without `@` that IANA has registered (RFC 5424 section 7). Every other SD-ID needs the form name@number. */
export const IANA_SD_IDS: ReadonlySet<string> = new Set(['timeQuality', 'origin', 'meta']);

/** Maximum length of an SD-NAME, so of an SD-ID and a PARAM-NAME (RFC 5424 section 6). */
export const SD_NAME_MAX_LENGTH = 32;

/** Largest RFC 5424 `meta` sequenceId; the next one after it is 1 (RFC 5424 section 7.3.1). */
export const MAX_SEQUENCE_ID = 2_147_483_647;

const SD_NAME_RULE = "1 to 32 printable US-ASCII characters other than '=', space, ']' and '\"'";

/** Counters that serializing structured data increases. */
export interface StructuredDataCounters {
  sdParamsDropped: number;
  sdElementsDropped: number;
}

/**
 * Returns why `name` is not a valid SD-NAME (RFC 5424 section 6: 1 to 32 characters from
 * codes 33 to 126 except `=`, SP, `]` and `"`), or undefined when it is valid.
 */
export function sdNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'it is empty';
  if (name.length > SD_NAME_MAX_LENGTH) return `it has ${name.length} characters, more than ${SD_NAME_MAX_LENGTH}`;
  for (let index = 0; index < name.length; index++) {
    const code = name.charCodeAt(index);
    if (code < 33 || code > 126) return `it contains a character outside printable US-ASCII at index ${index}`;
    if (code === 0x3d || code === 0x5d || code === 0x22) return `it contains ${JSON.stringify(name[index])}`;
  }
  return undefined;
}

/**
 * Returns why `id` is not a valid SD-ID, or undefined when it is valid. An SD-ID is an SD-NAME.
 * Without `@` it must be registered with IANA (timeQuality, origin, meta). Otherwise it has the
 * form name@number, where the number is a private enterprise number, optionally followed by
 * dot-separated sub-identifiers (RFC 5424 sections 6.3.2 and 7.2.2).
 */
export function sdIdProblem(id: string): string | undefined {
  const nameProblem = sdNameProblem(id);
  if (nameProblem !== undefined) return nameProblem;

  const at = id.indexOf('@');
  if (at === -1) {
    if (IANA_SD_IDS.has(id)) return undefined;
    return `it has no '@' and is not an IANA-registered ID (${[...IANA_SD_IDS].join(', ')})`;
  }
  if (at === 0) return "it has no name before '@'";
  if (id.indexOf('@', at + 1) !== -1) return "it contains more than one '@'";
  if (!isEnterpriseNumber(id.slice(at + 1))) return "the part after '@' is not a private enterprise number";
  return undefined;
}

/** Escapes `"`, `\` and `]` in a PARAM-VALUE with a backslash (RFC 5424 section 6.3.3). */
export function escapeParamValue(value: string): string {
  let start = 0;
  let escaped = '';
  for (let index = 0; index < value.length; index++) {
    const code = value.charCodeAt(index);
    if (code === 0x22 || code === 0x5c || code === 0x5d) {
      escaped += `${value.slice(start, index)}\\`;
      start = index;
    }
  }
  return start === 0 && escaped === '' ? value : escaped + value.slice(start);
}

/**
 * Serializes the STRUCTURED-DATA field of RFC 5424 (section 6.3) and applies the SD name policy.
 *
 * With `drop`, a parameter with an invalid PARAM-NAME is left out and counted in
 * `sdParamsDropped`, and an element with an invalid SD-ID (or a value that is not an object of
 * parameters) is left out and counted in `sdElementsDropped`. With `throw`, either raises an
 * InvalidEventError that names the bad name. A parameter whose value is null or undefined is
 * left out without counting, like an absent key. An array value repeats the parameter once per
 * item. The result is NILVALUE when no element is left.
 */
export class StructuredDataSerializer {
  private readonly policy: SdNamePolicy;
  private readonly counters: StructuredDataCounters;
  /** SD-IDs and PARAM-NAMEs already found valid, because applications repeat the same few names. */
  private readonly validIds = new Set<string>();
  private readonly validNames = new Set<string>();

  constructor(policy: SdNamePolicy, counters: StructuredDataCounters) {
    this.policy = policy;
    this.counters = counters;
  }

  /**
   * Returns the STRUCTURED-DATA field for `data`. When `sequenceId` is given, the element
   * `[meta sequenceId="N"]` comes first and the event's own `meta` parameters join it. An event
   * parameter named sequenceId in `meta` is replaced by N and counted in `sdParamsDropped`.
   */
  serialize(data: unknown, sequenceId?: number): string {
    const elements = typeof data === 'object' && data !== null ? (data as Record<string, unknown>) : undefined;
    let output = '';

    if (sequenceId !== undefined) {
      output = `[meta sequenceId="${sequenceId}"`;
      const meta = elements !== undefined && Object.hasOwn(elements, 'meta') ? elements.meta : undefined;
      if (meta !== undefined && meta !== null) output += this.serializeParams('meta', meta, 'sequenceId') ?? '';
      output += ']';
    }

    if (elements !== undefined) {
      const ids = Object.keys(elements);
      for (let index = 0; index < ids.length; index++) {
        const id = ids[index];
        if (sequenceId !== undefined && id === 'meta') continue;
        const params = elements[id];
        const problem = this.validIds.has(id) ? undefined : sdIdProblem(id);
        if (problem !== undefined) {
          this.reject(`Invalid SD-ID ${JSON.stringify(id)}: ${problem}. ${sdIdAdvice()}`);
          continue;
        }
        remember(this.validIds, id);
        const body = this.serializeParams(id, params);
        if (body === undefined) continue;
        output += `[${id}${body}]`;
      }
    }
    return output === '' ? NILVALUE : output;
  }

  /** Returns the ` name="value"` list of one element, or undefined when `params` is not an object. */
  private serializeParams(id: string, params: unknown, replacedName?: string): string | undefined {
    if (typeof params !== 'object' || params === null || Array.isArray(params)) {
      this.reject(`Invalid structured-data element ${JSON.stringify(id)}: its parameters must be an object of name-value pairs`);
      return undefined;
    }
    let output = '';
    const record = params as Record<string, unknown>;
    // Object.keys with indexed access avoids the pair arrays that Object.entries allocates per parameter.
    const names = Object.keys(record);
    for (let index = 0; index < names.length; index++) {
      const name = names[index];
      const value = record[name];
      if (value === undefined || value === null) continue;
      if (name === replacedName) {
        this.counters.sdParamsDropped += 1;
        continue;
      }
      const problem = this.validNames.has(name) ? undefined : sdNameProblem(name);
      if (problem !== undefined) {
        this.reject(
          `Invalid structured-data parameter name ${JSON.stringify(name)} in element ${JSON.stringify(id)}: ` +
            `${problem}. A PARAM-NAME is ${SD_NAME_RULE} (RFC 5424 section 6.3.3)`,
          'param',
        );
        continue;
      }
      remember(this.validNames, name);
      if (Array.isArray(value)) {
        for (const item of value) output += ` ${name}="${escapeParamValue(String(item))}"`;
      } else {
        output += ` ${name}="${escapeParamValue(String(value))}"`;
      }
    }
    return output;
  }

  /** Throws InvalidEventError under the `throw` policy, and otherwise counts the dropped param or element. */
  private reject(message: string, kind: 'param' | 'element' = 'element'): void {
    if (this.policy === 'throw') throw new InvalidEventError(message);
    if (kind === 'param') {
      this.counters.sdParamsDropped += 1;
    } else {
      this.counters.sdElementsDropped += 1;
    }
  }
}

/** Maximum entries in each set of known-valid names. A full set is cleared, so memory stays bounded. */
const MAX_REMEMBERED_NAMES = 1024;

function remember(names: Set<string>, name: string): void {
  if (names.has(name)) return;
  if (names.size >= MAX_REMEMBERED_NAMES) names.clear();
  names.add(name);
}

function sdIdAdvice(): string {
  return `An SD-ID is ${SD_NAME_RULE}, and a custom one has the form name@<private enterprise number> (RFC 5424 section 6.3.2)`;
}

function isEnterpriseNumber(text: string): boolean {
  if (text === '') return false;
  let digitsInGroup = 0;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code >= 0x30 && code <= 0x39) {
      digitsInGroup += 1;
    } else if (code === 0x2e && digitsInGroup > 0) {
      digitsInGroup = 0;
    } else {
      return false;
    }
  }
  return digitsInGroup > 0;
}
