/**
 * `suture.yaml` at the root of an application repo (DESIGN.md). Missing fields are detected from the repo:
 * language from its files, the test command from the language, sane sandbox limits.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';
import { SutureError } from '../errors.ts';
import { DEFAULT_HEALTHY_SAMPLES, LIMITS } from '../incident/schema.ts';
import type { Language } from '../incident/types.ts';
import { entryKind, readInTree, splitRepoPath } from '../sandbox/confined.ts';

export const DEFAULT_IMAGE = 'suture-sandbox:bookworm';

const limitsSchema = z
  .object({
    memory: z.string().regex(/^\d+[kmg]?$/i, 'memory like 512m or 1g'),
    cpus: z.number().positive().max(64),
    pids: z.number().int().min(16).max(65536),
    tmp: z.string().regex(/^\d+[kmg]?$/i, 'tmp size like 64m'),
    workspace: z.string().regex(/^\d+[kmg]?$/i, 'workspace size like 1g'),
    stepTimeoutSec: z.number().positive().max(3600),
    // A candidate step may take max(stepFloorSec, stepFactor × the same step on base), at most stepTimeoutSec.
    stepFactor: z.number().min(1).max(100),
    stepFloorSec: z.number().positive().max(3600),
    outputBytes: z
      .number()
      .int()
      .min(1024)
      .max(64 * 1024 * 1024),
  })
  .partial()
  .strict();

/**
 * Differential replay. `samples` (read by src/incident/healthy/): a capture file in the repo, read confined
 * to the tree; `maxSamples`: how many healthy samples are kept; `ignore` (read by the verdict): what a
 * team knows is volatile in healthy answers.
 */
const differentialSchema = z
  .object({
    samples: z
      .string()
      .min(1)
      .max(1024)
      .refine(
        (p) => splitRepoPath(p) !== null && !/[\0-\x1f\x7f]/.test(p),
        'samples must be a path inside the repo, like captures/traffic.har',
      ),
    maxSamples: z.number().int().min(0).max(LIMITS.requests),
    ignore: z.array(z.string().min(1).max(256)).max(64),
  })
  .partial()
  .strict();

/**
 * The repository's say over the LLM strategy: opt out (`llm: false`) or pick among the models the operator
 * allows. Endpoint, key, budgets and thresholds are the operator's alone (environment): a repository that
 * could set them would receive the operator's key and the production evidence.
 */
export const llmSchema = z.union([
  z.boolean(),
  z.object({ enabled: z.boolean().optional(), model: z.string().min(1).max(200).optional() }).strict(),
]);

/**
 * The canary stage's settings the service owns (the backend is the operator's: SUTURE_CANARY, see
 * src/canary/stage-config.ts). `rollout`: the Rollout manifest (default: found in the repo); `rate`,
 * `duration`: the local rehearsal's traffic (requests/s) and its longest run; `bucketSeconds`: the judge's
 * bucket; `judge`: tolerances and the evidence promotion needs, within bounds (alpha/beta stay the operator's).
 */
const repoFile = (key: string, example: string) =>
  z
    .string()
    .min(1)
    .max(1024)
    .refine(
      (p) => splitRepoPath(p) !== null && !/[\0-\x1f\x7f]/.test(p),
      `${key} must be a path inside the repo, like ${example}`,
    );

const canarySchema = z
  .object({
    enabled: z.boolean(),
    rollout: repoFile('rollout', 'deploy/rollout.yaml'),
    dockerfile: repoFile('dockerfile', 'Dockerfile'),
    rate: z.number().positive().max(1000),
    duration: z.number().int().min(5).max(3600),
    bucketSeconds: z.number().int().min(1).max(300),
    namespace: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'namespace must be a Kubernetes name'),
    judge: z
      .object({
        toleranceAbsolute: z.number().min(0).max(0.2),
        toleranceRelative: z.number().min(0).max(5),
        minCanaryRequests: z.number().int().min(10).max(1_000_000),
        minSeconds: z.number().min(1).max(3600),
      })
      .partial()
      .strict(),
  })
  .partial()
  .strict();

export type CanaryConfig = z.infer<typeof canarySchema>;

const configSchema = z
  .object({
    service: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/i, 'service must be a name like cart-api'),
    language: z.enum(['python', 'node']).optional(),
    image: z.string().min(1).optional(),
    install: z.string().optional(),
    test: z.string().min(1).optional(),
    start: z.string().min(1).optional(),
    port: z.number().int().min(1).max(65535).optional(),
    health: z.string().startsWith('/').optional(),
    sourcePaths: z.array(z.string()).optional(),
    limits: limitsSchema.optional(),
    differential: differentialSchema.optional(),
    llm: llmSchema.optional(),
    canary: canarySchema.optional(),
    // The most the repository accepts suture to do on its own (src/pipeline/guardrails.ts); absent: observe.
    autonomy: z.enum(['observe', 'propose', 'auto']).optional(),
    // Guardrails the repository may tighten (never loosen) from the operator's.
    guardrails: z
      .object({
        killSwitch: z.boolean(),
        maxAttempts: z.number().int().min(0).max(100),
        cooldownMinutes: z
          .number()
          .min(0)
          .max(7 * 24 * 60),
        minConfidence: z.number().min(0).max(1),
        autoMergeConfidence: z.number().min(0).max(1),
      })
      .partial()
      .strict()
      .optional(),
    repair: z
      .object({
        // The repository may only shorten the operator's revert window (SUTURE_REVERT_WINDOW_HOURS).
        revertWindowHours: z
          .number()
          .min(0)
          .max(24 * 365),
      })
      .partial()
      .strict()
      .optional(),
  })
  .strict();

