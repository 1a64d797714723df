/** Answer validation, configuration and the request policies (retries, fallbacks): pure, no server. */
import { describe, expect, it } from 'vitest';
import {
  CRITIQUE_JSON_SCHEMA,
  candidateSchema,
  critiqueSchema,
  extractJson,
  parseAnswer,
  REPAIR_JSON_SCHEMA,
  repairAnswerSchema,
} from '../../src/diagnose/strategies/llm/answer.ts';
import { type Compat, compatFallback, retryAfterMs, retryDecision } from '../../src/diagnose/strategies/llm/client.ts';
import { llmSettingsFromEnv, resolveModel } from '../../src/diagnose/strategies/llm/settings.ts';
import { SutureError } from '../../src/errors.ts';
import { ACCEPT, answer, candidate, settingsFor } from './fixture.ts';
import { strictSchemaProblem } from './scripted-server.ts';

describe('extractJson', () => {
  it.each([
    ['{"a": 1}', { a: 1 }],
    ['Sure! Here it is:\n```json\n{"a": {"b": "}"}}\n```\nAnything else?', { a: { b: '}' } }],
    ['I think {this} is {"a": 2} and {"b": 3}', { a: 2 }],
    ['{"s": "a \\" quote and { brace"} trailing', { s: 'a " quote and { brace' }],
  ])('%j', (text, value) => expect(extractJson(text)).toEqual(value));

  it.each(['', 'no json here', '{"a": 1', '{broken: json}'])('none in %j', (text) => {
    expect(extractJson(text)).toBeUndefined();
  });
});

describe('the answer schemas', () => {
  it('accept what the fixtures answer', () => {
    expect(repairAnswerSchema.safeParse(answer()).success).toBe(true);
    expect(candidateSchema.safeParse(candidate()).success).toBe(true);
    expect(critiqueSchema.safeParse(ACCEPT).success).toBe(true);
  });

  it.each([
    ['an unknown classification', answer(undefined, { classification: 'bug' }), /classification/],
    ['a confidence above 1', answer(undefined, { confidence: 1.5 }), /confidence/],
    ['an extra key', answer(undefined, { note: 'x' }), /Unrecognized key/],
    ['four candidates', answer([1, 2, 3, 4]), /candidates/],
    ['no root cause', answer(undefined, { rootCause: '' }), /rootCause/],
  ])('refuse %s', (_, value, issue) => {
    const r = parseAnswer(JSON.stringify(value), repairAnswerSchema, 'answer');
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toMatch(issue);
  });

  it.each([
    ['no edits', candidate({ edits: [] })],
    ['an empty search text', candidate({ edits: [{ file: 'a.py', search: '', replace: 'x' }] })],
    ['no test', { ...candidate(), test: undefined }],
    ['an edit with an extra key', candidate({ edits: [{ file: 'a.py', search: 'a', replace: 'b', mode: '120000' }] })],
  ])('refuse a candidate with %s', (_, value) => expect(candidateSchema.safeParse(value).success).toBe(false));

  it('the response_format schemas are valid strict structured-output schemas', () => {
    expect(strictSchemaProblem(REPAIR_JSON_SCHEMA)).toBeUndefined();
    expect(strictSchemaProblem(CRITIQUE_JSON_SCHEMA)).toBeUndefined();
  });
});

describe('operator settings from the environment', () => {
  it('off without a base URL, whatever else is set', () => {
    expect(llmSettingsFromEnv({ OPENAI_API_KEY: 'sk-x', SUTURE_LLM_MODEL: 'm' })).toEqual({
      off: 'the LLM strategy is off: SUTURE_LLM_BASE_URL is not set',
    });
  });

  it('reads every knob, the key falling back to OPENAI_API_KEY', () => {
    const r = llmSettingsFromEnv({
      SUTURE_LLM_BASE_URL: 'http://127.0.0.1:11434/v1/',
      SUTURE_LLM_MODEL: 'qwen2.5-coder:7b',
      SUTURE_LLM_MODELS: 'llama3.1:8b, qwen2.5-coder:7b',
      OPENAI_API_KEY: 'sk-fallback',
      SUTURE_LLM_MIN_CONFIDENCE: '0.8',
      SUTURE_LLM_TOKEN_BUDGET: '20000',
    });
    expect(r).toEqual({
      settings: expect.objectContaining({
        baseURL: 'http://127.0.0.1:11434/v1',
        apiKey: 'sk-fallback',
        model: 'qwen2.5-coder:7b',
        allowedModels: ['qwen2.5-coder:7b', 'llama3.1:8b'],
        minConfidence: 0.8,
        tokenBudget: 20000,
        timeoutMs: 60000,
      }),
    });
    const own = llmSettingsFromEnv({
      SUTURE_LLM_BASE_URL: 'https://x.example/v1',
      SUTURE_LLM_MODEL: 'm',
      SUTURE_LLM_API_KEY: 'k1',
      OPENAI_API_KEY: 'k2',
    });
    expect('settings' in own && own.settings.apiKey).toBe('k1');
  });

  it.each([
    [{ SUTURE_LLM_BASE_URL: 'not a url', SUTURE_LLM_MODEL: 'm' }, /SUTURE_LLM_BASE_URL: not a URL/],
    [{ SUTURE_LLM_BASE_URL: 'file:///etc/passwd', SUTURE_LLM_MODEL: 'm' }, /must be http\(s\)/],
    [{ SUTURE_LLM_BASE_URL: 'https://u:p@x.example/v1', SUTURE_LLM_MODEL: 'm' }, /must not carry credentials/],
    [{ SUTURE_LLM_BASE_URL: 'https://x.example/v1' }, /SUTURE_LLM_MODEL: must name the model/],
    [
      { SUTURE_LLM_BASE_URL: 'https://x.example/v1', SUTURE_LLM_MODEL: 'm', SUTURE_LLM_MIN_CONFIDENCE: 'high' },
      /SUTURE_LLM_MIN_CONFIDENCE: must be a number from 0 to 1/,
    ],
    [
      { SUTURE_LLM_BASE_URL: 'https://x.example/v1', SUTURE_LLM_MODEL: 'm', SUTURE_LLM_MAX_RETRIES: '2.5' },
      /must be an integer/,
    ],
  ])('bad values are one BAD_CONFIG line: %j', (env, message) => {
    let err: unknown;
    try {
      llmSettingsFromEnv(env);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SutureError);
    expect((err as SutureError).code).toBe('BAD_CONFIG');
    expect((err as SutureError).exitCode).toBe(2);
    expect((err as SutureError).message).toMatch(message);
    expect((err as SutureError).message).not.toContain('\n');
  });

  it('suture.yaml can opt out or pick an allowed model, never anything else', () => {
    const s = settingsFor('http://x', { allowedModels: ['test-model', 'big'] });
    expect(resolveModel(s, undefined)).toEqual({ model: 'test-model', notes: [] });
    expect(resolveModel(s, false)).toEqual({ off: expect.stringMatching(/opts out/) });
    expect(resolveModel(s, { enabled: false })).toEqual({ off: expect.stringMatching(/opts out/) });
    expect(resolveModel(s, { model: 'big' })).toEqual({ model: 'big', notes: [] });
    expect(resolveModel(s, { model: 'evil' })).toMatchObject({
      model: 'test-model',
      notes: [expect.stringMatching(/does not allow/)],
    });
    // A base URL or key in suture.yaml is not a setting it has: ignored, with a note.
    expect(resolveModel(s, { baseURL: 'https://evil.example/v1' })).toMatchObject({
      model: 'test-model',
      notes: [expect.stringMatching(/ignored/)],
    });
  });
});

