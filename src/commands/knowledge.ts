/** `suture knowledge list|show FINGERPRINT` (DESIGN.md CLI contract): what the knowledge store holds. */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { InputError, SutureError } from '../errors.ts';
import {
  fingerprintsLike,
  historyOf,
  type KnowledgeRecord,
  type KnowledgeSummary,
  listKnowledge,
} from '../knowledge/store.ts';
import { defaultStateDir } from '../pipeline/audit.ts';
import { emit } from './output.ts';

/** A fingerprint (16 hex digits) or a prefix of one, like the 12 of a suture/<fp> branch name. */
const FINGERPRINT = /^[0-9a-f]{6,64}$/;

export function resolveFingerprint(stateDir: string, given: string): string {
  const fp = given.toLowerCase();
  if (!FINGERPRINT.test(fp)) {
    throw new InputError('FINGERPRINT is a fingerprint or its first 6+ hex digits (as in suture/<fingerprint>)');
  }
  const known = fingerprintsLike(stateDir, fp);
  if (known.length === 0) throw new SutureError('NOT_FOUND', `the knowledge store holds nothing for ${fp}`);
  if (known.length > 1) throw new InputError(`${fp} is the start of ${known.length} fingerprints; give more digits`);
  return known[0]!;
}

function summaryLines(entries: KnowledgeSummary[]): string[] {
  if (entries.length === 0) return ['the knowledge store is empty'];
  return entries.map(
    (e) =>
      `${e.fingerprint}  ${e.service}  ${e.runs} heal(s), last ${e.lastStatus} ${e.lastRecordedAt}` +
      (e.fix ? `  fix: ${e.fix.strategy} (${e.fix.status} ${e.fix.recordedAt})` : '  no verified fix'),
  );
}

function recordLines(r: KnowledgeRecord): string[] {
  const lines = [
    `${r.recordedAt}  ${r.status}: ${r.reason}`,
    `  incident ${r.incident}, base ${r.base.slice(0, 12)}${r.revision ? ` (revision ${r.revision})` : ''}`,
  ];
  if (r.diagnosis) {
    lines.push(
      `  diagnosis: ${r.diagnosis.classification}, ${r.diagnosis.rootCause} (confidence ${r.diagnosis.confidence})`,
    );
  }
  for (const c of r.candidates) {
    const verdict = c.verdict ? c.verdict.verdict : 'not verified';
    const why = c.verdict?.verdict === 'fail' && c.verdict.reasons[0] ? ` (${c.verdict.reasons[0]})` : '';
    lines.push(
      `  ${c.id === r.chosen?.candidate ? '*' : '-'} ${c.id} ${c.strategy}: ${verdict}${why}` +
        `${c.policy ? `, policy ${c.policy.decision}` : ''} — ${c.summary}`,
    );
  }
  if (r.branch) lines.push(`  branch ${r.branch}${r.commit ? ` at ${r.commit.slice(0, 12)}` : ''}`);
  if (r.chosen) lines.push('  patch:', ...r.chosen.patch.split('\n').map((l) => `    ${l}`));
  return lines;
}

export function registerKnowledgeCommands(program: Command): void {
  const knowledge = program.command('knowledge').description('what suture learned from earlier heals');
  const state = (o: { state?: string }) => resolve(o.state ?? defaultStateDir());
  knowledge
    .command('list')
    .description('one line per fingerprint: heals, last outcome, the last fix that verified')
    .option('--state <dir>', 'state dir (default $SUTURE_STATE or ~/.local/state/suture)')
    .option('--json', 'print {entries: [...]} as one JSON document')
    .action((o: { state?: string; json?: boolean }) => {
      const entries = listKnowledge(state(o));
      emit(o.json, { entries }, () => summaryLines(entries));
    });
  knowledge
    .command('show')
    .description('every heal of one fingerprint: diagnosis, candidates and verdicts, the chosen fix, the outcome')
    .argument('<fingerprint>', 'a fingerprint, or its first 6+ hex digits')
    .option('--state <dir>', 'state dir (default $SUTURE_STATE or ~/.local/state/suture)')
    .option('--json', 'print {fingerprint, heals: [...]} as one JSON document')
    .action((given: string, o: { state?: string; json?: boolean }) => {
      const dir = state(o);
      const fingerprint = resolveFingerprint(dir, given);
      const heals = historyOf(dir, fingerprint);
      emit(o.json, { fingerprint, heals }, () => [
        `${fingerprint} (${heals[0]?.service ?? '?'}): ${heals.length} heal(s), most recent first`,
        ...heals.flatMap(recordLines),
      ]);
    });
}
