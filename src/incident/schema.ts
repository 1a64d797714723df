/**
 * The two accepted incident inputs (DESIGN.md): a suture crash report and an Alertmanager v4 webhook payload.
 * Everything in them is attacker-controlled (anyone who can make a service log or reach `POST /alerts`), so
 * the schemas bound every field and validate the names that end up in branch names, file paths, policy
 * input and commit subjects the way suture.yaml's `service` is validated.
 */
import { z } from 'zod';
import { alertRevision, REVISION_MAX, revisionProblem } from './revision.ts';

/** Size limits on intake; exceeding one is bad input with a one-line error naming the field. */
export const LIMITS = {
  /** service and environment: like suture.yaml's service (and a DNS label). */
  identifier: 63,
  /** requests and healthyRequests, each. */
  requests: 50,
  method: 16,
  path: 8 * 1024,
  headers: 64,
  headerName: 128,
  headerValue: 8 * 1024,
  /** What the sandbox is proven to replay (test/sandbox/large-inputs.test.ts). */
  body: 1024 * 1024,
  /** labels / annotations per map. */
  labels: 64,
  labelName: 128,
  labelValue: 1024,
  annotationValue: 1024 * 1024,
  /** severity, detectedAt, receiver and other short strings. */
  short: 128,
} as const;

/**
 * Healthy samples kept per incident unless suture.yaml says otherwise (`differential.maxSamples`, at most
 * `LIMITS.requests`): each one is replayed on base and on every candidate.
 */
export const DEFAULT_HEALTHY_SAMPLES = 20;

export const IDENTIFIER = /^[a-z0-9][a-z0-9._-]*$/i;

export function isIdentifier(value: string): boolean {
  return value.length <= LIMITS.identifier && IDENTIFIER.test(value);
}

const identifierRule = `a name like cart-api (letters, digits, . _ -; at most ${LIMITS.identifier} characters)`;

const identifier = (what: string) =>
  z
    .string()
    .min(1, `${what} must not be empty`)
    .max(LIMITS.identifier, `${what} must be ${identifierRule}`)
    .regex(IDENTIFIER, `${what} must be ${identifierRule}`);

const short = z.string().max(LIMITS.short, `at most ${LIMITS.short} characters`);

/** An HTTP token (RFC 9110): header names and methods. */
const HTTP_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

const headersSchema = z
  .record(
    z
      .string()
      .max(LIMITS.headerName, `header names are at most ${LIMITS.headerName} characters`)
      .regex(HTTP_TOKEN, 'header names are HTTP tokens'),
    z
      .string()
      .max(LIMITS.headerValue, `header values are at most ${LIMITS.headerValue} bytes`)
      .regex(/^[^\r\n\0]*$/, 'header values hold no CR, LF or NUL'),
  )
  .refine((h) => Object.keys(h).length <= LIMITS.headers, `at most ${LIMITS.headers} headers per request`);

export const requestSchema = z.object({
  method: z.string().min(1).max(LIMITS.method).regex(HTTP_TOKEN, 'method must be an HTTP method like POST'),
  path: z
    .string()
    .startsWith('/', 'request path must start with /')
    .max(LIMITS.path, `request path is at most ${LIMITS.path} characters`)
    .regex(/^[^\s\0-\x1f\x7f]*$/, 'request path holds no whitespace or control characters'),
  headers: headersSchema.optional(),
  body: z
    .string()
    .max(LIMITS.body, `request body is at most ${LIMITS.body / 1024} KiB`)
    .optional(),
  status: z.number().int().min(100).max(599).optional(),
});

const requestList = z.array(requestSchema).max(LIMITS.requests, `at most ${LIMITS.requests} requests`);

