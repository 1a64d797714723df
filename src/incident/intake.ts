/**
 * Intake: a crash report or an Alertmanager v4 payload → `Incident`. Bad input throws InputError with one
 * line naming the problem; a well-formed report without any stack trace still becomes an Incident (the
 * pipeline escalates it).
 */
import { readFile, stat } from 'node:fs/promises';
import type { z } from 'zod';
import { InputError } from '../errors.ts';
import { redact } from '../evidence/redact.ts';
import { fingerprint } from './fingerprint.ts';
import { buildPathIndex, innermostRepoFrame, mapTrace } from './paths.ts';
import { type AlertmanagerPayload, alertmanagerSchema, type CrashReport, crashReportSchema } from './schema.ts';
import { extractRequests, extractTraces } from './stacktrace/index.ts';
import type { Incident, ParsedTrace, RequestSample } from './types.ts';

const MAX_INCIDENT_BYTES = 32 * 1024 * 1024;

/** Reads and JSON-parses an incident file; every failure is one actionable line. */
export async function readIncidentFile(path: string): Promise<unknown> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch {
    throw new InputError(`incident file not found: ${path}`);
  }
  if (size > MAX_INCIDENT_BYTES) throw new InputError(`incident file ${path} is larger than 32 MiB`);
  const text = await readFile(path, 'utf8');
  if (text.trim() === '') throw new InputError(`incident file ${path} is empty`);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new InputError(`incident file ${path} is not JSON: ${(err as Error).message}`);
  }
}

function firstIssue(kind: string, error: z.ZodError): InputError {
  const issue = error.issues[0]!;
  const where = issue.path.length ? issue.path.join('.') : '(top level)';
  return new InputError(`${kind}: ${where}: ${issue.message}`);
}

type Normalised = Omit<Incident, 'id' | 'fingerprint' | 'trace' | 'summary'> & { summary?: string };

function fromCrashReport(r: CrashReport): Normalised {
  return {
    service: r.service,
    environment: r.environment,
    signal: 'crash',
    detectedAt: r.detectedAt ?? new Date().toISOString(),
    ...(r.severity ? { severity: r.severity } : {}),
    logs: r.logs,
    requests: r.requests ?? [],
    healthyRequests: r.healthyRequests ?? [],
    labels: {},
  };
}

const LOG_ANNOTATIONS = ['logs', 'log', 'traceback', 'stacktrace', 'stack', 'exception', 'description', 'message'];

function fromAlertmanager(p: AlertmanagerPayload): Normalised {
  const firing = p.alerts.find((a) => a.status === 'firing') ?? p.alerts[0]!;
  const labels = { ...p.commonLabels, ...firing.labels };
  const service = labels.service ?? labels.app ?? labels['app.kubernetes.io/name'] ?? labels.job;
  if (!service) throw new InputError('alertmanager payload: no service label (service, app or job) on the alert');
  const annotations = { ...p.commonAnnotations, ...firing.annotations };
  const logs = LOG_ANNOTATIONS.map((k) => annotations[k])
    .filter((v): v is string => Boolean(v))
    .join('\n');
  return {
    service,
    environment: labels.environment ?? labels.env ?? labels.namespace ?? 'production',
    signal: 'alert',
    detectedAt: firing.startsAt ?? new Date().toISOString(),
    ...(labels.severity ? { severity: labels.severity } : {}),
    logs,
    requests: [],
    healthyRequests: [],
    labels,
    ...(annotations.summary ? { summary: annotations.summary } : {}),
  };
}

/** Validates the raw document's shape and normalises it; throws InputError naming the first problem. */
export function normaliseIncidentInput(raw: unknown): Normalised {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new InputError('incident must be a JSON object (a crash report or an Alertmanager v4 payload)');
  }
  const doc = raw as Record<string, unknown>;
  if (doc.kind === 'crash') {
    const r = crashReportSchema.safeParse(doc);
    if (!r.success) throw firstIssue('crash report', r.error);
    return fromCrashReport(r.data);
  }
  if ('alerts' in doc || 'version' in doc) {
    const r = alertmanagerSchema.safeParse(doc);
    if (!r.success) throw firstIssue('alertmanager payload', r.error);
    return fromAlertmanager(r.data);
  }
  throw new InputError(
    'incident is neither a crash report ("kind": "crash") nor an Alertmanager v4 payload ("version": "4", "alerts": [...])',
  );
}

/** Picks the trace that explains the crash: the first with in-repo frames, walking into causes if needed. */
export function chooseTrace(traces: ParsedTrace[]): ParsedTrace | undefined {
  for (const t of traces) {
    for (let cur: ParsedTrace | undefined = t; cur; cur = cur.cause) {
      if (innermostRepoFrame(cur)) return cur;
    }
  }
  return traces[0];
}

function sameRequest(a: RequestSample, b: RequestSample): boolean {
  return a.method === b.method && a.path === b.path && (a.body ?? '') === (b.body ?? '');
}

/**
 * Builds the Incident. `repoFiles` (repo-relative paths at the revision being healed) maps trace paths to
 * repo files; it also drives the fingerprint, so the same crash in the same code gets the same one.
 */
export function buildIncident(raw: unknown, repoFiles: string[]): Incident {
  const base = normaliseIncidentInput(raw);
  const index = buildPathIndex(repoFiles);
  const traces = extractTraces(base.logs).map((t) => mapTrace(t, index));
  const trace = chooseTrace(traces);
  const fp = fingerprint(base.service, trace);
  const fromLogs = extractRequests(base.logs).filter((r) => r.status === undefined || r.status >= 500);
  const requests = [...base.requests];
  for (const r of fromLogs) if (!requests.some((q) => sameRequest(q, r))) requests.push(r);
  const where = trace ? innermostRepoFrame(trace) : undefined;
  const summary =
    base.summary ??
    (trace
      ? `${trace.exceptionType}: ${trace.message}`.slice(0, 200) +
        (where ? ` at ${where.repoPath}:${where.line ?? '?'} in ${where.function ?? '?'}` : '')
      : 'no stack trace in the incident');
  const stamp = base.detectedAt.replace(/[^0-9]/g, '').slice(0, 14);
  return {
    ...base,
    id: `${fp.slice(0, 12)}-${stamp || Date.now()}`,
    fingerprint: fp,
    // The summary travels into reports, commit messages and regression tests: never with a secret in it.
    summary: redact(summary).text,
    requests,
    ...(trace ? { trace } : {}),
  };
}
