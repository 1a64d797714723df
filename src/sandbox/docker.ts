/**
 * The one Docker adapter: every container and image suture makes goes through here — sandbox verification
 * and prepare containers, the prepared-image commit, the service images built from a repo's Dockerfile, and
 * the canary's long-lived service containers and demo images. Nothing else in suture talks to Docker.
 *
 * One label scheme: every container carries `dev.suture=1`, the run id, the owner labels of ownership.ts and
 * its role (`sandbox`, `prepare`, `service`), so one sweep (`sweepStale`) finds every leftover, whoever made it.
 *
 * Containers are configured through testcontainers' public builder (capabilities, security options, resource
 * quota, tmpfs, network, user, labels, copying files in, `commit`). Testcontainers 12 has no builder method
 * for four settings the hardening needs; `withEngineOptions` sets exactly those, in one place:
 *   - a read-only root filesystem (HostConfig.ReadonlyRootfs);
 *   - the pids limit (HostConfig.PidsLimit; `withUlimits({nproc})` counts per uid across the whole host,
 *     not per container);
 *   - no swap (HostConfig.MemorySwap: `withResourcesQuota` sets Memory alone, which lets Docker add as much
 *     swap again);
 *   - an anonymous volume (HostConfig.Mounts: `withBindMounts` only takes `source:target` pairs).
 * Where testcontainers' clients cannot list (containers in every state by label, networks) or report a failed
 * image build's error text, the engine client it exposes (`client.container.dockerode`) is used, here only.
 *
 * Nothing from the host is mounted (a remote DOCKER_HOST works the same): the driver, its plan and a tar of
 * the tree are copied into a small anonymous volume before the container starts (the root filesystem is
 * read-only, and the workspace tmpfs only exists once the container runs). The plan and the tree are root's
 * alone (0600): the driver (pid 1, root) reads them and hands the tree to the sandbox user as an open file.
 * Verification containers: network none, a read-only root filesystem, the workspace a size-limited tmpfs
 * and a size-limited /tmp, all capabilities dropped but the three the driver needs, no-new-privileges,
 * memory / CPU / pids limits and a wall-clock limit; every step runs as the sandbox user.
 */
import './env.ts';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { execa } from 'execa';
import {
  type CommitOptions,
  type ContainerRuntimeClient,
  GenericContainer,
  getContainerRuntimeClient,
  ImageName,
  type StartedTestContainer,
  type WaitStrategy,
} from 'testcontainers';
import type { Limits } from '../config/service.ts';
import { SutureError } from '../errors.ts';
import { currentOwner, isStale, ownerLabels, processStartTime } from './ownership.ts';
import { driverDir } from './paths.ts';
import { type DriverReport, type Plan, RESULT_MARK, type StepResult } from './plan.ts';
import { type TarEntry, tarStream } from './tar.ts';

export const SANDBOX_UID = 10001;
export const LABEL = 'dev.suture';
export const LABEL_RUN = 'dev.suture.run';
export const LABEL_ROLE = 'dev.suture.role';
export const LABEL_CALL = 'dev.suture.call';
export const LABEL_ROLLOUT = 'dev.suture.rollout';
export type Role = 'sandbox' | 'prepare' | 'service';
/** The anonymous volume the driver and its inputs are copied into before start. */
export const INPUTS = '/opt/suture-in';
/** Where prepared images keep what install produced. */
export const DEPS_DIR = '/opt/suture-deps';

