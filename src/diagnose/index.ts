/**
 * Diagnose: evidence → a `Diagnosis` and candidate patches. This first engine is template-based (one
 * template per crash class); the revert and LLM strategies plug in as further producers of `Candidate`s.
 */
import { innermostRepoFrame } from '../incident/paths.ts';
import type { ParsedTrace } from '../incident/types.ts';
import { makeGitPatch } from './patch.ts';
import { regressionTestFromRepo } from './regression-test.ts';
import { missingKey } from './templates/missing-key.ts';
import { missingProperty } from './templates/missing-property.ts';
import { zeroDivision } from './templates/zero-division.ts';
import type { Candidate, Diagnosis, RepairContext, Template } from './types.ts';

export type { Candidate, Diagnosis, RepairContext } from './types.ts';

export const TEMPLATES: Template[] = [zeroDivision, missingProperty, missingKey];

/** Exceptions that mean a dependency failed, not the service's own code: restart-and-page, not patch. */
const DEPENDENCY = [
  /ConnectionError$/,
  /ConnectionRefusedError$/,
  /ConnectionResetError$/,
  /TimeoutError$/,
  /^socket\.timeout$/,
  /OperationalError$/,
  /^requests\.exceptions\./,
  /^urllib3\.exceptions\./,
  /^(redis|psycopg2?|pymongo|sqlalchemy)\.exc(eptions)?\./,
  /^FetchError$/,
  /^AbortError$/,
];
const DEPENDENCY_MESSAGE = /\b(ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|connection refused)\b/i;

function classify(trace: ParsedTrace | undefined): Diagnosis['classification'] {
  if (!trace) return 'unknown';
  for (let t: ParsedTrace | undefined = trace; t; t = t.cause) {
    if (DEPENDENCY.some((re) => re.test(t!.exceptionType)) || DEPENDENCY_MESSAGE.test(t.message)) {
      return 'dependency-failure';
    }
  }
  return innermostRepoFrame(trace) ? 'code-defect' : 'unknown';
}

export async function diagnose(ctx: RepairContext): Promise<{ diagnosis: Diagnosis; candidates: Candidate[] }> {
  const trace = ctx.incident.trace;
  const classification = classify(trace);
  const frame = trace ? innermostRepoFrame(trace) : undefined;
  const location = frame?.repoPath
    ? { file: frame.repoPath, line: frame.line ?? 0, function: frame.function ?? '<unknown>' }
    : null;
  const candidates: Candidate[] = [];
  if (classification === 'code-defect') {
    const test = await regressionTestFromRepo(ctx);
    for (const t of TEMPLATES) {
      if (!t.matches(ctx)) continue;
      const proposal = await t.propose(ctx);
      if (!proposal) continue;
      const { edits, ...rest } = proposal;
      candidates.push({
        ...rest,
        id: `c${candidates.length + 1}`,
        patch: makeGitPatch(test ? [...edits, test] : edits),
        ...(test ? { testFile: test.path } : {}),
      });
    }
  }
  const rootCause = !trace
    ? 'no stack trace in the incident'
    : classification === 'dependency-failure'
      ? `a dependency failed (${trace.exceptionType}: ${trace.message}); not a defect in ${ctx.incident.service}'s code`
      : classification === 'unknown'
        ? `${trace.exceptionType} raised outside the repo's code`
        : `${trace.exceptionType}: ${trace.message} in ${location?.function} (${location?.file}:${location?.line})`;
  const confidence = candidates.length
    ? Math.max(...candidates.map((c) => c.confidence))
    : classification === 'code-defect'
      ? 0.3
      : 0.1;
  return { diagnosis: { classification, rootCause, location, confidence }, candidates };
}
