import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidOptionError } from '../src/errors.js';
import { PROMETHEUS_CONTENT_TYPE, escapeLabelValue, renderPrometheus, renderPrometheusSources } from '../src/prometheus.js';
import type { SenderStats } from '../src/sender/syslog-sender.js';
import { TestCollector } from './helpers/collector.js';
import { createSender } from './helpers/sender.js';

const STATS: SenderStats = {
  accepted: 1200,
  sent: 1150,
  confirmed: 1000,
  replayed: 50,
  dropped: { full: 3, 'io-error': 0, oversize: 1, closed: 2 },
  pending: 200,
  inFlight: 150,
  truncated: 4,
  sdParamsDropped: 5,
  queue: { records: 200, bytes: 40960, dropped: 4 },
  upstreams: [
    { target: 'tcp://127.0.0.1:5140', status: 'up', connects: 2, failures: 1, sent: 1100, confirmed: 1000, replayed: 50, pending: 100 },
    { target: 'udp://127.0.0.1:5141', status: 'down', reason: 'connect ECONNREFUSED', connects: 0, failures: 0, sent: 50, confirmed: 0, replayed: 0, pending: 0 },
  ],
};

const EXPECTED = `# HELP resilient_syslog_events_accepted_total Events taken by send().
# TYPE resilient_syslog_events_accepted_total counter
resilient_syslog_events_accepted_total{service="billing"} 1200
# HELP resilient_syslog_events_sent_total Events written to a connection, replays included.
# TYPE resilient_syslog_events_sent_total counter
resilient_syslog_events_sent_total{service="billing"} 1150
# HELP resilient_syslog_events_confirmed_total Events confirmed by a collector and removed from the queue.
# TYPE resilient_syslog_events_confirmed_total counter
resilient_syslog_events_confirmed_total{service="billing"} 1000
# HELP resilient_syslog_events_replayed_total Events handed back by a failed connection and sent again, so each may arrive twice.
# TYPE resilient_syslog_events_replayed_total counter
resilient_syslog_events_replayed_total{service="billing"} 50
# HELP resilient_syslog_events_dropped_total Events dropped, by reason: full, io-error, oversize, or closed (sent after close()).
# TYPE resilient_syslog_events_dropped_total counter
resilient_syslog_events_dropped_total{service="billing",reason="full"} 3
resilient_syslog_events_dropped_total{service="billing",reason="io-error"} 0
resilient_syslog_events_dropped_total{service="billing",reason="oversize"} 1
resilient_syslog_events_dropped_total{service="billing",reason="closed"} 2
# HELP resilient_syslog_messages_truncated_total Messages cut to maxMessageBytes, and datagrams cut to an upstream size cap.
# TYPE resilient_syslog_messages_truncated_total counter
resilient_syslog_messages_truncated_total{service="billing"} 4
# HELP resilient_syslog_sd_params_dropped_total Structured-data parameters dropped because their names break RFC 5424.
# TYPE resilient_syslog_sd_params_dropped_total counter
resilient_syslog_sd_params_dropped_total{service="billing"} 5
# HELP resilient_syslog_events_pending Events accepted and not yet confirmed.
# TYPE resilient_syslog_events_pending gauge
resilient_syslog_events_pending{service="billing"} 200
# HELP resilient_syslog_events_in_flight Events written to a connection and not yet confirmed.
# TYPE resilient_syslog_events_in_flight gauge
resilient_syslog_events_in_flight{service="billing"} 150
# HELP resilient_syslog_queue_records Records in the queue (memory or DiskBuffer), read or not, until confirmed.
# TYPE resilient_syslog_queue_records gauge
resilient_syslog_queue_records{service="billing"} 200
# HELP resilient_syslog_queue_bytes UTF-8 bytes of the records in the queue.
# TYPE resilient_syslog_queue_bytes gauge
resilient_syslog_queue_bytes{service="billing"} 40960
# HELP resilient_syslog_upstream_up 1 while the upstream is up, 0 while it is connecting, down or closed.
# TYPE resilient_syslog_upstream_up gauge
resilient_syslog_upstream_up{service="billing",upstream="tcp://127.0.0.1:5140"} 1
resilient_syslog_upstream_up{service="billing",upstream="udp://127.0.0.1:5141"} 0
# HELP resilient_syslog_upstream_connects_total Connections established to the upstream.
# TYPE resilient_syslog_upstream_connects_total counter
resilient_syslog_upstream_connects_total{service="billing",upstream="tcp://127.0.0.1:5140"} 2
resilient_syslog_upstream_connects_total{service="billing",upstream="udp://127.0.0.1:5141"} 0
# HELP resilient_syslog_upstream_failures_total Times the upstream went down after it was up.
# TYPE resilient_syslog_upstream_failures_total counter
resilient_syslog_upstream_failures_total{service="billing",upstream="tcp://127.0.0.1:5140"} 1
resilient_syslog_upstream_failures_total{service="billing",upstream="udp://127.0.0.1:5141"} 0
# HELP resilient_syslog_upstream_sent_total Events written to the upstream, replays included.
# TYPE resilient_syslog_upstream_sent_total counter
resilient_syslog_upstream_sent_total{service="billing",upstream="tcp://127.0.0.1:5140"} 1100
resilient_syslog_upstream_sent_total{service="billing",upstream="udp://127.0.0.1:5141"} 50
# HELP resilient_syslog_upstream_confirmed_total Events the upstream confirmed.
# TYPE resilient_syslog_upstream_confirmed_total counter
resilient_syslog_upstream_confirmed_total{service="billing",upstream="tcp://127.0.0.1:5140"} 1000
resilient_syslog_upstream_confirmed_total{service="billing",upstream="udp://127.0.0.1:5141"} 0
# HELP resilient_syslog_upstream_replayed_total Events handed back for replay when a connection to the upstream failed.
# TYPE resilient_syslog_upstream_replayed_total counter
resilient_syslog_upstream_replayed_total{service="billing",upstream="tcp://127.0.0.1:5140"} 50
resilient_syslog_upstream_replayed_total{service="billing",upstream="udp://127.0.0.1:5141"} 0
# HELP resilient_syslog_upstream_pending Events written to the upstream and not yet confirmed.
# TYPE resilient_syslog_upstream_pending gauge
resilient_syslog_upstream_pending{service="billing",upstream="tcp://127.0.0.1:5140"} 100
resilient_syslog_upstream_pending{service="billing",upstream="udp://127.0.0.1:5141"} 0
`;

