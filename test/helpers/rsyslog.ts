/**
 * Private rsyslog collectors for interoperability tests.
 *
 * Each `RsyslogCollector` runs one `rsyslogd` with its own temporary directory, config, pid file
 * and loopback ports, and writes every message it receives as one JSON line that `received()`
 * parses. Checked against rsyslog 8.2302 with rsyslog-relp and rsyslog-gnutls.
 *
 * rsyslogd runs in the foreground (`-n`) as a child of the test process, so the harness reaps it
 * and receives its exit status. A daemon that forks is reparented, and where the init process does not reap
 * children it stays a zombie that still passes `kill(pid, 0)`.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, isIP } from 'node:net';
import { createSocket } from 'node:dgram';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TestContext } from 'node:test';

export type CollectorInput = 'tcp' | 'udp' | 'tls' | 'relp' | 'relp-tls';

export interface CollectorOptions {
  /**
   * Inputs to open, each on its own free loopback port. `tls` is imtcp with the gtls driver and
   * no client authentication. `relp-tls` is imrelp with `tls="on"` and `tls.authmode="certvalid"`,
   * so the client must present a certificate signed by `tls.caFile`.
   */
  inputs: CollectorInput[];
  /** Server certificate for the `tls` and `relp-tls` inputs, for example from `makeTestCertificates`. */
  tls?: { caFile: string; certFile: string; keyFile: string };
  /** rsyslog `global(maxMessageSize)`, such as `"256k"`; rsyslog's default is 8k. */
  maxMessageSize?: string;
  /** How long `start()` and `restart()` wait for the ports to listen, in ms. Default 10,000. */
  startTimeoutMs?: number;
}

/**
 * One message as rsyslog parsed it. Absent fields contain `-` as rsyslog writes them, and
 * control characters arrive escaped (TAB as `#011`), rsyslog's default on reception.
 */
export interface ParsedMessage {
  rawmsg: string;
  hostname: string;
  appName: string;
  procId: string;
  msgId: string;
  structuredData: string;
  msg: string;
  pri: number;
}

const INPUT_MODULES: Record<CollectorInput, string> = {
  tcp: 'imtcp',
  tls: 'imtcp',
  udp: 'imudp',
  relp: 'imrelp',
  'relp-tls': 'imrelp',
};

const SEARCH_DIRECTORIES = ['/usr/sbin', '/sbin', '/usr/local/sbin'];

/**
 * Finds the rsyslogd executable: `RSYSLOGD` from the environment if set, then `PATH`, then the
 * sbin directories that a non-root `PATH` often lacks. Returns undefined when none is executable.
 */
