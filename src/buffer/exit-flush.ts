/** Something that must write its pending data before the process exits. */
export interface ExitFlushTarget {
  /** Writes pending data synchronously; must not throw. */
  flushOnExit(): void;
}

const targets = new Set<ExitFlushTarget>();

function flushAll(): void {
  for (const target of targets) target.flushOnExit();
}

/**
 * Registers `target` with one shared `process.on('exit')` listener, so any number of open
 * buffers add a single listener. `process.exit()` runs it synchronously; SIGKILL does not.
 */
export function addExitFlush(target: ExitFlushTarget): void {
  if (targets.size === 0) process.on('exit', flushAll);
  targets.add(target);
}

/** Unregisters `target`; the listener is removed with the last target. */
export function removeExitFlush(target: ExitFlushTarget): void {
  if (!targets.delete(target)) return;
  if (targets.size === 0) process.off('exit', flushAll);
}
