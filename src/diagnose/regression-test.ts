/**
 * Regression tests written alongside a fix, in the repo's own framework and style (src/diagnose/tests/):
 * detected from its test command, package scripts, configs and existing tests, placed where that command
 * collects a new file (or, when it names files explicitly, appended to the right one), and run alone by
 * the single-test command returned with it. What the test does:
 *   client    the crashing request through the test client the repo's tests already use (a pytest fixture,
 *             Flask's test_client(), Starlette's TestClient, supertest with the app they import)
 *   http      the crashing request replayed against the service started with its own `start`
 *   function  when the crash happened outside a request (a worker, a job) or nothing can serve the
 *             request: the innermost callable in-repo function, called with an input rebuilt from the trace
 * Each fails on the base revision and passes once the crash is fixed (verification checks both). Incident
 * text enters only as data, through `jsonStringLiteral` (issue 8).
 */
import type { ServiceConfig } from '../config/service.ts';
import { redactDeep } from '../evidence/redact.ts';
import { shortFingerprint } from '../incident/fingerprint.ts';
import { innermostRepoFrame } from '../incident/paths.ts';
import { sanitiseRequest } from '../incident/sanitise.ts';
import type { Incident, RequestSample } from '../incident/types.ts';
import { jsonStringLiteral } from './literal.ts';
import { findInvocation, type Invocation } from './tests/command.ts';
import { framesFiles, functionCall } from './tests/function-target.ts';
import { gatherRepoView } from './tests/gather.ts';
import { type NodeBody, renderNode } from './tests/render-node.ts';
import { pyClassName, pyTestName, renderPython } from './tests/render-python.ts';
import type { RepoView } from './tests/repo-view.ts';
import { detectTestSetup, type Framework, placeTest, type TestSetup } from './tests/setup.ts';
import { singleCommand } from './tests/single.ts';
import { moduleKindOf, nodeStyle, pythonStyle, specifierTo } from './tests/style.ts';
import type { FileEdit, RepairContext } from './types.ts';

export { gatherRepoView, repoViewOfTree } from './tests/gather.ts';
export { detectTestSetup, type TestSetup } from './tests/setup.ts';

export interface RegressionTest extends FileEdit {
  /** Runs just this test with the repo's runner (from the repo root). */
  command: string;
  kind: 'http' | 'client' | 'function';
  framework: Framework;
  /** Whether the repo's own test command runs it (false: placed by convention, said in `notes`). */
  collected: boolean;
  /** Appended to an existing test file (`before` is its content). */
  append: boolean;
  /** What detection could not settle, for the diagnosis notes. */
  notes: string[];
}

/**
 * Names built into the code (the test function, the file) come only from suture's own fingerprint, and
 * only in its hex shape: anything else is a bug upstream, not something to write into a file.
 */
function codeName(incident: Incident): string {
  const fp = shortFingerprint(incident.fingerprint);
  if (!/^[0-9a-f]{12}$/.test(fp)) throw new Error(`internal: fingerprint ${JSON.stringify(fp)} is not hex`);
  return fp;
}

/** What the test says about the incident: data, never code (it is embedded through `jsonStringLiteral`). */
export function incidentData(incident: Incident): Record<string, string> {
  return redactDeep({
    id: incident.id,
    fingerprint: incident.fingerprint,
    service: incident.service,
    environment: incident.environment,
    summary: incident.summary,
  });
}

/** The request as committed: sanitised like on intake (idempotent), without the production status. */
export function committedRequest(req: RequestSample): RequestSample {
  const { status: _status, ...rest } = sanitiseRequest(req);
  return rest;
}

/**
 * The largest data a regression test embeds (a request, a rebuilt input) as its literal. Bigger ones are
 * still replayed by verification, but a committed test of megabytes is no test a reviewer reads, and the
 * policy reads files only up to 2 MiB.
 */
export const MAX_EMBEDDED_REQUEST = 256 * 1024;

const fits = (v: unknown) => jsonStringLiteral(v).length <= MAX_EMBEDDED_REQUEST;

const INVOCATIONS: Record<Framework, string[]> = {
  pytest: ['python3', '-m', 'pytest'],
  unittest: ['python3', '-m', 'unittest'],
  'node-test': ['node', '--test'],
  jest: ['npx', 'jest'],
  vitest: ['npx', 'vitest'],
  mocha: ['npx', 'mocha'],
};

function invocationOf(setup: TestSetup): Invocation {
  return (
    setup.invocation ?? { runner: setup.framework, launcher: INVOCATIONS[setup.framework], args: [], env: [], cwd: '' }
  );
}

/**
 * The regression test for an incident, in the repo's framework and style, or undefined when none can be
 * written (no request to replay or client to send it through, and no callable function to call). `view`
 * holds the repo files detection reads (`gatherRepoView`); without it only the file list and the test
 * command are known (no styles, fixtures or function-level tests).
 */
