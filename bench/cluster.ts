/**
 * Cluster benchmark: committed transfers/s on a 4-validator CometBFT network on loopback (all
 * validators share this machine, and every validator checks every tx), next to the embedded
 * node measured in the same run with the same state size and the same method of counting.
 *
 * Txs are signed up front and submitted through CometBFT's JSON-RPC (`broadcast_tx_sync`, in
 * JSON-RPC batches) by many independent clients spread over all four nodes, each waiting for
 * CheckTx before its next batch (CometBFT answers a batch one CheckTx at a time, so
 * concurrency comes from many clients, not big batches); they count once in a committed block
 * (`/blockchain` block metas). Throughput runs at saturation; latency is measured at half that
 * rate (submission to the block that commits the tx, block time from `/blockchain`).
 *
 * Options: --validators N (4), --accounts N (10,000 funded senders+recipients), --txs N (30,000),
 * --clients N (concurrent clients, 512), --batch N (most txs per JSON-RPC batch, 250),
 * --window N (most txs sent but not yet committed, 8,000),
 * --block-time D ("1s"),
 * --latency-seconds S (8), --skip-embedded, --keep.
 *
 * Reported: cluster_per_s, embedded_per_s, ratio (cluster ÷ embedded), p50/p99_commit_latency_ms
 * (cluster, at half load), validators, accounts, txs_committed, txs_rejected.
 */
import { execFileSync } from 'node:child_process';
import { Agent, request } from 'node:http';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { toHex } from '../src/core/bytes.js';
import { sha256 } from '../src/core/hash.js';
import { Ed25519Key, encodeAddress } from '../src/core/keys.js';
import { buildTx, type MsgRegistry } from '../src/chain/tx.js';
import { standardRegistry } from '../src/chain/index.js';
import { createTestnet, startValidator, stopTestnet, waitForHeight, type TestnetValidator } from '../src/devnet/testnet.js';
import { ledgerBench } from './ledger.js';
import { numberOption, stringOption } from './args.js';

const log = (m: string) => process.stderr.write(`[cluster] ${m}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const percentile = (sorted: number[], p: number): number => (sorted.length ? (sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number) : 0);

interface BlockMeta {
  header: { height: string; time: string };
  num_txs: string;
}

// The load generator shares the machine with the cluster: plain keep-alive HTTP costs it a
// fraction of what fetch does per request.
const agent = new Agent({ keepAlive: true, maxSockets: 1024 });

function rpcPost(v: TestnetValidator, body: unknown): Promise<unknown> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: v.ports.rpc, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch (e) {
          reject(e);
        }
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}

async function status(v: TestnetValidator): Promise<number> {
  const r = (await (await fetch(`http://127.0.0.1:${v.ports.rpc}/status`)).json()) as { result: { sync_info: { latest_block_height: string } } };
  return Number(r.result.sync_info.latest_block_height);
}

/** Block metas (height, time, tx count) from `from` to `to`, ascending. */
async function blockMetas(v: TestnetValidator, from: number, to: number): Promise<Array<{ height: number; at: number; txs: number }>> {
  const out: Array<{ height: number; at: number; txs: number }> = [];
  for (let hi = to; hi >= from; hi -= 20) {
    const lo = Math.max(from, hi - 19);
    const r = (await (await fetch(`http://127.0.0.1:${v.ports.rpc}/blockchain?minHeight=${lo}&maxHeight=${hi}`)).json()) as { result: { block_metas: BlockMeta[] } };
    for (const m of r.result.block_metas) out.push({ height: Number(m.header.height), at: Date.parse(m.header.time), txs: Number(m.num_txs) });
  }
  return out.sort((a, b) => a.height - b.height);
}

