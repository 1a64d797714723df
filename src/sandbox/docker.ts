/**
 * The Docker adapter for sandbox containers (testcontainers on the local engine). Verification containers
 * are hardened the same way: network none, the image's non-root user for everything but the driver, a
 * read-only root filesystem, the workspace a size-limited tmpfs volume and a size-limited /tmp, all
 * capabilities dropped but the three the driver needs, no-new-privileges, memory / CPU / pids limits and a
 * wall-clock limit. The plan and a tar of the tree reach the driver through a read-only bind mount of one
 * temp directory (no argv size limit; the host tree itself is never mounted). The rest of suture never
 * talks to Docker directly.
 */
import './env.ts';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { GenericContainer, getContainerRuntimeClient, type WaitStrategy } from 'testcontainers';
import type { Limits } from '../config/service.ts';
import { SutureError } from '../errors.ts';
import { currentOwner, isStale, ownerLabels, processStartTime } from './ownership.ts';
import { driverDir } from './paths.ts';
import { type DriverReport, type Plan, RESULT_MARK, type StepResult } from './plan.ts';

export const SANDBOX_UID = 10001;
export const LABEL = 'dev.suture';
export const LABEL_RUN = 'dev.suture.run';
/** Where the driver finds its inputs, and where prepared images keep what install produced. */
const INPUTS = '/opt/suture-in';
export const DEPS_DIR = '/opt/suture-deps';

/** The Docker client, or one actionable line when no engine answers. */
export async function dockerClient(): ReturnType<typeof getContainerRuntimeClient> {
  try {
    return await getContainerRuntimeClient();
  } catch (err) {
    throw new SutureError(
      'SANDBOX',
      `Docker is not reachable (${(err as Error).message.split('\n')[0]}): start it with \`bash sandbox/bootstrap.sh\` or check DOCKER_HOST`,
    );
  }
}

/** One id per suture process: every container it starts carries it, so it can sweep its own. */
export const RUN_ID = `${process.pid}-${randomBytes(4).toString('hex')}`;
const OWNER = currentOwner();

export function bytes(size: string): number {
  const m = /^(\d+)([kmg]?)$/i.exec(size);
  if (!m) throw new SutureError('BAD_CONFIG', `bad size ${size}`);
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Number(m[1]) * mult;
}

class SandboxContainer extends GenericContainer {
  /** Verification: everything locked down; the workspace a tmpfs of limits.workspace. */
  harden(limits: Limits): this {
    const workspace = bytes(limits.workspace);
    // tmpfs pages written in the container count against its memory limit: add the workspace and /tmp to
    // it so the code under test keeps `limits.memory` for itself.
    const memory = bytes(limits.memory) + workspace + bytes(limits.tmp);
    Object.assign(this.hostConfig, {
      ReadonlyRootfs: true,
      ...this.common(limits),
      Memory: memory,
      MemorySwap: memory, // no swap: a memory hog meets the limit instead of thrashing the host
      // An anonymous volume on a size-limited tmpfs, removed with the container: code under test cannot
      // fill the host's disk. The driver fills it (prepared dependencies, then the tree).
      Mounts: [
        {
          Type: 'volume',
          Target: '/workspace',
          VolumeOptions: {
            DriverConfig: {
              Name: 'local',
              Options: {
                type: 'tmpfs',
                device: 'tmpfs',
                o: `size=${workspace},uid=${SANDBOX_UID},gid=${SANDBOX_UID},mode=0755,nosuid,nodev`,
              },
            },
          },
        },
      ],
    });
    // testcontainers sets HostConfig.NetworkMode from this at start
    return this.withNetworkMode('none');
  }

  /** Prepare: the base revision's install, with the chosen network; its filesystem becomes an image. */
  forPrepare(limits: Limits, network: string): this {
    Object.assign(this.hostConfig, this.common(limits));
    return this.withNetworkMode(network);
  }

  private common(limits: Limits) {
    return {
      CapDrop: ['ALL'],
      // Only the driver (pid 1, root) holds these, to run each step as the sandbox user and stop it;
      // the steps themselves lose every capability when they switch uid.
      CapAdd: ['SETUID', 'SETGID', 'KILL'],
      SecurityOpt: ['no-new-privileges'],
      PidsLimit: limits.pids,
      NanoCpus: Math.round(limits.cpus * 1e9),
    };
  }
}

/**
 * The driver's inputs in a fresh temp directory: plan.json and (when there is a tree) tree.tar, owned by
 * the sandbox user. The outer directory is private; the inner one, bind-mounted, must be readable by the
 * container's root and sandbox user, who hold no capability to bypass file permissions.
 */
