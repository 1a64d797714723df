/**
 * The one interface every delivery platform implements (Renovate-style platform modules): `local` (the
 * branch plus a rendered body file in the state dir), `github` (pull requests), `gitlab` (merge requests).
 * The caller pushes the branch first; a provider only ever talks about proposals for it, and never pushes
 * to the default branch: in auto mode a fix merges THROUGH its proposal.
 */

export type ProviderName = 'local' | 'github' | 'gitlab';

/** A proposal (pull request, merge request, or the local body file) as the platform shows it. */
export interface ProposalRef {
  /** The platform's number for it (GitHub's PR number, GitLab's MR iid); null for the local provider. */
  number: number | null;
  /** Where a human looks at it: the web URL, or the body file's path for the local provider. */
  url: string;
  /** The head branch it proposes. */
  branch: string;
  /** The commit its head branch points at, when the platform says. */
  headSha?: string;
  /** How many times this crash has been seen while the proposal was open (1 when it was created). */
  occurrences: number;
  draft: boolean;
}

export interface Reviewers {
  /** Logins (GitHub) or usernames (GitLab), without `@`. */
  users: string[];
  /** GitHub team slugs as `org/team`; GitLab groups (which cannot be reviewers, so they are reported). */
  teams: string[];
}

export interface ProposeRequest {
  /** The incident's fingerprint (16 hex digits): what makes two proposals the same. */
  fingerprint: string;
  /** The head branch, already pushed (suture/<short fingerprint>). */
  branch: string;
  /** The branch it should merge into (the default branch). */
  base: string;
  title: string;
  /** The rendered body (renderPullRequestBody); the provider adds its marker line and fits the limit. */
  body: string;
  labels: string[];
  reviewers: Reviewers;
  /** A draft when the policy says `review`: a human must approve before it can merge. */
  draft: boolean;
  /** Which incident this is, for the comment that counts a re-occurrence. */
  incident: { id: string; detectedAt: string };
}

export interface ProposeResult extends ProposalRef {
  /** `created`: a new proposal; `updated`: the open one for this fingerprint, its body refreshed. */
  action: 'created' | 'updated';
  /** What did not work but did not stop the proposal (a reviewer that could not be requested, …). */
  notes: string[];
}

export type MergeState = 'merged' | 'queued' | 'blocked';

export interface MergeOutcome {
  /** `merged`: it is in the base branch; `queued`: the platform merges it when its checks pass;
   * `blocked`: not merged, `detail` says why (the proposal stays open for a human). */
  state: MergeState;
  detail: string;
}

export interface MergeOptions {
  /** Use the platform's own auto-merge (GitHub auto-merge, GitLab "merge when the pipeline succeeds"). */
  auto: boolean;
  /** Merge only if the head is still this commit (the one that was verified and judged). */
  sha?: string;
}

export interface Provider {
  readonly name: ProviderName;
  /** The longest body the platform accepts, less the marker line: what renderPullRequestBody gets as maxChars. */
  readonly bodyLimit: number;
  /** The open proposal for a fingerprint (found by head branch and the hidden marker), or null. */
  findOpen(fingerprint: string, branch: string): Promise<ProposalRef | null>;
  /** Opens the proposal, or updates the open one for the fingerprint: never a second one. */
  propose(req: ProposeRequest): Promise<ProposeResult>;
  /**
   * Counts a re-occurrence on the open proposal (the marker's count, and a comment saying so) without
   * touching the rest of its body: a heal that stopped as `duplicate` has no new body to show.
   */
  reoccurred(pr: ProposalRef, incident: { id: string; detectedAt: string }): Promise<ProposalRef>;
  comment(pr: ProposalRef, text: string): Promise<void>;
  label(pr: ProposalRef, labels: string[]): Promise<void>;
  /** Merges through the proposal (auto mode, policy `allow`), never by pushing to the base branch. */
  merge(pr: ProposalRef, opts: MergeOptions): Promise<MergeOutcome>;
  /** Closes it (a canary abort, a superseded fix), with a comment saying why. */
  close(pr: ProposalRef, reason: string): Promise<void>;
}
