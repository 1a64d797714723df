/**
 * Who may configure the LLM strategy, and with what. Pure.
 *
 * The endpoint, the key and every limit come from the operator's environment only. suture.yaml is
 * repository content — attacker-controlled in suture's threat model — and a repository that could name the
 * base URL would receive the operator's API key and the incident's evidence (production logs, request
 * samples); one that could lower the confidence threshold or raise the token budget would turn the
 * operator's safety and cost limits into its own. So suture.yaml may only narrow what the operator allows:
 * opt out (`llm: false`: its owners may not want their code sent to a model, and saying so can only reduce
 * exposure), or pick one of the models the operator listed (`llm: {model: …}`), each of which the operator
 * already approved for this endpoint and budget.
 */
import type { z } from 'zod';
import { llmSchema } from '../../../config/service.ts';
import { SutureError } from '../../../errors.ts';

export interface LlmSettings {
  /** OpenAI-compatible base URL, e.g. https://api.openai.com/v1, http://127.0.0.1:11434/v1 (Ollama). */
  baseURL: string;
  /** Sent as `Authorization: Bearer` (Azure: `api-key`); undefined for servers that need none. */
  apiKey: string | undefined;
  /** The model used unless suture.yaml picks another allowed one (Azure: the deployment name). */
  model: string;
  /** Models suture.yaml may pick; always includes `model`. */
  allowedModels: string[];
  /** Azure OpenAI with a dated API version: `/openai/deployments/<model>/…?api-version=…`, `api-key` header. */
  azureApiVersion: string | undefined;
  /** Per request. A request that times out is not retried (the server may still be generating it). */
  timeoutMs: number;
  /** Retries of one request after 429, 408, 5xx or a refused connection. */
  maxRetries: number;
  /** First backoff after a 5xx; doubles per retry (with up to 25 % jitter), capped at 8 s. */
  backoffMs: number;
  /** Wall clock for everything the strategy sends for one incident, retries and waits included. */
  deadlineMs: number;
  /** Tokens (prompt + completion, as the server reports them) one incident may spend. */
  tokenBudget: number;
  /** Estimated tokens of evidence in the repair prompt (the rest of the budget pays answers and critiques). */
  promptTokens: number;
  /** Cap on the tokens of one repair answer; critiques get a quarter of it. */
  maxAnswerTokens: number;
  /** A diagnosis or candidate below this confidence proposes nothing: the orchestrator escalates. */
  minConfidence: number;
}

export const DEFAULTS = {
  timeoutMs: 60_000,
  maxRetries: 3,
  backoffMs: 500,
  deadlineMs: 300_000,
  tokenBudget: 60_000,
  promptTokens: 12_000,
  maxAnswerTokens: 4_000,
  minConfidence: 0.7,
} as const;

type Env = Record<string, string | undefined>;

function bad(name: string, what: string): never {
  throw new SutureError('BAD_CONFIG', `${name}: ${what}`);
}

function number(env: Env, name: string, fallback: number, min: number, max: number, integer = true): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min || n > max) {
    bad(name, `must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, not ${JSON.stringify(raw)}`);
  }
  return n;
}

const MODEL = /^[\w.:/@+-]{1,200}$/;

function baseUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return bad('SUTURE_LLM_BASE_URL', `not a URL: ${JSON.stringify(raw.slice(0, 200))}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') bad('SUTURE_LLM_BASE_URL', 'must be http(s)');
  // Credentials in the URL would end up in notes and the audit log; the key has its own variable.
  if (url.username || url.password) bad('SUTURE_LLM_BASE_URL', 'must not carry credentials; use SUTURE_LLM_API_KEY');
  return url.toString().replace(/\/+$/, '');
}

/**
 * The operator's settings from the environment: `{off}` when no endpoint is configured (the strategy is off
 * and says so), a BAD_CONFIG error (exit 2, one line) when a variable is set but invalid.
 */
export function llmSettingsFromEnv(env: Env = process.env): { settings: LlmSettings } | { off: string } {
  const rawUrl = env.SUTURE_LLM_BASE_URL?.trim();
  if (!rawUrl) return { off: 'the LLM strategy is off: SUTURE_LLM_BASE_URL is not set' };
  const base = baseUrl(rawUrl);
  const model = env.SUTURE_LLM_MODEL?.trim();
  if (!model) bad('SUTURE_LLM_MODEL', 'must name the model (Azure: the deployment) when SUTURE_LLM_BASE_URL is set');
  const extra = (env.SUTURE_LLM_MODELS ?? '')
    .split(',')
    .map((m) => m.trim())
    .filter(Boolean);
  for (const m of [model, ...extra]) if (!MODEL.test(m)) bad('SUTURE_LLM_MODEL(S)', `not a model name: ${m}`);
  const azureApiVersion = env.SUTURE_LLM_AZURE_API_VERSION?.trim() || undefined;
  if (azureApiVersion && !/^[\w.-]{1,40}$/.test(azureApiVersion)) bad('SUTURE_LLM_AZURE_API_VERSION', 'not a version');
  const apiKey = env.SUTURE_LLM_API_KEY?.trim() || env.OPENAI_API_KEY?.trim() || undefined;
  return {
    settings: {
      baseURL: base,
      apiKey,
      model,
      allowedModels: [...new Set([model, ...extra])],
      azureApiVersion,
      timeoutMs: number(env, 'SUTURE_LLM_TIMEOUT_MS', DEFAULTS.timeoutMs, 100, 3_600_000),
      maxRetries: number(env, 'SUTURE_LLM_MAX_RETRIES', DEFAULTS.maxRetries, 0, 10),
      backoffMs: number(env, 'SUTURE_LLM_BACKOFF_MS', DEFAULTS.backoffMs, 1, 60_000),
      deadlineMs: number(env, 'SUTURE_LLM_DEADLINE_MS', DEFAULTS.deadlineMs, 100, 24 * 3_600_000),
      tokenBudget: number(env, 'SUTURE_LLM_TOKEN_BUDGET', DEFAULTS.tokenBudget, 1, 10_000_000),
      promptTokens: number(env, 'SUTURE_LLM_PROMPT_TOKENS', DEFAULTS.promptTokens, 500, 1_000_000),
      maxAnswerTokens: number(env, 'SUTURE_LLM_MAX_ANSWER_TOKENS', DEFAULTS.maxAnswerTokens, 256, 200_000),
      minConfidence: number(env, 'SUTURE_LLM_MIN_CONFIDENCE', DEFAULTS.minConfidence, 0, 1, false),
    },
  };
}

/** The `llm` key of suture.yaml (validated with the rest of it): `false`, or `{enabled?: boolean, model?: string}`. */
export const repoLlmSchema = llmSchema;
export type RepoLlmSettings = z.infer<typeof repoLlmSchema>;

/**
 * The model for this repository, or why the strategy is off for it. A model the operator did not allow is
 * ignored (with a note), never used.
 */
export function resolveModel(
  settings: LlmSettings,
  repo: unknown,
): { model: string; notes: string[] } | { off: string } {
  if (repo === undefined || repo === null) return { model: settings.model, notes: [] };
  const parsed = repoLlmSchema.safeParse(repo);
  if (!parsed.success) {
    return { model: settings.model, notes: ["suture.yaml's llm setting is not `false` or {enabled, model}: ignored"] };
  }
  const r = parsed.data;
  if (r === false || (typeof r === 'object' && r.enabled === false)) {
    return { off: 'the LLM strategy is off: suture.yaml opts out (llm: false)' };
  }
  if (typeof r === 'object' && r.model !== undefined && r.model !== settings.model) {
    if (settings.allowedModels.includes(r.model)) return { model: r.model, notes: [] };
    return {
      model: settings.model,
      notes: [
        `suture.yaml asks for model ${JSON.stringify(r.model)}, which the operator does not allow: using ${settings.model}`,
      ],
    };
  }
  return { model: settings.model, notes: [] };
}
