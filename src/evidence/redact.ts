/**
 * Secret redaction: the one function everything that leaves the process passes through (audit log,
 * reports, progress and error lines, stdout, commits, LLM prompts). Each secret becomes
 * `[REDACTED:<kind>]`; what identifies a secret's place (URL user and host, the `Bearer` scheme, the key in
 * key=value) is kept so the evidence still reads. Tokens with a recognisable shape are redacted anywhere;
 * opaque values only in a secret context (a secret-looking key, a header), so commit SHAs, digests, UUIDs
 * and ordinary ids survive.
 *
 * Linear time, whatever the input: every pattern starts at a literal or at the first character of a run
 * (a lookbehind), and no unbounded quantifier before a required literal can be re-scanned from another
 * start. The two structures a regular expression cannot scan in linear time — PEM blocks (find the END
 * without rescanning) and quoted key/value pairs at any JSON escaping depth — are small scanners.
 *
 * The known credential formats come from credentials.ts, the table the policy's secret scan reads too;
 * here they run after the Authorization rules (which keep the scheme) and before the contextual ones.
 */
import { AFTER_ESCAPE, CREDENTIAL_FORMATS, type CredentialFormat, isInert, re, TOKEN_START } from './credentials.ts';

export interface Redaction {
  text: string;
  /** Number of secrets replaced. */
  count: number;
  /** Distinct kinds replaced (rule order). */
  kinds: string[];
}

type PatternRule = {
  kind: string;
  pattern: RegExp;
  /** Rebuilds the match; `mask` is the placeholder. Return the match itself to leave it alone. */
  replace?: (mask: string, match: string, ...groups: string[]) => string;
};
/** A scanner: returns the text with its secrets masked, calling `hit` once per secret. */
type ScanRule = { kind: string; scan: (text: string, mask: string, hit: () => void) => string };
type Rule = PatternRule | ScanRule;

const mark = (kind: string) => `[REDACTED:${kind}]`;

const SECRET_STEMS =
  /pass|pwd|secret|token|key|cred|auth|cookie|session|cv[cv]|csc|pin|ssn|iban|otp|pan|card|cc|code|account/i;

/**
 * Key names whose values are secrets. The last word decides, so `password_reset_url`, `tokenizer` and
 * `max_tokens` are not; camelCase counts as words (`accessToken`, `apiKey`). Payment and identity data
 * (card numbers, CVV, PIN, SSN, IBAN, one-time codes) count as secrets too.
 */
export function isSecretKey(key: string): boolean {
  // Most keys in a log hold none of these stems: one cheap test before splitting into words.
  if (key.length > 256 || !SECRET_STEMS.test(key)) return false;
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
    /(?:password|passwd|passphrase|passcode|secret|token|apikey|credentials?)$/.test(last) ||
    /^(?:pwd|auth|cookie|session|sessionid|privatekey|secretkey|accesskey)$/.test(last) ||
    /^(?:cvv2?|cvc2?|csc|pin|pincode|ssn|iban|otp|totp|pan|card|cardnumber|ccnumber|ccnum|creditcard)$/.test(last) ||
    /^(?:(?:api|access|account|secret|private|signing|encryption|master)_key|client_secret|session_id)$/.test(pair) ||
    /^(?:card_(?:number|num|no)|cc_(?:number|num|no)|credit_card|security_code|account_number)$/.test(pair)
  );
}

/**
 * A payment card number: 13–19 digits (spaces or dashes between groups allowed) with a card network's
 * prefix (Visa, Mastercard, Amex, Diners, Discover, JCB, UnionPay, Maestro) and a valid Luhn check digit.
 * The prefix keeps epoch-millisecond timestamps (17…) and most ids out.
 */
