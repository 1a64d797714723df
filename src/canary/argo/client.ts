/**
 * Thin Kubernetes adapter for Argo Rollouts (@kubernetes/client-node): read a Rollout, send the abort / promote
 * merge patches exactly as `kubectl argo rollouts` does (status subresource first, the object itself when the
 * subresource is missing), and poll a Rollout until its status reaches a conclusion.
 */
import { ApiException, CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { IRollout } from '@kubernetes-models/argo-rollouts/argoproj.io/v1alpha1/Rollout';
import { SutureError } from '../../errors.ts';
import { abortPatch, type MergePatch, promotePatches } from './patches.ts';
import { interpretRolloutStatus, type RolloutStatusView } from './status.ts';

export interface RolloutRef {
  namespace: string;
  name: string;
}

export interface RolloutApi {
  get(ref: RolloutRef): Promise<IRollout>;
  /** JSON merge patch (application/merge-patch+json) of the object or of its status subresource. */
  patch(ref: RolloutRef, body: MergePatch, subresource?: 'status'): Promise<IRollout>;
}

export interface KubeOptions {
  /** Path to a kubeconfig; default: $KUBECONFIG, ~/.kube/config, or the in-cluster service account. */
  kubeconfig?: string;
  context?: string;
}

const GROUP = 'argoproj.io';
const VERSION = 'v1alpha1';
const PLURAL = 'rollouts';

export function loadKubeConfig(opts: KubeOptions = {}): KubeConfig {
  const kc = new KubeConfig();
  try {
    if (opts.kubeconfig) kc.loadFromFile(opts.kubeconfig);
    else kc.loadFromDefault();
  } catch (err) {
    throw new SutureError('BAD_CONFIG', `cannot load kubeconfig: ${(err as Error).message}`, { cause: err });
  }
  if (opts.context) {
    if (!kc.getContextObject(opts.context))
      throw new SutureError('BAD_CONFIG', `no context ${opts.context} in kubeconfig`);
    kc.setCurrentContext(opts.context);
  }
  if (!kc.getCurrentCluster()) throw new SutureError('BAD_CONFIG', 'no Kubernetes cluster configured (set KUBECONFIG)');
  return kc;
}

export function createRolloutApi(kc: KubeConfig): RolloutApi {
  const api = kc.makeApiClient(CustomObjectsApi);
  const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
  const wrap = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw toError(what, err);
    }
  };
  return {
    get: (ref) =>
      wrap(`get rollout ${ref.namespace}/${ref.name}`, () =>
        api.getNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, ...ref }),
      ),
    patch: (ref, body, subresource) =>
      wrap(`patch rollout ${ref.namespace}/${ref.name}${subresource ? '/status' : ''}`, () => {
        const params = { group: GROUP, version: VERSION, plural: PLURAL, ...ref, body };
        return subresource === 'status'
          ? api.patchNamespacedCustomObjectStatus(params, mergePatch)
          : api.patchNamespacedCustomObject(params, mergePatch);
      }),
  };
}

/** A Kubernetes API failure with its HTTP status (404 drives the v0.9 fallback). */
export class KubeApiError extends SutureError {
  readonly status: number | undefined;
  constructor(message: string, status: number | undefined, cause: unknown) {
    super(status === 404 || status === 403 || status === 401 ? 'NOT_FOUND' : 'INTERNAL', message, { cause });
    this.name = 'KubeApiError';
    this.status = status;
  }
}

function toError(what: string, err: unknown): KubeApiError {
  if (err instanceof KubeApiError) return err;
  if (err instanceof ApiException) {
    const body = typeof err.body === 'string' ? safeJson(err.body) : err.body;
    const reason = (body as { message?: string } | undefined)?.message ?? `HTTP ${err.code}`;
    return new KubeApiError(`${what}: ${reason}`, err.code, err);
  }
  return new KubeApiError(`${what}: ${(err as Error)?.message ?? String(err)}`, undefined, err);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { message: text.slice(0, 200) };
  }
}

export interface SentPatch {
  target: 'status' | 'object';
  body: MergePatch;
}

/** `kubectl argo rollouts abort NAME`. */
export async function abortRollout(api: RolloutApi, ref: RolloutRef): Promise<SentPatch[]> {
  try {
    await api.patch(ref, abortPatch(), 'status');
    return [{ target: 'status', body: abortPatch() }];
  } catch (err) {
    if (!(err instanceof KubeApiError) || err.status !== 404) throw err;
    await api.patch(ref, abortPatch());
    return [
      { target: 'status', body: abortPatch() },
      { target: 'object', body: abortPatch() },
    ];
  }
}

/** `kubectl argo rollouts promote NAME [--full]`. Returns the patches sent, in order. */
export async function promoteRollout(
  api: RolloutApi,
  ref: RolloutRef,
  opts: { full?: boolean } = {},
): Promise<SentPatch[]> {
  const ro = await api.get(ref);
  const p = promotePatches(ro, opts);
  const sent: SentPatch[] = [];
  let spec = p.spec;
  if (p.status) {
    sent.push({ target: 'status', body: p.status });
    try {
      await api.patch(ref, p.status, 'status');
    } catch (err) {
      if (!(err instanceof KubeApiError) || err.status !== 404) throw err;
      spec = p.unified;
    }
  }
  if (spec) {
    sent.push({ target: 'object', body: spec });
    await api.patch(ref, spec);
  }
  return sent;
}

export interface WatchOptions {
  intervalMs?: number;
  /** Give up (and return the last status) after this long; default: no limit. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Called whenever the interpreted status changes. */
  onStatus?: (s: RolloutStatusView) => void;
}

/** Polls the Rollout until its (trusted) status is terminal: promoted, aborted or degraded. */
export async function watchRollout(
  api: RolloutApi,
  ref: RolloutRef,
  opts: WatchOptions = {},
): Promise<RolloutStatusView> {
  const started = Date.now();
  let lastKey = '';
  for (;;) {
    const view = interpretRolloutStatus(await api.get(ref));
    const key = JSON.stringify([
      view.verdict,
      view.phase,
      view.message,
      view.currentStepIndex,
      view.stepAnalysis,
      view.backgroundAnalysis,
    ]);
    if (key !== lastKey) {
      lastKey = key;
      opts.onStatus?.(view);
    }
    if (view.terminal) return view;
    if (opts.signal?.aborted) return view;
    if (opts.timeoutMs !== undefined && Date.now() - started >= opts.timeoutMs) return view;
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 2000));
  }
}
