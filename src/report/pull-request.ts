/**
 * The body of the pull (or merge) request that proposes a verified fix: the incident, the root cause, what
 * the change touches, the verification verdict, the policy decision and the canary plan. Pure.
 *
 * The body is rendered Markdown on GitHub and GitLab, where text can do things: `@name` notifies people,
 * `#12` and `Fixes #12` link and close issues, `<!--` hides everything after it from the reviewer, images
 * load from anywhere. Every piece of text that comes from the incident, the repository or a candidate (paths,
 * summaries, reasons, function names) is therefore shown only inside a code span or a fenced block, where
 * none of that applies, after being put on one line, redacted and cut. The whole body passes the redactor
 * again and is kept under the platform's size limit by shortening the diff first, then dropping whole
 * sections, never by cutting through a table or a fence.
 */
import { parsePatch } from 'diff';
import type { RolloutStep } from '../canary/local/steps.ts';
import type { Diagnosis } from '../diagnose/types.ts';
import { redact } from '../evidence/redact.ts';
import { safeLine } from '../incident/display.ts';
import type { Incident } from '../incident/types.ts';
import type { CandidateResult } from '../pipeline/heal.ts';
import { fenced } from './markdown.ts';

/** GitHub refuses a pull request body over 65536 characters. */
export const GITHUB_BODY_LIMIT = 65_536;

export interface CanaryPlan {
  /** The Rollout's name. */
  name: string;
  steps: RolloutStep[];
  backgroundAnalysis: string[];
}

export interface PullRequestBodyInput {
  incident: Pick<Incident, 'id' | 'fingerprint' | 'service' | 'environment' | 'detectedAt' | 'summary'>;
  diagnosis: Pick<Diagnosis, 'classification' | 'rootCause' | 'location' | 'confidence'> | null;
  candidates: CandidateResult[];
  /** The id of the candidate this request proposes. */
  chosen: string;
  /** Its unified diff. */
  patch: string;
  branch: string;
  commit: string;
  mode: 'propose' | 'auto';
  /** The service's Argo Rollouts canary, or null when none is configured. */
  canary: CanaryPlan | null;
  /** Times this crash was seen while the request was open (the first time: 1). */
  occurrences?: number;
  /** The platform's limit for the body (what the provider leaves after its marker line). */
  maxChars?: number;
}

/**
 * Untrusted text as an inline code span: one line, redacted, cut; fenced with more backticks than it holds
 * (padded when it starts or ends with one, as CommonMark strips one space each side). `inTable` escapes `|`,
 * which GFM tables split cells on even inside code spans.
 */
