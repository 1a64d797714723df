/** The human-readable report of one heal run (Markdown), written to <state>/reports/<incident>.md. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Incident } from '../incident/types.ts';
import type { HealResult } from '../pipeline/heal.ts';

export function renderReport(incident: Incident, r: HealResult): string {
  const lines = [
    `# suture: ${incident.service} — ${r.status}`,
    '',
    `- **Incident** ${incident.id} (fingerprint \`${incident.fingerprint}\`), ${incident.environment}, detected ${incident.detectedAt}`,
    `- **Summary** ${incident.summary}`,
    `- **Outcome** ${r.status}: ${r.reason}`,
  ];
  if (r.diagnosis) {
    // rootCause already names the location.
    lines.push(
      `- **Diagnosis** ${r.diagnosis.classification}: ${r.diagnosis.rootCause}, confidence ${r.diagnosis.confidence}`,
    );
  }
  if (r.branch) lines.push(`- **Branch** \`${r.branch}\`${r.commit ? ` at \`${r.commit.slice(0, 12)}\`` : ''}`);
  if (r.candidates.length) {
    lines.push('', '## Candidates', '', '| id | strategy | verdict | policy | summary |', '|---|---|---|---|---|');
    for (const c of r.candidates) {
      const v = c.verdict
        ? `${c.verdict.verdict}${c.verdict.reasons[0] && c.verdict.verdict === 'fail' ? ` (${c.verdict.reasons[0]})` : ''}`
        : '—';
      lines.push(
        `| ${c.id}${c.id === r.chosen ? ' ✔' : ''} | ${c.strategy} | ${v} | ${c.policy?.decision ?? '—'} | ${c.summary.replace(/\|/g, '\\|')} |`,
      );
    }
  }
  lines.push('', '## Timings (ms)', '', ...Object.entries(r.timings).map(([k, v]) => `- ${k}: ${v}`), '');
  return lines.join('\n');
}

export async function writeReport(dir: string, incident: Incident, r: HealResult): Promise<string> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${incident.id}.md`);
  await writeFile(path, renderReport(incident, r));
  return path;
}
