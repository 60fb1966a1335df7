import { InvalidOptionError } from './errors.js';
import type { SenderStats } from './sender/syslog-sender.js';

/** The `Content-Type` of the Prometheus text exposition format that `renderPrometheus` returns. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Labels added to every series of one sender, such as `{ sender: 'billing' }`. */
export type PrometheusLabels = Readonly<Record<string, string>>;

/** One sender's stats and the labels that tell its series apart from other senders'. */
export interface PrometheusSource {
  stats: SenderStats;
  labels?: PrometheusLabels;
}

type MetricType = 'counter' | 'gauge';

interface Sample {
  labels: ReadonlyArray<readonly [string, string]>;
  value: number;
}

interface Family {
  name: string;
  type: MetricType;
  help: string;
  samples: (stats: SenderStats) => Array<{ labels?: Array<[string, string]>; value: number }>;
}

/** Label names each family adds itself; application labels may not use them. */
const RESERVED_LABELS = new Set(['reason', 'upstream']);
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

const single = (read: (stats: SenderStats) => number) => (stats: SenderStats) => [{ value: read(stats) }];

// NOTE: the `upstream` label is the target URL, so a pool that lists one target twice yields
// duplicate series, which Prometheus rejects.
const perUpstream = (read: (upstream: SenderStats['upstreams'][number]) => number) => (stats: SenderStats) =>
  stats.upstreams.map((upstream) => ({ labels: [['upstream', upstream.target]] as Array<[string, string]>, value: read(upstream) }));

/** Every metric family, in the order they are written. */
const FAMILIES: readonly Family[] = [
  {
    name: 'resilient_syslog_events_accepted_total',
    type: 'counter',
    help: 'Events taken by send().',
    samples: single((stats) => stats.accepted),
  },
  {
    name: 'resilient_syslog_events_sent_total',
    type: 'counter',
    help: 'Events written to a connection, replays included.',
    samples: single((stats) => stats.sent),
  },
  {
    name: 'resilient_syslog_events_confirmed_total',
    type: 'counter',
    help: 'Events confirmed by a collector and removed from the queue.',
    samples: single((stats) => stats.confirmed),
  },
  {
    name: 'resilient_syslog_events_replayed_total',
    type: 'counter',
    help: 'Events handed back by a failed connection and sent again, so each may arrive twice.',
    samples: single((stats) => stats.replayed),
  },
  {
    name: 'resilient_syslog_events_dropped_total',
    type: 'counter',
    help: 'Events dropped, by reason: full, io-error, oversize, or closed (sent after close()).',
    samples: (stats) =>
      Object.entries(stats.dropped).map(([reason, count]) => ({ labels: [['reason', reason]] as Array<[string, string]>, value: count })),
  },
  {
    name: 'resilient_syslog_messages_truncated_total',
    type: 'counter',
    help: 'Messages cut to maxMessageBytes, and datagrams cut to an upstream size cap.',
    samples: single((stats) => stats.truncated),
  },
  {
    name: 'resilient_syslog_sd_params_dropped_total',
    type: 'counter',
    help: 'Structured-data parameters dropped because their names break RFC 5424.',
    samples: single((stats) => stats.sdParamsDropped),
  },
  {
    name: 'resilient_syslog_events_pending',
    type: 'gauge',
    help: 'Events accepted and not yet confirmed.',
    samples: single((stats) => stats.pending),
  },
  {
    name: 'resilient_syslog_events_in_flight',
    type: 'gauge',
    help: 'Events written to a connection and not yet confirmed.',
    samples: single((stats) => stats.inFlight),
  },
  {
    name: 'resilient_syslog_queue_records',
    type: 'gauge',
    help: 'Records in the queue (memory or DiskBuffer), read or not, until confirmed.',
    samples: single((stats) => stats.queue.records),
  },
  {
    name: 'resilient_syslog_queue_bytes',
    type: 'gauge',
    help: 'UTF-8 bytes of the records in the queue.',
    samples: single((stats) => stats.queue.bytes),
  },
  {
    name: 'resilient_syslog_upstream_up',
    type: 'gauge',
    help: '1 while the upstream is up, 0 while it is connecting, down or closed.',
    samples: perUpstream((upstream) => (upstream.status === 'up' ? 1 : 0)),
  },
  {
    name: 'resilient_syslog_upstream_connects_total',
    type: 'counter',
    help: 'Connections established to the upstream.',
    samples: perUpstream((upstream) => upstream.connects),
  },
  {
    name: 'resilient_syslog_upstream_failures_total',
    type: 'counter',
    help: 'Times the upstream went down after it was up.',
    samples: perUpstream((upstream) => upstream.failures),
  },
  {
    name: 'resilient_syslog_upstream_sent_total',
    type: 'counter',
    help: 'Events written to the upstream, replays included.',
    samples: perUpstream((upstream) => upstream.sent),
  },
  {
    name: 'resilient_syslog_upstream_confirmed_total',
    type: 'counter',
    help: 'Events the upstream confirmed.',
    samples: perUpstream((upstream) => upstream.confirmed),
  },
  {
    name: 'resilient_syslog_upstream_replayed_total',
    type: 'counter',
    help: 'Events handed back for replay when a connection to the upstream failed.',
    samples: perUpstream((upstream) => upstream.replayed),
  },
  {
    name: 'resilient_syslog_upstream_pending',
    type: 'gauge',
    help: 'Events written to the upstream and not yet confirmed.',
    samples: perUpstream((upstream) => upstream.pending),
  },
];

