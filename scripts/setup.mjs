#!/usr/bin/env node
// Makes a checkout ready to run: right Node version, npm dependencies installed (and current
// with package-lock.json), TypeScript built. Every step is skipped when already done, so
// `npm start` / `npm test` can run it every time. Output goes to stderr (stdout stays clean for
// `npm run bench -- <name> --json`).
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const quiet = process.argv.includes('--quiet');
const log = (m) => {
  if (!quiet) process.stderr.write(`[setup] ${m}\n`);
};
const fail = (m) => {
  process.stderr.write(`[setup] error: ${m}\n`);
  process.exit(1);
};

function run(cmd, args, what) {
  log(`${what}: ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], env: process.env });
  if (r.status !== 0) fail(`${what} failed (exit ${r.status ?? r.signal})`);
}

// 1. Node.js
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 19)) fail(`Node.js >= 20.19 is required, this is ${process.versions.node}`);

// 2. npm dependencies, reinstalled when package-lock.json changes.
const lock = join(root, 'package-lock.json');
const stamp = join(root, 'node_modules', '.groundwork-deps');
const lockHash = createHash('sha256').update(readFileSync(existsSync(lock) ? lock : join(root, 'package.json'))).digest('hex');
if (!existsSync(stamp) || readFileSync(stamp, 'utf8') !== lockHash) {
  // `npm install`, not `npm ci`: the lock file lacks optional native packages for other
  // platforms that some registry mirrors do not carry, which `npm ci` treats as an error.
  // With an up-to-date lock file `npm install` installs exactly the locked versions.
  run('npm', ['install', '--no-audit', '--no-fund'], 'installing npm dependencies');
  writeFileSync(stamp, lockHash);
} else log('npm dependencies up to date');

// 2b. The optional native storage kernels (native/kernels), rebuilt when their source is newer
// than their build (npm builds them at install only). Optional: where they cannot be built,
// storage hashes and encrypts through node:crypto, more slowly, and this says so.
{
  const dir = join(root, 'native', 'kernels');
  const built = join(dir, 'build', 'Release', 'kernels.node');
  const source = Math.max(...['kernels.c', 'binding.gyp'].map((f) => statSync(join(dir, f)).mtimeMs));
  if (!existsSync(built) || statSync(built).mtimeMs < source) {
    log('building the native storage kernels: npm rebuild @groundwork/kernels');
    const r = spawnSync('npm', ['rebuild', '@groundwork/kernels'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'], env: process.env });
    if (r.status !== 0 || !existsSync(built)) log('warning: the native storage kernels did not build (a C toolchain and node-gyp are needed); storage falls back to node:crypto');
  }
}

// 3. TypeScript build, when any source is newer than the last build.
function newest(dir) {
  let t = 0;
  if (!existsSync(dir)) return t;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}
const buildStamp = join(root, 'dist', '.build-stamp');
const srcTime = Math.max(newest(join(root, 'src')), newest(join(root, 'test')), newest(join(root, 'bench')), statSync(join(root, 'tsconfig.json')).mtimeMs);
if (!existsSync(buildStamp) || statSync(buildStamp).mtimeMs < srcTime) {
  run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], 'building');
  writeFileSync(buildStamp, new Date().toISOString());
} else log('build up to date');

// 4. CometBFT (multi-validator networks and their tests), from the Go module proxy. `npm start`
// (one embedded node) does not need it: --no-cometbft skips this step; commands that need it
// install it on first use anyway.
if (!process.argv.includes('--no-cometbft')) {
  try {
    const { ensureCometbft } = await import('./cometbft.mjs');
    log(`CometBFT ready: ${ensureCometbft(log)}`);
  } catch (e) {
    fail(e.message);
  }
}
