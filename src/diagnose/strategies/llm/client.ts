/**
 * One chat completion through the `openai` package, against any OpenAI-compatible endpoint, with the
 * policies that make it safe to call from an unattended pipeline:
 *
 * - Retries are suture's, not the client's (`maxRetries: 0` there), so what happens is what the tests
 *   check: 429, 408, 409 and 5xx are retried up to `maxRetries` times, after the server's `retry-after-ms`
 *   or `retry-after` (seconds or an HTTP date) when it sends one, else after an exponential backoff with
 *   jitter; a wait that would end past the incident's deadline is not waited for. A refused connection is
 *   retried like a 5xx. A request that timed out is not retried: the server may still be generating (and
 *   billing) it, and an endpoint that is too slow once is likely too slow twice.
 * - Servers differ in what they accept: one without `response_format: json_schema` (older vLLM,
 *   llama.cpp, many proxies) answers 400, and the request is repeated with `json_object`, then without a
 *   format (the answer's JSON is then extracted from its text); one that wants `max_tokens` instead of
 *   `max_completion_tokens`, or rejects `temperature`, gets that. What worked is remembered for the
 *   strategy's lifetime.
 * - Tokens: the prompt's estimate plus the answer cap must fit what is left of the incident's budget
 *   (the cap shrinks to fit, down to a floor); what the server reports in `usage` is what is spent.
 * - Every request and answer is returned as an `LlmExchange`, redacted, for the audit log.
 */
import OpenAI, { APIConnectionTimeoutError, APIError, APIUserAbortError, AzureOpenAI } from 'openai';
import { redact } from '../../../evidence/redact.ts';
import type { LlmSettings } from './settings.ts';
import { estimateTokens } from './tokens.ts';

export type ResponseFormat = 'json_schema' | 'json_object' | 'none';
const FORMATS: ResponseFormat[] = ['json_schema', 'json_object', 'none'];

/** What the endpoint was found to accept; shared by every incident the strategy serves. */
export interface Compat {
  format: ResponseFormat;
  tokensParam: 'max_completion_tokens' | 'max_tokens';
  temperature: boolean;
}

export const initialCompat = (): Compat => ({
  format: 'json_schema',
  tokensParam: 'max_completion_tokens',
  temperature: true,
});

/**
 * The request shape to try after the server refused COMPAT with a 4xx saying MESSAGE, or undefined when
 * nothing is left to change. A parameter the message names is changed first; otherwise the response
 * format steps down, which is what servers without structured output need.
 */
export function compatFallback(status: number, message: string, compat: Compat): Compat | undefined {
  if (status !== 400 && status !== 422) return undefined;
  const m = message.toLowerCase();
  if (compat.tokensParam === 'max_completion_tokens' && m.includes('max_completion_tokens')) {
    return { ...compat, tokensParam: 'max_tokens' };
  }
  if (compat.temperature && m.includes('temperature')) return { ...compat, temperature: false };
  const next = FORMATS[FORMATS.indexOf(compat.format) + 1];
  return next ? { ...compat, format: next } : undefined;
}

export type Failure =
  | { kind: 'timeout' }
  | { kind: 'connection'; message: string }
  | { kind: 'http'; status: number; message: string; headers: { get(name: string): string | null } | undefined };

/** Retry after WAITMS, or stop for REASON. `retries` is how many were already made. Pure. */
export function retryDecision(
  f: Failure,
  retries: number,
  s: Pick<LlmSettings, 'maxRetries' | 'backoffMs'>,
  remainingMs: number,
  random: () => number = Math.random,
): { retry: true; waitMs: number } | { retry: false; reason: string } {
  if (f.kind === 'timeout') return { retry: false, reason: 'the request timed out (not retried)' };
  const what = f.kind === 'http' ? `HTTP ${f.status}` : `connection failed (${f.message})`;
  if (f.kind === 'http' && !(f.status === 408 || f.status === 409 || f.status === 429 || f.status >= 500)) {
    return { retry: false, reason: `${what}: ${f.message}` };
  }
  if (retries >= s.maxRetries) return { retry: false, reason: `${what}, still after ${retries + 1} attempt(s)` };
  const asked = f.kind === 'http' ? retryAfterMs(f.headers) : undefined;
  const backoff = Math.min(Math.max(8_000, s.backoffMs), s.backoffMs * 2 ** retries) * (1 - 0.25 * random());
  const waitMs = Math.round(asked ?? backoff);
  if (waitMs >= remainingMs) {
    return {
      retry: false,
      reason: `${what}; ${asked !== undefined ? `the server asks to retry after ${Math.ceil(waitMs / 1000)} s` : 'the next retry'}, past the incident's deadline`,
    };
  }
  return { retry: true, waitMs };
}

