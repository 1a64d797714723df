/**
 * Worker thread: redacts one incident document and writes it, owner-only, to a file that must not exist
 * yet. Redaction is CPU work proportional to hostile input, so it runs here rather than on the server's
 * event loop, where it would hold up every other request (/healthz included).
 */
import { closeSync, constants, openSync, writeSync } from 'node:fs';
import { workerData } from 'node:worker_threads';
import { redactDeep } from '../evidence/redact.ts';

const { path, doc } = workerData as { path: string; doc: unknown };
const text = `${JSON.stringify(redactDeep(doc), null, 2)}\n`;
const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
try {
  writeSync(fd, text);
} finally {
  closeSync(fd);
}
