/**
 * Repairing a stored file (`groundwork store repair`): every shard of a deal that the chain marks
 * `lost` (its lease closed abnormally, or it failed verification) is rebuilt from k healthy
 * shards, put on a new storage lease bought through the market, and recorded with
 * `storage/repair`. The worker needs no file key — a shard is ciphertext plus erasure parity, and
 * the chain holds every root — so anyone may repair a deal (the chain pays params.repairFee from
 * the deal's reserve to whoever sends the repair). With the manifest at hand it is checked
 * against the deal first.
 *
 *   1. Reads the deal: the lost shards, the active ones and their providers' hosts. Fewer than k
 *      active shards: nothing can be rebuilt (NOT_ENOUGH_SHARDS).
 *   2. Rebuilds the lost shards, segment by segment, into temporary files (one per shard, in
 *      `tmpDir`): per segment any k pieces of the active shards are fetched, each verified
 *      against its shard root (storage/http fetchPiece), and the missing pieces are recomputed
 *      with the same Reed–Solomon code (storage/erasure). The first segment is cross-checked when
 *      a spare piece exists (the code must reproduce a verified piece it was not given), and each
 *      rebuilt piece's root is folded into its shard's root, which must equal the deal's root at
 *      the end (ROOT_MISMATCH otherwise: nothing is bought). Memory holds `parallel` stripes, never
 *      a shard. A temporary file, not a second download: the bytes come over the network once,
 *      are verified before any lease is paid for, and the new lease is not paid while downloading.
 *   3. One storage order with replicas = the number of lost shards, `shardBytes` each, paid by the
 *      signer, with the original order's placement terms. The chain refuses a repair onto a
 *      provider that holds an active shard of the same deal, and the market's own match (cheapest
 *      first) does not know that, so the worker picks: three blocks in (or from the middle of a
 *      shorter window) it accepts (market/accept-bid) the cheapest bids of providers holding no
 *      active shard of the deal (the providers of lost shards after all others), and any such bid
 *      arriving later until the window closes. A lease the market still gives to a holder (no
 *      other bid, or an accept that landed too late) is closed again at once. No usable lease:
 *      NO_ELIGIBLE_PROVIDERS (the order is closed, its escrow refunded).
 *   4. Each rebuilt shard is streamed from its file to its lease's provider (storage/http
 *      uploadShard, which checks the signed acknowledgment carries the same root and size).
 *   5. storage/repair per shard with its acknowledgment. A lease that ends up holding nothing
 *      (its upload or repair failed) is closed (what it was funded with comes back when the
 *      order closes); with no shard repaired the whole order is closed.
 * Fewer usable leases than lost shards: the others are repaired and the error (NOT_ENOUGH_PROVIDERS)
 * says which shards are still lost. The temporary files are always deleted.
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, open, rm, statfs, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatAmount } from '../core/amount.js';
import { equals, toHex, type Bytes } from '../core/bytes.js';
import { errorMessage, GroundworkError, InvalidInputError, type ErrorOptions } from '../core/errors.js';
import { decodeAddress, encodeAddress, type Signer } from '../core/keys.js';
import type { Client } from '../client/client.js';
import { acceptBid } from '../client/actions/acceptBid.js';
import { closeLease } from '../client/actions/closeLease.js';
import { createOrder } from '../client/actions/createOrder.js';
import { getAccount } from '../client/actions/getAccount.js';
import { getDeal } from '../client/actions/getDeal.js';
import { getLease } from '../client/actions/getLease.js';
import { getOrder } from '../client/actions/getOrder.js';
import { getProvider } from '../client/actions/getProvider.js';
import { getStatus } from '../client/actions/getStatus.js';
import { repairShard } from '../client/actions/repairShard.js';
import { signAndSend } from '../client/actions/signAndSend.js';
import type { MarketBid, MarketLease } from '../client/marketViews.js';
import type { StorageDeal } from '../client/storageViews.js';
import { fetchAnyPieces, inOrderAhead, type PieceFetcher } from './decode.js';
import { erasureCoder } from './erasure.js';
import { OrderFlowError } from './errors.js';
import { checkManifestAgainstDeal } from './get.js';
import { fetchPiece, ProviderHttpError, uploadShard, type UploadShardReturnType } from './http.js';
import type { Manifest } from './layout.js';
import { abandonOrder, matchDeadline, rankBids, sleep, type OrderFlowOptions, type PutLease } from './put.js';
import { pieceRootOf, ShardRootBuilder } from './piecehash.js';

// ---------------------------------------------------------------------------------------------
// Errors

/**
 * What can go wrong repairing a deal, besides bad input (InvalidInputError: DEAL_NOT_FOUND,
 * MANIFEST_MISMATCH, INVALID_ARGUMENT, INSUFFICIENT_FUNDS) and the SDK's own errors:
 *   DEAL_ENDED             the deal has ended: there is nothing to keep
 *   NOT_ENOUGH_SHARDS      fewer than k active shards answer (for some segment): the lost ones cannot be rebuilt
 *   CODE_MISMATCH          the erasure code does not reproduce a verified piece (a different Reed–Solomon build)
 *   ROOT_MISMATCH          a rebuilt shard's root is not the deal's
 *   INSUFFICIENT_DISK      the temporary directory cannot hold the rebuilt shards
 *   NO_BIDS                the bid window closed without a bid (the chain refunded the escrow)
 *   NO_ELIGIBLE_PROVIDERS  every bid came from a provider already holding a shard of the deal
 *   NOT_ENOUGH_PROVIDERS   some lost shards were repaired, not all (see `repaired`)
 *   MATCH_TIMEOUT          the order was not matched in time, or the chain stopped making blocks
 *   PROVIDER_UNKNOWN       a lease's provider has no registration (no host to upload to)
 *   UPLOAD_FAILED          a rebuilt shard's upload failed
 *   REPAIR_FAILED          storage/repair failed
 * `repairOrder` is the order made, if any; `orderClosed` whether it was closed again (escrow back).
 */
