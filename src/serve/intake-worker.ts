/**
 * Worker thread: validates POST /alerts bodies (JSON, schema, each firing alert through intake, fold
 * keys). That is work proportional to attacker-sized input; here it cannot hold up the server's event
 * loop. Messages: {ready} once loaded; {id, body: Uint8Array, maxAlerts} → {id, ok: AlertIntake} |
 * {id, error, alerts}.
 */
import { parentPort } from 'node:worker_threads';
import { errorMessage } from '../errors.ts';
import { readAlertPayload } from './alert-intake.ts';
import { HttpError } from './http-error.ts';

// Loaded (intake, zod): from now on each body's time is its validation alone.
parentPort!.postMessage({ ready: true });

parentPort!.on('message', (m: { id: number; body: Uint8Array; maxAlerts: number }) => {
  let json: unknown;
  try {
    try {
      json = JSON.parse(Buffer.from(m.body).toString('utf8'));
    } catch {
      throw new HttpError(400, 'body is not valid JSON', { reason: 'bad_json' });
    }
    parentPort!.postMessage({ id: m.id, ok: readAlertPayload(json, m.maxAlerts) });
  } catch (err) {
    const alerts = (json as { alerts?: unknown } | null)?.alerts;
    const error =
      err instanceof HttpError
        ? { status: err.status, message: err.message, reason: err.reason }
        : { status: 500, message: `internal error: ${errorMessage(err)}`, reason: 'internal' };
    parentPort!.postMessage({ id: m.id, error, alerts: Array.isArray(alerts) ? alerts.length : 0 });
  }
});