export function findRsyslogd(): string | undefined {
  const fromEnvironment = process.env.RSYSLOGD;
  if (fromEnvironment) return isExecutable(fromEnvironment) ? fromEnvironment : undefined;

  const directories = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...SEARCH_DIRECTORIES];
  for (const directory of directories) {
    const candidate = join(directory, 'rsyslogd');
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

const moduleCheckCache = new Map<string, string | undefined>();

/**
 * Returns why rsyslogd cannot run a collector config with `inputs`, or undefined when it can.
 * It runs rsyslogd's config check (`-N1`), which loads the input modules but binds no port, so a
 * missing rsyslog-relp package shows here.
 */
function checkInputModules(rsyslogd: string, inputs: readonly CollectorInput[]): string | undefined {
  const wanted = [...new Set(inputs)].sort();
  const key = wanted.join(',');
  if (moduleCheckCache.has(key)) return moduleCheckCache.get(key);

  const directory = mkdtempSync(join(tmpdir(), 'resilient-syslog-rsyslog-check-'));
  mkdirSync(join(directory, 'work'));
  const ports: CollectorPorts = {};
  wanted.forEach((input, index) => (ports[input] = 1 + index));
  const configFile = join(directory, 'check.conf');
  // The config check reads no certificate, so placeholder paths stand in for them.
  const tls = { caFile: '/dev/null', certFile: '/dev/null', keyFile: '/dev/null' };
  writeFileSync(configFile, buildConfig(directory, '/dev/null', { inputs: wanted, tls }, ports));
  const result = spawnSync(rsyslogd, ['-N1', '-f', configFile], { encoding: 'utf8', timeout: 10_000 });
  rmSync(directory, { recursive: true, force: true });

  const problem =
    result.status === 0
      ? undefined
      : `rsyslogd cannot run the inputs ${key}: ${(result.stderr || String(result.error)).trim()}`;
  moduleCheckCache.set(key, problem);
  return problem;
}

/**
 * Skips the test when rsyslogd (or the input modules listed in `inputs`) is missing, and
 * returns false then. With `REQUIRE_RSYSLOG=1` in the environment it throws instead, so a CI
 * machine that should have rsyslog fails loudly rather than skipping.
 */
export function requireRsyslog(t: TestContext, inputs: readonly CollectorInput[] = []): boolean {
  const rsyslogd = findRsyslogd();
  let problem = rsyslogd === undefined ? 'rsyslogd not found' : undefined;
  if (rsyslogd !== undefined && inputs.length > 0) problem = checkInputModules(rsyslogd, inputs);
  if (problem === undefined) return true;

  if (process.env.REQUIRE_RSYSLOG === '1') {
    throw new Error(`${problem}, and REQUIRE_RSYSLOG=1 requires it: install rsyslog, rsyslog-relp and rsyslog-gnutls`);
  }
  t.skip(problem);
  return false;
}

/** Ports handed out by this process, so that two collectors started together never get the same one. */
const handedOutPorts = new Set<number>();

/**
 * Returns a loopback port that was free a moment ago: the kernel picks it for a socket bound to
 * port 0, which is then closed. Another process may still take it before the caller binds it.
 */
export async function freePort(protocol: 'tcp' | 'udp' = 'tcp'): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt += 1) {
    const port = protocol === 'tcp' ? await pickTcpPort() : await pickUdpPort();
    if (!handedOutPorts.has(port)) {
      handedOutPorts.add(port);
      return port;
    }
  }
  throw new Error(`No free ${protocol} port found on 127.0.0.1 after 20 attempts`);
}

function pickTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function pickUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}

/** Live collectors, killed when the test process exits so that a failed test leaves no rsyslogd behind. */
const liveCollectors = new Set<RsyslogCollector>();
let exitHookInstalled = false;

function trackCollector(collector: RsyslogCollector): void {
  liveCollectors.add(collector);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const live of liveCollectors) live.killAtExit();
  });
}

/** Keeps the last `maxBytes` of a child's output for error messages. */
class OutputTail {
  private text = '';

  constructor(private readonly maxBytes = 8192) {}

  append(chunk: Buffer | string): void {
    this.text = (this.text + chunk.toString()).slice(-this.maxBytes);
  }

  toString(): string {
    return this.text.trim();
  }
}

type CollectorPorts = Partial<Record<CollectorInput, number>>;

/** One private rsyslogd that stores what it receives as JSON lines. */
export class RsyslogCollector {
  readonly directory: string;
  readonly outputFile: string;
  readonly configFile: string;
  readonly pidFile: string;

  private currentPorts: CollectorPorts;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private output = new OutputTail();
  private paused = false;
  private disposed = false;

  private constructor(
    private readonly rsyslogd: string,
    private readonly options: CollectorOptions,
    directory: string,
    ports: CollectorPorts,
  ) {
    this.directory = directory;
    this.outputFile = join(directory, 'received.jsonl');
    this.configFile = join(directory, 'rsyslog.conf');
    this.pidFile = join(directory, 'rsyslogd.pid');
    this.currentPorts = ports;
  }

  /**
   * Starts rsyslogd with the requested inputs on free loopback ports and resolves once its pid
   * file is written and every port listens. A port taken by another process between `freePort`
   * and rsyslogd's bind makes that attempt time out; `start` then tries twice more with new ports.
   */
  static async start(options: CollectorOptions): Promise<RsyslogCollector> {
    validateOptions(options);
    const rsyslogd = findRsyslogd();
    if (rsyslogd === undefined) throw new Error('rsyslogd not found: install rsyslog or set RSYSLOGD to its path');

    const directory = await mkdtemp(join(tmpdir(), 'resilient-syslog-rsyslog-'));
    await mkdir(join(directory, 'work'));

    let lastError: unknown;
    for (let attempt = 1; attempt <= 3; attempt += 1) {
      const collector = new RsyslogCollector(rsyslogd, options, directory, await allocatePorts(options.inputs));
      try {
        await collector.launch();
        return collector;
      } catch (error) {
        lastError = error;
        await collector.kill();
      }
    }
    await rm(directory, { recursive: true, force: true });
    throw lastError;
  }

