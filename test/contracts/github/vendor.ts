/**
 * Regenerates api.github.com.subset.json.gz: the operations the github provider uses, cut out of GitHub's
 * published OpenAPI description as @octokit/openapi ships it (dereferenced: no $ref left). Run from the
 * repository root with Node 24:
 *
 *   npx node test/contracts/github/vendor.ts [VERSION]
 *
 * It reads the package from node_modules when that version is installed, else fetches it with `npm pack`
 * into a temporary directory (about 50 MB) and reads the one file it needs. Documentation strings are
 * dropped (they do not take part in validation); everything else of the chosen operations is kept as
 * published, including the response examples the contract server starts its answers from.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { GITHUB_OPERATIONS } from './operations.ts';

const here = dirname(fileURLToPath(import.meta.url));
const FILE = 'generated/api.github.com.deref.json';

function load(version: string | undefined): { spec: Record<string, unknown>; version: string } {
  const installed = join(here, '../../../node_modules/@octokit/openapi');
  if (existsSync(join(installed, FILE))) {
    const pkg = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as { version: string };
    if (!version || pkg.version === version) {
      return { spec: JSON.parse(readFileSync(join(installed, FILE), 'utf8')), version: pkg.version };
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'suture-openapi-'));
  try {
    const name = execFileSync('npm', ['pack', `@octokit/openapi@${version ?? 'latest'}`, '--silent'], {
      cwd: dir,
      encoding: 'utf8',
    }).trim();
    execFileSync('tar', ['-xzf', name, `package/${FILE}`, 'package/package.json'], { cwd: dir });
    const pkg = JSON.parse(readFileSync(join(dir, 'package/package.json'), 'utf8')) as { version: string };
    return { spec: JSON.parse(readFileSync(join(dir, 'package', FILE), 'utf8')), version: pkg.version };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Drops documentation strings; a property that happens to be NAMED description is an object, and stays, as
 * do a Response object's description (OpenAPI requires it) and examples (data, kept as published).
 */
function strip(node: unknown, isResponse = false): unknown {
  if (Array.isArray(node)) return node.map((n) => strip(n));
  if (node === null || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) {
    if ((k === 'description' || k === 'summary') && typeof v === 'string' && !isResponse) continue;
    if (k === 'externalDocs' || k === 'x-github' || k === 'x-octokit') continue;
    if (k === 'examples' || k === 'example') {
      out[k] = v; // data, as published
    } else if (k === 'responses' && v && typeof v === 'object') {
      out[k] = Object.fromEntries(Object.entries(v).map(([code, r]) => [code, strip(r, true)]));
    } else {
      out[k] = strip(v);
    }
  }
  return out;
}

const { spec, version } = load(process.argv[2]);
const paths = spec.paths as Record<string, Record<string, unknown>>;
const subset: Record<string, Record<string, unknown>> = {};
for (const { method, path } of GITHUB_OPERATIONS) {
  const op = paths[path]?.[method];
  if (!op) throw new Error(`${method.toUpperCase()} ${path} is not in @octokit/openapi ${version}`);
  subset[path] ??= {};
  subset[path][method] = strip(op);
}
const out = {
  openapi: spec.openapi,
  info: { ...(spec.info as object), 'x-subset-of': `@octokit/openapi@${version} ${FILE}` },
  servers: spec.servers,
  paths: subset,
};
const target = join(here, 'api.github.com.subset.json.gz');
writeFileSync(target, gzipSync(JSON.stringify(out), { level: 9 }));
console.log(`${GITHUB_OPERATIONS.length} operations from @octokit/openapi@${version} → ${target}`);
