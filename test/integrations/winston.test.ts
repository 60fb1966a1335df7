import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import winston from 'winston';
import { TestCollector } from '../helpers/collector.js';
import { FAST_POOL, FIXTURE, createSender } from '../helpers/sender.js';
import { SyslogTransport } from '../../src/integrations/winston.js';
import type { SenderConfig } from '../../src/integrations/sender-config.js';

function senderConfig(port: number, extra: Partial<SenderConfig> = {}): SenderConfig {
  return {
    upstreams: [`tcp://127.0.0.1:${port}`],
    pool: FAST_POOL,
    hostname: FIXTURE.hostname,
    appName: FIXTURE.appName,
    procId: FIXTURE.procId,
    ...extra,
  };
}

/** Replaces the frame's timestamp, which comes from the clock, with TIME. */
function withoutTime(frame: string): string {
  return frame.replace(/^(<\d+>1) \S+ /, '$1 TIME ');
}

async function freePort(): Promise<number> {
  const probe = await TestCollector.start();
  const port = probe.port;
  await probe.close();
  return port;
}

test('winston transport - maps npm levels and fields', async () => {
  const collector = await TestCollector.start();
  const transport = new SyslogTransport({
    sender: senderConfig(collector.port),
    structuredDataFields: ['reqId', 'user.id'],
  });
  const logger = winston.createLogger({ level: 'silly', transports: [transport] });
  try {
    for (const level of ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly']) logger.log(level, `level ${level}`);
    logger.info('with fields', { reqId: 'r-17', user: { id: 42 }, ignored: true });
    logger.end();
    await once(transport, 'finish');

    assert.deepEqual(collector.frames.map(withoutTime), [
      '<11>1 TIME host1.example.com billing 4242 - - level error',
      '<12>1 TIME host1.example.com billing 4242 - - level warn',
      '<14>1 TIME host1.example.com billing 4242 - - level info',
      '<14>1 TIME host1.example.com billing 4242 - - level http',
      '<15>1 TIME host1.example.com billing 4242 - - level verbose',
      '<15>1 TIME host1.example.com billing 4242 - - level debug',
      '<15>1 TIME host1.example.com billing 4242 - - level silly',
      '<14>1 TIME host1.example.com billing 4242 - [winston@32473 reqId="r-17" user.id="42"] with fields',
    ]);
  } finally {
    await transport.close();
    await collector.close();
  }
});

test('winston transport - maps syslog levels', async () => {
  const collector = await TestCollector.start();
  const transport = new SyslogTransport({
    sender: senderConfig(collector.port, { facility: 'local0' }),
    levelSeverities: { notice: 'info' },
  });
  const logger = winston.createLogger({ levels: winston.config.syslog.levels, level: 'debug', transports: [transport] });
  try {
    const levels = ['emerg', 'alert', 'crit', 'error', 'warning', 'notice', 'info', 'debug'];
    for (const level of levels) logger.log(level, level);
    await transport.close();

    // local0 is facility 16, so PRI is 128 + severity; notice is mapped to info (6) by levelSeverities.
    assert.deepEqual(
      collector.frames.map((frame) => frame.slice(0, frame.indexOf('>') + 1)),
      ['<128>', '<129>', '<130>', '<131>', '<132>', '<134>', '<134>', '<135>'],
    );
  } finally {
    await collector.close();
  }
});

test('winston transport - message sources and timestamps', async () => {
  const collector = await TestCollector.start();
  const sender = createSender([`tcp://127.0.0.1:${collector.port}`]);
  const transport = new SyslogTransport({ sender, messageSource: 'formatted', format: winston.format.json() });
  const logger = winston.createLogger({
    format: winston.format.timestamp(),
    transports: [transport],
  });
  try {
    logger.info('formatted', { orderId: 7, timestamp: '2024-03-07T09:05:04.250Z' });
    await transport.close();

    const [frame] = collector.frames;
    const prefix = '<14>1 2024-03-07T09:05:04.250Z host1.example.com billing 4242 - - ';
    assert.equal(frame.slice(0, prefix.length), prefix);
    const record = JSON.parse(frame.slice(prefix.length));
    assert.equal(record.message, 'formatted');
    assert.equal(record.level, 'info');
    assert.equal(record.orderId, 7);
  } finally {
    await collector.close();
  }

  const json = new SyslogTransport({ sender: senderConfig(1), messageSource: 'json' });
  const event = json.toEvent({ level: 'info', message: 'text', count: 3n, [Symbol.for('level')]: 'info' });
  assert.deepEqual(JSON.parse(String(event.message)), { level: 'info', message: 'text', count: '3' });
  const colorized = json.toEvent({ level: '\u001b[32minfo\u001b[39m', message: 'm', [Symbol.for('level')]: 'warn' });
  assert.equal(colorized.severity, 4);
  await json.close();
});

test('winston transport - delivers the tail on close', async () => {
  const collector = await TestCollector.start();
  const transport = new SyslogTransport({ sender: senderConfig(collector.port) });
  const logger = winston.createLogger({ transports: [transport] });
  try {
    for (let n = 1; n <= 5000; n += 1) logger.info(`line ${n}`);
    // logger.close() removes the transport, which closes it; close() returns the same promise.
    logger.close();
    const result = await transport.close();

    assert.deepEqual(result, { delivered: true, pending: 0 });
    assert.equal(collector.frames.length, 5000);
    assert.match(collector.frames[0], / - - line 1$/);
    assert.match(collector.frames[4999], / - - line 5000$/);
  } finally {
    await collector.close();
  }
});

test('winston transport - keeps backlog in bufferDir', async () => {
  const directory = await mkdtemp(join(tmpdir(), 'winston-transport-'));
  const port = await freePort();
  try {
    const first = new SyslogTransport({ sender: senderConfig(port, { bufferDir: directory, closeTimeoutMs: 300 }) });
    const warnings: string[] = [];
    const firstLogger = winston.createLogger({ transports: [first] });
    firstLogger.on('warn', (error: Error) => warnings.push(error.message));
    for (let n = 1; n <= 20; n += 1) firstLogger.info(`backlog ${n}`);
    const firstResult = await first.close();
    assert.deepEqual(firstResult, { delivered: false, pending: 20 });
    assert.ok(warnings.includes('closed with 20 events not delivered'), warnings.join('\n'));

    const collector = await TestCollector.start(port);
    try {
      const second = new SyslogTransport({ sender: senderConfig(port, { bufferDir: directory }) });
      const secondResult = await second.close();
      assert.deepEqual(secondResult, { delivered: true, pending: 0 });
      assert.deepEqual(
        collector.frames.map((frame) => frame.replace(/^.* - - /, '')),
        Array.from({ length: 20 }, (_, index) => `backlog ${index + 1}`),
      );
    } finally {
      await collector.close();
    }
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
});

test('winston transport - rejects invalid options', () => {
  assert.throws(() => new SyslogTransport({ sender: { upstreams: [] } }), /Invalid upstreams an array: expected a non-empty array/);
  assert.throws(
    () => new SyslogTransport({ sender: senderConfig(1), messageSource: 'text' as never }),
    /Invalid messageSource "text": expected one of message, formatted, json/,
  );
  assert.throws(
    () => new SyslogTransport({ sender: senderConfig(1), structuredDataId: 'app' }),
    /Invalid structuredDataId "app"/,
  );
  assert.throws(
    () => new SyslogTransport({ sender: senderConfig(1), levelSeverities: { audit: 'loud' as never } }),
    /Invalid levelSeverities\["audit"\] "loud"/,
  );
  assert.throws(
    () => new SyslogTransport({ sender: { ...senderConfig(1), upstream: 'tcp://127.0.0.1:1' } as never }),
    /Unknown option "upstream" in sender/,
  );
});
