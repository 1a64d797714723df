/**
 * Intake: a crash report or an Alertmanager v4 payload → `Incident`. Bad input throws InputError with one
 * line naming the problem; a well-formed report without any stack trace still becomes an Incident (the
 * pipeline escalates it).
 */
import { open } from 'node:fs/promises';
import type { z } from 'zod';
import { InputError } from '../errors.ts';
import { oneLine, safeLine } from './display.ts';
import { fingerprint } from './fingerprint.ts';
import type { HealthyOptions } from './healthy/index.ts';
import { sameRequest, selectHealthy } from './healthy/select.ts';
import { excerptLogs } from './logs.ts';
import { buildPathIndex, innermostRepoFrame, mapTrace } from './paths.ts';
import { alertRevision } from './revision.ts';
import { sanitiseRequest } from './sanitise.ts';
import {
  type AlertmanagerPayload,
  alertmanagerSchema,
  type CrashReport,
  crashReportSchema,
  DEFAULT_HEALTHY_SAMPLES,
  ENVIRONMENT_LABELS,
  firstLabel,
  LIMITS,
  requestSchema,
  SERVICE_LABELS,
} from './schema.ts';
import { extractHealthyRequests, extractRequests, extractTraces } from './stacktrace/index.ts';
import type { Incident, ParsedTrace, RequestSample } from './types.ts';

/** Bigger files are refused; big logs inside smaller ones are reduced to an excerpt right after parsing. */
export const MAX_INCIDENT_BYTES = 256 * 1024 * 1024;

/** Reads and JSON-parses an incident file (a regular file, read bounded); every failure is one actionable line. */
export async function readIncidentFile(path: string): Promise<unknown> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(
      code === 'ENOENT' ? `incident file not found: ${path}` : `cannot read incident file ${path} (${code})`,
    );
  }
  let text: string;
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw new InputError(`incident file ${path} is not a regular file`);
    const tooBig = () => new InputError(`incident file ${path} is larger than ${MAX_INCIDENT_BYTES / 1024 / 1024} MiB`);
    if (st.size > MAX_INCIDENT_BYTES) throw tooBig();
    // One byte more than the size: a file that grows while read is still bounded.
    const buf = Buffer.allocUnsafe(st.size + 1);
    let n = 0;
    while (n < buf.length) {
      const { bytesRead } = await handle.read(buf, n, buf.length - n, n);
      if (bytesRead === 0) break;
      n += bytesRead;
    }
    if (n > MAX_INCIDENT_BYTES) throw tooBig();
    text = buf.toString('utf8', 0, n);
  } finally {
    await handle.close();
  }
  if (text.trim() === '') throw new InputError(`incident file ${path} is empty`);
  try {
    return JSON.parse(text);
  } catch (err) {
    // V8 quotes the offending input in its message: name only the position.
    const where = /\(line \d+ column \d+\)|at position \d+/.exec((err as Error).message)?.[0];
    throw new InputError(`incident file ${path} is not JSON${where ? ` (${where.replace(/[()]/g, '')})` : ''}`);
  }
}

function firstIssue(kind: string, error: z.ZodError): InputError {
  const issue = error.issues[0]!;
  // Paths hold keys from the payload (label names): one line, short.
  const where = issue.path.length ? oneLine(issue.path.join('.'), 160) : '(top level)';
  return new InputError(`${kind}: ${where}: ${issue.message}`);
}

/** An incident document validated and normalised, before the repo's files map its trace. */
export type IncidentInput = Omit<Incident, 'id' | 'fingerprint' | 'trace' | 'summary'> & { summary?: string };
type Normalised = IncidentInput;

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
    ...(r.revision ? { revision: r.revision } : {}),
  };
}

const LOG_ANNOTATIONS = ['logs', 'log', 'traceback', 'stacktrace', 'stack', 'exception', 'description', 'message'];

function fromAlertmanager(p: AlertmanagerPayload): Normalised {
  const firing = p.alerts.find((a) => a.status === 'firing') ?? p.alerts[0]!;
  const labels = { ...p.commonLabels, ...firing.labels };
  // The schema has checked that this alert names a valid service (and environment, when it names one).
  const service = firstLabel(labels, SERVICE_LABELS)![1];
  const annotations = { ...p.commonAnnotations, ...firing.annotations };
  // The schema has checked its shape.
  const revision = alertRevision(labels, annotations)?.[2];
  const logs = LOG_ANNOTATIONS.map((k) => annotations[k])
    .filter((v): v is string => Boolean(v))
    .join('\n');
  return {
    service,
    environment: firstLabel(labels, ENVIRONMENT_LABELS)?.[1] ?? 'production',
    signal: 'alert',
    detectedAt: firing.startsAt ?? new Date().toISOString(),
    ...(labels.severity ? { severity: labels.severity } : {}),
    logs,
    requests: [],
    healthyRequests: [],
    labels,
    ...(annotations.summary ? { summary: annotations.summary } : {}),
    ...(revision ? { revision } : {}),
  };
}

