/**
 * Bearer-token authentication for `suture serve`, as Alertmanager's and Prometheus' `http_config`
 * (`authorization: {type: Bearer, credentials_file: …}`) and Argo Rollouts' web provider headers send it.
 * Pure decisions only; reading the token file is the command's job.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { BlockList, isIP } from 'node:net';

/** RFC 6750 `b64token`: what fits after `Bearer ` unquoted. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
/** Short tokens can be guessed over the network; 16 characters of `openssl rand -hex` are 64 bits. */
export const MIN_TOKEN_LENGTH = 16;

/**
 * The problem with a configured token, or null. Surrounding whitespace is not part of it: Prometheus'
 * `credentials_file` is trimmed the same way, so one file can serve both sides.
 */
export function tokenProblem(token: string): string | null {
  if (token.length < MIN_TOKEN_LENGTH) return `the token must be at least ${MIN_TOKEN_LENGTH} characters`;
  if (!B64TOKEN.test(token)) return 'the token may hold only letters, digits and - . _ ~ + / (= at the end)';
  return null;
}

/**
 * Whether `host` (a --host value) keeps the server on this machine. Anything that is not literally a
 * loopback address — a wildcard, a LAN address, a name that DNS could point anywhere — counts as beyond.
 */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost') return true;
  const family = isIP(h);
  return family !== 0 && LOOPBACK.check(h, family === 4 ? 'ipv4' : 'ipv6');
}

// BlockList also matches the IPv4-mapped (::ffff:127.0.0.1) and long (0:…:0:1) spellings.
const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** The credential of an `Authorization: Bearer <token>` header (scheme case-insensitive), else null. */
export function bearerCredential(header: string | undefined): string | null {
  const m = /^Bearer +(\S+) *$/i.exec(header ?? '');
  return m ? m[1]! : null;
}

/**
 * Constant-time comparison: both sides are hashed first, so neither the content nor the length of the
 * expected token shows in the time a wrong guess takes.
 */
export function tokenMatches(expected: string, given: string | null): boolean {
  if (given === null) return false;
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(expected), digest(given));
}
