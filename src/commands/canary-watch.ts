/**
 * `suture canary watch ROLLOUT`: follow an Argo Rollout's status until it is promoted, aborted or degraded,
 * optionally acting on it — `--abort` / `--promote [--full]` once (the patches `kubectl argo rollouts` sends),
 * or `--prometheus URL` to let the sequential judge abort / promote from the per-version counters.
 */
import type { Command } from 'commander';
import {
  abortRollout,
  createRolloutApi,
  loadKubeConfig,
  promoteRollout,
  type SentPatch,
  watchRollout,
} from '../canary/argo/client.ts';
import type { RolloutStatusView } from '../canary/argo/status.ts';
import { type SupervisedAction, superviseRollout } from '../canary/argo/supervise.ts';
import { createPrometheusClient } from '../canary/prometheus/client.ts';
import { InputError } from '../errors.ts';
import { printJson, printLines } from './output.ts';

interface WatchFlags {
  namespace: string;
  kubeconfig?: string;
  context?: string;
  interval: string;
  timeout?: string;
  once?: boolean;
  abort?: boolean;
  promote?: boolean;
  full?: boolean;
  prometheus?: string;
  service?: string;
  bucket: string;
  json?: boolean;
}

export function registerCanaryWatchCommand(canary: Command): void {
  canary
    .command('watch')
    .description(
      'follow an Argo Rollout until promoted, aborted or degraded; optionally abort, promote, or let the judge decide',
    )
    .argument('<rollout>', 'Rollout name')
    .option('-n, --namespace <ns>', 'namespace', 'default')
    .option('--kubeconfig <file>', 'kubeconfig (default: $KUBECONFIG, ~/.kube/config, in-cluster)')
    .option('--context <name>', 'kubeconfig context')
    .option('--interval <seconds>', 'poll interval', '5')
    .option('--timeout <seconds>', 'stop watching after this long')
    .option('--once', 'print the current status and exit')
    .option('--abort', 'abort the rollout first (kubectl argo rollouts abort)')
    .option('--promote', 'promote the rollout first (kubectl argo rollouts promote)')
    .option('--full', 'with --promote: skip remaining steps and analysis (promote --full)')
    .option('--prometheus <url>', 'judge the canary from this Prometheus and abort / promote on its decision')
    .option('--service <name>', 'service label of the counters (default: the rollout name)')
    .option('--bucket <seconds>', 'judge bucket width with --prometheus', '30')
    .option('--json', 'print one JSON document: {rollout, actions}')
    .action(async (name: string, o: WatchFlags) => {
      const interval = seconds(o.interval, '--interval');
      const timeout = o.timeout === undefined ? undefined : seconds(o.timeout, '--timeout');
      const bucket = seconds(o.bucket, '--bucket');
      if (o.abort && o.promote) throw new InputError('give at most one of --abort and --promote');
      if (o.full && !o.promote) throw new InputError('--full only goes with --promote');
      if (o.prometheus && (o.abort || o.promote))
        throw new InputError('--prometheus lets the judge act; drop --abort/--promote');
      if (o.prometheus && !URL.canParse(o.prometheus))
        throw new InputError(`--prometheus is not a URL: ${o.prometheus}`);
      const api = createRolloutApi(loadKubeConfig({ kubeconfig: o.kubeconfig, context: o.context }));
      const ref = { namespace: o.namespace, name };
      const actions: Array<{ action: string; patches: SentPatch[]; reason?: string }> = [];
      if (o.abort) actions.push({ action: 'abort', patches: await abortRollout(api, ref) });
      if (o.promote)
        actions.push({
          action: o.full ? 'promote-full' : 'promote',
          patches: await promoteRollout(api, ref, { full: o.full }),
        });
      const progress = (s: RolloutStatusView) => process.stderr.write(`${statusLine(s)}\n`);
      let final: RolloutStatusView;
      if (o.prometheus) {
        const r = await superviseRollout(api, ref, {
          prometheus: createPrometheusClient(o.prometheus),
          service: o.service ?? name,
          bucketSeconds: bucket,
          intervalMs: interval * 1000,
          timeoutMs: o.once ? 0 : timeout === undefined ? undefined : timeout * 1000,
          onStatus: progress,
          onJudge: (d) => process.stderr.write(`  judge: ${d.decision} at t=${d.at} s (${d.reason})\n`),
        });
        final = r.final;
        actions.push(
          ...r.actions.map((a: SupervisedAction) => ({
            action: a.action,
            patches: a.patches,
            reason: a.decision.reason,
          })),
        );
      } else {
        final = await watchRollout(api, ref, {
          intervalMs: interval * 1000,
          timeoutMs: o.once ? 0 : timeout === undefined ? undefined : timeout * 1000,
          onStatus: o.json ? progress : undefined,
        });
      }
      if (o.json) printJson({ rollout: final, actions });
      else printLines([statusLine(final)]);
    });
}

function seconds(v: string, flag: string): number {
  const n = Number(v);
  if (!/^[0-9]+(\.[0-9]+)?$/.test(v) || !(n > 0))
    throw new InputError(`${flag} must be a positive number of seconds, got ${v}`);
  return n;
}

/** One human line: "shop/cart-api: aborted (Degraded) step 2/7 setWeight: 50, stable abc, canary def — message". */
export function statusLine(s: RolloutStatusView): string {
  const step =
    s.currentStepIndex === null
      ? ''
      : ` step ${Math.min(s.currentStepIndex + 1, s.totalSteps)}/${s.totalSteps}${s.currentStep ? ` ${s.currentStep}` : ''}`;
  const hashes =
    s.stableRS || s.currentPodHash ? `, stable ${s.stableRS ?? '-'}, canary ${s.currentPodHash ?? '-'}` : '';
  const analysis = [s.stepAnalysis, s.backgroundAnalysis]
    .filter((a) => a !== null)
    .map((a) => `, analysis ${a.name} ${a.status}`)
    .join('');
  const msg = s.message ? ` — ${s.message}` : '';
  return `${s.namespace ? `${s.namespace}/` : ''}${s.name}: ${s.verdict} (${s.phase})${step}${hashes}${analysis}${msg}`;
}
