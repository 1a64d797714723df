/**
 * Refs read as data. The repository's refs are copied into suture's shadow git dir (src/gitops/git.ts) from
 * the files git keeps them in (packed-refs, loose ref files, HEAD), so no git command has to run with the
 * repository's own configuration to resolve a revision. Pure functions; the file reading is in refstore.ts.
 */

export type ObjectFormat = 'sha1' | 'sha256';

const OID: Record<ObjectFormat, RegExp> = { sha1: /^[0-9a-f]{40}$/, sha256: /^[0-9a-f]{64}$/ };

export function isOid(text: string, format: ObjectFormat): boolean {
  return OID[format].test(text);
}

/** git check-ref-format's rules, for a full name under refs/. Anything else is skipped, never guessed at. */
export function isValidRefName(name: string): boolean {
  if (!name.startsWith('refs/') || name.endsWith('/') || name.endsWith('.')) return false;
  if (name.includes('..') || name.includes('//') || name.includes('@{')) return false;
  if (/[\u0000-\u0020\u007f~^:?*[\\]/.test(name)) return false;
  return name.split('/').every((c) => c !== '' && !c.startsWith('.') && !c.endsWith('.lock'));
}

/** `<oid> <refname>` lines of a packed-refs file; the header and `^<peeled>` lines are left out. */
export function parsePackedRefs(text: string, format: ObjectFormat): Map<string, string> {
  const refs = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#') || line.startsWith('^')) continue;
    const space = line.indexOf(' ');
    const oid = line.slice(0, space);
    const name = line.slice(space + 1);
    if (space > 0 && isOid(oid, format) && isValidRefName(name)) refs.set(name, oid);
  }
  return refs;
}

export type LooseRef = { oid: string } | { symref: string };

/** A loose ref file (or HEAD): an object id, or `ref: <target>`; null when it is neither. */
export function parseLooseRef(text: string, format: ObjectFormat): LooseRef | null {
  const value = text.replace(/\n$/, '');
  if (value.includes('\n')) return null;
  if (value.startsWith('ref: ')) {
    const target = value.slice(5);
    return isValidRefName(target) ? { symref: target } : null;
  }
  return isOid(value, format) ? { oid: value } : null;
}

/** Loose refs override packed ones; symbolic loose refs are followed (a few levels) to an object id. */
export function mergeRefs(packed: Map<string, string>, loose: Map<string, LooseRef>): Map<string, string> {
  const refs = new Map(packed);
  for (const [name, ref] of loose) if ('oid' in ref) refs.set(name, ref.oid);
  for (const [name, ref] of loose) {
    if (!('symref' in ref)) continue;
    const oid = followSymref(ref.symref, refs, loose);
    if (oid) refs.set(name, oid);
    else refs.delete(name);
  }
  return refs;
}

export function followSymref(
  target: string,
  refs: Map<string, string>,
  loose: Map<string, LooseRef> = new Map(),
): string | null {
  let name = target;
  for (let depth = 0; depth < 5; depth++) {
    const next = loose.get(name);
    if (next && 'symref' in next) {
      name = next.symref;
      continue;
    }
    return refs.get(name) ?? null;
  }
  return null;
}

/** A packed-refs file git reads back as-is (no traits claimed: git sorts and peels by itself). */
export function packedRefsText(refs: Map<string, string>): string {
  return [...refs].map(([name, oid]) => `${oid} ${name}\n`).join('');
}

/**
 * Why `name` cannot be created next to the existing refs: it exists, or a directory/file conflict
 * (a ref `refs/heads/a` forbids `refs/heads/a/b` and the other way round). Null when it can.
 */
export function refConflict(name: string, existing: Iterable<string>): string | null {
  for (const other of existing) {
    if (other === name) return `${name} already exists`;
    if (other.startsWith(`${name}/`) || name.startsWith(`${other}/`)) return `${name} conflicts with ${other}`;
  }
  return null;
}
