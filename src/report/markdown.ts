/**
 * The human-readable report of one heal run (Markdown), written to <state>/reports/<incident>.md. Text from
 * the incident (summary, root cause, reasons) is put on one line so it cannot add Markdown structure, and
 * the whole report passes the redactor on its way to disk.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { redact } from '../evidence/redact.ts';
import { oneLine } from '../incident/display.ts';
import type { Incident } from '../incident/types.ts';
import type { HealResult } from '../pipeline/heal.ts';

const cell = (text: string) => oneLine(text, 500).replace(/\|/g, '\\|');

export function renderReport(incident: Incident, r: HealResult): string {
  const lines = [
    `# suture: ${oneLine(incident.service, 100)} — ${r.status}`,
    '',
    `- **Incident** ${incident.id} (fingerprint \`${incident.fingerprint}\`), ${oneLine(incident.environment, 100)}, detected ${oneLine(incident.detectedAt, 100)}`,
    `- **Summary** ${oneLine(incident.summary)}`,
    `- **Outcome** ${r.status}: ${oneLine(r.reason, 1000)}`,
  ];
  if (r.diagnosis) {
    // rootCause already names the location.
    lines.push(
      `- **Diagnosis** ${r.diagnosis.classification}: ${oneLine(r.diagnosis.rootCause, 1000)}, confidence ${r.diagnosis.confidence}`,
    );
  }
  if (r.branch) lines.push(`- **Branch** \`${r.branch}\`${r.commit ? ` at \`${r.commit.slice(0, 12)}\`` : ''}`);
  if (r.candidates.length) {
    lines.push('', '## Candidates', '', '| id | strategy | verdict | policy | summary |', '|---|---|---|---|---|');
    for (const c of r.candidates) {
      const v = c.verdict
        ? `${c.verdict.verdict}${c.verdict.reasons[0] && c.verdict.verdict === 'fail' ? ` (${cell(c.verdict.reasons[0])})` : ''}`
        : '—';
      lines.push(
        `| ${c.id}${c.id === r.chosen ? ' ✔' : ''} | ${cell(c.strategy)} | ${v} | ${c.policy?.decision ?? '—'} | ${cell(c.summary)} |`,
      );
    }
  }
  lines.push('', '## Timings (ms)', '', ...Object.entries(r.timings).map(([k, v]) => `- ${k}: ${v}`), '');
  return lines.join('\n');
}

export async function writeReport(dir: string, incident: Incident, r: HealResult): Promise<string> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${incident.id}.md`);
  await writeFile(path, redact(renderReport(incident, r)).text);
  return path;
}