export type RepairErrorCode =
  | 'DEAL_ENDED'
  | 'NOT_ENOUGH_SHARDS'
  | 'CODE_MISMATCH'
  | 'ROOT_MISMATCH'
  | 'INSUFFICIENT_DISK'
  | 'NO_BIDS'
  | 'NO_ELIGIBLE_PROVIDERS'
  | 'NOT_ENOUGH_PROVIDERS'
  | 'MATCH_TIMEOUT'
  | 'PROVIDER_UNKNOWN'
  | 'UPLOAD_FAILED'
  | 'REPAIR_FAILED';

export class RepairError extends OrderFlowError<RepairErrorCode> {
  override name = 'RepairError';
  /** Shards repaired before the failure (some may be, when several were lost). */
  repaired: RepairedShard[] = [];

  constructor(code: RepairErrorCode, message: string, opts: ErrorOptions & { repairOrder?: bigint } = {}) {
    super(code, message, { ...opts, ...(opts.repairOrder !== undefined ? { order: opts.repairOrder } : {}) });
  }

  /** The repair order made, if any (`order`). */
  get repairOrder(): bigint | undefined {
    return this.order;
  }

  set repairOrder(v: bigint | undefined) {
    this.order = v;
  }
}

export type RepairDealErrorType = RepairError | InvalidInputError | ProviderHttpError | GroundworkError;

// ---------------------------------------------------------------------------------------------
// Parameters

export interface RepairProgress {
  /** 'rebuild': shard bytes rebuilt and written (all lost shards together); 'upload': bytes sent. */
  phase: 'rebuild' | 'upload';
  done: number;
  total: number;
}

/** A lost shard now on a new lease. */
export interface RepairedShard extends PutLease {
  /** The storage/repair tx. */
  hash: string;
  height: bigint;
  /** ugw paid to the signer from the deal's reserve. */
  fee: bigint;
}

/** A lease of the repair order, the shard it is for. */
export interface RepairLease {
  shard: number;
  lease: bigint;
  provider: string;
  hostUri: string;
  price: bigint;
}

/** What happens, in order, for a caller to report (the CLI prints these on stderr). */
export type RepairStatus =
  | { type: 'checked'; order: bigint; lost: number[]; active: number[]; k: number; shardBytes: bigint }
  | { type: 'rebuilt'; shards: number[]; bytes: number }
  | { type: 'order-created'; repairOrder: bigint; bidWindowEnd: bigint; deposit: bigint; durationBlocks: bigint; maxPrice: bigint; hash: string; height: bigint; fee: bigint }
  | { type: 'bidding'; repairOrder: bigint; height: bigint; bidWindowEnd: bigint; bids: number; eligible: number }
  | { type: 'accepted'; repairOrder: bigint; providers: string[]; leases: bigint[] }
  | { type: 'accept-failed'; repairOrder: bigint; providers: string[]; reason: string }
  | { type: 'matched'; repairOrder: bigint; leases: RepairLease[] }
  | { type: 'lease-released'; lease: bigint; provider: string; reason: string }
  | { type: 'shard-uploaded'; shard: number; lease: bigint; provider: string }
  | { type: 'shard-repaired'; shard: number; lease: bigint; provider: string; hash: string; height: bigint; fee: bigint }
  | { type: 'order-closed'; repairOrder: bigint; refunded: bigint };

export interface RepairDealOptions extends OrderFlowOptions<RepairProgress, RepairStatus> {
  /** How long the new leases run, blocks (default: until the last of the deal's active leases ends). */
  durationBlocks?: bigint;
  /** Highest price per block per new lease, ugw (default: the deal's order's max price). */
  maxPrice?: bigint;
  /** Blocks the repair order takes bids (default 10). */
  bidWindowBlocks?: bigint;
  /** Escrow funded now, ugw (default: maxPrice × lost shards × durationBlocks). */
  deposit?: bigint;
  /** Only these lost shards (default: every lost shard). */
  shards?: readonly number[];
  /** Segments fetched and rebuilt at once (default 4). */
  parallel?: number;
  /** Where the rebuilt shards are written while they wait for their lease (default: the OS's). */
  tmpDir?: string;
  /** Per piece request (default 30 s). */
  pieceTimeoutMs?: number;
}

export interface RepairDealReturnType {
  /** The deal. */
  order: bigint;
  /** Shards lost when the repair started (empty: nothing to do, nothing was bought). */
  lost: number[];
  repaired: RepairedShard[];
  /** The order that pays the new leases; null when nothing needed repair. */
  repairOrder: bigint | null;
  /** The escrow funded, ugw. */
  deposit: bigint;
}

const DEFAULT_BID_WINDOW = 10n;
const DEFAULT_PARALLEL = 4;
/** Codes after which a provider is not asked again during this rebuild (as storage/get). */
const DEAD = new Set(['PROVIDER_UNREACHABLE', 'PROVIDER_TIMEOUT', 'SHARD_NOT_FOUND', 'SHARD_CORRUPT', 'BAD_RESPONSE']);

// ---------------------------------------------------------------------------------------------
// Rebuilding shards from k healthy ones (pure over a piece source: unit-tested without a network)