export type Limits = Required<z.infer<typeof limitsSchema>>;

export interface DifferentialConfig {
  /** Repo path of an access-log, HAR or JSON-lines capture of healthy traffic. */
  samples?: string;
  maxSamples: number;
  ignore: string[];
}

export interface ServiceConfig {
  /** suture.yaml's `llm` setting, as written (validated); the LLM strategy reads it. */
  llm?: z.infer<typeof llmSchema>;
  /** suture.yaml's `autonomy`: the most the repository accepts; undefined (observe) until it opts in. */
  autonomy?: 'observe' | 'propose' | 'auto';
  /** Guardrails the repository tightens (src/pipeline/guardrails.ts). */
  guardrails?: {
    killSwitch?: boolean;
    maxAttempts?: number;
    cooldownMinutes?: number;
    minConfidence?: number;
    autoMergeConfidence?: number;
  };
  /** Repair settings the repository may tighten (never loosen). */
  repair?: { revertWindowHours?: number };
  service: string;
  language: Language;
  image: string;
  install: string;
  test: string;
  start?: string;
  port: number;
  health: string;
  limits: Limits;
  /** Always set by loadServiceConfig; optional so hand-made configs (tests) need not spell it out. */
  differential?: DifferentialConfig;
  /** suture.yaml's `canary:` section, as written (validated); the canary stage applies the defaults. */
  canary?: CanaryConfig;
}

export const DEFAULT_LIMITS: Limits = {
  memory: '512m',
  cpus: 1,
  pids: 256,
  tmp: '64m',
  // The workspace is a tmpfs (the tree, prepared dependencies, whatever tests write); it also counts
  // against memory, so the container's memory limit is memory + workspace + tmp.
  workspace: '1g',
  // The static step limit: the base run's steps, and the most any candidate step gets.
  stepTimeoutSec: 60,
  // Candidate steps scale with the base run (src/sandbox/step-limits.ts): a looping or fork-bombing
  // candidate fails in seconds, a slow suite keeps the time it takes on base.
  stepFactor: 5,
  stepFloorSec: 5,
  outputBytes: 1024 * 1024,
};

/** The repo's language from its manifests: only regular files count (a symlink is never followed). */
export function detectLanguage(dir: string): Language | undefined {
  if (entryKind(dir, 'package.json') === 'file') return 'node';
  for (const f of ['pyproject.toml', 'requirements.txt', 'setup.py', 'setup.cfg', 'Pipfile']) {
    if (entryKind(dir, f) === 'file') return 'python';
  }
  return undefined;
}

/** suture.yaml is small; anything bigger is not a service config. */
export const CONFIG_MAX_BYTES = 1024 * 1024;

/**
 * The text of the config: `file` is the operator's (trusted, read as given); the repo's own suture.yaml is
 * repo content, read confined to the tree (a symlink to a host file is refused, not followed).
 */
function configText(dir: string, file: string | undefined): string {
  if (file) {
    if (!existsSync(file))
      throw new SutureError('BAD_CONFIG', `${file} not found: add one with at least \`service: <name>\``);
    return readFileSync(file, 'utf8');
  }
  const r = readInTree(dir, 'suture.yaml', CONFIG_MAX_BYTES);
  if (r.ok) return r.data.toString('utf8');
  if (r.reason === 'missing') {
    throw new SutureError(
      'BAD_CONFIG',
      'suture.yaml not found at the repo root: add one with at least `service: <name>`',
    );
  }
  throw new SutureError('BAD_CONFIG', `suture.yaml cannot be read: ${r.message}`);
}

function defaultTest(language: Language): string {
  return language === 'python' ? 'python3 -m pytest -q' : 'node --test';
}

/** Loads and validates suture.yaml from `dir` (or `file`). Throws BAD_CONFIG with one actionable line. */
export function loadServiceConfig(dir: string, file?: string): ServiceConfig {
  const text = configText(dir, file);
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (err) {
    const first = err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err);
    throw new SutureError('BAD_CONFIG', `suture.yaml is not valid YAML: ${first}`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new SutureError('BAD_CONFIG', 'suture.yaml must be a mapping with at least `service: <name>`');
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length ? issue.path.join('.') : '(top level)';
    throw new SutureError('BAD_CONFIG', `suture.yaml: ${where}: ${issue.message}`);
  }
  const c = parsed.data;
  const language = c.language ?? detectLanguage(dir);
  if (!language) {
    throw new SutureError(
      'BAD_CONFIG',
      'suture.yaml: language is missing and could not be detected; set `language: python` or `node`',
    );
  }
  return {
    service: c.service,
    language,
    image: c.image ?? process.env.SUTURE_SANDBOX_IMAGE ?? DEFAULT_IMAGE,
    install: c.install ?? '',
    test: c.test ?? defaultTest(language),
    ...(c.start ? { start: c.start } : {}),
    port: c.port ?? 8080,
    health: c.health ?? '/healthz',
    limits: { ...DEFAULT_LIMITS, ...c.limits },
    differential: {
      ...(c.differential?.samples ? { samples: c.differential.samples } : {}),
      maxSamples: c.differential?.maxSamples ?? DEFAULT_HEALTHY_SAMPLES,
      ignore: c.differential?.ignore ?? [],
    },
    ...(c.llm !== undefined ? { llm: c.llm } : {}),
    ...(c.canary !== undefined ? { canary: c.canary } : {}),
    ...(c.autonomy ? { autonomy: c.autonomy } : {}),
    ...(c.guardrails ? { guardrails: c.guardrails } : {}),
    ...(c.repair?.revertWindowHours !== undefined ? { repair: { revertWindowHours: c.repair.revertWindowHours } } : {}),
  };
}