  /** The port of each requested input. */
  get ports(): Readonly<CollectorPorts> {
    return this.currentPorts;
  }

  /** Process id of the running rsyslogd; it changes on `restart()`. */
  get pid(): number {
    return this.child?.pid ?? -1;
  }

  /** True from a successful start until the process exits. */
  get running(): boolean {
    return this.child !== undefined;
  }

  /** Returns every message stored so far, in arrival order, without a line still being written. */
  async received(): Promise<ParsedMessage[]> {
    let text: string;
    try {
      text = await readFile(this.outputFile, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const complete = text.slice(0, text.lastIndexOf('\n') + 1);
    return complete
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) => JSON.parse(line) as ParsedMessage);
  }

  /** Polls `received()` until it returns at least `count` messages; rejects after `timeoutMs` (default 10,000). */
  async waitFor(count: number, timeoutMs = 10_000): Promise<ParsedMessage[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const messages = await this.received();
      if (messages.length >= count) return messages;
      if (Date.now() >= deadline) {
        throw new Error(
          `Collector received ${messages.length} of ${count} expected messages within ${timeoutMs} ms` +
            this.describeOutput(),
        );
      }
      await sleep(20);
    }
  }

  /** Stops rsyslogd with SIGTERM and waits for it to exit; SIGKILL follows after 10 s. */
  async stop(): Promise<void> {
    const child = this.child;
    if (child === undefined) return;
    child.kill('SIGTERM');
    if (this.paused) {
      // A stopped process keeps SIGTERM pending until it runs again.
      child.kill('SIGCONT');
      this.paused = false;
    }
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), 10_000)));
    const exitedInTime = await Promise.race([this.exited.then(() => true), timedOut]);
    clearTimeout(timer);
    if (!exitedInTime) await this.kill();
  }

  /** Kills rsyslogd with SIGKILL, as a crash would, and waits for it to exit. */
  async kill(): Promise<void> {
    const child = this.child;
    if (child === undefined) return;
    child.kill('SIGKILL');
    await this.exited;
  }

  /**
   * Freezes rsyslogd with SIGSTOP: its sockets stay open and nothing is read from them. Resolves
   * once the kernel reports every thread stopped, because a thread busy in a system call can
   * still finish its work after the signal was sent.
   */
  async pause(): Promise<void> {
    const child = this.child;
    if (child === undefined || this.paused) return;
    child.kill('SIGSTOP');
    this.paused = true;
    await waitForThreadStates(child.pid!, (state) => state === 'T', 'stopped');
  }

  /** Lets a paused rsyslogd run again with SIGCONT and resolves once no thread is stopped. */
  async resume(): Promise<void> {
    const child = this.child;
    if (child === undefined || !this.paused) return;
    child.kill('SIGCONT');
    this.paused = false;
    await waitForThreadStates(child.pid!, (state) => state !== 'T', 'running');
  }

  /** Stops rsyslogd if it runs and starts it again on the same ports; it appends to the same output file. */
  async restart(): Promise<void> {
    if (this.disposed) throw new Error('Cannot restart a disposed collector');
    await this.stop();
    await this.launch();
  }

  /** Stops rsyslogd if it runs and removes the temporary directory. Safe to call twice. */
  async dispose(): Promise<void> {
    this.disposed = true;
    await this.stop();
    await rm(this.directory, { recursive: true, force: true });
  }

  /** @internal Called from the process exit hook, where only synchronous work runs. */
  killAtExit(): void {
    this.child?.kill('SIGKILL');
  }

  private async launch(): Promise<void> {
    const timeoutMs = this.options.startTimeoutMs ?? 10_000;
    await writeFile(this.configFile, buildConfig(this.directory, this.outputFile, this.options, this.currentPorts));
    await rm(this.pidFile, { force: true });

    this.output = new OutputTail();
    const child = spawn(this.rsyslogd, ['-n', '-f', this.configFile, '-i', this.pidFile], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.paused = false;
    trackCollector(this);
    child.stdout?.on('data', (chunk: Buffer) => this.output.append(chunk));
    child.stderr?.on('data', (chunk: Buffer) => this.output.append(chunk));

    let exitCode: string | undefined;
    this.exited = new Promise((resolve) => {
      const onGone = (code: number | null, signal: NodeJS.Signals | null): void => {
        exitCode = signal ?? String(code);
        if (this.child === child) this.child = undefined;
        liveCollectors.delete(this);
        resolve();
      };
      child.once('exit', onGone);
      child.once('error', (error) => {
        this.output.append(String(error));
        onGone(null, null);
      });
    });

    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (exitCode !== undefined) {
        throw new Error(`rsyslogd exited (${exitCode}) during startup` + this.describeOutput());
      }
      if ((await this.pidFileMatches(child.pid)) && this.portsListen()) return;
      if (Date.now() >= deadline) {
        throw new Error(
          `rsyslogd did not listen on ${JSON.stringify(this.currentPorts)} within ${timeoutMs} ms` +
            this.describeOutput(),
        );
      }
      await sleep(20);
    }
  }

  private async pidFileMatches(pid: number | undefined): Promise<boolean> {
    try {
      return (await readFile(this.pidFile, 'utf8')).trim() === String(pid);
    } catch {
      return false;
    }
  }

  private portsListen(): boolean {
    for (const [input, port] of Object.entries(this.currentPorts) as Array<[CollectorInput, number]>) {
      if (!isListening(input === 'udp' ? 'udp' : 'tcp', port)) return false;
    }
    return true;
  }

  private describeOutput(): string {
    const text = this.output.toString();
    return text.length > 0 ? `\nrsyslogd output:\n${text}` : '';
  }
}