async function writeInputs(workspace: string | undefined, plan: Plan): Promise<{ outer: string; inner: string }> {
  const outer = await mkdtemp(join(tmpdir(), 'suture-in-'));
  const inner = join(outer, randomBytes(16).toString('hex'));
  await mkdir(inner, { mode: 0o755 });
  await chmod(inner, 0o755);
  if (workspace) {
    await execa('tar', [
      `--owner=${SANDBOX_UID}`,
      `--group=${SANDBOX_UID}`,
      '--numeric-owner',
      '--exclude=./.git',
      '-C',
      workspace,
      '-cf',
      join(inner, 'tree.tar'),
      '.',
    ]);
    await chmod(join(inner, 'tree.tar'), 0o644);
  }
  await writeFile(join(inner, 'plan.json'), JSON.stringify(plan), { mode: 0o644 });
  await chmod(join(inner, 'plan.json'), 0o644);
  return { outer, inner };
}

export interface ContainerRun {
  /** Driver results, one per plan step; undefined when the driver died (OOM, time limit, killed). */
  results?: StepResult[];
  /** Why the driver could not set up the workspace (e.g. the tree does not fit limits.workspace). */
  setupError?: string;
  /** The workspace was full when setup failed or after a step: limits.workspace was reached. */
  workspaceFull?: boolean;
  exitCode: number | null;
  timedOut: boolean;
  /** Tail of the container's own output (driver errors), for the verdict's evidence. */
  log: string;
  durationMs: number;
}

/**
 * Ready = exited. testcontainers' one-shot strategy polls once a second, which cost ~0.9 s per container;
 * waiting on Docker's own /wait endpoint returns the moment the driver exits.
 */
class ExitWaitStrategy implements WaitStrategy {
  exitCode: number | null = null;
  private timeoutMs = 60_000;
  private timeoutSet = false;

  async waitUntilReady(container: { wait(): Promise<{ StatusCode: number }> }): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`sandbox timed out after ${this.timeoutMs} ms`)), this.timeoutMs);
    });
    try {
      this.exitCode = (await Promise.race([container.wait(), timeout])).StatusCode;
    } finally {
      clearTimeout(timer);
    }
  }

  withStartupTimeout(ms: number): this {
    this.timeoutMs = ms;
    this.timeoutSet = true;
    return this;
  }

  isStartupTimeoutSet(): boolean {
    return this.timeoutSet;
  }

  getStartupTimeout(): number {
    return this.timeoutMs;
  }
}

/**
 * Runs the driver with `plan` against a copy of the host directory `workspace` (handed over as a tar,
 * never mounted, so nothing in the container can change the host's files) in a fresh container, waits
 * for it to exit (or kills it at `timeoutMs`), and removes it with its volume. Verification containers
 * are hardened (`harden`); with `prepare`, the container runs with that network and a writable root
 * filesystem, and `prepare.commit` sees it after a clean exit, before it is removed.
 */
export async function runPlan(opts: {
  image: string;
  workspace?: string;
  plan: Plan;
  limits: Limits;
  timeoutMs: number;
  name: string;
  prepare?: { network: string; commit: (containerId: string, run: ContainerRun) => Promise<void> };
}): Promise<ContainerRun> {
  if (terminatingSignal) throw new SutureError('SANDBOX', `interrupted (${terminatingSignal})`);
  const started = performance.now();
  const callId = randomBytes(6).toString('hex');
  let out = '';
  let logEnded: Promise<unknown> = Promise.resolve();
  const exited = new ExitWaitStrategy();
  const plan: Plan = {
    ...opts.plan,
    ...(opts.workspace ? { tree: `${INPUTS}/tree.tar` } : {}),
    ...(opts.prepare ? {} : { deps: DEPS_DIR }),
  };
  const inputs = await writeInputs(opts.workspace, plan);
  const base = new SandboxContainer(opts.image);
  const container = (opts.prepare ? base.forPrepare(opts.limits, opts.prepare.network) : base.harden(opts.limits))
    .withUser('0:0')
    .withLabels({ [LABEL]: '1', [LABEL_RUN]: RUN_ID, ...ownerLabels(OWNER), 'dev.suture.call': callId })
    .withBindMounts([
      { source: driverDir(), target: '/opt/suture', mode: 'ro' },
      { source: inputs.inner, target: INPUTS, mode: 'ro' },
    ])
    .withWorkingDir('/workspace')
    .withEnvironment({
      HOME: opts.prepare ? '/workspace/.home' : '/tmp',
      SUTURE_SANDBOX: '1',
      SUTURE_RUN_AS_UID: String(SANDBOX_UID),
      PYTHONDONTWRITEBYTECODE: '1',
    })
    .withCommand(['python3', '/opt/suture/driver.py', `${INPUTS}/plan.json`])
    .withWaitStrategy(exited)
    .withStartupTimeout(opts.timeoutMs)
    .withLogConsumer((stream) => {
      stream.on('data', (d: Buffer | string) => {
        // The driver prints one result line; anything else is its own error output. Keep a bounded tail.
        out += d.toString();
        if (out.length > 4 * 1024 * 1024) out = out.slice(-2 * 1024 * 1024);
      });
      logEnded = new Promise((resolve) => stream.on('end', resolve).on('close', resolve).on('error', resolve));
    });
  if (!opts.prepare) container.withTmpFs({ '/tmp': `rw,nosuid,nodev,size=${opts.limits.tmp}` });
  let timedOut = false;
  let exitCode: number | null = null;
  let containerId: string | undefined;
  try {
    try {
      containerId = (await container.start()).getId();
      exitCode = exited.exitCode;
      // The log stream ends when the container stops; wait (briefly) so the result line is not lost.
      await Promise.race([logEnded, new Promise((r) => setTimeout(r, 2000))]);
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      if (/timed out|timeout/i.test(msg)) timedOut = true;
      exitCode = await exitCodeOf(callId);
    }
    const run: ContainerRun = {
      ...parseReport(out),
      exitCode,
      timedOut,
      log: out.replace(/.*@@SUTURE_RESULT@@.*\n?/, '').slice(-2000),
      durationMs: 0,
    };
    if (opts.prepare && containerId && exitCode === 0) await opts.prepare.commit(containerId, run);
    run.durationMs = Math.round(performance.now() - started);
    return run;
  } finally {
    await removeWhere(`dev.suture.call=${callId}`);
    await rm(inputs.outer, { recursive: true, force: true });
  }
}

