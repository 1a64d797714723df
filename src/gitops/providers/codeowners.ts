/**
 * CODEOWNERS, read as data: who owns the paths a fix changes, so they are asked to review it. Pure.
 *
 * GitHub: the first of .github/CODEOWNERS, CODEOWNERS, docs/CODEOWNERS; `pattern owner…` lines, the last
 * matching pattern wins (one with no owners leaves the path unowned); owners are `@user`, `@org/team` or an
 * e-mail address (which cannot be requested as a reviewer, so it is left out). Patterns follow gitignore
 * (`*`, `?`, `**`, leading `/` anchors, trailing `/` means a directory) except that `!` and `[…]` are not
 * supported, and `dir/*` owns only the files directly in `dir`.
 * GitLab: the first of CODEOWNERS, docs/CODEOWNERS, .gitlab/CODEOWNERS; the same patterns, in `[Sections]`
 * (optionally `^[Optional]`, `[Name][2]`, with default owners after the header) each judged on its own,
 * owners of all sections combined; `!pattern` excludes a path from its section; `@@role` is left out.
 * `@name` may be a user or a group there: the provider tells them apart when it asks the API.
 */
import type { Reviewers } from './types.ts';

export type CodeownersFlavor = 'github' | 'gitlab';

export const CODEOWNERS_PATHS: Record<CodeownersFlavor, string[]> = {
  github: ['.github/CODEOWNERS', 'CODEOWNERS', 'docs/CODEOWNERS'],
  gitlab: ['CODEOWNERS', 'docs/CODEOWNERS', '.gitlab/CODEOWNERS'],
};

/** GitHub ignores a CODEOWNERS file over 3 MB. */
export const CODEOWNERS_MAX_BYTES = 3 * 1024 * 1024;

export interface CodeownersRule {
  pattern: string;
  regex: RegExp;
  owners: string[];
  section: string;
  exclude: boolean;
}

/** Splits on unescaped whitespace; `\ ` and `\#` stay in the token (unescaped later). */
function tokens(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === '\\' && i + 1 < line.length) {
      cur += c + line[++i];
    } else if (c === ' ' || c === '\t') {
      if (cur) out.push(cur);
      cur = '';
    } else if (c === '#' && cur === '') {
      break; // a comment after the owners
    } else {
      cur += c;
    }
  }
  if (cur) out.push(cur);
  return out;
}

function segmentRegex(seg: string): string {
  let re = '';
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i]!;
    if (c === '\\' && i + 1 < seg.length) re += escapeRe(seg[++i]!);
    else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += escapeRe(c);
  }
  return re;
}

function escapeRe(c: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(c) ? `\\${c}` : c;
}

/** A CODEOWNERS pattern as a regular expression over repository-relative file paths. */
export function patternRegex(pattern: string): RegExp {
  const dirOnly = pattern.endsWith('/');
  const trimmed = pattern.replace(/^\/+/, '').replace(/\/+$/, '');
  const anchored = pattern.startsWith('/') || trimmed.includes('/');
  const segs = trimmed.split('/');
  let re = anchored ? '^' : '^(?:.*/)?';
  segs.forEach((seg, i) => {
    const last = i === segs.length - 1;
    if (seg === '**') {
      re += last ? '.*' : '(?:.*/)?';
      return;
    }
    re += segmentRegex(seg);
    if (!last) re += '/';
  });
  const lastSeg = segs[segs.length - 1];
  if (lastSeg === '**') re += '$';
  else if (lastSeg === '*')
    re += '$'; // `dir/*`: the files directly in dir only
  else if (dirOnly) re += '/';
  else re += '(?:/|$)'; // the path itself, or everything under it when it names a directory
  return new RegExp(re);
}

const SECTION = /^\^?\[([^\]]+)\](?:\[\d+\])?(.*)$/;

export function parseCodeowners(text: string, flavor: CodeownersFlavor): CodeownersRule[] {
  const rules: CodeownersRule[] = [];
  let section = '';
  let defaults: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (flavor === 'gitlab') {
      const s = SECTION.exec(line);
      if (s) {
        section = s[1]!.trim().toLowerCase();
        defaults = tokens(s[2] ?? '');
        continue;
      }
    }
    const [first, ...owners] = tokens(line);
    if (!first) continue;
    let pattern = first;
    let exclude = false;
    if (pattern.startsWith('!')) {
      if (flavor === 'github') continue; // GitHub does not support negation: the line is ignored
      exclude = true;
      pattern = pattern.slice(1);
    }
    if (pattern === '') continue;
    rules.push({
      pattern,
      regex: patternRegex(pattern),
      owners: owners.length || exclude ? owners : defaults,
      section,
      exclude,
    });
  }
  return rules;
}

/** The owners of one path: per section the last matching rule, the sections' owners combined in order. */
export function ownersOf(rules: CodeownersRule[], path: string): string[] {
  const bySection = new Map<string, { owners: string[] | null; excluded: boolean }>();
  for (const r of rules) {
    if (!r.regex.test(path)) continue;
    const s = bySection.get(r.section) ?? { owners: null, excluded: false };
    if (r.exclude) s.excluded = true;
    else s.owners = r.owners;
    bySection.set(r.section, s);
  }
  const out: string[] = [];
  for (const s of bySection.values()) {
    if (s.excluded || !s.owners) continue;
    for (const o of s.owners) if (!out.includes(o)) out.push(o);
  }
  return out;
}

const USER = /^@([A-Za-z0-9](?:[A-Za-z0-9_.-]{0,254}))$/;
const TEAM = /^@([A-Za-z0-9][A-Za-z0-9_.-]*(?:\/[A-Za-z0-9_.-]+)+)$/;

/** The reviewers for a change: the owners of every changed path, users and teams apart, e-mails and roles left out. */
export function reviewersFor(rules: CodeownersRule[], paths: string[]): Reviewers {
  const users: string[] = [];
  const teams: string[] = [];
  for (const path of paths) {
    for (const owner of ownersOf(rules, path)) {
      const team = TEAM.exec(owner);
      const user = team ? null : USER.exec(owner);
      if (team && !teams.includes(team[1]!)) teams.push(team[1]!);
      else if (user && !users.includes(user[1]!)) users.push(user[1]!);
    }
  }
  return { users, teams };
}
