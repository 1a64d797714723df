/** The two accepted incident inputs (DESIGN.md): a suture crash report and an Alertmanager v4 webhook payload. */
import { z } from 'zod';

const requestSchema = z.object({
  method: z.string().min(1).max(16),
  path: z.string().startsWith('/', 'request path must start with /'),
  headers: z.record(z.string(), z.string()).optional(),
  body: z.string().optional(),
  status: z.number().int().min(100).max(599).optional(),
});

export const crashReportSchema = z.object({
  kind: z.literal('crash'),
  service: z.string().min(1, 'service must not be empty'),
  environment: z.string().default('production'),
  severity: z.string().optional(),
  detectedAt: z.string().optional(),
  logs: z.string(),
  requests: z.array(requestSchema).optional(),
  healthyRequests: z.array(requestSchema).optional(),
});

const alertSchema = z.object({
  status: z.enum(['firing', 'resolved']),
  labels: z.record(z.string(), z.string()),
  annotations: z.record(z.string(), z.string()).default({}),
  startsAt: z.string().optional(),
  endsAt: z.string().optional(),
  generatorURL: z.string().optional(),
  fingerprint: z.string().optional(),
});

export const alertmanagerSchema = z.object({
  version: z.literal('4'),
  status: z.enum(['firing', 'resolved']),
  receiver: z.string().optional(),
  groupKey: z.string().optional(),
  groupLabels: z.record(z.string(), z.string()).default({}),
  commonLabels: z.record(z.string(), z.string()).default({}),
  commonAnnotations: z.record(z.string(), z.string()).default({}),
  externalURL: z.string().optional(),
  alerts: z.array(alertSchema).min(1, 'alerts must not be empty'),
});

export type CrashReport = z.infer<typeof crashReportSchema>;
export type AlertmanagerPayload = z.infer<typeof alertmanagerSchema>;
