/**
 * A real, throwaway Kubernetes control plane for the Argo Rollouts end-to-end tests (test/argo-real/): etcd,
 * kube-apiserver (static token auth, loopback only, RBAC), kube-controller-manager (the ReplicaSet
 * controller makes the pods), kube-scheduler, kwok (one fake node; pods become Running and Ready without a
 * kubelet) and the Argo Rollouts controller run out of cluster, with the CRDs of the same Argo release.
 * The binaries are the ones sandbox/bootstrap.d/50-kube.sh built from the versions pinned in
 * sandbox/kube/*\/go.mod. Every process is started here and stopped by stop() (or killed if the test
 * process exits first); data lives in one temp dir that stop() removes.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import {
  appendFileSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { freePort } from '../../src/canary/local/ports.ts';
import { ROOT, tempDir } from './repo.ts';

const KUBE_MODULES = join(ROOT, 'sandbox', 'kube');

/** The version module `mod` is pinned at in sandbox/kube/<dir>/go.mod. */
function pinned(dir: string, mod: string): string {
  const text = readFileSync(join(KUBE_MODULES, dir, 'go.mod'), 'utf8');
  const m = new RegExp(`^\\s*(?:require\\s+)?${mod.replace(/[.\\/]/g, '\\$&')}\\s+(v\\S+)`, 'm').exec(text);
  if (!m) throw new Error(`sandbox/kube/${dir}/go.mod does not pin ${mod}`);
  return m[1]!;
}

/** 1.8 (default) or 1.10, from SUTURE_ARGO_ROLLOUTS_VERSION, as 50-kube.sh reads it. */
export function argoRolloutsLine(env: NodeJS.ProcessEnv = process.env): '1.8' | '1.10' {
  const v = (env.SUTURE_ARGO_ROLLOUTS_VERSION ?? '1.8').replace(/^v/, '');
  if (v === '1.8' || v.startsWith('1.8.')) return '1.8';
  if (v === '1.10' || v.startsWith('1.10.')) return '1.10';
  throw new Error(`SUTURE_ARGO_ROLLOUTS_VERSION must be 1.8 or 1.10, not ${v}`);
}

export interface KubeBinaries {
  etcd: string;
  kubeApiserver: string;
  kubeControllerManager: string;
  kubeScheduler: string;
  kubectl: string;
  kwok: string;
  kwokStages: string;
  rolloutsController: string;
  crds: string;
  versions: { kubernetes: string; etcd: string; kwok: string; argoRollouts: string };
}

/** Where 50-kube.sh put the binaries; `missing` lists what is not there. */
export function kubeBinaries(env: NodeJS.ProcessEnv = process.env): KubeBinaries & { missing: string[] } {
  const cache = env.SUTURE_CACHE ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'suture');
  const line = argoRolloutsLine(env);
  const versions = {
    kubernetes: pinned('kubernetes', 'k8s.io/kubernetes'),
    etcd: pinned('etcd', 'go.etcd.io/etcd/server/v3'),
    kwok: pinned('kwok', 'sigs.k8s.io/kwok'),
    argoRollouts: pinned(`argo-rollouts-v${line}`, 'github.com/argoproj/argo-rollouts'),
  };
  const k = (name: string, version: string) => join(cache, 'kube', `${name}-${version}`);
  const b: KubeBinaries = {
    etcd: join(k('etcd', versions.etcd), 'bin', 'etcd'),
    kubeApiserver: join(k('kubernetes', versions.kubernetes), 'bin', 'kube-apiserver'),
    kubeControllerManager: join(k('kubernetes', versions.kubernetes), 'bin', 'kube-controller-manager'),
    kubeScheduler: join(k('kubernetes', versions.kubernetes), 'bin', 'kube-scheduler'),
    kubectl: join(k('kubernetes', versions.kubernetes), 'bin', 'kubectl'),
    kwok: join(k('kwok', versions.kwok), 'bin', 'kwok'),
    kwokStages: join(k('kwok', versions.kwok), 'stages'),
    rolloutsController: join(k('argo-rollouts', versions.argoRollouts), 'bin', 'rollouts-controller'),
    crds: join(k('argo-rollouts', versions.argoRollouts), 'crds'),
    versions,
  };
  const missing = Object.entries(b)
    .filter(([key, p]) => key !== 'versions' && !existsSync(p as string))
    .map(([, p]) => p as string);
  return { ...b, missing };
}

