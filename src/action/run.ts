/**
 * The GitHub Action's run (action.yml runs src/action/main.ts): read the inputs the way a runner passes
 * them (INPUT_* variables, the triggering event in GITHUB_EVENT_PATH), heal one incident with
 * `suture heal --json` in a child process, then hand the result back the runner's way — outputs in
 * GITHUB_OUTPUT, the Markdown report appended to GITHUB_STEP_SUMMARY, annotations on stdout.
 *
 * Inputs (action.yml declares the same names; a composite action passes them as INPUT_<NAME> env, upper
 * case, as node actions receive them):
 *   incident  a path (relative to GITHUB_WORKSPACE) or the JSON itself; empty: the repository_dispatch
 *             event's `client_payload.incident` (a crash report or an Alertmanager v4 webhook payload)
 *   mode      observe | propose | auto (default propose). Never taken from the event: whoever can
 *             dispatch must not be able to choose auto mode.
 *   config    suture.yaml to use instead of the repo's (optional)
 *   repo      the application repo (default: GITHUB_WORKSPACE)
 *   state     state dir (default: RUNNER_TEMP/suture-state)
 * Outputs: status, reason, branch, pull-request-url, report (Markdown path), html-report.
 * Exit: 0 when the heal ran (whatever its status: the status output says it), 2 on bad input (ours or
 * heal's), 1 when the heal failed.
 */
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { errorMessage, InputError } from '../errors.ts';
import { normaliseIncidentInput } from '../incident/intake.ts';
import { htmlReportPath } from '../report/html-write.ts';
import { annotation, outputCommand, summaryText } from './runner.ts';

export type Env = Record<string, string | undefined>;

export const MODES = ['observe', 'propose', 'auto'] as const;
/** The inputs this reads and the outputs it writes: action.yml must declare exactly these (a test checks). */
export const INPUT_NAMES = ['incident', 'mode', 'config', 'repo', 'state'] as const;
export const OUTPUT_NAMES = ['status', 'reason', 'branch', 'pull-request-url', 'report', 'html-report'] as const;
export type ActionMode = (typeof MODES)[number];

export interface ActionInputs {
  /** The incident document (parsed JSON). */
  incident: unknown;
  /** Where it came from, for messages. */
  source: string;
  mode: ActionMode;
  config?: string;
  repo: string;
  state: string;
  temp: string;
}

export interface HealRequest {
  repo: string;
  incidentFile: string;
  mode: ActionMode;
  config?: string;
  state: string;
}

/** How the heal ended: its exit code, its `--json` result when it printed one, its last stderr line. */
export interface HealRun {
  exitCode: number;
  result: unknown;
  lastLine: string;
}

export interface ActionIo {
  heal: (req: HealRequest) => Promise<HealRun>;
  /** Workflow commands (annotations); stdout on a runner. */
  stdout: (text: string) => void;
  /** A line for the job log. */
  log: (line: string) => void;
}

/** The incident input or event, read and parsed; the mode and paths checked. Throws InputError. */
export function readInputs(env: Env): ActionInputs {
  const input = (name: (typeof INPUT_NAMES)[number]) => env[`INPUT_${name.toUpperCase()}`]?.trim() ?? '';
  const workspace = env.GITHUB_WORKSPACE || process.cwd();
  const temp = env.RUNNER_TEMP;
  if (!temp) throw new InputError('RUNNER_TEMP is not set: this runs as a GitHub Action step');

  const mode = (input('mode') || 'propose') as ActionMode;
  if (!MODES.includes(mode))
    throw new InputError(`input mode must be observe, propose or auto, not ${JSON.stringify(mode.slice(0, 40))}`);

  let incident: unknown;
  let source: string;
  const given = input('incident');
  if (given.startsWith('{')) {
    source = 'the incident input';
    incident = parseJson(given, source);
  } else if (given) {
    const path = isAbsolute(given) ? given : resolve(workspace, given);
    source = `incident file ${given}`;
    if (!existsSync(path)) throw new InputError(`${source} not found (relative paths are from GITHUB_WORKSPACE)`);
    incident = parseJson(readFileSync(path, 'utf8'), source);
  } else if (env.GITHUB_EVENT_NAME === 'repository_dispatch') {
    source = 'the repository_dispatch event';
    if (!env.GITHUB_EVENT_PATH || !existsSync(env.GITHUB_EVENT_PATH))
      throw new InputError('GITHUB_EVENT_PATH names no file: no event to read the incident from');
    const event = parseJson(readFileSync(env.GITHUB_EVENT_PATH, 'utf8'), 'the event') as {
      client_payload?: { incident?: unknown };
    };
    incident = event?.client_payload?.incident;
    if (typeof incident === 'string') incident = parseJson(incident, 'client_payload.incident');
    if (incident === undefined) throw new InputError('the repository_dispatch event has no client_payload.incident');
    source = 'client_payload.incident';
  } else {
    throw new InputError(
      `no incident: set the incident input (a path or the JSON), or trigger on repository_dispatch with client_payload.incident (this run: ${env.GITHUB_EVENT_NAME || 'no event'})`,
    );
  }
  // The same check heal makes first, here so a bad payload fails before any image is built or heal starts.
  try {
    normaliseIncidentInput(incident);
  } catch (err) {
    throw new InputError(`${source}: ${errorMessage(err)}`);
  }

  const config = input('config');
  return {
    incident,
    source,
    mode,
    ...(config ? { config: isAbsolute(config) ? config : resolve(workspace, config) } : {}),
    repo: resolve(workspace, input('repo') || '.'),
    state: resolve(workspace, input('state') || join(temp, 'suture-state')),
    temp,
  };
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new InputError(`${what} is not JSON: ${errorMessage(err)}`);
  }
}

