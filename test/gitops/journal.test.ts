/**
 * The delivery journal (issue 11, item 6): one open delivery per repository and fingerprint, claimed
 * atomically, taken over only when its owner is gone, every transition kept.
 */
import { hostname } from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import { type DeliveryPlan, Journal, ownerAlive, ownerOf } from '../../src/gitops/journal.ts';
import { cleanup, tempDir } from '../helpers/repo.ts';
import { testPlan } from './deliver-driver.ts';

const made: string[] = [];
afterAll(() => cleanup(...made));

const plan = (over: Partial<DeliveryPlan> = {}): DeliveryPlan =>
  testPlan({ repo: '/repo/.git', base: 'a'.repeat(40), commit: 'b'.repeat(40), ...over });

function state(): string {
  const d = tempDir('suture-journal-');
  made.push(d);
  return d;
}

describe('claims', () => {
  it('fresh, then busy for another live process, resumed by its owner, delivered once finished', () => {
    const dir = state();
    const me = new Journal(dir);
    const first = me.claim(plan());
    expect(first.kind).toBe('fresh');
    // another process on this host that is alive (this test's parent shell, say): busy
    const other = new Journal(dir, ownerOf(process.ppid));
    expect(other.claim(plan({ commit: 'c'.repeat(40) })).kind).toBe('busy');
    // its owner claiming again continues it
    expect(me.claim(plan()).kind).toBe('resume');
    const d = me.advance(first.delivery, 'committed');
    expect(() => other.advance(d, 'branched')).toThrow(/no longer this process's/);
    me.advance(d, 'proposed', { finished: true });
    expect(other.claim(plan()).kind).toBe('delivered');
    // another repository, or another fingerprint: independent
    expect(other.claim(plan({ repo: '/other/.git' })).kind).toBe('fresh');
    expect(other.claim(plan({ fingerprint: 'fedcba9876543210' })).kind).toBe('fresh');
    expect(me.events(d.id).map(([w]) => w)).toEqual(['claimed', 'resumed', 'committed', 'proposed']);
    me.closeDelivery(d, 'merged');
    expect(me.open(plan().repo, plan().fingerprint)).toBeNull();
    expect(me.claim(plan()).kind).toBe('fresh');
    expect(me.commitsFor(plan().repo, plan().fingerprint)).toEqual(['b'.repeat(40)]);
    me.close();
    other.close();
  });

  it('a dead owner (or a reused pid) is taken over: resume', () => {
    const dir = state();
    const dead = new Journal(dir, `${hostname()}:999999999:1`);
    dead.claim(plan());
    dead.close();
    const me = new Journal(dir);
    const c = me.claim(plan());
    expect(c.kind).toBe('resume');
    expect(c.delivery.owner).toBe(me.owner);
    me.close();
  });
});

describe('ownerAlive', () => {
  const now = Date.parse('2026-11-20T10:00:00Z');
  it('this process is alive; its pid with another start time is not (pid reuse)', () => {
    expect(ownerAlive(ownerOf(), new Date(now).toISOString(), now)).toBe(true);
    const [host, pid] = ownerOf().split(':');
    expect(ownerAlive(`${host}:${pid}:1`, new Date(now).toISOString(), now)).toBe(false);
    expect(ownerAlive(`${host}:999999999:`, new Date(now).toISOString(), now)).toBe(false);
  });
  it("another host's claim is trusted for an hour after its last update", () => {
    expect(ownerAlive('elsewhere:1:1', '2026-11-20T09:30:00Z', now)).toBe(true);
    expect(ownerAlive('elsewhere:1:1', '2026-11-20T08:30:00Z', now)).toBe(false);
  });
});
