/**
 * What kind of file a path is, for the policies: pipelines, policies, Dockerfiles, dependency manifests,
 * Kubernetes manifests and tests are recognised by their usual names (extended by the config's globs);
 * everything else is source when it lies inside paths.source, `other` when it does not.
 */
import { basename, extname } from 'node:path';
import type { PolicyConfig } from './config.ts';
import { canonicalPath, matchesAny, matchesGuarded } from './glob.ts';
import type { FileKind } from './types.ts';

/** A directory guarded as a whole: its contents, and the path itself (a symlink or submodule replacing it). */
const dir = (name: string) => [name, `**/${name}/**`];

// suture.yaml names the install and test commands the sandbox runs (install with network).
const POLICY_GLOBS = ['policies/**', '*.rego', ...dir('.suture'), 'suture.{yaml,yml}'];
/**
 * CI/CD and repository automation: anything that runs with the repository's or a developer's credentials
 * (CI systems, git hooks and attributes, bots, dev environments, task runners CI invokes). Matched
 * case-insensitively anywhere in the tree, which is stricter than where each tool looks.
 */
const WORKFLOW_GLOBS = [
  // Forges: all of .github (workflows, actions, CODEOWNERS, dependabot), Gitea, Forgejo, GitLab.
  ...dir('.github'),
  ...dir('.gitea'),
  ...dir('.forgejo'),
  ...dir('.gitlab'),
  '.gitlab-ci.{yml,yaml}',
  'CODEOWNERS',
  // Local actions (`uses: ./tools/lint`) live anywhere.
  'action.{yml,yaml}',
  // git itself: submodules pull code, attributes name filter drivers and diff programs.
  '.gitmodules',
  '.gitattributes',
  // CI systems.
  ...dir('.circleci'),
  'Jenkinsfile',
  'Jenkinsfile.*',
  '*.jenkinsfile',
  'azure-pipelines*.{yml,yaml}',
  ...dir('.azure-pipelines'),
  ...dir('.azuredevops'),
  ...dir('.buildkite'),
  '.drone.{yml,yaml,star,jsonnet}',
  'bitbucket-pipelines.{yml,yaml}',
  '.travis.{yml,yaml}',
  ...dir('.tekton'),
  ...dir('.ci'),
  '.woodpecker.{yml,yaml}',
  ...dir('.woodpecker'),
  'cloudbuild*.{yaml,yml,json}',
  'buildspec*.{yml,yaml}',
  ...dir('.semaphore'),
  '.cirrus.{yml,yaml,star}',
  '{.,}appveyor.{yml,yaml}',
  'codemagic.{yaml,yml}',
  'bitrise.{yml,yaml}',
  '.gitpod.{yml,yaml}',
  'Earthfile',
  'netlify.toml',
  'vercel.json',
  // Package-manager hooks that run code on every install (yarnPath, plugins, pnpm's readPackage).
  '.yarnrc{,.yml}',
  ...dir('.yarn/plugins'),
  ...dir('.yarn/releases'),
  '.pnpmfile.{cjs,mjs,js}',
  // Git hooks and hook managers.
  ...dir('.husky'),
  ...dir('.githooks'),
  '.pre-commit-config.{yaml,yml}',
  '.pre-commit-hooks.{yaml,yml}',
  '{.,}lefthook{,-local}.{yml,yaml,json,toml}',
  ...dir('.lefthook'),
  // Task runners and dev loops that CI or a developer's machine executes.
  'Makefile',
  'GNUmakefile',
  '*.mk',
  'Taskfile{,.dist}.{yml,yaml}',
  '{.,}justfile',
  'Tiltfile',
  'skaffold*.{yaml,yml}',
  // Bots and developer environments (run on open: devcontainer lifecycle hooks, direnv, editor tasks).
  '{.,}renovate{,rc}.{json,json5}',
  '.renovaterc',
  ...dir('.dependabot'),
  ...dir('.devcontainer'),
  '.devcontainer.json',
  '.envrc',
  ...dir('.vscode'),
  ...dir('.idea'),
  '{.,}mise{,.local}.toml',
  ...dir('.mise'),
];
/** Not code, not executed, but they decide what gets committed or sent to a build: a human looks. */
const METADATA_GLOBS = ['.gitignore', '.dockerignore', '.containerignore'];
const DOCKERFILE_GLOBS = [
  'Dockerfile',
  'Dockerfile.*',
  '*.Dockerfile',
  'Containerfile',
  'Containerfile.*',
  '*.Containerfile',
];
export const LOCKFILE_GLOBS = [
  'package-lock.json',
  'npm-shrinkwrap.json',
  'yarn.lock',
  'pnpm-lock.yaml',
  'poetry.lock',
  'Pipfile.lock',
  'uv.lock',
  'go.sum',
  'Cargo.lock',
  'Gemfile.lock',
  'composer.lock',
];
const DEPENDENCY_GLOBS = [
  ...LOCKFILE_GLOBS,
  'package.json',
  'requirements*.txt',
  'constraints*.txt',
  'pyproject.toml',
  'Pipfile',
  'setup.py',
  'setup.cfg',
  'go.mod',
  'Cargo.toml',
  'Gemfile',
  'composer.json',
  '.npmrc',
  'pip.conf',
  // Toolchain pins: they change which runtime CI and the image use.
  '.tool-versions',
  '.{node,python,ruby,go}-version',
  '.nvmrc',
  'rust-toolchain{,.toml}',
];
const MANIFEST_GLOBS = [
  // Deployment descriptors of PaaS platforms: what production runs.
  '/Procfile',
  '/fly.toml',
  '/render.yaml',
  '/app.json',
  '**/k8s/**',
  '**/kubernetes/**',
  '**/deploy/**',
  '**/manifests/**',
  '**/helm/**',
  '**/charts/**',
  'kustomization.{yaml,yml}',
  'docker-compose*.{yaml,yml}',
  'compose.{yaml,yml}',
  '*.tf',
  '*.tfvars',
];
const TEST_GLOBS = [
  '**/test/**',
  '**/tests/**',
  '**/__tests__/**',
  '**/spec/**',
  'test_*.py',
  '*_test.py',
  'conftest.py',
  '*_test.go',
  '*.{test,spec}.{js,jsx,ts,tsx,mjs,cjs,mts,cts}',
  '*Test.java',
  '*_spec.rb',
];

