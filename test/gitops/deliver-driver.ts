/**
 * A heal without the sandbox, for the delivery tests: what src/pipeline/heal.ts does around delivery (look
 * for an existing delivery, resume one, else commit the fix and deliver it), in-process or as a child
 * process (`node deliver-driver.ts '<json>'`) that a test can kill with SUTURE_TEST_CRASH_AT or run twice at
 * once. Prints one JSON line: the outcome.
 */

import {
  type DeliverContext,
  type Delivered,
  type Duplicate,
  deliver,
  existingDelivery,
  resumeDelivery,
} from '../../src/gitops/deliver.ts';
import { type DeliveryPlan, Journal } from '../../src/gitops/journal.ts';
import { commitPatch, repoKey } from '../../src/gitops/repo.ts';
import { commitMessage } from '../../src/pipeline/commit-message.ts';
import { fakeProvider } from './fake-provider.ts';

export interface DriverInput {
  repo: string;
  base: string;
  patch: string;
  state: string;
  /** The fake provider's directory; absent: branch-only delivery. */
  providers?: string;
  fingerprint?: string;
  mode?: 'propose' | 'auto';
  decision?: 'allow' | 'review';
  push?: boolean;
}

export interface DriverOutput {
  kind: 'delivered' | 'duplicate' | 'error';
  commit?: string;
  branch?: string;
  resumed?: boolean;
  merge?: string | null;
  proposal?: string | null;
  reason?: string;
}

/** A delivery plan for the tests: fingerprint 0123456789abcdef on suture/0123456789ab unless told otherwise. */
export function testPlan(over: Partial<DeliveryPlan> & Pick<DeliveryPlan, 'repo' | 'base' | 'commit'>): DeliveryPlan {
  const fingerprint = over.fingerprint ?? '0123456789abcdef';
  const incident = { id: `${fingerprint.slice(0, 12)}-20261120020411`, detectedAt: '2026-11-20T02:04:11Z' };
  return {
    fingerprint,
    incident: incident.id,
    branch: `suture/${fingerprint.slice(0, 12)}`,
    candidate: 'c1',
    decision: 'allow',
    mode: 'propose',
    push: true,
    request: {
      title: 'fix(pricing-api): guard the divisor',
      body: 'the report',
      labels: ['suture'],
      reviewers: { users: [], teams: [] },
      draft: false,
      incident,
    },
    ...over,
  };
}

export async function runDriver(o: DriverInput): Promise<DriverOutput> {
  const fingerprint = o.fingerprint ?? '0123456789abcdef';
  const branch = `suture/${fingerprint.slice(0, 12)}`;
  const incident = { id: `${fingerprint.slice(0, 12)}-20261120020411`, detectedAt: '2026-11-20T02:04:11Z' };
  const journal = new Journal(o.state);
  const ctx: DeliverContext = {
    repo: o.repo,
    journal,
    provider: o.providers ? fakeProvider(o.providers) : null,
    progress: () => undefined,
  };
  try {
    const key = { repoKey: await repoKey(o.repo), fingerprint, branch, incident };
    const existing = await existingDelivery(ctx, key);
    let out: Delivered | Duplicate | null = existing.kind === 'duplicate' ? existing : null;
    if (existing.kind === 'resume') out = await resumeDelivery(ctx, existing.delivery);
    if (!out) {
      // Each run's own commit (the pid in the summary): a second commit would show as a second object.
      const message = commitMessage(
        { id: incident.id, service: 'pricing-api', summary: `ZeroDivisionError (run ${process.pid})`, fingerprint },
        { id: 'c1', summary: 'guard the divisor', strategy: 'template:zero-division', confidence: 0.9 },
        'pass (reproduced, fixed, tests pass)',
      );
      const commit = await commitPatch({ repo: o.repo, base: o.base, patch: o.patch, message });
      out = await deliver(
        ctx,
        testPlan({
          repo: key.repoKey,
          fingerprint,
          base: o.base,
          commit,
          decision: o.decision ?? 'allow',
          mode: o.mode ?? 'propose',
          push: o.push ?? true,
        }),
        'main',
      );
    }
    if (out.kind === 'duplicate') return { kind: 'duplicate', branch: out.branch, reason: out.reason };
    return {
      kind: 'delivered',
      commit: out.delivery.commit,
      branch: out.delivery.branch,
      resumed: out.resumed,
      merge: out.merge?.state ?? null,
      proposal: out.proposal?.url ?? null,
    };
  } catch (err) {
    return { kind: 'error', reason: (err as Error).message };
  } finally {
    journal.close();
  }
}

if (import.meta.main) {
  const out = await runDriver(JSON.parse(process.argv[2] ?? '{}') as DriverInput);
  process.stdout.write(`${JSON.stringify(out)}\n`);
}
