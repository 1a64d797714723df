/**
 * How far back a commit counts as a recent regression the revert strategy may undo. Pure.
 *
 * The operator sets it (SUTURE_REVERT_WINDOW_HOURS, default 72 h; 0 turns the strategy off). The repo's
 * suture.yaml may only shorten it (`repair: {revertWindowHours: N}`): it is repository content, and a
 * repository that could lengthen the window could have suture propose undoing any change in its history
 * (a security fix from last year) as a "regression". Shortening can only mean fewer revert candidates.
 */
import { SutureError } from '../../../errors.ts';

export const DEFAULT_REVERT_WINDOW_HOURS = 72;
/** A year: beyond it nothing is a recent regression. */
export const MAX_REVERT_WINDOW_HOURS = 24 * 366;

export interface RevertWindow {
  hours: number;
  /** Who decided, for the strategy's notes. */
  source: 'default' | 'operator' | 'suture.yaml';
}

export function revertWindow(env: Record<string, string | undefined> = process.env, repoHours?: number): RevertWindow {
  const raw = env.SUTURE_REVERT_WINDOW_HOURS;
  let window: RevertWindow = { hours: DEFAULT_REVERT_WINDOW_HOURS, source: 'default' };
  if (raw !== undefined && raw.trim() !== '') {
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 0 || n > MAX_REVERT_WINDOW_HOURS) {
      throw new SutureError(
        'BAD_CONFIG',
        `SUTURE_REVERT_WINDOW_HOURS: a number of hours from 0 (off) to ${MAX_REVERT_WINDOW_HOURS}`,
      );
    }
    window = { hours: n, source: 'operator' };
  }
  if (repoHours !== undefined && Number.isFinite(repoHours) && repoHours >= 0 && repoHours < window.hours) {
    window = { hours: repoHours, source: 'suture.yaml' };
  }
  return window;
}