/**
 * Validates the raw document's shape and normalises it; throws InputError naming the first problem. The
 * logs come back reduced to a bounded excerpt.
 */
export function normaliseIncidentInput(raw: unknown): Normalised {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new InputError('incident must be a JSON object (a crash report or an Alertmanager v4 payload)');
  }
  const doc = raw as Record<string, unknown>;
  let base: Normalised;
  if (doc.kind === 'crash') {
    const r = crashReportSchema.safeParse(doc);
    if (!r.success) throw firstIssue('crash report', r.error);
    base = fromCrashReport(r.data);
  } else if ('alerts' in doc || 'version' in doc) {
    const r = alertmanagerSchema.safeParse(doc);
    if (!r.success) throw firstIssue('alertmanager payload', r.error);
    base = fromAlertmanager(r.data);
  } else {
    throw new InputError(
      'incident is neither a crash report ("kind": "crash") nor an Alertmanager v4 payload ("version": "4", "alerts": [...])',
    );
  }
  return { ...base, logs: excerptLogs(base.logs) };
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

/** Requests recovered from log lines are best effort: one the crash-report schema would refuse is skipped. */
function withinLimits(r: RequestSample): boolean {
  return requestSchema.safeParse(r).success;
}

/**
 * Builds the Incident. `repoFiles` (repo-relative paths at the revision being healed) maps trace paths to
 * repo files; it also drives the fingerprint, so the same crash in the same code gets the same one.
 * Request samples leave intake sanitised (allow-listed headers, redacted bodies and paths). Healthy
 * samples come from the report, `healthy.capture` and the logs (./healthy/), at most `healthy.maxHealthy`.
 */
export function buildIncident(
  raw: unknown,
  repoFiles: string[],
  healthy: HealthyOptions = { maxHealthy: DEFAULT_HEALTHY_SAMPLES },
): Incident {
  return buildIncidentFrom(normaliseIncidentInput(raw), repoFiles, healthy);
}

/**
 * buildIncident from a document already normalised: heal reads the revision from it first, and the
 * revision decides which files `repoFiles` lists.
 */
export function buildIncidentFrom(
  base: IncidentInput,
  repoFiles: string[],
  healthy: HealthyOptions = { maxHealthy: DEFAULT_HEALTHY_SAMPLES },
): Incident {
  const index = buildPathIndex(repoFiles);
  const traces = extractTraces(base.logs).map((t) => mapTrace(t, index));
  const trace = chooseTrace(traces);
  const fp = fingerprint(base.service, trace);
  const fromLogs = extractRequests(base.logs).filter(
    (r) => (r.status === undefined || r.status >= 500) && withinLimits(r),
  );
  const requests: RequestSample[] = [];
  for (const r of [...base.requests, ...fromLogs].map(sanitiseRequest)) {
    if (requests.length < LIMITS.requests && !requests.some((q) => sameRequest(q, r))) requests.push(r);
  }
  const chosen = selectHealthy(
    [
      { source: 'report', samples: base.healthyRequests },
      ...(healthy.capture ? [healthy.capture] : []),
      { source: 'logs', samples: extractHealthyRequests(base.logs) },
    ],
    requests,
    healthy.maxHealthy,
  );
  const where = trace ? innermostRepoFrame(trace) : undefined;
  // The summary travels into reports, commit messages and regression tests: one line, never a secret.
  const summary =
    base.summary !== undefined
      ? safeLine(base.summary)
      : trace
        ? safeLine(`${trace.exceptionType}: ${trace.message}`, 200) +
          (where ? ` ${safeLine(`at ${where.repoPath}:${where.line ?? '?'} in ${where.function ?? '?'}`, 100)}` : '')
        : 'no stack trace in the incident';
  const stamp = base.detectedAt.replace(/[^0-9]/g, '').slice(0, 14);
  return {
    ...base,
    id: `${fp.slice(0, 12)}-${stamp || Date.now()}`,
    fingerprint: fp,
    summary,
    requests,
    healthyRequests: chosen.samples,
    healthySources: chosen.sources,
    ...(trace ? { trace } : {}),
  };
}
