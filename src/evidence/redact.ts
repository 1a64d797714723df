/**
 * Secret redaction for logs before they leave the machine (LLM prompts, reports, pull requests).
 * Each secret becomes `[REDACTED:<kind>]`; what identifies a secret's place (URL user and host, the
 * `Bearer` scheme, the key in key=value) is kept so the evidence still reads. Tokens with a recognisable
 * shape are redacted anywhere; opaque values only in a secret context (a secret-looking key, a header),
 * so commit SHAs, digests, UUIDs and ordinary ids survive.
 */

export interface Redaction {
  text: string;
  /** Number of secrets replaced. */
  count: number;
  /** Distinct kinds replaced (rule order). */
  kinds: string[];
}

type Rule = {
  kind: string;
  pattern: RegExp;
  /** Rebuilds the match; `mask` is the placeholder. Return the match itself to leave it alone. */
  replace?: (mask: string, match: string, ...groups: string[]) => string;
};

const mark = (kind: string) => `[REDACTED:${kind}]`;

/**
 * Key names whose values are secrets. The last word decides, so `password_reset_url`, `tokenizer` and
 * `max_tokens` are not; camelCase counts as words (`accessToken`, `apiKey`).
 */
export function isSecretKey(key: string): boolean {
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
  const last = words.at(-1) ?? '';
  const pair = words.slice(-2).join('_');
  // Authorization headers have their own rule, which keeps the scheme.
  if (/^(?:proxy_)?authorization$/.test(words.join('_'))) return false;
  return (
    /(?:password|passwd|passphrase|secret|token|apikey|credentials?)$/.test(last) ||
    /^(?:pwd|auth|cookie|session|sessionid|privatekey|secretkey|accesskey)$/.test(last) ||
    /^(?:(?:api|access|account|secret|private|signing|encryption|master)_key|client_secret|session_id)$/.test(pair)
  );
}

