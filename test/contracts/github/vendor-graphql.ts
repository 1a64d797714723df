/**
 * Regenerates graphql.subset.graphql: the definitions of GitHub's published GraphQL schema that the github
 * provider's one mutation (enabling auto-merge) touches, cut out of the schema.graphql that
 * @octokit/graphql-schema ships (GitHub's public schema, MIT). Run from the repository root with Node 24:
 *
 *   npx node test/contracts/github/vendor-graphql.ts [VERSION]
 *
 * It fetches the package with `npm pack` into a temporary directory. Of the Mutation type only the
 * provider's field is kept; the other definitions whole.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const KEEP = [
  'EnablePullRequestAutoMergeInput',
  'EnablePullRequestAutoMergePayload',
  'PullRequestMergeMethod',
  'AutoMergeRequest',
  'GitObjectID',
  'DateTime',
];
const MUTATION_FIELDS = ['enablePullRequestAutoMerge'];
const PULL_REQUEST_FIELDS = ['number', 'autoMergeRequest'];

/** Top-level definitions with the docstring before them, by name. */
function definitions(sdl: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const lines = sdl.split('\n');
  let doc: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith('"""')) {
      doc = [line];
      if (!(line.length > 3 && line.endsWith('"""'))) {
        while (++i < lines.length && !lines[i]!.startsWith('"""')) doc.push(lines[i]!);
        doc.push(lines[i] ?? '"""');
      }
      continue;
    }
    const m = /^(?:type|input|enum|scalar|interface|union) (\w+)/.exec(line);
    if (!m) {
      if (line.trim() !== '') doc = [];
      continue;
    }
    const body = [...doc, line];
    if (line.trimEnd().endsWith('{')) {
      while (++i < lines.length && lines[i] !== '}') body.push(lines[i]!);
      body.push('}');
    }
    out.set(m[1]!, body);
    doc = [];
  }
  return out;
}

/** Keeps only the named fields (each with its docstring and arguments) of a type definition. */
function onlyFields(def: string[], names: string[]): string[] {
  const head = def.slice(0, def.findIndex((l) => l.trimEnd().endsWith('{')) + 1);
  const fields: string[] = [];
  const inner = def.slice(head.length, -1);
  let pending: string[] = [];
  for (let i = 0; i < inner.length; i++) {
    const l = inner[i]!;
    const field = /^ {2}(\w+)[(:]/.exec(l);
    if (!field) {
      pending.push(l);
      continue;
    }
    const block = [...pending, l];
    if (l.trimEnd().endsWith('(')) {
      while (++i < inner.length && !/^ {2}\)/.test(inner[i]!)) block.push(inner[i]!);
      block.push(inner[i]!);
    }
    if (names.includes(field[1]!)) fields.push(...block.filter((x) => x.trim() !== ''), '');
    pending = [];
  }
  return [...head, ...fields.slice(0, -1), '}'];
}

const dir = mkdtempSync(join(tmpdir(), 'suture-graphql-schema-'));
try {
  const version = process.argv[2] ?? 'latest';
  const name = execFileSync('npm', ['pack', `@octokit/graphql-schema@${version}`, '--silent'], {
    cwd: dir,
    encoding: 'utf8',
  }).trim();
  execFileSync('tar', ['-xzf', name, 'package/schema.graphql', 'package/package.json'], { cwd: dir });
  const pkg = JSON.parse(readFileSync(join(dir, 'package/package.json'), 'utf8')) as { version: string };
  const defs = definitions(readFileSync(join(dir, 'package/schema.graphql'), 'utf8'));
  const parts = [
    `# Cut from @octokit/graphql-schema@${pkg.version} schema.graphql (GitHub's public GraphQL schema, MIT)`,
    '# by test/contracts/github/vendor-graphql.ts: only what the github provider sends and reads.',
    '',
  ];
  const need = (n: string) => {
    const d = defs.get(n);
    if (!d) throw new Error(`${n} is not in @octokit/graphql-schema@${pkg.version}`);
    return d;
  };
  parts.push(onlyFields(need('Mutation'), MUTATION_FIELDS).join('\n'), '');
  parts.push(onlyFields(need('PullRequest'), PULL_REQUEST_FIELDS).join('\n'), '');
  for (const n of KEEP) parts.push(need(n).join('\n'), '');
  writeFileSync(join(here, 'graphql.subset.graphql'), parts.join('\n'));
  console.log(`GraphQL subset from @octokit/graphql-schema@${pkg.version} written`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
