/**
 * Issue 11, items 5 and 8: image bumps in a real GitOps config repository (a bare remote on disk, and one
 * behind git http-backend with Basic auth), committed with suture's trailers and pushed; `suture deliver
 * revert --incident ID` undoing exactly that bump, refusing when someone changed the value since; a config
 * repository without the configured key (clear error, nothing committed); two bumps pushed at once.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import type { ImageRef } from '../../src/gitops/config-repo/edit.ts';
import { bumpImage, revertBump } from '../../src/gitops/config-repo/index.ts';
import { loadOperatorConfig, type OperatorConfig, parseOperatorConfig } from '../../src/gitops/config-repo/operator.ts';
import { closeGitRepos } from '../../src/gitops/git.ts';
import { Journal } from '../../src/gitops/journal.ts';
import { cleanup, cli, git, tempDir } from '../helpers/repo.ts';
import { gitHttpServer, isolatedGit } from './servers.ts';

const made: string[] = [];
const servers = isolatedGit();
afterAll(async () => {
  await closeGitRepos();
  cleanup(...made);
});

const KUSTOMIZATION = `# production overlay
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ../base
images:
  - name: registry.example.com/cart-api
    newTag: "1.4.2"   # set by suture
`;
const VALUES = `image:
  repository: registry.example.com/pricing-api
  tag: v2.0.1 # deployed
`;
const OPERATOR = (url: string) => `repository:
  url: ${url}
  branch: main
services:
  cart-api:
    file: apps/cart-api/kustomization.yaml
    kustomize: { image: registry.example.com/cart-api }
  pricing-api:
    file: charts/pricing-api/values.yaml
    helm: { tag: image.tag }
  orders-api:
    file: apps/orders-api/kustomization.yaml
    kustomize: { image: registry.example.com/orders-api }
`;
const INCIDENT = '0123456789ab-20261120020411';
const OTHER = 'ba9876543210-20261120030000';

interface World {
  root: string;
  remote: string;
  clone: string;
  state: string;
  operatorFile: string;
}

/** A bare config repository (main: the two files, one commit), a clone of it for "someone else", a state dir. */
async function world(): Promise<World> {
  const root = tempDir('suture-gitops-');
  made.push(root);
  const remote = join(root, 'deploy.git');
  const clone = join(root, 'clone');
  mkdirSync(remote);
  await git(remote, 'init', '-q', '--bare', '-b', 'main');
  await git(root, 'clone', '-q', remote, clone);
  await git(clone, 'checkout', '-qb', 'main');
  mkdirSync(join(clone, 'apps', 'cart-api'), { recursive: true });
  mkdirSync(join(clone, 'charts', 'pricing-api'), { recursive: true });
  writeFileSync(join(clone, 'apps', 'cart-api', 'kustomization.yaml'), KUSTOMIZATION);
  writeFileSync(join(clone, 'charts', 'pricing-api', 'values.yaml'), VALUES);
  await git(clone, 'add', '-A');
  await git(clone, 'commit', '-qm', 'deploy config');
  await git(clone, 'push', '-q', 'origin', 'main');
  const operatorFile = join(root, 'gitops.yaml');
  writeFileSync(operatorFile, OPERATOR('./deploy.git'));
  return { root, remote, clone, state: join(root, 'state'), operatorFile };
}

const bump = (w: World, config: OperatorConfig, service: string, image: ImageRef, incident: string) =>
  bumpImage({ stateDir: w.state, config, service, image, incident });
const show = (w: World, path: string, rev = 'main') => git(w.remote, 'show', `${rev}:${path}`);
const trailers = async (w: World, rev: string) =>
  (
    await execa('git', ['interpret-trailers', '--parse'], {
      input: await git(w.remote, 'log', '-1', '--format=%B', rev),
    })
  ).stdout;

