/**
 * Differential replay in the manner of Twitter's Diffy. Every healthy request is answered by two instances of
 * the base revision (primary, secondary) and by the candidate. What differs between the two base answers is
 * noise, learned per field; every other difference between the primary's answer and the candidate's is a
 * mismatch. Nothing is masked by a field's name or a value's looks: `{"orderId": 1700000001}` vs `…002`
 * differs unless the base itself answered it differently twice.
 *
 * An answer is compared as a tree: its status, the headers that carry meaning (content-type, location,
 * set-cookie names) and its body, JSON structurally (by value: `24.0` equals `24`), text token by token
 * (runs of letters and digits, and single other characters; texts of different token counts differ as a
 * whole). JSON array indices generalise: a field that is noisy in one element (`$.items[0].id`) is noisy in
 * every element (`$.items[*].id`). A team's explicit ignore list (suture.yaml `differential.ignore`) adds
 * paths such as `$.meta.generatedAt`, `$.items[*].id`, `$.sessions.*.expires` or `header:location`.
 * Pure: no I/O.
 */
import type { HttpResult } from './plan.ts';

/** A key, an array index, or a token position in a text. */
type Segment = string | number | Token;
/** A token position of a text body or header: never generalised (one noisy token is not every token). */
class Token {
  readonly at: number;
  constructor(at: number) {
    this.at = at;
  }
}
type Path = readonly Segment[];

class Text {
  readonly text: string;
  readonly tokens: readonly string[];
  constructor(text: string) {
    this.text = text;
    // Words, with the punctuation inside numbers, dates, times and ids (37.50, 2026-11-20, 02:04:11.5,
    // 8f3a-9b2c): one such value is one token, so a clock's seconds make the whole time noisy, not one digit.
    this.tokens = text.match(/[\p{L}\p{N}_]+(?:[.:+-][\p{L}\p{N}_]+)*|\s+|[^\p{L}\p{N}_\s]/gu) ?? [];
  }
}

type Leaf = null | boolean | number | string | bigint;
type Node = Leaf | Text | Node[] | { [key: string]: Node };

/** The part of a path that names the body; the others are `status` and `header:<name>`. */
const BODY = 'body';
/** Headers whose change a client sees; others (date, server, content-length, x-request-id) are transport. */
const COMPARED_HEADERS = ['content-type', 'location', 'set-cookie'] as const;
/**
 * Differences collected per comparison at most: more than a 256 KiB body has leaves, so noise is never
 * learned from only part of two answers; a bound all the same.
 */
const MAX_DIFFERENCES = 200_000;

function isRecord(n: Node | undefined): n is { [key: string]: Node } {
  return typeof n === 'object' && n !== null && !Array.isArray(n) && !(n instanceof Text);
}

/** JSON text as a tree; integers past 2^53 keep their exact digits (as bigint). */
function parseJson(text: string): Node | undefined {
  try {
    return JSON.parse(text, (_key, value: unknown, context?: { source?: string }) =>
      typeof value === 'number' && !Number.isSafeInteger(value) && /^-?\d+$/.test(context?.source ?? '')
        ? BigInt(context!.source!)
        : value,
    ) as Node;
  } catch {
    return undefined;
  }
}

/** Deeper JSON is compared as text: the tree walks recurse, and an answer must not overflow the stack. */
const MAX_DEPTH = 256;

function depth(n: Node): number {
  let max = 0;
  const stack: [Node, number][] = [[n, 1]];
  while (stack.length) {
    const [x, d] = stack.pop()!;
    max = Math.max(max, d);
    if (max > MAX_DEPTH) return max;
    if (Array.isArray(x)) for (const y of x) stack.push([y, d + 1]);
    else if (isRecord(x)) for (const y of Object.values(x)) stack.push([y, d + 1]);
  }
  return max;
}

function bodyNode(answer: HttpResult, contentType: string | undefined): Node | undefined {
  if (answer.body === undefined) return undefined;
  const json = parseJson(answer.body);
  const parsed = json !== undefined && depth(json) <= MAX_DEPTH ? json : undefined;
  // A JSON document (or any JSON the answer says is JSON) compares by structure; anything else as text.
  if (parsed !== undefined && (typeof parsed === 'object' || /json/i.test(contentType ?? ''))) return parsed;
  return new Text(answer.body);
}

function header(answer: HttpResult, name: string): string[] | undefined {
  const values = answer.headers?.[name];
  if (values?.length) return values;
  if (name === 'content-type' && answer.contentType) return [answer.contentType];
  return undefined;
}

