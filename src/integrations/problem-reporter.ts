import type { DropReason } from '../buffer/queue.js';
import type { SyslogSender } from '../sender/syslog-sender.js';

/** Minimum time between two drop reports; drops in between are summed into the next one. */
const DROP_REPORT_INTERVAL_MS = 10_000;

/**
 * Turns a sender's `warning`, `drop` and `status` events into short lines for an operator, for
 * integrations that have no event listener of their own (a pino worker thread, the CLI). A
 * collector going down or coming back is one line per change. Drops are summed and reported at
 * most once per 10 s, and the returned function reports the rest when it unsubscribes.
 */
export function reportSenderProblems(sender: SyslogSender, report: (line: string) => void): () => void {
  const dropped: Record<DropReason | 'closed', number> = { full: 0, 'io-error': 0, oversize: 0, closed: 0 };
  let lastDropReport = 0;
  let timer: NodeJS.Timeout | undefined;

  const reportDrops = (): void => {
    timer = undefined;
    const parts = Object.entries(dropped)
      .filter(([, count]) => count > 0)
      .map(([reason, count]) => `${count} (${reason})`);
    if (parts.length === 0) return;
    report(`dropped events: ${parts.join(', ')}`);
    for (const reason of Object.keys(dropped) as Array<keyof typeof dropped>) dropped[reason] = 0;
    lastDropReport = Date.now();
  };

  const onDrop = ({ count, reason }: { count: number; reason: DropReason | 'closed' }): void => {
    dropped[reason] += count;
    if (timer !== undefined) return;
    const wait = Math.max(0, lastDropReport + DROP_REPORT_INTERVAL_MS - Date.now());
    timer = setTimeout(reportDrops, wait);
    timer.unref();
  };
  const onWarning = (error: Error): void => report(`warning: ${error.message}`);
  const onStatus = ({ target, from, to, reason }: { target: string; from: string; to: string; reason?: string }): void => {
    if (to === 'down' && from !== 'down') report(`collector ${target} is down: ${reason ?? 'no reason given'}`);
    if (to === 'up' && from === 'down') report(`collector ${target} is up again`);
  };

  sender.on('drop', onDrop);
  sender.on('warning', onWarning);
  sender.on('status', onStatus);
  return () => {
    sender.off('drop', onDrop);
    sender.off('warning', onWarning);
    sender.off('status', onStatus);
    if (timer !== undefined) clearTimeout(timer);
    reportDrops();
  };
}