describe('bumpImage', () => {
  it('one commit with suture trailers, only the value changed; the same bump again changes nothing', async () => {
    const w = await world();
    const config = loadOperatorConfig(w.operatorFile, {});
    const before = await git(w.remote, 'rev-parse', 'main');
    const r = await bumpImage({
      stateDir: w.state,
      config,
      service: 'cart-api',
      image: { tag: '1.5.0' },
      incident: INCIDENT,
      fingerprint: '0123456789abcdef',
    });
    expect(r).toMatchObject({
      status: 'bumped',
      previous: '1.4.2',
      value: '1.5.0',
      key: 'images[name=registry.example.com/cart-api].newTag',
    });
    expect(await git(w.remote, 'rev-parse', 'main')).toBe(r.commit);
    expect(await git(w.remote, 'rev-parse', 'main^')).toBe(before);
    expect(await show(w, 'apps/cart-api/kustomization.yaml')).toBe(
      KUSTOMIZATION.replace('newTag: "1.4.2"', 'newTag: "1.5.0"').trimEnd(),
    );
    expect(await git(w.remote, 'diff', '--name-only', 'main^', 'main')).toBe('apps/cart-api/kustomization.yaml');
    expect((await trailers(w, 'main')).split('\n')).toEqual([
      `Suture-Incident: ${INCIDENT}`,
      'Suture-Fingerprint: 0123456789abcdef',
      'Suture-Action: bump-image',
      'Suture-Service: cart-api',
    ]);
    expect(await git(w.remote, 'log', '-1', '--format=%an <%ae>', 'main')).toBe(
      'suture <suture@users.noreply.localhost>',
    );

    const again = await bump(w, config, 'cart-api', { tag: '1.5.0' }, INCIDENT);
    expect(again).toMatchObject({ status: 'unchanged', commit: r.commit });
    expect(await git(w.remote, 'rev-parse', 'main')).toBe(r.commit);
  });

  it('a config repository without the configured key: a clear error, nothing committed', async () => {
    const w = await world();
    const config = loadOperatorConfig(w.operatorFile, {});
    const before = await git(w.remote, 'rev-parse', 'main');
    // orders-api's file is not in the repository; pricing-api's values have no digest key configured
    await expect(
      bumpImage({ stateDir: w.state, config, service: 'orders-api', image: { tag: '2' }, incident: INCIDENT }),
    ).rejects.toThrow(/^\S+ main has no file apps\/orders-api\/kustomization.yaml$/);
    writeFileSync(
      join(w.clone, 'apps', 'cart-api', 'kustomization.yaml'),
      KUSTOMIZATION.replace('cart-api\n', 'carts\n'),
    );
    await git(w.clone, 'commit', '-qam', 'renamed the image');
    await git(w.clone, 'push', '-q', 'origin', 'main');
    const moved = await git(w.remote, 'rev-parse', 'main');
    const err = await bump(w, config, 'cart-api', { tag: '2' }, INCIDENT).catch((e: Error) => e);
    expect((err as Error).message).toMatch(
      /apps\/cart-api\/kustomization.yaml: it has no images\[\] entry named registry.example.com\/cart-api; nothing was committed$/,
    );
    expect((err as Error).message.split('\n')).toHaveLength(1);
    expect(await git(w.remote, 'rev-parse', 'main')).toBe(moved);
    expect(moved).not.toBe(before);
    const j = new Journal(w.state);
    expect(j.bumpsFor(INCIDENT)).toEqual([]);
    j.close();
  });

  it('refuses a tag that is not one, and a digest for a helm target without a digest key', async () => {
    const w = await world();
    const config = loadOperatorConfig(w.operatorFile, {});
    await expect(bump(w, config, 'cart-api', { tag: '1.0\nSuture-Action: x' }, INCIDENT)).rejects.toThrow(
      /is not an image tag/,
    );
    await expect(
      bumpImage({
        stateDir: w.state,
        config,
        service: 'pricing-api',
        image: { digest: `sha256:${'a'.repeat(64)}` },
        incident: INCIDENT,
      }),
    ).rejects.toThrow(/has no helm.digest key/);
  });

  it('two bumps pushed at once (two processes): both land, one after the other', async () => {
    const w = await world();
    const before = await git(w.remote, 'rev-parse', 'main');
    const bump = (service: string, tag: string, incident: string) =>
      cli(
        [
          'deliver',
          'bump',
          '--service',
          service,
          '--tag',
          tag,
          '--incident',
          incident,
          '--gitops',
          w.operatorFile,
          '--state',
          w.state,
          '--json',
        ],
        {
          GIT_CONFIG_GLOBAL: '/dev/null',
          GIT_CONFIG_NOSYSTEM: '1',
        },
      );
    const [a, b] = await Promise.all([bump('cart-api', '1.6.0', INCIDENT), bump('pricing-api', 'v2.2.0', OTHER)]);
    expect(a.exitCode, a.stderr).toBe(0);
    expect(b.exitCode, b.stderr).toBe(0);
    expect([JSON.parse(a.stdout).status, JSON.parse(b.stdout).status]).toEqual(['bumped', 'bumped']);
    expect(await git(w.remote, 'rev-list', '--count', `${before}..main`)).toBe('2');
    expect(await git(w.remote, 'rev-list', '--merges', '--count', 'main')).toBe('0');
    expect(await show(w, 'apps/cart-api/kustomization.yaml')).toContain('newTag: "1.6.0"');
    expect(await show(w, 'charts/pricing-api/values.yaml')).toContain('tag: v2.2.0 # deployed');
  });
});

