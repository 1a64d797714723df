/**
 * The audit log: one JSON line per pipeline step, appended to <state>/audit.jsonl. Every entry passes the
 * redactor here, whatever wrote it (an exception message in `detail` carries request data).
 */
import { appendFile, mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { redactDeep } from '../evidence/redact.ts';

export interface AuditEntry {
  ts: string;
  run: string;
  incident?: string;
  fingerprint?: string;
  stage: string;
  outcome: 'ok' | 'stop' | 'error';
  durationMs: number;
  detail?: string;
}

export function defaultStateDir(): string {
  return process.env.SUTURE_STATE || join(homedir(), '.local', 'state', 'suture');
}

export class AuditLog {
  readonly path: string;
  readonly stateDir: string;
  private ready: Promise<unknown>;

  constructor(stateDir: string) {
    this.stateDir = stateDir;
    this.path = join(stateDir, 'audit.jsonl');
    this.ready = mkdir(stateDir, { recursive: true });
  }

  async append(entry: AuditEntry): Promise<void> {
    await this.ready;
    await appendFile(this.path, `${JSON.stringify(redactDeep(entry))}\n`);
  }
}
