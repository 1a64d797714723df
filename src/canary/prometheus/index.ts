/** Prometheus: HTTP API client, a private server for rehearsals, per-version PromQL, judging from history. */
export { createPrometheusClient, type PrometheusClient, PrometheusError, type Sample, type Series } from './client.ts';
export { judgeFromPrometheus, type PrometheusJudgeInput, type PrometheusJudgeResult } from './evaluate.ts';
export {
  bucketsFromRange,
  type CounterSelector,
  createCounterDiff,
  ERRORS_METRIC,
  errorIncreaseQuery,
  errorRatioQuery,
  errorTotalsQuery,
  REQUESTS_METRIC,
  requestIncreaseQuery,
  requestTotalsQuery,
  versionTotals,
} from './queries.ts';
export { type PrometheusServer, startPrometheus } from './server.ts';
