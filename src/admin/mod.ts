export { AccessLog, combineObservers } from "./access_log.ts";
export {
  Counter,
  EXPOSITION_CONTENT_TYPE,
  Gauge,
  Histogram,
  parseExposition,
  Registry,
  type Sample,
} from "./metrics.ts";
export {
  PROMETHEUS_ISSUER,
  prometheusAllowed,
  type PrometheusAuthType,
  signPrometheusToken,
} from "./prometheus_auth.ts";
export { ServerMetrics, type ServerMetricsOptions } from "./server_metrics.ts";
export { type BucketUsage, UsageScanner, type UsageSnapshot } from "./usage.ts";
export { notifySystemd } from "./systemd_notify.ts";
export { handleHealAdmin, HEAL_PATH, type HealApiOptions, type HealStatus } from "./heal_api.ts";
export { runHealCommand } from "./heal_cli.ts";
