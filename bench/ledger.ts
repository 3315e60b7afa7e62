/**
 * Ledger benchmark: signed transfers submitted through the node's public HTTP API (binary
 * batches to POST /v1/txs) to a real `groundwork node start` process, counted once committed
 * (block events on the WebSocket stream).
 *
 * Two phases on the same node:
 * 1. throughput: transfers offered as fast as the node takes them (`--inflight` requests of
 *    `--batch` txs in flight), committed transfers/s measured from the first to the last block
 *    that carries them;
 * 2. latency: transfers offered at `--latency-load` (default 50%) of that throughput for
 *    `--latency-seconds`, time from the request carrying a tx to the block event committing it.
 *    (Latency at saturation only measures the queue.)
 *
 * Options: --accounts N (state size, default 1,000,000), --senders N (default 20,000),
 * --txs N (phase 1 transfers, default 120,000), --batch N (default 1,000), --inflight N
 * (default 16), --block-time MS (default 1000), --latency-load F, --latency-seconds S,
 * --keep (keep the home directory).
 *
 * Reported (one JSON line with --json):
 *   transfers_per_s          committed transfers per second, phase 1
 *   ed25519_verify_per_s     raw node:crypto verifications per second on one core, measured
 *                            just before and just after phase 1 (the higher of the two)
 *   ratio                    transfers_per_s / ed25519_verify_per_s
 *   p50/p99_commit_latency_ms  phase 2
 *   accounts                 accounts in state during the run
 *   node_cpu_us_per_tx       CPU time of the node process (all threads) per committed tx, phase 1
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createPublicKey, generateKeyPairSync, randomBytes, sign, verify } from 'node:crypto';
import { createWriteStream, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { Ed25519Key, encodeAddress } from '../src/core/keys.js';
import { buildTx, type MsgRegistry } from '../src/chain/tx.js';
import { standardRegistry } from '../src/chain/index.js';
import { initHome } from '../src/devnet/init.js';
import { BIN } from '../src/testkit/proc.js';
import { encodeTxBatch } from '../src/api/server.js';
import { numberOption } from './args.js';
import { NODE_FLAGS } from '../src/core/nodeflags.js';


const log = (m: string) => process.stderr.write(`[ledger] ${m}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Raw Ed25519 verifications per second on this thread (one core), keys already imported. */
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

/** CPU seconds of a process: all threads, and its main thread. */
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
      // the thread ended
    }
  }
  return { total, main };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}


async function startNode(home: string, flags: string[]): Promise<{ node: ChildProcess; url: string }> {
  const node = spawn(process.execPath, [...NODE_FLAGS, ...flags, BIN, '--home', home, 'node', 'start', '--api-port', '0', '--log-level', 'warn'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /API (http:\/\/[0-9.]+:[0-9]+)/.exec(out);
      if (m) resolve(m[1] as string);
    };
    node.stdout?.on('data', onData);
    node.stderr?.on('data', onData);
    node.on('exit', (c) => reject(new Error(`node exited (${c}):\n${out}`)));
  });
  if (process.env.GW_BENCH_NODE_LOG) {
    const f = createWriteStream(process.env.GW_BENCH_NODE_LOG);
    node.stdout?.pipe(f);
    node.stderr?.pipe(f);
  }
  return { node, url };
}

async function post(url: string, body: Buffer): Promise<{ rejected: number; firstError: string }> {
  const res = await fetch(`${url}/v1/txs`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body });
  const r = (await res.json()) as { rejected?: Array<{ log: string }> };
  return { rejected: r.rejected?.length ?? 0, firstError: r.rejected?.[0]?.log ?? '' };
}

