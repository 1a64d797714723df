/**
 * Glob patterns as the runners read them, compiled to regular expressions over repo-relative POSIX paths:
 *   glob      micromatch/picomatch/node:fs glob style (jest testMatch, vitest include, mocha spec, node --test):
 *             `**`, `*`, `?`, `[...]`, `{a,b}`, extglobs `?(…) *(…) +(…) @(…) !(…)`
 *   shell     what `sh` expands: `*` and `?` never cross `/`, `**` is just `*`, no braces
 *   fnmatch   Python's fnmatch (pytest python_files, unittest -p): `*` crosses everything, `[!…]`
 * Pure.
 */

function escapeChar(c: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(c) ? `\\${c}` : c;
}

/** The index of the bracket or paren closing the one at `open`, or -1. */
function closing(p: string, open: number, o: string, c: string): number {
  let depth = 0;
  for (let i = open; i < p.length; i++) {
    if (p[i] === '\\') {
      i++;
      continue;
    }
    if (p[i] === o) depth++;
    else if (p[i] === c && --depth === 0) return i;
  }
  return -1;
}

/** Splits `a,b{c,d}` on top-level commas (and `a|b` on top-level bars for extglobs). */
function splitTop(p: string, sep: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    if (c === '\\') i++;
    else if (c === '{' || c === '(' || c === '[') depth++;
    else if (c === '}' || c === ')' || c === ']') depth--;
    else if (c === sep && depth === 0) {
      out.push(p.slice(start, i));
      start = i + 1;
    }
  }
  out.push(p.slice(start));
  return out;
}

function classBody(body: string): string {
  const neg = body.startsWith('!') || body.startsWith('^');
  const inner = (neg ? body.slice(1) : body).replace(/\\/g, '\\\\').replace(/]/g, '\\]');
  return neg ? `[^/${inner}]` : `[${inner}]`;
}

function globBody(p: string, dot: boolean): string {
  let out = '';
  // A segment start is where `*` may not match a leading dot (unless dot is set).
  const segStart = (i: number) => i === 0 || p[i - 1] === '/';
  const noDot = (i: number) => (!dot && segStart(i) ? '(?!\\.)' : '');
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '\\') {
      out += escapeChar(p[i + 1] ?? '\\');
      i++;
      continue;
    }
    if ('?*+@!'.includes(c) && p[i + 1] === '(') {
      const end = closing(p, i + 1, '(', ')');
      if (end !== -1) {
        const alts = splitTop(p.slice(i + 2, end), '|').map((a) => globBody(a, dot));
        const group = `(?:${alts.join('|')})`;
        if (c === '?') out += `${group}?`;
        else if (c === '*') out += `${group}*`;
        else if (c === '+') out += `${group}+`;
        else if (c === '@') out += group;
        else out += `(?:(?!${group})[^/])*`;
        i = end;
        continue;
      }
    }
    if (c === '*') {
      if (p[i + 1] === '*' && segStart(i) && (p[i + 2] === '/' || i + 2 === p.length)) {
        // `**/` : zero or more whole directories; a trailing `**`: anything below.
        const seg = dot ? '[^/]+' : '(?!\\.)[^/]+';
        if (p[i + 2] === '/') {
          out += `(?:${seg}/)*`;
          i += 2;
        } else {
          out += `(?:${seg}(?:/${seg})*)?`;
          i += 1;
        }
        continue;
      }
      while (p[i + 1] === '*') i++;
      out += `${noDot(i)}[^/]*`;
      continue;
    }
    if (c === '?') {
      out += `${noDot(i)}[^/]`;
      continue;
    }
    if (c === '[') {
      const end = p.indexOf(']', i + 2);
      if (end !== -1) {
        out += classBody(p.slice(i + 1, end));
        i = end;
        continue;
      }
    }
    if (c === '{') {
      const end = closing(p, i, '{', '}');
      if (end !== -1) {
        const alts = splitTop(p.slice(i + 1, end), ',');
        if (alts.length > 1) {
          out += `(?:${alts.map((a) => globBody(a, dot)).join('|')})`;
          i = end;
          continue;
        }
      }
    }
    out += escapeChar(c);
  }
  return out;
}

/** micromatch-style glob over a repo-relative path (`./` prefixes ignored). */
export function globRegExp(pattern: string, opts: { dot?: boolean } = {}): RegExp {
  const p = pattern.replace(/^(\.\/)+/, '');
  return new RegExp(`^${globBody(p, opts.dot ?? false)}$`);
}

export function globMatch(pattern: string, path: string, opts: { dot?: boolean } = {}): boolean {
  return globRegExp(pattern, opts).test(path);
}

/** What `sh` expands an unquoted glob word to matching: `*`/`?` within one component, `**` as `*`. */
export function shellGlobRegExp(pattern: string): RegExp {
  const p = pattern.replace(/^(\.\/)+/, '');
  let out = '';
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    const start = i === 0 || p[i - 1] === '/';
    if (c === '*') {
      while (p[i + 1] === '*') i++;
      out += `${start ? '(?!\\.)' : ''}[^/]*`;
    } else if (c === '?') out += `${start ? '(?!\\.)' : ''}[^/]`;
    else if (c === '[') {
      const end = p.indexOf(']', i + 2);
      if (end === -1) out += '\\[';
      else {
        out += classBody(p.slice(i + 1, end));
        i = end;
      }
    } else if (c === '\\') {
      out += escapeChar(p[i + 1] ?? '\\');
      i++;
    } else out += escapeChar(c);
  }
  return new RegExp(`^${out}$`);
}

const FNMATCH = new Map<string, RegExp>();

/** Python's fnmatch.fnmatch (case-sensitive, as on POSIX). Compiled once per pattern: it runs per file. */
export function fnmatch(name: string, pattern: string): boolean {
  let re = FNMATCH.get(pattern);
  if (!re) {
    let out = '';
    for (let i = 0; i < pattern.length; i++) {
      const c = pattern[i]!;
      if (c === '*') out += '.*';
      else if (c === '?') out += '.';
      else if (c === '[') {
        const end = pattern.indexOf(']', i + 2);
        if (end === -1) out += '\\[';
        else {
          let body = pattern.slice(i + 1, end);
          const neg = body.startsWith('!');
          if (neg) body = body.slice(1);
          out += `[${neg ? '^' : ''}${body.replace(/\\/g, '\\\\')}]`;
          i = end;
        }
      } else out += escapeChar(c);
    }
    re = new RegExp(`^${out}$`, 's');
    if (FNMATCH.size < 1000) FNMATCH.set(pattern, re);
  }
  return re.test(name);
}

/** Whether a word has glob syntax at all. */
export function hasGlob(word: string): boolean {
  return /[*?[{]|[?*+@!]\(/.test(word);
}