describe('retries', () => {
  const s = { maxRetries: 3, backoffMs: 500 };
  const headers = (h: Record<string, string>) => new Headers(h);
  const http = (status: number, h: Record<string, string> = {}) => ({
    kind: 'http' as const,
    status,
    message: 'm',
    headers: headers(h),
  });

  it('honours retry-after-ms, retry-after in seconds and as an HTTP date', () => {
    expect(retryAfterMs(headers({ 'retry-after-ms': '250' }))).toBe(250);
    expect(retryAfterMs(headers({ 'retry-after': '3' }))).toBe(3000);
    const now = Date.parse('2026-11-20T00:00:00Z');
    expect(retryAfterMs(headers({ 'retry-after': 'Fri, 20 Nov 2026 00:00:05 GMT' }), now)).toBe(5000);
    expect(retryAfterMs(headers({ 'retry-after': 'soon' }))).toBeUndefined();
    expect(retryDecision(http(429, { 'retry-after': '2' }), 0, s, 60_000)).toEqual({ retry: true, waitMs: 2000 });
  });

  it('backs off exponentially with jitter on 5xx and refused connections, and gives up after maxRetries', () => {
    const waits = [0, 1, 2].map((n) => retryDecision(http(500), n, s, 60_000, () => 0));
    expect(waits).toEqual([500, 1000, 2000].map((waitMs) => ({ retry: true, waitMs })));
    expect(retryDecision(http(502), 0, s, 60_000, () => 1)).toEqual({ retry: true, waitMs: 375 });
    expect(retryDecision({ kind: 'connection', message: 'ECONNREFUSED' }, 0, s, 60_000, () => 0)).toEqual({
      retry: true,
      waitMs: 500,
    });
    expect(retryDecision(http(500), 3, s, 60_000)).toEqual({
      retry: false,
      reason: 'HTTP 500, still after 4 attempt(s)',
    });
  });

  it('does not retry timeouts, client errors, or a wait past the deadline', () => {
    expect(retryDecision({ kind: 'timeout' }, 0, s, 60_000)).toMatchObject({ retry: false });
    for (const status of [400, 401, 403, 404, 422])
      expect(retryDecision(http(status), 0, s, 60_000)).toMatchObject({ retry: false });
    expect(retryDecision(http(429, { 'retry-after': '30' }), 0, s, 10_000)).toEqual({
      retry: false,
      reason: "HTTP 429; the server asks to retry after 30 s, past the incident's deadline",
    });
  });
});

describe('request-shape fallbacks', () => {
  const c: Compat = { format: 'json_schema', tokensParam: 'max_completion_tokens', temperature: true };
  it('steps down the response format, or changes the parameter a 400 names', () => {
    expect(compatFallback(400, "response_format 'json_schema' is not supported", c)).toEqual({
      ...c,
      format: 'json_object',
    });
    expect(compatFallback(400, 'Unrecognized request argument supplied: max_completion_tokens', c)).toEqual({
      ...c,
      tokensParam: 'max_tokens',
    });
    expect(compatFallback(400, "Unsupported value: 'temperature' does not support 0", c)).toEqual({
      ...c,
      temperature: false,
    });
    expect(compatFallback(400, 'bad', { ...c, format: 'json_object' })).toEqual({ ...c, format: 'none' });
    expect(compatFallback(400, 'bad', { ...c, format: 'none' })).toBeUndefined();
    expect(compatFallback(401, 'bad key', c)).toBeUndefined();
    expect(compatFallback(500, 'json_schema', c)).toBeUndefined();
  });
});
