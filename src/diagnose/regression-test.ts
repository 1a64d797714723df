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
import { findInvocation, type Invocation, runnerLanguage } from './tests/command.ts';
import { type FunctionCall, framesFiles, functionCall } from './tests/function-target.ts';
import { gatherRepoView } from './tests/gather.ts';
import { isRelativeSpecifier, type NodeBody, renderNode } from './tests/render-node.ts';
import { isPythonModule, type PyBody, pyClassName, pyTestName, renderPython } from './tests/render-python.ts';
import type { RepoView } from './tests/repo-view.ts';
import { defaultInvocation, detectTestSetup, type Framework, placeTest, type TestSetup } from './tests/setup.ts';
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

function invocationOf(setup: TestSetup): Invocation {
  return setup.invocation ?? defaultInvocation(setup.framework);
}

interface Ctx {
  incident: Incident;
  config: ServiceConfig;
  view: RepoView;
  setup: TestSetup;
  fp: string;
  depth: number;
  path: string;
  append: boolean;
  /** The failing request as committed, when there is one small enough to embed. */
  request: RequestSample | undefined;
}

interface Made {
  after: string;
  kind: RegressionTest['kind'];
  /** The test's own name in an appended file, for the single-test command's filter. */
  names: { pythonName?: string; pythonClass?: string };
}

/** The function-level call, redacted like everything a test embeds, when its input is small enough. */
function callOf(ctx: Ctx): FunctionCall | undefined {
  const c = functionCall(ctx.incident.trace, ctx.view);
  if (!c) return undefined;
  const safe = redactDeep(c);
  return fits(safe.kwargs ?? safe.args ?? null) ? safe : undefined;
}

/** What the test does, best first: the repo's own client, the service's `start`, the crashing function. */
function pythonTest(ctx: Ctx): Made | undefined {
  const style = pythonStyle(ctx.setup, ctx.view, ctx.path);
  const { request, config } = ctx;
  const client = style.client?.via === 'import' && !isPythonModule(style.client.module) ? undefined : style.client;
  let body: PyBody | undefined;
  if (request && client) body = { kind: 'client', client, request };
  else if (request && config.start) body = { kind: 'http', start: config.start, health: config.health, request };
  else {
    const call = callOf(ctx);
    if (call?.module && isPythonModule(call.module)) body = { kind: 'function', call };
  }
  if (!body) return undefined;
  const spec = { fp: ctx.fp, style, depth: ctx.depth, incident: incidentData(ctx.incident), body, append: ctx.append };
  return {
    after: renderPython(spec),
    kind: body.kind,
    names: ctx.append
      ? { pythonName: pyTestName(spec), ...(style.kind === 'testcase' ? { pythonClass: pyClassName(ctx.fp) } : {}) }
      : {},
  };
}

function nodeTest(ctx: Ctx): Made | undefined {
  const { setup, view, request, config } = ctx;
  const style = nodeStyle(setup, view, ctx.path);
  const app = style.supertest && isRelativeSpecifier(style.supertest.spec) ? style.supertest : undefined;
  let body: NodeBody | undefined;
  let target: string | undefined;
  if (request && app) body = { kind: 'supertest', app, request };
  else if (request && config.start) body = { kind: 'http', start: config.start, health: config.health, request };
  else {
    const c = callOf(ctx);
    const spec = c && specifierTo(ctx.path, c.file, /\.[cm]?tsx?$/.test(c.file) ? style.tsImportExt : 'keep');
    if (c?.binding !== undefined && c.args && spec && isRelativeSpecifier(spec)) {
      body = { kind: 'function', spec, binding: c.binding, fn: c.function, exception: c.exception, args: c.args };
      target = c.file;
    }
  }
  if (!body) return undefined;
  // CommonJS tests require; ESM tests (and CommonJS ones loading an ES module) import(); jest's own module
  // system wants require unless it runs native ESM.
  const inv = invocationOf(setup);
  const nativeEsmJest = /experimental-vm-modules/.test([...inv.env, ...inv.launcher].join(' '));
  const loader: 'require' | 'import' =
    setup.framework === 'jest'
      ? nativeEsmJest
        ? 'import'
        : 'require'
      : style.syntax === 'cjs' && !(target && moduleKindOf(view, target) === 'esm')
        ? 'require'
        : 'import';
  const after = renderNode({
    fp: ctx.fp,
    framework: setup.framework,
    style,
    depth: ctx.depth,
    incident: incidentData(ctx.incident),
    body,
    loader,
    append: ctx.append,
  });
  return { after, kind: body.kind === 'supertest' ? 'client' : body.kind, names: {} };
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
  const req = incident.requests[0];
  const request = req && fits(committedRequest(req)) ? committedRequest(req) : undefined;
  const before = place.append ? view.read(place.path) : undefined;
  if (place.append && before === undefined) return undefined;
  const ctx: Ctx = { incident, config, view, setup, fp, depth, path: place.path, append: place.append, request };
  const made = config.language === 'python' ? pythonTest(ctx) : nodeTest(ctx);
  if (!made) return undefined;
  const command = singleCommand(invocationOf(setup), {
    file: place.path,
    ...(place.append ? { append: { fp, ...made.names } } : {}),
  });
  return {
    path: place.path,
    ...(before !== undefined ? { before } : {}),
    after: before !== undefined ? `${before.replace(/\n*$/, '\n')}${made.after}` : made.after,
    command,
    kind: made.kind,
    framework: setup.framework,
    collected: place.collected,
    append: place.append,
    notes,
  };
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
 * the repo's command does; without it, from suture.yaml's test command alone.
 */
export function singleTestCommand(config: ServiceConfig, file: string, setup?: TestSetup): string {
  if (setup) return singleCommand(invocationOf(setup), { file });
  const inv = findInvocation(config.test, { scripts: () => undefined });
  if (inv && runnerLanguage(inv.runner) === config.language) return singleCommand(inv, { file });
  return singleCommand(defaultInvocation(config.language === 'python' ? 'pytest' : 'node-test'), { file });
}
