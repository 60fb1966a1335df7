import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TestCollector } from '../helpers/collector.js';
import { FAST_POOL } from '../helpers/sender.js';
import { PinoRecordMapper, pinoLevelToSeverity } from '../../src/integrations/pino.js';

const APP = fileURLToPath(new URL('./fixtures/pino-app.ts', import.meta.url));
const SOURCE_TARGET = fileURLToPath(new URL('./fixtures/pino-target.mjs', import.meta.url));
const BUILT_TARGET = fileURLToPath(new URL('../../dist/integrations/pino.js', import.meta.url));

const FIXED_TIME = '2024-03-07T09:05:03.000Z';

interface ChildResult {
  code: number | null;
  stderr: string;
}

/** Runs the pino fixture app in a child process and resolves when it exits. */
function runApp(env: Record<string, string>, timeoutMs = 30_000): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', APP], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`pino app did not exit within ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

function transportOptions(port: number, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    upstreams: [`tcp://127.0.0.1:${port}`],
    pool: FAST_POOL,
    structuredDataFields: ['reqId', 'user.id'],
    ...extra,
  });
}

/** Replaces the frame's timestamp, which comes from the child's clock, with TIME. */
function withoutTime(frame: string): string {
  return frame.replace(/^(<\d+>1) \S+ /, '$1 TIME ');
}

test('pino transport - maps levels, fields and messages', async () => {
  const collector = await TestCollector.start();
  try {
    const result = await runApp({ TRANSPORT_TARGET: SOURCE_TARGET, TRANSPORT_OPTIONS: transportOptions(collector.port) });
    assert.equal(result.code, 0, result.stderr);
    const frames = (await collector.waitForFrames(8)).map(withoutTime);
    assert.deepEqual(frames.slice(0, 7), [
      '<15>1 TIME host1.example.com billing 4242 - - level trace',
      '<15>1 TIME host1.example.com billing 4242 - - level debug',
      '<14>1 TIME host1.example.com billing 4242 - - level info',
      '<12>1 TIME host1.example.com billing 4242 - - level warn',
      '<11>1 TIME host1.example.com billing 4242 - - level error',
      '<10>1 TIME host1.example.com billing 4242 - - level fatal',
      '<14>1 TIME host1.example.com billing 4242 - [pino@32473 reqId="r-17" user.id="42"] with fields',
    ]);
    // A record without msg is sent as its JSON line.
    const [header, json] = splitMessage(frames[7]);
    assert.equal(header, '<14>1 TIME host1.example.com billing 4242 - -');
    assert.equal(JSON.parse(json).only, 'fields');
    assert.equal(frames.length, 8);
  } finally {
    await collector.close();
  }
});

test('pino transport - reads messageKey and custom levels', async () => {
  const collector = await TestCollector.start();
  try {
    const result = await runApp({
      TRANSPORT_TARGET: SOURCE_TARGET,
      TRANSPORT_OPTIONS: transportOptions(collector.port, { levelSeverities: { audit: 'notice' } }),
      LOGGER_OPTIONS: JSON.stringify({ messageKey: 'text', customLevels: { audit: 35 } }),
    });
    assert.equal(result.code, 0, result.stderr);
    const frames = (await collector.waitForFrames(9)).map(withoutTime);
    // pino sends its messageKey to the worker, so MSG comes from "text".
    assert.equal(frames[2], '<14>1 TIME host1.example.com billing 4242 - - level info');
    assert.equal(frames[8], '<13>1 TIME host1.example.com billing 4242 - - level audit');
  } finally {
    await collector.close();
  }
});

test('pino transport - sends JSON lines when asked', async () => {
  const collector = await TestCollector.start();
  try {
    const options = transportOptions(collector.port, {
      messageSource: 'line',
      structuredDataId: 'app@32473',
      appName: 'fixed-app',
      hostname: 'fixed-host',
      facility: 'local3',
    });
    const result = await runApp({ TRANSPORT_TARGET: SOURCE_TARGET, TRANSPORT_OPTIONS: options });
    assert.equal(result.code, 0, result.stderr);
    const frames = await collector.waitForFrames(8);
    const [header, json] = splitMessage(withoutTime(frames[6]));
    assert.equal(header, '<158>1 TIME fixed-host fixed-app 4242 - [app@32473 reqId="r-17" user.id="42"]');
    const record = JSON.parse(json);
    assert.equal(record.msg, 'with fields');
    assert.equal(record.level, 30);
    assert.equal(record.ignored, true);
  } finally {
    await collector.close();
  }
});

const EXIT_MODES: Array<[string, string]> = [
  ['natural', 'the end of the script'],
  ['exit', 'process.exit()'],
  ['flush', 'exit in the flush callback'],
];