test('Prometheus - renders stats exactly', () => {
  assert.equal(renderPrometheus(STATS, { service: 'billing' }), EXPECTED);
});

test('Prometheus - renders without labels', () => {
  const text = renderPrometheus(STATS);
  assert.match(text, /^resilient_syslog_events_accepted_total 1200$/m);
  assert.match(text, /^resilient_syslog_events_dropped_total\{reason="full"\} 3$/m);
  assert.match(text, /^resilient_syslog_upstream_up\{upstream="tcp:\/\/127\.0\.0\.1:5140"\} 1$/m);
  assert.equal(text, EXPECTED.replaceAll('{service="billing"}', '').replaceAll('service="billing",', ''));
});

test('Prometheus - escapes label values', () => {
  assert.equal(escapeLabelValue('a\\b"c\nd'), 'a\\\\b\\"c\\nd');
  assert.equal(escapeLabelValue('Grüße'), 'Grüße');
  const text = renderPrometheus(
    { ...STATS, upstreams: [{ ...STATS.upstreams[0], target: 'tcp://[::1]:5140' }] },
    { path: 'C:\\logs\\"new"\nline' },
  );
  assert.match(text, /^resilient_syslog_events_accepted_total\{path="C:\\\\logs\\\\\\"new\\"\\nline"\} 1200$/m);
  assert.match(text, /^resilient_syslog_upstream_up\{path="C:\\\\logs\\\\\\"new\\"\\nline",upstream="tcp:\/\/\[::1\]:5140"\} 1$/m);
});

