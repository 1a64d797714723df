/**
 * A small application repository for the policy tests: Python source and tests, Kubernetes manifests, a
 * Dockerfile, a CI workflow and dependency manifests, committed once on `main`. Each scenario branches
 * from that commit, edits files, commits, and is judged BASE..HEAD.
 */
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { git, tempDir } from '../helpers/repo.ts';

export const BASE_FILES: Record<string, string> = {
  'app/cart.py': `def summary(cart):
    items = cart["items"]
    total = sum(i["price"] * i["qty"] for i in items)
    return {"count": len(items), "total": total}
`,
  'app/pricing.py': `RATES = {"standard": 1.0, "member": 0.9}


def price(amount, tier):
    return round(amount * RATES[tier], 2)
`,
  'app/settings.py': `import os

DATABASE_URL = os.environ["DATABASE_URL"]
`,
  'tests/test_cart.py': `from app.cart import summary


def test_summary_counts_items():
    result = summary({"items": [{"price": 2, "qty": 3}]})
    assert result["count"] == 1
    assert result["total"] == 6
`,
  'tests/test_pricing.py': `from app.pricing import price


def test_member_discount():
    assert price(10, "member") == 9.0
`,
  'deploy/deployment.yaml': `apiVersion: apps/v1
kind: Deployment
metadata:
  name: cart-api
  namespace: shop
spec:
  replicas: 2
  selector:
    matchLabels: {app: cart-api}
  template:
    metadata:
      labels: {app: cart-api}
    spec:
      serviceAccountName: cart-api
      containers:
        - name: app
          image: registry.example.com/shop/cart-api:1.4.2
          ports:
            - containerPort: 8080
          securityContext:
            allowPrivilegeEscalation: false
            runAsNonRoot: true
`,
  'deploy/service.yaml': `apiVersion: v1
kind: Service
metadata:
  name: cart-api
  namespace: shop
spec:
  selector: {app: cart-api}
  ports:
    - port: 80
      targetPort: 8080
`,
  'deploy/networkpolicy.yaml': `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: cart-api-ingress
  namespace: shop
spec:
  podSelector:
    matchLabels: {app: cart-api}
  ingress:
    - from:
        - podSelector:
            matchLabels: {app: gateway}
`,
  'deploy/rbac.yaml': `apiVersion: v1
kind: ServiceAccount
metadata:
  name: cart-api
  namespace: shop
  annotations:
    eks.amazonaws.com/role-arn: arn:aws:iam::111122223333:role/cart-api
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: cart-api
  namespace: shop
rules:
  - apiGroups: [""]
    resources: ["configmaps"]
    verbs: ["get", "list"]
`,
  Dockerfile: `ARG PY=3.12
FROM registry.example.com/python:\${PY}-slim AS build
COPY requirements.txt .
RUN pip install -r requirements.txt

FROM build
COPY app /srv/app
USER app
CMD ["python", "-m", "app"]
`,
  '.github/workflows/ci.yml': `name: ci
on: [push]
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: python -m pytest -q
`,
  'requirements.txt': `flask==3.0.3
requests>=2.31
`,
  'package.json': `{
  "name": "cart-ui",
  "private": true,
  "dependencies": {"preact": "^10.19.0"}
}
`,
  'README.md': '# cart-api\n',
  'suture.yaml': 'service: cart-api\nlanguage: python\ntest: python3 -m pytest -q\nstart: python3 -m app\n',
};

export type AppRepo = { dir: string; base: string };

export async function createAppRepo(
  extra: Record<string, string> = {},
  opts: { symlinks?: Record<string, string>; omit?: string[] } = {},
): Promise<AppRepo> {
  const dir = tempDir('suture-policy-');
  await git(dir, 'init', '-q', '-b', 'main');
  const files = { ...BASE_FILES, ...extra };
  for (const path of opts.omit ?? []) delete files[path];
  writeFiles(dir, files);
  writeLinks(dir, opts.symlinks ?? {});
  await git(dir, 'add', '-A');
  await git(dir, 'commit', '-q', '-m', 'base');
  return { dir, base: await git(dir, 'rev-parse', 'HEAD') };
}

export function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
}

function writeLinks(dir: string, links: Record<string, string>): void {
  for (const [path, target] of Object.entries(links)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    rmSync(join(dir, path), { force: true });
    symlinkSync(target, join(dir, path));
  }
}

export type Edit = {
  write?: Record<string, string>;
  remove?: string[];
  symlinks?: Record<string, string>;
  /** [from, to] renames. */
  move?: [string, string][];
  /** Submodule entries (path -> commit id), recorded in the index only, as a patch would add them. */
  gitlinks?: Record<string, string>;
};

/** Commits EDIT on a new branch from the base and returns the new commit; the work tree goes back to main. */
export async function commitChange(repo: AppRepo, name: string, edit: Edit): Promise<string> {
  await git(repo.dir, 'checkout', '-q', '-b', name, repo.base);
  try {
    for (const path of edit.remove ?? []) rmSync(join(repo.dir, path), { recursive: true });
    writeFiles(repo.dir, edit.write ?? {});
    writeLinks(repo.dir, edit.symlinks ?? {});
    for (const [from, to] of edit.move ?? []) await git(repo.dir, 'mv', from, to);
    await git(repo.dir, 'add', '-A');
    for (const [path, commit] of Object.entries(edit.gitlinks ?? {})) {
      await git(repo.dir, 'update-index', '--add', '--cacheinfo', `160000,${commit},${path}`);
    }
    await git(repo.dir, 'commit', '-q', '-m', name);
    return await git(repo.dir, 'rev-parse', 'HEAD');
  } finally {
    await git(repo.dir, 'checkout', '-q', 'main');
  }
}

/** The base content of PATH with FROM replaced by TO (which must be present, so a typo fails the test). */
export function edited(path: string, from: string, to: string): string {
  const text = BASE_FILES[path];
  if (text === undefined || !text.includes(from)) throw new Error(`${path} has no ${JSON.stringify(from)}`);
  return text.replace(from, to);
}

/** A small null-guard fix plus its regression test: the shape of change the gate allows. */
export const GOOD_FIX: Record<string, string> = {
  'app/cart.py': edited('app/cart.py', 'items = cart["items"]', 'items = cart.get("items") or []'),
  'tests/test_cart.py': `${BASE_FILES['tests/test_cart.py']}

def test_summary_without_items():
    assert summary({}) == {"count": 0, "total": 0}
`,
};

/** The distinct violation ids of a decision, sorted: what the scenario tests compare. */
export function ids(d: { violations: { id: string }[] }): string[] {
  return [...new Set(d.violations.map((v) => v.id))].sort();
}