/** What a rebuild needs of a deal: the code, the layout and every shard's root. */
export interface RebuildLayout {
  readonly k: number;
  readonly m: number;
  readonly pieceSize: number;
  readonly segments: number;
  readonly roots: readonly Bytes[];
}

export interface RebuildShardsOptions {
  /** Segments fetched and rebuilt at once (default 4, at least 1). */
  readonly parallel?: number;
  /** Shard bytes rebuilt so far, all rebuilt shards together. */
  readonly onProgress?: (done: number, total: number) => void;
  readonly signal?: AbortSignal;
}

/**
 * Rebuilds shards `lost` of a file laid out as `layout`, from pieces of shards `healthy` given by
 * `fetch` (each already verified against its shard's root; null or a rejection when unavailable).
 * Calls `write(shard, segment, piece)` for every rebuilt piece, segment by segment in order (the
 * piece is a view of a reused buffer: copy it, or be done with it when the promise resolves).
 * Throws RepairError NOT_ENOUGH_SHARDS (a segment with fewer than k pieces), CODE_MISMATCH (the
 * erasure code did not reproduce a verified piece of segment 0, checked when a spare exists) or
 * ROOT_MISMATCH (a rebuilt shard's root is not its root in `layout`: what was written is wrong).
 */
export async function rebuildShards(
  layout: RebuildLayout,
  healthy: readonly number[],
  lost: readonly number[],
  fetch: PieceFetcher,
  write: (shard: number, segment: number, piece: Uint8Array) => Promise<void>,
  opts: RebuildShardsOptions = {},
): Promise<void> {
  const { k, m, pieceSize: P, segments } = layout;
  const n = k + m;
  const parallel = opts.parallel ?? DEFAULT_PARALLEL;
  if (!Number.isInteger(parallel) || parallel < 1) throw new InvalidInputError('INVALID_PARALLEL', `parallel must be a positive integer, not ${parallel}`);
  if (lost.length === 0) return;
  if (lost.length > m) throw new RepairError('NOT_ENOUGH_SHARDS', `${lost.length} shards to rebuild, but a ${k}+${m} code rebuilds at most ${m}`);
  for (const j of [...lost, ...healthy]) {
    if (!Number.isInteger(j) || j < 0 || j >= n) throw new InvalidInputError('INVALID_ARGUMENT', `shard ${j} is not a shard of a ${k}+${m} code`);
  }
  if (lost.some((j) => healthy.includes(j))) throw new InvalidInputError('INVALID_ARGUMENT', 'a shard cannot be both lost and healthy');
  if (healthy.length < k) throw new RepairError('NOT_ENOUGH_SHARDS', `only ${healthy.length} healthy shards and ${k} are needed to rebuild the others`);
  const coder = erasureCoder(k, m);
  const signal = opts.signal;
  const lostMask = lost.reduce((a, j) => a | (1 << j), 0);
  const failures = new Array<number>(n).fill(0);
  const builders = new Map(lost.map((j) => [j, new ShardRootBuilder()]));
  // A spare piece of segment 0 lets the code be checked before anything else is fetched.
  const crossCheck = healthy.length > k && lost.length < m;
  const total = segments * P * lost.length;
  let stopped = false;

  /** Verified pieces of segment `s` (at least k, or NOT_ENOUGH_SHARDS), in a fresh stripe. */
  async function fetchSegment(s: number, want: number): Promise<{ stripe: Buffer; present: number }> {
    const { pieces, have, problems } = await fetchAnyPieces({ order: healthy, lanes: want, pieceSize: P, failures, stopped: () => stopped, fetch: (j) => fetch(j, s) });
    if (have < k && !stopped) {
      throw new RepairError('NOT_ENOUGH_SHARDS', `segment ${s}: only ${have} of the ${k} pieces needed could be fetched and verified (${problems.join('; ')})`, { details: problems.join('; ') });
    }
    const stripe = Buffer.allocUnsafe(n * P);
    let present = 0;
    pieces.forEach((piece, j) => {
      if (piece === null) return;
      stripe.set(piece, j * P);
      present |= 1 << j;
    });
    return { stripe, present };
  }

  /** Segment `s` with its lost pieces rebuilt. */
  async function rebuildSegment(s: number): Promise<Buffer> {
    const check = s === 0 && crossCheck;
    const { stripe, present } = await fetchSegment(s, check ? k + 1 : k);
    if (stopped) return stripe;
    let sources = present;
    let spare = -1;
    let kept: Buffer | undefined;
    if (check && popcount(present) > k) {
      // Rebuild one verified piece too, from the others: the code must give back its bytes.
      for (let j = n - 1; j >= 0; j--) {
        if (present & (1 << j)) {
          spare = j;
          break;
        }
      }
      kept = Buffer.from(stripe.subarray(spare * P, (spare + 1) * P));
      sources &= ~(1 << spare);
    } else {
      // Exactly k sources: any extra fetched piece stays out of the computation.
      let extra = popcount(sources) - k;
      for (let j = n - 1; j >= 0 && extra > 0; j--) {
        if (sources & (1 << j)) {
          sources &= ~(1 << j);
          extra--;
        }
      }
    }
    const targets = lostMask | (spare >= 0 ? 1 << spare : 0);
    await coder.reconstruct(stripe, P, sources, targets);
    if (kept !== undefined && !kept.equals(stripe.subarray(spare * P, (spare + 1) * P))) {
      throw new RepairError(
        'CODE_MISMATCH',
        `the erasure code does not reproduce shard ${spare}'s verified piece 0 from the other shards: this build's Reed–Solomon code differs from the one that stored the file, so nothing it rebuilds would match`,
      );
    }
    return stripe;
  }

  let done = 0;
  await inOrderAhead(
    segments,
    parallel,
    rebuildSegment,
    async (stripe, s) => {
      for (const j of lost) {
        const piece = stripe.subarray(j * P, (j + 1) * P);
        (builders.get(j) as ShardRootBuilder).push(pieceRootOf(piece));
        await write(j, s, piece);
        done += P;
      }
      opts.onProgress?.(done, total);
    },
    { ...(signal ? { signal } : {}), onStop: () => (stopped = true) },
  );
  for (const j of lost) {
    const got = (builders.get(j) as ShardRootBuilder).root();
    const want = layout.roots[j] as Bytes;
    if (!equals(got, want)) {
      throw new RepairError('ROOT_MISMATCH', `rebuilt shard ${j} has root ${toHex(got)}, but the deal records ${toHex(want)}: the healthy shards do not rebuild it (a provider served verified pieces of another file?); nothing was bought`);
    }
  }
}

