import type { SanitizedField } from './header-fields.js';

/**
 * One header field: the configured value sanitized once, plus the last value an event set,
 * so that an event field equal to either is not sanitized again.
 */
export class FieldCache {
  readonly configured: SanitizedField;
  private readonly configuredRaw: string;
  private readonly sanitize: (raw: string) => SanitizedField;
  private lastRaw: string;
  private last: SanitizedField;

  constructor(configuredRaw: string, sanitize: (raw: string) => SanitizedField) {
    this.configuredRaw = configuredRaw;
    this.sanitize = sanitize;
    this.configured = sanitize(configuredRaw);
    this.lastRaw = configuredRaw;
    this.last = this.configured;
  }

  /** Returns the sanitized field for an event's value, or the configured one when the event sets none (undefined or null). */
  resolve(raw: unknown): SanitizedField {
    if (raw === undefined || raw === null) return this.configured;
    const text = typeof raw === 'string' ? raw : String(raw);
    if (text === this.configuredRaw) return this.configured;
    if (text !== this.lastRaw) {
      this.last = this.sanitize(text);
      this.lastRaw = text;
    }
    return this.last;
  }
}
