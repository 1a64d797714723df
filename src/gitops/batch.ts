/**
 * The output of `git cat-file --batch`, parsed as it streams: `<oid> <type> <size>\n<bytes>\n` per object,
 * `<spec> missing\n` (or `ambiguous`) when there is none. Pure: fed chunks at any boundaries, it returns
 * each spec's object in order; objects over `maxBytes` are read past without being kept.
 */
import { isOid, type ObjectFormat } from './refs.ts';

export interface GitObject {
  oid: string;
  type: string;
  size: number;
  /** Null when the object is larger than maxBytes (it was read past, not kept). */
  data: Buffer | null;
}

export type BatchItem = [spec: string, obj: GitObject | null];

export function catFileBatchParser(specs: string[], format: ObjectFormat, maxBytes = Number.POSITIVE_INFINITY) {
  let index = 0;
  let pending: Buffer = Buffer.alloc(0);
  let body: { oid: string; type: string; size: number; got: number; parts: Buffer[] } | null = null;
  return {
    /** How many specs have been answered. */
    get answered(): number {
      return index;
    },
    push(chunk: Buffer): BatchItem[] {
      const out: BatchItem[] = [];
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      while (pending.length) {
        if (!body) {
          const eol = pending.indexOf(10);
          if (eol < 0) break;
          const header = pending.subarray(0, eol).toString('utf8').split(' ');
          pending = pending.subarray(eol + 1);
          const [oid, type, sizeText] = header;
          if (header.length !== 3 || !oid || !type || !isOid(oid, format) || !/^\d+$/.test(sizeText ?? '')) {
            out.push([specs[index++] ?? '', null]);
            continue;
          }
          body = { oid, type, size: Number(sizeText), got: 0, parts: [] };
        }
        // The object's bytes and the LF after them.
        const take = Math.min(body.size + 1 - body.got, pending.length);
        if (body.size <= maxBytes) body.parts.push(pending.subarray(0, take));
        body.got += take;
        pending = pending.subarray(take);
        if (body.got < body.size + 1) break;
        const { oid, type, size } = body;
        const data = size <= maxBytes ? Buffer.concat(body.parts).subarray(0, size) : null;
        body = null;
        out.push([specs[index++] ?? '', { oid, type, size, data }]);
      }
      return out;
    },
  };
}
