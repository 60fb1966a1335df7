import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The CLI running in a child process, through tsx, with its output collected. */
export class CliProcess {
  readonly child: ChildProcessWithoutNullStreams;
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;

  /** `nodeFlags` go before the script, such as `--disable-sigusr1`. */
  constructor(args: string[], nodeFlags: string[] = []) {
    // NODE_DEBUG makes the CLI report on stderr when its signal handlers are installed.
    this.child = spawn(process.execPath, [...nodeFlags, '--import', 'tsx', MAIN, ...args], {
      cwd: ROOT,
      env: { ...process.env, NODE_DEBUG: 'resilient-syslog' },
    });
    this.child.stdout.on('data', (chunk: Buffer) => {
      this.stdout += chunk.toString('utf8');
    });
    this.child.stderr.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString('utf8');
    });
    this.exited = new Promise((resolve, reject) => {
      this.child.on('error', reject);
      this.child.on('exit', (code) => resolve(code));
    });
  }

  /** Resolves with the exit code; kills the child and rejects after `timeoutMs`. */
  async exitCode(timeoutMs = 30_000): Promise<number | null> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        this.child.kill('SIGKILL');
        reject(new Error(`CLI did not exit within ${timeoutMs} ms; stderr:\n${this.stderr}`));
      }, timeoutMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Waits until stderr matches `pattern`. */
  async waitForStderr(pattern: RegExp, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.stderr)) {
      if (Date.now() > deadline) throw new Error(`stderr did not match ${pattern} within ${timeoutMs} ms:\n${this.stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Waits until the CLI installed its signal handlers; a signal sent earlier would kill it. */
  async waitForStart(): Promise<void> {
    await this.waitForStderr(/cli started/);
  }

  /** Sends `signal` until a statistics line on stderr matches `pattern`. */
  async waitForStats(pattern: RegExp, signal: NodeJS.Signals = 'SIGUSR2', timeoutMs = 10_000): Promise<void> {
    await this.waitForStart();
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      this.child.kill(signal);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const statsLines = this.stderr.split('\n').filter((line) => line.startsWith('resilient-syslog: accepted '));
      if (statsLines.some((line) => pattern.test(line))) return;
      if (Date.now() > deadline) throw new Error(`no statistics line matched ${pattern} within ${timeoutMs} ms:\n${this.stderr}`);
    }
  }
}

/** Runs the CLI with `input` on stdin and resolves once it exited. */
export async function runCli(args: string[], input = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const cli = new CliProcess(args);
  cli.child.stdin.end(input);
  const code = await cli.exitCode();
  return { code, stdout: cli.stdout, stderr: cli.stderr };
}