/** CPU seconds (all threads) of every process whose command line mentions `dir`, by kind. */
function cpuByKind(dir: string): { app: number; cometbft: number } {
  const out = { app: 0, cometbft: 0 };
  let pids: string[] = [];
  try {
    pids = execFileSync('pgrep', ['-f', dir], { encoding: 'utf8' }).trim().split('\n');
  } catch {
    return out;
  }
  for (const pid of pids) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      let t = 0;
      for (const tid of readdirSync(`/proc/${pid}/task`)) {
        const st = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
        t += (Number(f[11]) + Number(f[12])) / 100;
      }
      if (cmd.includes('cometbft\0start')) out.cometbft += t;
      else out.app += t;
    } catch {
      // gone
    }
  }
  return out;
}

export async function clusterBench(args: string[]): Promise<Record<string, unknown>> {
  const n = numberOption(args, 'validators', 4);
  const accounts = numberOption(args, 'accounts', 10_000);
  const txCount = numberOption(args, 'txs', 30_000);
  const batch = numberOption(args, 'batch', 250);
  const clientCount = numberOption(args, 'clients', 512);
  const window = numberOption(args, 'window', 8000);
  const latencySeconds = numberOption(args, 'latency-seconds', 8);
  const blockTime = stringOption(args, 'block-time', '1s');
  const registry: MsgRegistry = standardRegistry();

  const senders = Math.max(1, Math.floor(accounts / 2));
  log(`generating ${senders} sender keys`);
  const keys = Array.from({ length: senders }, () => Ed25519Key.generate());
  const recipients = Array.from({ length: accounts - senders }, () => Ed25519Key.generate().address);
  const balances: Array<[string, bigint]> = [...keys.map((k) => [encodeAddress(k.address), 10n ** 15n] as [string, bigint]), ...recipients.map((a) => [encodeAddress(a), 1n] as [string, bigint])];

  const dir = mkdtempSync(join(tmpdir(), 'gw-bench-cluster-'));
  // Below the ephemeral port range (32768+), where outgoing connections could take our ports.
  const basePort = 10_000 + Math.floor(Math.random() * 90) * 100;
  const info = createTestnet({ dir, validators: n, basePort, timeoutCommit: blockTime, extraBalances: balances });
  const chainId = info.chainId;
  const seqs = new Array<bigint>(senders).fill(0n);
  let next = 0;
  const transfer = (): string => {
    const s = next++ % senders;
    const tx = buildTx(registry, keys[s] as Ed25519Key, {
      chainId,
      sequence: seqs[s]!++,
      fee: 10_000n,
      msgs: [{ type: 'bank/send', value: { to: recipients[(Math.random() * recipients.length) | 0] as Uint8Array, amount: 1n } }],
    });
    return `0x${toHex(tx)}`;
  };
  // Independent clients: client c owns the senders s with s % clients == c and always talks to
  // node c % n; it sends one tx per owned sender in a JSON-RPC batch and, once CheckTx accepted
  // them, the next sequence of each. No tx reaches a node before its predecessor, and no client
  // waits for another.
  const clients = Math.min(clientCount, senders);
  log(`signing ${txCount} transfers for ${clients} clients`);
  const queues: Array<{ node: number; batches: string[][] }> = Array.from({ length: clients }, (_, c) => ({ node: c % n, batches: [] }));
  for (let start = 0; start < txCount; start += senders) {
    const round: string[][] = Array.from({ length: clients }, () => []);
    for (let i = start; i < Math.min(txCount, start + senders); i++) (round[i % senders % clients] as string[]).push(transfer());
    round.forEach((txs, c) => {
      for (let i = 0; i < txs.length; i += batch) if (txs.length) queues[c]?.batches.push(txs.slice(i, i + batch));
    });
  }
  const batches = queues.reduce((s, q) => s + q.batches.length, 0);

  let result: Record<string, unknown> = {};
  try {
    log(`starting ${n} validators (app + CometBFT each)`);
    for (const v of info.validators) startValidator(info, v);
    await waitForHeight(info, 2, 120_000);
    const v0 = info.validators[0] as TestnetValidator;
    let rejected = 0;
    let firstError = '';
    const submit = async (b: string[], via: TestnetValidator): Promise<void> => {
      const body = b.map((tx, i) => ({ jsonrpc: '2.0', id: i, method: 'broadcast_tx_sync', params: { tx: Buffer.from(tx.slice(2), 'hex').toString('base64') } }));
      type Reply = Array<{ result?: { code: number; log: string }; error?: { data?: string } }> | { error?: { data?: string; message?: string } };
      let res: Reply | undefined;
      // CometBFT closes keep-alive connections idle for 10 s; a request racing that close is sent
      // again (a tx that did arrive the first time comes back as "already exists in cache").
      for (let attempt = 1; !res; attempt++) {
        try {
          res = (await rpcPost(via, body)) as Reply;
        } catch (e) {
          if (attempt >= 3) throw e;
          await sleep(100);
        }
      }
      if (!Array.isArray(res)) throw new Error(`JSON-RPC batch refused: ${JSON.stringify(res.error)}`);
      for (const r of res) {
        if (r.error?.data?.includes('already exists in cache')) continue;
        if (!r.result || r.result.code !== 0) {
          rejected++;
          firstError ||= r.result?.log ?? r.error?.data ?? 'error';
        }
      }
    };

    // ---- throughput at saturation ----
    const startHeight = await status(v0);
    log(`throughput: ${txCount} txs in ${batches} JSON-RPC batches from ${clients} clients over ${n} nodes`);
    const cpu0 = cpuByKind(dir);
    const client0 = process.cpuUsage();
    // At most `window` txs accepted but not yet committed: the mempool (which every block
    // re-checks) stays the size of a few blocks, as with clients that wait for their txs.
    let sent = 0;
    let committedSoFar = 0;
    let sending = true;
    let waiting: Array<() => void> = [];
    const poller = (async () => {
      let seen = startHeight;
      while (sending) {
        const h = await status(v0);
        if (h > seen) {
          for (const m of await blockMetas(v0, seen + 1, h)) committedSoFar += m.txs;
          seen = h;
          const wake = waiting;
          waiting = [];
          for (const w of wake) w();
        }
        await sleep(100);
      }
    })();
    await Promise.all(
      queues.map(async (q) => {
        for (const b of q.batches) {
          while (sent - committedSoFar - rejected >= window) await new Promise<void>((r) => waiting.push(r));
          sent += b.length;
          await submit(b, info.validators[q.node] as TestnetValidator);
        }
      }),
    );
    sending = false;
    await poller;
    if (rejected) log(`${rejected} txs rejected, first: ${firstError}`);
    const want = txCount - rejected;
    let metas: Array<{ height: number; at: number; txs: number }> = [];
    const deadline = Date.now() + 300_000;
    for (;;) {
      const h = await status(v0);
      metas = await blockMetas(v0, startHeight + 1, h);
      if (metas.reduce((s, m) => s + m.txs, 0) >= want || Date.now() > deadline) break;
      await sleep(500);
    }
    const cpu1 = cpuByKind(dir);
    const client1 = process.cpuUsage(client0);
    const withTxs = metas.filter((m) => m.txs > 0);
    const first = withTxs[0];
    const last = withTxs[withTxs.length - 1];
    const steady = withTxs.slice(1).reduce((s, m) => s + m.txs, 0);
    const clusterPerS = first && last && last.at > first.at ? steady / ((last.at - first.at) / 1000) : 0;
    const committed = withTxs.reduce((s, m) => s + m.txs, 0);
    log(`cluster: ${committed} committed, ${Math.round(clusterPerS)} tx/s; blocks: ${withTxs.map((m) => `${m.txs}@${m.at - (first?.at ?? 0)}`).join(" ")}`);

    // ---- latency at half that rate: from submission to the NewBlock event carrying the tx ----
    const rate = Math.max(50, clusterPerS / 2);
    const perTick = Math.max(1, Math.round(rate / 10));
    const ticks = Math.round(latencySeconds * 10);
    const lbatches = Array.from({ length: ticks }, () => Array.from({ length: perTick }, transfer));
    const sentAt = new Map<string, number>();
    const lat: number[] = [];
    const ws = new WebSocket(`ws://127.0.0.1:${v0.ports.rpc}/websocket`);
    await new Promise((r, j) => {
      ws.once('open', r);
      ws.once('error', j);
    });
    ws.on('message', (d) => {
      const m = JSON.parse(d.toString()) as { result?: { data?: { value?: { block?: { data?: { txs?: string[] } } } } } };
      const txs = m.result?.data?.value?.block?.data?.txs;
      if (!txs) return;
      const now = performance.now();
      for (const t of txs) {
        const at = sentAt.get(toHex(sha256(Buffer.from(t, 'base64'))));
        if (at !== undefined) lat.push(now - at);
      }
    });
    ws.send(JSON.stringify({ jsonrpc: '2.0', method: 'subscribe', id: 1, params: { query: "tm.event='NewBlock'" } }));
    await sleep(300);
    log(`latency: ${Math.round(rate)} tx/s for ${latencySeconds} s`);
    const t0 = performance.now();
    const sends: Promise<void>[] = [];
    for (let i = 0; i < ticks; i++) {
      const wait = t0 + i * 100 - performance.now();
      if (wait > 0) await sleep(wait);
      const now = performance.now();
      for (const tx of lbatches[i] as string[]) sentAt.set(toHex(sha256(Buffer.from(tx.slice(2), 'hex'))), now);
      sends.push(submit(lbatches[i] as string[], info.validators[i % n] as TestnetValidator));
    }
    await Promise.all(sends);
    for (let i = 0; i < 100 && lat.length < sentAt.size - rejected; i++) await sleep(100);
    ws.close();
    lat.sort((a, b) => a - b);
    await stopTestnet(info);

    let embeddedPerS = 0;
    let embeddedRejected = 0;
    if (!args.includes('--skip-embedded')) {
      log('embedded node, same state size and tx count');
      // At most half a round of txs in flight, so no sender's next tx can overtake its previous one.
      const ledgerInflight = String(Math.max(1, Math.floor(senders / 2 / 250)));
      const e = await ledgerBench(['--accounts', String(accounts), '--senders', String(senders), '--txs', String(txCount), '--batch', '250', '--inflight', ledgerInflight, '--latency-seconds', '1']);
      embeddedPerS = Number(e.transfers_per_s);
      embeddedRejected = Number(e.txs_rejected);
    }
    result = {
      bench: 'cluster',
      cluster_per_s: Math.round(clusterPerS),
      embedded_per_s: embeddedPerS,
      embedded_txs_rejected: embeddedRejected,
      ratio: embeddedPerS ? Number((clusterPerS / embeddedPerS).toFixed(3)) : null,
      p50_commit_latency_ms: Math.round(percentile(lat, 50)),
      p99_commit_latency_ms: Math.round(percentile(lat, 99)),
      latency_load_tx_per_s: Math.round(rate),
      validators: n,
      accounts,
      txs_committed: committed,
      txs_rejected: rejected,
      block_time: blockTime,
      app_cpu_us_per_tx: Math.round(((cpu1.app - cpu0.app) * 1e6) / Math.max(1, committed)),
      cometbft_cpu_us_per_tx: Math.round(((cpu1.cometbft - cpu0.cometbft) * 1e6) / Math.max(1, committed)),
      // The load generator shares the machine too.
      client_cpu_us_per_tx: Math.round((client1.user + client1.system) / Math.max(1, committed)),
    };
  } finally {
    agent.destroy();
    await stopTestnet(info);
    if (!args.includes('--keep')) rmSync(dir, { recursive: true, force: true });
  }
  return result;
}