describe('revertBump', () => {
  async function bumped(w: World) {
    const config = loadOperatorConfig(w.operatorFile, {});
    const r = await bump(w, config, 'pricing-api', { tag: 'v2.1.0' }, INCIDENT);
    return { config, bump: r.commit! };
  }

  it('restores exactly the previous value in a new commit; a second revert finds it done', async () => {
    const w = await world();
    const { config, bump } = await bumped(w);
    // someone else changes another file meanwhile: the revert does not touch it
    writeFileSync(join(w.clone, 'NOTES.md'), 'ops notes\n');
    await git(w.clone, 'pull', '-q', '--rebase', 'origin', 'main');
    await git(w.clone, 'add', 'NOTES.md');
    await git(w.clone, 'commit', '-qm', 'notes');
    await git(w.clone, 'push', '-q', 'origin', 'main');

    const r = await revertBump({ stateDir: w.state, config, incident: INCIDENT });
    expect(r).toMatchObject({ status: 'reverted', reverts: bump, from: 'v2.1.0', to: 'v2.0.1', key: 'image.tag' });
    if (r.status !== 'reverted') throw new Error('unreachable');
    expect(await git(w.remote, 'rev-parse', 'main')).toBe(r.commit);
    expect(await show(w, 'charts/pricing-api/values.yaml')).toBe(VALUES.trimEnd());
    expect(await show(w, 'NOTES.md')).toBe('ops notes');
    expect(await git(w.remote, 'diff', '--name-only', 'main^', 'main')).toBe('charts/pricing-api/values.yaml');
    expect((await trailers(w, 'main')).split('\n')).toEqual([
      `Suture-Incident: ${INCIDENT}`,
      'Suture-Action: revert-image',
      'Suture-Service: pricing-api',
      `Suture-Reverts: ${bump}`,
    ]);
    expect(await revertBump({ stateDir: w.state, config, incident: INCIDENT })).toEqual({
      status: 'already-reverted',
      reverts: bump,
      by: r.commit,
    });
  });

  it('refuses, in one line, when the value was changed since by someone else; nothing committed', async () => {
    const w = await world();
    const { config } = await bumped(w);
    await git(w.clone, 'pull', '-q', '--rebase', 'origin', 'main');
    writeFileSync(join(w.clone, 'charts', 'pricing-api', 'values.yaml'), VALUES.replace('v2.0.1', 'v2.3.0-hotfix'));
    await git(w.clone, 'commit', '-qam', 'hotfix by hand');
    await git(w.clone, 'push', '-q', 'origin', 'main');
    const tip = await git(w.remote, 'rev-parse', 'main');
    const r = await revertBump({ stateDir: w.state, config, incident: INCIDENT });
    expect(r.status).toBe('refused');
    if (r.status !== 'refused') throw new Error('unreachable');
    expect(r.reason).toMatch(
      /image.tag is v2.3.0-hotfix now, not v2.1.0 as suture set it for incident .*changed since by someone else/,
    );
    expect(r.reason.split('\n')).toHaveLength(1);
    expect(await git(w.remote, 'rev-parse', 'main')).toBe(tip);
  });

  it('without the journal (another state dir), finds the bump through its trailers', async () => {
    const w = await world();
    const { config, bump } = await bumped(w);
    const other = tempDir('suture-state-');
    made.push(other);
    const r = await revertBump({ stateDir: other, config, incident: INCIDENT });
    expect(r).toMatchObject({ status: 'reverted', reverts: bump, from: 'v2.1.0', to: 'v2.0.1' });
    // and the first state dir's journal, which still thinks it open, sees the revert on the branch
    expect(await revertBump({ stateDir: w.state, config, incident: INCIDENT })).toMatchObject({
      status: 'already-reverted',
    });
  });

  it('an incident with no bump: not found', async () => {
    const w = await world();
    const config = loadOperatorConfig(w.operatorFile, {});
    await expect(revertBump({ stateDir: w.state, config, incident: OTHER })).rejects.toThrow(
      `no image bump is recorded for incident ${OTHER}`,
    );
  });
});

