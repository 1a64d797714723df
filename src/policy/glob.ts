/**
 * Path globs for the policy config: `**` crosses directories (and matches dotfiles, unlike node's
 * path.matchesGlob), `*` and `?` stay inside one segment, `{a,b}` alternates. A pattern without a slash
 * matches the file name in any directory, as in .gitignore.
 */
const cache = new Map<string, RegExp>();

export function globToRegExp(glob: string, ignoreCase = false): RegExp {
  const key = `${ignoreCase ? 'i' : 's'}:${glob}`;
  const cached = cache.get(key);
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
  const re = new RegExp(`^${out}$`, ignoreCase ? 'i' : '');
  cache.set(key, re);
  return re;
}

/** Exact match: for globs that widen what a change may do (source paths, secret exemptions). */
export function matchesAny(path: string, globs: readonly string[]): boolean {
  return globs.some((g) => globToRegExp(g).test(path));
}

/**
 * The form of a path that checkouts on case-insensitive or Windows file systems cannot tell apart from
 * it: Unicode NFC, and each segment without trailing dots and spaces (`.GitHub./` is `.github/` there).
 */
export function canonicalPath(path: string): string {
  return path
    .normalize('NFC')
    .split('/')
    .map((s) => (/^\.+$/.test(s) ? s : s.replace(/[. ]+$/, '')))
    .join('/');
}

/**
 * Guarding match: for globs that make a path stricter to change (CI, policies, tests, protected paths).
 * Case-insensitive on the canonical path, so no spelling of a guarded path escapes its class.
 */
export function matchesGuarded(path: string, globs: readonly string[]): boolean {
  const p = canonicalPath(path);
  return globs.some((g) => globToRegExp(g, true).test(p));
}