/** The Docker client, or one actionable line when no engine answers. */
export async function dockerClient(): Promise<ContainerRuntimeClient> {
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

/** The labels of every container suture starts (one scheme for all roles; see ownership.ts). */
export function containerLabels(role: Role, extra: Record<string, string> = {}): Record<string, string> {
  return { [LABEL]: '1', [LABEL_RUN]: RUN_ID, ...ownerLabels(OWNER), [LABEL_ROLE]: role, ...extra };
}

export function bytes(size: string): number {
  const m = /^(\d+)([kmg]?)$/i.exec(size);
  if (!m) throw new SutureError('BAD_CONFIG', `bad size ${size}`);
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Number(m[1]) * mult;
}

interface EngineOptions {
  readOnlyRootfs?: boolean;
  pidsLimit?: number;
  /** Memory + swap in bytes; equal to the memory limit: no swap. */
  memorySwap?: number;
  /** Container paths that get a fresh anonymous volume, removed with the container. */
  anonymousVolumes?: string[];
}

class SutureContainer extends GenericContainer {
  /** The four settings testcontainers 12's builder has no method for (see the module comment). */
  withEngineOptions(o: EngineOptions): this {
    if (o.readOnlyRootfs) this.hostConfig.ReadonlyRootfs = true;
    if (o.pidsLimit !== undefined) this.hostConfig.PidsLimit = o.pidsLimit;
    if (o.memorySwap !== undefined) this.hostConfig.MemorySwap = o.memorySwap;
    for (const target of o.anonymousVolumes ?? []) {
      this.hostConfig.Mounts = [...(this.hostConfig.Mounts ?? []), { Type: 'volume', Source: '', Target: target }];
    }
    return this;
  }

  /** What the driver needs and nothing more: it switches to the sandbox user for every step and stops them. */
  withDriverPrivileges(): this {
    return this.withUser('0:0')
      .withDroppedCapabilities('ALL')
      .withAddedCapabilities('SETUID', 'SETGID', 'KILL')
      .withSecurityOpt('no-new-privileges');
  }
}

const GIB = 1024 ** 3;

/** Verification: everything locked down; the workspace a tmpfs of limits.workspace. */
function hardenForVerification(c: SutureContainer, limits: Limits): SutureContainer {
  const workspace = bytes(limits.workspace);
  // tmpfs pages written in the container count against its memory limit: add the workspace and /tmp to
  // it so the code under test keeps `limits.memory` for itself.
  const memory = bytes(limits.memory) + workspace + bytes(limits.tmp);
  return c
    .withDriverPrivileges()
    .withNetworkMode('none')
    .withResourcesQuota({ memory: memory / GIB, cpu: limits.cpus })
    .withTmpFs({
      // exec: the prepared dependencies (.venv/bin, node_modules/.bin) run from here
      '/workspace': `rw,exec,nosuid,nodev,size=${workspace},uid=${SANDBOX_UID},gid=${SANDBOX_UID},mode=0755`,
      '/tmp': `rw,nosuid,nodev,size=${limits.tmp}`,
    })
    .withEngineOptions({
      readOnlyRootfs: true,
      pidsLimit: limits.pids,
      memorySwap: memory, // no swap: a memory hog meets the limit instead of thrashing the host
      anonymousVolumes: [INPUTS],
    });
}

/** Prepare: the base revision's install, with the chosen network; its filesystem becomes an image. */
function confineForPrepare(c: SutureContainer, limits: Limits, network: string): SutureContainer {
  return c
    .withDriverPrivileges()
    .withNetworkMode(network)
    .withResourcesQuota({ cpu: limits.cpus })
    .withEngineOptions({ pidsLimit: limits.pids, anonymousVolumes: [INPUTS] });
}

/**
 * A tar of the host directory `workspace` (its files owned by the sandbox user, .git left out) in a private
 * temp directory, for the driver to unpack into the workspace.
 */
async function treeTar(workspace: string): Promise<{ dir: string; file: string; size: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'suture-tree-'));
  const file = join(dir, 'tree.tar');
  try {
    await execa('tar', [
      `--owner=${SANDBOX_UID}`,
      `--group=${SANDBOX_UID}`,
      '--numeric-owner',
      '--exclude=./.git',
      '-C',
      workspace,
      '-cf',
      file,
      '.',
    ]);
    return { dir, file, size: (await stat(file)).size };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
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

/** testcontainers' wait-strategy contract, for the two strategies below. */
abstract class Strategy implements WaitStrategy {
  protected timeoutMs = 60_000;
  private timeoutSet = false;
  abstract waitUntilReady(container: { wait(): Promise<{ StatusCode: number }> }): Promise<void>;
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
 * Ready = exited. testcontainers' one-shot strategy polls once a second, which cost ~0.9 s per container;
 * waiting on Docker's own /wait endpoint returns the moment the driver exits.
 */
class ExitWaitStrategy extends Strategy {
  exitCode: number | null = null;

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
}

/** Ready = started: the caller checks readiness itself (the canary polls the service's health path). */
class StartedStrategy extends Strategy {
  async waitUntilReady(): Promise<void> {}
}

/**
 * Runs the driver with `plan` against a copy of the host directory `workspace` (handed over as a tar, never
 * mounted, so nothing in the container can change the host's files) in a fresh container, waits for it to
 * exit (or kills it at `timeoutMs`), and removes it with its volume. Verification containers are hardened;
 * with `prepare`, the container runs with that network and a writable root filesystem, and after a clean exit
 * `prepare.commit` may name the image to commit it to, before it is removed. `files` are copied next to the
 * driver, readable by the sandbox user (the install's CA bundle).
 */
export async function runPlan(opts: {
  image: string;
  workspace?: string;
  plan: Plan;
  limits: Limits;
  timeoutMs: number;
  name: string;
  files?: { name: string; data: Buffer }[];
  prepare?: { network: string; commit: (run: ContainerRun) => Omit<CommitOptions, 'deleteOnExit'> | undefined };
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
  const tree = opts.workspace ? await treeTar(opts.workspace) : undefined;
  let containerId: string | undefined;
  try {
    const inputs: TarEntry[] = [
      { name: 'driver.py', mode: 0o644, data: await readFile(join(driverDir(), 'driver.py')) },
      { name: 'plan.json', mode: 0o600, data: Buffer.from(JSON.stringify(plan)) },
      ...(tree ? [{ name: 'tree.tar', mode: 0o600, data: { file: tree.file, size: tree.size } }] : []),
      ...(opts.files ?? []).map((f) => ({ name: f.name, mode: 0o644, data: f.data })),
    ];
    const base = new SutureContainer(opts.image);
    const container = (
      opts.prepare
        ? confineForPrepare(base, opts.limits, opts.prepare.network)
        : hardenForVerification(base, opts.limits)
    )
      .withLabels(containerLabels(opts.prepare ? 'prepare' : 'sandbox', { [LABEL_CALL]: callId }))
      .withCopyArchivesToContainer([{ tar: tarStream(inputs), target: INPUTS }])
      .withWorkingDir('/workspace')
      .withEnvironment({
        HOME: opts.prepare ? '/workspace/.home' : '/tmp',
        SUTURE_SANDBOX: '1',
        SUTURE_RUN_AS_UID: String(SANDBOX_UID),
        PYTHONDONTWRITEBYTECODE: '1',
      })
      // The image's own entrypoint (a service image's) must not wrap the driver, nor its environment
      // (PYTHONPATH, PYTHONSTARTUP, …) or site-packages (sitecustomize, .pth files) run code in it: -I -S.
      .withEntrypoint(['python3'])
      .withCommand(['-I', '-S', `${INPUTS}/driver.py`, `${INPUTS}/plan.json`])
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
    let handle: StartedTestContainer | undefined;
    try {
      handle = await container.start();
      containerId = handle.getId();
      exitCode = exited.exitCode;
      // The log stream ends when the container stops; wait (briefly) so the result line is not lost.
      await Promise.race([logEnded, new Promise((r) => setTimeout(r, 2000))]);
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      if (/timed out|timeout/i.test(msg)) timedOut = true;
      else if (!out) out = msg; // e.g. the image has no python3: Docker's own words are the evidence
      exitCode = await exitCodeOf(callId);
    }
    const run: ContainerRun = {
      ...parseReport(out),
      exitCode,
      timedOut,
      log: out.replace(/.*@@SUTURE_RESULT@@.*\n?/, '').slice(-2000),
      durationMs: 0,
    };
    const commit = opts.prepare && handle && exitCode === 0 ? opts.prepare.commit(run) : undefined;
    if (commit && handle) await handle.commit({ ...commit, deleteOnExit: false });
    run.durationMs = Math.round(performance.now() - started);
    return run;
  } finally {
    if (containerId) await removeContainers([containerId]);
    else await removeWhere(`${LABEL_CALL}=${callId}`);
    if (tree) await rm(tree.dir, { recursive: true, force: true });
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
  const found = await client.container
    .fetchByLabel(LABEL_CALL, callId, { status: ['created', 'running', 'exited', 'dead', 'paused', 'restarting'] })
    .catch(() => undefined);
  if (!found) return null;
  const inspect = await client.container.inspect(found).catch(() => undefined);
  return !inspect || inspect.State.Running ? null : inspect.State.ExitCode;
}

export interface ServiceContainer {
  id: string;
  /** The last `lines` lines of its output. */
  logs(lines?: number): Promise<string>;
}

/**
 * Starts a long-lived service container on the host network with PORT set (the canary's versions: each on
 * its own loopback port, so no bridge is needed). Returns once it runs; the caller checks its health.
 */
export async function startServiceContainer(o: {
  image: string;
  name: string;
  port: number;
  env?: Record<string, string>;
  /** Command override; the image's CMD when absent. */
  command?: string[];
  labels?: Record<string, string>;
  memory?: string;
  pids?: number;
  /** A host directory copied (never mounted) into the container before it starts, and the working directory. */
  copy?: { source: string; target: string };
}): Promise<ServiceContainer> {
  if (terminatingSignal) throw new SutureError('SANDBOX', `interrupted (${terminatingSignal})`);
  const callId = randomBytes(6).toString('hex');
  const c = new SutureContainer(o.image)
    .withName(o.name)
    .withNetworkMode('host')
    .withLabels(containerLabels('service', { ...o.labels, [LABEL_CALL]: callId }))
    .withEnvironment({ PORT: String(o.port), ...(o.env ?? {}) })
    .withSecurityOpt('no-new-privileges')
    .withResourcesQuota({ memory: bytes(o.memory ?? '256m') / GIB })
    .withEngineOptions({ pidsLimit: o.pids ?? 256 })
    .withWaitStrategy(new StartedStrategy());
  if (o.command) c.withCommand(o.command);
  if (o.copy) c.withCopyDirectoriesToContainer([o.copy]).withWorkingDir(o.copy.target);
  let handle: StartedTestContainer;
  try {
    handle = await c.start();
  } catch (err) {
    await removeWhere(`${LABEL_CALL}=${callId}`).catch(() => 0);
    throw new SutureError('SANDBOX', `cannot start ${o.image}: ${(err as Error).message.split('\n')[0]}`);
  }
  return { id: handle.getId(), logs: (lines = 20) => tail(handle, lines) };
}

/** The last lines of a container's output: its log stream follows, so read what is there and stop. */
async function tail(handle: StartedTestContainer, lines: number): Promise<string> {
  const stream = await handle.logs({ tail: lines }).catch(() => undefined);
  if (!stream) return '';
  let text = '';
  stream.on('data', (d: Buffer | string) => {
    text += d.toString();
  });
  await new Promise((resolve) => {
    const timer = setTimeout(resolve, 500);
    stream.on('end', () => {
      clearTimeout(timer);
      resolve(undefined);
    });
  });
  stream.destroy();
  return text.trim();
}

async function removeOne(client: ContainerRuntimeClient, id: string): Promise<void> {
  const c = client.container.getById(id);
  try {
    await client.container.remove(c, { removeVolumes: true });
  } catch {
    // still running (a timed-out driver, a service): stop it first
    await client.container.stop(c, { timeout: 0 }).catch(() => undefined);
    await client.container.remove(c, { removeVolumes: true }).catch(() => undefined);
  }
}

/** Stops and removes containers with their anonymous volumes; missing ones are fine (already gone). */
export async function removeContainers(ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  const client = await dockerClient();
  await Promise.all(ids.map((id) => removeOne(client, id)));
}

export interface ContainerInfo {
  id: string;
  labels: Record<string, string>;
  state: string;
}

/** suture's containers in every state, optionally narrowed by a label filter (`key=value` or `key`). */
export async function listContainers(labelFilter: string = LABEL): Promise<ContainerInfo[]> {
  const client = await dockerClient();
  // testcontainers' own list() shows running containers only; leftovers are often created or exited.
  const list = await client.container.dockerode.listContainers({ all: true, filters: { label: [labelFilter] } });
  return list.map((c) => ({ id: c.Id, labels: c.Labels, state: c.State }));
}

/** Removes every container matching a label filter; returns how many. */
export async function removeWhere(labelFilter: string): Promise<number> {
  const found = await listContainers(labelFilter);
  await removeContainers(found.map((c) => c.id));
  return found.length;
}

/** Lists suture's containers (all runs and roles), for tests and the sweep. */
export async function listSandboxContainers(): Promise<ContainerInfo[]> {
  return listContainers(LABEL);
}

/**
 * Removes containers left by suture processes that are gone (a crash, a kill -9), and only those: see
 * ownership.ts. Every role carries the same labels, so verification, prepare and canary service containers
 * are all found here. Runs before verification and before a local rollout.
 */
export async function sweepStale(): Promise<number> {
  const stale = (await listContainers(LABEL)).filter(
    (c) => c.labels[LABEL_RUN] !== RUN_ID && isStale(c.labels, OWNER, processStartTime),
  );
  await removeContainers(stale.map((c) => c.id));
  return stale.length;
}

/** Removes this run's containers, again after a moment for creations that were in flight. */
async function removeAllOfThisRun(): Promise<void> {
  for (let pass = 0; pass < 5; pass++) {
    const removed = await removeWhere(`${LABEL_RUN}=${RUN_ID}`);
    if (removed === 0 && pass > 0) return;
    await new Promise((r) => setTimeout(r, 300));
  }
}

export interface ImageInfo {
  id: string;
  labels: Record<string, string>;
}

/** A local image's id and labels, or undefined when it is not here (nothing is pulled). */
export async function imageInfo(name: string): Promise<ImageInfo | undefined> {
  const client = await dockerClient();
  try {
    const info = await client.image.inspect(ImageName.fromString(name));
    return { id: info.Id, labels: info.Config?.Labels ?? {} };
  } catch {
    return undefined;
  }
}

/** The engine's networks (name and driver), for choosing the install network. */
export async function engineNetworks(): Promise<{ name: string; driver: string }[]> {
  const client = await dockerClient();
  // testcontainers' network client creates and removes networks but cannot list them
  return (await client.container.dockerode.listNetworks()).map((n) => ({ name: n.Name, driver: n.Driver }));
}

/**
 * Builds an image from a build context (a tar stream) with the classic builder, on `network` (no registry
 * here: `FROM` images must be local, or reachable on that network). Every image suture builds carries
 * `dev.suture=1`. A failed build is one SANDBOX line with the builder's own last words.
 */
export async function buildImage(o: {
  context: Readable;
  tag: string;
  dockerfile?: string;
  labels?: Record<string, string>;
  network: string;
  buildArgs?: Record<string, string>;
  /** Memory for each build step's container, in bytes. */
  memory?: number;
}): Promise<void> {
  const client = await dockerClient();
  const docker = client.container.dockerode;
  const stream = await docker
    .buildImage(o.context, {
      t: o.tag,
      dockerfile: o.dockerfile ?? 'Dockerfile',
      labels: { [LABEL]: '1', ...o.labels },
      networkmode: o.network === 'bridge' ? 'default' : o.network,
      ...(o.buildArgs ? { buildargs: o.buildArgs } : {}),
      ...(o.memory ? { memory: o.memory, memswap: o.memory } : {}),
      rm: true,
      forcerm: true,
      version: '1',
    })
    .catch((err: Error) => {
      throw new SutureError('SANDBOX', `docker build ${o.tag} failed: ${err.message.split('\n')[0]}`);
    });
  // testcontainers' image client drops the builder's output, and with it the reason a build failed.
  const lines = await new Promise<{ stream?: string; error?: string }[]>((resolve, reject) =>
    docker.modem.followProgress(stream, (err, res) => (err ? reject(err) : resolve(res))),
  );
  const failed = lines.find((l) => l.error);
  if (failed) {
    const said = lines
      .map((l) => l.stream ?? '')
      .join('')
      .trim()
      .split('\n')
      .slice(-3)
      .join(' | ');
    throw new SutureError(
      'SANDBOX',
      `docker build ${o.tag} failed: ${failed.error!.trim()}${said ? ` (${said})` : ''}`,
    );
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
