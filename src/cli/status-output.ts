import type { SenderStats } from '../sender/syslog-sender.js';

/** Interval between updates of the progress line, in ms. */
const PROGRESS_INTERVAL_MS = 1_000;

/** Writes the CLI's messages to stderr, prefixed with the program name. */
export interface StatusStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

/** Sums every drop reason. */
export function droppedTotal(stats: SenderStats): number {
  return Object.values(stats.dropped).reduce((sum, count) => sum + count, 0);
}

/** Formats the counters as one line: `accepted 10, confirmed 8, pending 2, dropped 0; tcp://a:514 up, tcp://b:514 down`. */
export function formatStats(stats: SenderStats): string {
  const upstreams = stats.upstreams.map((upstream) => `${upstream.target} ${upstream.status}`).join(', ');
  return `accepted ${stats.accepted}, confirmed ${stats.confirmed}, pending ${stats.pending}, dropped ${droppedTotal(stats)}; ${upstreams}`;
}

/**
 * Message lines and, when stderr is a terminal, a progress line that is rewritten in place
 * every second. A message first clears the progress line, so the two never mix on one line.
 */
export class StatusOutput {
  private timer: NodeJS.Timeout | undefined;
  private progressShown = false;

  constructor(private readonly stream: StatusStream) {}

  /** Writes `resilient-syslog: message` on its own line. */
  message(text: string): void {
    this.clearProgress();
    this.stream.write(`resilient-syslog: ${text}\n`);
  }

  /** Starts the progress line, only when the stream is a terminal. */
  startProgress(read: () => string): void {
    if (!this.stream.isTTY) return;
    this.timer = setInterval(() => {
      this.stream.write(`\r${read()}\u001b[K`);
      this.progressShown = true;
    }, PROGRESS_INTERVAL_MS);
    this.timer.unref();
  }

  stopProgress(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.clearProgress();
  }

  private clearProgress(): void {
    if (!this.progressShown) return;
    this.stream.write('\r\u001b[K');
    this.progressShown = false;
  }
}
