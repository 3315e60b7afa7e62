import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../testkit/index.js';
import { createPricing, GIB, parseScriptOutput, scalePrice, type ScaleRates } from './pricing.js';
import type { OrderView, SpecView } from './views.js';

/** Whether `pid` runs (a zombie left unreaped by a container's init does not count). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    if (existsSync('/proc/self/stat')) return false;
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }
}

const rates: ScaleRates = { storagePerGiB: 10n, cpuPerCore: 100n, memoryPerGiB: 20n, gpuPerUnit: 5000n, coveragePerGiB: 3n, min: 7n };

function order(spec: SpecView, over: Partial<OrderView> = {}): OrderView {
  return {
    id: '1',
    customer: 'gw1customer',
    kind: spec.type,
    spec,
    replicas: 1,
    region: [],
    attributes: [],
    minReputationBps: 0,
    maxPrice: '100000',
    denom: 'ugw',
    status: 'open',
    closeReason: null,
    createdHeight: '10',
    bidWindowEnd: '20',
    bidCount: 0,
    activeLeases: 0,
    ...over,
  };
}

const storage = (bytes: bigint): SpecView => ({ type: 'storage', value: { bytes: bytes.toString(), durationBlocks: '100' } });
const compute = (cpuCores: number, memoryBytes: bigint, gpuCount: number): SpecView => ({ type: 'compute', value: { cpuCores, memoryBytes: memoryBytes.toString(), gpuModel: gpuCount ? 'h100' : '', gpuCount, durationBlocks: '100' } });
const coverage = (volumeBytes: bigint): SpecView => ({ type: 'coverage', value: { volumeBytes: volumeBytes.toString(), durationBlocks: '100' } });

test('scale pricing: table of specs (bigint math, each partial GiB rounded up, floored at min)', () => {
  const table: Array<[string, SpecView, bigint]> = [
    ['1 GiB storage', storage(GIB), 10n],
    ['1 byte of storage: ceil(10 / 2^30) = 1, then the floor (min 7)', storage(1n), 7n],
    ['1.5 GiB storage: 15', storage(GIB + GIB / 2n), 15n],
    ['1 GiB + 1 byte storage: 10.00…01 rounds up to 11', storage(GIB + 1n), 11n],
    ['0 bytes: the floor (min)', storage(0n), 7n],
    ['1 PiB storage (no float: 2^50 bytes)', storage(1n << 50n), 10n << 20n],
    ['2^64-1 bytes: exact, no overflow', storage((1n << 64n) - 1n), (((1n << 64n) - 1n) * 10n + GIB - 1n) / GIB],
    ['compute 4 cores, 16 GiB, no gpu', compute(4, 16n * GIB, 0), 400n + 320n],
    ['compute 2 cores, 512 MiB (half a GiB → 10), 1 gpu', compute(2, GIB / 2n, 1), 200n + 10n + 5000n],
    ['compute 0 cores, 0 memory: the floor', compute(0, 0n, 0), 7n],
    ['coverage 3 GiB', coverage(3n * GIB), 9n],
    ['coverage 1 byte: ceil(3/2^30) = 1, floored at 7', coverage(1n), 7n],
  ];
  for (const [name, spec, want] of table) assert.equal(scalePrice(spec, rates), want, name);
});

test('fixed and scale strategies price through the common interface', async () => {
  const ctx = { provider: 'gw1me', height: 12n };
  assert.deepEqual(await createPricing({ type: 'fixed', price: 900n }).price(order(storage(GIB)), ctx), { bid: true, price: 900n });
  assert.deepEqual(await createPricing({ type: 'scale', ...rates }).price(order(compute(1, GIB, 0)), ctx), { bid: true, price: 120n });
});

test('script output: a price, "skip [why]", or a bad answer', () => {
  assert.deepEqual(parseScriptOutput('900\n'), { bid: true, price: 900n });
  assert.deepEqual(parseScriptOutput('\n  123  \nignored'), { bid: true, price: 123n });
  assert.deepEqual(parseScriptOutput('skip too small'), { bid: false, reason: 'SCRIPT_SKIP', detail: 'too small' });
  assert.deepEqual(parseScriptOutput('SKIP'), { bid: false, reason: 'SCRIPT_SKIP', detail: 'the script skipped the order' });
  for (const bad of ['', '12.5', '-3', 'abc', '0', '1'.repeat(40)]) {
    const d = parseScriptOutput(bad);
    assert.equal(d.bid, false, bad);
    assert.equal(!d.bid && d.reason, 'SCRIPT_BAD_OUTPUT', bad);
  }
});

test('script pricing: reads the order on stdin and the context in env; errors and timeouts are skip reasons', async () => {
  const d = tempDir('gw-price-script-');
  const ctx = { provider: 'gw1me', height: 33n };
  const script = (name: string, body: string) => {
    const p = join(d.path, name);
    writeFileSync(p, body);
    return p;
  };
  try {
    // A real pricing script: 2 per GiB of the order read from stdin, skipping dc orders.
    const good = script(
      'price.mjs',
      `let s = ''; process.stdin.on('data', (d) => (s += d)); process.stdin.on('end', () => {
         const o = JSON.parse(s);
         if (o.denom === 'dc') { console.log('skip no credits'); return; }
         const gib = (BigInt(o.spec.value.bytes) + (1n << 30n) - 1n) >> 30n;
         console.log(String(gib * 2n + BigInt(process.env.GW_HEIGHT)) + (process.env.GW_PROVIDER === 'gw1me' ? '' : 'x'));
       });`,
    );
    const p = createPricing({ type: 'script', path: good, timeoutMs: 5000 });
    assert.deepEqual(await p.price(order(storage(10n * GIB)), ctx), { bid: true, price: 20n + 33n });
    assert.deepEqual(await p.price(order(storage(GIB), { denom: 'dc' }), ctx), { bid: false, reason: 'SCRIPT_SKIP', detail: 'no credits' });

    const failing = createPricing({ type: 'script', path: script('fail.js', 'console.error("no price list"); process.exit(3);'), timeoutMs: 5000 });
    const f = await failing.price(order(storage(GIB)), ctx);
    assert.equal(f.bid, false);
    assert.equal(!f.bid && f.reason, 'SCRIPT_ERROR');
    assert.match(!f.bid ? f.detail : '', /exited with 3: no price list/);

    const thrown = await createPricing({ type: 'script', path: script('throw.js', 'throw new Error("boom")'), timeoutMs: 5000 }).price(order(storage(GIB)), ctx);
    assert.equal(!thrown.bid && thrown.reason, 'SCRIPT_ERROR');

    const bad = await createPricing({ type: 'script', path: script('bad.js', 'console.log("cheap")'), timeoutMs: 5000 }).price(order(storage(GIB)), ctx);
    assert.equal(!bad.bid && bad.reason, 'SCRIPT_BAD_OUTPUT');

    // A script that hangs (and one that leaves a hanging child) is killed at the limit.
    const pidFile = join(d.path, 'child.pid');
    const hang = script(
      'hang.mjs',
      `import { spawn } from 'node:child_process'; import { writeFileSync } from 'node:fs';
       const c = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'inherit' });
       writeFileSync(${JSON.stringify(pidFile)}, String(c.pid));
       setInterval(() => {}, 1000);`,
    );
    const t0 = Date.now();
    const h = await createPricing({ type: 'script', path: hang, timeoutMs: 300 }).price(order(storage(GIB)), ctx);
    const took = Date.now() - t0;
    assert.equal(!h.bid && h.reason, 'SCRIPT_TIMEOUT');
    assert.match(!h.bid ? h.detail : '', /within 300 ms \(killed\)/);
    assert.ok(took < 3000, `answered in ${took} ms`);
    // The whole process group was killed: the grandchild is gone too.
    assert.ok(existsSync(pidFile));
    const child = Number(readFileSync(pidFile, 'utf8'));
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(running(child), false, "the script's child was killed with it");

    const missing = await createPricing({ type: 'script', path: join(d.path, 'gone.sh'), timeoutMs: 1000 }).price(order(storage(GIB)), ctx);
    assert.equal(!missing.bid && missing.reason, 'SCRIPT_ERROR');
  } finally {
    d.cleanup();
  }
});