export function codeSpan(text: string, max = 200, inTable = false): string {
  let s = safeLine(text, max);
  if (s === '') return '—';
  if (inTable) s = s.replace(/\|/g, '\\|');
  const longest = Math.max(0, ...[...s.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  const pad = s.startsWith('`') || s.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${s}${pad}${fence}`;
}

const td = (text: string, max = 200) => codeSpan(text, max, true);
const yes = (ok: boolean) => (ok ? 'yes' : '**no**');

interface FileStat {
  path: string;
  added: number;
  removed: number;
}

/** Files the diff touches, with added and removed line counts; a diff that does not parse gives none. */
export function diffStat(patch: string): FileStat[] {
  let parsed: ReturnType<typeof parsePatch>;
  try {
    parsed = parsePatch(patch);
  } catch {
    return [];
  }
  const strip = (name: string | undefined) => (name ?? '').replace(/^[ab]\//, '');
  return parsed
    .filter((f) => f.hunks.length > 0 || f.oldFileName || f.newFileName)
    .map((f) => {
      const newName = strip(f.newFileName);
      let added = 0;
      let removed = 0;
      for (const h of f.hunks) {
        for (const l of h.lines) {
          if (l.startsWith('+')) added++;
          else if (l.startsWith('-')) removed++;
        }
      }
      return { path: newName && newName !== '/dev/null' ? newName : strip(f.oldFileName), added, removed };
    });
}

function stepText(s: RolloutStep): string {
  switch (s.kind) {
    case 'setWeight':
      return `send ${s.weight}% of traffic to the canary`;
    case 'pause':
      return s.seconds === null ? 'pause until promoted' : `pause ${s.seconds} s`;
    case 'analysis':
      return `run analysis ${s.templates.map((t) => codeSpan(t, 80)).join(', ')}`;
    default:
      return `${codeSpan(s.name, 80)} (not rehearsed by suture)`;
  }
}

const MAX_FILES = 50;
const MAX_CANDIDATES = 20;
const MAX_VIOLATIONS = 20;

function headerSection(i: PullRequestBodyInput, chosen: CandidateResult | undefined): string[] {
  const inc = i.incident;
  const seen = (i.occurrences ?? 1) > 1 ? `, seen **${i.occurrences}** times while this was open` : '';
  const out = [
    `suture verified a fix for a crash of ${codeSpan(inc.service, 100)} in ${codeSpan(inc.environment, 100)}.`,
    '',
    '| | |',
    '|---|---|',
    `| Incident | ${td(inc.id, 60)}, fingerprint ${td(inc.fingerprint, 20)}, detected ${td(inc.detectedAt, 40)}${seen} |`,
    `| Summary | ${td(inc.summary, 400)} |`,
  ];
  const d = i.diagnosis;
  if (d) {
    out.push(`| Root cause | ${td(d.rootCause, 600)} |`);
    if (d.location) {
      const fn = d.location.function ? ` in ${td(d.location.function, 120)}` : '';
      out.push(`| Location | ${td(`${d.location.file}:${d.location.line}`, 300)}${fn} |`);
    }
    out.push(`| Diagnosis | ${d.classification}, confidence ${d.confidence} |`);
  }
  if (chosen) out.push(`| Fix | ${td(chosen.id, 60)} (${td(chosen.strategy, 60)}): ${td(chosen.summary, 300)} |`);
  out.push(`| Branch | ${td(i.branch, 120)} at ${td(i.commit.slice(0, 12), 20)} |`);
  return out;
}

function verificationSection(chosen: CandidateResult | undefined): string[] {
  const v = chosen?.verdict;
  if (!v) return ['', '## Verification', '', 'No verification verdict was recorded for this candidate.'];
  const out = [
    '',
    '## Verification',
    '',
    `Verdict: **${v.verdict}** (${Math.round(v.durationMs / 1000)} s in the sandbox)`,
    '',
  ];
  out.push('| check | result |', '|---|---|');
  out.push(`| crash reproduced on the base revision | ${yes(v.reproduced)} |`);
  out.push(
    `| failing requests answered without a 5xx | ${yes(v.fixed)}${v.fixedStatusClass ? ` (${v.fixedStatusClass})` : ''} |`,
  );
  out.push(`| repository tests pass | ${yes(v.testsPassed)} |`);
  if (v.regressionTest) {
    const r = v.regressionTest;
    out.push(
      `| regression test ${td(r.file, 200)} | fails before: ${yes(r.failsBefore)}, passes after: ${yes(r.passesAfter)} |`,
    );
  } else {
    out.push('| regression test | none added |');
  }
  const diff = v.differential;
  out.push(
    `| differential replay | ${
      diff.status === 'compared'
        ? `${diff.compared} healthy request(s) compared, ${diff.mismatches.length + diff.omitted} mismatch(es)`
        : 'no healthy request compared'
    } |`,
  );
  if (v.installNetwork) out.push(`| dependency install network | ${v.installNetwork} |`);
  for (const reason of v.reasons.slice(0, 5)) out.push(`| note | ${td(reason, 300)} |`);
  return out;
}

function policySection(i: PullRequestBodyInput, chosen: CandidateResult | undefined): string[] {
  const p = chosen?.policy;
  const out = ['', '## Policy decision', ''];
  if (!p) return [...out, 'No policy decision was recorded: treat this as **review**.'];
  const what =
    p.decision === 'allow'
      ? i.mode === 'auto'
        ? 'the policy allows an autonomous fix: suture merges it through this request once the required checks pass.'
        : 'the policy allows this fix; suture runs in propose mode, so a human merges it.'
      : p.decision === 'review'
        ? 'a human must review and approve this fix before it merges.'
        : 'the policy denies this change: it must not merge.';
  out.push(`**${p.decision}**: ${what}`);
  if (p.violations.length) {
    out.push('', '| rule | message | path |', '|---|---|---|');
    for (const v of p.violations.slice(0, MAX_VIOLATIONS)) {
      out.push(`| ${td(v.id, 80)} | ${td(v.message, 300)} | ${v.path ? td(v.path, 200) : '—'} |`);
    }
    if (p.violations.length > MAX_VIOLATIONS) out.push('', `… and ${p.violations.length - MAX_VIOLATIONS} more.`);
  }
  return out;
}

function changeSection(stats: FileStat[]): string[] {
  const out = ['', '## Change', ''];
  if (stats.length === 0) return [...out, 'The diff could not be summarised; see the branch.'];
  const added = stats.reduce((n, f) => n + f.added, 0);
  const removed = stats.reduce((n, f) => n + f.removed, 0);
  out.push(`${stats.length} file(s), +${added} −${removed}`, '', '| file | + | − |', '|---|---|---|');
  for (const f of stats.slice(0, MAX_FILES)) out.push(`| ${td(f.path, 300)} | ${f.added} | ${f.removed} |`);
  if (stats.length > MAX_FILES) out.push('', `… and ${stats.length - MAX_FILES} more file(s).`);
  return out;
}

function candidatesSection(i: PullRequestBodyInput): string[] {
  if (i.candidates.length <= 1) return [];
  const out = ['', '## Candidates', '', '| id | strategy | verdict | policy | summary |', '|---|---|---|---|---|'];
  for (const c of i.candidates.slice(0, MAX_CANDIDATES)) {
    const mark = c.id === i.chosen ? ' (chosen)' : '';
    out.push(
      `| ${td(c.id, 60)}${mark} | ${td(c.strategy, 60)} | ${c.verdict?.verdict ?? '—'} | ${c.policy?.decision ?? '—'} | ${td(c.summary, 200)} |`,
    );
  }
  if (i.candidates.length > MAX_CANDIDATES) out.push('', `… and ${i.candidates.length - MAX_CANDIDATES} more.`);
  return out;
}

function canarySection(c: CanaryPlan | null): string[] {
  const out = ['', '## Canary plan', ''];
  if (!c) {
    return [
      ...out,
      'No canary is configured for this service: once merged, the change ships as your pipeline ships any other.',
    ];
  }
  out.push(
    `Rollout ${codeSpan(c.name, 120)}, judged by suture (it aborts when the canary's error rate regresses):`,
    '',
  );
  for (const [n, s] of c.steps.entries()) out.push(`${n + 1}. ${stepText(s)}`);
  if (c.steps.length === 0) out.push('- no steps: the Rollout promotes at once');
  if (c.backgroundAnalysis.length) {
    out.push('', `Background analysis: ${c.backgroundAnalysis.map((t) => codeSpan(t, 80)).join(', ')}.`);
  }
  return out;
}

const FOOTER = [
  '',
  '---',
  '<sub>Opened by suture. When this crash happens again while this request is open, suture updates this description and comments; it never opens a second request for it.</sub>',
];

/** The diff as a collapsed fenced block of at most `budget` characters, or nothing when not even a line fits. */
function diffSection(patch: string, budget: number): string[] {
  const lines = redact(patch).text.replace(/\n$/, '').split('\n');
  const wrap = (body: string[], cut: number) => [
    '',
    '<details><summary>Diff</summary>',
    '',
    ...fenced(body, 'diff'),
    ...(cut > 0 ? ['', `… ${cut} more line(s): see the branch.`] : []),
    '',
    '</details>',
  ];
  const size = (x: string[]) => x.join('\n').length + 1;
  if (size(wrap(lines, 0)) <= budget) return wrap(lines, 0);
  // Binary search on the number of lines kept.
  let lo = 0;
  let hi = lines.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (size(wrap(lines.slice(0, mid), lines.length - mid)) <= budget) lo = mid;
    else hi = mid - 1;
  }
  return lo === 0 ? [] : wrap(lines.slice(0, lo), lines.length - lo);
}

export function renderPullRequestBody(i: PullRequestBodyInput): string {
  const max = i.maxChars ?? GITHUB_BODY_LIMIT;
  const chosen = i.candidates.find((c) => c.id === i.chosen);
  const stats = diffStat(i.patch);
  const clean = (lines: string[]) => redact(lines.join('\n')).text;
  const fixed = [clean(headerSection(i, chosen)), clean(verificationSection(chosen)), clean(policySection(i, chosen))];
  // Dropped in this order (last first) when the body would not fit otherwise.
  const optional = [clean(changeSection(stats)), clean(canarySection(i.canary)), clean(candidatesSection(i))];
  const footer = FOOTER.join('\n');
  const join = (parts: string[]) => parts.filter((p) => p !== '').join('\n');
  while (optional.length && join([...fixed, ...optional, footer]).length + 1 > max) optional.pop();
  const head = join([...fixed, ...optional]);
  const room = max - head.length - footer.length - 2;
  const diff = room > 0 ? diffSection(i.patch, room).join('\n') : '';
  const body = `${join([head, diff, footer])}\n`;
  // Only a body whose fixed sections alone exceed the limit gets here; cut at a line, the footer kept.
  if (body.length <= max) return body;
  const keep = head.slice(0, Math.max(0, max - footer.length - 80));
  return `${keep.slice(0, keep.lastIndexOf('\n'))}\n\n… cut to fit the platform's size limit.\n${footer}\n`.slice(
    0,
    max,
  );
}