/** `retry-after-ms`, else `retry-after` as seconds or an HTTP date; undefined when absent or nonsense. */
export function retryAfterMs(
  headers: { get(name: string): string | null } | undefined,
  now = Date.now(),
): number | undefined {
  const ms = Number.parseFloat(headers?.get('retry-after-ms') ?? '');
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const raw = headers?.get('retry-after')?.trim();
  if (!raw) return undefined;
  if (/^\d+(\.\d+)?$/.test(raw)) return Number(raw) * 1000;
  const at = Date.parse(raw);
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}

export interface Usage {
  prompt: number;
  completion: number;
  total: number;
  /** The server reported no usage: these are suture's estimates. */
  estimated: boolean;
}

/** One request to the model and its answer, redacted, as the audit log keeps it. */
export interface LlmExchange {
  purpose: 'repair' | 'critique';
  model: string;
  startedAt: string;
  durationMs: number;
  request: { system: string; user: string; responseFormat: ResponseFormat; maxTokens: number };
  attempts: { responseFormat: ResponseFormat; outcome: string; waitMs?: number }[];
  answer?: string;
  usage?: Usage;
  error?: string;
}

export interface ChatRequest {
  purpose: LlmExchange['purpose'];
  system: string;
  user: string;
  schemaName: string;
  schema: Record<string, unknown>;
  maxTokens: number;
  /** The cap may shrink to fit the budget, not below this. */
  minTokens: number;
}

export type ChatResult =
  | {
      ok: true;
      text: string;
      usage: Usage;
      /** The answer hit the token cap (finish_reason `length`). */
      truncated: boolean;
    }
  | { ok: false; reason: string };

export function makeClient(s: LlmSettings): OpenAI {
  const common = {
    apiKey: s.apiKey ?? 'none',
    // Nothing from the environment the operator did not name for suture (OPENAI_ORG_ID, OPENAI_PROJECT_ID).
    organization: null,
    project: null,
    maxRetries: 0,
    timeout: s.timeoutMs,
    logLevel: 'off' as const,
    // A server that needs no key (Ollama, llama.cpp) gets no Authorization header at all.
    ...(s.apiKey ? {} : { defaultHeaders: { Authorization: null, 'api-key': null } }),
  };
  if (s.azureApiVersion) {
    return new AzureOpenAI({ ...common, endpoint: s.baseURL, apiVersion: s.azureApiVersion, deployment: s.model });
  }
  return new OpenAI({ ...common, baseURL: s.baseURL });
}

function classify(err: unknown): Failure {
  if (err instanceof APIConnectionTimeoutError) return { kind: 'timeout' };
  if (err instanceof APIError && err.status === undefined) {
    return { kind: 'connection', message: oneLine(String((err.cause as Error | undefined)?.message ?? err.message)) };
  }
  if (err instanceof APIError) {
    const body = err.error as { message?: unknown } | undefined;
    const message = oneLine(typeof body?.message === 'string' ? body.message : err.message);
    return { kind: 'http', status: err.status as number, message, headers: err.headers };
  }
  return { kind: 'connection', message: oneLine(err instanceof Error ? err.message : String(err)) };
}

const oneLine = (t: string) => redact(t.replace(/\s+/g, ' ').slice(0, 300)).text;

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    });
  });

/** The model calls of one incident: its deadline, its token budget, its exchanges. */
export class LlmSession {
  spent = 0;
  readonly exchanges: LlmExchange[] = [];
  private readonly deadline: number;
  private readonly client: OpenAI;
  private readonly settings: LlmSettings;
  private readonly model: string;
  private readonly compat: Compat;

  constructor(opts: { client: OpenAI; settings: LlmSettings; model: string; compat: Compat }) {
    this.client = opts.client;
    this.settings = opts.settings;
    this.model = opts.model;
    this.compat = opts.compat;
    this.deadline = Date.now() + opts.settings.deadlineMs;
  }

  get remainingTokens(): number {
    return this.settings.tokenBudget - this.spent;
  }

