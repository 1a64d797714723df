/**
 * Path globs for the policy config: `**` crosses directories (and matches dotfiles, unlike node's
 * path.matchesGlob), `*` and `?` stay inside one segment, `{a,b}` alternates. A pattern without a slash
 * matches the file name in any directory, as in .gitignore.
 */
const cache = new Map<string, RegExp>();

export function globToRegExp(glob: string): RegExp {
  const cached = cache.get(glob);
  if (cached) return cached;
  const pattern = glob.includes('/') ? glob.replace(/^\//, '') : `**/${glob}`;
  let out = '';
  let depth = 0;
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '*' && pattern[i + 1] === '*') {
      const slash = pattern[i + 2] === '/';
      out += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (ch === '*') out += '[^/]*';
    else if (ch === '?') out += '[^/]';
    else if (ch === '{') {
      out += '(?:';
      depth++;
    } else if (ch === '}' && depth > 0) {
      out += ')';
      depth--;
    } else if (ch === ',' && depth > 0) out += '|';
    else out += ch.replace(/[.+^$()|[\]\\]/g, '\\$&');
  }
  const re = new RegExp(`^${out}$`);
  cache.set(glob, re);
  return re;
}

export function matchesAny(path: string, globs: readonly string[]): boolean {
  return globs.some((g) => globToRegExp(g).test(path));
}
