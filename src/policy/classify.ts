/**
 * What kind of file a path is, for the policies: pipelines, policies, Dockerfiles, dependency manifests,
 * Kubernetes manifests and tests are recognised by their usual names (extended by the config's globs);
 * everything else is source when it lies inside paths.source, `other` when it does not.
 */
import { basename, extname } from 'node:path';
import type { PolicyConfig } from './config.ts';
import { matchesAny } from './glob.ts';
import type { FileKind } from './types.ts';

const POLICY_GLOBS = ['policies/**', '*.rego', '.suture/**'];
const WORKFLOW_GLOBS = [
  // All of .github: workflows, actions, CODEOWNERS, dependabot and other repository automation.
  '.github/**',
  'CODEOWNERS',
  '/.gitmodules',
  '/action.yml',
  '/action.yaml',
  '.gitlab-ci.yml',
  '.gitlab/ci/**',
  '.circleci/**',
  'Jenkinsfile',
  '/azure-pipelines.yml',
  '.buildkite/**',
  '.drone.yml',
  '/bitbucket-pipelines.yml',
  '/.travis.yml',
  '.tekton/**',
  '/.ci/**',
];
const DOCKERFILE_GLOBS = ['Dockerfile', 'Dockerfile.*', '*.Dockerfile', '*.dockerfile', 'Containerfile'];
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
  '.yarnrc.yml',
  'pip.conf',
];
const MANIFEST_GLOBS = [
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
  if (matchesAny(path, DOCKERFILE_GLOBS)) return 'dockerfile';
  return LANGUAGES[extname(path).toLowerCase()] ?? null;
}

export function isTestPath(path: string, config: PolicyConfig): boolean {
  return matchesAny(path, TEST_GLOBS) || matchesAny(path, config.paths.tests);
}

export function isManifestPath(path: string, config: PolicyConfig): boolean {
  return matchesAny(path, MANIFEST_GLOBS) || matchesAny(path, config.paths.manifests);
}

export function isYamlOrJson(path: string): boolean {
  return /\.(ya?ml|json)$/i.test(path);
}

export function isLockfile(path: string): boolean {
  return matchesAny(path, LOCKFILE_GLOBS);
}

/** Kinds from the most to the least guarded: a rename takes the stronger kind of its two paths. */
const RANK: FileKind[] = ['policy', 'workflow', 'dockerfile', 'dependency', 'manifest', 'test', 'other', 'source'];

/**
 * The kind of PATH. `looksLikeManifest` says whether its content parsed as Kubernetes objects, which makes
 * a YAML file anywhere in the tree a manifest.
 */
export function kindOf(path: string, config: PolicyConfig, looksLikeManifest: boolean): FileKind {
  const p = config.paths;
  if (matchesAny(path, POLICY_GLOBS) || matchesAny(path, p.policies)) return 'policy';
  if (matchesAny(path, WORKFLOW_GLOBS) || matchesAny(path, p.workflows)) return 'workflow';
  if (matchesAny(path, DOCKERFILE_GLOBS)) return 'dockerfile';
  if (matchesAny(path, DEPENDENCY_GLOBS) || matchesAny(path, p.dependencies)) return 'dependency';
  if (looksLikeManifest || isManifestPath(path, config)) return 'manifest';
  if (isTestPath(path, config)) return 'test';
  return matchesAny(path, p.source) ? 'source' : 'other';
}

export function strongerKind(a: FileKind, b: FileKind): FileKind {
  return RANK.indexOf(a) <= RANK.indexOf(b) ? a : b;
}

export function isDockerfile(path: string): boolean {
  return matchesAny(basename(path), DOCKERFILE_GLOBS);
}

export function isProtected(path: string, config: PolicyConfig): boolean {
  return matchesAny(path, config.paths.protected);
}
