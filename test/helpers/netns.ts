/**
 * A collector host in its own Linux network namespace, so that a test can cut the host off the
 * way a power loss does. The sender's connection stays ESTABLISHED, and every packet vanishes in
 * both directions with no RST and no ICMP error.
 *
 *   root namespace (sender) 10.213.S.1/30  <-- veth pair -->  10.213.S.2/30 collector namespace
 *
 * `blackhole()` gives both ends of the veth pair the `blackhole` qdisc, which drops every packet
 * (SYN, data, ACK, RST) and reports it as sent (net/sched/sch_blackhole.c), so TCP on either side
 * retransmits as it would over a dead link. It does what netem `loss 100%` does, and the kernel
 * builds it whenever it has CONFIG_NET_SCHED, while kernels built without CONFIG_NET_SCH_NETEM
 * reject netem.
 *
 * Needs root, `ip` and `tc` (iproute2). Everything this module creates is named after the process
 * id. `destroy()` deletes it, and so do an exit hook and the next run once that process is gone.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import type { TestContext } from 'node:test';

const NAMESPACE_PREFIX = 'rs-halfopen-';

/** Labs not yet destroyed, for the exit hook. */
const liveLabs = new Set<NetnsLab>();
let labCount = 0;
let exitHookInstalled = false;

/**
 * Returns why this process cannot build the lab (not root, no `ip`, no `tc`, no network
 * namespaces), or undefined when it can. Creates and deletes one namespace to find out.
 */
export function findNetnsProblem(): string | undefined {
  if (process.platform !== 'linux') return `network namespaces need Linux, this is ${process.platform}`;
  if (process.getuid?.() !== 0) return 'creating network namespaces needs root';
  for (const [command, args] of [['ip', ['netns', 'list']], ['tc', ['-V']]] as const) {
    const result = spawnSync(command, args, { encoding: 'utf8' });
    if (result.error) return `\`${command}\` failed to run (${result.error.message}): install iproute2`;
    if (result.status !== 0) return `\`${command} ${args.join(' ')}\` failed: ${result.stderr.trim()}`;
  }
  const name = `${NAMESPACE_PREFIX}${process.pid}-check`;
  const added = spawnSync('ip', ['netns', 'add', name], { encoding: 'utf8' });
  if (added.status !== 0) return `\`ip netns add\` failed: ${added.stderr.trim()}`;
  spawnSync('ip', ['netns', 'delete', name]);
  return undefined;
}

/**
 * Returns true when the lab can be built. Otherwise skips the test with the reason and returns
 * false. With `REQUIRE_NETNS=1` it throws instead, so a CI machine that should run the test fails
 * rather than skipping it.
 */
export function requireNetns(t: TestContext): boolean {
  const problem = findNetnsProblem();
  if (problem === undefined) return true;
  if (process.env.REQUIRE_NETNS === '1') {
    throw new Error(`${problem}, and REQUIRE_NETNS=1 requires network namespaces: run as root with iproute2 installed`);
  }
  t.skip(problem);
  return false;
}

/** The namespace, veth pair and processes of one collector host. */
export class NetnsLab {
  /** The sender's end, in the root namespace. */
  readonly senderAddress: string;
  /** The collector's address, inside `namespace`. */
  readonly collectorAddress: string;
  readonly namespace: string;
  /** The veth pair: the root namespace's end, and the collector namespace's end. */
  private readonly links: [string, string];
  private readonly children = new Set<ChildProcess>();
  private readonly id: string;
  private destroyed = false;

  constructor(subnet: number, id: string) {
    this.id = id;
    this.senderAddress = `10.213.${subnet}.1`;
    this.collectorAddress = `10.213.${subnet}.2`;
    this.namespace = `${NAMESPACE_PREFIX}${id}`;
    this.links = [`${linkPrefix(id)}a`, `${linkPrefix(id)}b`];
    const [rootLink, collectorLink] = this.links;

    run('ip', ['netns', 'add', this.namespace]);
    run('ip', ['link', 'add', rootLink, 'type', 'veth', 'peer', 'name', collectorLink, 'netns', this.namespace]);
    run('ip', ['address', 'add', `${this.senderAddress}/30`, 'dev', rootLink]);
    run('ip', ['link', 'set', rootLink, 'up']);
    run('ip', ['-n', this.namespace, 'address', 'add', `${this.collectorAddress}/30`, 'dev', collectorLink]);
    run('ip', ['-n', this.namespace, 'link', 'set', 'lo', 'up']);
    run('ip', ['-n', this.namespace, 'link', 'set', collectorLink, 'up']);
  }

