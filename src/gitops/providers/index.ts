/**
 * The provider for a repository, chosen by the operator's environment (config.ts), and the reviewers its
 * CODEOWNERS names for a change, read at the base revision as a git blob (never from the working tree).
 */
import { SutureError } from '../../errors.ts';
import { originUrl, readBlobAt } from '../remote-info.ts';
import {
  CODEOWNERS_MAX_BYTES,
  CODEOWNERS_PATHS,
  type CodeownersFlavor,
  parseCodeowners,
  reviewersFor,
} from './codeowners.ts';
import { providerConfig } from './config.ts';
import { githubProvider } from './github.ts';
import { gitlabProvider } from './gitlab.ts';
import { type LocalProviderOptions, localProvider } from './local.ts';
import type { Provider, Reviewers } from './types.ts';

export { ProviderError } from './errors.ts';
export type { MergeOutcome, ProposalRef, ProposeRequest, ProposeResult, Provider, Reviewers } from './types.ts';

export interface CreateProviderOptions {
  repoDir: string;
  stateDir: string;
  env?: NodeJS.ProcessEnv;
  /** How the local provider merges (the delivery core's fast-forward through origin), if at all. */
  localMerge?: LocalProviderOptions['merge'];
}

function ms(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const v = env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new SutureError('BAD_CONFIG', `${name} must be a number of milliseconds`);
  return n;
}

export async function createProvider(opts: CreateProviderOptions): Promise<Provider> {
  const env = opts.env ?? process.env;
  const config = providerConfig(env, await originUrl(opts.repoDir));
  switch (config.kind) {
    case 'github':
      return githubProvider({
        apiUrl: config.apiUrl,
        token: config.token,
        owner: config.owner,
        repo: config.repo,
        mergeWaitMs: ms(env, 'SUTURE_MERGE_WAIT_MS', 600_000),
        mergePollMs: ms(env, 'SUTURE_MERGE_POLL_MS', 15_000),
      });
    case 'gitlab':
      return gitlabProvider({ url: config.url, token: config.token, project: config.project });
    default:
      return localProvider({ stateDir: opts.stateDir, ...(opts.localMerge ? { merge: opts.localMerge } : {}) });
  }
}

/** The owners CODEOWNERS (at `base`, the first file of the platform's locations) gives the changed paths. */
export async function codeOwnersFor(opts: {
  repoDir: string;
  base: string;
  paths: string[];
  flavor: CodeownersFlavor;
}): Promise<Reviewers> {
  for (const path of CODEOWNERS_PATHS[opts.flavor]) {
    const blob = await readBlobAt(opts.repoDir, opts.base, path, CODEOWNERS_MAX_BYTES);
    if (blob) return reviewersFor(parseCodeowners(blob.toString('utf8'), opts.flavor), opts.paths);
  }
  return { users: [], teams: [] };
}
