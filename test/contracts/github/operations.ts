/** The REST operations the github provider uses: what vendor.ts cuts out of GitHub's description. */
export const GITHUB_OPERATIONS: { method: 'get' | 'post' | 'patch' | 'put'; path: string }[] = [
  { method: 'get', path: '/repos/{owner}/{repo}' },
  { method: 'get', path: '/repos/{owner}/{repo}/pulls' },
  { method: 'post', path: '/repos/{owner}/{repo}/pulls' },
  { method: 'get', path: '/repos/{owner}/{repo}/pulls/{pull_number}' },
  { method: 'patch', path: '/repos/{owner}/{repo}/pulls/{pull_number}' },
  { method: 'put', path: '/repos/{owner}/{repo}/pulls/{pull_number}/merge' },
  { method: 'post', path: '/repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers' },
  { method: 'post', path: '/repos/{owner}/{repo}/issues/{issue_number}/comments' },
  { method: 'post', path: '/repos/{owner}/{repo}/issues/{issue_number}/labels' },
  { method: 'get', path: '/repos/{owner}/{repo}/commits/{ref}/check-runs' },
  { method: 'get', path: '/repos/{owner}/{repo}/commits/{ref}/status' },
];