test('Prometheus - writes special numbers', () => {
  const text = renderPrometheus({ ...STATS, pending: Number.NaN, inFlight: Number.POSITIVE_INFINITY, accepted: Number.NEGATIVE_INFINITY });
  assert.match(text, /^resilient_syslog_events_pending NaN$/m);
  assert.match(text, /^resilient_syslog_events_in_flight \+Inf$/m);
  assert.match(text, /^resilient_syslog_events_accepted_total -Inf$/m);
});

test('Prometheus - renders several senders once per family', () => {
  const text = renderPrometheusSources([
    { stats: STATS, labels: { sender: 'audit' } },
    { stats: { ...STATS, accepted: 7 }, labels: { sender: 'billing' } },
  ]);
  assert.equal(text.match(/^# TYPE resilient_syslog_events_accepted_total counter$/gm)?.length, 1);
  assert.match(text, /^resilient_syslog_events_accepted_total\{sender="audit"\} 1200\nresilient_syslog_events_accepted_total\{sender="billing"\} 7$/m);
  assert.equal(text.match(/^resilient_syslog_upstream_up\{/gm)?.length, 4);
});

test('Prometheus - rejects invalid labels', () => {
  const cases: Array<[() => string, RegExp]> = [
    [() => renderPrometheus(STATS, { '1bad': 'x' }), /^Invalid labels name "1bad": a label name matches/],
    [() => renderPrometheus(STATS, { 'a-b': 'x' }), /^Invalid labels name "a-b"/],
    [() => renderPrometheus(STATS, { __name: 'x' }), /^Invalid labels name "__name": .*does not start with '__'$/],
    [() => renderPrometheus(STATS, { upstream: 'x' }), /^Invalid labels name "upstream": the metrics set this label themselves/],
    [() => renderPrometheus(STATS, { reason: 'x' }), /^Invalid labels name "reason"/],
    [() => renderPrometheus(STATS, { sender: 3 as never }), /^Invalid labels\.sender 3: expected a string$/],
    [() => renderPrometheus(STATS, ['x'] as never), /^Invalid labels an array: expected an object of label names to string values$/],
    [
      () => renderPrometheusSources([{ stats: STATS, labels: { a: '1', b: '2' } }, { stats: STATS, labels: { b: '2', a: '1' } }]),
      /^Invalid sources\[1\]\.labels \{"b":"2","a":"1"\}: sources\[0\] has the same labels/,
    ],
    [() => renderPrometheusSources([{ stats: STATS }, { stats: STATS }]), /^Invalid sources\[1\]\.labels \{\}/],
  ];
  for (const [render, message] of cases) {
    assert.throws(render, (error: unknown) => {
      assert.ok(error instanceof InvalidOptionError, `${String(message)} threw ${String(error)}`);
      assert.equal(error.code, 'ERR_SYSLOG_INVALID_OPTION');
      assert.match(error.message, message);
      return true;
    });
  }
});

test('Prometheus - renders a running sender', async () => {
  const collector = await TestCollector.start();
  const sender = createSender([`tcp://127.0.0.1:${collector.port}`]);
  try {
    for (let n = 1; n <= 10; n += 1) sender.send(`event ${n}`);
    await collector.waitForFrames(10);
    const text = renderPrometheus(sender.stats(), { service: 'test' });
    assert.match(text, /^resilient_syslog_events_accepted_total\{service="test"\} 10$/m);
    assert.match(text, /^resilient_syslog_events_sent_total\{service="test"\} 10$/m);
    assert.match(text, new RegExp(`^resilient_syslog_upstream_up\\{service="test",upstream="tcp://127\\.0\\.0\\.1:${collector.port}"\\} 1$`, 'm'));
    // Every line is a comment or a sample: name, optional labels, one value.
    for (const line of text.trimEnd().split('\n')) {
      assert.match(line, /^(# (HELP|TYPE) [a-z_]+ .+|[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? (\d+|NaN|[+-]Inf))$/, line);
    }
    assert.equal(PROMETHEUS_CONTENT_TYPE, 'text/plain; version=0.0.4; charset=utf-8');
  } finally {
    await sender.close(1_000);
    await collector.close();
  }
});
