/** Parsing and checks of the command-line options of compare/main.ts. */
import { spawnSync } from 'node:child_process';
import { accessSync, existsSync, constants as fsConstants, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

export interface Arguments {
  quick: boolean;
  only: string | undefined;
  json: string | undefined;
  cpuProfileDirectory: string | undefined;
  runnerFlags: string[];
}

/** An invalid command line. main.ts prints only its message, with no stack trace, and exits with code 1. */
export class UsageError extends Error {
  override name = 'UsageError';
}

const USAGE = 'Options: --quick, --only=TEXT[,TEXT...], --json=FILE, --cpu-prof=DIR, --runner-flags="FLAGS".';

/** Options that take a value, which must follow an equals sign, with the placeholder of the value. */
const VALUE_OPTIONS: Record<string, string> = { '--only': 'TEXT', '--json': 'FILE', '--cpu-prof': 'DIR', '--runner-flags': '"FLAGS"' };

export function parseArguments(argv: string[]): Arguments {
  const result: Arguments = { quick: false, only: undefined, json: undefined, cpuProfileDirectory: undefined, runnerFlags: [] };
  for (const argument of argv) {
    if (argument === '--quick') result.quick = true;
    else if (argument.startsWith('--only=')) result.only = argument.slice('--only='.length);
    else if (argument.startsWith('--json=')) result.json = resolveFromInvocation(pathValue(argument));
    else if (argument.startsWith('--cpu-prof=')) result.cpuProfileDirectory = resolveFromInvocation(pathValue(argument));
    else if (argument.startsWith('--runner-flags=')) {
      result.runnerFlags = argument.slice('--runner-flags='.length).split(' ').filter((flag) => flag !== '');
    } else if (Object.hasOwn(VALUE_OPTIONS, argument)) {
      throw new UsageError(`Option ${argument} is missing its value: write ${argument}=${VALUE_OPTIONS[argument]} with no space. ${USAGE}`);
    } else {
      throw new UsageError(`Unknown option ${JSON.stringify(argument)}. ${USAGE}`);
    }
  }
  return result;
}

/** Returns the path after the equals sign of `--json=FILE` or `--cpu-prof=DIR`, which must not be empty. */
function pathValue(argument: string): string {
  const equals = argument.indexOf('=');
  const option = argument.slice(0, equals);
  const value = argument.slice(equals + 1);
  if (value === '') throw new UsageError(`Option ${option} is missing its value: write ${option}=${VALUE_OPTIONS[option]}. ${USAGE}`);
  return value;
}

/**
 * Resolves a path from the command line against the directory where the user typed the command.
 * npm starts this script in benchmarks/ and sets INIT_CWD to the directory it was started in. The
 * root `npm run bench` starts a second npm in the project root, which sets INIT_CWD again, so
 * that script hands its own INIT_CWD over as BENCH_INVOKED_FROM. Without npm it uses the working
 * directory.
 */
function resolveFromInvocation(path: string): string {
  return resolve(process.env.BENCH_INVOKED_FROM || process.env.INIT_CWD || process.cwd(), path);
}

/**
 * Checks before the run starts that the `--json` file can be written and creates the `--cpu-prof`
 * directory, so that a wrong path fails at once instead of after a run of several minutes.
 */
export function prepareOutputPaths(options: Arguments): void {
  if (options.json !== undefined) checkJsonFile(options.json);
  if (options.cpuProfileDirectory !== undefined) createProfileDirectory(options.cpuProfileDirectory);
}

function checkJsonFile(file: string): void {
  const directory = dirname(file);
  const directoryStats = statSync(directory, { throwIfNoEntry: false });
  if (directoryStats === undefined) {
    throw new UsageError(`--json: directory ${directory} does not exist. Create it, or give a FILE in an existing directory.`);
  }
  if (!directoryStats.isDirectory()) throw new UsageError(`--json: ${directory} is not a directory.`);
  const fileStats = statSync(file, { throwIfNoEntry: false });
  if (fileStats?.isDirectory()) throw new UsageError(`--json: ${file} is a directory. Give the name of a file in it.`);
  // An existing file is overwritten, so it must be writable, and a new one needs a writable directory.
  const target = fileStats === undefined ? directory : file;
  try {
    accessSync(target, fsConstants.W_OK);
  } catch (error) {
    throw new UsageError(`--json: ${file} cannot be written: ${(error as Error).message}`);
  }
}

function createProfileDirectory(directory: string): void {
  try {
    createDirectories(directory);
    if (!statSync(directory).isDirectory()) throw new Error('it is not a directory');
    accessSync(directory, fsConstants.W_OK);
  } catch (error) {
    throw new UsageError(`--cpu-prof: directory ${directory} cannot be created or written: ${(error as Error).message}`);
  }
}

/**
 * Creates `directory` and its missing parents one at a time. `mkdirSync` with `recursive: true`
 * never returned in Node.js 20.20.2 for a path under /proc, where mkdir reports ENOENT for the
 * path and EEXIST for its parent, and it retried forever.
 */
function createDirectories(directory: string): void {
  const missing: string[] = [];
  let current = directory;
  while (!existsSync(current)) {
    missing.push(current);
    const parent = dirname(current);
    if (parent === current) break;
    current = parent;
  }
  for (const path of missing.reverse()) mkdirSync(path);
}

/**
 * Starts Node.js once with the `--runner-flags` and `-e 0`, as the runners will start, and throws
 * a UsageError with Node.js's message when it rejects them, so that a typo does not fail every row.
 */
export function checkRunnerFlags(flags: readonly string[]): void {
  if (flags.length === 0) return;
  // NOTE: a flag that writes a file at exit, such as --prof or --cpu-prof, also writes one for this check.
  const check = spawnSync(process.execPath, ['--expose-gc', ...flags, '-e', '0'], { encoding: 'utf8', timeout: 30_000 });
  if (check.status === 0) return;

  let reason: string;
  if (check.error !== undefined) reason = check.error.message;
  else if (check.signal !== null) reason = `it was ended by ${check.signal}`;
  else reason = check.stderr.trim().split('\n')[0] || `it exited with code ${check.status}`;
  reason = reason.replace(/\.+$/, '');
  throw new UsageError(
    `--runner-flags: Node.js rejected "${flags.join(' ')}": ${reason}. Give Node.js and V8 options separated by spaces, for example --runner-flags="--trace-gc".`,
  );
}
