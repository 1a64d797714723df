/**
 * A real heal writes the HTML report beside the Markdown one, with this run's timeline from the audit log,
 * the chosen candidate's diff and every candidate's verdict — and the incident's markup stays text when
 * Chromium renders it.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { htmlReportPath } from '../../src/report/html-write.ts';
import { Browser } from '../helpers/chromium.ts';
import { cleanup, cli, repoFromService, SERVICES, tempDir } from '../helpers/repo.ts';

const made: string[] = [];
afterAll(() => cleanup(...made));

const INJECTED = '<script>window.pwned=1</script><img src=x onerror=window.pwned=2>';

describe('suture heal writes the HTML report', () => {
  it('next to the Markdown report, showing the run as it happened', async () => {
    const repo = await repoFromService('pricing-api');
    const state = tempDir('suture-state-');
    made.push(repo, state);
    const incident = JSON.parse(readFileSync(join(SERVICES, 'pricing-api', 'incident.json'), 'utf8'));
    incident.logs = incident.logs.replace(
      'ZeroDivisionError: division by zero',
      `ZeroDivisionError: division by zero ${INJECTED}`,
    );
    const file = join(state, 'incident.json');
    writeFileSync(file, JSON.stringify(incident));
    const r = await cli(['heal', '--repo', repo, '--incident', file, '--state', state, '--mode', 'propose', '--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.status).toBe('proposed');
    expect(out.report).toMatch(/\.md$/);
    const page = htmlReportPath(out.report);
    expect(existsSync(page)).toBe(true);

    const browser = Browser.launch();
    try {
      const tab = await browser.open(pathToFileURL(page).href);
      const stages = await tab.evaluate<string[]>(
        `[...document.querySelectorAll('#timeline tbody tr td:first-child')].map(td => td.innerText)`,
      );
      expect(stages).toEqual(['intake', 'evidence', 'diagnose', 'verify', 'gate', 'deliver', 'total']);
      const ids = await tab.evaluate<string[]>(
        `[...document.querySelectorAll('table.verdicts tbody tr td:first-child code')].map(c => c.innerText)`,
      );
      expect(ids).toEqual(out.candidates.map((c: { id: string }) => c.id));
      const diff = await tab.evaluate<string>(`document.querySelector('#diff pre.diff').innerText`);
      expect(diff).toContain('+    if len(discounts) == 0:');
      const body = await tab.evaluate<string>('document.body.innerText');
      expect(body).toContain(INJECTED);
      expect(body).toContain('No canary ran for this heal.');
      expect(await tab.evaluate('typeof window.pwned')).toBe('undefined');
    } finally {
      await browser.close();
    }
  }, 180_000);
});
