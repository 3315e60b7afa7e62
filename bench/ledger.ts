/**
 * Ledger benchmark: signed transfers submitted through the node's public HTTP API (binary
 * batches to POST /v1/txs) to a real `groundwork node start` process, counted once committed
 * (block events on the WebSocket stream).
 *
 * Options: --accounts N (state size, default 1,000,000), --senders N (default 20,000),
 * --txs N (default 150,000), --batch N (txs per request, default 1,000), --inflight N
 * (concurrent requests, default 4), --block-time MS (default 1000), --keep (keep the home dir).
 *
 * Reported:
 *   transfers_per_s         committed transfers per second, steady state (first to last block with txs)
 *   ed25519_verify_per_s    raw node:crypto verifications per second on one core, same run
 *   ratio                   transfers_per_s / ed25519_verify_per_s
 *   p50/p99_commit_latency_ms  from the request carrying a tx to the block event that commits it
 *   accounts                accounts in state during the run
 */
import { spawn } from 'node:child_process';
import { createPublicKey, generateKeyPairSync, randomBytes, sign, verify } from 'node:crypto';
import { createWriteStream, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { Ed25519Key, encodeAddress } from '../src/core/keys.js';
import { buildTx, type MsgRegistry, type MsgType } from '../src/chain/tx.js';
import { standardModules } from '../src/chain/index.js';
import { initHome } from '../src/devnet/init.js';
import { BIN } from '../src/testkit/proc.js';

function opt(args: string[], name: string, def: number): number {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return def;
  const v = Number(args[i + 1]);
  if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`--${name} needs a non-negative integer`);
  return v;
}

const log = (m: string) => process.stderr.write(`[ledger] ${m}\n`);

/** Raw Ed25519 verifications per second on this thread (one core), pre-imported keys. */
export function measureVerify(ms = 1500): number {
  const keys = Array.from({ length: 64 }, () => generateKeyPairSync('ed25519'));
  const msg = randomBytes(200);
  const sigs = keys.map((k) => sign(null, msg, k.privateKey));
  const pubs = keys.map((k) => createPublicKey(k.privateKey));
  let n = 0;
  const end = performance.now() + ms;
  while (performance.now() < end) {
    for (let i = 0; i < 64; i++) verify(null, msg, pubs[i] as ReturnType<typeof createPublicKey>, sigs[i] as Buffer);
    n += 64;
  }
  return Math.round(n / (ms / 1000));
}

/** CPU seconds of a process: total and its main thread. */
function processCpu(pid: number): { total: number; main: number } {
  let total = 0;
  let main = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const st = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
      const t = (Number(f[11]) + Number(f[12])) / 100;
      total += t;
      if (tid === String(pid)) main = t;
    } catch {
      // thread ended
    }
  }
  return { total, main };
}

