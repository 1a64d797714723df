/**
 * Python side of input reconstruction (inputs.ts): the function around a traceback frame (its signature,
 * body and whether a test can import it), the access chains on the faulting line, what the exception says
 * about one of them, and how a requirement travels back through assignments, loops and call sites. Reads
 * source text; pure.
 */
import { type Leaf, leafForMethod, type Param, type Requirement, type Step, type Use } from './inputs.ts';

export interface PyFunction {
  name: string;
  params: Param[];
  isAsync: boolean;
  /** Defined at module level: importable as `module.name`. */
  topLevel: boolean;
  /** 1-based line of the `def`. */
  defLine: number;
  /** 1-based, inclusive. */
  endLine: number;
  lines: string[];
}

const indentOf = (l: string) => /^[ \t]*/.exec(l)![0].replace(/\t/g, '        ').length;
const blank = (l: string) => /^\s*(#.*)?$/.test(l);

/** The indices of `text` from `from` on that are code, not inside a string literal. */
function* codeIndices(text: string, from = 0): Generator<number> {
  let quote: string | undefined;
  for (let i = from; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'" || c === '`') quote = c;
    else yield i;
  }
}

/** Splits on commas outside brackets and strings. */
export function splitTopLevel(text: string, sep = ','): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (const i of codeIndices(text)) {
    const c = text[i]!;
    if ('([{'.includes(c)) depth++;
    else if (')]}'.includes(c)) depth--;
    else if (c === sep && depth === 0) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out.map((s) => s.trim()).filter((s) => s !== '');
}

/** The text between the bracket at `open` and its match (strings skipped), and the index after it. */
export function balanced(text: string, open: number): { inner: string; end: number } | undefined {
  const pairs: Record<string, string> = { '(': ')', '[': ']', '{': '}' };
  const stack: string[] = [];
  for (const i of codeIndices(text, open)) {
    const c = text[i]!;
    if (pairs[c]) stack.push(pairs[c]!);
    else if (c === stack.at(-1)) {
      stack.pop();
      if (stack.length === 0) return { inner: text.slice(open + 1, i), end: i + 1 };
    }
  }
  return undefined;
}

function pyParams(text: string): Param[] {
  const out: Param[] = [];
  let kwOnly = false;
  for (const raw of splitTopLevel(text.replace(/#[^\n]*/g, ''))) {
    if (raw === '/') continue;
    if (raw === '*') {
      kwOnly = true;
      continue;
    }
    const m = /^(\*{0,2})([A-Za-z_]\w*)\s*(?::[^=]*)?(=.*)?$/s.exec(raw);
    if (!m) continue;
    if (m[1]) {
      out.push({ name: m[2]!, hasDefault: true, rest: true });
      if (m[1] === '*') kwOnly = true;
      continue;
    }
    out.push({ name: m[2]!, hasDefault: m[3] !== undefined, ...(kwOnly ? { kwOnly: true } : {}) });
  }
  return out;
}

/** The function `name` whose body holds `line` (1-based), innermost first. */
export function findPyFunction(src: string, name: string, line: number): PyFunction | undefined {
  const lines = src.split(/\r?\n/);
  const re = new RegExp(`^([ \\t]*)(async[ \\t]+)?def[ \\t]+${name}[ \\t]*\\(`);
  for (let i = Math.min(line - 1, lines.length - 1); i >= 0; i--) {
    const m = re.exec(lines[i]!);
    if (!m) continue;
    const indent = indentOf(m[1]!);
    const joined = lines.slice(i).join('\n');
    const open = joined.indexOf('(', m[0].length - 1);
    const sig = balanced(joined, open);
    if (!sig) return undefined;
    const sigLines = joined.slice(0, sig.end).split('\n').length;
    let end = i + sigLines - 1;
    for (let j = i + sigLines; j < lines.length; j++) {
      if (blank(lines[j]!)) continue;
      if (indentOf(lines[j]!) <= indent) break;
      end = j;
    }
    if (line - 1 > end) continue; // a def above that does not enclose the line
    return {
      name,
      params: pyParams(sig.inner),
      isAsync: Boolean(m[2]),
      topLevel: indent === 0,
      defLine: i + 1,
      endLine: end + 1,
      lines: lines.slice(i, end + 1),
    };
  }
  return undefined;
}

/** A parsed access chain: `root.attr["key"][0].get("k")`, with each step's text span in the line. */
export interface Chain {
  root: string;
  steps: Step[];
  /** Character offsets: where the chain starts, and where each prefix (root, root+step1, …) ends. */
  start: number;
  ends: number[];
  /** Kinds the steps came from, for messages that name a method (`.get`, `.items`). */
  calls: (string | undefined)[];
}

const IDENT = /[A-Za-z_]\w*/y;

function literalKey(text: string): string | number | undefined {
  const t = text.trim();
  const s = /^(['"])((?:(?!\1)[^\\])*)\1$/.exec(t);
  if (s) return s[2]!;
  if (/^-?\d+$/.test(t)) return Number(t);
  return undefined;
}

/** Blanks out string literals (keeping length) so operators and brackets inside them are not read. */
export function maskStrings(line: string): string {
  return line.replace(/(['"])(?:(?!\1)[^\\]|\\.)*\1/g, (m) => m[0] + ' '.repeat(m.length - 2) + m[0]);
}

/** Every access chain in a line of Python (only `.get(k)` and `.get(k, d)` calls are steps). */
export function pyChains(line: string): Chain[] {
  const masked = maskStrings(line);
  const out: Chain[] = [];
  for (let i = 0; i < line.length; i++) {
    if (!/[A-Za-z_]/.test(line[i]!) || (i > 0 && /[\w.]/.test(masked[i - 1]!))) continue;
    IDENT.lastIndex = i;
    const id = IDENT.exec(line);
    if (!id) continue;
    if (
      /^(and|or|not|in|is|if|else|for|return|lambda|None|True|False|await|yield|def|class|import|from|as|with|del|assert|raise|while|elif|print)$/.test(
        id[0],
      )
    ) {
      i += id[0].length - 1;
      continue;
    }
    const chain: Chain = { root: id[0], steps: [], start: i, ends: [i + id[0].length], calls: [] };
    let j = i + id[0].length;
    for (;;) {
      const ws = /^\s*/.exec(line.slice(j))![0].length;
      const k = j + ws;
      if (line[k] === '.' && /[A-Za-z_]/.test(line[k + 1] ?? '')) {
        IDENT.lastIndex = k + 1;
        const name = IDENT.exec(line)![0];
        let after = k + 1 + name.length;
        if (line[after] === '(') {
          const args = balanced(line, after);
          if (!args) break;
          const parts = splitTopLevel(args.inner);
          const key = parts[0] !== undefined ? literalKey(parts[0]) : undefined;
          if (name === 'get' && key !== undefined && parts.length <= 2) {
            chain.steps.push({ key });
            chain.calls.push('get');
            chain.ends.push(args.end);
            j = args.end;
            continue;
          }
          // another method call: the chain's object ends here; the method name is kept for messages
          chain.steps.push({ attr: name });
          chain.calls.push('call');
          chain.ends.push(after);
          break;
        }
        chain.steps.push({ attr: name });
        chain.calls.push(undefined);
        chain.ends.push(after);
        j = after;
        after = j;
        continue;
      }
      if (line[k] === '[') {
        const sub = balanced(line, k);
        if (!sub) break;
        const key = literalKey(sub.inner);
        chain.steps.push(key !== undefined ? { key } : { key: Number.NaN });
        chain.calls.push(key !== undefined ? undefined : 'expr');
        chain.ends.push(sub.end);
        j = sub.end;
        continue;
      }
      break;
    }
    out.push(chain);
    i += id[0].length - 1;
  }
  return out;
}

/** A requirement on a chain's prefix of `n` steps. */
function req(c: Chain, n: number, leaf: Leaf): Requirement {
  return { root: c.root, steps: c.steps.slice(0, n), leaf };
}

/** The repr in a message (`'coupon'`, `0`) as a value. */
function reprValue(text: string): string | number | undefined {
  return literalKey(text);
}

/** The expression right after `pos` (skipping spaces): a chain, a call of a chain, or a parenthesised one. */
function operandAt(line: string, pos: number): { text: string; end: number } | undefined {
  let k = pos;
  while (line[k] === ' ') k++;
  const m = /^([A-Za-z_][\w.]*)\s*(\()?/.exec(line.slice(k));
  if (!m) {
    if (line[k] === '(') {
      const b = balanced(line, k);
      return b ? { text: b.inner, end: b.end } : undefined;
    }
    return undefined;
  }
  const chains = pyChains(line).filter((c) => c.start === k);
  const c = chains[0];
  if (!c) return undefined;
  let end = c.ends.at(-1)!;
  if (c.calls.at(-1) === 'call' || (m[2] && c.steps.length === 0)) {
    const open = line.indexOf('(', end);
    const b = open === -1 ? undefined : balanced(line, open);
    if (b) end = b.end;
  }
  return { text: line.slice(k, end), end };
}

/** Requirements that make EXPR evaluate to zero. */
function zeroOf(expr: string): Requirement[] {
  const t = expr.trim();
  const call = /^(len|sum|int|float|abs|round)\s*\(([\s\S]*)\)$/.exec(t);
  if (call) {
    const inner = splitTopLevel(call[2]!)[0] ?? '';
    if (call[1] === 'len' || call[1] === 'sum') {
      const comp = /^([\s\S]*?)\s+for\s+(\w+)\s+in\s+([\s\S]+?)(\s+if\s+[\s\S]*)?$/.exec(inner.replace(/^\[|\]$/g, ''));
      const target = comp ? comp[3]! : inner;
      // `sum(p["n"] for p in parts)` is zero with an element whose p["n"] is zero, which survives the
      // statement iterating `parts` again; `len(x)` and `sum(x)` are zero for an empty x.
      const item = comp && call[1] === 'sum' ? chainWhole(comp[1]!)[0] : undefined;
      if (item && item.root === comp![2]) {
        return chainWhole(target).map((c) => ({
          root: c.root,
          steps: [...c.steps, { each: true }, ...item.steps],
          leaf: { value: 0 },
        }));
      }
      return chainWhole(target).map((c) => req(c, c.steps.length, { value: [] }));
    }
    return zeroOf(inner);
  }
  return chainWhole(t).flatMap((c) => {
    const last = c.calls.at(-1);
    if (last === 'call') return [];
    return [req(c, c.steps.length, { value: 0 })];
  });
}

/** The chain that is the whole of `expr`, if it is one. */
function chainWhole(expr: string): Chain[] {
  const t = expr.trim();
  return pyChains(t).filter((c) => c.start === 0 && c.ends.at(-1) === t.length && !c.calls.includes('expr'));
}

/** Deepest chains first: the longer access is the likelier culprit, and reproducing it reproduces the crash. */
function deepest<T extends { steps: Step[] }>(rs: T[]): T[] {
  return [...rs].sort((a, b) => b.steps.length - a.steps.length);
}

/** What the exception says about a chain on the faulting line. */
export function pyFaultRequirements(type: string, message: string, line: string): Requirement[] {
  const t = type.replace(/^.*\./, '');
  const chains = pyChains(line);
  const out: Requirement[] = [];
  const stepIs = (s: Step | undefined, pred: (s: Step) => boolean) => s !== undefined && pred(s);
  const masked = maskStrings(line);
  const none = /'NoneType'|"NoneType"|NoneType/;

  if (t === 'KeyError') {
    const key = reprValue(message.trim());
    if (key === undefined) return [];
    for (const c of chains) {
      c.steps.forEach((s, i) => {
        if ('key' in s && s.key === key && c.calls[i] !== 'get') out.push(req(c, i, { missingKey: key }));
      });
    }
    return deepest(out);
  }
  if (t === 'AttributeError' && none.test(message)) {
    const attr = /has no attribute '(\w+)'/.exec(message)?.[1];
    for (const c of chains) {
      c.steps.forEach((s, i) => {
        if (stepIs(s, (x) => 'attr' in x && x.attr === attr)) out.push(req(c, i, { value: null }));
      });
    }
    return deepest(out);
  }
  if (t === 'TypeError' && /object is not subscriptable/.test(message) && none.test(message)) {
    for (const c of chains)
      c.steps.forEach((s, i) => {
        if ('key' in s && c.calls[i] !== 'get') out.push(req(c, i, { value: null }));
      });
    return deepest(out);
  }
  if (t === 'TypeError' && /does not support item assignment/.test(message) && none.test(message)) {
    for (const c of chains) {
      c.steps.forEach((s, i) => {
        if ('key' in s) out.push(req(c, i, { value: null }));
      });
    }
    return deepest(out);
  }
  if (t === 'IndexError') {
    const value = /string/.test(message) ? '' : [];
    for (const c of chains)
      c.steps.forEach((s, i) => {
        if ('key' in s && typeof s.key !== 'string') out.push(req(c, i, { value }));
      });
    return deepest(out);
  }
  if (t === 'ZeroDivisionError') {
    for (const m of masked.matchAll(/(?<![/*])(\/\/|\/|%)(?!=)/g)) {
      const op = operandAt(line, m.index + m[0].length);
      if (op) out.push(...zeroOf(op.text));
    }
    // `total / count` with count a local: resolved by the caller through its assignment
    return out;
  }
  if (
    t === 'TypeError' &&
    /not iterable|has no len\(\)|cannot unpack non-iterable|not callable/.test(message) &&
    none.test(message)
  ) {
    const wrappers =
      /(?:\b(?:len|sum|list|sorted|set|tuple|max|min|enumerate|any|all|dict|iter|zip|reversed)\s*\(|\bin\s+|\*)\s*$/;
    for (const c of chains) {
      const before = line.slice(0, c.start);
      const after = line.slice(c.ends.at(-1)!);
      if (/not callable/.test(message)) {
        if (/^\s*\(/.test(after) && c.calls.at(-1) !== 'call') out.push(req(c, c.steps.length, { value: null }));
        continue;
      }
      if (/cannot unpack/.test(message)) {
        if (/=\s*$/.test(before) && /,/.test(before)) out.push(req(c, c.steps.length, { value: null }));
        continue;
      }
      if (c.calls.at(-1) === 'call') {
        // `", ".join(x.get("tags"))`: the argument, not the call
        continue;
      }
      if (wrappers.test(before) || /\.join\(\s*$/.test(before)) out.push(req(c, c.steps.length, { value: null }));
    }
    return deepest(out);
  }
  if (
    t === 'TypeError' &&
    (/unsupported operand type/.test(message) ||
      /not supported between instances/.test(message) ||
      /can only concatenate/.test(message))
  ) {
    const sides = /'(\w+)' and '(\w+)'/.exec(message);
    const leftNone = sides ? sides[1] === 'NoneType' : false;
    const rightNone = sides ? sides[2] === 'NoneType' : /can only concatenate/.test(message);
    // the operator the message names (`for +:`, `'<' not supported`), else any
    const named = /for ([^:\s]+):|'([^']+)' not supported/.exec(message);
    const op = named?.[1] ?? named?.[2] ?? (/concatenate/.test(message) ? '+' : undefined);
    const opRe = op
      ? new RegExp(`^${op.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}(?!=)`)
      : /^([-+*/%@&|^<>]=?|==|!=|\*\*|\/\/)(?!=)/;
    const opEnd = op ? new RegExp(`${op.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`) : /([-+*/%@&|^<>]=?|\*\*|\/\/)$/;
    for (const c of chains) {
      if (c.calls.at(-1) === 'call') continue;
      const before = masked.slice(0, c.start).trimEnd();
      const after = masked.slice(c.ends.at(-1)!).trimStart();
      const opAfter = opRe.test(after);
      const opBefore =
        opEnd.test(before) && !/[=!<>]=$/.test(before.slice(-2)) && !(op === '*' && /\*\*$/.test(before));
      if ((leftNone && opAfter) || (rightNone && opBefore)) out.push(req(c, c.steps.length, { value: null }));
    }
    return deepest(out);
  }
  if (t === 'ValueError' || t === 'JSONDecodeError') {
    const lit = /: (['"])([\s\S]*)\1\s*$/.exec(message);
    const calls: [RegExp, unknown][] = [
      [/\bint\s*\(\s*$/, lit?.[2] ?? 'x'],
      [/\bfloat\s*\(\s*$/, lit?.[2] ?? 'x'],
      [/\bDecimal\s*\(\s*$/, lit?.[2] ?? 'x'],
      [/\bfromisoformat\s*\(\s*$/, lit?.[2] ?? 'not a date'],
      [/\bstrptime\s*\(\s*$/, lit?.[2] ?? 'not a date'],
      [/\bloads\s*\(\s*$/, 'not json'],
      [/\b(max|min)\s*\(\s*$/, []],
    ];
    const wanted =
      t === 'JSONDecodeError' || /Expecting|JSON/.test(message)
        ? calls.slice(5, 6)
        : /arg is an empty sequence/.test(message)
          ? calls.slice(6)
          : calls.slice(0, 5);
    for (const c of chains) {
      if (c.calls.at(-1) === 'call') continue;
      const before = line.slice(0, c.start);
      for (const [re, value] of wanted) if (re.test(before)) out.push(req(c, c.steps.length, { value }));
    }
    return deepest(out);
  }
  if (t === 'StopIteration') {
    for (const c of chains) {
      const before = line.slice(0, c.start);
      if (/\bnext\s*\(\s*(iter\s*\(\s*)?$/.test(before) && c.calls.at(-1) !== 'call')
        out.push(req(c, c.steps.length, { value: [] }));
    }
    return deepest(out);
  }
  return out;
}

/** Prefixes a requirement on `chain` (`x.y` → requirement already on x.y…). */
function extend(c: Chain, r: Requirement): Requirement | undefined {
  if (c.calls.includes('call') || c.calls.includes('expr')) return undefined;
  return { root: c.root, steps: [...c.steps, ...r.steps], leaf: r.leaf };
}

/**
 * Moves a requirement on a local variable to what it was computed from: the nearest assignment above the
 * line (`x = order["items"]`, `x = order.get("items") or []` is refused: its default hides the value),
 * or the `for x in …` (a loop or a comprehension) that binds it.
 */
export function pyResolveLocal(fn: PyFunction, faultLine: number, r: Requirement): Requirement | undefined {
  const idx = faultLine - fn.defLine;
  const line = fn.lines[idx] ?? '';
  const name = r.root.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  // a comprehension on the same line
  const comp = new RegExp(`\\bfor\\s+${name}\\s+in\\s+`).exec(line);
  if (comp) {
    const rest = line.slice(comp.index + comp[0].length);
    const c = pyChains(rest).find((x) => x.start === 0);
    if (c) return extend(c, { root: r.root, steps: [{ each: true }, ...r.steps], leaf: r.leaf });
  }
  const faultIndent = indentOf(line);
  for (let i = idx - 1; i > 0; i--) {
    const l = fn.lines[i]!;
    if (blank(l)) continue;
    const loop = new RegExp(`^\\s*(?:async\\s+)?for\\s+${name}\\s+in\\s+(.+):\\s*(#.*)?$`).exec(l);
    if (loop && indentOf(l) < faultIndent) {
      const c = chainWhole(loop[1]!)[0];
      return c ? extend(c, { root: r.root, steps: [{ each: true }, ...r.steps], leaf: r.leaf }) : undefined;
    }
    const assign = new RegExp(`^\\s*${name}\\s*(?::[^=]+)?=(?!=)\\s*(.+?)\\s*(#.*)?$`).exec(l);
    if (assign) {
      const rhs = assign[1]!;
      const c = chainWhole(rhs)[0];
      if (c) return extend(c, r);
      // `n = len(items)` when the requirement is zero
      if ('value' in r.leaf && r.leaf.value === 0 && r.steps.length === 0) {
        const z = zeroOf(rhs)[0];
        return z;
      }
      return undefined;
    }
  }
  return undefined;
}

/**
 * Maps a requirement on `callee`'s parameter to the argument expression at its call on the caller's line,
 * giving a requirement in the caller's scope.
 */
export function pyThroughCall(
  callerLine: string,
  calleeName: string,
  params: Param[],
  r: Requirement,
): Requirement | undefined {
  const re = new RegExp(`(?:^|[^\\w])${calleeName}\\s*\\(`, 'g');
  for (const m of line(callerLine).matchAll(re)) {
    const open = m.index + m[0].length - 1;
    const args = balanced(callerLine, open);
    if (!args) continue;
    const parts = splitTopLevel(args.inner);
    const positional = params.filter((p) => !p.kwOnly && !p.rest && p.name !== 'self' && p.name !== 'cls');
    const index = positional.findIndex((p) => p.name === r.root);
    let expr: string | undefined;
    for (const [i, a] of parts.entries()) {
      const kw = /^([A-Za-z_]\w*)\s*=(?!=)\s*([\s\S]+)$/.exec(a);
      if (kw) {
        if (kw[1] === r.root) expr = kw[2];
      } else if (i === index) expr = a;
    }
    if (expr === undefined) return undefined;
    const c = chainWhole(expr)[0];
    return c ? extend(c, r) : undefined;
  }
  return undefined;
}

const line = (s: string) => maskStrings(s);

/** Value paths the function reads from `root` (directly, or through `for x in root[...]`), with leaf guesses. */
export function pyUses(fn: PyFunction, root: string): Use[] {
  const out: Use[] = [];
  const aliases = new Map<string, Step[]>([[root, []]]);
  for (const line of fn.lines.slice(1)) {
    const masked = maskStrings(line);
    for (const m of masked.matchAll(/\bfor\s+([A-Za-z_]\w*)\s+in\s+/g)) {
      const c = pyChains(line).find((x) => x.start === m.index + m[0].length);
      const base = c && aliases.get(c.root);
      if (c && base && !c.calls.some((k) => k === 'call' || k === 'expr'))
        aliases.set(m[1]!, [...base, ...c.steps, { each: true }]);
    }
    for (const c of pyChains(line)) {
      const base = aliases.get(c.root);
      if (!base || c.steps.length === 0) continue;
      const cut = c.calls.findIndex((k) => k === 'call' || k === 'expr');
      const steps = cut === -1 ? c.steps : c.steps.slice(0, cut);
      const method = cut !== -1 && c.calls[cut] === 'call' ? (c.steps[cut] as { attr: string }).attr : undefined;
      const before = masked.slice(0, c.start);
      const leaf = method
        ? leafForMethod(method, 'python')
        : /\b(len|sum|sorted|list|set|min|max|enumerate)\(\s*$|\bin\s+$/.test(before)
          ? []
          : 1;
      if (steps.length || base.length) out.push({ steps: [...base, ...steps], leaf });
    }
  }
  return out;
}
