/**
 * Ranking of verified candidates (pure). Verification says which candidates are fixes; ranking says which
 * one a reviewer gets. Keys, compared in order, the first that differs decides:
 *
 *   1. policy      `allow` before `review` (only an allowed fix can merge; denied ones never reach here)
 *   2. differential healthy answers compared and equal before `differential: none`
 *   3. answer fit  the answer's status class fits what the evidence says of the input: when the strategies
 *                  judged the failing input invalid (a handler-boundary validation was proposed with more
 *                  confidence than any fault-site fix), a 4xx beats a 2xx that would invent data; when they
 *                  judged it valid (the code already falls back on the missing value), the 2xx wins
 *   4. size        fewer changed source lines, in steps of five (a line or two is not a reason)
 *   5. strategy    the knowledge store's earlier fix, then the revert of a recent regression, then
 *                  validation at the request-handler boundary, then the fault-site fix, then the LLM's
 *   6. confidence  the strategy's own
 *   7. id          deterministic tie-break
 */

export type StatusClass = '2xx' | '3xx' | '4xx' | 'mixed' | null;

export interface RankInput {
  id: string;
  strategy: string;
  confidence: number;
  /** The candidate's git patch; its test file does not count toward its size. */
  patch: string;
  testFile?: string;
  policy: 'allow' | 'review';
  differential: { status: 'compared' | 'none'; mismatches: number };
  fixedStatusClass: StatusClass;
}

export interface Ranked<T extends RankInput> {
  candidate: T;
  /** The key values, best first, for the report: why this order. */
  keys: { policy: number; differential: number; fit: number; size: number; strategy: number; confidence: number };
}

/** Template variants that answer at the request-handler boundary (4xx). */
const BOUNDARY = /^template:.*:(validate|catch|check)$/;

export function strategyPrior(strategy: string): number {
  if (strategy.startsWith('knowledge:')) return 5;
  if (strategy === 'revert' || strategy.startsWith('revert:')) return 4;
  if (BOUNDARY.test(strategy)) return 3;
  if (strategy.startsWith('template:')) return 2;
  if (strategy === 'llm' || strategy.startsWith('llm:')) return 1;
  return 0;
}

/** Source lines a patch adds or removes, not counting its regression test. */
export function changedSourceLines(patch: string, testFile?: string): number {
  let file = '';
  let n = 0;
  for (const line of patch.split('\n')) {
    const header = /^diff --git a\/(.+) b\/(.+)$/.exec(line);
    if (header) {
      file = header[2]!;
      continue;
    }
    if (file === testFile || line.startsWith('+++') || line.startsWith('---')) continue;
    if (line.startsWith('+') || line.startsWith('-')) n++;
  }
  return n;
}

/**
 * Whether the strategies judged the failing input invalid: true when a boundary validation was proposed
 * with more confidence than any fault-site fix, false when a fault-site fix was the more confident, null
 * when the candidates say nothing either way (no template, or only one kind).
 */
export function inputJudgedInvalid(candidates: Pick<RankInput, 'strategy' | 'confidence'>[]): boolean | null {
  const boundary = candidates.filter((c) => BOUNDARY.test(c.strategy)).map((c) => c.confidence);
  const site = candidates
    .filter((c) => c.strategy.startsWith('template:') && !BOUNDARY.test(c.strategy))
    .map((c) => c.confidence);
  if (boundary.length === 0 || site.length === 0) return null;
  const b = Math.max(...boundary);
  const s = Math.max(...site);
  return b === s ? null : b > s;
}

function answerFit(c: RankInput, invalid: boolean | null): number {
  if (invalid === null || c.fixedStatusClass === null || c.fixedStatusClass === 'mixed') return 1;
  return (c.fixedStatusClass === '4xx') === invalid ? 2 : 0;
}

/**
 * Orders verified, gated candidates best first. `proposed` is every candidate diagnose produced (verified
 * or not): the judgement of the input comes from what was proposed, not only from what survived.
 */
export function rankCandidates<T extends RankInput>(
  verified: T[],
  proposed: Pick<RankInput, 'strategy' | 'confidence'>[] = verified,
): Ranked<T>[] {
  const invalid = inputJudgedInvalid(proposed);
  const ranked = verified.map((c) => ({
    candidate: c,
    keys: {
      policy: c.policy === 'allow' ? 1 : 0,
      differential: c.differential.status === 'compared' && c.differential.mismatches === 0 ? 1 : 0,
      fit: answerFit(c, invalid),
      size: -Math.ceil(changedSourceLines(c.patch, c.testFile) / 5),
      strategy: strategyPrior(c.strategy),
      confidence: c.confidence,
    },
  }));
  const order: (keyof Ranked<T>['keys'])[] = ['policy', 'differential', 'fit', 'size', 'strategy', 'confidence'];
  return ranked.sort((a, b) => {
    for (const k of order) if (a.keys[k] !== b.keys[k]) return b.keys[k] - a.keys[k];
    return a.candidate.id.localeCompare(b.candidate.id, 'en', { numeric: true });
  });
}
