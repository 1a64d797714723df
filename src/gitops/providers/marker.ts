/**
 * The hidden marker that ties a pull/merge request to one fingerprint, and the re-occurrence count it
 * carries. Pure.
 *
 * It is an HTML comment (invisible when rendered) and it is only ever read from the FIRST line of the body:
 * the rest of the body quotes incident text, which could contain a forged marker for another fingerprint;
 * that text is never on the first line, so a forged marker can neither claim nor hide a proposal.
 */
import { codeSpan } from '../../report/pull-request.ts';

const FINGERPRINT = /^[0-9a-f]{16}$/;
const MARKER = /^<!-- suture:proposal fingerprint=([0-9a-f]{16}) occurrences=([1-9][0-9]{0,8}) -->$/;

export interface Marker {
  fingerprint: string;
  occurrences: number;
}

export function checkFingerprint(fingerprint: string): string {
  if (!FINGERPRINT.test(fingerprint)) throw new Error('internal: a fingerprint is 16 hex digits');
  return fingerprint;
}

export function markerLine(m: Marker): string {
  checkFingerprint(m.fingerprint);
  if (!Number.isInteger(m.occurrences) || m.occurrences < 1) throw new Error('internal: occurrences must be >= 1');
  return `<!-- suture:proposal fingerprint=${m.fingerprint} occurrences=${m.occurrences} -->`;
}

/** The marker on the body's first line, or null (no body, no marker, or a malformed one). */
export function readMarker(body: string | null | undefined): Marker | null {
  if (!body) return null;
  const first = body.split(/\r?\n/, 1)[0] ?? '';
  const m = MARKER.exec(first);
  return m ? { fingerprint: m[1]!, occurrences: Number(m[2]) } : null;
}

/**
 * The body as sent: the marker line, then the rendered body, within `limit` characters. The renderer
 * already fits its own limit; this cut is the last resort, at a line, with a note.
 */
export function bodyWithMarker(m: Marker, body: string, limit: number): string {
  const text = `${markerLine(m)}\n${body}`;
  if (text.length <= limit) return text;
  const note = "\n\n… cut to fit the size limit; the full report is in suture's state directory.\n";
  const keep = text.slice(0, Math.max(0, limit - note.length));
  const cut = keep.lastIndexOf('\n');
  return `${cut > 0 ? keep.slice(0, cut) : keep}${note}`;
}

/** The comment that counts a re-occurrence on the open proposal; `refreshed`: the body shows the new run. */
export function reoccurrenceComment(
  m: Marker,
  incident: { id: string; detectedAt: string },
  refreshed: boolean,
): string {
  return [
    `This crash happened again: incident ${codeSpan(incident.id, 60)}, detected ${codeSpan(incident.detectedAt, 40)}.`,
    `Seen **${m.occurrences}** times while this request was open.${refreshed ? ' The description now shows the latest verified fix.' : ''}`,
    '',
  ].join('\n');
}

/** The body with its marker's count replaced, the rest untouched; null when it carries no marker. */
export function withOccurrences(body: string, occurrences: number): string | null {
  const m = readMarker(body);
  if (!m) return null;
  const nl = body.search(/\r?\n/);
  return `${markerLine({ ...m, occurrences })}${nl < 0 ? '' : body.slice(nl)}`;
}
