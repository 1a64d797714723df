/**
 * From a model's search/replace edits to whole-file edits of the base revision, or the reason they are
 * refused. Pure: the caller reads the base texts (confined to the tree; a symlink or special file reads as
 * undefined) and passes them in.
 *
 * An edit may change only a regular code file of the service's language that exists at the base revision
 * (the only thing a crash fix needs to touch): never a test, CI or
 * repository automation, test-runner configuration, a dependency manifest, a Dockerfile, a Kubernetes
 * manifest, the policies or suture.yaml (the path classes the policy gate uses), nor anything outside the
 * repo. Its search text must occur exactly once in the file. The one new file a candidate may add is its
 * regression test: a test path of the repo's language that does not exist yet, below no file or symlink.
 */
import type { Language } from '../../../incident/types.ts';
import { kindOf } from '../../../policy/classify.ts';
import { defaultPolicyConfig } from '../../../policy/config.ts';
import { canonicalPath } from '../../../policy/glob.ts';
import { runnerConfigKind } from '../../../policy/runner-config.ts';
import type { FileEdit } from '../../types.ts';
import type { LlmCandidate } from './answer.ts';

export interface RepoView {
  /** Repo-relative paths at the base revision (files and symlinks, as git lists them). */
  files: ReadonlySet<string>;
  testCommand: string;
  language: Language;
}

export type Checked<T> = { ok: true; value: T } | { ok: false; reason: string };

const POLICY = defaultPolicyConfig();
/** Code of the service's runtime: the only files a crash fix needs to touch. */
const CODE_EXTENSIONS: Record<Language, RegExp> = {
  python: /\.py$/,
  node: /\.(?:[cm]?[jt]s|[jt]sx)$/,
};

/** The repo-relative POSIX form of a path a model named, or why it is not one. */
export function normalisePath(raw: string): Checked<string> {
  // Control characters (NUL, newline) and backslashes have no place in a path a fix touches.
  if (/[\u0000-\u001f\u007f\\]/.test(raw)) return { ok: false, reason: `${JSON.stringify(raw)} is not a plain path` };
  if (raw.startsWith('/') || raw.startsWith('~') || /^[a-z]:/i.test(raw)) {
    return { ok: false, reason: `${JSON.stringify(raw)} is outside the repository (absolute)` };
  }
  const path = raw.replace(/^(?:\.\/)+/, '');
  const segments = path.split('/');
  if (segments.some((s) => s === '' || s === '.' || s === '..')) {
    return { ok: false, reason: `${JSON.stringify(raw)} is outside the repository or not normalised` };
  }
  if (segments.some((s) => canonicalPath(s).toLowerCase() === '.git')) {
    return { ok: false, reason: `${JSON.stringify(raw)} is inside .git` };
  }
  return { ok: true, value: path };
}

/** Why the model may not edit PATH (an existing file), or undefined when it may. */
export function editRefusal(path: string, view: RepoView): string | undefined {
  if (!view.files.has(path)) return `${path} is not a file of the repository at the base revision`;
  const kind = kindOf(path, POLICY, false);
  if (kind !== 'source')
    return `${path} is ${kind === 'other' ? 'not source code' : `a ${kind} file`}: an LLM candidate may not edit it`;
  if (runnerConfigKind(path, view.testCommand) !== null) {
    return `${path} configures the test runner: a candidate may not edit it`;
  }
  if (!CODE_EXTENSIONS[view.language].test(path)) return `${path} is not ${view.language} code`;
  return undefined;
}

/** Why the model may not add PATH as its regression test, or undefined when it may. */
export function testRefusal(path: string, view: RepoView): string | undefined {
  const key = canonicalPath(path).toLowerCase();
  for (const f of view.files) {
    const k = canonicalPath(f).toLowerCase();
    if (k === key) return `the regression test ${path} already exists: a candidate may add a test, not change one`;
    if (key.startsWith(`${k}/`)) return `the regression test ${path} lies below ${f}, a file or symlink`;
  }
  if (!CODE_EXTENSIONS[view.language].test(path)) {
    return `the regression test ${path} is not a ${view.language} file`;
  }
  if (kindOf(path, POLICY, false) !== 'test') return `the regression test ${path} is not at a test path`;
  if (runnerConfigKind(path, view.testCommand) !== null) {
    return `the regression test ${path} would be test-runner configuration`;
  }
  return undefined;
}

