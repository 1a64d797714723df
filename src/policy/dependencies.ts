/**
 * Dependency facts for the policies: which packages a change adds, removes or re-versions, read from the
 * manifests before and after (package.json, package-lock.json, requirements*.txt, pyproject.toml, go.mod).
 * Other lockfiles and dependency files are reported as changed without a package list.
 */
import { basename } from 'node:path';
import { isLockfile } from './classify.ts';
import type { DependencyEntry, DependencyFact } from './types.ts';

type Deps = Map<string, string | null>;

function ecosystemOf(name: string): DependencyFact['ecosystem'] {
  if (/^(package(-lock)?\.json|npm-shrinkwrap\.json|yarn\.lock|pnpm-lock\.yaml|\.npmrc|\.yarnrc\.yml)$/.test(name))
    return 'npm';
  if (
    /^(requirements.*\.txt|constraints.*\.txt|pyproject\.toml|poetry\.lock|Pipfile(\.lock)?|uv\.lock|setup\.(py|cfg)|pip\.conf)$/.test(
      name,
    )
  )
    return 'python';
  if (/^go\.(mod|sum)$/.test(name)) return 'go';
  if (/^Cargo\.(toml|lock)$/.test(name)) return 'cargo';
  if (/^Gemfile(\.lock)?$/.test(name)) return 'ruby';
  return 'other';
}

function parseJson(text: string): Record<string, unknown> {
  try {
    const v = JSON.parse(text) as unknown;
    return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function packageJsonDeps(text: string): Deps {
  const doc = parseJson(text);
  const deps: Deps = new Map();
  for (const field of ['dependencies', 'devDependencies', 'optionalDependencies', 'peerDependencies']) {
    const section = doc[field];
    if (typeof section !== 'object' || section === null) continue;
    for (const [name, version] of Object.entries(section)) {
      if (!deps.has(name)) deps.set(name, typeof version === 'string' ? version : null);
    }
  }
  return deps;
}

function packageLockDeps(text: string): Deps {
  const doc = parseJson(text);
  const deps: Deps = new Map();
  const packages = doc.packages ?? doc.dependencies;
  if (typeof packages !== 'object' || packages === null) return deps;
  for (const [key, info] of Object.entries(packages)) {
    if (key === '') continue;
    const version = (info as { version?: unknown }).version;
    deps.set(key.replace(/^node_modules\//, ''), typeof version === 'string' ? version : null);
  }
  return deps;
}

/** `name[extra] >= 1.2 ; marker` → name and version spec, PEP 503-normalised. */
function pythonRequirement(line: string): [string, string | null] | null {
  const m = /^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*([^;#]*)/.exec(line.trim());
  if (!m) return null;
  const spec = (m[2] ?? '').trim();
  return [m[1]!.toLowerCase().replace(/[-_.]+/g, '-'), spec || null];
}

function requirementsDeps(text: string): Deps {
  const deps: Deps = new Map();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/\s+#.*$/, '').trim();
    if (!line || line.startsWith('#') || line.startsWith('-')) continue;
    const req = pythonRequirement(line);
    if (req) deps.set(req[0], req[1]);
  }
  return deps;
}

/** PEP 621 dependency arrays and Poetry dependency tables; enough TOML for dependency lists. */
function pyprojectDeps(text: string): Deps {
  const deps: Deps = new Map();
  let table = '';
  let inArray = false;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/\s+#.*$/, '').trim();
    const header = /^\[+([^\]]+)\]+$/.exec(line);
    if (header) {
      table = header[1]!.trim();
      inArray = false;
      continue;
    }
    const poetry = /^tool\.poetry\.(group\.[^.]+\.)?(dev-)?dependencies$/.test(table);
    if (poetry) {
      const kv = /^([A-Za-z0-9._-]+)\s*=\s*(.+)$/.exec(line);
      if (kv && kv[1] !== 'python') deps.set(kv[1]!.toLowerCase(), kv[2]!.replace(/^["']|["']$/g, ''));
      continue;
    }
    const startsArray =
      (table === 'project' && /^dependencies\s*=\s*\[/.test(line)) ||
      (table === 'project.optional-dependencies' && /^[\w-]+\s*=\s*\[/.test(line)) ||
      (table === 'dependency-groups' && /^[\w-]+\s*=\s*\[/.test(line));
    if (startsArray) inArray = true;
    if (inArray) {
      for (const m of line.matchAll(/["']([^"']+)["']/g)) {
        const req = pythonRequirement(m[1]!);
        if (req) deps.set(req[0], req[1]);
      }
      if (line.replace(/"[^"]*"|'[^']*'/g, '').includes(']')) inArray = false;
    }
  }
  return deps;
}

function goModDeps(text: string): Deps {
  const deps: Deps = new Map();
  let block = false;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/\/\/.*$/, '').trim();
    if (/^require\s*\($/.test(line)) block = true;
    else if (block && line === ')') block = false;
    else {
      const m = (block ? /^(\S+)\s+(\S+)$/ : /^require\s+(\S+)\s+(\S+)$/).exec(line);
      if (m) deps.set(m[1]!, m[2]!);
    }
  }
  return deps;
}

function depsOf(name: string, text: string | null): Deps {
  if (text === null) return new Map();
  if (name === 'package.json') return packageJsonDeps(text);
  if (name === 'package-lock.json' || name === 'npm-shrinkwrap.json') return packageLockDeps(text);
  if (/^(requirements|constraints).*\.txt$/.test(name)) return requirementsDeps(text);
  if (name === 'pyproject.toml') return pyprojectDeps(text);
  if (name === 'go.mod') return goModDeps(text);
  return new Map();
}

export function dependencyFact(
  path: string,
  before: string | null,
  after: string | null,
): Omit<DependencyFact, 'path'> & { path: string } {
  const name = basename(path);
  const old = depsOf(name, before);
  const now = depsOf(name, after);
  const added: DependencyEntry[] = [];
  const removed: DependencyEntry[] = [];
  const changed: DependencyFact['changed'] = [];
  for (const [dep, version] of now) {
    if (!old.has(dep)) added.push({ name: dep, version });
    else if (old.get(dep) !== version) changed.push({ name: dep, from: old.get(dep) ?? null, to: version });
  }
  for (const [dep, version] of old) if (!now.has(dep)) removed.push({ name: dep, version });
  const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);
  return {
    path,
    ecosystem: ecosystemOf(name),
    file: isLockfile(path) ? 'lockfile' : 'manifest',
    added: added.sort(byName),
    removed: removed.sort(byName),
    changed: changed.sort(byName),
  };
}
