export { SyslogSender } from './sender/syslog-sender.js';
export type { CloseResult, DropEvent, SenderStats, SwitchEvent, SyslogSenderEvents } from './sender/syslog-sender.js';
export type { SyslogSenderOptions } from './sender/options.js';

export { UpstreamPool } from './pool/upstream-pool.js';
export type { UpstreamPoolEvents, UpstreamPoolOptions } from './pool/upstream-pool.js';
export type { UpstreamOptions } from './pool/upstream-config.js';
export { DEFAULT_PORTS } from './pool/upstream-config.js';
export type { ReconnectOptions, Upstream, UpstreamStats, UpstreamStatusChange } from './pool/upstream.js';

export { FailoverStrategy } from './strategy/failover.js';
export type { FailoverStrategyOptions } from './strategy/failover.js';
export { RoundRobinStrategy } from './strategy/round-robin.js';
export type { RoundRobinStrategyOptions } from './strategy/round-robin.js';
export type { Strategy, UpstreamStatus, UpstreamView } from './strategy/strategy.js';

export * from './buffer/index.js';
export * from './format/index.js';

export type { Connection, ConnectionEvents } from './transport/connection.js';
export type { ConnectFunction, ConnectOptions, Framing, Protocol } from './transport/options.js';

export {
  BufferCorruptError,
  BufferIOError,
  ConnectionClosedError,
  ConnectFailedError,
  ConnectTimeoutError,
  DeadlineError,
  InvalidEventError,
  InvalidOptionError,
  RelpProtocolError,
  SenderClosedError,
  StrategyError,
  SyslogError,
  WriteStalledError,
} from './errors.js';

export {
  CHANNEL_NAMES,
  type ChannelName,
  type ConnectErrorMessage,
  type DropMessage,
  type FailoverMessage,
  type ReplayMessage,
  type UpstreamStatusMessage,
} from './diagnostics.js';
export {
  PROMETHEUS_CONTENT_TYPE,
  renderPrometheus,
  renderPrometheusSources,
  type PrometheusLabels,
  type PrometheusSource,
} from './prometheus.js';