function popcount(mask: number): number {
  let c = 0;
  for (let v = mask; v !== 0; v &= v - 1) c++;
  return c;
}

// ---------------------------------------------------------------------------------------------
// Choosing bids: providers holding an active shard of the deal cannot take a repair

/**
 * The bids a repair may accept, best first: none from `holders` (providers of the deal's active
 * shards: the chain refuses them); providers of the deal's lost shards after all others (they
 * lost a shard once); then cheapest, earliest, lowest address (put's ranking, rankBids).
 */
export const rankRepairBids = (bids: readonly MarketBid[], holders: ReadonlySet<string>, lostProviders: ReadonlySet<string>): MarketBid[] => rankBids(bids, holders, lostProviders);

// ---------------------------------------------------------------------------------------------
// Steps

const holdersOf = (deal: StorageDeal): Set<string> => new Set(deal.shards.filter((s) => s.status === 'active').map((s) => s.provider));

/** Whether an error only says the order stopped taking acceptances (its window closed, it matched). */
function windowClosed(e: unknown): boolean {
  return e instanceof GroundworkError && /ORDER_NOT_OPEN|BID_NOT_FOUND/.test(e.code);
}

/**
 * Takes bids on `repairOrder` until it leaves the open state: from `acceptFrom` on, the best
 * eligible bids (rankRepairBids) are accepted, one tx for all of them. Returns the order as
 * matched.
 */
async function acceptEligible(
  client: Client,
  signer: Signer,
  repairOrder: bigint,
  replicas: number,
  bidWindowEnd: bigint,
  acceptFrom: bigint,
  holders: ReadonlySet<string>,
  lostProviders: ReadonlySet<string>,
  opts: RepairDealOptions,
): Promise<NonNullable<Awaited<ReturnType<typeof getOrder>>> & { eligibleSeen: number }> {
  const check = matchDeadline(repairOrder, bidWindowEnd, opts, (message) => new RepairError('MATCH_TIMEOUT', message, { repairOrder }));
  const txTimeoutMs = opts.txTimeoutMs ?? 60_000;
  /** Providers whose bid could not be accepted (not asked again). */
  const refused = new Set<string>();
  /** Providers outside the holders that bid at some point. */
  const seen = new Set<string>();
  for (;;) {
    const r = await getOrder(client, { id: repairOrder });
    if (!r) throw new RepairError('MATCH_TIMEOUT', `order ${repairOrder} disappeared from the node at ${client.url}`, { repairOrder });
    if (r.order.status !== 'open') return { ...r, eligibleSeen: seen.size };
    const height = BigInt((await getStatus(client)).height);
    const eligible = rankRepairBids(r.bids, holders, lostProviders).filter((b) => !refused.has(b.provider));
    for (const b of eligible) seen.add(b.provider);
    opts.onStatus?.({ type: 'bidding', repairOrder, height, bidWindowEnd, bids: r.bids.length, eligible: eligible.length });
    check(height);
    const leased = r.leases.filter((l) => l.status === 'active').length;
    const take = eligible.slice(0, replicas - leased);
    if (height >= acceptFrom && height <= bidWindowEnd && take.length > 0) {
      const providers = take.map((b) => b.provider);
      try {
        const leases = await acceptAll(client, signer, repairOrder, providers, txTimeoutMs);
        opts.onStatus?.({ type: 'accepted', repairOrder, providers, leases });
      } catch (e) {
        // One tx for all; when it fails, each on its own (a bid withdrawn meanwhile spoils only itself).
        if (windowClosed(e) && take.length === 1) {
          refused.add(take[0]!.provider);
          opts.onStatus?.({ type: 'accept-failed', repairOrder, providers, reason: errorMessage(e) });
        } else {
          for (const p of providers) {
            try {
              const l = await acceptBid(client, { signer, order: repairOrder, provider: p, timeoutMs: txTimeoutMs });
              opts.onStatus?.({ type: 'accepted', repairOrder, providers: [p], leases: [l.leaseId] });
            } catch (e2) {
              refused.add(p);
              opts.onStatus?.({ type: 'accept-failed', repairOrder, providers: [p], reason: errorMessage(e2) });
            }
          }
        }
      }
      continue;
    }
    await sleep(opts.pollMs ?? 250, opts.signal);
  }
}

