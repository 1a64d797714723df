/**
 * The commit message of a candidate fix. Pure. Every piece of text that comes from the incident (the
 * service, the summary, the candidate's summary, which quotes names from the trace) is flattened to one
 * line, redacted and cut, so it can never add a line; the only trailer is suture's own, in the last
 * paragraph, which holds nothing else.
 */
import type { Candidate } from '../diagnose/types.ts';
import { safeLine } from '../incident/display.ts';
import type { Incident } from '../incident/types.ts';

export function commitMessage(
  incident: Pick<Incident, 'id' | 'service' | 'summary' | 'fingerprint'>,
  c: Pick<Candidate, 'summary' | 'strategy' | 'confidence' | 'testFile'>,
): string {
  if (!/^[0-9a-f]{16}$/.test(incident.fingerprint)) throw new Error('internal: the fingerprint is not 16 hex digits');
  return [
    safeLine(`fix(${incident.service}): ${c.summary}`, 100),
    '',
    safeLine(`Incident ${incident.id}: ${incident.summary}`, 400),
    safeLine(`Strategy: ${c.strategy} (confidence ${c.confidence})`, 200),
    c.testFile ? safeLine(`Regression test: ${c.testFile}`, 300) : 'No regression test.',
    '',
    `Suture-Fingerprint: ${incident.fingerprint}`,
  ].join('\n');
}