function validateOptions(options: CollectorOptions): void {
  if (options.inputs.length === 0) throw new Error('CollectorOptions.inputs is empty: list at least one input');
  for (const input of options.inputs) {
    if (!(input in INPUT_MODULES)) throw new Error(`Invalid collector input ${JSON.stringify(input)}`);
  }
  if (new Set(options.inputs).size !== options.inputs.length) {
    throw new Error(`CollectorOptions.inputs lists an input twice: ${options.inputs.join(', ')}`);
  }
  for (const input of ['tls', 'relp-tls'] as const) {
    if (options.inputs.includes(input) && options.tls === undefined) {
      throw new Error(`The ${input} input requires CollectorOptions.tls with caFile, certFile and keyFile`);
    }
  }
  if (options.maxMessageSize !== undefined && !/^\d+[kKmMgG]?$/.test(options.maxMessageSize)) {
    throw new Error(`Invalid maxMessageSize ${JSON.stringify(options.maxMessageSize)}: expected a size such as "256k"`);
  }
}

async function allocatePorts(inputs: readonly CollectorInput[]): Promise<CollectorPorts> {
  const ports: CollectorPorts = {};
  for (const input of inputs) ports[input] = await freePort(input === 'udp' ? 'udp' : 'tcp');
  return ports;
}

/** The JSON line written per message. The `json` property option escapes each value for a JSON string. */
const JSON_TEMPLATE =
  '{"rawmsg":"%rawmsg:::json%","hostname":"%hostname:::json%","appName":"%app-name:::json%",' +
  '"procId":"%procid:::json%","msgId":"%msgid:::json%","structuredData":"%structured-data:::json%",' +
  '"msg":"%msg:::json%","pri":%pri%}\\n';

function buildConfig(directory: string, outputFile: string, options: CollectorOptions, ports: CollectorPorts): string {
  const globals = [`workDirectory="${join(directory, 'work')}"`];
  if (options.maxMessageSize !== undefined) globals.push(`maxMessageSize="${options.maxMessageSize}"`);
  if (options.tls !== undefined) {
    globals.push(
      `defaultNetstreamDriverCAFile="${options.tls.caFile}"`,
      `defaultNetstreamDriverCertFile="${options.tls.certFile}"`,
      `defaultNetstreamDriverKeyFile="${options.tls.keyFile}"`,
    );
  }

  // A direct main queue makes each input write through omfile before it responds: imrelp then
  // sends rsp 200 only for a message already in the output file, so a SIGKILL loses nothing
  // acknowledged. With rsyslog's default in-memory queue, a kill loses acknowledged messages.
  const lines = [`global(${globals.join(' ')})`, 'main_queue(queue.type="Direct")'];
  for (const name of new Set(options.inputs.map((input) => INPUT_MODULES[input]))) {
    lines.push(`module(load="${name}")`);
  }
  lines.push(
    `template(name="jsonLine" type="string" string=${rainerScriptString(JSON_TEMPLATE)})`,
    'ruleset(name="store") {',
    `  action(type="omfile" file="${outputFile}" template="jsonLine" asyncWriting="off" flushOnTXEnd="on")`,
    '}',
  );

  // imtcp in rsyslog 8.2302 accepts the stream driver per input, so one module load serves both
  // the plain and the TLS listener.
  const address = 'address="127.0.0.1" ruleset="store"';
  if (ports.tcp !== undefined) lines.push(`input(type="imtcp" port="${ports.tcp}" ${address})`);
  if (ports.tls !== undefined) {
    lines.push(
      `input(type="imtcp" port="${ports.tls}" ${address} ` +
        'streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon")',
    );
  }
  if (ports.udp !== undefined) lines.push(`input(type="imudp" port="${ports.udp}" ${address})`);
  if (ports.relp !== undefined) lines.push(`input(type="imrelp" port="${ports.relp}" ${address})`);
  if (ports['relp-tls'] !== undefined && options.tls !== undefined) {
    lines.push(
      `input(type="imrelp" port="${ports['relp-tls']}" ${address} tls="on" tls.authmode="certvalid" ` +
        `tls.cacert="${options.tls.caFile}" tls.mycert="${options.tls.certFile}" tls.myprivkey="${options.tls.keyFile}")`,
    );
  }
  return lines.join('\n') + '\n';
}