export function regressionTest(
  incident: Incident,
  config: ServiceConfig,
  repoFiles: string[],
  view: RepoView = { files: repoFiles, read: () => undefined },
): RegressionTest | undefined {
  const fp = codeName(incident);
  const setup = detectTestSetup(config, view);
  const notes = [...setup.notes];
  const frame = incident.trace ? innermostRepoFrame(incident.trace) : undefined;
  const place = placeTest(setup, view, fp, frame?.repoPath);
  if (!place.collected)
    notes.push(`no new file is collected by \`${config.test}\`: the test goes to ${place.path} and is run on its own`);
  if (place.append) notes.push(`\`${config.test}\` runs named files only: the test is appended to ${place.path}`);
  const depth = place.path.split('/').length - 1;
  const data = incidentData(incident);
  const req = incident.requests[0];
  const request = req ? committedRequest(req) : undefined;
  const requestOk = request !== undefined && fits(request);
  const call = () => {
    const c = functionCall(incident.trace, view);
    if (!c) return undefined;
    const safe = redactDeep(c);
    return fits(safe.kwargs ?? safe.args ?? null) ? safe : undefined;
  };
  const before = place.append ? view.read(place.path) : undefined;
  if (place.append && before === undefined) return undefined;

  let after: string;
  let kind: RegressionTest['kind'];
  let pythonName: string | undefined;
  let pythonClass: string | undefined;
  if (config.language === 'python') {
    const style = pythonStyle(setup, view, place.path);
    let body: Parameters<typeof renderPython>[0]['body'] | undefined;
    if (requestOk && style.client) body = { kind: 'client', client: style.client, request };
    else if (requestOk && config.start) body = { kind: 'http', start: config.start, health: config.health, request };
    else {
      const c = call();
      if (c) body = { kind: 'function', call: c };
    }
    if (!body) return undefined;
    kind = body.kind;
    const spec = { fp, style, depth, incident: data, body, append: place.append };
    after = renderPython(spec);
    if (place.append) {
      pythonName = pyTestName(spec);
      if (style.kind === 'testcase') pythonClass = pyClassName(fp);
    }
  } else {
    const style = nodeStyle(setup, view, place.path);
    const nativeEsmJest =
      setup.framework === 'jest' &&
      /experimental-vm-modules/.test(invocationOf(setup).env.join(' ') + invocationOf(setup).launcher.join(' '));
    let body: NodeBody | undefined;
    if (requestOk && style.supertest) body = { kind: 'supertest', app: style.supertest, request };
    else if (requestOk && config.start) body = { kind: 'http', start: config.start, health: config.health, request };
    else {
      const c = call();
      if (c?.binding !== undefined && c.args) {
        const ext = /\.[cm]?tsx?$/.test(c.file) ? style.tsImportExt : 'keep';
        body = {
          kind: 'function',
          spec: specifierTo(place.path, c.file, ext),
          binding: c.binding,
          fn: c.function,
          exception: c.exception,
          args: c.args,
        };
      }
    }
    if (!body) return undefined;
    kind = body.kind === 'supertest' ? 'client' : body.kind;
    // CommonJS tests require; ESM tests (and CommonJS ones loading an ES module) import(); jest's own
    // module system wants require unless it runs native ESM.
    const target = body.kind === 'function' ? specTarget(body, place.path) : undefined;
    const loader: 'require' | 'import' =
      setup.framework === 'jest'
        ? nativeEsmJest
          ? 'import'
          : 'require'
        : style.syntax === 'cjs' && !(target && moduleKindOf(view, target) === 'esm')
          ? 'require'
          : 'import';
    after = renderNode({
      fp,
      framework: setup.framework,
      style,
      depth,
      incident: data,
      body,
      loader,
      append: place.append,
    });
  }
  const command = singleCommand(invocationOf(setup), {
    file: place.path,
    ...(place.append
      ? { append: { fp, ...(pythonName ? { pythonName } : {}), ...(pythonClass ? { pythonClass } : {}) } }
      : {}),
  });
  return {
    path: place.path,
    ...(before !== undefined ? { before } : {}),
    after: before !== undefined ? `${before.replace(/\n*$/, '\n')}${after}` : after,
    command,
    kind,
    framework: setup.framework,
    collected: place.collected,
    append: place.append,
    notes,
  };
}

/** The repo path a function-level test's module specifier points at. */
function specTarget(body: Extract<NodeBody, { kind: 'function' }>, testPath: string): string {
  const dir = testPath.split('/').slice(0, -1).join('/');
  const parts = [...(dir ? dir.split('/') : []), ...body.spec.split('/')];
  const out: string[] = [];
  for (const p of parts) {
    if (p === '.' || p === '') continue;
    if (p === '..') out.pop();
    else out.push(p);
  }
  return out.join('/');
}

/** `regressionTest` with the repo files it reads gathered through the repair context's reader. */
export async function regressionTestFromRepo(
  ctx: Pick<RepairContext, 'incident' | 'config' | 'repoFiles' | 'readFile'>,
): Promise<RegressionTest | undefined> {
  const view = await gatherRepoView(ctx.repoFiles, ctx.readFile, { sources: framesFiles(ctx.incident.trace) });
  return regressionTest(ctx.incident, ctx.config, ctx.repoFiles, view);
}

/**
 * The command that runs one test file with the repo's runner. With the repo's detected `setup` it runs as
 * the repo's command does; without it, from suite.yaml's test command alone.
 */
export function singleTestCommand(config: ServiceConfig, file: string, setup?: TestSetup): string {
  if (setup) return singleCommand(invocationOf(setup), { file });
  const inv = findInvocation(config.test, { scripts: () => undefined });
  const lang = (r: Framework) => (r === 'pytest' || r === 'unittest' ? 'python' : 'node');
  if (inv && lang(inv.runner) === config.language) return singleCommand(inv, { file });
  return singleCommand(
    {
      runner: config.language === 'python' ? 'pytest' : 'node-test',
      launcher: config.language === 'python' ? INVOCATIONS.pytest : INVOCATIONS['node-test'],
      args: [],
      env: [],
      cwd: '',
    },
    { file },
  );
}
