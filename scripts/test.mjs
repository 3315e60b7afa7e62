#!/usr/bin/env node
// The test suite: lint, import layering, then every test file under dist/ (unit tests beside
// the code, integration tests in test/). `npm test -- <pattern>` runs only files whose path
// contains <pattern>; `--no-lint` skips the static checks.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const noLint = args.includes('--no-lint');
const patterns = args.filter((a) => !a.startsWith('--'));

function step(what, cmd, argv) {
  process.stderr.write(`\n== ${what}\n`);
  const r = spawnSync(cmd, argv, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    process.stderr.write(`\n${what} failed\n`);
    process.exit(r.status ?? 1);
  }
}

function walk(dir) {
  const out = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (p.endsWith('.test.js')) out.push(p);
  }
  return out;
}

if (!noLint && patterns.length === 0) {
  step('lint', process.execPath, [join(root, 'node_modules', 'eslint', 'bin', 'eslint.js'), '--max-warnings=0', '.']);
  step('import layering', process.execPath, [join(root, 'scripts', 'check-imports.mjs')]);
}

const files = [...walk(join(root, 'dist', 'src')), ...walk(join(root, 'dist', 'test'))]
  .map((f) => relative(root, f))
  .filter((f) => patterns.length === 0 || patterns.some((p) => f.includes(p)))
  .sort();
if (files.length === 0) {
  process.stderr.write(`no test files match ${patterns.join(', ')}\n`);
  process.exit(1);
}
step(`tests (${files.length} files)`, process.execPath, [
  '--test',
  `--test-concurrency=${Math.max(2, availableParallelism())}`,
  '--test-timeout=600000',
  ...files,
]);
