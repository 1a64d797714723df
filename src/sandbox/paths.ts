import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root (where package.json and sandbox/ live), from src/ or dist/ alike. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) || !existsSync(join(dir, 'sandbox'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the suture package root');
    dir = up;
  }
  return dir;
}

export function driverDir(): string {
  return join(packageRoot(), 'sandbox', 'driver');
}