/**
 * Why the real-cluster tests cannot run here, or null when they can. In CI a missing control plane is a
 * failure (the bootstrap builds it), never a skip: the tests would otherwise pass by running nothing.
 */
export function kubeSkipReason(env: NodeJS.ProcessEnv = process.env): string | null {
  const { missing } = kubeBinaries(env);
  if (missing.length === 0) return null;
  const why = `the Kubernetes control plane is not built (missing ${missing[0]}${missing.length > 1 ? ` and ${missing.length - 1} more` : ''}): run bash sandbox/bootstrap.sh`;
  if (env.CI) throw new Error(`CI must run the Argo Rollouts tests on the real controller, but ${why}`);
  console.warn(`skipping the real-cluster tests: ${why}`);
  return why;
}

export interface KubeCluster {
  /** Admin kubeconfig (system:masters). */
  kubeconfig: string;
  server: string;
  /** The static bearer token of user `admin` (system:masters). Others: ServiceAccount tokens (kubectl create token). */
  tokens: { admin: string };
  /** A kubeconfig for the same server that authenticates with `token`. */
  kubeconfigFor(token: string, name: string): string;
  /** kubectl with the admin kubeconfig; rejects with kubectl's stderr on a non-zero exit. */
  kubectl(args: string[], input?: string): Promise<string>;
  /** Temp dir holding the data, configs and one log file per process. */
  dir: string;
  binaries: KubeBinaries;
  /** Milliseconds from the first process start until the Argo controller was up and the node Ready. */
  startMs: number;
  stop(): Promise<void>;
}

interface Proc {
  name: string;
  child: ChildProcess;
  exited: Promise<void>;
}