export async function ledgerBench(args: string[]): Promise<Record<string, unknown>> {
  const accounts = numberOption(args, 'accounts', 1_000_000);
  const senders = Math.min(numberOption(args, 'senders', 20_000), accounts);
  const txCount = numberOption(args, 'txs', 120_000);
  const batch = numberOption(args, 'batch', 1000);
  const inflight = numberOption(args, 'inflight', 16);
  const blockTime = numberOption(args, 'block-time', 1000);
  const latencyLoad = numberOption(args, 'latency-load', 0.5);
  const latencySeconds = numberOption(args, 'latency-seconds', 8);
  const home = mkdtempSync(join(tmpdir(), 'gw-bench-ledger-'));
  const registry: MsgRegistry = standardRegistry();
  const chainId = 'bench-ledger';

  log(`generating ${senders} sender keys and ${accounts - senders} other accounts`);
  const keys = Array.from({ length: senders }, () => Ed25519Key.generate());
  const others: Uint8Array[] = Array.from({ length: accounts - senders }, () => randomBytes(20));
  const balances: Array<[string, bigint]> = keys.map((k) => [encodeAddress(k.address), 10n ** 15n]);
  for (const a of others) balances.push([encodeAddress(a), 1_000_000n]);
  initHome({ home, chainId, blockIntervalMs: blockTime, apiPort: 0, extraBalances: balances });

  const seqs = new Array<bigint>(senders).fill(0n);
  let nextSender = 0;
  const transfer = (): Uint8Array => {
    const s = nextSender++ % senders;
    const to = others.length ? (others[(Math.random() * others.length) | 0] as Uint8Array) : (keys[(s + 1) % senders] as Ed25519Key).address;
    return buildTx(registry, keys[s] as Ed25519Key, { chainId, sequence: seqs[s]!++, fee: 10_000n, msgs: [{ type: 'bank/send', value: { to, amount: 1n } }] });
  };
  log(`signing ${txCount} transfers for the throughput phase`);
  const bodies: Buffer[] = [];
  for (let i = 0; i < txCount; i += batch) bodies.push(encodeTxBatch(Array.from({ length: Math.min(batch, txCount - i) }, transfer)));

  log('initializing the chain (genesis with all accounts)');
  let t0 = performance.now();
  const initial = await startNode(home, []);
  initial.node.kill('SIGTERM');
  await new Promise((r) => initial.node.once('exit', r));
  log(`genesis written in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  t0 = performance.now();
  const { node, url } = await startNode(home, process.env.GW_BENCH_NODE_FLAGS ? process.env.GW_BENCH_NODE_FLAGS.split(' ') : []);
  log(`node restarted in ${((performance.now() - t0) / 1000).toFixed(1)} s at ${url}`);

  // Block events (arrival time, tx count) from the WebSocket stream.
  const blocks: Array<{ at: number; txs: number }> = [];
  const ws = new WebSocket(`${url.replace('http', 'ws')}/v1/ws`);
  await new Promise((r) => ws.once('open', r));
  ws.on('message', (d) => {
    const m = JSON.parse(d.toString()) as { channel?: string; block?: { txCount: number } };
    if (m.channel === 'blocks' && m.block && m.block.txCount > 0) blocks.push({ at: performance.now(), txs: m.block.txCount });
  });
  ws.send(JSON.stringify({ op: 'subscribe', channel: 'blocks' }));
  await sleep(200);
  const committedSoFar = () => blocks.reduce((n, b) => n + b.txs, 0);
  const waitCommitted = async (n: number) => {
    const deadline = performance.now() + 180_000;
    while (committedSoFar() < n && performance.now() < deadline) await sleep(20);
  };

  // Raw Ed25519 speed on one core, measured right before and right after phase 1 (the node is
  // idle then); the higher figure is used, so a slow moment of this shared machine can only
  // lower the ratio, never raise it.
  log('measuring raw Ed25519 verification speed (one core)');
  const verifyBefore = measureVerify();

  // ---- phase 1: throughput ----
  log(`phase 1: ${txCount} txs in ${bodies.length} batches, ${inflight} requests in flight`);
  const cpu0 = processCpu(node.pid as number);
  let rejected = 0;
  let firstError = '';
  let next = 0;
  await Promise.all(
    Array.from({ length: inflight }, async () => {
      while (next < bodies.length) {
        const r = await post(url, bodies[next++] as Buffer);
        rejected += r.rejected;
        firstError ||= r.firstError;
      }
    }),
  );
  await waitCommitted(txCount - rejected);
  const cpu1 = processCpu(node.pid as number);
  const phase1 = blocks.splice(0);
  const committed1 = phase1.reduce((n, b) => n + b.txs, 0);
  const first = phase1[0];
  const last = phase1[phase1.length - 1];
  const steadyTxs = phase1.slice(1).reduce((n, b) => n + b.txs, 0);
  const transfersPerS = first && last && last.at > first.at ? steadyTxs / ((last.at - first.at) / 1000) : 0;
  if (rejected) log(`${rejected} txs rejected, first: ${firstError}`);
  const verifyPerS = Math.max(verifyBefore, measureVerify());

  // ---- phase 2: latency at a sustainable load ----
  const rate = Math.max(100, transfersPerS * latencyLoad);
  const perTick = Math.max(1, Math.round(rate / 20)); // 20 requests per second
  const ticks = Math.round(latencySeconds * 20);
  log(`phase 2: ${Math.round(rate)} tx/s for ${latencySeconds} s (${perTick} txs every 50 ms)`);
  const p2bodies = Array.from({ length: ticks }, () => encodeTxBatch(Array.from({ length: perTick }, transfer)));
  const sentAt: number[] = [];
  const start2 = performance.now();
  const sends: Promise<unknown>[] = [];
  for (let i = 0; i < ticks; i++) {
    const due = start2 + i * 50;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    sentAt.push(performance.now());
    sends.push(post(url, p2bodies[i] as Buffer));
  }
  await Promise.all(sends);
  await waitCommitted(ticks * perTick);
  ws.close();
  const lat: number[] = [];
  let k = 0;
  // FIFO mempool and one submitter: txs commit in the order they were sent.
  for (const b of blocks) for (let j = 0; j < b.txs; j++, k++) lat.push(b.at - (sentAt[Math.floor(k / perTick)] as number));
  lat.sort((a, b) => a - b);

  node.kill('SIGTERM');
  await new Promise((r) => node.once('exit', r));
  if (!args.includes('--keep')) rmSync(home, { recursive: true, force: true });

  return {
    bench: 'ledger',
    transfers_per_s: Math.round(transfersPerS),
    ed25519_verify_per_s: verifyPerS,
    ratio: Number((transfersPerS / verifyPerS).toFixed(3)),
    p50_commit_latency_ms: Math.round(percentile(lat, 50)),
    p99_commit_latency_ms: Math.round(percentile(lat, 99)),
    latency_load_tx_per_s: Math.round(rate),
    accounts,
    node_cpu_us_per_tx: Math.round(((cpu1.total - cpu0.total) * 1e6) / Math.max(1, committed1)),
    node_main_thread_us_per_tx: Math.round(((cpu1.main - cpu0.main) * 1e6) / Math.max(1, committed1)),
    txs_committed: committed1 + lat.length,
    txs_rejected: rejected,
    block_time_ms: blockTime,
    cores: availableParallelism(),
  };
}