/** market/accept-bid for every provider in one tx; the leases made. */
async function acceptAll(client: Client, signer: Signer, order: bigint, providers: string[], timeoutMs: number): Promise<bigint[]> {
  if (providers.length === 1) return [(await acceptBid(client, { signer, order, provider: providers[0] as string, timeoutMs })).leaseId];
  const t = await signAndSend(client, { signer, timeoutMs, msgs: providers.map((p) => ({ type: 'market/accept-bid', value: { order, provider: decodeAddress(p) } })) });
  return t.events.filter((e) => e.type === 'market.lease.created').map((e) => BigInt(e.attributes.lease ?? '0'));
}

/** Closes an order whose leases hold nothing; returns a sentence saying what happened to its escrow. */
/** Closes one lease that will hold nothing (its escrow share stays with the order); a sentence when it fails. */
async function releaseLease(client: Client, signer: Signer, l: { lease: bigint; provider: string }, reason: string, opts: RepairDealOptions): Promise<string | undefined> {
  try {
    await closeLease(client, { signer, lease: l.lease, timeoutMs: opts.txTimeoutMs ?? 60_000 });
    opts.onStatus?.({ type: 'lease-released', lease: l.lease, provider: l.provider, reason });
    return undefined;
  } catch (e) {
    const now = await getLease(client, { id: l.lease }).catch(() => null);
    if (now && now.status !== 'active') return undefined;
    return `closing lease ${l.lease} failed (${errorMessage(e)}): close it with "groundwork lease close <key> ${l.lease}"`;
  }
}

/** The default lease length: until the last of the deal's active leases ends (at least 1 block). */
async function remainingBlocks(client: Client, deal: StorageDeal, height: bigint): Promise<bigint | undefined> {
  let end = 0n;
  for (const s of deal.shards) {
    if (s.status !== 'active') continue;
    const l = await getLease(client, { id: s.lease });
    if (l && l.status === 'active' && l.endHeight > end) end = l.endHeight;
  }
  return end > height ? end - height : undefined;
}

/** The active shards' hosts: a fetcher of verified pieces like storage/get's (a dead provider is asked once). */
async function liveSources(client: Client, deal: StorageDeal, opts: RepairDealOptions): Promise<{ healthy: number[]; skipped: string[]; fetch: PieceFetcher }> {
  const hosts = new Map<number, string>();
  const skipped: string[] = [];
  const byProvider = new Map<string, string | null>();
  for (const s of deal.shards) {
    if (s.status !== 'active') continue;
    if (!byProvider.has(s.provider)) byProvider.set(s.provider, (await getProvider(client, { address: s.provider }))?.hostUri ?? null);
    const uri = byProvider.get(s.provider) ?? null;
    if (uri === null) skipped.push(`shard ${s.index}: provider not registered`);
    else hosts.set(s.index, uri);
  }
  const dead = new Set<number>();
  const timeoutMs = opts.pieceTimeoutMs ?? 30_000;
  const fetch: PieceFetcher = async (j, segment) => {
    const uri = hosts.get(j);
    if (uri === undefined || dead.has(j)) return null;
    const s = deal.shards[j] as StorageDeal['shards'][number];
    try {
      const r = await fetchPiece(uri, s.root, segment, { pieces: Number(deal.segments), pieceSize: deal.pieceSize, timeoutMs, ...(opts.signal ? { signal: opts.signal } : {}) });
      return r.data;
    } catch (e) {
      if (e instanceof ProviderHttpError && DEAD.has(e.code)) dead.add(j);
      throw e;
    }
  };
  return { healthy: [...hosts.keys()].sort((a, b) => a - b), skipped, fetch };
}

// ---------------------------------------------------------------------------------------------
// repairDeal

/**
 * Repairs deal `order`: every lost shard (or those in opts.shards) rebuilt, put on a new lease
 * paid by `signer`, and recorded on chain (see the file comment). `manifest`, when given, must
 * describe the deal (it is not needed: the chain has the layout and the roots). Resolves once
 * every repair is on chain; with nothing lost it resolves at once, having bought nothing.
 */
