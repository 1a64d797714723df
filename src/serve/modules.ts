/**
 * A module next to the calling one, with the caller's own extension: `.ts` when run from source (Node's
 * type stripping), `.js` once built. Worker entries and the CLI entry are found this way.
 */
import { extname } from 'node:path';

export function siblingModule(importMetaUrl: string, relativeWithoutExtension: string): URL {
  return new URL(`${relativeWithoutExtension}${extname(new URL(importMetaUrl).pathname)}`, importMetaUrl);
}
