/**
 * A repository whose own git configuration, hooks and attributes name programs: every setting git is known
 * to run a program for, each a script that appends its name to a log. suture must never run any of them.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { git, tempDir } from '../helpers/repo.ts';

export interface Trap {
  dir: string;
  log: string;
  /** The scripts that ran, one line each ("name args"); empty when none did. */
  ran(): string;
  script(name: string, body?: string): string;
}

export function makeTrap(): Trap {
  const dir = tempDir('suture-trap-');
  const log = join(dir, 'ran.log');
  mkdirSync(join(dir, 'bin'));
  return {
    dir,
    log,
    ran: () => (existsSync(log) ? readFileSync(log, 'utf8') : ''),
    script(name, body = 'exit 1') {
      const path = join(dir, 'bin', name);
      writeFileSync(path, `#!/bin/sh\necho "${name} $*" >> '${log}'\n${body}\n`);
      chmodSync(path, 0o755);
      return path;
    },
  };
}

/** The pricing-api fix, as a candidate patch. */
export const FIX = `diff --git a/pricing.py b/pricing.py
--- a/pricing.py
+++ b/pricing.py
@@ -4,3 +4,5 @@
 def average_discount(discounts):
+    if len(discounts) == 0:
+        return 0
     total = sum(d["percent"] for d in discounts)
     return total / len(discounts)
`;

const HOOKS = [
  'pre-commit',
  'prepare-commit-msg',
  'commit-msg',
  'post-commit',
  'post-checkout',
  'post-index-change',
  'reference-transaction',
  'pre-push',
  'pre-auto-gc',
  'post-rewrite',
  'pre-receive',
  'update',
  'post-receive',
  'post-update',
  'push-to-checkout',
  'fsmonitor-watchman',
];

/**
 * Arms `repo`: attributes (committed) naming a filter and a diff driver for every file, and a .git/config
 * with every program-naming setting pointing at a trap script. Call after the repo's last ordinary commit and
 * push: from here on, only suture may run git in it.
 */
export async function armRepo(repo: string, trap: Trap, opts: { originPath?: string } = {}): Promise<void> {
  writeFileSync(join(repo, '.gitattributes'), '* filter=evil diff=evil merge=evil\npricing.py diff=evil\n');
  await git(repo, 'add', '.gitattributes');
  await git(repo, 'commit', '-qm', 'attributes');
  if (opts.originPath) await git(repo, 'push', '-q', 'origin', 'HEAD');

  const hooks = join(trap.dir, 'hooks');
  mkdirSync(hooks, { recursive: true });
  for (const h of HOOKS) {
    const body = `#!/bin/sh\necho "hook:${h} $*" >> '${trap.log}'\nexit 0\n`;
    for (const dir of [hooks, join(repo, '.git', 'hooks')]) {
      writeFileSync(join(dir, h), body);
      chmodSync(join(dir, h), 0o755);
    }
  }
  const s = (name: string, body?: string) => trap.script(name, body);
  const lines = [
    '[core]',
    `\thooksPath = ${hooks}`,
    `\tfsmonitor = ${s('fsmonitor')}`,
    `\tsshCommand = ${s('ssh')}`,
    `\tgitProxy = ${s('gitproxy')}`,
    `\taskPass = ${s('askpass')}`,
    `\tpager = ${s('pager')}`,
    `\teditor = ${s('editor')}`,
    `\talternateRefsCommand = ${s('alternate-refs')}`,
    '[sequence]',
    `\teditor = ${s('sequence-editor')}`,
    '[filter "evil"]',
    `\tclean = ${s('filter-clean', 'cat')}`,
    `\tsmudge = ${s('filter-smudge', 'cat')}`,
    `\tprocess = ${s('filter-process')}`,
    '[diff "evil"]',
    `\ttextconv = ${s('textconv', 'cat "$1"')}`,
    `\tcommand = ${s('diff-command')}`,
    '[diff]',
    `\texternal = ${s('diff-external')}`,
    '[merge "evil"]',
    `\tdriver = ${s('merge-driver')}`,
    '[commit]',
    '\tgpgSign = true',
    '[tag]',
    '\tgpgSign = true',
    '[push]',
    '\tgpgSign = true',
    '[gpg]',
    `\tprogram = ${s('gpg')}`,
    '[gpg "ssh"]',
    `\tprogram = ${s('gpg-ssh')}`,
    `\tdefaultKeyCommand = ${s('gpg-ssh-key')}`,
    '[log]',
    '\tshowSignature = true',
    '[pager]',
    `\tblame = ${s('pager-blame')}`,
    `\tdiff = ${s('pager-diff')}`,
    '[credential]',
    `\thelper = ${s('credential-helper')}`,
    '[gc]',
    '\tauto = 1',
    '\tautoDetach = false',
    '[protocol "ext"]',
    '\tallow = always',
    // git 2.54's config-based hooks
    '[hook "evil"]',
    '\tevent = reference-transaction',
    '\tevent = pre-push',
    '\tevent = post-commit',
    `\tcommand = ${s('config-hook')}`,
  ];
  if (opts.originPath) {
    lines.push(
      '[remote "origin"]',
      `\treceivepack = ${s('receivepack', 'exec git-receive-pack "$@"')}`,
      `\tuploadpack = ${s('uploadpack', 'exec git-upload-pack "$@"')}`,
      // An insteadOf that turns origin into a command (ext:: transport)
      `[url "ext::${s('ext-transport')} %S "]`,
      `\tinsteadOf = ${opts.originPath}`,
    );
  }
  writeFileSync(
    join(repo, '.git', 'config'),
    `${readFileSync(join(repo, '.git', 'config'), 'utf8')}${lines.join('\n')}\n`,
  );
}
