/**
 * Request samples are replayed in the sandbox and committed in regression tests, so they are cleaned once,
 * on intake. Headers: only an allow-list is kept — the ones a crash can plausibly depend on that carry no
 * credential — and their values only in a plainly harmless shape (anything else becomes a mask). Bodies:
 * JSON structurally (whatever sits under a secret-looking key masked whole; strings redacted; numbers that
 * are card numbers masked; everything else byte for byte), form-encoded bodies field by field, anything
 * else through `redact`. Paths (query strings) through `redact`.
 */
import { isCardNumber, isSecretEntry, redact } from '../evidence/redact.ts';
import type { RequestSample } from './types.ts';

const PARAMS = String.raw`(?:\s?;\s?[\w.-]{1,32}=(?:[\w.+\-/:=]{1,200}|"[\w.+\-/:= ]{0,200}")){0,4}`;
const MEDIA = String.raw`[\w.+*-]{1,64}/[\w.+*-]{1,128}${PARAMS}`;
const WEIGHTED = String.raw`[\w*.-]{1,64}(?:\s?;\s?q=[\d.]{1,5})?`;
const list = (item: string) => new RegExp(String.raw`^${item}(?:\s?,\s?${item}){0,31}$`);

/**
 * The headers kept, each with the shape its value must have. Dropped: credentials of every kind
 * (authorization, cookies, api keys, tokens, signatures), and the hop-by-hop and framing headers a replay
 * sets itself (host, content-length, connection, transfer-encoding).
 */
export const HEADER_ALLOW_LIST: Readonly<Record<string, RegExp>> = {
  'content-type': new RegExp(`^${MEDIA}$`),
  accept: list(MEDIA),
  'accept-charset': list(WEIGHTED),
  'accept-encoding': list(WEIGHTED),
  'accept-language': list(WEIGHTED),
  'content-language': list(WEIGHTED),
  'x-requested-with': /^[\w.-]{1,64}$/,
};

const HEADER_MASK = '[REDACTED:header]';
const MAX_KEPT_VALUE = 1024;

export function sanitiseHeaders(headers: Record<string, string>): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const key = name.toLowerCase();
    const shape = Object.hasOwn(HEADER_ALLOW_LIST, key) ? HEADER_ALLOW_LIST[key] : undefined;
    if (!shape) continue;
    const safe = value.length <= MAX_KEPT_VALUE && shape.test(value) && redact(value).count === 0;
    kept[key] = safe ? value : HEADER_MASK;
  }
  return kept;
}

const MASK = '[REDACTED:secret]';
const CARD_MASK = '[REDACTED:card-number]';
type RawJson = (source: string) => unknown;
/** JSON.rawJSON (V8 ≥ 11.4) re-serialises numbers exactly as they were written (big ids keep their digits). */
const rawJSON = (JSON as unknown as { rawJSON?: RawJson }).rawJSON;

function sanitiseJson(text: string): string | undefined {
  let changed = false;
  let value: unknown;
  try {
    value = JSON.parse(text, (key: string, v: unknown, context?: { source?: string }) => {
      if (isSecretEntry(key, v)) {
        changed = true;
        return MASK;
      }
      if (typeof v === 'string') {
        const r = redact(v);
        if (r.count) changed = true;
        return r.text;
      }
      if (typeof v === 'number') {
        const source = context?.source ?? String(v);
        if (isCardNumber(source)) {
          changed = true;
          return CARD_MASK;
        }
        return rawJSON ? rawJSON(source) : v;
      }
      return v;
    });
  } catch {
    return undefined;
  }
  // Untouched bodies stay byte for byte what production received.
  return changed ? JSON.stringify(value) : text;
}

function decodeFormPart(part: string): string {
  try {
    return decodeURIComponent(part.replace(/\+/g, ' '));
  } catch {
    return part;
  }
}

function sanitiseForm(body: string): string {
  return body
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      if (eq < 0) return pair;
      const value = decodeFormPart(pair.slice(eq + 1));
      const secret = isSecretEntry(decodeFormPart(pair.slice(0, eq)), value) || redact(value).count > 0;
      return secret ? `${pair.slice(0, eq)}=${MASK}` : pair;
    })
    .join('&');
}

export function sanitiseBody(body: string, contentType = ''): string {
  if (/^\s*[[{"]/.test(body)) {
    const json = sanitiseJson(body);
    if (json !== undefined) return json;
  }
  const text = /application\/x-www-form-urlencoded/i.test(contentType) ? sanitiseForm(body) : body;
  return redact(text).text;
}

/** The request as it may be replayed and committed. Idempotent. */
export function sanitiseRequest(req: RequestSample): RequestSample {
  const contentType = Object.entries(req.headers ?? {}).find(([k]) => k.toLowerCase() === 'content-type')?.[1];
  return {
    method: req.method.toUpperCase(),
    path: redact(req.path).text,
    ...(req.headers ? { headers: sanitiseHeaders(req.headers) } : {}),
    ...(req.body !== undefined ? { body: sanitiseBody(req.body, contentType) } : {}),
    ...(req.status !== undefined ? { status: req.status } : {}),
  };
}