  async chat(req: ChatRequest): Promise<ChatResult> {
    const system = redact(req.system).text;
    const user = redact(req.user).text;
    const promptTokens = estimateTokens(system) + estimateTokens(user) + 16;
    const maxTokens = Math.min(req.maxTokens, this.remainingTokens - promptTokens);
    const exchange: LlmExchange = {
      purpose: req.purpose,
      model: this.model,
      startedAt: new Date().toISOString(),
      durationMs: 0,
      request: { system, user, responseFormat: this.compat.format, maxTokens },
      attempts: [],
    };
    const started = performance.now();
    const done = (r: ChatResult): ChatResult => {
      exchange.durationMs = Math.round(performance.now() - started);
      if (!r.ok) exchange.error = r.reason;
      if (r.ok || exchange.attempts.length) this.exchanges.push(exchange);
      return r;
    };
    if (maxTokens < req.minTokens) {
      return done({
        ok: false,
        reason: `the incident's token budget is spent (${this.spent} of ${this.settings.tokenBudget} used; this ${req.purpose} needs about ${promptTokens + req.minTokens})`,
      });
    }
    let compat = { ...this.compat };
    let retries = 0;
    for (;;) {
      const remaining = this.deadline - Date.now();
      if (remaining <= 0) return done({ ok: false, reason: "the incident's deadline for LLM calls has passed" });
      const attempt: LlmExchange['attempts'][number] = { responseFormat: compat.format, outcome: '' };
      exchange.attempts.push(attempt);
      try {
        const res = await this.client.chat.completions.create(this.body(req, system, user, maxTokens, compat), {
          timeout: Math.max(1, Math.min(this.settings.timeoutMs, remaining)),
        });
        const choice = res.choices?.[0];
        const text = choice?.message?.content ?? '';
        const u = res.usage;
        const usage: Usage =
          u && Number.isFinite(u.total_tokens)
            ? {
                prompt: u.prompt_tokens ?? 0,
                completion: u.completion_tokens ?? 0,
                total: u.total_tokens,
                estimated: false,
              }
            : (() => {
                const completion = estimateTokens(text);
                return { prompt: promptTokens, completion, total: promptTokens + completion, estimated: true };
              })();
        this.spent += usage.total;
        attempt.outcome = `200, ${usage.total} tokens${usage.estimated ? ' (estimated)' : ''}`;
        Object.assign(this.compat, compat);
        exchange.request.responseFormat = compat.format;
        exchange.answer = redact(text).text;
        exchange.usage = usage;
        const refusal = choice?.message?.refusal;
        if (refusal) return done({ ok: false, reason: `the model refused the ${req.purpose}: ${oneLine(refusal)}` });
        if (!text.trim()) return done({ ok: false, reason: `the ${req.purpose} answer is empty` });
        return done({ ok: true, text, usage, truncated: choice?.finish_reason === 'length' });
      } catch (err) {
        if (err instanceof APIUserAbortError) throw err;
        const f = classify(err);
        attempt.outcome =
          f.kind === 'http' ? `HTTP ${f.status}: ${f.message}` : f.kind === 'timeout' ? 'timed out' : f.message;
        if (f.kind === 'timeout') this.spent += promptTokens; // it may have been processed (and billed)
        const next = f.kind === 'http' ? compatFallback(f.status, f.message, compat) : undefined;
        if (next) {
          compat = next;
          continue;
        }
        const d = retryDecision(f, retries, this.settings, this.deadline - Date.now());
        if (!d.retry) return done({ ok: false, reason: `the ${req.purpose} request failed: ${d.reason}` });
        attempt.waitMs = d.waitMs;
        retries++;
        await sleep(d.waitMs, AbortSignal.timeout(Math.max(1, this.deadline - Date.now())));
      }
    }
  }

  private body(req: ChatRequest, system: string, user: string, maxTokens: number, compat: Compat) {
    const response_format =
      compat.format === 'json_schema'
        ? { type: 'json_schema' as const, json_schema: { name: req.schemaName, strict: true, schema: req.schema } }
        : compat.format === 'json_object'
          ? { type: 'json_object' as const }
          : undefined;
    return {
      model: this.model,
      messages: [
        { role: 'system' as const, content: system },
        { role: 'user' as const, content: user },
      ],
      ...(compat.temperature ? { temperature: 0 } : {}),
      ...(compat.tokensParam === 'max_tokens' ? { max_tokens: maxTokens } : { max_completion_tokens: maxTokens }),
      ...(response_format ? { response_format } : {}),
      stream: false as const,
    };
  }
}