/** CPU seconds per thread of a process (diagnostics). */
function threadCpu(pid: number): string {
  const rows: Array<[string, number]> = [];
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const st = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
    rows.push([tid === String(pid) ? 'main' : tid, (Number(f[11]) + Number(f[12])) / 100]);
  }
  return rows.filter(([, v]) => v > 0.2).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k}=${v.toFixed(1)}s`).join(' ');
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

export async function ledgerBench(args: string[]): Promise<Record<string, unknown>> {
  const accounts = opt(args, 'accounts', 1_000_000);
  const senders = Math.min(opt(args, 'senders', 20_000), accounts);
  const txCount = opt(args, 'txs', 150_000);
  const batch = opt(args, 'batch', 1000);
  const inflight = opt(args, 'inflight', 4);
  const blockTime = opt(args, 'block-time', 1000);
  const home = mkdtempSync(join(tmpdir(), 'gw-bench-ledger-'));
  const registry: MsgRegistry = (() => {
    const m = new Map<string, MsgType>();
    for (const mod of standardModules()) for (const h of mod.msgs ?? []) m.set(h.type, h);
    return { msgType: (t: string) => m.get(t) };
  })();

  log(`generating ${senders} sender keys and ${accounts - senders} other accounts`);
  const keys = Array.from({ length: senders }, () => Ed25519Key.generate());
  const others: Uint8Array[] = Array.from({ length: accounts - senders }, () => randomBytes(20));
  const balances: Array<[string, bigint]> = keys.map((k) => [encodeAddress(k.address), 10n ** 15n]);
  for (const a of others) balances.push([encodeAddress(a), 1_000_000n]);
  const chainId = 'bench-ledger';
  const init = initHome({ home, chainId, blockIntervalMs: blockTime, apiPort: 0, extraBalances: balances });
  void init;

  log(`signing ${txCount} transfers`);
  const seqs = new Array<bigint>(senders).fill(0n);
  const txs: Uint8Array[] = new Array(txCount);
  for (let i = 0; i < txCount; i++) {
    const s = i % senders;
    const to = others.length ? (others[(Math.random() * others.length) | 0] as Uint8Array) : (keys[(s + 1) % senders] as Ed25519Key).address;
    txs[i] = buildTx(registry, keys[s] as Ed25519Key, { chainId, sequence: seqs[s]!++, fee: 10_000n, msgs: [{ type: 'bank/send', value: { to, amount: 1n } }] });
  }
  // Binary batches: (u32 length, tx) repeated.
  const bodies: Buffer[] = [];
  for (let i = 0; i < txCount; i += batch) {
    const part = txs.slice(i, i + batch);
    const body = Buffer.allocUnsafe(part.reduce((n, t) => n + 4 + t.length, 0));
    let o = 0;
    for (const t of part) {
      body.writeUInt32BE(t.length, o);
      body.set(t, o + 4);
      o += 4 + t.length;
    }
    bodies.push(body);
  }

  log('measuring raw Ed25519 verification speed (one core)');
  const verifyPerS = measureVerify();

  const startNode = async (flags: string[]) => {
    const node = spawn(process.execPath, ['--max-semi-space-size=64', ...flags, BIN, '--home', home, 'node', 'start', '--api-port', '0', '--log-level', 'warn'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const url = await new Promise<string>((resolve, reject) => {
      const onData = (d: Buffer) => {
        out += d.toString();
        const m = /API (http:\/\/[0-9.]+:[0-9]+)/.exec(out);
        if (m) resolve(m[1] as string);
      };
      node.stdout.on('data', onData);
      node.stderr.on('data', onData);
      node.on('exit', (c) => reject(new Error(`node exited (${c}):\n${out}`)));
    });
    if (process.env.GW_BENCH_NODE_LOG) {
      const f = createWriteStream(process.env.GW_BENCH_NODE_LOG);
      node.stdout.pipe(f);
      node.stderr.pipe(f);
    }
    return { node, url };
  };
  log('initializing the chain (genesis with all accounts)');
  let t0 = performance.now();
  const initial = await startNode([]);
  initial.node.kill("SIGTERM");
  await new Promise((r) => initial.node.once("exit", r));
  log(`genesis written in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  t0 = performance.now();
  const nodeFlags = process.env.GW_BENCH_NODE_FLAGS ? process.env.GW_BENCH_NODE_FLAGS.split(' ') : [];
  const { node, url } = await startNode(nodeFlags);
  log(`node restarted in ${((performance.now() - t0) / 1000).toFixed(1)} s at ${url}`);

  // Commit times per block from the WebSocket stream.
  const blocks: Array<{ at: number; txs: number }> = [];
  const ws = new WebSocket(`${url.replace('http', 'ws')}/v1/ws`);
  await new Promise((r) => ws.once('open', r));
  ws.on('message', (d) => {
    const m = JSON.parse(d.toString()) as { channel?: string; block?: { txCount: number } };
    if (m.channel === 'blocks' && m.block && m.block.txCount > 0) blocks.push({ at: performance.now(), txs: m.block.txCount });
  });
  ws.send(JSON.stringify({ op: 'subscribe', channel: 'blocks' }));
  await new Promise((r) => setTimeout(r, 200));

  log(`submitting ${txCount} txs in ${bodies.length} batches, ${inflight} in flight`);
  const selfCpu0 = process.cpuUsage();
  const nodeCpu0 = processCpu(node.pid as number);
  const sentAt = new Float64Array(bodies.length);
  let rejected = 0;
  let firstError = '';
  let next = 0;
  const worker = async () => {
    while (next < bodies.length) {
      const i = next++;
      sentAt[i] = performance.now();
      const res = await fetch(`${url}/v1/txs`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: bodies[i] as Buffer });
      const r = (await res.json()) as { rejected?: Array<{ code: number; log: string }> };
      for (const x of r.rejected ?? []) {
        rejected++;
        firstError ||= x.log;
      }
      if (rejected > 0) await new Promise((r2) => setTimeout(r2, 50));
    }
  };
  await Promise.all(Array.from({ length: inflight }, worker));
  const accepted = txCount - rejected;
  const deadline = performance.now() + 120_000;
  while (blocks.reduce((n, b) => n + b.txs, 0) < accepted && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  ws.close();
  const nodeCpu1 = processCpu(node.pid as number);
  if (process.env.GW_BENCH_THREADS) {
    const c = process.cpuUsage(selfCpu0);
    log(`node: ${threadCpu(node.pid as number)} | bench client: ${((c.user + c.system) / 1e6).toFixed(1)}s`);
  }
  node.kill('SIGTERM');
  await new Promise((r) => node.once('exit', r));
  if (!args.includes('--keep')) rmSync(home, { recursive: true, force: true });

  const committed = blocks.reduce((n, b) => n + b.txs, 0);
  if (rejected) log(`${rejected} txs rejected, first: ${firstError}`);
  // Steady state: txs of blocks 2..n over the time from block 1 to block n.
  const first = blocks[0];
  const last = blocks[blocks.length - 1];
  const steadyTxs = blocks.slice(1).reduce((n, b) => n + b.txs, 0);
  const transfersPerS = first && last && last.at > first.at ? steadyTxs / ((last.at - first.at) / 1000) : 0;
  // Latency: txs commit in submission order (FIFO mempool, one submitter).
  const lat: number[] = [];
  let k = 0;
  for (const b of blocks) {
    for (let j = 0; j < b.txs; j++, k++) lat.push(b.at - (sentAt[Math.floor(k / batch)] as number));
  }
  lat.sort((a, b) => a - b);
  return {
    bench: 'ledger',
    transfers_per_s: Math.round(transfersPerS),
    ed25519_verify_per_s: verifyPerS,
    ratio: Number((transfersPerS / verifyPerS).toFixed(3)),
    p50_commit_latency_ms: Math.round(percentile(lat, 50)),
    p99_commit_latency_ms: Math.round(percentile(lat, 99)),
    accounts,
    node_cpu_us_per_tx: Math.round(((nodeCpu1.total - nodeCpu0.total) * 1e6) / Math.max(1, committed)),
    node_main_thread_us_per_tx: Math.round(((nodeCpu1.main - nodeCpu0.main) * 1e6) / Math.max(1, committed)),
    txs_committed: committed,
    txs_rejected: rejected,
    blocks: blocks.length,
    block_time_ms: blockTime,
    cores: availableParallelism(),
  };
}
