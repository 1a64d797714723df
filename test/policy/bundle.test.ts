/**
 * The toolchain and the committed bundle: opa test passes, opa fmt and opa check --strict are clean, the
 * committed policies/dist bundle is exactly what the sources compile to (opa build output is byte-stable
 * for a given opa version), and bundle loading wires the builtins and fails closed.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleParts, CUSTOM_BUILTINS, compareSemver, evaluateDecision, loadBundle } from '../../src/policy/bundle.ts';
import { evaluateInput } from '../../src/policy/check.ts';
import {
  buildBundle,
  opaVersion,
  pinnedOpaVersion,
  runOpa,
  testPolicies,
  unformattedPolicies,
} from '../../src/policy/opa.ts';
import { defaultBundlePath, policiesDir } from '../../src/policy/paths.ts';
import { readTarGz } from '../../src/policy/tar.ts';
import { cleanup, tempDir } from '../helpers/repo.ts';

let work: string;
beforeAll(() => {
  work = tempDir('suture-bundle-');
});
afterAll(() => cleanup(work));

describe('policy sources', () => {
  it('pass opa test', async () => {
    const run = await testPolicies({});
    expect(run.ok, run.stdout + run.stderr).toBe(true);
    expect(run.stdout).toMatch(/PASS: \d+\/\d+/);
  });

  it('are opa fmt clean and pass opa check --strict', async () => {
    expect(await unformattedPolicies(['suture', 'test'])).toEqual([]);
    const check = await runOpa(['check', '--strict', 'suture', 'test'], policiesDir());
    expect(check.ok, check.stderr).toBe(true);
  });

  it('compile to exactly the committed bundle (run `suture policy build` when this fails)', async () => {
    // Only the pinned opa reproduces the committed bytes; say so rather than report a stale bundle.
    expect(await opaVersion(), 'the opa suture finds ($SUTURE_OPA, PATH, cache) is not the pinned one').toBe(
      await pinnedOpaVersion(),
    );
    const out = join(work, 'fresh.tar.gz');
    await buildBundle({ out });
    const fresh = bundleParts(out, readFileSync(out));
    const committed = bundleParts(defaultBundlePath(), readFileSync(defaultBundlePath()));
    expect(Buffer.compare(fresh.wasm, committed.wasm), 'policies/dist/bundle.tar.gz is stale').toBe(0);
    expect(committed.data).toEqual(fresh.data);
    // The bundle records sources by relative path only: nothing machine-specific is committed.
    const names = [...readTarGz(readFileSync(defaultBundlePath())).keys()];
    expect(names).toContain('policy.wasm');
    expect(names.filter((n) => n.startsWith('/') || n.includes('..'))).toEqual([]);
  });
});

describe('bundle loading', () => {
  it('loads the default bundle once and reuses it', async () => {
    const a = await loadBundle(defaultBundlePath());
    const b = await loadBundle(defaultBundlePath());
    expect(b).toBe(a);
    // Messages use the WASM-native concat (a host call costs microseconds); only the allow-list needs the host.
    expect(a.builtins).toEqual(['strings.any_prefix_match']);
  });

  it('provides builtins the WASM module leaves to the host, and refuses a bundle needing others', async () => {
    const src = join(work, 'custom');
    mkdirSync(src, { recursive: true });
    writeFileSync(
      join(src, 'custom.rego'),
      `package suture

decision := {"decision": d, "violations": []} if {
	semver.compare("1.10.0", "1.9.0") == 1
	strings.any_prefix_match("registry.example.com/app", ["ghcr.io/", "registry.example.com/"])
	strings.any_suffix_match("a.yaml", [".yml", ".yaml"])
	strings.count("a-b-c", "-") == 2
	semver.is_valid("1.2.3-rc.1")
	not semver.is_valid("1.2")
	regex.find_n("[0-9]+", "a1b22c333", 2) == ["1", "22"]
	crypto.sha256("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
	d := "allow"
}
`,
    );
    const out = join(work, 'custom.tar.gz');
    await buildBundle({ srcDir: src, out });
    const bundle = await loadBundle(out);
    expect(bundle.builtins.filter((b) => b in CUSTOM_BUILTINS).length).toBeGreaterThanOrEqual(6);
    expect(evaluateDecision(bundle, {})).toEqual({ decision: 'allow', violations: [] });

    writeFileSync(
      join(src, 'custom.rego'),
      'package suture\n\ndecision := {"decision": strings.render_template("{{.d}}", {"d": "allow"}), "violations": []}\n',
    );
    const unknown = join(work, 'unknown.tar.gz');
    await buildBundle({ srcDir: src, out: unknown });
    await expect(loadBundle(unknown)).rejects.toThrow(/builtins suture does not provide: strings.render_template/);
    const d = await evaluateInput({} as never, unknown);
    expect(d.decision).toBe('deny');
    expect(d.violations[0]!.message).toContain('strings.render_template');
  });

  it('fails closed on a malformed decision or an undefined result', async () => {
    const src = join(work, 'malformed');
    mkdirSync(src, { recursive: true });
    writeFileSync(
      join(src, 'm.rego'),
      'package suture\n\ndecision := {"decision": "maybe", "violations": []} if input.x == 1\n',
    );
    const out = join(work, 'malformed.tar.gz');
    await buildBundle({ srcDir: src, out });
    const bundle = await loadBundle(out);
    expect(() => evaluateDecision(bundle, { x: 1 })).toThrow(/malformed decision/);
    expect(() => evaluateDecision(bundle, { x: 2 })).toThrow(/no decision/);
    expect((await evaluateInput({ x: 1 } as never, out)).decision).toBe('deny');
  });

  it("evaluates the platform team's bundle from SUTURE_POLICY_BUNDLE, and denies when that path holds none", async () => {
    const src = join(work, 'team');
    mkdirSync(src, { recursive: true });
    writeFileSync(
      join(src, 't.rego'),
      'package suture\n\ndecision := {"decision": "review", "violations": [{"id": "team/always-review", "message": "m", "path": ""}]}\n',
    );
    const out = join(work, 'team.tar.gz');
    await buildBundle({ srcDir: src, out });
    const saved = process.env.SUTURE_POLICY_BUNDLE;
    try {
      process.env.SUTURE_POLICY_BUNDLE = out;
      expect(defaultBundlePath()).toBe(out);
      const d = await evaluateInput({ schema: 3 } as never);
      expect(d.violations.map((v) => v.id)).toEqual(['team/always-review']);
      process.env.SUTURE_POLICY_BUNDLE = join(work, 'missing.tar.gz');
      expect((await evaluateInput({ schema: 3 } as never)).decision).toBe('deny');
    } finally {
      if (saved === undefined) delete process.env.SUTURE_POLICY_BUNDLE;
      else process.env.SUTURE_POLICY_BUNDLE = saved;
    }
  });

  it('loads a bare policy.wasm as well as a .tar.gz', async () => {
    const wasm = join(work, 'policy.wasm');
    writeFileSync(wasm, bundleParts(defaultBundlePath(), readFileSync(defaultBundlePath())).wasm);
    const d = await evaluateInput({ schema: 1 } as never, wasm);
    expect(d.decision).toBe('deny');
    expect(d.violations.map((v) => v.id)).toContain('input/schema');
  });

  it('rejects a build from broken Rego with opa check output', async () => {
    const src = join(work, 'broken');
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, 'b.rego'), 'package suture\n\ndecision := {\n');
    await expect(buildBundle({ srcDir: src, out: join(work, 'broken.tar.gz') })).rejects.toThrow(
      /opa check --strict failed/,
    );
  });
});

describe('semver.compare', () => {
  it('orders versions by semver 2.0.0 precedence', () => {
    const ordered = [
      '1.0.0-alpha',
      '1.0.0-alpha.1',
      '1.0.0-alpha.beta',
      '1.0.0-beta',
      '1.0.0-beta.2',
      '1.0.0-beta.11',
      '1.0.0-rc.1',
      '1.0.0',
      '1.2.0',
      '1.10.0',
    ];
    for (let i = 0; i + 1 < ordered.length; i++) {
      expect(compareSemver(ordered[i]!, ordered[i + 1]!)).toBe(-1);
      expect(compareSemver(ordered[i + 1]!, ordered[i]!)).toBe(1);
    }
    expect(compareSemver('1.0.0+build.1', '1.0.0')).toBe(0);
    expect(() => compareSemver('1.0', '1.0.0')).toThrow(/invalid version 1.0/);
  });
});
