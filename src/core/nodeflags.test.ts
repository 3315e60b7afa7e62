import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { NODE_FLAGS } from './nodeflags.js';

// dist/src/core/ → the package root.
const root = fileURLToPath(new URL('../../../', import.meta.url));

test('NODE_FLAGS: bin/groundwork.js, `npm start` and `npm run bench` (whose client work is a CLI command\'s) run with exactly these flags', () => {
  const shebang = readFileSync(`${root}bin/groundwork.js`, 'utf8').split('\n')[0];
  assert.equal(shebang, `#!/usr/bin/env -S node ${NODE_FLAGS.join(' ')}`);
  const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { scripts: Record<string, string> };
  assert.equal(pkg.scripts.start, `node ${NODE_FLAGS.join(' ')} bin/groundwork.js devnet start`);
  assert.ok(pkg.scripts.bench?.endsWith(`&& node ${NODE_FLAGS.join(' ')} dist/bench/main.js`), pkg.scripts.bench);
});
