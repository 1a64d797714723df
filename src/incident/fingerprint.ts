/**
 * A stable fingerprint: service + exception type + the innermost in-repo frame's file and function.
 * Line numbers are left out on purpose so the same crash keeps its fingerprint when unrelated lines move;
 * the exception message is left out because it carries request data (ids, values).
 */
import { createHash } from 'node:crypto';
import { innermostRepoFrame } from './paths.ts';
import type { ParsedTrace } from './types.ts';

export function normaliseFunction(name: string | undefined): string {
  if (!name) return '<anonymous>';
  // Node prefixes receivers (Object.<anonymous>, IncomingMessage.handler) and async wrappers; keep the name.
  return name
    .replace(/^async\s+/, '')
    .replace(/^new\s+/, '')
    .replace(/\s*\[as [^\]]+\]$/, '')
    .trim();
}

export function fingerprintParts(service: string, trace: ParsedTrace | undefined): string[] {
  if (!trace) return [service, 'no-trace'];
  const frame = innermostRepoFrame(trace) ?? trace.frames[trace.frames.length - 1];
  const file = frame?.repoPath ?? frame?.file.replace(/^.*\//, '') ?? '?';
  return [service, trace.exceptionType, file, normaliseFunction(frame?.function)];
}

export function fingerprint(service: string, trace: ParsedTrace | undefined): string {
  return createHash('sha256').update(fingerprintParts(service, trace).join('\n')).digest('hex').slice(0, 16);
}

/** The short form used in branch names: suture/<short>. */
export function shortFingerprint(fp: string): string {
  return fp.slice(0, 12);
}