for (const [mode, description] of EXIT_MODES) {
  test(`pino transport - delivers the tail on ${description}`, async () => {
    const collector = await TestCollector.start();
    try {
      const result = await runApp({
        TRANSPORT_TARGET: SOURCE_TARGET,
        TRANSPORT_OPTIONS: transportOptions(collector.port),
        LINES: '2000',
        EXIT_MODE: mode,
      });
      assert.equal(result.code, 0, result.stderr);
      const frames = await collector.waitForFrames(2008);
      const numbered = frames.filter((frame) => / line \d+$/.test(frame)).map((frame) => frame.replace(/^.* line /, ''));
      assert.equal(numbered.length, 2000);
      assert.deepEqual(numbered, Array.from({ length: 2000 }, (_, index) => String(index + 1)));
    } finally {
      await collector.close();
    }
  });
}

test('pino transport - keeps the tail in bufferDir while down', async () => {
  const directory = await mkdtemp(join(tmpdir(), 'pino-transport-'));
  const probe = await TestCollector.start();
  const port = probe.port;
  await probe.close();
  try {
    const options = transportOptions(port, { bufferDir: directory, closeTimeoutMs: 500 });
    const first = await runApp({ TRANSPORT_TARGET: SOURCE_TARGET, TRANSPORT_OPTIONS: options, LINES: '50', EXIT_MODE: 'exit' });
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /closed with 58 events not delivered, kept in /);

    // The collector is back: the next run delivers the backlog before its own lines.
    const collector = await TestCollector.start(port);
    try {
      const second = await runApp({ TRANSPORT_TARGET: SOURCE_TARGET, TRANSPORT_OPTIONS: options, LINES: '0' });
      assert.equal(second.code, 0, second.stderr);
      const frames = await collector.waitForFrames(58 + 8);
      assert.equal(frames.filter((frame) => / line \d+$/.test(frame)).length, 50);
      assert.equal(frames.filter((frame) => frame.endsWith(' level fatal')).length, 2);
    } finally {
      await collector.close();
    }
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
});

test('pino transport - rejects invalid options by name', async () => {
  const collector = await TestCollector.start();
  try {
    const options = JSON.stringify({ upstreams: [`tcp://127.0.0.1:${collector.port}`], messageSource: 'body' });
    const result = await runApp({ TRANSPORT_TARGET: SOURCE_TARGET, TRANSPORT_OPTIONS: options });
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /Invalid messageSource "body": expected one of field, line/);
  } finally {
    await collector.close();
  }
});

test('pino transport - loads as resilient-syslog/pino', { skip: !existsSync(BUILT_TARGET) && 'run npm run build first' }, async () => {
  const collector = await TestCollector.start();
  try {
    // pino resolves the name from the app's folder, inside this package, through the exports map.
    const result = await runApp({
      TRANSPORT_TARGET: 'resilient-syslog/pino',
      TRANSPORT_OPTIONS: transportOptions(collector.port),
      LINES: '100',
      EXIT_MODE: 'exit',
    });
    assert.equal(result.code, 0, result.stderr);
    const frames = await collector.waitForFrames(108);
    assert.equal(frames.length, 108);
    assert.match(frames[107], / line 100$/);
  } finally {
    await collector.close();
  }
});

test('pinoLevelToSeverity - standard and custom levels', () => {
  const cases: Array<[number, number]> = [
    [10, 7],
    [20, 7],
    [25, 7],
    [30, 6],
    [35, 6],
    [40, 4],
    [50, 3],
    [60, 2],
    [70, 2],
  ];
  for (const [level, severity] of cases) assert.equal(pinoLevelToSeverity(level), severity, `level ${level}`);
});

test('PinoRecordMapper - level map, labels and times', () => {
  const mapper = new PinoRecordMapper({
    messageSource: 'field',
    messageKey: 'message',
    levelSeverities: new Map([
      ['35', 5],
      ['audit', 1],
    ]),
    levelValues: { info: 30, notice: 35, audit: 45 },
    fields: [],
    sdId: 'pino@32473',
    defaultHostname: true,
    defaultProcId: true,
    defaultAppName: true,
  });
  const event = (record: Record<string, unknown>) => mapper.toEvent({ line: JSON.stringify(record), record });

  assert.equal(event({ level: 35, message: 'm' }).severity, 5);
  assert.equal(event({ level: 'notice', message: 'm' }).severity, 5);
  assert.equal(event({ level: 'audit', message: 'm' }).severity, 1);
  assert.equal(event({ level: 45, message: 'm' }).severity, 1);
  assert.equal(event({ level: 'info', message: 'm' }).severity, 6);
  assert.equal(event({ level: 'unknown', message: 'm' }).severity, undefined);
  assert.equal(event({ level: 30, message: 'text' }).message, 'text');
  assert.equal(event({ level: 30, time: 1_709_802_303_000 }).timestamp, 1_709_802_303_000);
  assert.equal(event({ level: 30, time: 1_709_802_303 }).timestamp, 1_709_802_303_000);
  assert.equal(event({ level: 30, time: FIXED_TIME }).timestamp, FIXED_TIME);
  assert.deepEqual(mapper.toEvent({ line: 'not json', record: undefined }), { message: 'not json' });
});

function splitMessage(frame: string): [string, string] {
  const index = frame.indexOf(' {');
  return [frame.slice(0, index), frame.slice(index + 1)];
}
