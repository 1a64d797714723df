/**
 * A platform API failure as one line a human can act on (authentication, not found, protected, validation
 * with the platform's own message, rate limited, server error, unreachable), and its kind for the caller.
 * The platform's words are flattened, redacted and cut; a token never appears (none is ever in the inputs).
 */
import { SutureError } from '../../errors.ts';
import { safeLine } from '../../incident/display.ts';

export type ProviderFailureKind =
  | 'auth'
  | 'forbidden'
  | 'not-found'
  | 'protected'
  | 'validation'
  | 'conflict'
  | 'rate-limited'
  | 'server'
  | 'unreachable'
  | 'other';

export class ProviderError extends SutureError {
  readonly kind: ProviderFailureKind;
  /** The HTTP status, or null when no answer came. */
  readonly status: number | null;
  /** The platform's own message, one line. */
  readonly platformMessage: string;

  constructor(kind: ProviderFailureKind, status: number | null, platformMessage: string, message: string) {
    super('GIT', message);
    this.name = 'ProviderError';
    this.kind = kind;
    this.status = status;
    this.platformMessage = platformMessage;
  }
}

const PROTECTED =
  /protected branch|required status check|approving review|review is required|is not mergeable|merge blocked|branch protection|rule violations?/i;

const LABEL: Record<ProviderFailureKind, string> = {
  auth: 'authentication failed',
  forbidden: 'the token is not allowed to do this',
  'not-found': 'not found (no such repository or request, or the token cannot see it)',
  protected: 'refused by branch protection',
  validation: 'the platform refused the request as invalid',
  conflict: 'conflict',
  'rate-limited': 'rate limited',
  server: 'server error',
  unreachable: 'unreachable',
  other: 'failed',
};

export function failureKind(status: number | null, message: string, rateLimited = false): ProviderFailureKind {
  if (status === null || status === 0) return 'unreachable';
  if (status === 429 || rateLimited || /rate limit/i.test(message)) return 'rate-limited';
  if (status === 401) return 'auth';
  if ((status === 403 || status === 405 || status === 422) && PROTECTED.test(message)) return 'protected';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not-found';
  if (status === 405 || status === 406 || status === 409) return 'conflict';
  if (status === 400 || status === 422) return 'validation';
  if (status >= 500) return 'server';
  return 'other';
}

/**
 * `<Platform>: <what> failed: <kind> (<status>): <platform's message>`: one line.
 * `details` are the platform's per-field errors (GitHub's `errors[]`, GitLab's `message` object).
 */
export function providerError(opts: {
  platform: string;
  action: string;
  status: number | null;
  message: string;
  details?: string[];
  envVar?: string;
  rateLimited?: boolean;
}): ProviderError {
  const said = safeLine([opts.message, ...(opts.details ?? [])].filter(Boolean).join(': '), 400);
  const kind = failureKind(opts.status, said, opts.rateLimited);
  const hint = kind === 'auth' && opts.envVar ? ` (check ${opts.envVar})` : '';
  const status = opts.status ? ` (${opts.status})` : '';
  const line = `${opts.platform}: ${opts.action} failed: ${LABEL[kind]}${status}${hint}${said ? `: ${said}` : ''}`;
  return new ProviderError(kind, opts.status, said, line);
}