/** Quotes `text` as a RainerScript string; `text` keeps its own backslash escapes such as `\n`. */
function rainerScriptString(text: string): string {
  return `"${text.replace(/"/g, '\\"')}"`;
}

/**
 * True when a socket bound to 127.0.0.1:`port` is listening (TCP) or bound (UDP), read from
 * /proc/net so that the check opens no connection that would show up in rsyslog's input.
 */
function isListening(protocol: 'tcp' | 'udp', port: number): boolean {
  const wantedAddress = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  // Socket states from the Linux kernel's tcp_states.h: 0A is TCP_LISTEN, 07 is TCP_CLOSE, which a bound UDP socket shows.
  const wantedState = protocol === 'tcp' ? '0A' : '07';
  let table: string;
  try {
    table = readFileSync(`/proc/net/${protocol}`, 'utf8');
  } catch {
    throw new Error(`Cannot read /proc/net/${protocol}: the rsyslog harness runs on Linux only`);
  }
  return table.split('\n').some((line) => {
    const fields = line.trim().split(/\s+/);
    return fields[1] === wantedAddress && fields[3] === wantedState;
  });
}

/**
 * Polls the state letter of every thread of `pid` in /proc until `matches` holds for all of them.
 * Returns at once when the process is gone, and with a process warning after 2 s.
 */
async function waitForThreadStates(pid: number, matches: (state: string) => boolean, description: string): Promise<void> {
  const deadline = Date.now() + 2000;
  while (Date.now() < deadline) {
    let states: string[];
    try {
      const threads = await readdir(`/proc/${pid}/task`);
      states = await Promise.all(threads.map(async (thread) => threadState(await readFile(`/proc/${pid}/task/${thread}/stat`, 'utf8'))));
    } catch {
      return;
    }
    if (states.every(matches)) return;
    await sleep(5);
  }
  process.emitWarning(`rsyslogd ${pid} did not report every thread ${description} within 2000 ms`);
}

/** Returns the state letter of a /proc stat line; it follows the command name, which is in parentheses. */
function threadState(stat: string): string {
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
}

