import { readFileSync } from 'node:fs';
import type { SyslogEvent } from '../../src/index.js';

const LINE = /^(\S+) (\S+) ([^:[\s]+)(?:\[(\d+)\])?: (.*)$/;

/**
 * Reads a syslog file as rsyslog writes it with its default RFC 3339 template
 * (`TIMESTAMP HOST TAG[PID]: MSG`) into events; lines of any other shape become plain messages.
 */
export function readSyslogFile(path: string): SyslogEvent[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => {
      const match = LINE.exec(line);
      if (!match) return { message: line };
      const [, timestamp, hostname, appName, procId, message] = match;
      return { timestamp, hostname, appName, procId, message, severity: guessSeverity(message) };
    });
}

function guessSeverity(message: string): 'err' | 'warning' | 'notice' | 'info' {
  if (/\b(error|failed|denied)\b/i.test(message)) return 'err';
  if (/\b(invalid|reject)\b/i.test(message)) return 'warning';
  if (/\bsession opened\b/.test(message)) return 'notice';
  return 'info';
}