/** What of an answer is compared, as one tree (absent parts are absent keys). */
function view(answer: HttpResult): { [key: string]: Node } {
  const out: { [key: string]: Node } = { status: answer.status };
  if (answer.status === null) return out;
  const contentType = header(answer, 'content-type')?.[0];
  for (const name of COMPARED_HEADERS) {
    const values = header(answer, name);
    if (!values) continue;
    if (name === 'content-type')
      out[`header:${name}`] = values[0]!
        .toLowerCase()
        .replace(/\s*;\s*/g, '; ')
        .trim();
    else if (name === 'set-cookie') out[`header:${name}`] = [...new Set(values.map(cookieName))].sort().join(', ');
    else out[`header:${name}`] = new Text(values[0]!);
  }
  const body = bodyNode(answer, contentType);
  if (body !== undefined) out[BODY] = body;
  return out;
}

function cookieName(setCookie: string): string {
  const eq = setCookie.indexOf('=');
  return (eq < 0 ? setCookie : setCookie.slice(0, eq)).trim();
}

function kindOf(n: Node): string {
  if (n instanceof Text) return 'text';
  if (Array.isArray(n)) return 'array';
  if (n === null) return 'null';
  return typeof n === 'object' ? 'object' : typeof n;
}

/** Paths where `a` and `b` differ, outermost first; a subtree of another kind or size differs as a whole. */
function differences(a: Node, b: Node, path: Segment[] = [], out: Path[] = []): Path[] {
  if (out.length >= MAX_DIFFERENCES) return out;
  const kind = kindOf(a);
  if (kind !== kindOf(b)) {
    out.push([...path]);
  } else if (a instanceof Text && b instanceof Text) {
    if (a.tokens.length !== b.tokens.length) out.push([...path]);
    else
      a.tokens.forEach((t, i) => {
        if (t !== b.tokens[i] && out.length < MAX_DIFFERENCES) out.push([...path, new Token(i)]);
      });
  } else if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) out.push([...path]);
    else
      a.forEach((x, i) => {
        differences(x, b[i]!, [...path, i], out);
      });
  } else if (isRecord(a) && isRecord(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const key of keys) {
      if (!Object.hasOwn(a, key) || !Object.hasOwn(b, key)) out.push([...path, key]);
      else differences(a[key]!, b[key]!, [...path, key], out);
    }
  } else if (a !== b) {
    out.push([...path]);
  }
  return out;
}

const IDENT = /^[A-Za-z_$][\w$-]*$/;

function renderSegment(s: Segment | '*'): string {
  if (s === '*') return '[*]';
  if (s instanceof Token) return `~${s.at}`;
  if (typeof s === 'number') return `[${s}]`;
  return IDENT.test(s) ? `.${s}` : `[${JSON.stringify(s)}]`;
}

/** `$.items[0].id`, `status`, `header:location`, `$~12` (the 13th token of a text body). */
export function renderPath(path: readonly (Segment | '*')[]): string {
  const [head, ...rest] = path;
  const root = head === undefined || head === BODY ? '$' : String(head);
  return root + rest.map(renderSegment).join('');
}

function generalise(path: Path): (Segment | '*')[] {
  return path.map((s) => (typeof s === 'number' ? '*' : s));
}

/** Each prefix of `path` (the whole path last) with array indices generalised, rendered. */
function generalPrefixes(path: Path): string[] {
  const general = generalise(path);
  return general.map((_, i) => renderPath(general.slice(0, i + 1)));
}

/** Learned noise: paths (array indices generalised) where the two base answers differ. */
export type Noise = ReadonlySet<string>;

/** What differs between the two base answers to one request. Two equal answers have no noise. */
export function learnNoise(primary: HttpResult, secondary: HttpResult): Noise {
  return new Set(differences(view(primary), view(secondary)).map((p) => renderPath(generalise(p))));
}

/** A path of the ignore list: segments, where `*` matches any key or index. */
export type IgnorePath = readonly (string | number | '*')[];

const IGNORE_SEGMENT = /^(?:\.([A-Za-z_$][\w$-]*)|\.\*|\[\*\]|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]|\['([^'\\]*)'\])/;

/**
 * An ignore-list entry (`$.meta.generatedAt`, `$.items[*].id`, `$['a b']`, `$.sessions.*.expires`,
 * `header:location`), or why it is not one.
 */
export function parseIgnorePath(text: string): { path: IgnorePath } | { error: string } {
  const header = /^header:([a-z0-9-]+)$/i.exec(text);
  if (header) {
    const name = header[1]!.toLowerCase();
    if (!(COMPARED_HEADERS as readonly string[]).includes(name)) {
      return { error: `${text}: only ${COMPARED_HEADERS.join(', ')} are compared, so only they can be ignored` };
    }
    return { path: [`header:${name}`] };
  }
  if (!text.startsWith('$')) return { error: `${text}: a body path starts with $ (e.g. $.meta.generatedAt)` };
  const path: (string | number | '*')[] = [BODY];
  let rest = text.slice(1);
  while (rest) {
    const m = IGNORE_SEGMENT.exec(rest);
    if (!m) return { error: `${text}: cannot read "${rest}" (use .name, ['name'], [*], [0] or .*)` };
    if (m[1] !== undefined) path.push(m[1]);
    else if (m[2] !== undefined) path.push(Number(m[2]));
    else if (m[3] !== undefined) path.push(JSON.parse(m[3]) as string);
    else if (m[4] !== undefined) path.push(m[4]);
    else path.push('*');
    rest = rest.slice(m[0].length);
  }
  return { path };
}

