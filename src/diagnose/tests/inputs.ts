/**
 * Inputs that reproduce a crash at function level, reconstructed from the trace and the code (a Python
 * traceback has no locals): what the exception says about the value at the fault (None, a dict without the
 * key, an empty list, zero, an unparseable string) becomes a requirement on an access path from a variable
 * (`order["shipping"]["address"]` is None), carried back through assignments, loops and call sites to the
 * parameters of a function a test can call. The value is JSON with two markers the generated tests decode:
 * `{"$suture": "object", "value": {…}}` (an object with attributes, Python) and `{"$suture": "undefined"}`
 * (JavaScript's undefined). Pure.
 */

export type Step = { key: string | number } | { attr: string } | { each: true };

export type Leaf =
  /** The value at the path is this (JSON, or the undefined marker). */
  | { value: unknown }
  /** The value at the path is a mapping without this key. */
  | { missingKey: string | number };

export interface Requirement {
  /** A variable in the function's scope: a parameter, a local, a loop variable. */
  root: string;
  steps: Step[];
  leaf: Leaf;
}

export const UNDEFINED = { $suture: 'undefined' } as const;
export const objectOf = (value: Record<string, unknown>) => ({ $suture: 'object', value });

/** In JavaScript a missing property reads as undefined: the marker is only needed at top level. */
function omitUndefined(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o))
    if (!(v && typeof v === 'object' && (v as { $suture?: string }).$suture === 'undefined')) out[k] = v;
  return out;
}

/** A path the function reads from a value (besides the one the crash is about), with a guess for its leaf. */
export interface Use {
  steps: Step[];
  leaf: unknown;
}

interface Shape {
  leaf?: unknown;
  /** The crash's own value: nothing is added below it. */
  fixed?: boolean;
  missing?: string | number;
  keys: Map<string | number, Shape>;
  attrs: Map<string, Shape>;
  each?: Shape;
}

const shape = (): Shape => ({ keys: new Map(), attrs: new Map() });

function child(s: Shape, step: Step): Shape {
  if ('each' in step) {
    if (!s.each) s.each = shape();
    return s.each;
  }
  if ('attr' in step) {
    if (!s.attrs.has(step.attr)) s.attrs.set(step.attr, shape());
    return s.attrs.get(step.attr)!;
  }
  if (!s.keys.has(step.key)) s.keys.set(step.key, shape());
  return s.keys.get(step.key)!;
}

function encode(s: Shape, language: 'python' | 'node'): unknown {
  if (s.leaf !== undefined) return s.leaf;
  if (s.each) return [encode(s.each, language)];
  const numeric = [...s.keys.keys()].filter((k) => typeof k === 'number') as number[];
  if (numeric.length && numeric.length === s.keys.size) {
    const n = Math.min(Math.max(...numeric.map((k) => (k < 0 ? -k : k + 1))), 64);
    const first = s.keys.get(numeric[0]!)!;
    return Array.from({ length: n }, (_, i) => encode(s.keys.get(i) ?? first, language));
  }
  const entries: Record<string, unknown> = {};
  for (const [k, v] of s.keys) entries[String(k)] = encode(v, language);
  const attrs: Record<string, unknown> = {};
  for (const [k, v] of s.attrs) attrs[k] = encode(v, language);
  if (language === 'python' && s.attrs.size && !s.keys.size) return objectOf(attrs);
  return language === 'node' ? omitUndefined({ ...attrs, ...entries }) : entries;
}

/**
 * The value for a root: the crash's requirement (kept exactly: the value it names, the key it lacks), plus
 * whatever else the function reads from the same root, so the input gets as far as the fault.
 */
export function buildWithUses(steps: Step[], leaf: Leaf, uses: Use[], language: 'python' | 'node'): unknown {
  const root = shape();
  let at = root;
  for (const s of steps) at = child(at, s);
  if ('value' in leaf) at.leaf = leaf.value;
  else at.missing = leaf.missingKey;
  at.fixed = 'value' in leaf;
  for (const u of uses) {
    let cur = root;
    let ok = true;
    for (const s of u.steps) {
      if (cur.fixed || cur.leaf !== undefined) {
        ok = false;
        break;
      }
      if ('key' in s && cur.missing !== undefined && s.key === cur.missing) {
        ok = false;
        break;
      }
      cur = child(cur, s);
    }
    if (
      ok &&
      cur.leaf === undefined &&
      !cur.fixed &&
      cur.keys.size === 0 &&
      cur.attrs.size === 0 &&
      !cur.each &&
      cur.missing === undefined
    ) {
      cur.leaf = u.leaf;
    }
  }
  return encode(root, language);
}

/** A leaf guess from the method called on it. */
export function leafForMethod(method: string | undefined, language: 'python' | 'node'): unknown {
  if (!method) return 1;
  if (
    /^(lower|upper|strip|lstrip|rstrip|split|startswith|endswith|replace|format|encode|title|toUpperCase|toLowerCase|trim|startsWith|endsWith|padStart|padEnd|charAt|substring|localeCompare)$/.test(
      method,
    )
  )
    return 'x';
  if (/^(get|items|keys|values|setdefault|update|pop|copy)$/.test(method) && language === 'python') return {};
  if (
    /^(append|extend|insert|sort|index|count|map|filter|forEach|reduce|some|every|find|includes|join|slice|concat|push|flatMap)$/.test(
      method,
    )
  )
    return [];
  return 1;
}

/** One function parameter, as far as a test calling it needs to know. */
export interface Param {
  name: string;
  hasDefault: boolean;
  /** `*args` / `...rest` / `**kwargs`: never given a value. */
  rest?: boolean;
  /** Python keyword-only (after `*`). */
  kwOnly?: boolean;
  /** JavaScript destructuring pattern (`{ a, b: { c } }`): the property paths it reads. */
  pattern?: { names: Map<string, Step[]> };
}

/** A guess for a parameter the crash says nothing about, from how the function body uses it. */
export function guessFromUse(name: string, body: string, language: 'python' | 'node'): unknown {
  const n = name.replace(/[$]/g, '\\$');
  const has = (re: string) => new RegExp(re).test(body);
  if (language === 'python') {
    if (
      has(`\\bfor\\s+[\\w, ]+\\s+in\\s+${n}\\s*:`) ||
      has(`\\blen\\(\\s*${n}\\s*\\)`) ||
      has(`\\b${n}\\[\\s*-?\\d+\\s*\\]`) ||
      has(`\\b${n}\\.append\\(`)
    )
      return [];
    if (has(`\\b${n}\\[\\s*['"]`) || has(`\\b${n}\\.(get|items|keys|values|setdefault|update)\\(`)) return {};
    if (has(`\\b${n}\\.(lower|upper|strip|split|startswith|endswith|replace|format|encode)\\(`)) return '';
    if (has(`\\b${n}\\.\\w`)) return objectOf({});
    if (has(`\\b${n}\\s*[-+*/%<>]`) || has(`[-+*/%<>]\\s*${n}\\b`)) return 0;
    return null;
  }
  if (has(`\\b${n}\\.(map|filter|forEach|reduce|some|every|find|length|push|slice|join)\\b`) || has(`\\bof\\s+${n}\\b`))
    return [];
  if (has(`\\b${n}\\.(toUpperCase|toLowerCase|trim|split|startsWith|endsWith|replace|padStart)\\(`)) return '';
  if (has(`\\b${n}\\s*[-*/%]`) || has(`[-*/%]\\s*${n}\\b`)) return 0;
  return {};
}