  /** Starts `command` inside the collector namespace; `destroy()` kills it. */
  spawnInCollector(command: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', this.namespace, command, ...args], {
      env: { ...process.env, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  /** Drops every packet between the sender and the collector, in both directions, from now on. */
  blackhole(): void {
    run('tc', ['qdisc', 'add', 'dev', this.links[0], 'root', 'blackhole']);
    run('tc', ['-n', this.namespace, 'qdisc', 'add', 'dev', this.links[1], 'root', 'blackhole']);
  }

  /** Undoes `blackhole()`. */
  restore(): void {
    run('tc', ['qdisc', 'delete', 'dev', this.links[0], 'root']);
    run('tc', ['-n', this.namespace, 'qdisc', 'delete', 'dev', this.links[1], 'root']);
  }

  /**
   * Kills the processes started in the collector namespace, then deletes the namespace and the
   * veth pair. It is synchronous so that the exit hook can call it, and calling it again does nothing.
   */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    liveLabs.delete(this);
    // A namespace and its links live on while a process runs in it. A killed process leaves its
    // namespace as it exits, before its parent reaps it.
    for (const child of this.children) child.kill('SIGKILL');
    deleteByName(this.id);
  }
}

/**
 * Builds a lab on a 10.213.S.0/30 subnet that no route in the root namespace uses yet, after
 * deleting namespaces left behind by earlier runs whose process is gone.
 */
export function createNetnsLab(): NetnsLab {
  installExitHook();
  deleteStaleNamespaces();
  const routes = run('ip', ['-4', 'route', 'show']);
  const used = new Set([...routes.matchAll(/\b10\.213\.(\d+)\./g)].map((match) => Number(match[1])));
  let subnet = process.pid % 256;
  for (let tries = 0; used.has(subnet); tries += 1) {
    if (tries === 256) throw new Error('No free 10.213.S.0/30 subnet in the root namespace: delete stale 10.213.0.0/16 routes');
    subnet = (subnet + 1) % 256;
  }
  labCount += 1;
  const id = `${process.pid}-${labCount}`;
  let lab: NetnsLab | undefined;
  try {
    lab = new NetnsLab(subnet, id);
  } finally {
    // A constructor that failed half-way leaves no object to destroy, so delete by name.
    if (lab === undefined) deleteByName(id);
  }
  liveLabs.add(lab);
  return lab;
}

/** Deletes what `new NetnsLab(subnet, id)` creates, ignoring what does not exist. */
function deleteByName(id: string): void {
  // Deleting one end of a veth pair deletes both.
  spawnSync('ip', ['link', 'delete', `${linkPrefix(id)}a`]);
  spawnSync('ip', ['netns', 'delete', `${NAMESPACE_PREFIX}${id}`]);
}

/** Interface names are limited to 15 bytes, so links are named `rsh<pid>x<lab>` plus one letter. */
function linkPrefix(id: string): string {
  return `rsh${id.replace('-', 'x')}`;
}

/** Deletes namespaces named after a process that no longer runs. */
function deleteStaleNamespaces(): void {
  const list = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '';
  for (const line of list.split('\n')) {
    const name = line.split(' ')[0];
    const match = new RegExp(`^${NAMESPACE_PREFIX}(\\d+)-`).exec(name);
    if (match === null || isRunning(Number(match[1]))) continue;
    spawnSync('ip', ['netns', 'delete', name]);
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Destroys every live lab when the process exits, also after a failed test, and on SIGINT and
 * SIGTERM, which would otherwise end the process without an `exit` event.
 */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  const destroyAll = () => {
    for (const lab of [...liveLabs]) lab.destroy();
  };
  process.on('exit', destroyAll);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      destroyAll();
      process.kill(process.pid, signal);
    });
  }
}

/** Runs a command and returns its stdout; throws with the command and its stderr when it fails. */
function run(command: string, args: readonly string[]): string {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const stderr = String((error as { stderr?: string }).stderr ?? '').trim();
    throw new Error(`\`${command} ${args.join(' ')}\` failed: ${stderr || (error as Error).message}`, { cause: error });
  }
}
