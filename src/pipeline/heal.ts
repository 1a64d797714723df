/**
 * The heal: intake → guardrails → evidence → diagnose → verify → gate → deliver → canary → learn.
 * Each stage (./stages/) returns its value; the decisions between them (./decide.ts, ./guardrails.ts) are
 * pure and stop the heal by throwing a Halt with its status. What the stages returned is the result.
 */
import { join } from 'node:path';
import { errorMessage } from '../errors.ts';
import type { Evidence } from '../evidence/index.ts';
import { redactDeep } from '../evidence/redact.ts';
import { knowledgeRecord } from '../knowledge/record.ts';
import { recordHeal } from '../knowledge/store.ts';
import { writeReports } from '../report/html-write.ts';
import { installCleanupHandlers } from '../sandbox/docker.ts';
import type { Verdict } from '../sandbox/verify.ts';
import { type Choice, choose, deliveryStop, requirePassing, requireRepairable } from './decide.ts';
import { DEFAULT_GUARDRAILS, deliveryMode, type GuardrailReport } from './guardrails.ts';
import { Halt } from './halt.ts';
import { auditStop, openRun, type Run } from './run.ts';
import { announceCanary } from './stages/announce.ts';
import { type DeliveredFix, deliverFix, priorDelivery } from './stages/deliver.ts';
import { type Gated, gateCandidates } from './stages/gate.ts';
import { guard } from './stages/guard.ts';
import { releaseMerged } from './stages/release.ts';
import { collectEvidence, diagnoseCrash, type Repair } from './stages/repair.ts';
import { verifyCandidates } from './stages/verify.ts';
import type { CanaryResult, CandidateResult, HealOptions, HealResult, Mode, Stop } from './types.ts';

export type { CandidateResult, HealOptions, HealResult, HealStatus, Mode } from './types.ts';

/** What the stages returned so far: the result is made of it, however far the heal got. */
interface Trail {
  guardrails?: GuardrailReport;
  evidence?: Evidence;
  repair?: Repair;
  verdicts?: Verdict[];
  gated?: Gated[];
  choice?: Choice;
  delivered?: Pick<DeliveredFix, 'out'> & Partial<DeliveredFix>;
  canary?: CanaryResult | null;
  /** Notes from telling the proposal about the canary. */
  announced?: string[];
}

export async function heal(opts: HealOptions): Promise<HealResult> {
  installCleanupHandlers();
  const run = await openRun(opts);
  const trail: Trail = {};
  let stop: Stop;
  try {
    stop = await healLoop(run, trail);
  } catch (err) {
    if (!(err instanceof Halt)) throw err;
    stop = { status: err.status, reason: err.reason };
    trail.guardrails ??= err.guardrails;
  } finally {
    await run.close();
  }
  return learn(run, trail, stop);
}

async function healLoop(run: Run, t: Trail): Promise<Stop> {
  run.progress(`incident ${run.incident.id}: ${run.incident.summary}`);
  t.guardrails = await guard(run);
  const mode = t.guardrails.mode;
  if (!run.incident.trace) throw new Halt('escalated', 'the incident carries no stack trace: a human must look');
  const prior = mode === 'observe' ? null : await priorDelivery(run);
  t.delivered = prior ? { out: prior } : await repairAndDeliver(run, t, mode);
  t.canary = await releaseMerged(run, t.delivered.out);
  t.announced = await announceCanary(run.delivery?.provider ?? null, t.delivered.out.proposal, t.canary);
  return deliveryStop(t.delivered.out, t.delivered.policy, t.canary ?? null);
}

