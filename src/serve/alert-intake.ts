/**
 * What POST /alerts decides before anything is queued, without I/O: the payload's shape, the number of
 * alerts, each firing alert validated as the incident `heal` would read (`normaliseIncidentInput`), and the
 * key that folds repeats of the same alert into one heal.
 */
import { createHash } from 'node:crypto';
import { errorMessage, SutureError } from '../errors.ts';
import { normaliseIncidentInput } from '../incident/intake.ts';
import { type AlertmanagerPayload, alertmanagerSchema } from '../incident/schema.ts';
import { HttpError } from './http-error.ts';

export interface AcceptedAlert {
  /** Fold key: alerts with the same key are one heal. */
  key: string;
  service: string;
  /** The incident document a heal reads: the payload narrowed to this one alert (not yet redacted). */
  doc: AlertmanagerPayload;
}

export interface AlertIntake {
  firing: AcceptedAlert[];
  /** Resolved alerts in the payload; nothing heals them. */
  resolved: number;
}

/**
 * Validates a webhook body. Throws HttpError 400 naming the first problem; one bad firing alert refuses
 * the whole payload, so a sender never has to guess which of its alerts were taken.
 */
export function readAlertPayload(body: unknown, maxAlerts: number): AlertIntake {
  const parsed = alertmanagerSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const [top, index, ...rest] = issue.path;
    if (top === 'alerts' && typeof index === 'number') {
      const where = rest.length > 0 ? `${rest.join('.')}: ` : '';
      throw badAlert(index, (body as { alerts: unknown[] }).alerts[index], `${where}${issue.message}`);
    }
    throw new HttpError(400, `alertmanager payload: ${issue.path.join('.') || '(top level)'}: ${issue.message}`, {
      reason: 'bad_payload',
    });
  }
  const payload = parsed.data;
  if (payload.alerts.length > maxAlerts) {
    throw new HttpError(
      400,
      `alertmanager payload: ${payload.alerts.length} alerts, at most ${maxAlerts} per request (set max_alerts on the webhook receiver)`,
      { reason: 'too_many_alerts' },
    );
  }
  const firing: AcceptedAlert[] = [];
  for (const [i, alert] of payload.alerts.entries()) {
    if (alert.status !== 'firing') continue;
    const doc = { ...payload, alerts: [alert] };
    let incident: ReturnType<typeof normaliseIncidentInput>;
    try {
      incident = normaliseIncidentInput(doc);
    } catch (err) {
      if (!(err instanceof SutureError) || err.exitCode !== 2) throw err;
      throw badAlert(i, alert, errorMessage(err).replace(/^alertmanager payload: (alerts\.0\.)?/, ''));
    }
    firing.push({ key: foldKey(incident), service: incident.service, doc });
  }
  return { firing, resolved: payload.alerts.length - firing.length };
}

/** 400 naming the alert by its index and, when it has a string one, its (shortened) alertname. */
function badAlert(index: number, alert: unknown, problem: string): HttpError {
  const name = (alert as { labels?: { alertname?: unknown } } | null)?.labels?.alertname;
  const named = typeof name === 'string' && name ? ` (alertname ${JSON.stringify(name.slice(0, 60))})` : '';
  return new HttpError(400, `alerts[${index}]${named}: ${problem}`, { reason: 'bad_alert' });
}

/**
 * The fold key: a hash of everything a heal reads from the alert (service, environment, labels, logs,
 * summary, …), never a field the sender names. An alert can only fold into one with the same content,
 * whose heal is the same heal; a forged `fingerprint` or a guessed key cannot swallow a different alert.
 * `detectedAt` is left out so Alertmanager's repeats of one firing alert fold.
 */
export function foldKey(incident: Record<string, unknown>): string {
  const { detectedAt: _, ...content } = incident;
  return createHash('sha256').update(canonicalJson(content)).digest('hex');
}

/** JSON with object keys sorted at every level, so equal content hashes equally whatever its key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