/** Starts the control plane; rejects (after stopping what it started) if a component does not come up. */
export async function startKube(): Promise<KubeCluster> {
  const bin = kubeBinaries();
  if (bin.missing.length > 0) throw new Error(`missing ${bin.missing.join(', ')}: run bash sandbox/bootstrap.sh`);
  const dir = tempDir('suture-kube-');
  const procs: Proc[] = [];
  const started = Date.now();
  const log = (name: string) => join(dir, `${name}.log`);
  const pids = join(dir, 'pids');
  writeFileSync(pids, '');
  const run = (name: string, cmd: string, args: string[]) => {
    const fd = openSync(log(name), 'a');
    const child = spawn(cmd, args, { stdio: ['ignore', fd, fd], cwd: dir });
    closeSync(fd);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    procs.push({ name, child, exited });
    if (child.pid) appendFileSync(pids, `${child.pid}\n`);
    return child;
  };
  // A test worker that dies without stop() must not leave the control plane behind: on a normal exit the
  // handler kills it; on a kill (SIGTERM, SIGKILL) a detached watchdog notices the worker is gone and ends
  // exactly the processes listed in `pids`, then removes the dir.
  const killAll = () => {
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  };
  process.once('exit', killAll);
  const watchdog = spawn(
    'sh',
    [
      '-c',
      'while kill -0 "$1" 2>/dev/null && [ -d "$2" ]; do sleep 2; done; [ -d "$2" ] || exit 0; ' +
        'for p in $(cat "$2/pids"); do kill -TERM "$p" 2>/dev/null; done; sleep 5; ' +
        'for p in $(cat "$2/pids"); do kill -KILL "$p" 2>/dev/null; done; rm -rf "$2"',
      'suture-kube-watchdog',
      String(process.pid),
      dir,
    ],
    { detached: true, stdio: 'ignore' },
  );
  watchdog.unref();
  const stop = async () => {
    process.off('exit', killAll);
    // Reverse order: controllers first, etcd last.
    for (const p of [...procs].reverse()) {
      if (p.child.exitCode !== null || p.child.signalCode !== null) continue;
      p.child.kill('SIGTERM');
      const timer = setTimeout(() => p.child.kill('SIGKILL'), 5000);
      await p.exited;
      clearTimeout(timer);
    }
    // Removing the dir also tells the watchdog to leave (it checks every 2 s).
    rmSync(dir, { recursive: true, force: true });
  };
  const tail = (name: string) => {
    try {
      return readFileSync(log(name), 'utf8').split('\n').slice(-15).join('\n');
    } catch {
      return '';
    }
  };
  const waitFor = async (name: string, what: string, check: () => Promise<boolean>, ms = 60_000) => {
    const deadline = Date.now() + ms;
    for (;;) {
      const p = procs.find((x) => x.name === name);
      if (p && p.child.exitCode !== null) throw new Error(`${name} exited ${p.child.exitCode}:\n${tail(name)}`);
      if (await check().catch(() => false)) return;
      if (Date.now() > deadline) throw new Error(`${name}: ${what} not ready after ${ms} ms:\n${tail(name)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  try {
    // etcd: one member, loopback, no fsync (throwaway data).
    const [etcdClient, etcdPeer] = [await freePort(), await freePort()];
    run('etcd', bin.etcd, [
      '--name=suture',
      `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=http://127.0.0.1:${etcdClient}`,
      `--advertise-client-urls=http://127.0.0.1:${etcdClient}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-cluster=suture=http://127.0.0.1:${etcdPeer}`,
      '--unsafe-no-fsync',
      '--log-level=warn',
    ]);
    await waitFor('etcd', 'health', async () => (await fetch(`http://127.0.0.1:${etcdClient}/health`)).ok);

    // kube-apiserver: static tokens, RBAC, a self-signed serving cert (its CA goes into the kubeconfig).
    const tokens = { admin: randomToken() };
    writeFileSync(join(dir, 'tokens.csv'), `${tokens.admin},admin,admin,"system:masters"\n`, { mode: 0o600 });
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(join(dir, 'sa.key'), privateKey.export({ type: 'pkcs1', format: 'pem' }), { mode: 0o600 });
    writeFileSync(join(dir, 'sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
    const apiPort = await freePort();
    const certDir = join(dir, 'pki');
    mkdirSync(certDir);
    run('kube-apiserver', bin.kubeApiserver, [
      `--etcd-servers=http://127.0.0.1:${etcdClient}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${apiPort}`,
      `--cert-dir=${certDir}`,
      `--token-auth-file=${join(dir, 'tokens.csv')}`,
      '--authorization-mode=RBAC',
      `--service-account-key-file=${join(dir, 'sa.pub')}`,
      `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
      '--service-account-issuer=https://kubernetes.default.svc',
      '--service-cluster-ip-range=10.96.0.0/24',
      // No kubelet mounts service account tokens here: pods need no ServiceAccount object. And no node
      // lifecycle controller lifts the not-ready taint that admission puts on a new node: kwok's node is
      // Ready from the start.
      '--disable-admission-plugins=ServiceAccount,TaintNodesByCondition',
      '--enable-priority-and-fairness=false',
      '--allow-privileged=true',
      '--v=0',
    ]);
    const server = `https://127.0.0.1:${apiPort}`;
    // The kubeconfig trusts the apiserver's self-signed serving cert (the file holds the cert and its CA);
    // rewritten while waiting, so a cert file caught half-written is read again.
    const kubeconfigFor = (token: string, name: string) => {
      const file = join(dir, `${name}.kubeconfig`);
      writeFileSync(file, kubeconfigText(server, readFileSync(join(certDir, 'apiserver.crt')), token, name), {
        mode: 0o600,
      });
      return file;
    };
    const kubeconfig = join(dir, 'admin.kubeconfig');
    const kubectl = async (args: string[], input?: string) => {
      const r = await execa(bin.kubectl, [`--kubeconfig=${kubeconfig}`, ...args], {
        input,
        reject: false,
        timeout: 60_000,
      });
      if (r.exitCode !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr || r.stdout}`);
      return r.stdout;
    };
    await waitFor(
      'kube-apiserver',
      '/readyz',
      async () => {
        kubeconfigFor(tokens.admin, 'admin');
        return (await kubectl(['get', '--raw=/readyz'])) === 'ok';
      },
      90_000,
    );

    // The ReplicaSet controller makes the Rollout's pods; the scheduler puts them on the kwok node.
    run('kube-controller-manager', bin.kubeControllerManager, [
      `--kubeconfig=${kubeconfig}`,
      '--leader-elect=false',
      '--bind-address=127.0.0.1',
      `--secure-port=${await freePort()}`,
      '--controllers=replicaset-controller,garbage-collector-controller,namespace-controller',
      '--use-service-account-credentials=false',
    ]);
    run('kube-scheduler', bin.kubeScheduler, [
      `--kubeconfig=${kubeconfig}`,
      '--leader-elect=false',
      '--bind-address=127.0.0.1',
      `--secure-port=${await freePort()}`,
    ]);
    // kwok: manages only the node it is told about, with the "fast" stages (ready at once, no heartbeat lag).
    const stages = readdirSync(bin.kwokStages)
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => `--config=${join(bin.kwokStages, f)}`);
    run('kwok', bin.kwok, [
      `--kubeconfig=${kubeconfig}`,
      ...stages,
      '--manage-all-nodes=false',
      '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake',
      '--cidr=10.244.0.0/16',
      '--node-ip=10.244.0.1',
      `--server-address=127.0.0.1:${await freePort()}`,
    ]);
    await kubectl(['apply', '-f', '-'], JSON.stringify(KWOK_NODE));

    // The Argo Rollouts CRDs, then its controller out of cluster (its ports moved off 8080/8090).
    await kubectl(['apply', '--server-side', '-f', bin.crds]);
    await kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd', '--all']);
    const healthz = await freePort();
    run('rollouts-controller', bin.rolloutsController, [
      `--kubeconfig=${kubeconfig}`,
      '--leader-elect=false',
      `--metricsport=${await freePort()}`,
      `--healthzPort=${healthz}`,
      '--loglevel=info',
    ]);
    await waitFor(
      'rollouts-controller',
      'healthz',
      async () => (await fetch(`http://127.0.0.1:${healthz}/healthz`)).ok,
    );
    await waitFor('kwok', 'node Ready', async () =>
      (
        await kubectl([
          'get',
          'node',
          KWOK_NODE.metadata.name,
          '-o',
          'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
        ])
      ).includes('True'),
    );
    return {
      kubeconfig,
      server,
      tokens,
      kubeconfigFor,
      kubectl,
      dir,
      binaries: bin,
      startMs: Date.now() - started,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

const KWOK_NODE = {
  apiVersion: 'v1',
  kind: 'Node',
  metadata: {
    name: 'kwok-node-0',
    annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
    labels: { type: 'kwok', 'kubernetes.io/hostname': 'kwok-node-0', 'kubernetes.io/os': 'linux' },
  },
  spec: {},
  status: {
    allocatable: { cpu: '32', memory: '256Gi', pods: '110' },
    capacity: { cpu: '32', memory: '256Gi', pods: '110' },
  },
};

function randomToken(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString('hex');
}

function kubeconfigText(server: string, ca: Buffer, token: string, user: string): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'suture-test', cluster: { server, 'certificate-authority-data': ca.toString('base64') } }],
    users: [{ name: user, user: { token } }],
    contexts: [{ name: user, context: { cluster: 'suture-test', user, namespace: 'default' } }],
    'current-context': user,
  });
}