/** The costly part: a fix found, verified, gated, chosen and delivered (or shown, in observe mode). */
async function repairAndDeliver(run: Run, t: Trail, mode: Mode): Promise<DeliveredFix> {
  t.evidence = await collectEvidence(run);
  t.repair = await diagnoseCrash(run, t.evidence);
  requireRepairable(t.repair.diagnosis, t.repair.candidates, t.guardrails!.limits);
  t.verdicts = await verifyCandidates(run, t.repair.candidates);
  t.gated = await gateCandidates(run, requirePassing(t.repair.candidates, t.verdicts), mode);
  t.choice = choose(t.gated, t.repair.candidates);
  const { chosen } = t.choice;
  if (mode === 'observe')
    throw new Halt(
      'observed',
      `candidate ${chosen.candidate.id} verified (${chosen.policy.decision}); observe mode makes no branch`,
    );
  const delivery = deliveryMode(mode, chosen.candidate.confidence, t.guardrails!.limits);
  if (delivery.note) run.progress(delivery.note);
  const report = { diagnosis: t.repair.diagnosis, candidates: candidateResults(t) };
  const delivered = await deliverFix(run, t.choice, delivery.mode, report);
  return delivery.note ? { ...delivered, notes: [...delivered.notes, delivery.note] } : delivered;
}

/** Stage: learn. The result from what the stages returned; the report, the audit line, the knowledge store. */
async function learn(run: Run, t: Trail, stop: Stop): Promise<HealResult> {
  const { incident, opts } = run;
  const out = t.delivered?.out;
  const delivery = out?.kind === 'delivered' ? out.delivery : null;
  run.timings.total = Math.round(performance.now() - run.started);
  const result: HealResult = {
    status: stop.status,
    reason: stop.reason,
    incident: {
      id: incident.id,
      fingerprint: incident.fingerprint,
      service: incident.service,
      signal: incident.signal,
      summary: incident.summary,
      ...(incident.healthySources ? { healthySources: incident.healthySources } : {}),
      ...(incident.revision ? { revision: incident.revision } : {}),
    },
    guardrails: t.guardrails ?? { requested: opts.mode, mode: opts.mode, applied: [], limits: DEFAULT_GUARDRAILS },
    diagnosis: t.repair?.diagnosis ?? null,
    candidates: candidateResults(t),
    chosen: t.choice?.chosen.candidate.id ?? delivery?.candidate ?? null,
    branch: out ? (out.kind === 'duplicate' ? out.branch : out.delivery.branch) : null,
    commit: delivery?.commit ?? null,
    pullRequest: out?.proposal ?? null,
    ...(t.delivered?.rebased ? { rebased: t.delivered.rebased } : {}),
    canary: t.canary ?? null,
    report: null,
    timings: run.timings,
    notes: [
      ...(t.repair?.diagnosis.notes ?? []),
      ...(out?.kind === 'delivered' ? out.notes : []),
      ...(t.delivered?.notes ?? []),
      ...(t.announced ?? []),
    ],
    ...(t.choice ? { ranking: t.choice.ranking } : {}),
  };
  const extras = { evidence: t.evidence, candidates: t.repair?.candidates, audit: run.audit.path, run: run.id };
  result.report = await writeReports(join(opts.stateDir, 'reports'), incident, result, extras).catch(() => null);
  await auditStop(run, `${stop.status}: ${stop.reason}`, run.timings.total);
  run.progress(`${stop.status}: ${stop.reason}`);
  try {
    recordHeal(
      opts.stateDir,
      knowledgeRecord({ result, incident, base: run.base, candidates: t.repair?.candidates ?? [] }),
    );
  } catch (err) {
    run.progress(`note: the knowledge store was not updated: ${errorMessage(err)}`);
  }
  // The result quotes the incident (root cause, reasons, test output) and leaves the process.
  return redactDeep(result);
}

/** Every candidate with its verdict and policy decision, as far as the heal got. */
function candidateResults(t: Trail): CandidateResult[] {
  return (t.repair?.candidates ?? []).map((c, i) => ({
    id: c.id,
    strategy: c.strategy,
    summary: c.summary,
    verdict: t.verdicts?.[i] ?? null,
    policy: t.gated?.find((g) => g.candidate === c)?.policy ?? null,
  }));
}
