import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineSplitter, MAX_LINE_BYTES } from '../../src/cli/line-splitter.js';
import { parseDuration, parsePriority } from '../../src/cli/options.js';
import { StatusOutput } from '../../src/cli/status-output.js';
import { delay } from '../helpers/sender.js';

test('LineSplitter - joins chunks and strips CR', () => {
  const splitter = new LineSplitter();
  assert.deepEqual(splitter.push(Buffer.from('first\r\nsec')), ['first']);
  assert.deepEqual(splitter.push(Buffer.from('ond\n\nthird')), ['second', '']);
  assert.equal(splitter.end(), 'third');
  assert.equal(splitter.end(), undefined);
});

test('LineSplitter - keeps a character split across chunks', () => {
  const bytes = Buffer.from('grüße\n');
  const splitter = new LineSplitter();
  // Cut inside the two bytes of "ü".
  assert.deepEqual(splitter.push(bytes.subarray(0, 3)), []);
  assert.deepEqual(splitter.push(bytes.subarray(3)), ['grüße']);
});

test('LineSplitter - cuts an over-long line', () => {
  const splitter = new LineSplitter();
  const lines = splitter.push(Buffer.alloc(MAX_LINE_BYTES + 10, 0x61));
  assert.equal(lines.length, 1);
  assert.equal(lines[0].length, MAX_LINE_BYTES);
  assert.deepEqual(splitter.push(Buffer.from('\n')), ['a'.repeat(10)]);
});

test('parsePriority - names, aliases and numbers', () => {
  const cases: Array<[string, { facility: number; severity: number }]> = [
    ['local0.warning', { facility: 16, severity: 4 }],
    ['user.warn', { facility: 1, severity: 4 }],
    ['daemon.error', { facility: 3, severity: 3 }],
    ['kern.panic', { facility: 0, severity: 0 }],
    ['notice', { facility: 1, severity: 5 }],
    ['134', { facility: 16, severity: 6 }],
    ['0', { facility: 0, severity: 0 }],
  ];
  for (const [text, expected] of cases) assert.deepEqual(parsePriority(text), expected, text);
  assert.throws(() => parsePriority('local0.'), /unknown severity ""/);
});

test('parseDuration - units and bare seconds', () => {
  const cases: Array<[string, number]> = [
    ['250ms', 250],
    ['5s', 5_000],
    ['2m', 120_000],
    ['1.5', 1_500],
    ['10', 10_000],
  ];
  for (const [text, expected] of cases) assert.equal(parseDuration('--x', text), expected, text);
  assert.throws(() => parseDuration('--x', '-1s'), /Invalid --x "-1s"/);
  assert.throws(() => parseDuration('--x', '0ms'), /of at least 1 ms/);
  assert.equal(parseDuration('--x', '0', 0), 0);
});

test('StatusOutput - progress only on a terminal', async () => {
  const terminalWrites: string[] = [];
  const terminal = new StatusOutput({ isTTY: true, write: (text: string) => terminalWrites.push(text) });
  terminal.startProgress(() => 'accepted 1');
  await delay(1_100);
  terminal.message('collector down');
  terminal.stopProgress();
  assert.deepEqual(terminalWrites, ['\raccepted 1\u001b[K', '\r\u001b[K', 'resilient-syslog: collector down\n']);

  const pipeWrites: string[] = [];
  const pipe = new StatusOutput({ isTTY: false, write: (text: string) => pipeWrites.push(text) });
  pipe.startProgress(() => 'accepted 1');
  await delay(1_100);
  pipe.message('collector down');
  pipe.stopProgress();
  assert.deepEqual(pipeWrites, ['resilient-syslog: collector down\n']);
});
