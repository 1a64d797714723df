/**
 * A minimal ustar writer for the few files copied into a container before it starts (the driver, its plan,
 * the tree's own tar). Each entry is a regular file owned by root (uid/gid 0: Docker applies the archive's
 * ownership when copying into a container), with the mode given, so the sandbox user cannot read what is
 * meant for the driver alone.
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';

export interface TarEntry {
  /** A plain file name or relative path, at most 100 bytes. */
  name: string;
  mode: number;
  /** The content, or a host file streamed in (its size must be known up front: `size`). */
  data: Buffer | { file: string; size: number };
}

const BLOCK = 512;
/** ustar's size field holds 11 octal digits. */
export const TAR_MAX_FILE = 8 ** 11 - 1;

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

/** The 512-byte ustar header of one regular file. Pure. */
export function tarHeader(name: string, mode: number, size: number, mtime = 0): Buffer {
  const nameBytes = Buffer.from(name, 'utf8');
  if (nameBytes.length === 0 || nameBytes.length > 100 || name.startsWith('/') || name.split('/').includes('..')) {
    throw new RangeError(`tar: bad entry name ${JSON.stringify(name)}`);
  }
  if (!Number.isInteger(size) || size < 0 || size > TAR_MAX_FILE) throw new RangeError(`tar: ${name} is too large`);
  const h = Buffer.alloc(BLOCK);
  nameBytes.copy(h, 0);
  h.write(octal(mode & 0o7777, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii'); // uid
  h.write(octal(0, 8), 116, 'ascii'); // gid
  h.write(octal(size, 12), 124, 'ascii');
  h.write(octal(mtime, 12), 136, 'ascii');
  h.write('        ', 148, 'ascii'); // checksum placeholder: spaces while summing
  h.write('0', 156, 'ascii'); // regular file
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return h;
}

function padding(size: number): Buffer {
  return Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);
}

/** The archive as a stream: headers, contents (files streamed, never held whole), padding, end blocks. */
export function tarStream(entries: TarEntry[]): Readable {
  async function* blocks() {
    for (const e of entries) {
      const size = Buffer.isBuffer(e.data) ? e.data.length : e.data.size;
      yield tarHeader(e.name, e.mode, size);
      if (Buffer.isBuffer(e.data)) yield e.data;
      else {
        let seen = 0;
        for await (const chunk of createReadStream(e.data.file)) {
          seen += (chunk as Buffer).length;
          if (seen > size) throw new Error(`tar: ${e.name} grew while it was archived`);
          yield chunk as Buffer;
        }
        if (seen !== size) throw new Error(`tar: ${e.name} shrank while it was archived`);
      }
      yield padding(size);
    }
    yield Buffer.alloc(2 * BLOCK);
  }
  return Readable.from(blocks());
}
