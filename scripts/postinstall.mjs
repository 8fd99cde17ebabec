#!/usr/bin/env node
// spreed-bot's postinstall: applies patches/werift+0.24.4.patch (SCTP pacing settings, DTLS and
// ICE fixes, RTCP Sender Report time, per-packet receive work; the README's "werift patch" section
// lists each change and the test that fails without it) to the werift that spreed-bot loads.
//
// - In the spreed-bot repository (not under node_modules): runs patch-package as before; a patch
//   that does not apply fails the install.
// - Installed as a dependency: finds the werift spreed-bot itself resolves (hoisted or nested) and,
//   if it is werift 0.24.4 and not patched yet, applies the patch with patch-package's own patch
//   reader and applier. Never fails the user's install: any problem prints one line and exits 0.
// Plain JavaScript: it runs before anything is built, with node and spreed-bot's dependencies only.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const WERIFT_VERSION = '0.24.4';
const PATCH_FILE = `werift+${WERIFT_VERSION}.patch`;
const pkgDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const pkgRequire = createRequire(join(pkgDir, 'package.json'));

if (!pkgDir.split(sep).includes('node_modules')) {
  // This repository: today's behaviour, with failures as errors.
  const bin = pkgRequire.resolve('patch-package/dist/index.js');
  const run = spawnSync(process.execPath, [bin, '--error-on-fail'], { cwd: pkgDir, stdio: 'inherit' });
  process.exit(run.status ?? 1);
}

try {
  console.log(`spreed-bot: ${patchWerift()}`);
} catch (error) {
  const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
  console.log(`spreed-bot: werift not patched (${reason}); file transfers use werift's default pacing and a call with a busy peer can fail its DTLS handshake`);
}
process.exit(0);

/** Applies the patch to the werift spreed-bot resolves; returns what it did, throws why it could not. */
function patchWerift() {
  const weriftDir = weriftPackageDir();
  const { version } = JSON.parse(readFileSync(join(weriftDir, 'package.json'), 'utf8'));
  if (version !== WERIFT_VERSION) throw new Error(`werift ${version} found, the patch is for ${WERIFT_VERSION}`);
  // pnpm hard-links package files from its global store: patching them would change every project's copy.
  if (weriftDir.split(sep).includes('.pnpm')) throw new Error("pnpm layout: its package files are shared between projects; use pnpm's own patching");
  if (dirname(weriftDir).split(sep).pop() !== 'node_modules') throw new Error(`werift is not in a node_modules folder: ${weriftDir}`);
  // The patch's paths start with node_modules/werift/: apply it from the folder above that node_modules.
  const cwd = dirname(dirname(weriftDir));
  const { parsePatchFile } = pkgRequire('patch-package/dist/patch/parse');
  const { reversePatch } = pkgRequire('patch-package/dist/patch/reverse');
  const { executeEffects } = pkgRequire('patch-package/dist/patch/apply');
  const effects = parsePatchFile(readFileSync(join(pkgDir, 'patches', PATCH_FILE), 'utf8'));
  if (applies(executeEffects, effects, cwd)) {
    for (const effect of effects) {
      for (const path of [effect.path, effect.fromPath, effect.toPath].filter(Boolean)) {
        const target = join(cwd, path);
        accessSync(existsSync(target) ? target : dirname(target), constants.W_OK);
      }
    }
    executeEffects(effects, { dryRun: false, cwd });
    return `patched werift ${WERIFT_VERSION} (${weriftDir})`;
  }
  if (applies(executeEffects, reversePatch(effects), cwd)) return `werift ${WERIFT_VERSION} already patched (${weriftDir})`;
  throw new Error(`the patch does not apply to ${weriftDir}`);
}

/** Whether `effects` apply cleanly in `cwd`, checked without writing anything. */
function applies(executeEffects, effects, cwd) {
  try {
    executeEffects(effects, { dryRun: true, cwd });
    return true;
  } catch {
    return false;
  }
}

/** The folder of the werift package that `import 'werift'` from spreed-bot loads. */
function weriftPackageDir() {
  let dir = dirname(pkgRequire.resolve('werift'));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).name === 'werift') return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('werift package.json not found');
    dir = up;
  }
}
