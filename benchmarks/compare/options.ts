/** Command-line options of compare/main.ts. */
import { resolve } from 'node:path';

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
    else if (argument.startsWith('--json=')) result.json = resolveFromInvocation(argument.slice('--json='.length));
    else if (argument.startsWith('--cpu-prof=')) result.cpuProfileDirectory = resolveFromInvocation(argument.slice('--cpu-prof='.length));
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

/**
 * Resolves a path from the command line against the directory where the user typed `npm run
 * bench`. npm stores that directory in INIT_CWD and starts this script in benchmarks/.
 */
function resolveFromInvocation(path: string): string {
  return resolve(process.env.INIT_CWD ?? process.cwd(), path);
}