export async function repairDeal(client: Client, signer: Signer, manifest: Manifest | null, order: bigint, opts: RepairDealOptions = {}): Promise<RepairDealReturnType> {
  const txTimeoutMs = opts.txTimeoutMs ?? 60_000;
  const deal0 = await getDeal(client, { order });
  if (!deal0) throw new InvalidInputError('DEAL_NOT_FOUND', `order ${order} has no storage deal on the chain at ${client.url}`);
  if (manifest) checkManifestAgainstDeal(manifest, deal0);
  if (deal0.status !== 'active') throw new RepairError('DEAL_ENDED', `deal ${order} ended at height ${deal0.endedHeight}: there is nothing to repair (its providers no longer keep the shards)`);
  const n = deal0.k + deal0.m;
  let lost = deal0.shards.filter((s) => s.status === 'lost').map((s) => s.index);
  if (opts.shards) {
    for (const j of opts.shards) {
      const s = deal0.shards[j];
      if (!s) throw new InvalidInputError('INVALID_ARGUMENT', `deal ${order} has shards 0-${n - 1}, not ${j}`);
      if (s.status !== 'lost') throw new InvalidInputError('INVALID_ARGUMENT', `shard ${j} of deal ${order} is ${s.status}, not lost: only lost shards are repaired`);
    }
    lost = lost.filter((j) => opts.shards?.includes(j));
  }
  const active = deal0.shards.filter((s) => s.status === 'active').map((s) => s.index);
  opts.onStatus?.({ type: 'checked', order, lost, active, k: deal0.k, shardBytes: deal0.shardBytes });
  if (lost.length === 0) return { order, lost, repaired: [], repairOrder: null, deposit: 0n };
  if (active.length < deal0.k) {
    throw new RepairError('NOT_ENOUGH_SHARDS', `cannot repair deal ${order}: only ${active.length} of its ${n} shards are active and ${deal0.k} are needed to rebuild the others; the file cannot be recovered from the network`);
  }

  // The lease's terms, and whether the signer can pay, before anything is downloaded.
  const height0 = BigInt((await getStatus(client)).height);
  const dealOrder = await getOrder(client, { id: order });
  const durationBlocks = opts.durationBlocks ?? (await remainingBlocks(client, deal0, height0));
  if (durationBlocks === undefined) throw new InvalidInputError('INVALID_ARGUMENT', `deal ${order}'s active leases have no time left to match: give the new leases' duration (durationBlocks, --duration)`);
  if (durationBlocks < 1n) throw new InvalidInputError('INVALID_ARGUMENT', 'durationBlocks must be at least 1');
  const maxPrice = opts.maxPrice ?? (dealOrder?.order.denom === 'ugw' ? dealOrder.order.maxPrice : undefined);
  if (maxPrice === undefined) throw new InvalidInputError('INVALID_ARGUMENT', `give the highest price per block for the new leases (maxPrice, --max-price): deal ${order}'s order is not priced in ugw`);
  if (maxPrice < 1n) throw new InvalidInputError('INVALID_PRICE', 'maxPrice must be greater than zero');
  const deposit0 = opts.deposit;
  if (deposit0 !== undefined && deposit0 < maxPrice * BigInt(lost.length)) {
    throw new InvalidInputError('INVALID_ARGUMENT', `the deposit ${formatAmount(deposit0)} does not cover one block of every new lease: at least ${formatAmount(maxPrice * BigInt(lost.length))}`);
  }
  const worker = encodeAddress(signer.address);
  {
    const need = deposit0 ?? maxPrice * BigInt(lost.length) * durationBlocks;
    const { balance } = await getAccount(client, { address: worker });
    if (balance < need) {
      throw new InvalidInputError('INSUFFICIENT_FUNDS', `${worker} holds ${formatAmount(balance)} but the new leases' escrow is ${formatAmount(need)} (${lost.length} × ${durationBlocks} blocks at ${formatAmount(maxPrice)}) plus fees: fund it, or lower the max price or duration`);
    }
  }

  // 2. Rebuild into temporary files, verified, before anything is bought.
  const { healthy, skipped, fetch } = await liveSources(client, deal0, opts);
  if (healthy.length < deal0.k) {
    throw new RepairError('NOT_ENOUGH_SHARDS', `cannot repair deal ${order}: only ${healthy.length} of its active shards can be asked and ${deal0.k} are needed (${skipped.join(', ')})`);
  }
  const shardBytes = Number(deal0.shardBytes);
  const dir = await mkdtemp(join(opts.tmpDir ?? tmpdir(), 'gw-repair-'));
  const files = new Map<number, string>();
  try {
    const fs = await statfs(dir).catch(() => undefined);
    if (fs && fs.bavail * fs.bsize < shardBytes * lost.length) {
      throw new RepairError('INSUFFICIENT_DISK', `${dir} has ${fs.bavail * fs.bsize} bytes free; the ${lost.length} rebuilt shard(s) need ${shardBytes * lost.length}: pass another temporary directory (tmpDir, --tmp-dir)`);
    }
    const handles = new Map<number, FileHandle>();
    try {
      for (const j of lost) {
        const path = join(dir, `shard-${j}`);
        files.set(j, path);
        handles.set(j, await open(path, 'w', 0o600));
      }
      const layout: RebuildLayout = { k: deal0.k, m: deal0.m, pieceSize: deal0.pieceSize, segments: Number(deal0.segments), roots: deal0.shards.map((s) => s.root) };
      await rebuildShards(
        layout,
        healthy,
        lost,
        fetch,
        async (j, s, piece) => {
          await (handles.get(j) as FileHandle).write(piece, 0, piece.length, s * deal0.pieceSize);
        },
        {
          ...(opts.parallel !== undefined ? { parallel: opts.parallel } : {}),
          ...(opts.signal ? { signal: opts.signal } : {}),
          onProgress: (done, total) => opts.onProgress?.({ phase: 'rebuild', done, total }),
        },
      );
      for (const h of handles.values()) await h.sync();
    } finally {
      for (const h of handles.values()) await h.close().catch(() => {});
    }
    opts.onStatus?.({ type: 'rebuilt', shards: lost, bytes: shardBytes * lost.length });
    return await placeAndRecord(client, signer, order, lost, files, { durationBlocks, maxPrice, deposit: deposit0 ?? maxPrice * BigInt(lost.length) * durationBlocks, dealOrder }, opts, txTimeoutMs);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Steps 3 to 5: the order, the uploads, the repair txs. */
async function placeAndRecord(
  client: Client,
  signer: Signer,
  order: bigint,
  lost0: number[],
  files: ReadonlyMap<number, string>,
  terms: { durationBlocks: bigint; maxPrice: bigint; deposit: bigint; dealOrder: Awaited<ReturnType<typeof getOrder>> },
  opts: RepairDealOptions,
  txTimeoutMs: number,
): Promise<RepairDealReturnType> {
  // The deal again: another worker may have repaired some shards while this one downloaded.
  const deal = await getDeal(client, { order });
  if (!deal || deal.status !== 'active') throw new RepairError('DEAL_ENDED', `deal ${order} ended while its shards were being rebuilt`);
  const lost = lost0.filter((j) => deal.shards[j]?.status === 'lost');
  if (lost.length === 0) return { order, lost: lost0, repaired: [], repairOrder: null, deposit: 0n };
  const deposit = lost.length === lost0.length ? terms.deposit : terms.maxPrice * BigInt(lost.length) * terms.durationBlocks;
  const holders = holdersOf(deal);
  const lostProviders = new Set(deal.shards.filter((s) => s.status === 'lost').map((s) => s.provider));
  const chainId = (await client.trust()).genesis.chainId;
  const bidWindowBlocks = opts.bidWindowBlocks ?? DEFAULT_BID_WINDOW;
  const o = terms.dealOrder?.order;

  // 3. The order: the original's placement terms (region, attributes, reputation), its own price and length.
  opts.signal?.throwIfAborted();
  const created = await createOrder(client, {
    signer,
    spec: { type: 'storage', value: { bytes: deal.shardBytes, durationBlocks: terms.durationBlocks } },
    replicas: lost.length,
    ...(o ? { region: o.region, attributes: o.attributes, minReputationBps: o.minReputationBps } : {}),
    maxPrice: terms.maxPrice,
    denom: 'ugw',
    deposit,
    bidWindowBlocks,
    timeoutMs: txTimeoutMs,
  });
  const repairOrder = created.orderId;
  opts.onStatus?.({ type: 'order-created', repairOrder, bidWindowEnd: created.bidWindowEnd, deposit, durationBlocks: terms.durationBlocks, maxPrice: terms.maxPrice, hash: created.hash, height: BigInt(created.height), fee: created.fee });

  const repaired: RepairedShard[] = [];
  /** Leases of the order that hold (or will hold) a repaired shard. */
  const used = new Set<bigint>();
  let leases: RepairLease[] = [];
  try {
    // Accept from three blocks in (agents bid on the block that announces an order), or the
    // middle of a shorter window: the bids placed early are in, and the rest of the window is
    // left for the accept tx to land.
    const height = BigInt(created.height);
    const acceptFrom = height + 3n < created.bidWindowEnd - bidWindowBlocks / 2n ? height + 3n : created.bidWindowEnd - bidWindowBlocks / 2n;
    const matched = await acceptEligible(client, signer, repairOrder, lost.length, created.bidWindowEnd, acceptFrom, holders, lostProviders, opts);
    if (matched.order.status === 'closed' && matched.leases.every((l) => l.status !== 'active')) {
      const e = new RepairError(
        'NO_BIDS',
        `no provider took repair order ${repairOrder} (${matched.order.closeReason ?? 'closed'}): nobody bid at most ${formatAmount(terms.maxPrice)} per block for ${lost.length} × ${deal.shardBytes} bytes; raise the max price, or see who could serve it with "groundwork market order explain ${repairOrder}"; the escrow was refunded`,
        { repairOrder },
      );
      e.orderClosed = true;
      throw e;
    }
    // Holders as of now (the deal may have changed); a lease on one of them is useless.
    const now = await getDeal(client, { order });
    const holdersNow = now ? holdersOf(now) : holders;
    const activeLeases = matched.leases.filter((l: MarketLease) => l.status === 'active').sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const usable = activeLeases.filter((l) => !holdersNow.has(l.provider));
    const problems: string[] = [];
    for (const l of activeLeases.filter((x) => holdersNow.has(x.provider))) {
      const p = await releaseLease(client, signer, { lease: l.id, provider: l.provider }, 'the provider already holds a shard of the deal', opts);
      if (p) problems.push(p);
    }
    if (usable.length === 0) {
      throw new RepairError(
        'NO_ELIGIBLE_PROVIDERS',
        matched.eligibleSeen > 0
          ? `no provider outside deal ${order}'s current holders took repair order ${repairOrder}: ${matched.eligibleSeen} such provider(s) bid but could not be accepted before the bid window closed (${activeLeases.length} lease(s) went to providers already holding a shard, which the chain refuses); run the repair again with a longer bid window`
          : `no provider outside deal ${order}'s current holders took repair order ${repairOrder} (${activeLeases.length} lease(s) went to providers already holding a shard, which the chain refuses): more providers must bid at most ${formatAmount(terms.maxPrice)} per block, or raise the max price`,
        { repairOrder },
      );
    }
    const hosts = new Map<string, string>();
    for (const p of new Set(usable.map((l) => l.provider))) {
      const rec = await getProvider(client, { address: p });
      if (!rec) throw new RepairError('PROVIDER_UNKNOWN', `provider ${p} of repair order ${repairOrder} is not registered: no host to upload to`, { repairOrder });
      hosts.set(p, rec.hostUri);
    }
    leases = usable.slice(0, lost.length).map((l, i) => ({ shard: lost[i] as number, lease: l.id, provider: l.provider, hostUri: hosts.get(l.provider) as string, price: l.price }));
    for (const l of usable.slice(lost.length)) {
      const p = await releaseLease(client, signer, { lease: l.id, provider: l.provider }, 'more leases than lost shards', opts);
      if (p) problems.push(p);
    }
    opts.onStatus?.({ type: 'matched', repairOrder, leases });

    // 4. Uploads, all at once, each from its file.
    const total = Number(deal.shardBytes) * leases.length;
    const sent = new Array<number>(leases.length).fill(0);
    const uploads = await Promise.allSettled(
      leases.map(async (l, i) => {
        const ack = await uploadShard(l.hostUri, {
          lease: l.lease,
          root: (deal.shards[l.shard] as StorageDeal['shards'][number]).root,
          bytes: deal.shardBytes,
          pieceSize: deal.pieceSize,
          key: signer,
          chainId,
          body: createReadStream(files.get(l.shard) as string, { highWaterMark: deal.pieceSize }),
          expectedProvider: l.provider,
          idleTimeoutMs: opts.uploadIdleTimeoutMs ?? 120_000,
          ...(opts.signal ? { signal: opts.signal } : {}),
          onProgress: (bytes) => {
            sent[i] = bytes;
            opts.onProgress?.({ phase: 'upload', done: sent.reduce((a, b) => a + b, 0), total });
          },
        });
        opts.onStatus?.({ type: 'shard-uploaded', shard: l.shard, lease: l.lease, provider: l.provider });
        return ack;
      }),
    );
    opts.signal?.throwIfAborted();

    // 5. The repairs, one tx per shard.
    const failures: { shard: number; code: RepairErrorCode; error: unknown }[] = [];
    for (const [i, l] of leases.entries()) {
      const u = uploads[i] as PromiseSettledResult<UploadShardReturnType>;
      if (u.status === 'rejected') {
        failures.push({ shard: l.shard, code: 'UPLOAD_FAILED', error: u.reason });
        continue;
      }
      try {
        const r = await repairShard(client, { signer, order, shard: l.shard, lease: l.lease, ack: { pubKey: u.value.pubKey, signature: u.value.signature }, timeoutMs: txTimeoutMs });
        used.add(l.lease);
        repaired.push({ ...l, root: toHex(u.value.root), hash: r.hash, height: BigInt(r.height), fee: r.fee });
        opts.onStatus?.({ type: 'shard-repaired', shard: l.shard, lease: l.lease, provider: l.provider, hash: r.hash, height: BigInt(r.height), fee: r.fee });
      } catch (e) {
        // A timeout may hide a repair that was made after all.
        const d = await getDeal(client, { order }).catch(() => null);
        const s = d?.shards[l.shard];
        if (s && s.status === 'active' && s.lease === l.lease) {
          used.add(l.lease);
          repaired.push({ ...l, root: toHex(u.value.root), hash: '', height: s.statusHeight, fee: 0n });
          opts.onStatus?.({ type: 'shard-repaired', shard: l.shard, lease: l.lease, provider: l.provider, hash: '', height: s.statusHeight, fee: 0n });
        } else failures.push({ shard: l.shard, code: 'REPAIR_FAILED', error: e });
      }
    }
    if (repaired.length === 0) {
      const f = failures[0];
      const l = leases.find((x) => x.shard === f?.shard);
      throw new RepairError(
        f?.code ?? 'REPAIR_FAILED',
        f?.code === 'UPLOAD_FAILED'
          ? `uploading rebuilt shard ${f.shard} to ${l?.provider ?? '?'} (lease ${l?.lease ?? '?'}) failed: ${errorMessage(f.error)}`
          : `recording the repair of shard ${f?.shard ?? '?'} failed: ${errorMessage(f?.error)}`,
        { repairOrder, cause: f?.error },
      );
    }
    // Some shards repaired: the leases left over are closed, the others' still-lost shards said.
    for (const l of leases.filter((x) => !used.has(x.lease))) {
      const p = await releaseLease(client, signer, l, 'its shard was not repaired', opts);
      if (p) problems.push(p);
    }
    const still = lost.filter((j) => !repaired.some((r) => r.shard === j));
    if (still.length > 0) {
      const why = [
        ...failures.map((f) => `shard ${f.shard}: ${f.code === 'UPLOAD_FAILED' ? 'upload failed' : 'repair tx failed'} (${errorMessage(f.error)})`),
        ...still.filter((j) => !failures.some((f) => f.shard === j)).map((j) => `shard ${j}: no provider outside the deal's holders took a lease`),
      ];
      const e = new RepairError(
        failures.length > 0 ? (failures[0] as (typeof failures)[number]).code : 'NOT_ENOUGH_PROVIDERS',
        `repaired shard(s) ${repaired.map((r) => r.shard).join(', ')} of deal ${order}; still lost: ${why.join('; ')}${problems.length ? `; ${problems.join('; ')}` : ''}: run the repair again`,
        { repairOrder },
      );
      e.repaired = repaired;
      throw e;
    }
    return { order, lost: lost0, repaired, repairOrder, deposit };
  } catch (caught) {
    const e: unknown = opts.signal?.aborted ? (opts.signal.reason ?? caught) : caught;
    if (e instanceof RepairError) {
      e.repairOrder = repairOrder;
      if (e.repaired.length > 0 || e.orderClosed) throw e;
    }
    if (repaired.length > 0) {
      // Interrupted after some repairs: only the unused leases go.
      const notes: string[] = [];
      for (const l of leases.filter((x) => !used.has(x.lease))) {
        const p = await releaseLease(client, signer, l, 'interrupted', opts);
        if (p) notes.push(p);
      }
      if (e instanceof GroundworkError) e.message = `${e.message} (after repairing shard(s) ${repaired.map((r) => r.shard).join(', ')})${notes.length ? `; ${notes.join('; ')}` : ''}`;
      if (e instanceof RepairError) e.repaired = repaired;
      throw e;
    }
    const a = await abandonOrder(client, signer, repairOrder, {
      what: 'repair order',
      ...(opts.txTimeoutMs !== undefined ? { txTimeoutMs: opts.txTimeoutMs } : {}),
      onClosed: (refunded) => opts.onStatus?.({ type: 'order-closed', repairOrder, refunded }),
    });
    if (e instanceof RepairError) e.orderClosed = a.closed;
    if (e instanceof GroundworkError) e.message = `${e.message}; ${a.text}`;
    throw e;
  }
}