function run(command: string, args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd }, (error, _stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(' ')} failed: ${stderr.trim() || error.message}`));
      else resolve();
    });
  });
}

/**
 * Creates a throwaway CA and a server certificate signed by it in `dir` with openssl. The server
 * certificate's subjectAltName lists IP:127.0.0.1, IP:::1, DNS:localhost and each of `hosts`
 * (IP literals as IP entries, names as DNS entries). Keys are EC P-256 and valid for 7 days.
 */
export async function makeTestCertificates(
  dir: string,
  hosts: string[] = [],
): Promise<{ caFile: string; caKeyFile: string; certFile: string; keyFile: string; ca: Buffer }> {
  await mkdir(dir, { recursive: true });
  const caKey = join(dir, 'ca-key.pem');
  const caFile = join(dir, 'ca.pem');
  const keyFile = join(dir, 'server-key.pem');
  const requestFile = join(dir, 'server.csr');
  const certFile = join(dir, 'server.pem');
  const extensionsFile = join(dir, 'server-ext.cnf');

  const names = ['IP:127.0.0.1', 'IP:::1', 'DNS:localhost'];
  for (const host of hosts) {
    const entry = isIP(host) !== 0 ? `IP:${host}` : `DNS:${host}`;
    if (!names.includes(entry)) names.push(entry);
  }
  await writeFile(
    extensionsFile,
    [
      `subjectAltName=${names.join(',')}`,
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth,clientAuth',
      '',
    ].join('\n'),
  );

  const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await run(
    'openssl',
    ['req', '-x509', ...ecKey, '-keyout', caKey, '-out', caFile, '-days', '7', '-subj', '/CN=resilient-syslog test CA',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
    dir,
  );
  await run('openssl', ['req', ...ecKey, '-keyout', keyFile, '-out', requestFile, '-subj', '/CN=localhost'], dir);
  await run(
    'openssl',
    ['x509', '-req', '-in', requestFile, '-CA', caFile, '-CAkey', caKey, '-CAcreateserial', '-out', certFile,
      '-days', '7', '-extfile', extensionsFile],
    dir,
  );
  return { caFile, caKeyFile: caKey, certFile, keyFile, ca: await readFile(caFile) };
}

/** A server certificate from `issueServerCertificate`, as files and as PEM contents. */
export interface IssuedCertificate {
  certFile: string;
  keyFile: string;
  cert: Buffer;
  key: Buffer;
}

/**
 * Issues another server certificate, signed by a CA from `makeTestCertificates`, into
 * `dir/name/`. Its subjectAltName lists only `hosts` (IP literals as IP entries, names as DNS
 * entries). The validity defaults to one hour ago until 7 days ahead, and a `notAfter` in the past
 * makes an expired certificate. It uses `openssl ca`, because `openssl x509` in OpenSSL 3.0 cannot
 * set a start date.
 */
export async function issueServerCertificate(
  authority: { caFile: string; caKeyFile: string },
  dir: string,
  name: string,
  hosts: string[],
  validity: { notBefore?: Date; notAfter?: Date } = {},
): Promise<IssuedCertificate> {
  if (hosts.length === 0) throw new Error('issueServerCertificate requires at least one host for the subjectAltName');
  const directory = join(dir, name);
  await mkdir(directory, { recursive: true });
  const keyFile = join(directory, 'key.pem');
  const certFile = join(directory, 'cert.pem');
  const requestFile = join(directory, 'request.csr');
  const extensionsFile = join(directory, 'extensions.cnf');
  const configFile = join(directory, 'ca.cnf');

  const names = hosts.map((host) => (isIP(host) !== 0 ? `IP:${host}` : `DNS:${host}`));
  await writeFile(
    extensionsFile,
    [
      `subjectAltName=${names.join(',')}`,
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth',
      '',
    ].join('\n'),
  );
  // `openssl ca` keeps an index of issued certificates and a serial number file.
  await writeFile(join(directory, 'index.txt'), '');
  await writeFile(join(directory, 'serial'), '01\n');
  await writeFile(
    configFile,
    [
      '[ca]',
      'default_ca = test_ca',
      '[test_ca]',
      `database = ${join(directory, 'index.txt')}`,
      `new_certs_dir = ${directory}`,
      `serial = ${join(directory, 'serial')}`,
      'default_md = sha256',
      'policy = any_name',
      'unique_subject = no',
      '[any_name]',
      'commonName = supplied',
      '',
    ].join('\n'),
  );

  const notBefore = validity.notBefore ?? new Date(Date.now() - 3_600_000);
  const notAfter = validity.notAfter ?? new Date(Date.now() + 7 * 86_400_000);
  await run(
    'openssl',
    ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', requestFile,
      '-subj', `/CN=${hosts[0]}`],
    directory,
  );
  await run(
    'openssl',
    ['ca', '-batch', '-notext', '-config', configFile, '-cert', authority.caFile, '-keyfile', authority.caKeyFile,
      '-in', requestFile, '-out', certFile, '-extfile', extensionsFile,
      '-startdate', opensslTime(notBefore), '-enddate', opensslTime(notAfter)],
    directory,
  );
  return { certFile, keyFile, cert: await readFile(certFile), key: await readFile(keyFile) };
}

/** Formats a date as the GeneralizedTime that `openssl ca -startdate` expects: YYYYMMDDHHMMSSZ. */
function opensslTime(date: Date): string {
  return `${date.toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;
}
