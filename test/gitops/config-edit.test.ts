/**
 * Issue 11, item 5: the image value in a GitOps config file is changed without touching anything else —
 * kustomize images[].newTag/digest, a Helm values key, a plain manifest's container image — comments,
 * quoting, order and other documents byte for byte as they were.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  EditError,
  imageRefProblem,
  type Locator,
  newValue,
  readImage,
  setImage,
} from '../../src/gitops/config-repo/edit.ts';

const KUSTOMIZATION = `# production overlay — managed by the platform team
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ../../base   # the shared base
images:
  - name: registry.example.com/cart-api
    newTag: "1.4.2"   # bumped by suture
  - name: registry.example.com/sidecar
    newTag: 0.9
    digest: sha256:${'0'.repeat(64)}
`;

const VALUES = `replicaCount: 3
image:
  repository: registry.example.com/pricing-api
  # the tag Argo CD deploys
  tag: v2.0.1
  pullPolicy: IfNotPresent
tag: not-this-one
`;

const MANIFEST = `apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: orders-api
spec:
  template:
    spec:
      initContainers:
        - name: migrate
          image: registry.example.com/orders-api:1.0.0
      containers:
        - name: orders-api
          image: 'registry.example.com/orders-api:1.0.0' # app
        - name: proxy
          image: envoyproxy/envoy:v1.30.1
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: orders-cleanup
spec:
  jobTemplate:
    spec:
      template:
        spec:
          containers:
            - name: orders-api
              image: registry.example.com/orders-api:1.0.0
`;

/** The lines that differ between two texts of the same line count. */
function changedLines(a: string, b: string): [string, string][] {
  const x = a.split('\n');
  const y = b.split('\n');
  expect(y).toHaveLength(x.length);
  return x.flatMap((l, i) => (l === y[i] ? [] : [[l, y[i]!] as [string, string]]));
}

describe('kustomize images[]', () => {
  const tag: Locator = { kind: 'kustomize', image: 'registry.example.com/cart-api', field: 'newTag' };
  it('changes newTag in place, its quotes and comment kept', () => {
    const e = setImage(KUSTOMIZATION, tag, '1.5.0');
    expect(e).toMatchObject({ previous: '1.4.2', value: '1.5.0', changed: 1 });
    expect(changedLines(KUSTOMIZATION, e.text)).toEqual([
      ['    newTag: "1.4.2"   # bumped by suture', '    newTag: "1.5.0"   # bumped by suture'],
    ]);
    expect(readImage(e.text, tag)).toBe('1.5.0');
  });
  it('a plain scalar stays plain unless the value would read back as something else', () => {
    const sidecar: Locator = { kind: 'kustomize', image: 'registry.example.com/sidecar', field: 'newTag' };
    expect(changedLines(KUSTOMIZATION, setImage(KUSTOMIZATION, sidecar, 'v1.0').text)).toEqual([
      ['    newTag: 0.9', '    newTag: v1.0'],
    ]);
    // 1.10 plain would be the number 1.1
    expect(changedLines(KUSTOMIZATION, setImage(KUSTOMIZATION, sidecar, '1.10').text)).toEqual([
      ['    newTag: 0.9', '    newTag: "1.10"'],
    ]);
  });
  it('the digest field', () => {
    const d = `sha256:${'a'.repeat(64)}`;
    const e = setImage(KUSTOMIZATION, { kind: 'kustomize', image: 'registry.example.com/sidecar', field: 'digest' }, d);
    expect(changedLines(KUSTOMIZATION, e.text)).toEqual([[`    digest: sha256:${'0'.repeat(64)}`, `    digest: ${d}`]]);
  });
  it('an entry or field that is not there is a clear error', () => {
    expect(() => setImage(KUSTOMIZATION, { ...tag, image: 'registry.example.com/other' }, '1')).toThrow(
      new EditError('it has no images[] entry named registry.example.com/other'),
    );
    expect(() => setImage(KUSTOMIZATION, { ...tag, field: 'digest' }, 'x')).toThrow(
      /images\[\] entry registry.example.com\/cart-api has no digest/,
    );
  });
});

describe('Helm values', () => {
  it('a dotted key, the comment above it and the other `tag` untouched', () => {
    const e = setImage(VALUES, { kind: 'helm', key: 'image.tag' }, 'v2.1.0');
    expect(changedLines(VALUES, e.text)).toEqual([['  tag: v2.0.1', '  tag: v2.1.0']]);
    expect(e.previous).toBe('v2.0.1');
  });
  it('a missing key, or one that is not a value', () => {
    expect(() => setImage(VALUES, { kind: 'helm', key: 'image.digest' }, 'x')).toThrow(/it has no key image.digest/);
    expect(() => setImage(VALUES, { kind: 'helm', key: 'image' }, 'x')).toThrow(/image is not a plain value/);
  });
});

describe('plain manifests', () => {
  const loc: Locator = { kind: 'manifest', container: 'orders-api' };
  it('the named container in every workload of the file, the repository kept, other containers untouched', () => {
    const e = setImage(MANIFEST, loc, newValue(loc, readImage(MANIFEST, loc), { tag: '1.1.0' }));
    expect(e.changed).toBe(2);
    expect(changedLines(MANIFEST, e.text)).toEqual([
      [
        "          image: 'registry.example.com/orders-api:1.0.0' # app",
        "          image: 'registry.example.com/orders-api:1.1.0' # app",
      ],
      [
        '              image: registry.example.com/orders-api:1.0.0',
        '              image: registry.example.com/orders-api:1.1.0',
      ],
    ]);
  });
  it('a digest replaces tag and digest', () => {
    const d = `sha256:${'b'.repeat(64)}`;
    expect(newValue(loc, 'reg:5000/a/b:1.0@sha256:00', { digest: d })).toBe(`reg:5000/a/b@${d}`);
    expect(newValue(loc, 'reg:5000/a/b', { tag: '2' })).toBe('reg:5000/a/b:2');
  });
  it('no such container: a clear error', () => {
    expect(() => setImage(MANIFEST, { kind: 'manifest', container: 'nope' }, 'x')).toThrow(/no container named nope/);
  });
});

describe('what is refused', () => {
  it('invalid YAML, and tags or digests suture does not write', () => {
    expect(() => setImage('a: [', { kind: 'helm', key: 'a' }, 'x')).toThrow(/not valid YAML/);
    expect(imageRefProblem({ tag: 'v1.2.3' })).toBeNull();
    expect(imageRefProblem({ digest: `sha256:${'c'.repeat(64)}` })).toBeNull();
    for (const bad of ['', '-x', 'a b', 'a\nb', 'a:b', 'x'.repeat(129), '"q"']) {
      expect(imageRefProblem({ tag: bad })).not.toBeNull();
    }
    expect(imageRefProblem({ digest: 'sha256:xyz' })).not.toBeNull();
  });

  it('any valid tag: only the one value changes, and it reads back', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,40}$/), (t) => {
        const loc: Locator = { kind: 'helm', key: 'image.tag' };
        const e = setImage(VALUES, loc, t);
        expect(readImage(e.text, loc)).toBe(t);
        expect(changedLines(VALUES, e.text).length).toBeLessThanOrEqual(1);
      }),
    );
  });
});
