/** A heal's result as the knowledge store keeps it (src/knowledge/store.ts). Pure. */
import type { Candidate } from '../diagnose/types.ts';
import type { Incident } from '../incident/types.ts';
import type { HealResult } from '../pipeline/heal.ts';
import type { Verdict } from '../sandbox/verify.ts';
import { type KnowledgeRecord, type KnowledgeVerdict, sha256 } from './store.ts';

/** The verdict's checks and reasons; the test output and replay evidence stay in the report and audit log. */
export function compactVerdict(v: Verdict): KnowledgeVerdict {
  return {
    verdict: v.verdict,
    reproduced: v.reproduced,
    fixed: v.fixed,
    testsPassed: v.testsPassed,
    regressionTest: v.regressionTest,
    differential: { compared: v.differential.compared, mismatches: v.differential.mismatches.length },
    reasons: v.reasons,
    durationMs: v.durationMs,
  };
}

export function knowledgeRecord(opts: {
  result: HealResult;
  incident: Incident;
  base: string;
  /** The candidates verified, with their patches (the result lists them without). */
  candidates: Candidate[];
  recordedAt?: string;
}): KnowledgeRecord {
  const { result, incident } = opts;
  const chosen = result.chosen ? opts.candidates.find((c) => c.id === result.chosen) : undefined;
  return {
    fingerprint: incident.fingerprint,
    incident: incident.id,
    service: incident.service,
    recordedAt: opts.recordedAt ?? new Date().toISOString(),
    status: result.status,
    reason: result.reason,
    base: opts.base,
    ...(incident.revision ? { revision: incident.revision } : {}),
    diagnosis: result.diagnosis
      ? {
          classification: result.diagnosis.classification,
          rootCause: result.diagnosis.rootCause,
          location: result.diagnosis.location,
          confidence: result.diagnosis.confidence,
        }
      : null,
    candidates: result.candidates.map((c) => ({
      id: c.id,
      strategy: c.strategy,
      summary: c.summary,
      confidence: opts.candidates.find((k) => k.id === c.id)?.confidence ?? 0,
      verdict: c.verdict ? compactVerdict(c.verdict) : null,
      policy: c.policy ? { decision: c.policy.decision, violations: c.policy.violations.map((v) => v.id) } : null,
    })),
    chosen: chosen
      ? {
          candidate: chosen.id,
          strategy: chosen.strategy,
          summary: chosen.summary,
          confidence: chosen.confidence,
          patch: chosen.patch,
          patchSha256: sha256(chosen.patch),
          ...(chosen.testFile ? { testFile: chosen.testFile } : {}),
        }
      : null,
    branch: result.branch,
    commit: result.commit,
  };
}
