/**
 * A capture of production traffic (suture.yaml `differential.samples`) → request samples with their
 * statuses. Formats, told apart by content, not by file name: HAR 1.2 (`log.entries[].request/response`),
 * a JSON array or JSON lines of records (`{method, path|url, headers, body, status}` and every shape
 * ../records.ts knows), and combined/common access-log lines (method, path and status; no headers or
 * body). JSON lines and access-log lines may be mixed. Pure; a record it cannot use is skipped and
 * counted by reason, and only a file with no request in any of these formats is an error.
 */
import { headersOf, isObject, pathOf, requestInAccessLine, requestInRecord, statusOf } from '../records.ts';
import type { RequestSample } from '../types.ts';

export type CaptureFormat = 'har' | 'json' | 'lines';

export type ParsedCapture =
  | { ok: true; format: CaptureFormat; samples: RequestSample[]; skipped: Record<string, number> }
  | { ok: false; problem: string };

const FORMATS = 'HAR 1.2, JSON lines of {method, path, status}, or a combined/common access log';

export function parseCapture(input: string): ParsedCapture {
  const text = input.replace(/^\uFEFF/, '');
  const whole = /^\s*[[{]/.test(text) ? parseJson(text) : undefined;
  const skipped: Record<string, number> = {};
  const skip = (reason: string) => {
    skipped[reason] = (skipped[reason] ?? 0) + 1;
  };
  let format: CaptureFormat;
  const samples: RequestSample[] = [];
  if (isObject(whole) && isObject(whole['log'])) {
    const entries = whole['log']['entries'];
    if (!Array.isArray(entries)) return { ok: false, problem: 'looks like HAR but has no log.entries list' };
    format = 'har';
    for (const entry of entries) {
      const sample = harEntry(entry);
      if (sample) samples.push(sample);
      else skip('no-request');
    }
  } else if (Array.isArray(whole) || isObject(whole)) {
    format = 'json';
    for (const record of Array.isArray(whole) ? whole : [whole]) {
      const sample = isObject(record) ? requestInRecord(record) : undefined;
      if (sample) samples.push(sample);
      else skip('no-request');
    }
  } else {
    format = 'lines';
    for (const raw of text.split(/\r?\n/)) {
      const line = raw.trim();
      if (!line) continue;
      if (line.startsWith('{')) {
        const record = parseJson(line);
        const sample = isObject(record) ? requestInRecord(record) : undefined;
        if (sample) samples.push(sample);
        else skip(record === undefined ? 'unparseable' : 'no-request');
        continue;
      }
      const sample = requestInAccessLine(line);
      if (sample) samples.push(sample);
      else skip('unrecognised');
    }
  }
  if (samples.length === 0 && Object.keys(skipped).length > 0) {
    return { ok: false, problem: `holds no request in a format suture reads (${FORMATS})` };
  }
  return { ok: true, format, samples, skipped };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** One HAR entry: request.method/url/headers/postData, response.status (0 when the browser got none). */
function harEntry(entry: unknown): RequestSample | undefined {
  if (!isObject(entry) || !isObject(entry['request'])) return undefined;
  const req = entry['request'];
  const method = req['method'];
  const path = typeof req['url'] === 'string' ? pathOf(req['url']) : undefined;
  if (typeof method !== 'string' || !method.trim() || !path) return undefined;
  const sample: RequestSample = { method: method.trim().toUpperCase(), path };
  const headers = headersOf(req['headers']);
  if (headers) sample.headers = headers;
  const body = harBody(req['postData']);
  if (body !== undefined) sample.body = body;
  const status = isObject(entry['response']) ? statusOf(entry['response']['status']) : undefined;
  if (status !== undefined) sample.status = status;
  return sample;
}

/** postData.text (base64-decoded when marked so), else its form `params` url-encoded. */
function harBody(postData: unknown): string | undefined {
  if (!isObject(postData)) return undefined;
  const text = postData['text'];
  if (typeof text === 'string') {
    return postData['encoding'] === 'base64' ? Buffer.from(text, 'base64').toString('utf8') : text;
  }
  const params = postData['params'];
  if (!Array.isArray(params)) return undefined;
  return params
    .filter(isObject)
    .map((p) => `${encodeURIComponent(String(p['name'] ?? ''))}=${encodeURIComponent(String(p['value'] ?? ''))}`)
    .join('&');
}
