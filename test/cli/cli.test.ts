import { appendFileSync, closeSync, openSync, renameSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TestCollector } from '../helpers/collector.js';
import { delay } from '../helpers/sender.js';
import { CliProcess, runCli } from './cli-process.js';

/** Returns the MSG part of an RFC 5424 frame without structured data. */
function messageOf(frame: string): string {
  return frame.replace(/^<\d+>1 \S+ \S+ \S+ \S+ \S+ - /, '');
}

async function freePort(): Promise<number> {
  const probe = await TestCollector.start();
  const port = probe.port;
  await probe.close();
  return port;
}

async function withTempDir<T>(run: (directory: string) => Promise<T>): Promise<T> {
  const directory = await mkdtemp(join(tmpdir(), 'resilient-syslog-cli-'));
  try {
    return await run(directory);
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

test('CLI - forwards stdin lines', async () => {
  const collector = await TestCollector.start();
  try {
    const lines = Array.from({ length: 1000 }, (_, index) => `line ${index + 1}`);
    // The last line has no LF, a CRLF line loses its CR, and the empty line is skipped.
    const input = `${lines.join('\n')}\r\n\nunterminated`;
    const result = await runCli(
      ['-p', 'local0.warning', '-t', 'myapp', '--hostname', 'host1', '--msgid', 'ID7', `tcp://127.0.0.1:${collector.port}`],
      input,
    );

    assert.equal(result.code, 0, result.stderr);
    assert.equal(collector.frames.length, 1001);
    assert.deepEqual(collector.frames.map(messageOf), [...lines, 'unterminated']);
    assert.match(collector.frames[0], /^<132>1 \S+ host1 myapp \d+ ID7 - line 1$/);
  } finally {
    await collector.close();
  }
});

test('CLI - rfc3164 with the default priority', async () => {
  const collector = await TestCollector.start();
  try {
    const result = await runCli(['--format', 'rfc3164', '--upstream', `tcp://127.0.0.1:${collector.port}`], 'hello\n');

    assert.equal(result.code, 0, result.stderr);
    // user.notice is PRI 13, as logger(1) sends without -p.
    assert.match(collector.frames[0], /^<13>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \S+ resilient-syslog\[\d+\]: hello$/);
  } finally {
    await collector.close();
  }
});

test('CLI - round robin over two collectors', async () => {
  const first = await TestCollector.start();
  const second = await TestCollector.start();
  try {
    const input = Array.from({ length: 200 }, (_, index) => `event ${index + 1}\n`).join('');
    const result = await runCli(
      ['--round-robin', `tcp://127.0.0.1:${first.port}`, `tcp://127.0.0.1:${second.port}`],
      input,
    );

    assert.equal(result.code, 0, result.stderr);
    assert.equal(first.frames.length + second.frames.length, 200);
    assert.ok(first.frames.length > 0, 'the first collector received events');
    assert.ok(second.frames.length > 0, 'the second collector received events');
  } finally {
    await first.close();
    await second.close();
  }
});

test('CLI - settings from a config file', async () => {
  await withTempDir(async (directory) => {
    const collector = await TestCollector.start();
    try {
      const config = join(directory, 'forwarder.json');
      writeFileSync(config, JSON.stringify({ upstreams: [`tcp://127.0.0.1:${collector.port}`], appName: 'from-config', facility: 'local3' }));
      const result = await runCli(['--config', config], 'configured\n');

      assert.equal(result.code, 0, result.stderr);
      // -p is not given, so the config's facility stays and the severity is notice: 19 * 8 + 5.
      assert.match(collector.frames[0], /^<157>1 \S+ \S+ from-config \d+ - - configured$/);
    } finally {
      await collector.close();
    }
  });
});

test('CLI - follows rotation and truncation', async () => {
  await withTempDir(async (directory) => {
    const collector = await TestCollector.start();
    const path = join(directory, 'app.log');
    writeFileSync(path, 'old line\n');
    const cli = new CliProcess([
      '--follow',
      path,
      '--poll-interval',
      '50ms',
      '--rotate-wait',
      '2s',
      `tcp://127.0.0.1:${collector.port}`,
    ]);
    try {
      await cli.waitForStderr(/following /);
      // The file is opened at its end shortly after the start; probe until a line arrives.
      for (let probe = 1; collector.frames.length === 0; probe += 1) {
        appendFileSync(path, `probe ${probe}\n`);
        await delay(100);
        if (probe > 100) throw new Error(`no probe line arrived; stderr:\n${cli.stderr}`);
      }
      await delay(200);
      const probes = collector.frames.length;

      // A writer that keeps its descriptor across the rename, as a logger does until it reopens.
      const writer = openSync(path, 'a');
      for (let n = 1; n <= 100; n += 1) writeSync(writer, `before rotation ${n}\n`);
      await collector.waitForFrames(probes + 100);

      renameSync(path, `${path}.1`);
      for (let n = 1; n <= 10; n += 1) writeSync(writer, `late write ${n}\n`);
      closeSync(writer);
      writeFileSync(path, Array.from({ length: 50 }, (_, index) => `new file ${index + 1}\n`).join(''));
      await collector.waitForFrames(probes + 160);
      await cli.waitForStderr(/was rotated/);

      truncateSync(path, 0);
      await delay(300);
      appendFileSync(path, Array.from({ length: 20 }, (_, index) => `after truncation ${index + 1}\n`).join(''));
      await collector.waitForFrames(probes + 180);
      await cli.waitForStderr(/was truncated/);

      cli.child.kill('SIGTERM');
      assert.equal(await cli.exitCode(), 0, cli.stderr);

      const messages = collector.frames.slice(probes).map(messageOf);
      const group = (prefix: string) => messages.filter((message) => message.startsWith(prefix));
      const numbered = (prefix: string, count: number) => Array.from({ length: count }, (_, index) => `${prefix} ${index + 1}`);
      assert.deepEqual(group('before rotation'), numbered('before rotation', 100));
      assert.deepEqual(group('late write'), numbered('late write', 10));
      assert.deepEqual(group('new file'), numbered('new file', 50));
      assert.deepEqual(group('after truncation'), numbered('after truncation', 20));
      assert.equal(messages.length, 180);
      assert.ok(!collector.frames.some((frame) => frame.endsWith('old line')), 'the line written before the start was not sent');
    } finally {
      cli.child.kill('SIGKILL');
      await collector.close();
    }
  });
});

test('CLI - follow waits for a missing file', async () => {
  await withTempDir(async (directory) => {
    const collector = await TestCollector.start();
    const path = join(directory, 'later.log');
    const cli = new CliProcess(['-f', path, '--poll-interval', '50ms', `tcp://127.0.0.1:${collector.port}`]);
    try {
      await cli.waitForStderr(/later\.log not found: waiting for it to be created/);
      // A file created after the start is read from its beginning.
      writeFileSync(path, 'first\nsecond\n');
      await collector.waitForFrames(2);
      cli.child.kill('SIGINT');

      assert.equal(await cli.exitCode(), 0, cli.stderr);
      assert.deepEqual(collector.frames.map(messageOf), ['first', 'second']);
    } finally {
      cli.child.kill('SIGKILL');
      await collector.close();
    }
  });
});

test('CLI - SIGTERM keeps backlog for next run', async () => {
  await withTempDir(async (directory) => {
    const port = await freePort();
    const bufferDir = join(directory, 'buffer');
    const args = ['--buffer-dir', bufferDir, '--close-timeout', '500ms', `tcp://127.0.0.1:${port}`];

    // The collector is down: events pile up in the DiskBuffer until SIGTERM.
    const first = new CliProcess(args);
    try {
      for (let n = 1; n <= 30; n += 1) first.child.stdin.write(`backlog ${n}\n`);
      await first.waitForStats(/^resilient-syslog: accepted 30, confirmed 0, pending 30, dropped 0; tcp:\/\/127\.0\.0\.1:\d+ down$/);
      first.child.kill('SIGTERM');

      assert.equal(await first.exitCode(), 1, first.stderr);
      assert.match(first.stderr, /received SIGTERM: delivering 30 pending events within 500 ms/);
      assert.match(first.stderr, /30 events not delivered within 500 ms: kept in .*buffer for the next run/);
    } finally {
      first.child.kill('SIGKILL');
    }

    const collector = await TestCollector.start(port);
    try {
      const second = await runCli(['--buffer-dir', bufferDir, '--close-timeout', '10s', `tcp://127.0.0.1:${port}`], 'new line\n');

      assert.equal(second.code, 0, second.stderr);
      assert.deepEqual(collector.frames.map(messageOf), [
        ...Array.from({ length: 30 }, (_, index) => `backlog ${index + 1}`),
        'new line',
      ]);
    } finally {
      await collector.close();
    }
  });
});

test('CLI - SIGUSR2 writes a statistics line', async () => {
  const collector = await TestCollector.start();
  const cli = new CliProcess([`tcp://127.0.0.1:${collector.port}`]);
  try {
    cli.child.stdin.write('one\ntwo\n');
    await collector.waitForFrames(2);
    await cli.waitForStats(/^resilient-syslog: accepted 2, confirmed \d, pending \d, dropped 0; tcp:\/\/127\.0\.0\.1:\d+ up$/);
    cli.child.stdin.end();
    assert.equal(await cli.exitCode(), 0, cli.stderr);
  } finally {
    cli.child.kill('SIGKILL');
    await collector.close();
  }
});

test(
  'CLI - SIGUSR1 with --disable-sigusr1',
  { skip: !process.allowedNodeEnvironmentFlags.has('--disable-sigusr1') && 'this Node starts its inspector on SIGUSR1' },
  async () => {
    const collector = await TestCollector.start();
    const cli = new CliProcess([`tcp://127.0.0.1:${collector.port}`], ['--disable-sigusr1']);
    try {
      cli.child.stdin.write('one\n');
      await collector.waitForFrames(1);
      await cli.waitForStats(/^resilient-syslog: accepted 1, /, 'SIGUSR1');
      cli.child.stdin.end();
      assert.equal(await cli.exitCode(), 0, cli.stderr);
    } finally {
      cli.child.kill('SIGKILL');
      await collector.close();
    }
  },
);

test('CLI - usage errors exit 2', async () => {
  await withTempDir(async (directory) => {
    const badJson = join(directory, 'bad.json');
    writeFileSync(badJson, '{ "upstreams": [');
    const unknownKey = join(directory, 'unknown.json');
    writeFileSync(unknownKey, JSON.stringify({ upstreams: ['tcp://127.0.0.1:514'], bufferdir: '/tmp/x' }));
    const cases: Array<[string[], RegExp]> = [
      [[], /Missing collector: give at least one URL/],
      [['--bogus', 'tcp://127.0.0.1:514'], /Unknown option '--bogus'/],
      [['ftp://127.0.0.1:514'], /Invalid upstreams\[0\] URL "ftp:\/\/127\.0\.0\.1:514": protocol "ftp" is not one of udp, tcp, tls, relp/],
      [['tcp://127.0.0.1:99999'], /Invalid upstreams\[0\]\.port 99999/],
      [['--format', 'rfc9999', 'tcp://127.0.0.1:514'], /Invalid --format "rfc9999": expected one of rfc5424, rfc3164/],
      [['-p', 'local9.info', 'tcp://127.0.0.1:514'], /Invalid --priority "local9.info": unknown facility "local9"/],
      [['-p', 'user.loud', 'tcp://127.0.0.1:514'], /Invalid --priority "user.loud": unknown severity "loud"/],
      [['-p', '192', 'tcp://127.0.0.1:514'], /Invalid --priority "192": a PRI number must be from 0 to 191/],
      [['--close-timeout', '5x', 'tcp://127.0.0.1:514'], /Invalid --close-timeout "5x": expected a duration/],
      [['--poll-interval', '0', 'tcp://127.0.0.1:514'], /Invalid --poll-interval "0"/],
      [['--failover', '--round-robin', 'tcp://127.0.0.1:514'], /--failover and --round-robin exclude each other/],
      [['--config', join(directory, 'missing.json')], /Cannot read --config ".*missing\.json": ENOENT/],
      [['--config', badJson], /Invalid JSON in --config ".*bad\.json"/],
      [['--config', unknownKey], /Unknown option "bufferdir" in .*unknown\.json/],
    ];
    for (const [args, message] of cases) {
      const result = await runCli(args);
      assert.equal(result.code, 2, `exit code for ${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message, `message for ${args.join(' ')}`);
      assert.match(result.stderr, /Try 'resilient-syslog --help'/, `hint for ${args.join(' ')}`);
    }
  });
});

test('CLI - help and version', async () => {
  const help = await runCli(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage: resilient-syslog /);
  assert.match(help.stdout, /--close-timeout TIME/);
  assert.match(help.stdout, /Exit status:/);

  const version = await runCli(['--version']);
  assert.equal(version.code, 0);
  assert.match(version.stdout, /^\d+\.\d+\.\d+/);
});
