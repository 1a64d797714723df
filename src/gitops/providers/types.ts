/**
 * What a delivery platform implements (Renovate-style platform modules: `local`, `github`, `gitlab`), and
 * what the delivery core (src/gitops/deliver.ts, called by src/pipeline/heal.ts) expects of it.
 *
 * Division of work: the core makes the commit, creates `suture/<short fingerprint>`, pushes it through the
 * git adapter (retries, timeouts, classified failures, rebase when origin moved) and journals every step.
 * Only then does it ask the provider for a proposal of that pushed branch, and, in auto mode with policy
 * `allow`, to merge it. A provider never pushes the default branch by itself except as `merge` below says.
 *
 * Idempotency (the core resumes a killed heal from its journal and may call these again):
 * - `findOpen(branch)` returns the open proposal whose source branch is `branch`, or null.
 * - `propose(req)` returns that open proposal (updated: title, body, labels, draft) when one exists, and
 *   creates one only when none does; `created` says which. Calling it twice never makes two.
 * - `merge(p)` on an already merged proposal answers `merged` again.
 *
 * Merging: `merged` means the fix is on the target branch now; `pending` means the platform will merge it
 * by itself once required checks pass (auto-merge set); `refused` means it will not be merged without a
 * human (draft, conflicts, checks failed, or the platform does not allow it). For `local`, the operator
 * decides: without SUTURE_LOCAL_MERGE=fast-forward its merge answers `refused` and the heal stays `proposed`;
 * with it, merge fast-forwards origin's target branch from the healed base to the fix commit under a lease
 * (`mergeFix` in src/gitops/repo.ts), which fails safely when the branch moved on.
 *
 * Tokens come from the environment and never appear in a returned string or an error message.
 */

export type ProviderName = 'local' | 'github' | 'gitlab';

export interface ProposalRequest {
  /** `suture/<short fingerprint>`, already pushed to origin. */
  branch: string;
  /** The branch the proposal merges into (origin's default branch). */
  target: string;
  /** The fix commit at the branch's tip, and the commit it sits on. */
  commit: string;
  base: string;
  fingerprint: string;
  incident: string;
  /** One line, made by suture (incident text flattened and redacted). */
  title: string;
  /** Markdown: the heal report (incident, root cause, diff summary, verdicts, policy, canary plan), redacted. */
  body: string;
  labels: string[];
  /** The policy said `review`: open as a draft / require a human. */
  draft: boolean;
}

export interface Proposal {
  provider: ProviderName;
  /** The pull/merge request number; null for `local`. */
  number: number | null;
  /** Where a human reads it: the PR's web URL, or (local) the path of the rendered body file. */
  url: string;
  branch: string;
  state: 'open' | 'merged' | 'closed';
}

export type MergeOutcome =
  | { state: 'merged'; detail: string }
  | { state: 'pending'; detail: string }
  | { state: 'refused'; detail: string };

export interface Provider {
  readonly name: ProviderName;
  findOpen(branch: string): Promise<Proposal | null>;
  propose(req: ProposalRequest): Promise<Proposal & { created: boolean }>;
  /** One more occurrence of the fingerprint while its proposal is open (a comment counting them). */
  noteRecurrence(p: Proposal, incident: string): Promise<void>;
  merge(p: Proposal, req: Pick<ProposalRequest, 'commit' | 'base' | 'target'>): Promise<MergeOutcome>;
}

/** What a provider is made from: the application repository, the state dir, the environment (tokens). */
export interface ProviderContext {
  repo: string;
  stateDir: string;
  env: NodeJS.ProcessEnv;
}
