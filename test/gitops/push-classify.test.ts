/**
 * Issue 11, item 1: a failed push is told in one line, classified as the hosting platforms word it —
 * protected branch, authentication, non-fast-forward, remote unreachable — and only the network is retried.
 */
import { describe, expect, it } from 'vitest';
import { classifyGitFailure, describeGitFailure } from '../../src/gitops/remote.ts';

describe('what GitHub, GitLab, Bitbucket, Azure DevOps and Gitea say', () => {
  it.each([
    [
      'GitLab protected branch',
      'remote: GitLab: You are not allowed to push code to protected branches on this project.\nTo gitlab.com:a/b.git\n ! [remote rejected] main -> main (pre-receive hook declined)',
      'protected-branch',
    ],
    [
      'GitLab force push',
      'remote: GitLab: You are not allowed to force push code to a protected branch on this project.',
      'protected-branch',
    ],
    [
      'GitHub rulesets',
      'remote: error: GH013: Repository rule violations found for refs/heads/main.\nremote: - Changes must be made through a pull request.\n ! [remote rejected] main -> main (push declined due to repository rule violations)',
      'protected-branch',
    ],
    [
      'Bitbucket',
      'remote: Branch refs/heads/main can only be modified through pull requests.\n ! [remote rejected] main -> main (pre-receive hook declined)',
      'protected-branch',
    ],
    [
      'Azure DevOps',
      'remote: TF402455: Pushes to this branch are not permitted; you must use a pull request to update this branch.\n ! [remote rejected] main -> main (TF402455: Pushes to this branch are not permitted; you must use a pull request to update this branch.)',
      'protected-branch',
    ],
    ['Gitea', 'remote: Gitea: Not allowed to push to protected branch main', 'protected-branch'],
    [
      'GitHub token without write',
      'remote: Permission to a/b.git denied to suture-bot.\nfatal: unable to access',
      'authentication',
    ],
    [
      'GitHub app without contents:write',
      'remote: Write access to repository not granted.\nfatal: unable to access',
      'authentication',
    ],
    ['GitLab', 'remote: HTTP Basic: Access denied\nfatal: Authentication failed for', 'authentication'],
    [
      'a concurrent update under a lease',
      " ! [remote rejected] suture/x -> suture/x (cannot lock ref 'refs/heads/suture/x': is at 1111 but expected 2222)",
      'non-fast-forward',
    ],
    ['a moved branch', ' ! [rejected]        main -> main (non-fast-forward)', 'non-fast-forward'],
    [
      'ssh reset',
      'kex_exchange_identification: Connection closed by remote host\nfatal: Could not read from remote repository.',
      'unreachable',
    ],
    ['a dropped connection', 'fatal: the remote end hung up unexpectedly', 'unreachable'],
  ])('%s → %s, in one line', (_name, stderr, kind) => {
    const f = classifyGitFailure(stderr);
    expect(f.kind).toBe(kind);
    expect(f.transient).toBe(kind === 'unreachable');
    const line = describeGitFailure(f);
    expect(line.split('\n')).toHaveLength(1);
    expect(line).not.toMatch(/^(remote|fatal|error):/);
  });
});