/**
 * Renders one sender's `stats()` in the Prometheus text exposition format (version 0.0.4), with
 * a HELP and a TYPE line per metric family. `labels` are added to every series. Serve the result
 * with `PROMETHEUS_CONTENT_TYPE`. Throws `InvalidOptionError` for an invalid label name or value.
 */
export function renderPrometheus(stats: SenderStats, labels: PrometheusLabels = {}): string {
  return renderPrometheusSources([{ stats, labels }]);
}

/**
 * Renders several senders in one exposition, each family once with the series of every sender.
 * Each source needs labels that differ from every other source's, or their series would clash.
 */
export function renderPrometheusSources(sources: readonly PrometheusSource[]): string {
  const labelSets = sources.map((source, index) => checkLabels(source.labels ?? {}, sources.length > 1 ? `sources[${index}].labels` : 'labels'));
  const seen = new Map<string, number>();
  labelSets.forEach((labels, index) => {
    const key = labelSetKey(labels);
    const first = seen.get(key);
    if (first !== undefined) {
      throw new InvalidOptionError(
        `Invalid sources[${index}].labels ${JSON.stringify(Object.fromEntries(labels))}: sources[${first}] has the same labels; give each sender a distinct label such as { sender: 'billing' }`,
      );
    }
    seen.set(key, index);
  });

  let output = '';
  for (const family of FAMILIES) {
    output += `# HELP ${family.name} ${escapeHelp(family.help)}\n# TYPE ${family.name} ${family.type}\n`;
    sources.forEach((source, index) => {
      for (const sample of family.samples(source.stats)) {
        output += formatSample(family.name, { labels: [...labelSets[index], ...(sample.labels ?? [])], value: sample.value });
      }
    });
  }
  return output;
}

/** Escapes a label value: `\` becomes `\\`, `"` becomes `\"` and LF becomes `\n`. */
export function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (char) => (char === '\n' ? '\\n' : `\\${char}`));
}

/** Escapes HELP text: `\` becomes `\\` and LF becomes `\n`. */
function escapeHelp(text: string): string {
  return text.replace(/[\\\n]/g, (char) => (char === '\n' ? '\\n' : '\\\\'));
}

function formatSample(name: string, sample: Sample): string {
  const labels = sample.labels.map(([label, value]) => `${label}="${escapeLabelValue(value)}"`).join(',');
  return `${name}${labels.length > 0 ? `{${labels}}` : ''} ${formatValue(sample.value)}\n`;
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

/** Returns a key that is the same for two label sets with the same pairs in any order. */
function labelSetKey(labels: ReadonlyArray<readonly [string, string]>): string {
  const names = labels.map(([name]) => name).sort();
  const values = Object.fromEntries(labels);
  return JSON.stringify(names.map((name) => [name, values[name]]));
}

function checkLabels(labels: PrometheusLabels, option: string): Array<[string, string]> {
  if (labels === null || typeof labels !== 'object' || Array.isArray(labels)) {
    throw new InvalidOptionError(
      `Invalid ${option} ${Array.isArray(labels) ? 'an array' : String(labels)}: expected an object of label names to string values`,
    );
  }
  const entries = Object.entries(labels);
  for (const [name, value] of entries) {
    if (!LABEL_NAME.test(name) || name.startsWith('__')) {
      throw new InvalidOptionError(
        `Invalid ${option} name ${JSON.stringify(name)}: a label name matches [a-zA-Z_][a-zA-Z0-9_]* and does not start with '__'`,
      );
    }
    if (RESERVED_LABELS.has(name)) {
      throw new InvalidOptionError(`Invalid ${option} name ${JSON.stringify(name)}: the metrics set this label themselves; choose another name`);
    }
    if (typeof value !== 'string') {
      throw new InvalidOptionError(`Invalid ${option}.${name} ${String(value)}: expected a string`);
    }
  }
  return entries;
}