function parseReport(out: string): Pick<ContainerRun, 'results' | 'setupError' | 'workspaceFull'> {
  const line = out.split('\n').find((l) => l.includes(RESULT_MARK));
  if (!line) return {};
  try {
    const doc = JSON.parse(line.slice(line.indexOf(RESULT_MARK) + RESULT_MARK.length)) as DriverReport;
    return {
      results: doc.steps,
      ...(doc.setupError ? { setupError: doc.setupError } : {}),
      ...(doc.workspaceFull || doc.steps.some((s) => s.kind === 'run' && s.workspaceFull)
        ? { workspaceFull: true }
        : {}),
    };
  } catch {
    return {};
  }
}

async function exitCodeOf(callId: string): Promise<number | null> {
  const client = await dockerClient();
  const list = await client.container.dockerode.listContainers({
    all: true,
    filters: { label: [`dev.suture.call=${callId}`] },
  });
  const info = list[0];
  if (!info) return null;
  const inspect = await client.container.dockerode.getContainer(info.Id).inspect();
  return inspect.State.Running ? null : inspect.State.ExitCode;
}

/** Force-removes every container matching a label filter (`key=value` or `key`). */
export async function removeWhere(labelFilter: string): Promise<number> {
  const client = await dockerClient();
  const list = await client.container.dockerode.listContainers({ all: true, filters: { label: [labelFilter] } });
  await Promise.all(
    list.map((c) =>
      client.container.dockerode
        .getContainer(c.Id)
        .remove({ force: true, v: true })
        .catch(() => undefined),
    ),
  );
  return list.length;
}

/** Lists suture's containers (all runs), for tests and the sweep. */
export async function listSandboxContainers(): Promise<
  { id: string; labels: Record<string, string>; state: string }[]
> {
  const client = await dockerClient();
  const list = await client.container.dockerode.listContainers({ all: true, filters: { label: [LABEL] } });
  return list.map((c) => ({ id: c.Id, labels: c.Labels, state: c.State }));
}

/**
 * Removes containers left by suture processes that are gone (a crash, a kill -9), and only those: see
 * ownership.ts. Runs before verification.
 */
export async function sweepStale(): Promise<number> {
  const client = await dockerClient();
  let removed = 0;
  for (const c of await listSandboxContainers()) {
    if (c.labels[LABEL_RUN] === RUN_ID || !isStale(c.labels, OWNER, processStartTime)) continue;
    await client.container.dockerode
      .getContainer(c.id)
      .remove({ force: true, v: true })
      .catch(() => undefined);
    removed++;
  }
  return removed;
}

/** Removes this run's containers, again after a moment for creations that were in flight. */
async function removeAllOfThisRun(): Promise<void> {
  for (let pass = 0; pass < 5; pass++) {
    const removed = await removeWhere(`${LABEL_RUN}=${RUN_ID}`);
    if (removed === 0 && pass > 0) return;
    await new Promise((r) => setTimeout(r, 300));
  }
}

let handlersInstalled = false;
let terminatingSignal: NodeJS.Signals | undefined;

/** Set once SIGINT/SIGTERM arrived: the handler below owns the exit from then on. */
export function terminating(): NodeJS.Signals | undefined {
  return terminatingSignal;
}

/**
 * On SIGINT/SIGTERM, remove this process's containers, then exit 130/143. Removing them makes the running
 * verification finish early; the CLI checks `terminating()` so it does not exit 0 before the cleanup is done.
 */
export function installCleanupHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      terminatingSignal = sig;
      removeAllOfThisRun()
        .catch(() => undefined)
        .finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
    });
  }
}
