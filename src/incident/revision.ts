/**
 * The revision an incident names (the commit the crashing version was built from): a crash report's
 * `revision`, or an Alertmanager label or annotation `revision` or `version`. It is attacker-controlled and
 * ends up on git's command line, so intake accepts only two shapes — a hex commit id, or a ref name as
 * `git check-ref-format` allows it, restricted to plain characters — never an option (`--output=…`), a
 * revision expression (`HEAD~3`, `main^{tree}`, `:/text`, `@{-1}`) or a path. Pure.
 */

export const REVISION_MAX = 255;

/** Labels and annotations that name the revision, most specific first (labels before annotations). */
export const REVISION_KEYS = ['revision', 'version'] as const;

/** Plain characters of a ref name; everything git treats specially (`~^:?*[\@{` and space) is left out. */
const REF_CHARS = /^[A-Za-z0-9._/+-]+$/;
const HEX_ID = /^[0-9a-f]{4,64}$/i;

/** Why `value` is not a revision intake accepts, or null when it is one. */
export function revisionProblem(value: string): string | null {
  if (value.length === 0) return 'must not be empty';
  if (value.length > REVISION_MAX) return `must be at most ${REVISION_MAX} characters`;
  if (HEX_ID.test(value)) return null;
  if (value.startsWith('-')) return 'must not start with "-"';
  if (!REF_CHARS.test(value)) return 'must be a commit id or a ref name (letters, digits, . _ / + -)';
  if (value.startsWith('/') || value.endsWith('/') || value.includes('//')) return 'must not have an empty component';
  if (value.includes('..')) return 'must not contain ".."';
  if (value.endsWith('.')) return 'must not end with "."';
  for (const component of value.split('/')) {
    if (component.startsWith('.')) return 'must not have a component starting with "."';
    if (component.endsWith('.lock')) return 'must not have a component ending with ".lock"';
  }
  return null;
}

export function isRevision(value: string): boolean {
  return revisionProblem(value) === null;
}

/**
 * The revision an alert names: label `revision`, annotation `revision`, label `version`, annotation
 * `version` — the first present, as [where, name, value] (validate it with revisionProblem).
 */
export function alertRevision(
  labels: Record<string, string>,
  annotations: Record<string, string>,
): [where: 'labels' | 'annotations', name: string, value: string] | undefined {
  for (const name of REVISION_KEYS) {
    if (Object.hasOwn(labels, name) && labels[name]) return ['labels', name, labels[name]];
    if (Object.hasOwn(annotations, name) && annotations[name]) return ['annotations', name, annotations[name]];
  }
  return undefined;
}