export const crashReportSchema = z.object({
  kind: z.literal('crash'),
  service: identifier('service'),
  environment: identifier('environment').default('production'),
  severity: short.optional(),
  detectedAt: short.optional(),
  /** Unbounded here: the file is bounded on reading and the logs reduced to an excerpt right after. */
  logs: z.string(),
  requests: requestList.optional(),
  healthyRequests: requestList.optional(),
  /** The commit the crashing version was built from; heal works from it (src/incident/revision.ts). */
  revision: z
    .string()
    .max(REVISION_MAX, `revision must be at most ${REVISION_MAX} characters`)
    .superRefine((v, ctx) => {
      const problem = revisionProblem(v);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .optional(),
});

const labelMap = (valueMax: number, what: string) =>
  z
    .record(
      z.string().max(LIMITS.labelName, `${what} names are at most ${LIMITS.labelName} characters`),
      z.string().max(valueMax, `${what} values are at most ${valueMax} characters`),
    )
    .refine((m) => Object.keys(m).length <= LIMITS.labels, `at most ${LIMITS.labels} ${what}s`);
const labels = labelMap(LIMITS.labelValue, 'label');
const annotations = labelMap(LIMITS.annotationValue, 'annotation');

/** Labels that name the service, in order of preference; and the environment. */
export const SERVICE_LABELS = ['service', 'app', 'app.kubernetes.io/name', 'job'] as const;
export const ENVIRONMENT_LABELS = ['environment', 'env', 'namespace'] as const;

/** The first of `names` present in `labels`, as [name, value]. */
export function firstLabel(labels: Record<string, string>, names: readonly string[]): [string, string] | undefined {
  for (const n of names) if (labels[n]) return [n, labels[n]];
  return undefined;
}

const alertSchema = z.object({
  status: z.enum(['firing', 'resolved']),
  labels,
  annotations: annotations.default({}),
  startsAt: short.optional(),
  endsAt: short.optional(),
  generatorURL: z.string().max(LIMITS.labelValue).optional(),
  fingerprint: short.optional(),
});

export const alertmanagerSchema = z
  .object({
    version: z.literal('4'),
    status: z.enum(['firing', 'resolved']),
    receiver: short.optional(),
    groupKey: z.string().max(LIMITS.labelValue).optional(),
    groupLabels: labels.default({}),
    commonLabels: labels.default({}),
    commonAnnotations: annotations.default({}),
    externalURL: z.string().max(LIMITS.labelValue).optional(),
    alerts: z.array(alertSchema).min(1, 'alerts must not be empty'),
  })
  .superRefine((p, ctx) => {
    // The alerts that become incidents need a service; every service or environment given must be a name.
    const firing = p.alerts.some((a) => a.status === 'firing');
    p.alerts.forEach((alert, i) => {
      const merged = { ...p.commonLabels, ...alert.labels };
      const service = firstLabel(merged, SERVICE_LABELS);
      const environment = firstLabel(merged, ENVIRONMENT_LABELS);
      if (!service && (alert.status === 'firing' || (!firing && i === 0))) {
        ctx.addIssue({
          code: 'custom',
          path: ['alerts', i, 'labels'],
          message: 'no service label (service, app or job) on the alert',
        });
      }
      // The revision heal will check out: labels and annotations of the alert a heal reads, validated alike.
      const revision = alertRevision(merged, { ...p.commonAnnotations, ...alert.annotations });
      const revisionIssue = revision && revisionProblem(revision[2]);
      if (revision && revisionIssue) {
        ctx.addIssue({
          code: 'custom',
          path: ['alerts', i, revision[0], revision[1]],
          message: `the ${revision[1]} ${revision[0] === 'labels' ? 'label' : 'annotation'} ${revisionIssue}`,
        });
      }
      for (const [label, what] of [
        [service, 'service'],
        [environment, 'environment'],
      ] as const) {
        if (label && !isIdentifier(label[1])) {
          ctx.addIssue({
            code: 'custom',
            path: ['alerts', i, 'labels', label[0]],
            message: `the ${what} label must be ${identifierRule}`,
          });
        }
      }
    });
  });

export type CrashReport = z.infer<typeof crashReportSchema>;
export type AlertmanagerPayload = z.infer<typeof alertmanagerSchema>;