interface ResultView {
  status: string;
  reason: string;
  branch: string;
  pullRequestUrl: string;
  report: string;
}

function view(result: unknown): ResultView | null {
  if (result === null || typeof result !== 'object') return null;
  const r = result as Record<string, unknown>;
  if (typeof r.status !== 'string') return null;
  const str = (v: unknown) => (typeof v === 'string' ? v : '');
  const pr = r.pullRequest as { url?: unknown } | null | undefined;
  return {
    status: r.status,
    reason: str(r.reason),
    branch: str(r.branch),
    pullRequestUrl: str(pr?.url),
    report: str(r.report),
  };
}

/** Statuses worth a warning annotation: the heal ran, but nothing shipped and a human should look. */
const WARN = new Set(['no-fix', 'escalated', 'rejected', 'aborted']);

/** Runs the action; returns the process exit code. Bad input throws InputError (main.ts prints it). */
export async function runAction(env: Env, io: ActionIo): Promise<number> {
  const outputFile = env.GITHUB_OUTPUT;
  if (!outputFile) throw new InputError('GITHUB_OUTPUT is not set: this runs as a GitHub Action step');
  const inputs = readInputs(env);
  // Owner-only: the incident quotes production logs (heal redacts what leaves it, not this copy).
  const incidentFile = join(inputs.temp, `suture-incident-${process.pid}.json`);
  writeFileSync(incidentFile, JSON.stringify(inputs.incident), { mode: 0o600 });
  chmodSync(incidentFile, 0o600);
  io.log(`suture: healing ${inputs.source} in ${inputs.mode} mode`);

  let run: HealRun;
  try {
    run = await io.heal({
      repo: inputs.repo,
      incidentFile,
      mode: inputs.mode,
      state: inputs.state,
      ...(inputs.config ? { config: inputs.config } : {}),
    });
  } finally {
    // A later step (an artifact upload of RUNNER_TEMP) must not find the unredacted copy.
    rmSync(incidentFile, { force: true });
  }
  if (run.exitCode === 2) throw new InputError(run.lastLine.replace(/^suture: /, '') || 'heal refused its input');
  const r = view(run.result);
  if (run.exitCode !== 0 || !r) {
    const why = run.lastLine.replace(/^suture: /, '') || `heal exited with ${run.exitCode} and no result`;
    io.stdout(annotation('error', `suture heal failed: ${why}`));
    writeFileSync(outputFile, outputCommand('status', 'error'), { flag: 'a' });
    return 1;
  }

  const html = r.report ? htmlReportPath(r.report) : '';
  const outputs: [(typeof OUTPUT_NAMES)[number], string][] = [
    ['status', r.status],
    ['reason', r.reason],
    ['branch', r.branch],
    ['pull-request-url', r.pullRequestUrl],
    ['report', r.report],
    ['html-report', html && existsSync(html) ? html : ''],
  ];
  writeFileSync(outputFile, outputs.map(([k, v]) => outputCommand(k, v)).join(''), { flag: 'a' });

  if (env.GITHUB_STEP_SUMMARY && r.report && existsSync(r.report)) {
    writeFileSync(env.GITHUB_STEP_SUMMARY, summaryText(readFileSync(r.report, 'utf8'), r.report), { flag: 'a' });
  }
  if (WARN.has(r.status)) io.stdout(annotation('warning', `suture: ${r.status}: ${r.reason}`));
  else io.stdout(annotation('notice', `suture: ${r.status}${r.pullRequestUrl ? ` ${r.pullRequestUrl}` : ''}`));
  return 0;
}
