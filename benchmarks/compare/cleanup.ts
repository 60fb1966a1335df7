/**
 * The child processes and temporary directories of a run, so that SIGINT or SIGTERM ends the run
 * without leaving either behind.
 */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { removeTemporaryDirectory } from './shared.js';

const children = new Set<ChildProcess>();
const directories = new Set<string>();
let stopping = false;

/** True once a signal ended the run, after which no runner may start. */
export function isStopping(): boolean {
  return stopping;
}

/** Tracks `child` until it exits, so that a signal reaches it. */
export function trackChild(child: ChildProcess): void {
  children.add(child);
  child.once('exit', () => children.delete(child));
}

/** Tracks `directory` until `untrackDirectory`, so that a signal removes it. */
export function trackDirectory(directory: string): void {
  directories.add(directory);
}

/** Stops tracking `directory`, which its owner has removed. */
export function untrackDirectory(directory: string): void {
  directories.delete(directory);
}

/**
 * Ends the run on SIGINT or SIGTERM: passes the signal on to every child process, waits up to 5 s
 * for them to exit, removes the directories that are left and exits with 130 or 143. Without it,
 * main ended at once, and a runner that tsx was still loading, before it had a handler of its
 * own, left its directory behind.
 */
export function stopOnSignal(): void {
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    // `on`, not `once`: a second Ctrl-C would otherwise end main at once, before the cleanup.
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      const exits = [...children].map((child) => {
        child.kill(signal);
        return once(child, 'exit');
      });
      void Promise.race([Promise.allSettled(exits), sleep(5_000)]).then(() => {
        for (const directory of directories) removeTemporaryDirectory(directory, 'a temporary directory of the run');
        process.exit(code);
      });
    });
  }
}
