/**
 * A provider for the delivery tests, implementing src/gitops/providers/types.ts with its state in files (so
 * a test can count what several processes, one of them killed, did): one JSON file per fingerprint, created
 * exclusively, plus an append-only log of every call.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MergeOutcome, ProposalRef, Provider } from '../../src/gitops/providers/types.ts';

interface Stored extends ProposalRef {
  state: 'open' | 'merged' | 'closed';
  title: string;
  draft: boolean;
}

export function fakeProvider(dir: string, merge: MergeOutcome['state'] = 'merged'): Provider {
  mkdirSync(dir, { recursive: true });
  const file = (fp: string) => join(dir, `${fp}.json`);
  const log = (line: string) => appendFileSync(join(dir, 'calls.log'), `${process.pid} ${line}\n`);
  const read = (fp: string): Stored | null =>
    existsSync(file(fp)) ? JSON.parse(readFileSync(file(fp), 'utf8')) : null;
  const fpOf = (pr: ProposalRef) => /([0-9a-f]{16})$/.exec(pr.url)?.[1] ?? '';
  const ref = ({ state: _s, title: _t, ...r }: Stored): ProposalRef => r;
  return {
    name: 'local',
    bodyLimit: 65_536,
    async findOpen(fingerprint, branch) {
      log(`findOpen ${branch}`);
      const s = read(fingerprint);
      return s && s.state === 'open' && s.branch === branch ? ref(s) : null;
    },
    async propose(req) {
      log(`propose ${req.branch}`);
      const fresh: Stored = {
        number: null,
        url: `fake://proposals/${req.fingerprint}`,
        branch: req.branch,
        occurrences: 1,
        draft: req.draft,
        state: 'open',
        title: req.title,
      };
      try {
        writeFileSync(file(req.fingerprint), JSON.stringify(fresh), { flag: 'wx' });
        log(`created ${req.branch}`);
        return { ...ref(fresh), action: 'created', notes: [] };
      } catch {
        const s = read(req.fingerprint)!;
        return { ...ref(s), action: 'updated', notes: [] };
      }
    },
    async reoccurred(pr) {
      log(`reoccurred ${pr.branch}`);
      const s = read(fpOf(pr))!;
      s.occurrences += 1;
      writeFileSync(file(fpOf(pr)), JSON.stringify(s));
      return ref(s);
    },
    async comment() {},
    async label() {},
    async merge(pr, opts) {
      log(`merge ${pr.branch} ${opts.sha ?? ''}`);
      if (merge === 'merged') {
        const s = read(fpOf(pr))!;
        s.state = 'merged';
        writeFileSync(file(fpOf(pr)), JSON.stringify(s));
      }
      return { state: merge, detail: `fake ${merge}` };
    },
    async close(pr) {
      const s = read(fpOf(pr))!;
      s.state = 'closed';
      writeFileSync(file(fpOf(pr)), JSON.stringify(s));
    },
  };
}

/** The calls every process made to the fake provider in `dir`, as `<verb> <branch>` (pids dropped). */
export function providerCalls(dir: string): string[] {
  const path = join(dir, 'calls.log');
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => l.slice(l.indexOf(' ') + 1).trim());
}
