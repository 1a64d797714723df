/**
 * The files the demo writes for the programs it starts (pure): Prometheus with the alerting rule on the
 * service's 5xx rate, Alertmanager routing to `suture serve`, and the operator's GitOps config pointing
 * at the local config repo.
 */

export const ALERT_NAME = 'PricingApiErrors';

/** Prometheus: scrape the service every second, evaluate the rule every second, send to Alertmanager. */
export function prometheusConfig(o: { service: string; alertmanager: string; rules: string }): string {
  return [
    'global:',
    '  scrape_interval: 1s',
    '  evaluation_interval: 1s',
    'rule_files:',
    `  - ${JSON.stringify(o.rules)}`,
    'alerting:',
    '  alertmanagers:',
    `    - static_configs: [{ targets: [${JSON.stringify(o.alertmanager)}] }]`,
    'scrape_configs:',
    '  - job_name: pricing-api',
    '    scrape_timeout: 1s',
    `    static_configs: [{ targets: [${JSON.stringify(o.service)}] }]`,
    '',
  ].join('\n');
}

/**
 * The rule: more than 2 % of requests answered 5xx over the last 10 s. Joined with the service's
 * `pricing_crash_info` series (one per kind of crash, labelled with its first log line), so each kind of
 * crash is its own alert and carries its log line — the evidence suture needs — as the `logs` annotation.
 */
export function alertRules(): string {
  const ratio =
    'sum(rate(pricing_http_requests_total{code=~"5.."}[10s])) / sum(rate(pricing_http_requests_total[10s]))';
  return [
    'groups:',
    '  - name: pricing-api',
    '    rules:',
    `      - alert: ${ALERT_NAME}`,
    `        expr: 'max by (crash, log) (pricing_crash_info) * on() group_left() (${ratio}) > 0.02'`,
    '        labels: { service: pricing-api, severity: critical, environment: production }',
    '        annotations:',
    "          summary: 'pricing-api answers 5xx to {{ $value | humanizePercentage }} of requests'",
    "          logs: '{{ $labels.log }}'",
    '',
  ].join('\n');
}

/** Alertmanager: every alert to suture serve's POST /alerts at once, with the bearer token from a file. */
export function alertmanagerConfig(o: { alertsUrl: string; tokenFile: string }): string {
  return [
    'route:',
    '  receiver: suture',
    "  group_by: ['alertname', 'service', 'crash']",
    '  group_wait: 0s',
    '  group_interval: 1s',
    '  repeat_interval: 1h',
    'receivers:',
    '  - name: suture',
    '    webhook_configs:',
    `      - url: ${JSON.stringify(o.alertsUrl)}`,
    '        send_resolved: false',
    '        max_alerts: 10',
    '        http_config:',
    '          authorization:',
    '            type: Bearer',
    `            credentials_file: ${JSON.stringify(o.tokenFile)}`,
    '',
  ].join('\n');
}

export const VALUES_FILE = 'apps/pricing-api/values.yaml';

/** The config repo's values file for the service: the image Argo CD (here: the demo) deploys. */
export function valuesFile(repository: string, tag: string): string {
  return `# pricing-api in production: suture bumps image.tag when a fix ships\nimage:\n  repository: ${repository}\n  tag: ${JSON.stringify(tag)}\n`;
}

/** The operator's GitOps config (SUTURE_GITOPS_CONFIG): the config repo and where the service's tag lives. */
export function operatorConfig(configRepo: string): string {
  return [
    'repository:',
    `  url: ${JSON.stringify(configRepo)}`,
    '  branch: main',
    'services:',
    '  pricing-api:',
    `    file: ${VALUES_FILE}`,
    '    helm: { tag: image.tag }',
    '',
  ].join('\n');
}

/** The image `repository:tag` a values file names, or null when it names none. */
export function imageOfValues(text: string): string | null {
  const repo = /^\s+repository:\s*"?([^"\s#]+)"?/m.exec(text)?.[1];
  const tag = /^\s+tag:\s*"?([^"\s#]+)"?/m.exec(text)?.[1];
  if (!repo || !tag) return null;
  // A bump may write a whole reference into the tag; then it stands alone.
  return tag.includes(':') || tag.includes('/') ? tag : `${repo}:${tag}`;
}
