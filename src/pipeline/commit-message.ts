/**
 * The commit messages suture writes (candidate fixes, GitOps image bumps and their reverts), and the
 * trailers that mark them as suture's. Pure. Every piece of text that comes from the incident (the service,
 * the summary, the candidate's summary, which quotes names from the trace) is flattened to one line,
 * redacted and cut, so it can never add a line; the trailers are suture's own, in the last paragraph, which
 * holds nothing else, and each value is checked against the shape suture makes (an id, a fingerprint, a
 * commit), so none can be forged through incident text.
 */
import type { Candidate } from '../diagnose/types.ts';
import { safeLine } from '../incident/display.ts';
import type { Incident } from '../incident/types.ts';
import type { Verdict } from '../sandbox/verdict.ts';

/** Each trailer suture writes, and the shape its value must have. */
const TRAILERS = {
  'Suture-Incident': /^[0-9a-f]{12}-[0-9]{1,20}$/,
  'Suture-Fingerprint': /^[0-9a-f]{16}$/,
  'Suture-Candidate': /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/,
  'Suture-Verdict': /^(?:pass|fail)(?: \([a-z0-9 ,/=-]{1,200}\))?$/,
  'Suture-Action': /^(?:bump-image|revert-image)$/,
  'Suture-Service': /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/,
  'Suture-Reverts': /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/,
} as const;

export type TrailerKey = keyof typeof TRAILERS;
export type Trailers = Partial<Record<TrailerKey, string>>;

/** The trailer paragraph: keys in a fixed order, each value checked (a value of another shape is a bug). */
export function trailerBlock(t: Trailers): string {
  const lines: string[] = [];
  for (const key of Object.keys(TRAILERS) as TrailerKey[]) {
    const value = t[key];
    if (value === undefined) continue;
    if (!TRAILERS[key].test(value)) throw new Error(`internal: ${key} is not a value suture makes`);
    lines.push(`${key}: ${value}`);
  }
  return lines.join('\n');
}

/**
 * suture's trailers in a commit message: the last paragraph, only when every line of it is one of them
 * (git's own rule for a trailer block, made strict), values of the right shape. Empty when there is none.
 */
export function parseTrailers(message: string): Trailers {
  const paragraphs = message.replace(/\n+$/, '').split(/\n\s*\n/);
  const last = paragraphs.length > 1 ? (paragraphs.at(-1) ?? '') : '';
  const out: Trailers = {};
  for (const line of last.split('\n')) {
    const m = /^([A-Za-z-]+): (.*)$/.exec(line);
    const key = m?.[1] as TrailerKey | undefined;
    if (!m || !key || !(key in TRAILERS) || !TRAILERS[key].test(m[2] ?? '') || out[key] !== undefined) return {};
    out[key] = m[2];
  }
  return out;
}

/** The verification in one trailer value: what was shown, in suture's words (no incident text). */
export function verdictTrailer(
  v: Pick<Verdict, 'verdict' | 'reproduced' | 'fixed' | 'testsPassed' | 'regressionTest'> & {
    differential: { status: 'compared' | 'none'; compared: number; mismatches: readonly unknown[] };
  },
): string {
  const facts = [
    v.reproduced ? 'reproduced' : 'not reproduced',
    v.fixed ? 'fixed' : 'not fixed',
    v.testsPassed ? 'tests pass' : 'tests fail',
  ];
  if (v.regressionTest) {
    facts.push(
      v.regressionTest.failsBefore && v.regressionTest.passesAfter
        ? 'regression test red-green'
        : 'regression test unproven',
    );
  }
  if (v.differential.status === 'compared') {
    facts.push(
      `differential ${v.differential.compared - Math.min(v.differential.compared, v.differential.mismatches.length)}/${v.differential.compared}`,
    );
  }
  return `${v.verdict} (${facts.join(', ')})`;
}

/**
 * Incident text made inert for a hosting platform: `#12`, `org/repo#12`, `GH-12`, an issue or pull URL and
 * GitLab's `!12` become
 * references (and, after "fixes", close an issue when the commit lands on the default branch), `@name`
 * notifies. A space after the sigil keeps the text readable and makes it none of those.
 */
export function inertReferences(text: string): string {
  return text
    .replace(/([#!])(?=\d)/g, '$1 ')
    .replace(/\bGH-(?=\d)/gi, 'GH- ')
    .replace(/\/(issues|pull|merge_requests)\/(?=\d)/g, '/$1/ ')
    .replace(/@(?=[A-Za-z0-9_-])/g, '@ ');
}

export function commitMessage(
  incident: Pick<Incident, 'id' | 'service' | 'summary' | 'fingerprint'>,
  c: Pick<Candidate, 'id' | 'summary' | 'strategy' | 'confidence' | 'testFile'>,
  verdict: string,
): string {
  if (!/^[0-9a-f]{16}$/.test(incident.fingerprint)) throw new Error('internal: the fingerprint is not 16 hex digits');
  return [
    safeLine(inertReferences(`fix(${incident.service}): ${c.summary}`), 100),
    '',
    safeLine(inertReferences(`Incident ${incident.id}: ${incident.summary}`), 400),
    safeLine(`Strategy: ${c.strategy} (confidence ${c.confidence})`, 200),
    c.testFile ? safeLine(`Regression test: ${c.testFile}`, 300) : 'No regression test.',
    '',
    trailerBlock({
      'Suture-Incident': incident.id,
      'Suture-Fingerprint': incident.fingerprint,
      'Suture-Candidate': c.id,
      'Suture-Verdict': verdict,
    }),
  ].join('\n');
}

/**
 * The GitOps config repository commit that sets a service's image (bumpImage), or puts back the value a
 * bump replaced (revertBump, with `reverts`: the bump commit).
 */
export function imageMessage(b: {
  service: string;
  file: string;
  where: string;
  from: string;
  to: string;
  incident: string;
  fingerprint?: string;
  reverts?: string;
}): string {
  return [
    safeLine(`${b.reverts ? 'revert' : 'deploy'}(${b.service}): ${b.to}`, 100),
    '',
    safeLine(
      `${b.file} ${b.where}: ${b.from} -> ${b.to}${b.reverts ? `, undoing ${b.reverts.slice(0, 12)}` : ''}`,
      400,
    ),
    safeLine(
      b.reverts
        ? `The canary of the fix for incident ${b.incident} was aborted.`
        : `The verified fix for incident ${b.incident}, merged and built.`,
      200,
    ),
    '',
    trailerBlock({
      'Suture-Incident': b.incident,
      ...(b.fingerprint ? { 'Suture-Fingerprint': b.fingerprint } : {}),
      'Suture-Action': b.reverts ? 'revert-image' : 'bump-image',
      'Suture-Service': b.service,
      ...(b.reverts ? { 'Suture-Reverts': b.reverts } : {}),
    }),
  ].join('\n');
}
