/**
 * What the model must answer, as a JSON schema for `response_format` (OpenAI's strict structured-output
 * subset: every object closed, every property required) and as zod schemas that check it, because a server
 * without structured output — or a model that ignores it — can answer anything. Pure.
 */
import { z } from 'zod';

export const CLASSIFICATIONS = [
  'code-defect',
  'dependency-failure',
  'resource-exhaustion',
  'configuration',
  'unknown',
] as const;
export type LlmClassification = (typeof CLASSIFICATIONS)[number];

export const MAX_CANDIDATES = 3;
const MAX_EDITS = 10;
const MAX_TEXT = 64 * 1024;

const confidence = z.number().min(0).max(1);
const text = (max: number) => z.string().max(max);

/** The envelope; candidates are checked one by one, so one bad candidate does not sink the others. */
export const repairAnswerSchema = z
  .object({
    classification: z.enum(CLASSIFICATIONS),
    rootCause: text(4000).min(1),
    confidence,
    candidates: z.array(z.unknown()).max(MAX_CANDIDATES),
  })
  .strict();

export const candidateSchema = z
  .object({
    summary: text(500).min(1),
    confidence,
    edits: z
      .array(z.object({ file: text(1000).min(1), search: text(MAX_TEXT).min(1), replace: text(MAX_TEXT) }).strict())
      .min(1)
      .max(MAX_EDITS),
    test: z.object({ file: text(1000).min(1), content: text(MAX_TEXT).min(1) }).strict(),
  })
  .strict();
export type LlmCandidate = z.infer<typeof candidateSchema>;

export const critiqueSchema = z
  .object({
    hidesErrors: z.boolean(),
    changesBehaviourForValidInput: z.boolean(),
    touchesSecurity: z.boolean(),
    verdict: z.enum(['accept', 'reject']),
    reason: text(2000),
  })
  .strict();
export type Critique = z.infer<typeof critiqueSchema>;

const str = { type: 'string' } as const;
const num = { type: 'number' } as const;
const closed = (properties: Record<string, unknown>) => ({
  type: 'object',
  additionalProperties: false,
  required: Object.keys(properties),
  properties,
});

export const REPAIR_JSON_SCHEMA = closed({
  classification: { type: 'string', enum: [...CLASSIFICATIONS] },
  rootCause: str,
  confidence: num,
  candidates: {
    type: 'array',
    items: closed({
      summary: str,
      confidence: num,
      edits: { type: 'array', items: closed({ file: str, search: str, replace: str }) },
      test: closed({ file: str, content: str }),
    }),
  },
});

export const CRITIQUE_JSON_SCHEMA = closed({
  hidesErrors: { type: 'boolean' },
  changesBehaviourForValidInput: { type: 'boolean' },
  touchesSecurity: { type: 'boolean' },
  verdict: { type: 'string', enum: ['accept', 'reject'] },
  reason: str,
});

/**
 * The JSON value in a model's text: the whole text, else the first balanced `{…}` in it (servers without
 * structured output wrap JSON in prose or code fences). Undefined when there is none.
 */
export function extractJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    // fall through: look for an object inside the text
  }
  for (let start = raw.indexOf('{'); start !== -1; start = raw.indexOf('{', start + 1)) {
    const end = balancedEnd(raw, start);
    if (end === -1) return undefined; // nothing after this can close either
    try {
      return JSON.parse(raw.slice(start, end + 1));
    } catch {
      // a brace in prose: try the next one
    }
  }
  return undefined;
}

/** Index of the `}` that closes the `{` at `start`, skipping JSON strings; -1 when it never closes. */
function balancedEnd(s: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < s.length; i++) {
    const c = s[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return i;
  }
  return -1;
}

/** First zod issue as one line: `candidates.0.edits: Too small…`. */
export function firstIssue(err: z.ZodError): string {
  const i = err.issues[0];
  if (!i) return 'invalid';
  return `${i.path.length ? i.path.join('.') : '(top level)'}: ${i.message}`;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

export function parseAnswer<T>(raw: string, schema: z.ZodType<T>, what: string): Parsed<T> {
  const json = extractJson(raw);
  if (json === undefined) return { ok: false, reason: `the ${what} is not JSON (malformed output)` };
  const r = schema.safeParse(json);
  if (!r.success) return { ok: false, reason: `the ${what} violates the schema: ${firstIssue(r.error)}` };
  return { ok: true, value: r.data };
}
