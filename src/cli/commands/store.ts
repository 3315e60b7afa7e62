/**
 * `groundwork store ...`: a customer's files on the network. `put` encrypts and erasure-codes a
 * file, buys k + m storage leases through the market, uploads one shard to each provider and
 * records the deal on chain (storage/put.ts); `get` fetches any k shards back and decodes them
 * (storage/get.ts); `repair` rebuilds a deal's lost shards from healthy ones onto new leases
 * (storage/repair.ts); `ls`, `status` and `rm` show and end deals.
 *
 * The manifest of every file stored from a home — its layout, shard roots and the file key —
 * is `<home>/store/<order>.json`, mode 0600: without it the file cannot be decrypted, so it is
 * written before anything else is printed and is kept by `rm` unless `--forget` is given.
 * Progress bars go to stderr when it is a terminal and --json is not given; notes go to stderr,
 * results to stdout.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { formatAmount } from '../../core/amount.js';
import { toHex } from '../../core/bytes.js';
import { errorMessage, GroundworkError, InvalidInputError } from '../../core/errors.js';
import { encodeAddress, type Signer } from '../../core/keys.js';
import { closeDeal } from '../../client/actions/closeDeal.js';
import { closeOrder } from '../../client/actions/closeOrder.js';
import { getDeal } from '../../client/actions/getDeal.js';
import { getOrder } from '../../client/actions/getOrder.js';
import { getProvider } from '../../client/actions/getProvider.js';
import { previewSettlement } from '../../client/actions/previewSettlement.js';
import type { Client } from '../../client/client.js';
import type { StorageDeal } from '../../client/storageViews.js';
import { FileWriter } from '../../core/directio.js';
import type { ByteSink } from '../../storage/decode.js';
import { checkManifestAgainstDeal, getFile } from '../../storage/get.js';
import { fetchPiece } from '../../storage/http.js';
import { formatManifest, MAX_DATA_SHARDS, MAX_PARITY_SHARDS, parseManifest, type Manifest } from '../../storage/layout.js';
import { putFile, statInput, type PutStatus } from '../../storage/put.js';
import { repairDeal, RepairError, type RepairStatus } from '../../storage/repair.js';
import { Cli, parseIntArg, readPassphrase } from '../context.js';
import { formatBytes } from './device.js';
import { formatIn, parseBlocks, parseDenom, parseDenomAmount, parseId, parsePrice } from './market.js';

// ---------------------------------------------------------------------------------------------
// Manifests in <home>/store

/** Who and where, saved beside the manifest (the manifest itself is the storage contract's). */
export interface StoreMeta {
  order: string;
  chainId: string;
  customer: string;
  /** Height of the deal's tx. */
  height: string;
  storedAt: string;
  /** The path the file was stored from. */
  source: string;
}

export interface StoreRecord {
  manifest: Manifest;
  meta: StoreMeta | undefined;
  path: string;
}

export const storeDir = (home: string): string => join(home, 'store');
export const manifestPath = (home: string, order: bigint): string => join(storeDir(home), `${order}.json`);

