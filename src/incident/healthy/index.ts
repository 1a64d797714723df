/**
 * Healthy traffic for differential replay, gathered without anyone writing it: the crash report's
 * `healthyRequests`, 2xx requests in the incident's logs, and the capture file suture.yaml names
 * (`differential.samples`). Selection is pure (./select.ts); the capture is repo content, so it is read
 * here only through the confined reader, size-capped.
 */
import type { DifferentialConfig } from '../../config/service.ts';
import { SutureError } from '../../errors.ts';
import { readInTree } from '../../sandbox/confined.ts';
import { safeLine } from '../display.ts';
import { DEFAULT_HEALTHY_SAMPLES } from '../schema.ts';
import { parseCapture } from './capture.ts';
import type { HealthyPool } from './select.ts';

export { type CaptureFormat, type ParsedCapture, parseCapture } from './capture.ts';
export { routeKey } from './route.ts';
export { describeHealthy, type HealthyPool, type HealthySelection, selectHealthy } from './select.ts';

/** A capture of a few thousand requests is a few MiB of HAR; more is not a sample. */
export const CAPTURE_MAX_BYTES = 16 * 1024 * 1024;

export interface HealthyOptions {
  /** Samples kept at most (suture.yaml `differential.maxSamples`). */
  maxHealthy: number;
  /** The capture file's samples, parsed. */
  capture?: HealthyPool;
}

/**
 * The capture file at repo path `path` under `tree`, parsed. A file that cannot be read (missing, a
 * symlink, special, too big) or holds no request in a known format is a config error: one line, exit 2.
 */
export function readCapture(tree: string, path: string, maxBytes = CAPTURE_MAX_BYTES): HealthyPool {
  const fail = (problem: string) =>
    new SutureError('BAD_CONFIG', safeLine(`suture.yaml: differential.samples: ${problem}`, 400));
  const r = readInTree(tree, path, maxBytes);
  if (!r.ok) throw fail(r.message);
  if (r.data[0] === 0x1f && r.data[1] === 0x8b) throw fail(`${path} is gzip-compressed: commit it uncompressed`);
  const parsed = parseCapture(r.data.toString('utf8'));
  if (!parsed.ok) throw fail(`${path} ${parsed.problem}`);
  return { source: 'capture', samples: parsed.samples, skipped: parsed.skipped };
}

/** What intake needs from suture.yaml's differential block (read at `tree`, the revision being healed). */
export function healthyOptions(tree: string, differential: DifferentialConfig | undefined): HealthyOptions {
  return {
    maxHealthy: differential?.maxSamples ?? DEFAULT_HEALTHY_SAMPLES,
    ...(differential?.samples ? { capture: readCapture(tree, differential.samples) } : {}),
  };
}