describe('suture deliver revert (the CLI)', () => {
  it('reverts with one line, refuses with one line (exit 0), bad input exits 2', async () => {
    const w = await world();
    const env = { GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1', SUTURE_GITOPS_CONFIG: w.operatorFile };
    const bump = await cli(
      ['deliver', 'bump', '--service', 'cart-api', '--tag', '1.5.0', '--incident', INCIDENT, '--state', w.state],
      env,
    );
    expect(bump.exitCode, bump.stderr).toBe(0);
    expect(bump.stdout).toMatch(
      /^bumped: apps\/cart-api\/kustomization.yaml images\[name=registry.example.com\/cart-api\].newTag 1.4.2 -> 1.5.0 \([0-9a-f]{12}\)$/,
    );

    const revert = await cli(['deliver', 'revert', '--incident', INCIDENT, '--state', w.state], env);
    expect(revert.exitCode, revert.stderr).toBe(0);
    expect(revert.stdout).toMatch(
      /^reverted: apps\/cart-api\/kustomization.yaml .* 1.5.0 -> 1.4.2 \([0-9a-f]{12}, undoing [0-9a-f]{12}\)$/,
    );
    expect(await show(w, 'apps/cart-api/kustomization.yaml')).toBe(KUSTOMIZATION.trimEnd());

    const other = ['--service', 'cart-api', '--tag', '1.6.0', '--incident', OTHER, '--state', w.state];
    expect((await cli(['deliver', 'bump', ...other], env)).exitCode).toBe(0);
    await git(w.clone, 'pull', '-q', '--rebase', 'origin', 'main');
    writeFileSync(join(w.clone, 'apps', 'cart-api', 'kustomization.yaml'), KUSTOMIZATION.replace('1.4.2', '1.6.1'));
    await git(w.clone, 'commit', '-qam', 'by hand');
    await git(w.clone, 'push', '-q', 'origin', 'main');
    const refused = await cli(['deliver', 'revert', '--incident', OTHER, '--state', w.state], env);
    expect(refused.exitCode, refused.stderr).toBe(0);
    expect(refused.stdout).toMatch(
      /^refused: .* is 1\.6\.1 now, not 1\.6\.0 .*changed since by someone else, so it is not reverted$/,
    );
    expect(refused.stdout.split('\n')).toHaveLength(1);

    for (const args of [
      ['deliver', 'revert', '--incident', 'x\ny', '--state', w.state],
      ['deliver', 'revert', '--incident', INCIDENT, '--state', w.state, '--gitops', join(w.root, 'missing.yaml')],
      ['deliver', 'bump', '--service', 'cart-api', '--tag', 'a b', '--incident', INCIDENT, '--state', w.state],
    ]) {
      const bad = await cli(args, env);
      expect(bad.exitCode, bad.stderr).toBe(2);
      expect(bad.stderr.trim().split('\n')).toHaveLength(1);
      expect(bad.stderr).toMatch(/^suture: /);
    }
  });
});

describe('a config repository over HTTP (git http-backend, Basic auth)', () => {
  it("bumps and reverts with the operator's own credential helper", async () => {
    const w = await world();
    await git(w.remote, 'config', 'http.receivepack', 'true');
    const auth = `Basic ${Buffer.from('deployer:s3cret').toString('base64')}`;
    const server = await gitHttpServer(w.root, (req) => req.headers.authorization === auth);
    servers.push(server);
    const globalConfig = join(w.root, 'operator.gitconfig');
    writeFileSync(
      globalConfig,
      '[credential]\n\thelper = "!f() { echo username=deployer; echo password=s3cret; }; f"\n',
    );
    process.env.GIT_CONFIG_GLOBAL = globalConfig;
    const config = parseOperatorConfig(OPERATOR(`${server.url}/deploy.git`), w.root);
    const r = await bump(w, config, 'cart-api', { tag: '1.7.0' }, INCIDENT);
    expect(r.status).toBe('bumped');
    expect(await git(w.remote, 'rev-parse', 'main')).toBe(r.commit);
    expect(await revertBump({ stateDir: w.state, config, incident: INCIDENT })).toMatchObject({ status: 'reverted' });
    expect(await show(w, 'apps/cart-api/kustomization.yaml')).toBe(KUSTOMIZATION.trimEnd());
  });
});

describe('the operator config', () => {
  it.each([
    ['services:\n  a: { file: x.yaml, helm: { tag: image.tag } }\n', /repository/],
    ['repository: { url: "ext::sh -c evil" }\nservices: {}\n', /remote helper/],
    ['repository: { url: ./r }\nservices:\n  a: { file: ../x.yaml, helm: { tag: t } }\n', /file must be a path inside/],
    ['repository: { url: ./r }\nservices:\n  a: { file: x.yaml }\n', /exactly one of kustomize, helm, manifest/],
    ['repository: { url: ./r, branch: "a..b" }\nservices: {}\n', /not a branch name/],
    ['repository: [', /not YAML/],
  ])('refuses %j in one line', (text, message) => {
    expect(() => parseOperatorConfig(text, '/')).toThrow(message);
  });
});