/** Writes the manifest and its meta atomically, readable by the owner only (it holds the file key). */
export function saveRecord(home: string, order: bigint, manifest: Manifest, meta: StoreMeta): string {
  const dir = storeDir(home);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = manifestPath(home, order);
  const tmp = `${path}.tmp-${process.pid}`;
  const body = { ...(JSON.parse(formatManifest(manifest)) as Record<string, unknown>), deal: meta };
  writeFileSync(tmp, `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, path);
  return path;
}

export function readRecord(path: string): StoreRecord {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new InvalidInputError('INVALID_MANIFEST', `${path} is not a manifest (not JSON): ${errorMessage(e)}`, { cause: e });
  }
  let manifest: Manifest;
  try {
    manifest = parseManifest(raw);
  } catch (e) {
    throw new InvalidInputError('INVALID_MANIFEST', `${path}: ${errorMessage(e)}`, { cause: e });
  }
  const d = (raw as { deal?: unknown }).deal;
  const meta = typeof d === 'object' && d !== null && typeof (d as StoreMeta).order === 'string' ? (d as StoreMeta) : undefined;
  return { manifest, meta, path };
}

/** The record of `order`: from --manifest, else <home>/store/<order>.json; undefined when neither exists (and none was named). */
function findRecord(home: string, order: bigint, file?: string): StoreRecord | undefined {
  if (file !== undefined) {
    if (!existsSync(file)) throw new InvalidInputError('FILE_NOT_FOUND', `--manifest ${file} does not exist`);
    return readRecord(file);
  }
  const path = manifestPath(home, order);
  return existsSync(path) ? readRecord(path) : undefined;
}

function requireRecord(home: string, order: bigint, file?: string): StoreRecord {
  const r = findRecord(home, order, file);
  if (!r) {
    throw new InvalidInputError(
      'NO_MANIFEST',
      `no manifest for order ${order} in ${storeDir(home)}: the file key is only in the manifest "store put" wrote on the machine that stored it; copy that ${order}.json into ${storeDir(home)} or pass --manifest <file> (see "groundwork store ls")`,
    );
  }
  return r;
}

function listRecords(home: string): StoreRecord[] {
  const dir = storeDir(home);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => /^[0-9]+\.json$/.test(f))
    .sort((a, b) => Number(a.slice(0, -5)) - Number(b.slice(0, -5)))
    .map((f) => readRecord(join(dir, f)));
}

/** A manifest saved on another chain is not this deal's (order ids repeat across chains). */
async function requireSameChain(client: Client, rec: StoreRecord | undefined): Promise<void> {
  if (!rec?.meta) return;
  const { chainId } = (await client.trust()).genesis;
  if (rec.meta.chainId !== chainId) {
    throw new InvalidInputError('WRONG_CHAIN', `${rec.path} is a file stored on chain "${rec.meta.chainId}", but the node at ${client.url} runs "${chainId}": pass --node <url> of that chain`);
  }
}

// ---------------------------------------------------------------------------------------------
// Arguments, signer, progress

/** k (data shards): 1 to 24, the Reed-Solomon library's bound. */
export function parseK(v: string): number {
  const n = Number(v);
  if (!/^[0-9]+$/.test(v.trim()) || n < 1 || n > MAX_DATA_SHARDS) {
    throw new InvalidInputError('INVALID_ERASURE_CODE', `--k (data shards) must be a whole number from 1 to ${MAX_DATA_SHARDS}, got "${v}"`);
  }
  return n;
}

/** m (parity shards): 0 to 6, the Reed-Solomon library's bound. */
export function parseM(v: string): number {
  const n = Number(v);
  if (!/^[0-9]+$/.test(v.trim()) || n > MAX_PARITY_SHARDS) {
    throw new InvalidInputError('INVALID_ERASURE_CODE', `--m (parity shards) must be a whole number from 0 to ${MAX_PARITY_SHARDS}, got "${v}"`);
  }
  return n;
}

interface KeyOpts {
  key?: string;
  passphraseFile?: string;
}

/**
 * The signing key: --key, else the keyring's key of `customer` (the deal's owner), else the
 * keyring's only key.
 */
async function signerFor(cli: Cli, opts: KeyOpts, customer?: string): Promise<Signer> {
  const kr = cli.keyring();
  let name = opts.key;
  if (name === undefined) {
    const keys = kr.list();
    const own = customer === undefined ? undefined : keys.find((k) => k.address === customer);
    if (own) name = own.name;
    else if (customer !== undefined) {
      throw new InvalidInputError('KEY_REQUIRED', `the deal belongs to ${customer}, whose key is not in ${kr.dir}: pass --key <name> of that account`);
    } else if (keys.length === 1) name = (keys[0] as (typeof keys)[number]).name;
    else {
      throw new InvalidInputError('KEY_REQUIRED', `--key <name> is required: the key that pays for the storage (${keys.length ? `keys here: ${keys.map((k) => k.name).join(', ')}` : 'there are none yet: groundwork keys add <name>'})`);
    }
  }
  const passphrase = kr.needsPassphrase(name) ? await readPassphrase(opts, `Passphrase of "${name}":`) : undefined;
  return kr.signer(name, passphrase);
}

interface ByteBar {
  update(done: number, total: number): void;
  stop(): void;
}

/** A progress bar in bytes on stderr (only on a terminal, never with --json). */
function byteBar(cli: Cli, label: string): ByteBar | undefined {
  if (cli.json || !process.stderr.isTTY) return undefined;
  const bar = new cliProgress.SingleBar(
    { format: `${label.padEnd(9)} [{bar}] {percentage}% | {doneText} of {totalText} | ETA {eta_formatted}`, stream: process.stderr, hideCursor: true, etaBuffer: 50 },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(done, total) {
      const payload = { doneText: formatBytes(BigInt(done)), totalText: formatBytes(BigInt(total)) };
      if (!started) {
        bar.start(Math.max(total, 1), done, payload);
        started = true;
      } else bar.update(done, payload);
    },
    stop() {
      if (started) bar.stop();
      started = false;
    },
  };
}

const code = (k: number, m: number) => `${k}+${m}`;

// ---------------------------------------------------------------------------------------------
// JSON views

function dealJSON(d: StorageDeal) {
  return {
    order: d.order,
    customer: d.customer,
    status: d.status,
    size: d.size,
    k: d.k,
    m: d.m,
    pieceSize: d.pieceSize,
    segments: d.segments,
    shardBytes: d.shardBytes,
    createdHeight: d.createdHeight,
    endedHeight: d.endedHeight,
    reserve: d.reserve,
    repairs: d.repairs,
    shards: d.shards.map((s) => ({ index: s.index, lease: s.lease, provider: s.provider, device: s.device, root: toHex(s.root), status: s.status, proofs: s.proofs, misses: s.misses, retrievalFails: s.retrievalFails, statusHeight: s.statusHeight })),
  };
}

const activeShards = (d: StorageDeal) => d.shards.filter((s) => s.status === 'active').length;

function health(d: StorageDeal): string {
  if (d.status === 'ended') return `ended at height ${d.endedHeight}`;
  const a = activeShards(d);
  const n = d.k + d.m;
  // The chain's view: a provider down since the last challenge period still counts (see --probe).
  if (a === n) return `healthy: all ${n} shards active on chain`;
  if (a >= d.k) return `degraded: ${a} of ${n} shards active on chain (any ${d.k} rebuild the file; lost ones await repair)`;
  return `at risk: only ${a} of ${n} shards active on chain, ${d.k} are needed to rebuild the file`;
}

/**
 * Per shard of `deal`: 'ok' when its provider serves its first piece and the piece verifies
 * against the root, else the failure's code (PROVIDER_UNREACHABLE, SHARD_NOT_FOUND, ...), or
 * null when the shard is not active (not asked).
 */
async function probeShards(client: Client, deal: StorageDeal): Promise<(string | null)[]> {
  const hosts = new Map<string, Promise<string | null>>();
  const host = (p: string) => {
    if (!hosts.has(p)) hosts.set(p, getProvider(client, { address: p }).then((r) => r?.hostUri ?? null));
    return hosts.get(p) as Promise<string | null>;
  };
  return Promise.all(
    deal.shards.map(async (s) => {
      if (s.status !== 'active') return null;
      const uri = await host(s.provider);
      if (uri === null) return 'PROVIDER_NOT_REGISTERED';
      try {
        await fetchPiece(uri, s.root, 0, { pieces: Number(deal.segments), pieceSize: deal.pieceSize, timeoutMs: 5_000 });
        return 'ok';
      } catch (e) {
        return e instanceof GroundworkError ? e.code : 'ERROR';
      }
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// store

interface PutOpts extends KeyOpts {
  k: string;
  m: string;
  duration?: string;
  maxPrice?: string;
  bidWindow: string;
  deposit?: string;
  denom: string;
  name?: string;
}

export function storeCommand(program: Command): void {
  const store = program
    .command('store')
    .description('store files on the network (encrypted, erasure-coded over k + m providers), get them back, list, check and end deals')
    .addHelpText(
      'after',
      `
Examples:
  groundwork store put photos.tar --key alice --duration 100000 --max-price 1000ugw
  groundwork store put big.iso --key alice --k 10 --m 4 --duration 500000 --max-price 0.002gw
  groundwork store ls
  groundwork store status 12
  groundwork store repair 12        (rebuilds lost shards onto new providers)
  groundwork store get 12 -o photos.tar
  groundwork store rm 12            (ends the deal; the manifest stays unless --forget)

Every file's manifest, with its encryption key, is saved as <home>/store/<order>.json (mode
0600). Without it the file cannot be read back: back it up.`,
    );

  store
    .command('put <file>')
    .description('store a file: encrypt and erasure-code it, lease k + m providers through the market, upload a shard to each, record the deal')
    .option('--key <name>', 'the key that pays and owns the deal (default: the only key in the keyring)')
    .option('--k <n>', `data shards: any k of the k + m rebuild the file (1-${MAX_DATA_SHARDS})`, '4')
    .option('--m <n>', `parity shards: the file survives m providers lost (0-${MAX_PARITY_SHARDS})`, '2')
    .option('--duration <blocks>', 'how long the providers keep it, in blocks (required)')
    .option('--max-price <amount>', 'highest price per block per provider, e.g. 1000ugw or 0.001gw, or a whole number of DC with --denom dc (required)')
    .option('--denom <denom>', 'pay in tokens (ugw) or Data Credits (dc: escrowed, burned as the providers\' storage work once their proofs verify)', 'ugw')
    .option('--bid-window <blocks>', 'blocks the order takes bids before the cheapest win', '10')
    .option('--deposit <amount>', 'escrow funded now (default: the whole duration at the max price for every provider)')
    .option('--name <name>', "name recorded in the manifest (default: the file's name)")
    .option('--passphrase-file <file>', 'file holding the passphrase of --key')
    .addHelpText(
      'after',
      `
Examples:
  groundwork store put report.pdf --key alice --duration 100000 --max-price 1000ugw
  groundwork store put backup.tgz --key alice --k 2 --m 1 --duration 20000 --max-price 0.001gw --bid-window 5

The file is read twice (its shard roots while the providers bid, then the upload), streamed
both times: files larger than memory work. k + m providers must bid at most --max-price, or the order is closed again and its
escrow refunded. Besides the escrow, the deal holds a repair reserve (storage.repairFee × m).`,
    )
    .action(async (file: string, opts: PutOpts, cmd: Command) => {
      const cli = new Cli(cmd);
      const k = parseK(opts.k);
      const m = parseM(opts.m);
      if (opts.duration === undefined) throw new InvalidInputError('INVALID_ARGUMENT', '--duration <blocks> is required: how long the providers keep the file, e.g. --duration 100000');
      if (opts.maxPrice === undefined) throw new InvalidInputError('INVALID_ARGUMENT', '--max-price <amount> is required: the most you pay per block per provider, e.g. --max-price 1000ugw');
      const durationBlocks = parseBlocks(opts.duration, '--duration');
      const denom = parseDenom(opts.denom);
      const maxPrice = parsePrice(opts.maxPrice, denom, '--max-price');
      const bidWindowBlocks = parseBlocks(opts.bidWindow, '--bid-window');
      const deposit = opts.deposit === undefined ? undefined : parseDenomAmount(opts.deposit, denom, '--deposit');
      const n = BigInt(k + m);
      if (deposit !== undefined && deposit < maxPrice * n) {
        throw new InvalidInputError('market.INSUFFICIENT_DEPOSIT', `--deposit ${formatIn(deposit, denom)} does not cover one block of every lease: at least ${formatIn(maxPrice * n, denom)} (max price × ${k + m} providers)`);
      }
      const path = resolve(file);
      // The file first: a typo costs nothing, not even a passphrase prompt.
      await statInput(path);
      const signer = await signerFor(cli, opts);
      const client = cli.client();

      let bar: ByteBar | undefined;
      let barPhase: string | undefined;
      let lastBids = -1;
      const onStatus = (s: PutStatus): void => {
        switch (s.type) {
          case 'hashed':
            bar?.stop();
            bar = undefined;
            cli.note(`hashed ${s.manifest.name} (${formatBytes(BigInt(s.manifest.size))}): ${code(s.manifest.k, s.manifest.m)} shards of ${formatBytes(BigInt(s.manifest.shardBytes))}`);
            break;
          case 'order-created':
            cli.note(`order ${s.order} created (escrow ${formatIn(s.deposit, denom)}, fee ${formatAmount(s.fee)}); bids until the end of block ${s.bidWindowEnd}`);
            break;
          case 'bidding':
            // Quiet while the hashing bar runs (it would break its line); the count shows after.
            if (s.bids !== lastBids && !bar) {
              cli.note(`  ${s.bids} bid(s) at height ${s.height}; the window closes at ${s.bidWindowEnd}`);
              lastBids = s.bids;
            }
            break;
          case 'matched':
            cli.note(`matched: ${s.leases.length} leases (${s.leases.map((l) => `shard ${l.shard} → lease ${l.lease}`).join(', ')}); uploading`);
            break;
          case 'shard-uploaded':
            if (!bar) cli.note(`  shard ${s.shard} stored by ${s.provider} (lease ${s.lease})`);
            break;
          case 'shard-replaced':
            bar?.stop();
            bar = undefined;
            barPhase = undefined; // the replaced shards' upload gets a bar of its own
            cli.note(`  shard ${s.shard}: ${s.from.provider} failed (${s.reason}); lease ${s.from.lease} closed, the shard goes to ${s.to.provider} (lease ${s.to.lease}, a losing bid taken instead)`);
            break;
          case 'deal-created':
            bar?.stop();
            bar = undefined;
            cli.note(`deal ${s.order} recorded at height ${s.height}`);
            break;
          case 'order-closed':
            // The error that follows says so.
            bar?.stop();
            bar = undefined;
            break;
        }
      };
      // Ctrl-C stops the put and closes its order (escrow back); a second one quits at once.
      const ctl = new AbortController();
      let interrupts = 0;
      const onSignal = (): void => {
        if (++interrupts > 1) process.exit(130);
        bar?.stop();
        bar = undefined;
        cli.note('interrupted: stopping, and closing the order if one was made (Ctrl-C again quits at once)');
        ctl.abort(new GroundworkError('INTERRUPTED', 'interrupted before the file was stored'));
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      let r;
      try {
        r = await putFile(client, signer, path, {
          signal: ctl.signal,
          k,
          m,
          durationBlocks,
          maxPrice,
          denom,
          bidWindowBlocks,
          ...(deposit !== undefined ? { deposit } : {}),
          ...(opts.name !== undefined ? { name: opts.name } : {}),
          onStatus,
          onProgress: (p) => {
            if (barPhase !== p.phase) {
              bar?.stop();
              bar = byteBar(cli, p.phase === 'hash' ? 'hashing' : 'uploading');
              barPhase = p.phase;
            }
            bar?.update(p.done, p.total);
          },
        });
      } finally {
        bar?.stop();
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
      const customer = encodeAddress(signer.address);
      const { chainId } = (await client.trust()).genesis;
      const saved = saveRecord(cli.home, r.order, r.manifest, { order: String(r.order), chainId, customer, height: String(r.deal.height), storedAt: new Date().toISOString(), source: path });
      const rate = r.leases.reduce((a, l) => a + l.price, 0n);
      const { manifest: mf } = r;
      cli.out(
        [
          `Stored ${mf.name} (${formatBytes(BigInt(mf.size))}) as order ${r.order}: ${code(mf.k, mf.m)} shards of ${formatBytes(BigInt(mf.shardBytes))} on ${r.leases.length} providers`,
          ...r.leases.map((l) => `  shard ${String(l.shard).padEnd(2)} lease ${String(l.lease).padEnd(6)} ${l.provider}  ${formatIn(l.price, denom)}/block  ${l.hostUri}`),
          `  costs ${formatIn(rate, denom)} per block (${formatIn(rate * durationBlocks, denom)} over ${durationBlocks} blocks; escrow ${formatIn(r.deposit, denom)}); repair reserve ${formatAmount(r.deal.reserve)}`,
          `  sha256 ${mf.sha256}`,
          `  manifest (holds the file key: back it up): ${saved}`,
          'next:',
          `  groundwork store get ${r.order} -o ${mf.name || `order-${r.order}`}`,
          `  groundwork store status ${r.order}`,
          `  groundwork store rm ${r.order}   (ends the deal: the providers stop keeping the file)`,
        ],
        {
          order: r.order,
          name: mf.name,
          size: mf.size,
          sha256: mf.sha256,
          k: mf.k,
          m: mf.m,
          shardBytes: mf.shardBytes,
          manifest: saved,
          customer,
          deposit: r.deposit,
          denom,
          ratePerBlock: rate,
          durationBlocks,
          leases: r.leases,
          deal: r.deal,
        },
      );
    });

  store
    .command('get <order>')
    .description('get a stored file back: any k of its k + m shards, each piece verified against its root, each segment decrypted and authenticated before it is written')
    .option('-o, --output <file>', 'where to write it ("-": standard output; default: its stored name in the current directory)')
    .option('--manifest <file>', 'the manifest to use (default: <home>/store/<order>.json)')
    .option('--force', 'overwrite the output file if it exists')
    .option('--parallel <n>', 'segments fetched at once', '4')
    .option('--verify-sha256', "also recompute the file's SHA-256 and compare it with the manifest's (about a quarter more CPU; the per-segment checks already refuse any altered byte)")
    .addHelpText(
      'after',
      `
Examples:
  groundwork store get 12                  writes ./<its name>
  groundwork store get 12 -o copy.pdf
  groundwork store get 12 -o - | tar xz
  groundwork store get 12 --verify-sha256  and checks the whole file's SHA-256 too

The file survives m providers down: shards that fail are skipped. Output is written to
<file>.part and renamed once it checked out, so a failed get leaves nothing half-written.`,
    )
    .action(async (orderArg: string, opts: { output?: string; manifest?: string; force?: boolean; parallel: string; verifySha256?: boolean }, cmd: Command) => {
      const cli = new Cli(cmd);
      const order = parseId(orderArg, 'order');
      const parallel = parseIntArg(opts.parallel, '--parallel', 1);
      const rec = requireRecord(cli.home, order, opts.manifest);
      const toStdout = opts.output === '-';
      const name = basename(rec.manifest.name);
      const out = toStdout ? '-' : resolve(opts.output ?? (name && name !== '.' && name !== '..' ? name : `order-${order}`));
      if (!toStdout && existsSync(out) && !opts.force) throw new InvalidInputError('OUTPUT_EXISTS', `${out} exists: pass --force to overwrite it, or -o <another file>`);
      if (!toStdout && !existsSync(dirname(out))) throw new InvalidInputError('FILE_NOT_FOUND', `the directory ${dirname(out)} does not exist`);
      const client = cli.client();
      await requireSameChain(client, rec);
      const bar = toStdout ? undefined : byteBar(cli, 'getting');
      const part = `${out}.part`;
      // A file is written direct where the file system allows it (core/directio FileWriter): a
      // large get does not push the machine's working set out of the page cache.
      const file = toStdout ? undefined : await FileWriter.open(part);
      const sink: ByteSink = file ? (c) => file.write(c) : process.stdout;
      let report;
      try {
        report = await getFile(client, rec.manifest, order, sink, { parallel, verifySha256: opts.verifySha256 === true, onProgress: (done, total) => bar?.update(done, total) });
        if (file) {
          await file.end();
          renameSync(part, out);
        }
      } catch (e) {
        if (file) {
          await file.destroy();
          rmSync(part, { force: true });
        }
        throw e;
      } finally {
        bar?.stop();
      }
      const skipped = report.sources.filter((s) => s.skipped !== null);
      const lines = [
        `Got ${rec.manifest.name || `order ${order}`} (${formatBytes(BigInt(report.bytes))}, every segment authenticated${report.sha256Checked ? `, sha256 ${rec.manifest.sha256} checked` : ''})${toStdout ? '' : ` → ${out}`}`,
        ...(skipped.length ? [`  skipped: ${skipped.map((s) => `shard ${s.shard} (${s.skipped})`).join(', ')}`] : []),
        ...(report.failedShards.length ? [`  failed and worked around: shard(s) ${report.failedShards.join(', ')} (${report.repairedSegments} segment(s) rebuilt from parity)`] : []),
      ];
      const json = {
        order,
        output: out,
        name: rec.manifest.name,
        bytes: report.bytes,
        sha256: rec.manifest.sha256,
        sha256Checked: report.sha256Checked,
        repairedSegments: report.repairedSegments,
        failedShards: report.failedShards,
        sources: report.sources,
      };
      if (toStdout) {
        // The file went to stdout: the summary goes to stderr (never as JSON into the file).
        if (!cli.json) process.stderr.write(`${lines.join('\n')}\n`);
      } else cli.out(lines, json);
    });

  store
    .command('ls')
    .description('files stored from this home (manifests in <home>/store) and their deals on chain')
    .action(async (_o: unknown, cmd: Command) => {
      const cli = new Cli(cmd);
      const records = listRecords(cli.home);
      if (records.length === 0) {
        cli.out([`no files stored from ${cli.home} (manifests live in ${storeDir(cli.home)})`, 'store one: groundwork store put <file> --key <name> --duration <blocks> --max-price <amount>'], { files: [] });
        return;
      }
      const client = cli.client();
      const rows = await Promise.all(
        records.map(async (r) => {
          const order = BigInt(r.meta?.order ?? basename(r.path, '.json'));
          let deal: StorageDeal | null | undefined;
          let problem: string | undefined;
          try {
            deal = await getDeal(client, { order });
          } catch (e) {
            problem = errorMessage(e);
          }
          const status = deal === undefined ? 'unknown' : deal === null ? 'no-deal' : deal.status;
          return { r, order, deal, status, problem };
        }),
      );
      const lines = [`${'order'.padStart(6)}  ${'status'.padEnd(8)} ${'shards'.padEnd(7)} ${'size'.padStart(11)}  code   name`];
      for (const x of rows) {
        const shards = x.deal ? `${activeShards(x.deal)}/${x.deal.k + x.deal.m}` : '-';
        lines.push(`${String(x.order).padStart(6)}  ${x.status.padEnd(8)} ${shards.padEnd(7)} ${formatBytes(BigInt(x.r.manifest.size)).padStart(11)}  ${code(x.r.manifest.k, x.r.manifest.m).padEnd(5)}  ${x.r.manifest.name}`);
      }
      const unreachable = rows.find((x) => x.problem !== undefined);
      if (unreachable) lines.push(`(status unknown: ${unreachable.problem})`);
      cli.out(lines, {
        files: rows.map((x) => ({
          order: x.order,
          name: x.r.manifest.name,
          size: x.r.manifest.size,
          k: x.r.manifest.k,
          m: x.r.manifest.m,
          sha256: x.r.manifest.sha256,
          status: x.status,
          activeShards: x.deal ? activeShards(x.deal) : null,
          createdHeight: x.deal ? x.deal.createdHeight : null,
          customer: x.deal?.customer ?? x.r.meta?.customer ?? null,
          manifest: x.r.path,
        })),
      });
    });

  store
    .command('status <order>')
    .description("a deal on chain: every shard's provider, lease and standing (proofs, misses), the escrow, and whether the file can be rebuilt")
    .option('--manifest <file>', 'the manifest to compare (default: <home>/store/<order>.json)')
    .option('--probe', "also fetch the first piece of every active shard from its provider (verified against the shard's root) to see who answers now")
    .action(async (orderArg: string, opts: { manifest?: string; probe?: boolean }, cmd: Command) => {
      const cli = new Cli(cmd);
      const order = parseId(orderArg, 'order');
      const rec = findRecord(cli.home, order, opts.manifest);
      const client = cli.client();
      await requireSameChain(client, rec);
      const deal = await getDeal(client, { order });
      if (!deal) {
        const o = await getOrder(client, { id: order });
        if (!rec && !o) throw new InvalidInputError('storage.DEAL_NOT_FOUND', `no deal and no order ${order} on this chain, and no manifest for it in ${storeDir(cli.home)}; see "groundwork store ls"`);
        const why = o ? `order ${order} is ${o.order.status}${o.order.closeReason ? ` (${o.order.closeReason})` : ''} but has no deal: the put did not finish${o.order.status !== 'closed' ? `; end it with "groundwork store rm ${order}" to get the escrow back` : ''}` : `order ${order} does not exist on this chain (the manifest is from another chain?)`;
        cli.out([`order ${order}: no storage deal`, `  ${why}`, ...(rec ? [`  manifest: ${rec.path}`] : [])], { order, deal: null, orderStatus: o?.order.status ?? null, manifest: rec?.path ?? null });
        return;
      }
      const [preview, denom] = deal.status === 'active' ? await Promise.all([previewSettlement(client, { order }).catch(() => undefined), getOrder(client, { id: order }).then((o) => o?.order.denom ?? 'ugw')]) : [undefined, 'ugw' as const];
      let manifestNote = rec ? `manifest ${rec.path}` : `no manifest in ${storeDir(cli.home)}: the file cannot be read back from this home`;
      if (rec) {
        try {
          checkManifestAgainstDeal(rec.manifest, deal);
        } catch (e) {
          manifestNote = `manifest ${rec.path} does NOT match: ${errorMessage(e)}`;
        }
      }
      const probes = opts.probe ? await probeShards(client, deal) : undefined;
      const answering = probes ? probes.filter((p) => p === 'ok').length : undefined;
      const lines = [
        `deal:      ${order}${rec ? ` (${rec.manifest.name})` : ''}, ${deal.status}`,
        `file:      ${formatBytes(deal.size)}, ${code(deal.k, deal.m)} shards of ${formatBytes(deal.shardBytes)}`,
        `health:    ${health(deal)}`,
        `customer:  ${deal.customer}`,
        `created:   height ${deal.createdHeight}${deal.status === 'ended' ? `; ended at ${deal.endedHeight}` : ''}`,
        `reserve:   ${formatAmount(deal.reserve)} for repairs (${deal.repairs} so far)`,
        ...(preview
          ? [`escrow:    ${formatIn(preview.escrow, denom)} (owed now ${formatIn(preview.owed, denom)}); ${preview.dryHeight === null ? 'no lease is paid from it' : `runs dry at height ${preview.dryHeight} (now ${preview.height}); top up with "groundwork lease topup"`}`]
          : []),
        `local:     ${manifestNote}`,
        ...(answering !== undefined ? [`probe:     ${answering} of ${deal.k + deal.m} providers answered with a verified piece${answering < deal.k ? `: fewer than the ${deal.k} needed, the file cannot be read now` : ` (${deal.k} are needed)`}`] : []),
        '',
        `  shard  status  lease   provider${' '.repeat(37)} proofs  misses  retrieval-fails${probes ? '  probe' : ''}`,
        ...deal.shards.map(
          (s, i) =>
            `  ${String(s.index).padEnd(5)}  ${s.status.padEnd(6)}  ${String(s.lease).padEnd(6)}  ${s.provider.padEnd(44)} ${String(s.proofs).padStart(6)}  ${String(s.misses).padStart(6)}  ${String(s.retrievalFails).padStart(15)}${probes ? `  ${probes[i] ?? '-'}` : ''}`,
        ),
      ];
      const dj = dealJSON(deal);
      cli.out(lines, {
        order,
        deal: probes ? { ...dj, shards: dj.shards.map((s, i) => ({ ...s, probe: probes[i] ?? null })) } : dj,
        health: health(deal),
        ...(preview ? { settlement: { height: preview.height, owed: preview.owed, escrow: preview.escrow, dryHeight: preview.dryHeight } } : {}),
        manifest: rec?.path ?? null,
        name: rec?.manifest.name ?? null,
      });
    });

  store
    .command('repair <order>')
    .description("rebuild a deal's lost shards from k healthy ones, lease new providers for them through the market, upload them and record the repair on chain")
    .option('--key <name>', "the key that pays the new leases and earns the repair fee (default: the deal's customer's key when here, else the only key)")
    .option('--max-price <amount>', "highest price per block per new provider, e.g. 1000ugw (default: the deal's order's max price)")
    .option('--duration <blocks>', "how long the new providers keep the shards (default: until the deal's last active lease ends)")
    .option('--bid-window <blocks>', 'blocks the repair order takes bids', '10')
    .option('--deposit <amount>', 'escrow funded now (default: the whole duration at the max price for every new provider)')
    .option('--manifest <file>', 'the manifest to check against the deal (default: <home>/store/<order>.json when there; not needed to repair)')
    .option('--tmp-dir <dir>', 'where the rebuilt shards wait for their upload (default: the system temporary directory; needs shard size × lost shards free)')
    .option('--watch <seconds>', 'keep running: check the deal every <seconds> and repair shards as they are lost (until Ctrl-C or the deal ends)')
    .option('--passphrase-file <file>', 'file holding the passphrase of the key')
    .addHelpText(
      'after',
      `
Examples:
  groundwork store repair 12
  groundwork store repair 12 --key worker --max-price 1000ugw --duration 50000
  groundwork store repair 12 --watch 60      # the customer's own repair worker: leave it running

A shard is lost when its lease closed abnormally (its provider left, or it failed verification):
"groundwork store status <order>" shows them. Each lost shard is rebuilt from any k healthy
shards (every piece verified against its root; the rebuilt shard must have the deal's root),
written to a temporary file, then put on a new lease of a provider that holds no shard of the
deal yet. The file key is not needed: anyone may repair a deal, and the chain pays the repair
fee (storage.repairFee, from the deal's reserve) to the key that sends the repair. Nothing
lost: nothing is bought. Fewer than k healthy shards: the file cannot be rebuilt (exit 1).`,
    )
    .action(async (orderArg: string, opts: KeyOpts & { maxPrice?: string; duration?: string; bidWindow: string; deposit?: string; manifest?: string; tmpDir?: string; watch?: string }, cmd: Command) => {
      const cli = new Cli(cmd);
      const order = parseId(orderArg, 'order');
      const maxPrice = opts.maxPrice === undefined ? undefined : parsePrice(opts.maxPrice, 'ugw', '--max-price');
      const durationBlocks = opts.duration === undefined ? undefined : parseBlocks(opts.duration, '--duration');
      const bidWindowBlocks = parseBlocks(opts.bidWindow, '--bid-window');
      const deposit = opts.deposit === undefined ? undefined : parseDenomAmount(opts.deposit, 'ugw', '--deposit');
      const watchSeconds = opts.watch === undefined ? undefined : parseIntArg(opts.watch, '--watch', 1);
      if (opts.tmpDir !== undefined && !existsSync(opts.tmpDir)) throw new InvalidInputError('FILE_NOT_FOUND', `--tmp-dir ${opts.tmpDir} does not exist`);
      const rec = findRecord(cli.home, order, opts.manifest);
      const client = cli.client();
      await requireSameChain(client, rec);
      const first = await getDeal(client, { order });
      if (!first) throw new InvalidInputError('storage.DEAL_NOT_FOUND', `order ${order} has no storage deal on this chain; see "groundwork store ls"`);
      if (rec) checkManifestAgainstDeal(rec.manifest, first);
      if (first.status !== 'active') throw new RepairError('DEAL_ENDED', `deal ${order} ended at height ${first.endedHeight}: there is nothing to repair (its providers no longer keep the shards)`);
      const n = first.k + first.m;
      // The deal's customer's key when this home has it (the repair fee then goes back to the
      // customer's account), else --key or the only key: anyone may repair.
      const own = opts.key === undefined && cli.keyring().list().some((k) => k.address === first.customer) ? first.customer : undefined;
      // Asked for when there is something to repair (a watch asks at once, not hours later).
      let signer: Signer | undefined;
      const getSigner = async (): Promise<Signer> => (signer ??= await signerFor(cli, opts, own));
      if (watchSeconds !== undefined) await getSigner();

      let bar: ByteBar | undefined;
      let barPhase: string | undefined;
      let lastBids = -1;
      const stopBar = (): void => {
        bar?.stop();
        bar = undefined;
      };
      const onStatus = (s: RepairStatus): void => {
        switch (s.type) {
          case 'checked':
            cli.note(`deal ${order}: shard(s) ${s.lost.join(', ')} lost, ${s.active.length} active (${s.k} needed); rebuilding ${s.lost.length} × ${formatBytes(s.shardBytes)}`);
            break;
          case 'rebuilt':
            stopBar();
            cli.note(`rebuilt shard(s) ${s.shards.join(', ')}: every root matches the deal's`);
            break;
          case 'order-created':
            lastBids = -1;
            cli.note(`repair order ${s.repairOrder} created (${s.durationBlocks} blocks at most ${formatAmount(s.maxPrice)}/block; escrow ${formatAmount(s.deposit)}, fee ${formatAmount(s.fee)}); bids until the end of block ${s.bidWindowEnd}`);
            break;
          case 'bidding':
            if (s.bids !== lastBids) cli.note(`  ${s.bids} bid(s), ${s.eligible} from providers holding no shard of the deal, at height ${s.height}; the window closes at ${s.bidWindowEnd}`);
            lastBids = s.bids;
            break;
          case 'accepted':
            cli.note(`  accepted ${s.providers.join(', ')} (lease ${s.leases.join(', ')})`);
            break;
          case 'accept-failed':
            cli.note(`  could not accept ${s.providers.join(', ')}: ${s.reason}`);
            break;
          case 'lease-released':
            cli.note(`  closed lease ${s.lease} of ${s.provider}: ${s.reason}`);
            break;
          case 'matched':
            cli.note(`matched: ${s.leases.map((l) => `shard ${l.shard} → lease ${l.lease} (${l.provider})`).join(', ')}; uploading`);
            break;
          case 'shard-uploaded':
            if (!bar) cli.note(`  shard ${s.shard} stored by ${s.provider} (lease ${s.lease})`);
            break;
          case 'shard-repaired':
            stopBar();
            cli.note(`shard ${s.shard} repaired at height ${s.height}${s.fee > 0n ? `; repair fee ${formatAmount(s.fee)}` : ''}`);
            break;
          case 'order-closed':
            stopBar();
            break;
        }
      };
      // Ctrl-C stops the repair and closes its order (escrow back); a second one quits at once.
      // In watch mode it also ends the watch (exit 0).
      const ctl = new AbortController();
      let interrupts = 0;
      const onSignal = (): void => {
        if (++interrupts > 1) process.exit(130);
        stopBar();
        cli.note(watchSeconds === undefined ? 'interrupted: stopping, and closing the repair order if one was made (Ctrl-C again quits at once)' : 'stopping the watch (and closing a repair order in progress, if any; Ctrl-C again quits at once)');
        ctl.abort(new GroundworkError('INTERRUPTED', 'interrupted before the repair was recorded'));
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);

      /** Repairs what `deal` has lost (exactly the one-shot command's output). */
      const repairNow = async (deal: StorageDeal): Promise<void> => {
        const lost = deal.shards.filter((s) => s.status === 'lost').map((s) => s.index);
        const active = activeShards(deal);
        if (lost.length === 0) {
          const ended = deal.shards.filter((s) => s.status === 'ended').length;
          cli.out([`deal ${order}: nothing to repair: no shard is lost (${active} of ${n} active${ended ? `, ${ended} ended` : ''})`], { order, lost: [], repaired: [], repairOrder: null, deposit: 0n });
          return;
        }
        if (active < deal.k) {
          throw new RepairError(
            'NOT_ENOUGH_SHARDS',
            `cannot repair deal ${order}: only ${active} of its ${n} shards are active and ${deal.k} are needed to rebuild the lost ones (${lost.map((j) => `shard ${j}`).join(', ')}); the file cannot be recovered from the network`,
          );
        }
        let r;
        try {
          r = await repairDeal(client, await getSigner(), rec?.manifest ?? null, order, {
            signal: ctl.signal,
            bidWindowBlocks,
            ...(maxPrice !== undefined ? { maxPrice } : {}),
            ...(durationBlocks !== undefined ? { durationBlocks } : {}),
            ...(deposit !== undefined ? { deposit } : {}),
            ...(opts.tmpDir !== undefined ? { tmpDir: resolve(opts.tmpDir) } : {}),
            onStatus,
            onProgress: (p) => {
              if (barPhase !== p.phase) {
                stopBar();
                bar = byteBar(cli, p.phase === 'rebuild' ? 'rebuilding' : 'uploading');
                barPhase = p.phase;
              }
              bar?.update(p.done, p.total);
            },
          });
        } finally {
          stopBar();
          barPhase = undefined;
        }
        const fees = r.repaired.reduce((a, x) => a + x.fee, 0n);
        const after = await getDeal(client, { order }).catch(() => null);
        cli.out(
          [
            r.repaired.length === 0
              ? `deal ${order}: nothing to repair any more (shard(s) ${r.lost.join(', ')} were repaired meanwhile)`
              : `Repaired deal ${order}${rec ? ` (${rec.manifest.name})` : ''}: ${r.repaired.length} shard(s) on new providers${after ? `, ${activeShards(after)} of ${n} active` : ''}`,
            ...r.repaired.map((x) => `  shard ${String(x.shard).padEnd(2)} lease ${String(x.lease).padEnd(6)} ${x.provider}  ${formatAmount(x.price)}/block  ${x.hostUri}`),
            ...(r.repairOrder !== null ? [`  paid by repair order ${r.repairOrder} (escrow ${formatAmount(r.deposit)}); repair fee earned ${formatAmount(fees)}`] : []),
            ...(r.repaired.length ? [`  roots unchanged: ${r.repaired.map((x) => `${x.shard}=${x.root.slice(0, 16)}…`).join(', ')}`] : []),
          ],
          { order, lost: r.lost, repaired: r.repaired, repairOrder: r.repairOrder, deposit: r.deposit, fees },
        );
      };

      try {
        if (watchSeconds === undefined) {
          await repairNow(first);
          return;
        }
        // Watch: check every interval, repair what is lost, keep going after a failed attempt
        // (its order was closed and refunded); stop when the deal ends or on Ctrl-C.
        cli.note(`watching deal ${order} every ${watchSeconds} s: lost shards are rebuilt and placed on new providers as they appear (Ctrl-C stops)`);
        let said = '';
        while (!ctl.signal.aborted) {
          const deal = await getDeal(client, { order }).catch((e: unknown) => {
            cli.note(`reading deal ${order} failed: ${errorMessage(e)}; retrying in ${watchSeconds} s`);
            return undefined;
          });
          if (deal === null) throw new InvalidInputError('storage.DEAL_NOT_FOUND', `deal ${order} is gone from the chain at ${client.url}`);
          if (deal !== undefined) {
            if (deal.status !== 'active') {
              cli.note(`deal ${order} ended at height ${deal.endedHeight}: nothing more to watch`);
              break;
            }
            const lost = deal.shards.filter((s) => s.status === 'lost').length;
            if (lost > 0) {
              try {
                await repairNow(deal);
                said = '';
              } catch (e) {
                if (ctl.signal.aborted) break;
                const why = `repairing deal ${order} failed: ${errorMessage(e)}`;
                if (why !== said) cli.note(`${why}; trying again every ${watchSeconds} s`);
                said = why;
              }
            }
          }
          await new Promise<void>((done) => {
            const t = setTimeout(done, watchSeconds * 1000);
            ctl.signal.addEventListener('abort', () => {
              clearTimeout(t);
              done();
            }, { once: true });
          });
        }
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });

  store
    .command('rm <order>')
    .description('end a deal: its leases close (paid up to now), the escrow left and the repair reserve come back; the manifest is kept unless --forget')
    .option('--key <name>', "the deal's customer key (default: the keyring's key of the deal's customer)")
    .option('--forget', 'also delete the local manifest (and with it the file key: the file can never be read again)')
    .option('--passphrase-file <file>', 'file holding the passphrase of the key')
    .action(async (orderArg: string, opts: KeyOpts & { forget?: boolean }, cmd: Command) => {
      const cli = new Cli(cmd);
      const order = parseId(orderArg, 'order');
      const rec = findRecord(cli.home, order);
      const client = cli.client();
      await requireSameChain(client, rec);
      const deal = await getDeal(client, { order });
      const lines: string[] = [];
      const json: Record<string, unknown> = { order };
      if (deal && deal.status === 'active') {
        const signer = await signerFor(cli, opts, deal.customer);
        if (encodeAddress(signer.address) !== deal.customer) throw new InvalidInputError('storage.NOT_CUSTOMER', `deal ${order} belongs to ${deal.customer}, not to ${encodeAddress(signer.address)}`);
        const r = await closeDeal(client, { signer, order, timeoutMs: 60_000 });
        const o = await getOrder(client, { id: order });
        lines.push(`Deal ${order} ended: ${r.leasesClosed.length} lease(s) closed, repair reserve ${formatAmount(r.refunded)} returned${o ? `; the order's escrow refunded ${formatIn(o.order.refunded, o.order.denom)}` : ''}`, `  tx ${r.hash} (block ${r.height}, fee ${formatAmount(r.fee)})`);
        Object.assign(json, { ended: true, leasesClosed: r.leasesClosed, reserveRefunded: r.refunded, escrowRefunded: o?.order.refunded ?? null, hash: r.hash, height: r.height, fee: r.fee });
      } else if (deal) {
        lines.push(`Deal ${order} had already ended at height ${deal.endedHeight}`);
        Object.assign(json, { ended: false, endedHeight: deal.endedHeight });
      } else {
        // No deal: a put that stopped between the order and the deal; close the order if it runs.
        const o = await getOrder(client, { id: order });
        if (!o && !rec) throw new InvalidInputError('storage.DEAL_NOT_FOUND', `no deal and no order ${order} on this chain, and no manifest for it in ${storeDir(cli.home)}; see "groundwork store ls"`);
        if (o && o.order.status !== 'closed') {
          const signer = await signerFor(cli, opts, o.order.customer);
          const r = await closeOrder(client, { signer, order, timeoutMs: 60_000 });
          lines.push(`Order ${order} had no deal; closed it: ${formatIn(r.refunded, o.order.denom)} refunded`, `  tx ${r.hash} (block ${r.height}, fee ${formatAmount(r.fee)})`);
          Object.assign(json, { ended: false, orderClosed: true, escrowRefunded: r.refunded, hash: r.hash, height: r.height, fee: r.fee });
        } else {
          lines.push(`Order ${order} has no deal${o ? ` and is closed (${o.order.closeReason ?? 'closed'})` : ' on this chain'}`);
          Object.assign(json, { ended: false });
        }
      }
      if (rec && opts.forget) {
        rmSync(rec.path, { force: true });
        lines.push(`  manifest ${rec.path} deleted`);
      } else if (rec) lines.push(`  manifest kept: ${rec.path} (delete it with --forget; the file cannot be read without it)`);
      Object.assign(json, { manifest: rec?.path ?? null, forgotten: Boolean(rec && opts.forget) });
      cli.out(lines, json);
    });
}
