#!/usr/bin/env node
// Checks the import graph of src/: the layering in ARCHITECTURE.md (a layer imports only the
// layers below it) and the absence of import cycles. Exits 1 with each violation listed.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const src = join(root, 'src');

/** layer → layers it may import (besides itself). */
const allowed = {
  core: [],
  state: ['core'],
  chain: ['core', 'state'],
  verify: ['core', 'state', 'chain'],
  node: ['core', 'state', 'chain', 'verify', 'version'],
  api: ['core', 'state', 'chain', 'verify', 'node', 'version'],
  client: ['core', 'state', 'chain', 'verify', 'node', 'version'],
  storage: ['core', 'state', 'chain', 'verify', 'client', 'version'],
  provider: ['core', 'state', 'chain', 'verify', 'client', 'storage', 'version'],
  devnet: ['core', 'state', 'chain', 'verify', 'node', 'api', 'client', 'storage', 'provider', 'version'],
  cli: ['core', 'state', 'chain', 'verify', 'node', 'api', 'client', 'storage', 'provider', 'devnet', 'version'],
  testkit: ['core', 'state', 'chain', 'verify', 'node', 'api', 'client', 'storage', 'provider', 'devnet', 'version'],
  version: [],
};
// The client may use the node's block format (pure codecs), nothing else from node.
const exceptions = [['client', 'node/block.ts']];

function walk(dir) {
  const out = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

const files = walk(src);
const graph = new Map();
const problems = [];
const layerOf = (f) => relative(src, f).split('/')[0].replace(/\.ts$/, '');
const IMPORT_RE = /(?:^|[\n;])\s*(?:import|export)\s[^;]*?from\s+'([^']+)'|import\(\s*'([^']+)'\s*\)/g;

for (const f of files) {
  const text = readFileSync(f, 'utf8');
  const deps = [];
  for (const m of text.matchAll(IMPORT_RE)) {
    const spec = m[1] ?? m[2];
    if (!spec.startsWith('.')) continue;
    const target = resolve(dirname(f), spec).replace(/\.js$/, '.ts');
    deps.push(target);
    const isTest = f.endsWith('.test.ts');
    const from = layerOf(f);
    const to = layerOf(target);
    if (isTest || from === to) continue;
    const ok = (allowed[from] ?? []).includes(to) || exceptions.some(([l, p]) => l === from && relative(src, target) === p);
    if (!ok) problems.push(`layering: ${relative(root, f)} (${from}) imports ${relative(root, target)} (${to})`);
  }
  graph.set(f, deps);
}

// Cycle detection (iterative DFS with colors), type-only imports included: a cycle of types
// is still a design knot.
const color = new Map();
const stack = [];
function dfs(f) {
  color.set(f, 1);
  stack.push(f);
  for (const d of graph.get(f) ?? []) {
    if (!graph.has(d)) continue;
    if (color.get(d) === 1) {
      const cyc = stack.slice(stack.indexOf(d)).concat(d).map((x) => relative(root, x));
      problems.push(`cycle: ${cyc.join(' → ')}`);
    } else if (!color.get(d)) dfs(d);
  }
  stack.pop();
  color.set(f, 2);
}
for (const f of files) if (!color.get(f)) dfs(f);

if (problems.length) {
  for (const p of problems) console.error(p);
  console.error(`\n${problems.length} import problem(s); see the layering table in ARCHITECTURE.md`);
  process.exit(1);
}
console.error(`imports ok: ${files.length} files, layering respected, no cycles`);