export function isCardNumber(text: string): boolean {
  const digits = text.replace(/[ -]/g, '');
  if (!/^\d{13,19}$/.test(digits) || !/^(?:4|5[0-5]|2[2-7]|3[0-9]|6)/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** What a scanner does with one match: replace [from, to) by `text`, resume scanning elsewhere, or go on. */
type Step = { from: number; to: number; text: string } | { resume: number } | undefined;

/**
 * Runs the global `pattern` over `text` and splices in the replacements `step` decides. Linear as long as
 * steps only move forward: each match is examined once.
 */
function splice(text: string, pattern: RegExp, step: (m: RegExpExecArray) => Step, hit: () => void): string {
  let out = '';
  let last = 0;
  pattern.lastIndex = 0;
  for (let m = pattern.exec(text); m; m = pattern.exec(text)) {
    const s = step(m);
    if (!s) continue;
    if ('resume' in s) {
      pattern.lastIndex = s.resume;
      continue;
    }
    out += text.slice(last, s.from) + s.text;
    last = s.to;
    pattern.lastIndex = s.to;
    hit();
  }
  return last === 0 ? text : out + text.slice(last);
}

/**
 * Card numbers as they are written: 13–19 digits in a row, or grouped 4-4-4-4 (Amex 4-6-5, Diners 4-6-4)
 * with spaces or dashes; not after a `.` (decimals), not inside a longer number or word.
 */
const CARD_CANDIDATE =
  /(?:(?<![\w.])|(?<=\\[nrt]))(?:\d{4}([ -])\d{4}\1\d{4}\1\d{4}|\d{4}([ -])\d{6}\2\d{4,5}|\d{13,19})(?!\w|\.\d)/g;

/** A candidate that fails the check is not consumed: the next one may start inside it (`1234 4111 1111 …`). */
function cardNumbers(text: string, mask: string, hit: () => void): string {
  return splice(
    text,
    CARD_CANDIDATE,
    (m) => (isCardNumber(m[0]) ? { from: m.index, to: m.index + m[0].length, text: mask } : { resume: m.index + 1 }),
    hit,
  );
}

const PEM_FOOTER = /-----END ((?:[A-Z0-9]+ ){0,6})PRIVATE KEY( BLOCK)?-----/y;
const PEM_BASE64_LINES = /(?:(?:\r?\n|\\r?\\n)[A-Za-z0-9+/=]+)*/y;
/** Keys are < 16 KiB: an END further away belongs to something else. */
const PEM_MAX = 16384;

/**
 * Whole PEM private-key blocks, also with their newlines escaped inside a JSON string; an unterminated one
 * (a truncated log line) up to its last base64 line. The next END marker is found once and reused by every
 * header before it, so many headers without an END cost one pass, not one 16 KiB scan each.
 */
function privateKeys(header: RegExp, text: string, mask: string, hit: () => void): string {
  let nextEnd = -2; // -2: not searched yet; -1: none left
  return splice(
    text,
    header,
    (m) => {
      const headerEnd = m.index + m[0].length;
      if (nextEnd !== -1 && nextEnd < headerEnd) nextEnd = text.indexOf('-----END ', headerEnd);
      if (nextEnd >= 0 && nextEnd - headerEnd <= PEM_MAX) {
        PEM_FOOTER.lastIndex = nextEnd;
        const f = PEM_FOOTER.exec(text);
        if (f && f[1] === m[1] && f[2] === m[2]) return { from: m.index, to: PEM_FOOTER.lastIndex, text: mask };
      }
      PEM_BASE64_LINES.lastIndex = headerEnd;
      PEM_BASE64_LINES.exec(text);
      return { from: m.index, to: PEM_BASE64_LINES.lastIndex, text: mask };
    },
    hit,
  );
}

/**
 * `"key": "value"` in JSON at any escaping depth (`\"key\": \"value\"` inside a JSON string, and deeper)
 * and `'key': 'value'` in Python reprs. The backslashes before the key's opening quote give the depth; the
 * value ends at the quote that closes a string of that depth (so escaped quotes and backslashes inside
 * it are part of it), or at the end of the line when it never closes.
 */
const QUOTED_KEY = /(?<!\\)(\\{0,15})(["'])([\w.-]{1,128})\1\2\s{0,16}:\s{0,16}\1\2/g;

function quotedPairs(text: string, mask: string, hit: () => void): string {
  return splice(
    text,
    QUOTED_KEY,
    (m) => {
      // Not a secret: scanning resumes at the value's start, so pairs inside it (JSON in a string) are found.
      if (!isSecretKey(m[3]!)) return undefined;
      const start = m.index + m[0].length;
      const end = stringEnd(text, start, m[2]!, m[1]!.length);
      const value = text.slice(start, end);
      return !value || isInert(value) ? { resume: end } : { from: start, to: end, text: mask };
    },
    hit,
  );
}

/**
 * Where the string that starts at `from` closes. A string delimited by `quote` after `depth` backslashes
 * closes at a run of k backslashes before `quote` with k mod 2(depth+1) = depth (k = depth: the bare
 * delimiter; more: escaped backslashes before it); any other run escapes the quote. Returns the index of
 * the closing run, or the line end / text end for an unterminated string.
 */
function stringEnd(text: string, from: number, quote: string, depth: number): number {
  const period = 2 * (depth + 1);
  let i = from;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '\n' || c === '\r') return i;
    if (c === '\\') {
      let j = i;
      while (text[j] === '\\') j++;
      if (text[j] === quote) {
        if ((j - i) % period === depth) return j - depth;
        i = j + 1;
      } else {
        i = j;
      }
      continue;
    }
    if (c === quote && depth === 0) return i;
    i++;
  }
  return i;
}

/** Keys also continue over `.` and `-`, and never start on an escape letter (`\npin` is the key `pin`). */
const KEY_START = String.raw`(?:(?<![\w.\\-])|${AFTER_ESCAPE})`;

/**
 * `key<separator>value` pairs. `keyAndSep` finds a key and its separator; only for a secret-looking key is
 * the value read (`value`, sticky, at the separator's end) and masked unless `keep` says it is no secret.
 * Otherwise scanning resumes right after the separator, so pairs inside a harmless value
 * (`msg="password=…"`) are still found.
 */
function keyedValues(
  keyAndSep: RegExp,
  value: RegExp,
  keep: (key: string, value: string, bare: string) => boolean,
): ScanRule['scan'] {
  return (text, mask, hit) =>
    splice(
      text,
      keyAndSep,
      (m) => {
        if (!isSecretKey(m[1]!)) return undefined;
        const start = m.index + m[0].length;
        value.lastIndex = start;
        const v = value.exec(text)?.[0];
        if (!v) return undefined;
        // Quotes around the value stay, so the line still parses the same way.
        const open = /^(?:\\"|"|')?/.exec(v)![0];
        const close = open && v.length > open.length && v.endsWith(open) ? open : '';
        const bare = v.slice(open.length, v.length - close.length);
        if (!bare || isInert(bare) || keep(m[1]!, v, bare)) return undefined;
        return { from: start, to: start + v.length, text: `${open}${mask}${close}` };
      },
      hit,
    );
}

/** A known credential format (credentials.ts) as a rule: the whole match masked, or only its `secret` group. */
function formatRule(f: CredentialFormat): Rule {
  if (f.pemBlock) return { kind: f.kind, scan: (text, mask, hit) => privateKeys(f.pattern, text, mask, hit) };
  const scan: ScanRule['scan'] = (text, mask, hit) =>
    splice(
      text,
      f.pattern,
      (m) => {
        const g = m.groups ?? {};
        if (f.isCredential && !f.isCredential(g.secret ?? m[0])) return undefined;
        return { from: m.index, to: m.index + m[0].length, text: `${g.pre ?? ''}${mask}${g.post ?? ''}` };
      },
      hit,
    );
  return { kind: f.kind, scan };
}

const RULES: Rule[] = [
  {
    // Authorization headers: plain, `key: value`, JSON (also escaped inside a JSON string); keep the scheme.
    kind: 'authorization',
    pattern: re(
      'gi',
    )`${TOKEN_START}((?:proxy-)?authorization\\{0,7}["']?\s{0,16}[:=]\s{0,16}\\{0,7}["']?)(?:(Bearer|Basic|Token|Digest|Bot|ApiKey|Negotiate|AWS4-HMAC-SHA256)\s+)?([^\s"'\\,;]+)(?:([ \t]+)([^\s"'\\,;]+))?`,
    replace: (mask, match, prefix, scheme, cred, sep, next) => {
      if (isInert(cred!)) return match;
      // An unknown scheme (`Authorization: Custom abc123`): scheme and credential are masked as one.
      if (!scheme && next && /^[A-Za-z][\w-]{0,30}$/.test(cred!) && !isInert(next)) return `${prefix}${mask}`;
      return `${prefix}${scheme ? `${scheme} ` : ''}${mask}${sep}${next}`;
    },
  },
  {
    // A bearer credential outside a header, e.g. in a curl command line or an error message.
    kind: 'authorization',
    pattern: re('g')`${TOKEN_START}(Bearer\s+)([A-Za-z0-9\-._~+/]{8,}=*)`,
    replace: (mask, match, prefix, cred) =>
      isInert(cred!) || !(/\d/.test(cred!) || cred!.length >= 20) ? match : `${prefix}${mask}`,
  },
  ...CREDENTIAL_FORMATS.map(formatRule),
  { kind: 'card-number', scan: cardNumbers },
  // "key": "value", \"key\": \"value\" (JSON inside a JSON string, any depth), 'key': 'value' (Python reprs).
  { kind: 'secret', scan: quotedPairs },
  {
    // key=value (env, query strings, logfmt, kwargs), the value optionally quoted (to the line end when the
    // quote never closes: a truncated line).
    kind: 'secret',
    scan: keyedValues(
      re('g')`${KEY_START}([A-Za-z_][\w.-]*)=`,
      /\\"[^"\\\n]*(?:\\")?|"[^"\n]*"?|'[^'\n]*'?|[^\s&;,"'<>)}\]]+/y,
      (key, value, bare) =>
        // `PWD=/srv/app` in an environment dump is the working directory, not a password.
        (/^pwd$/i.test(key) && bare.startsWith('/')) ||
        // Source lines in tracebacks: `token=request.headers.get(` and `password=password` are code, not values.
        /^[A-Za-z_][\w.]*\($/.test(value) ||
        bare.toLowerCase() === key.toLowerCase(),
    ),
  },
  {
    // `key: value` (YAML, HTTP headers): prose like "invalid token: expected …" is common here, so the value
    // must look like a credential: one word with a digit or symbol, or long.
    kind: 'secret',
    scan: keyedValues(
      re('g')`${KEY_START}([A-Za-z_][\w.-]*):[ \t]+`,
      /[^\s"',;]+/y,
      (_key, value) => !(/[\d!@#$%^&*+/=_-]/.test(value) || value.length >= 16),
    ),
  },
];

/** Replaces secrets in `text` with `[REDACTED:<kind>]`. Pure; never throws; linear in the text's length. */
export function redact(text: string): Redaction {
  let out = typeof text === 'string' ? text : '';
  let count = 0;
  const kinds: string[] = [];
  for (const rule of RULES) {
    const mask = mark(rule.kind);
    const hit = () => {
      count++;
      if (!kinds.includes(rule.kind)) kinds.push(rule.kind);
    };
    if ('scan' in rule) {
      out = rule.scan(out, mask, hit);
      continue;
    }
    out = out.replace(rule.pattern, (match: string, ...rest: unknown[]) => {
      const groups = rest.slice(0, -2).map((g) => (typeof g === 'string' ? g : ''));
      const replaced = rule.replace ? rule.replace(mask, match, ...groups) : mask;
      if (replaced !== match) hit();
      return replaced;
    });
  }
  return { text: out, count, kinds };
}

/** A value with nothing secret in it, kept as it is under a secret-looking key. */
function carriesNothing(value: unknown): boolean {
  return (
    value === null ||
    value === undefined ||
    typeof value === 'boolean' ||
    value === '' ||
    (typeof value === 'string' && isInert(value))
  );
}

/**
 * Whether `value`, found under `key` in structured data, is masked whole: a secret-looking key — or an
 * authorization header, whose text rule would keep the scheme — holding anything but a placeholder.
 */
export function isSecretEntry(key: string, value: unknown): boolean {
  return (isSecretKey(key) || /^(?:proxy[-_])?authorization$/i.test(key)) && !carriesNothing(value);
}

/**
 * Redacts a JSON-like value (objects, arrays, strings; other values as they are) and returns a copy: every
 * string through `redact`, numbers that are card numbers, and whatever sits under a secret-looking key
 * masked whole (a number, an object, a string without a recognisable shape). The one funnel for structured
 * output that leaves the process (stdout JSON, audit, files).
 */
export function redactDeep<T>(value: T): T {
  if (typeof value === 'string') return redact(value).text as T;
  if (typeof value === 'number' && Number.isInteger(value) && isCardNumber(String(value))) {
    return mark('card-number') as T;
  }
  if (Array.isArray(value)) return value.map((v) => redactDeep(v)) as T;
  if (value !== null && typeof value === 'object') {
    // fromEntries defines own properties, so a `__proto__` key stays data.
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, isSecretEntry(k, v) ? mark('secret') : redactDeep(v)]),
    ) as T;
  }
  return value;
}