const LANGUAGES: Record<string, string> = {
  '.py': 'python',
  '.js': 'javascript',
  '.mjs': 'javascript',
  '.cjs': 'javascript',
  '.jsx': 'javascript',
  '.ts': 'typescript',
  '.tsx': 'typescript',
  '.mts': 'typescript',
  '.cts': 'typescript',
  '.go': 'go',
  '.rb': 'ruby',
  '.java': 'java',
  '.kt': 'kotlin',
  '.rs': 'rust',
  '.c': 'c',
  '.h': 'c',
  '.cc': 'cpp',
  '.cpp': 'cpp',
  '.hpp': 'cpp',
  '.cs': 'csharp',
  '.php': 'php',
  '.sh': 'shell',
  '.yaml': 'yaml',
  '.yml': 'yaml',
  '.json': 'json',
  '.toml': 'toml',
  '.md': 'markdown',
  '.rego': 'rego',
  '.tf': 'hcl',
  '.html': 'html',
  '.css': 'css',
  '.sql': 'sql',
};

export function languageOf(path: string): string | null {
  if (matchesGuarded(path, DOCKERFILE_GLOBS)) return 'dockerfile';
  return LANGUAGES[extname(path).toLowerCase()] ?? null;
}

export function isTestPath(path: string, config: PolicyConfig): boolean {
  return matchesGuarded(path, TEST_GLOBS) || matchesGuarded(path, config.paths.tests);
}

export function isManifestPath(path: string, config: PolicyConfig): boolean {
  return matchesGuarded(path, MANIFEST_GLOBS) || matchesGuarded(path, config.paths.manifests);
}

export function isYamlOrJson(path: string): boolean {
  return /\.(ya?ml|json)$/i.test(canonicalPath(path));
}

export function isLockfile(path: string): boolean {
  return matchesGuarded(path, LOCKFILE_GLOBS);
}

/** Kinds from the most to the least guarded: a path with several names takes the strongest kind among them. */
const RANK: FileKind[] = ['policy', 'workflow', 'dockerfile', 'dependency', 'manifest', 'test', 'other', 'source'];

/**
 * The kind of PATH. `looksLikeManifest` says whether its content parsed as Kubernetes objects, which makes
 * a YAML file anywhere in the tree a manifest. Guarded classes match case-insensitively; `paths.source`
 * matches exactly, so a path spelled unlike the configured source paths is `other`.
 */
export function kindOf(path: string, config: PolicyConfig, looksLikeManifest: boolean): FileKind {
  const p = config.paths;
  if (matchesGuarded(path, POLICY_GLOBS) || matchesGuarded(path, p.policies)) return 'policy';
  if (matchesGuarded(path, WORKFLOW_GLOBS) || matchesGuarded(path, p.workflows)) return 'workflow';
  if (isDockerfile(path)) return 'dockerfile';
  if (matchesGuarded(path, DEPENDENCY_GLOBS) || matchesGuarded(path, p.dependencies)) return 'dependency';
  if (looksLikeManifest || isManifestPath(path, config)) return 'manifest';
  if (isTestPath(path, config)) return 'test';
  if (matchesGuarded(path, METADATA_GLOBS)) return 'other';
  return matchesAny(path, p.source) ? 'source' : 'other';
}

export function strongerKind(a: FileKind, b: FileKind): FileKind {
  return RANK.indexOf(a) <= RANK.indexOf(b) ? a : b;
}

export function isDockerfile(path: string): boolean {
  return matchesGuarded(basename(path), DOCKERFILE_GLOBS);
}

export function isProtected(path: string, config: PolicyConfig): boolean {
  return matchesGuarded(path, config.paths.protected);
}