/** Every start index of `needle` in `hay`, overlapping ones included (so `aa` in `aaa` counts twice). */
function occurrences(hay: string, needle: string): number[] {
  const at: number[] = [];
  for (let i = hay.indexOf(needle); i !== -1; i = hay.indexOf(needle, i + 1)) at.push(i);
  return at;
}

/**
 * The whole-file edits and the new test of a candidate, against the base texts in `texts` (path → text;
 * undefined: unreadable, e.g. a symlink). Edits of one file are located in its base text and must not
 * overlap; a search text written with LF line ends matches a CRLF file.
 */
export function applyCandidate(
  c: LlmCandidate,
  view: RepoView,
  texts: ReadonlyMap<string, string | undefined>,
): Checked<{ edits: FileEdit[]; test: FileEdit }> {
  const byFile = new Map<string, { start: number; end: number; replace: string }[]>();
  for (const e of c.edits) {
    const p = normalisePath(e.file);
    if (!p.ok) return p;
    const path = p.value;
    const refusal = editRefusal(path, view);
    if (refusal) return { ok: false, reason: refusal };
    const base = texts.get(path);
    if (base === undefined) {
      return {
        ok: false,
        reason: `${path} cannot be read at the base revision (a symlink, a special file or too big)`,
      };
    }
    let search = e.search;
    let replace = e.replace;
    let at = occurrences(base, search);
    if (at.length === 0 && base.includes('\r\n') && !search.includes('\r')) {
      search = search.replace(/\n/g, '\r\n');
      replace = replace.replace(/\r?\n/g, '\r\n');
      at = occurrences(base, search);
    }
    if (at.length === 0) return { ok: false, reason: `the search text of an edit does not occur in ${path}` };
    if (at.length > 1) {
      return { ok: false, reason: `the search text of an edit occurs ${at.length} times in ${path}, not once` };
    }
    const list = byFile.get(path) ?? [];
    list.push({ start: at[0]!, end: at[0]! + search.length, replace });
    byFile.set(path, list);
  }
  const edits: FileEdit[] = [];
  for (const [path, list] of byFile) {
    list.sort((a, b) => a.start - b.start);
    for (let i = 1; i < list.length; i++) {
      if (list[i]!.start < list[i - 1]!.end) return { ok: false, reason: `two edits of ${path} overlap` };
    }
    const before = texts.get(path)!;
    let after = before;
    for (const r of [...list].reverse()) after = after.slice(0, r.start) + r.replace + after.slice(r.end);
    if (after !== before) edits.push({ path, before, after });
  }
  if (edits.length === 0) return { ok: false, reason: 'the edits change nothing' };
  const t = normalisePath(c.test.file);
  if (!t.ok) return { ok: false, reason: `regression test: ${t.reason}` };
  const refusal = testRefusal(t.value, view);
  if (refusal) return { ok: false, reason: refusal };
  if (byFile.has(t.value)) return { ok: false, reason: `the regression test ${t.value} is also edited` };
  const content = c.test.content.endsWith('\n') ? c.test.content : `${c.test.content}\n`;
  return { ok: true, value: { edits, test: { path: t.value, after: content } } };
}

/** The repo's test files (for the prompt and the injection rule's baseline). */
export function testFilesOf(files: Iterable<string>): string[] {
  return [...files].filter((f) => kindOf(f, POLICY, false) === 'test').sort();
}

/** The repo's code files a candidate may edit, for the prompt's file list. */
export function sourceFilesOf(files: Iterable<string>, view: Omit<RepoView, 'files'>): string[] {
  const set = new Set(files);
  return [...set].filter((f) => editRefusal(f, { ...view, files: set }) === undefined).sort();
}
