/** The sweep's ownership rule, pure: only this host's containers whose process is gone or reused are stale. */
import { describe, expect, it } from 'vitest';
import { isStale, ownerLabels, processStartTime } from '../../src/sandbox/ownership.ts';

const self = { host: 'h1', boot: 'b1' };
const labels = (o: Partial<{ host: string; boot: string; pid: number; started: string }>) =>
  ownerLabels({ host: 'h1', boot: 'b1', pid: 42, started: '100', ...o });
const alive = (started: string) => (pid: number) => (pid === 42 ? started : undefined);

describe('isStale', () => {
  it.each([
    ['another host', labels({ host: 'h2' }), alive('100'), false],
    ['no host label (cannot be shown to be ours)', { 'dev.suture.pid': '42' }, alive('100'), false],
    ['a dead pid', labels({}), () => undefined, true],
    ['a reused pid (other start time)', labels({}), alive('999'), true],
    ['an earlier boot', labels({ boot: 'b0' }), alive('100'), true],
    ['a live owner', labels({}), alive('100'), false],
    ['a live owner whose start time cannot be known here', labels({ started: '' }), alive(''), false],
    ['a malformed pid', { ...labels({}), 'dev.suture.pid': 'x' }, () => undefined, false],
  ])('%s → stale: %s', (_what, l, probe, stale) => {
    expect(isStale(l, self, probe)).toBe(stale);
  });

  it('reads a real start time for this process and none for a pid that does not exist', () => {
    expect(processStartTime(process.pid)).toMatch(/^\d+$/);
    expect(processStartTime(2 ** 22 + 7)).toBeUndefined();
  });
});
