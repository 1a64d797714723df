/**
 * Pure parts of the prepare phase: which network install gets (never chosen by the repo), and the cache
 * key's manifest digest, read confined to the tree (a manifest linked to /dev/zero or a FIFO is hashed by
 * what it is, never read).
 */
import { execFileSync } from 'node:child_process';
import { symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chooseInstallNetwork, manifestDigest, prepareKey } from '../../src/sandbox/prepare.ts';
import { tempDir } from '../helpers/repo.ts';

const HOST_ONLY = [
  { name: 'host', driver: 'host' },
  { name: 'none', driver: 'null' },
];
const WITH_BRIDGE = [...HOST_ONLY, { name: 'bridge', driver: 'bridge' }, { name: 'registry-only', driver: 'bridge' }];

describe('chooseInstallNetwork', () => {
  it.each([
    [
      'only host networking (this machine): host, said so',
      HOST_ONLY,
      undefined,
      { network: 'host', installNetwork: 'host' },
    ],
    ['the default bridge exists', WITH_BRIDGE, undefined, { network: 'bridge', installNetwork: 'isolated' }],
    [
      'the operator names a bridge',
      WITH_BRIDGE,
      'registry-only',
      { network: 'registry-only', installNetwork: 'isolated' },
    ],
    ['the operator asks for no network', HOST_ONLY, 'none', { network: 'none', installNetwork: 'isolated' }],
    ['the operator asks for host', WITH_BRIDGE, 'host', { network: 'host', installNetwork: 'host' }],
    ['an empty setting is no setting', WITH_BRIDGE, '  ', { network: 'bridge', installNetwork: 'isolated' }],
  ])('%s', (_what, networks, requested, expected) => {
    expect(chooseInstallNetwork(networks, requested)).toEqual(expected);
  });

  it('a network the engine does not have is one clear BAD_CONFIG line', () => {
    expect(() => chooseInstallNetwork(HOST_ONLY, 'corp-net')).toThrow(
      /SUTURE_PREPARE_NETWORK names the network corp-net, which the Docker engine does not have \(it has: host, none\)/,
    );
  });
});

describe('manifest digest', () => {
  it('hashes a manifest linked to /dev/zero (or a FIFO) by what it is, at once', () => {
    const d = tempDir();
    writeFileSync(join(d, 'package.json'), '{}');
    const plain = manifestDigest(d);
    symlinkSync('/dev/zero', join(d, 'requirements.txt'));
    execFileSync('mkfifo', [join(d, 'poetry.lock')]);
    const started = Date.now();
    const linked = manifestDigest(d);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(linked).not.toBe(plain);
  });

  it('the key separates repositories with the same manifests', () => {
    const parts = { imageId: 'sha256:1', install: 'npm ci', network: 'host', manifests: 'm' };
    expect(prepareKey({ ...parts, repoId: 'a' })).not.toBe(prepareKey({ ...parts, repoId: 'b' }));
    expect(prepareKey({ ...parts, repoId: 'a' })).toBe(prepareKey({ ...parts, repoId: 'a' }));
  });
});