/** Placeholder-like values that carry no secret (and our own masks). */
function isInert(value: string): boolean {
  // A value that already holds a mask (`Cookie: sid=[REDACTED:secret]`) is not redacted twice.
  if (value.includes('[REDACTED:')) return true;
  return /^(?:\*+$|<[\w -]*>$|\$\{|\{\{|%\(|null$|none$|true$|false$|undefined$|redacted$|xxx+$)/i.test(value);
}

const RULES: Rule[] = [
  {
    // Whole PEM block, also when its newlines are escaped inside a JSON string; an unterminated one
    // (truncated log line) up to its last base64 line. Keys are < 16 KiB; the bound keeps scans linear.
    kind: 'private-key',
    pattern:
      /-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY( BLOCK)?-----(?:[\s\S]{0,16384}?-----END \1PRIVATE KEY\2-----|(?:(?:\r?\n|\\r?\\n)[A-Za-z0-9+/=]+)*)/g,
  },
  {
    kind: 'slack-webhook',
    pattern: /https:\/\/hooks\.slack\.com\/(?:services|workflows|triggers)\/[A-Za-z0-9_/-]+/g,
  },
  {
    // scheme://user:password@host — keep user and host.
    kind: 'url-password',
    pattern: /\b([a-z][a-z0-9+.-]*:\/\/)([^\s:@/"'\\]*):([^\s@/"'\\]+)@/gi,
    replace: (mask, match, scheme, user, pass) => (isInert(pass!) ? match : `${scheme}${user}:${mask}@`),
  },
  {
    // Authorization headers: plain, `key: value`, JSON (also escaped inside a JSON string); keep the scheme.
    kind: 'authorization',
    pattern:
      /\b((?:proxy-)?authorization\\?["']?\s*[:=]\s*\\?["']?)(?:(Bearer|Basic|Token|Digest|Bot|ApiKey|Negotiate|AWS4-HMAC-SHA256)\s+)?([^\s"'\\,;]+)/gi,
    replace: (mask, match, prefix, scheme, cred) =>
      isInert(cred!) ? match : `${prefix}${scheme ? `${scheme} ` : ''}${mask}`,
  },
  {
    // A bearer credential outside a header, e.g. in a curl command line or an error message.
    kind: 'authorization',
    pattern: /\b(Bearer\s+)([A-Za-z0-9\-._~+/]{8,}=*)/g,
    replace: (mask, match, prefix, cred) =>
      isInert(cred!) || !(/\d/.test(cred!) || cred!.length >= 20) ? match : `${prefix}${mask}`,
  },
  { kind: 'jwt', pattern: /(?<![\w-])eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g },
  {
    // AWS secret access keys have no shape of their own: only in their well-known keys' context.
    kind: 'aws-secret-key',
    pattern: /\b((?:aws)?_?secret_?access_?key\\?["']?\s*[:=]\s*\\?["']?)([A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])/gi,
    replace: (mask, _m, prefix) => `${prefix}${mask}`,
  },
  { kind: 'aws-access-key', pattern: /\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA)[A-Z0-9]{16}\b/g },
  { kind: 'github-token', pattern: /\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b/g },
  { kind: 'gitlab-token', pattern: /\b(?:glpat|gldt|glrt|glptt|glsoat|gloas)-[A-Za-z0-9_-]{20,}/g },
  { kind: 'slack-token', pattern: /\b(?:xox[abposr]|xapp)-[A-Za-z0-9-]{10,}/g },
  { kind: 'stripe-key', pattern: /\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}/g },
  { kind: 'google-api-key', pattern: /\bAIza[A-Za-z0-9_-]{35}\b/g },
  { kind: 'npm-token', pattern: /\bnpm_[A-Za-z0-9]{36}\b/g },
  // "key": "value", \"key\": \"value\" (JSON inside a JSON string), 'key': 'value' (Python reprs).
  quotedPair(/(")([\w.-]+)("\s*:\s*")((?:[^"\\]|\\.)*)(")/g),
  quotedPair(/(\\")([\w.-]+)(\\"\s*:\s*\\")((?:(?!\\")[^"])*)(\\")/g),
  quotedPair(/(')([\w.-]+)('\s*:\s*')((?:[^'\\]|\\.)*)(')/g),
  {
    // key=value (env, query strings, logfmt, kwargs), the value optionally quoted.
    kind: 'secret',
    pattern: /(?<![\w.-])([A-Za-z_][\w.-]*)(=)("[^"\n]*"|'[^'\n]*'|[^\s&;,"'<>)}\]]+)/g,
    replace: (mask, match, key, eq, value) => {
      const bare = value!.replace(/^(["'])(.*)\1$/, '$2');
      if (!isSecretKey(key!) || !bare || isInert(bare)) return match;
      // `PWD=/srv/app` in an environment dump is the working directory, not a password.
      if (/^pwd$/i.test(key!) && bare.startsWith('/')) return match;
      // Source lines in tracebacks: `token=request.headers.get(` and `password=password` are code, not values.
      if (/^[A-Za-z_][\w.]*\($/.test(value!) || bare.toLowerCase() === key!.toLowerCase()) return match;
      const q = value!.startsWith('"') || value!.startsWith("'") ? value![0]! : '';
      return `${key}${eq}${q}${mask}${q}`;
    },
  },
  {
    // `key: value` (YAML, HTTP headers): prose like "invalid token: expected …" is common here, so the value
    // must look like a credential: one word with a digit or symbol, or long.
    kind: 'secret',
    pattern: /(?<![\w.-])([A-Za-z_][\w.-]*)(:[ \t]+)([^\s"',;]+)/g,
    replace: (mask, match, key, sep, value) => {
      if (!isSecretKey(key!) || isInert(value!)) return match;
      if (!(/[\d!@#$%^&*+/=_-]/.test(value!) || value!.length >= 16)) return match;
      return `${key}${sep}${mask}`;
    },
  },
];

function quotedPair(pattern: RegExp): Rule {
  return {
    kind: 'secret',
    pattern,
    replace: (mask, match, open, key, mid, value, close) =>
      !isSecretKey(key!) || !value || isInert(value) ? match : `${open}${key}${mid}${mask}${close}`,
  };
}

/** Replaces secrets in `text` with `[REDACTED:<kind>]`. Pure; never throws. */
export function redact(text: string): Redaction {
  let out = typeof text === 'string' ? text : '';
  let count = 0;
  const kinds: string[] = [];
  for (const rule of RULES) {
    out = out.replace(rule.pattern, (match: string, ...rest: unknown[]) => {
      const groups = rest.slice(0, -2).map((g) => (typeof g === 'string' ? g : ''));
      const replaced = rule.replace ? rule.replace(mark(rule.kind), match, ...groups) : mark(rule.kind);
      if (replaced !== match) {
        count++;
        if (!kinds.includes(rule.kind)) kinds.push(rule.kind);
      }
      return replaced;
    });
  }
  return { text: out, count, kinds };
}

/**
 * Redacts every string inside a JSON-like value (objects, arrays, strings; other values as they are) and
 * returns a copy: the one funnel for structured output that leaves the process (stdout JSON, audit, files).
 */
export function redactDeep<T>(value: T): T {
  if (typeof value === 'string') return redact(value).text as T;
  if (Array.isArray(value)) return value.map((v) => redactDeep(v)) as T;
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = redactDeep(v);
    return out as T;
  }
  return value;
}
