/**
 * The Docker adapter for verification containers (testcontainers on the local engine). Every container is
 * hardened the same way: network none, the image's non-root user, read-only root filesystem except the
 * workspace and a size-limited /tmp, all capabilities dropped, no-new-privileges, memory / CPU / pids
 * limits and a wall-clock limit. The rest of suture never talks to Docker directly.
 */
import './env.ts';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { GenericContainer, getContainerRuntimeClient, type WaitStrategy } from 'testcontainers';
import type { Limits } from '../config/service.ts';
import { SutureError } from '../errors.ts';
import { driverDir } from './paths.ts';
import { type Plan, RESULT_MARK, type StepResult } from './plan.ts';

export const SANDBOX_UID = 10001;
export const LABEL = 'dev.suture';
export const LABEL_RUN = 'dev.suture.run';
export const LABEL_PID = 'dev.suture.pid';

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

function bytes(size: string): number {
  const m = /^(\d+)([kmg]?)$/i.exec(size);
  if (!m) throw new SutureError('BAD_CONFIG', `bad size ${size}`);
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Number(m[1]) * mult;
}

class HardenedContainer extends GenericContainer {
  harden(limits: Limits): this {
    const memory = bytes(limits.memory);
    Object.assign(this.hostConfig, {
      ReadonlyRootfs: true,
      CapDrop: ['ALL'],
      // Only the driver (pid 1, root) holds these, to run each step as the sandbox user and stop it;
      // the steps themselves lose every capability when they switch uid.
      CapAdd: ['SETUID', 'SETGID', 'KILL'],
      SecurityOpt: ['no-new-privileges'],
      PidsLimit: limits.pids,
      Memory: memory,
      MemorySwap: memory, // no swap: a memory hog meets the limit instead of thrashing the host
      NanoCpus: Math.round(limits.cpus * 1e9),
      NetworkMode: 'none',
      // The workspace is an anonymous volume: Docker seeds it from the image's /workspace (the prepared
      // dependencies), the tree under test is copied over it, and it is deleted with the container.
      Mounts: [{ Type: 'volume', Target: '/workspace' }],
    });
    return this;
  }
}

/** A tar of `dir` whose files belong to the sandbox user, ready to copy into a container. */
export async function tarOf(dir: string): Promise<Readable> {
  const { execa } = await import('execa');
  const r = await execa(
    'tar',
    ['--owner=' + SANDBOX_UID, '--group=' + SANDBOX_UID, '--numeric-owner', '--exclude=./.git', '-C', dir, '-c', '.'],
    { encoding: 'buffer', maxBuffer: 2 * 1024 ** 3 },
  );
  return Readable.from([r.stdout]);
}

export interface ContainerRun {
  /** Driver results, one per plan step; undefined when the driver died (OOM, time limit, killed). */
  results?: StepResult[];
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
 * Runs the driver with `plan` against a copy of the host directory `workspace` (copied in, never mounted,
 * so nothing in the container can change the host's files) in a fresh hardened container, waits for it to
 * exit (or kills it at `timeoutMs`), and removes it with its volume.
 */
export async function runPlan(opts: {
  image: string;
  workspace: string;
  plan: Plan;
  limits: Limits;
  timeoutMs: number;
  name: string;
}): Promise<ContainerRun> {
  if (terminatingSignal) throw new SutureError('SANDBOX', `interrupted (${terminatingSignal})`);
  const started = performance.now();
  const callId = randomBytes(6).toString('hex');
  let out = '';
  let logEnded: Promise<unknown> = Promise.resolve();
  const exited = new ExitWaitStrategy();
  const encoded = Buffer.from(JSON.stringify(opts.plan)).toString('base64');
  const container = new HardenedContainer(opts.image)
    .harden(opts.limits)
    .withUser('0:0')
    .withNetworkMode('none')
    .withLabels({ [LABEL]: '1', [LABEL_RUN]: RUN_ID, [LABEL_PID]: String(process.pid), 'dev.suture.call': callId })
    .withBindMounts([{ source: driverDir(), target: '/opt/suture', mode: 'ro' }])
    .withCopyArchivesToContainer([{ tar: await tarOf(opts.workspace), target: '/workspace' }])
    .withTmpFs({ '/tmp': `rw,nosuid,nodev,size=${opts.limits.tmp}` })
    .withWorkingDir('/workspace')
    .withEnvironment({
      HOME: '/tmp',
      SUTURE_SANDBOX: '1',
      SUTURE_RUN_AS_UID: String(SANDBOX_UID),
      PYTHONDONTWRITEBYTECODE: '1',
    })
    .withCommand(['python3', '/opt/suture/driver.py', encoded])
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
  let timedOut = false;
  let exitCode: number | null = null;
  try {
    await container.start();
    exitCode = exited.exitCode;
    // The log stream ends when the container stops; wait (briefly) so the result line is not lost.
    await Promise.race([logEnded, new Promise((r) => setTimeout(r, 2000))]);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    if (/timed out|timeout/i.test(msg)) timedOut = true;
    exitCode = await exitCodeOf(callId);
  } finally {
    await removeWhere(`dev.suture.call=${callId}`);
  }
  const line = out.split('\n').find((l) => l.includes(RESULT_MARK));
  let results: StepResult[] | undefined;
  if (line) {
    try {
      results = (JSON.parse(line.slice(line.indexOf(RESULT_MARK) + RESULT_MARK.length)) as { steps: StepResult[] })
        .steps;
    } catch {
      results = undefined;
    }
  }
  return {
    ...(results ? { results } : {}),
    exitCode,
    timedOut,
    log: out.replace(/.*@@SUTURE_RESULT@@.*\n?/, '').slice(-2000),
    durationMs: Math.round(performance.now() - started),
  };
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

/** Removes containers left by suture processes that are gone (a crash, a kill -9). Runs before verification. */
export async function sweepStale(): Promise<number> {
  const client = await dockerClient();
  let removed = 0;
  for (const c of await listSandboxContainers()) {
    const pid = Number(c.labels[LABEL_PID]);
    if (c.labels[LABEL_RUN] === RUN_ID || (pid && pidAlive(pid))) continue;
    await client.container.dockerode
      .getContainer(c.id)
      .remove({ force: true, v: true })
      .catch(() => undefined);
    removed++;
  }
  return removed;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
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