function ignored(ignore: readonly IgnorePath[], path: Path): boolean {
  return ignore.some(
    (pattern) =>
      pattern.length <= path.length &&
      pattern.every((p, i) => {
        const s = path[i]!;
        if (s instanceof Token) return false;
        return p === '*' || p === s;
      }),
  );
}

/** The value at `path`, or undefined when the tree has nothing there. */
function at(tree: Node, path: Path): Node | undefined {
  let n: Node | undefined = tree;
  for (const s of path) {
    if (n === undefined) return undefined;
    if (s instanceof Token) return n instanceof Text ? tokenContext(n, s.at) : undefined;
    if (typeof s === 'number') n = Array.isArray(n) ? n[s] : undefined;
    else n = isRecord(n) && Object.hasOwn(n, s) ? n[s] : undefined;
  }
  return n;
}

/** The differing token with a little text around it, so the report shows where in the text it is. */
function tokenContext(t: Text, i: number): string {
  return t.tokens.slice(Math.max(0, i - 6), i + 7).join('');
}

const MAX_VALUE_CHARS = 300;

/** A value as the report shows it: JSON values as they are (long ones cut), text as its string. */
function reportValue(n: Node | undefined): unknown {
  if (n === undefined) return null;
  if (n instanceof Text) return cut(n.text);
  if (typeof n === 'bigint') return n.toString();
  if (typeof n === 'string') return cut(n);
  if (typeof n === 'object' && n !== null) {
    const json = JSON.stringify(n, (_k, v: unknown) =>
      typeof v === 'bigint' ? v.toString() : v instanceof Text ? v.text : v,
    );
    return json.length > MAX_VALUE_CHARS ? cut(json) : n;
  }
  return n;
}

function cut(s: string): string {
  return s.length > MAX_VALUE_CHARS ? `${s.slice(0, MAX_VALUE_CHARS)}…` : s;
}

export interface Mismatch {
  /** The healthy request, e.g. `POST /quote`. */
  request: string;
  /** `status`, `header:<name>` or a JSON path into the body (`$.items[0].id`; `$~n` is a text's nth token). */
  path: string;
  base: unknown;
  candidate: unknown;
  /** Which side has nothing at the path (its value above is then null). */
  absent?: 'base' | 'candidate';
}

/**
 * Differences between the primary base answer and the candidate's that neither the learned noise nor the
 * ignore list covers.
 */
export function mismatches(
  request: string,
  noise: Noise,
  ignore: readonly IgnorePath[],
  primary: HttpResult,
  candidate: HttpResult,
): Mismatch[] {
  const [b, c] = [view(primary), view(candidate)];
  // No answer on one side: the status says it all.
  const found =
    b.status === null || c.status === null ? (b.status === c.status ? [] : [['status']]) : differences(b, c);
  return found
    .filter((p) => !generalPrefixes(p).some((g) => noise.has(g)) && !ignored(ignore, p))
    .map((p) => {
      const [bv, cv] = [at(b, p), at(c, p)];
      return {
        request,
        path: renderPath(p),
        base: reportValue(bv),
        candidate: reportValue(cv),
        ...(bv === undefined ? { absent: 'base' as const } : cv === undefined ? { absent: 'candidate' as const } : {}),
      };
    });
}

export interface RequestComparison {
  request: string;
  /**
   * compared: checked field by field; unstable: the two base answers differ in status, so the answer
   * cannot be told from noise (not compared).
   */
  outcome: 'compared' | 'unstable';
  mismatches: Mismatch[];
  /** The noise learned from the two base answers (rendered paths). */
  noise: string[];
}

/** One healthy request: noise from the two base answers, then the candidate's answer against the primary's. */
export function compareAnswers(
  request: string,
  primary: HttpResult,
  secondary: HttpResult,
  candidate: HttpResult,
  ignore: readonly IgnorePath[] = [],
): RequestComparison {
  const noise = learnNoise(primary, secondary);
  const list = [...noise].sort();
  if (noise.has('status')) return { request, outcome: 'unstable', mismatches: [], noise: list };
  return {
    request,
    outcome: 'compared',
    mismatches: mismatches(request, noise, ignore, primary, candidate),
    noise: list,
  };
}
