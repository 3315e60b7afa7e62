/**
 * storage keeper: deals, challenges, proofs, retrieval checks, repair.
 *
 * Lifecycle. The customer's client buys space through the market (a storage order with k + m
 * replicas), uploads shard j to lease j's provider, and sends `storage/create-deal` with every
 * shard's root and its provider's signed acknowledgment; the deal is then active.
 *
 * Challenges. At the first block of each period (params.periodBlocks) the chain stores the
 * period's seed (the app hash of the last committed block: nobody knew it before that block was
 * committed) and, for every active shard, draws whether it is challenged this period (each
 * provider expects about params.challengesPerProvider; one with fewer shards has all of them
 * challenged). A challenge asks params.leavesPerChallenge leaves at indices drawn from the seed;
 * the provider answers all of its challenges in one `storage/prove` tx before the next period.
 * The chain verifies each leaf and its Merkle path against the shard's root itself:
 *   - verified: the miss count resets and the work counts for the storage reward pool;
 *   - wrong answer: proven fraud (the provider signed the tx carrying it): penalties slashes its
 *     operator pool and jails the device; the shard is lost (its lease closes);
 *   - no answer by the period's end: a fault (storage-proof-missed; penalties' free faults,
 *     then penalties, then jail); after params.missesToLose consecutive misses the shard is lost.
 * Retrieval checks. Each period one shard of every active deal is also retrieval-checked: a
 * designated checker (the provider of the deal's next shard, or the customer) fetches the drawn
 * leaf over HTTP and reports `served` with the provider's signed receipt (verified here: the
 * receipt's leaf hash is on the shard's Merkle path) or `failed`; params.retrievalFailuresToFault
 * consecutive failures are a fault (retrieval-failed).
 * Repair. A lost shard (failed verification, or its lease closed by the provider or because its
 * device left) is rebuilt by a repair worker from k healthy shards, placed on a new lease, and
 * recorded with `storage/repair`: the new provider's acknowledgment must carry the same root
 * (a rebuilt shard is byte-identical), so the chain needs to trust nobody. The worker gets
 * params.repairFee from the deal's reserve.
 * A shard whose lease ends normally (expired, customer, insufficient-funds) ends; a deal with no
 * active shard left ends and its reserve goes back to the customer.
 */
import { concat, equals, toHex, utf8, type Bytes } from '../../../core/bytes.js';
import { decode, encode, u64 } from '../../../core/codec.js';
import { sha256, sha256Parts } from '../../../core/hash.js';
import { addressFromPublicKey, encodeAddress, moduleAddress, verifySignature } from '../../../core/keys.js';
import { verifyMerkleProof } from '../../../core/merkle.js';
import { isPieceSize, LEAF_SIZE, leafHash, verifyLeaf } from '../../../core/shardtree.js';
import type { KVReader } from '../../../state/overlay.js';
import type { Context } from '../../context.js';
import { prefixEnd } from '../../keys.js';
import { getParams } from '../../module.js';
import { u64b } from '../market/keys.js';
import { StorageErrors } from './errors.js';
import type { StorageDeps } from './expected.js';
import {
  activeKey,
  ACTIVE_PREFIX,
  customerDealKey,
  dealKey,
  duePeriodPrefix,
  dueKey,
  dueProviderPrefix,
  PERIOD_KEY,
  providerShardKey,
  rdueKey,
  rduePeriodPrefix,
  seedKey,
} from './keys.js';
import { retrievalReceiptSignBytes, shardAckSignBytes } from './signing.js';
import {
  dealRecordCodec,
  forgedProofEvidenceCodec,
  missedEvidenceCodec,
  retrievalDueCodec,
  storageParams,
  type AckSig,
  type DealRecord,
  type MsgCreateDeal,
  type MsgProve,
  type MsgRepair,
  type MsgRetrievalReport,
  type ProofItem,
  type RetrievalDue,
  type ShardRecord,
  type StorageParams,
} from './types.js';

/** Holds the deals' repair reserves. */
export const STORAGE_RESERVE = moduleAddress('storage_reserve');
export const FORGED_PROOF_KIND = 'storage-forged-proof';
const STORAGE_POOL = 0;
const MiB = 1n << 20n;
/** Lease close reasons after which a shard has simply ended (anything else loses it). */
const ENDED_REASONS = new Set(['expired', 'customer', 'insufficient-funds']);

export function storageParamsOf(store: KVReader): StorageParams {
  return getParams(store, 'storage', storageParams);
}

export function getDeal(store: KVReader, order: bigint): DealRecord | undefined {
  const b = store.get(dealKey(order));
  return b ? decode(dealRecordCodec, b) : undefined;
}

function putDeal(ctx: Context, order: bigint, d: DealRecord): void {
  ctx.store.set(dealKey(order), encode(dealRecordCodec, d, 512 + d.shards.length * 128));
}

function mustDeal(store: KVReader, order: bigint): DealRecord {
  const d = getDeal(store, order);
  if (!d) throw StorageErrors.DEAL_NOT_FOUND(`no storage deal for order ${order} (see groundwork store ls)`);
  return d;
}

export const leafCountOf = (d: Pick<DealRecord, 'shardBytes'>): number => Number(d.shardBytes / BigInt(LEAF_SIZE));

/** The period a height is in, and the first height of a period. */
export function periodOf(height: bigint, p: StorageParams): bigint {
  return height / p.periodBlocks;
}

export function periodStart(period: bigint, p: StorageParams): bigint {
  return period * p.periodBlocks;
}

/** The latest period whose challenges were drawn (0 before the first). */
export function latestPeriod(store: KVReader): bigint {
  const b = store.get(PERIOD_KEY);
  return b ? decode(u64, b) : 0n;
}

export function getSeed(store: KVReader, period: bigint): Bytes | undefined {
  return store.get(seedKey(period));
}

function draw(seed: Bytes, tag: string, order: bigint, shard: number, i: number): bigint {
  const h = sha256Parts(seed, utf8(tag), u64b(order), Uint8Array.of(shard, i));
  return Buffer.from(h.buffer, h.byteOffset, 8).readBigUInt64BE(0);
}

/** The leaf indices a challenge of shard `shard` of deal `order` asks in the period with `seed`. */
export function challengeLeaves(seed: Bytes, order: bigint, shard: number, n: number, leafCount: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(Number(draw(seed, 'leaf', order, shard, i) % BigInt(leafCount)));
  return out;
}

/** The nonce a retrieval check of deal `order` carries in the period with `seed` (the receipt signs it). */
export function retrievalNonce(seed: Bytes, order: bigint): Bytes {
  return sha256Parts(seed, utf8('retrieval-nonce'), u64b(order));
}

function verifyAck(ctx: Context, lease: bigint, provider: Bytes, root: Bytes, shardBytes: bigint, ack: AckSig, what: string): void {
  if (!equals(addressFromPublicKey(ack.pubKey), provider)) {
    throw StorageErrors.INVALID_ACK(`${what}: the acknowledgment is signed by ${encodeAddress(addressFromPublicKey(ack.pubKey))}, not the lease's provider ${encodeAddress(provider)}`);
  }
  if (!verifySignature(ack.pubKey, shardAckSignBytes(ctx.chainId, lease, root, shardBytes), ack.signature)) {
    throw StorageErrors.INVALID_ACK(`${what}: the signature does not cover lease ${lease}, root ${toHex(root)} and ${shardBytes} bytes on chain ${ctx.chainId}`);
  }
}

function leaseUsedKey(lease: bigint): Bytes {
  return concat(utf8('storage/lease/'), u64b(lease));
}

// ---------------------------------------------------------------------------------------------
// Deals

export function createDeal(ctx: Context, deps: StorageDeps, sender: Bytes, m: MsgCreateDeal): DealRecord {
  if (getDeal(ctx.store, m.order)) throw StorageErrors.DEAL_EXISTS(`order ${m.order} already has a deal (groundwork store status ${m.order})`);
  const o = deps.market.getOrder(ctx.store, m.order);
  if (!o) throw StorageErrors.INVALID_DEAL(`no order ${m.order}: create a storage order first (groundwork store put does)`);
  if (!equals(o.customer, sender)) throw StorageErrors.NOT_CUSTOMER(`order ${m.order} belongs to ${encodeAddress(o.customer)}`);
  if (o.spec.type !== 'storage') throw StorageErrors.INVALID_DEAL(`order ${m.order} is a ${o.spec.type} order, not storage`);
  if (m.k < 1 || m.k + m.m > 32) throw StorageErrors.INVALID_DEAL(`k + m must be 1-32 shards with k ≥ 1, got ${m.k} + ${m.m}`);
  if (m.shards.length !== m.k + m.m) throw StorageErrors.INVALID_DEAL(`a ${m.k}+${m.m} deal has ${m.k + m.m} shards, got ${m.shards.length}`);
  if (!isPieceSize(m.pieceSize)) throw StorageErrors.INVALID_DEAL(`piece size ${m.pieceSize} is not a power of two from ${LEAF_SIZE} to 1 MiB`);
  if (m.segments < 1n) throw StorageErrors.INVALID_DEAL('a deal has at least one segment');
  const capacity = BigInt(m.k * m.pieceSize - 16);
  if (m.size > m.segments * capacity || (m.segments > 1n && m.size <= (m.segments - 1n) * capacity)) {
    throw StorageErrors.INVALID_DEAL(`${m.segments} segments of ${capacity} bytes do not hold a file of ${m.size} bytes`);
  }
  const shardBytes = m.segments * BigInt(m.pieceSize);
  if (shardBytes > o.spec.value.bytes) throw StorageErrors.INVALID_DEAL(`a shard is ${shardBytes} bytes but order ${m.order} bought ${o.spec.value.bytes} per lease`);
  const seen = new Set<string>();
  const shards: ShardRecord[] = m.shards.map((s, j) => {
    const l = deps.market.getLease(ctx.store, s.lease);
    if (!l || l.order !== m.order) throw StorageErrors.INVALID_DEAL(`shard ${j}: lease ${s.lease} is not a lease of order ${m.order}`);
    if (l.status !== 'active') throw StorageErrors.INVALID_DEAL(`shard ${j}: lease ${s.lease} is ${l.status}`);
    const pk = toHex(l.provider);
    if (seen.has(pk) || seen.has(`l${s.lease}`)) throw StorageErrors.INVALID_DEAL(`shard ${j}: every shard needs its own lease and provider`);
    seen.add(pk);
    seen.add(`l${s.lease}`);
    if (ctx.store.get(leaseUsedKey(s.lease))) throw StorageErrors.INVALID_DEAL(`shard ${j}: lease ${s.lease} already holds a shard`);
    verifyAck(ctx, s.lease, l.provider, s.root, shardBytes, s.ack, `shard ${j}`);
    return { lease: s.lease, provider: l.provider, device: l.device, root: s.root, status: 'active', misses: 0, retrievalFails: 0, proofs: 0n, statusHeight: ctx.block.height };
  });
  const p = storageParamsOf(ctx.store);
  const reserve = p.repairFee * BigInt(m.m);
  if (reserve > 0n) deps.bank.transfer(ctx, sender, STORAGE_RESERVE, reserve);
  const d: DealRecord = {
    customer: sender,
    size: m.size,
    k: m.k,
    m: m.m,
    pieceSize: m.pieceSize,
    segments: m.segments,
    shardBytes,
    createdHeight: ctx.block.height,
    status: 'active',
    endedHeight: 0n,
    reserve,
    repairs: 0,
    shards,
  };
  putDeal(ctx, m.order, d);
  ctx.store.set(activeKey(m.order), Uint8Array.of(1));
  ctx.store.set(customerDealKey(sender, m.order), Uint8Array.of(1));
  shards.forEach((s, j) => {
    ctx.store.set(providerShardKey(s.provider, m.order, j), Uint8Array.of(1));
    ctx.store.set(leaseUsedKey(s.lease), Uint8Array.of(1));
    // Payments for the shard are held from now on, released by verified proofs.
    deps.market.gateLease(ctx, s.lease);
  });
  ctx.emit('storage.deal.created', () => ({ order: m.order, customer: encodeAddress(sender), k: m.k, m: m.m, size: m.size, shardBytes, reserve }));
  return d;
}

/**
 * Ends a shard (its provider stops holding it for the deal): its lease's held earnings are
 * released when it ended normally, forfeited to the customer when it was lost.
 */
function retireShard(ctx: Context, deps: StorageDeps, order: bigint, j: number, s: ShardRecord, status: 'lost' | 'ended'): void {
  s.status = status;
  s.statusHeight = ctx.block.height;
  ctx.store.delete(providerShardKey(s.provider, order, j));
  if (status === 'ended') deps.market.releaseLease(ctx, s.lease);
  else deps.market.forfeitLease(ctx, s.lease);
}

/** Marks a shard lost (awaiting repair) and closes its lease if still active. */
function loseShard(ctx: Context, deps: StorageDeps, order: bigint, j: number, s: ShardRecord, why: string): void {
  const l = deps.market.getLease(ctx.store, s.lease);
  if (l && l.status === 'active') deps.market.closeLease(ctx, s.lease, 'failed-verification');
  retireShard(ctx, deps, order, j, s, 'lost');
  ctx.emit('storage.shard.lost', () => ({ order, shard: j, provider: encodeAddress(s.provider), lease: s.lease, reason: why }));
}

function endDeal(ctx: Context, deps: StorageDeps, order: bigint, d: DealRecord, why: string): void {
  d.status = 'ended';
  d.endedHeight = ctx.block.height;
  const refund = d.reserve;
  if (refund > 0n) deps.bank.transfer(ctx, STORAGE_RESERVE, d.customer, refund);
  d.reserve = 0n;
  ctx.store.delete(activeKey(order));
  ctx.emit('storage.deal.ended', () => ({ order, customer: encodeAddress(d.customer), reason: why, refunded: refund }));
}

/** The customer ends a deal: every active shard's lease closes (reason customer), the reserve comes back. */
export function closeDeal(ctx: Context, deps: StorageDeps, sender: Bytes, order: bigint): void {
  const d = mustDeal(ctx.store, order);
  if (!equals(d.customer, sender)) throw StorageErrors.NOT_CUSTOMER(`deal ${order} belongs to ${encodeAddress(d.customer)}`);
  if (d.status !== 'active') throw StorageErrors.DEAL_ENDED(`deal ${order} ended at height ${d.endedHeight}`);
  d.shards.forEach((s, j) => {
    if (s.status !== 'active') return;
    const l = deps.market.getLease(ctx.store, s.lease);
    if (l && l.status === 'active') deps.market.closeLease(ctx, s.lease, 'customer');
    retireShard(ctx, deps, order, j, s, 'ended');
  });
  endDeal(ctx, deps, order, d, 'customer');
  putDeal(ctx, order, d);
}

/** Follows the shards' leases: a lease closed normally ends its shard, any other close loses it. True if the deal still has an active shard. */
function refreshDeal(ctx: Context, deps: StorageDeps, order: bigint, d: DealRecord): boolean {
  let changed = false;
  d.shards.forEach((s, j) => {
    if (s.status !== 'active') return;
    const l = deps.market.getLease(ctx.store, s.lease);
    if (l && l.status === 'active') return;
    changed = true;
    const reason = l?.closeReason ?? 'lease-gone';
    if (ENDED_REASONS.has(reason)) retireShard(ctx, deps, order, j, s, 'ended');
    else loseShard(ctx, deps, order, j, s, reason);
  });
  const active = d.shards.some((s) => s.status === 'active');
  if (!active) endDeal(ctx, deps, order, d, 'no-active-shard');
  if (changed || !active) putDeal(ctx, order, d);
  return active;
}

// ---------------------------------------------------------------------------------------------
// Periods: challenges drawn, unanswered ones become faults

export function endBlock(ctx: Context, deps: StorageDeps): void {
  const p = storageParamsOf(ctx.store);
  const h = ctx.block.height;
  if (h % p.periodBlocks !== 0n) return;
  const period = periodOf(h, p);
  if (period > 0n) closePeriod(ctx, deps, period - 1n, p);
  if (period > 1n) ctx.store.delete(seedKey(period - 2n));
  const seed = ctx.block.seed ?? sha256(utf8(ctx.chainId));
  ctx.store.set(seedKey(period), seed);
  ctx.store.set(PERIOD_KEY, encode(u64, period));

  // Pass 1: follow the leases; the active shards and each provider's count of them.
  const active: { order: bigint; d: DealRecord }[] = [];
  const perProvider = new Map<string, number>();
  for (const [k] of [...ctx.store.iterate(ACTIVE_PREFIX, prefixEnd(ACTIVE_PREFIX))]) {
    const order = Buffer.from(k.buffer, k.byteOffset, k.byteLength).readBigUInt64BE(ACTIVE_PREFIX.length);
    const d = getDeal(ctx.store, order) as DealRecord;
    if (!refreshDeal(ctx, deps, order, d)) continue;
    active.push({ order, d });
    for (const s of d.shards) if (s.status === 'active') perProvider.set(toHex(s.provider), (perProvider.get(toHex(s.provider)) ?? 0) + 1);
  }
  // Pass 2: draw the challenges and one retrieval check per deal.
  let challenges = 0;
  for (const { order, d } of active) {
    const live: number[] = [];
    d.shards.forEach((s, j) => {
      if (s.status !== 'active') return;
      live.push(j);
      const n = perProvider.get(toHex(s.provider)) as number;
      if (n > p.challengesPerProvider && draw(seed, 'challenge', order, j, 0) % BigInt(n) >= BigInt(p.challengesPerProvider)) return;
      ctx.store.set(dueKey(period, s.provider, order, j), Uint8Array.of(1));
      challenges++;
    });
    const pick = Number(draw(seed, 'retrieval', order, 0, 0) % BigInt(live.length));
    const j = live[pick] as number;
    const next = live.length > 1 ? (d.shards[live[(pick + 1) % live.length] as number] as ShardRecord).provider : d.customer;
    const due: RetrievalDue = { shard: j, leaf: Number(draw(seed, 'retrieval-leaf', order, j, 0) % BigInt(leafCountOf(d))), checker: next };
    ctx.store.set(rdueKey(period, order), encode(retrievalDueCodec, due));
  }
  ctx.emit('storage.period', () => ({ period, seed: toHex(seed), deals: active.length, challenges, deadline: periodStart(period + 1n, p) }));
}

/** The end of `period`: every challenge still due is a miss; retrieval checks not reported lapse. */
function closePeriod(ctx: Context, deps: StorageDeps, period: bigint, p: StorageParams): void {
  const prefix = duePeriodPrefix(period);
  for (const [k] of [...ctx.store.iterate(prefix, prefixEnd(prefix))]) {
    ctx.store.delete(k);
    const at = prefix.length + 20;
    const order = Buffer.from(k.buffer, k.byteOffset, k.byteLength).readBigUInt64BE(at);
    const j = k[at + 8] as number;
    const d = getDeal(ctx.store, order);
    const s = d?.shards[j];
    if (!d || !s || s.status !== 'active') continue;
    s.misses++;
    ctx.emit('storage.proof.missed', () => ({ period, order, shard: j, provider: encodeAddress(s.provider), misses: s.misses }));
    // Lose the shard first: its lease then closes as failed-verification even when this fault is
    // the one that jails the device (settling after the jail would close it as device-gone).
    if (s.misses >= p.missesToLose) loseShard(ctx, deps, order, j, s, 'storage-proof-missed');
    deps.penalties.reportFault(ctx, s.device, 'storage-proof-missed', encode(missedEvidenceCodec, { period, order, shard: j }));
    putDeal(ctx, order, d);
  }
  const rprefix = rduePeriodPrefix(period);
  for (const [k] of [...ctx.store.iterate(rprefix, prefixEnd(rprefix))]) ctx.store.delete(k);
}

// ---------------------------------------------------------------------------------------------
// Proofs

function currentPeriodSeed(ctx: Context, p: StorageParams, period: bigint): Bytes {
  const now = periodOf(ctx.block.height, p);
  if (period !== now) {
    throw StorageErrors.NOT_DUE(`period ${period} is ${period < now ? 'over' : 'not started'}: the current period is ${now} (heights ${periodStart(now, p)}-${periodStart(now + 1n, p) - 1n})`);
  }
  const seed = getSeed(ctx.store, period);
  if (!seed) throw StorageErrors.NOT_DUE(`no challenges were drawn for period ${period}`);
  return seed;
}

/**
 * A provider answers its challenges of the current period (one tx for all of them). Input that
 * does not answer the challenges asked (not due, answered twice, wrong leaf count or size)
 * fails the tx with nothing changed; an answer of the right shape that does not verify is
 * forged: the provider is punished for fraud and the shard is lost.
 */
export function prove(ctx: Context, deps: StorageDeps, sender: Bytes, m: MsgProve): { verified: number; forged: number } {
  const p = storageParamsOf(ctx.store);
  const seed = currentPeriodSeed(ctx, p, m.period);
  if (m.proofs.length === 0) throw StorageErrors.MALFORMED_PROOF('the tx answers no challenge');
  const seen = new Set<string>();
  const checked = m.proofs.map((item) => {
    const tag = `${item.order}/${item.shard}`;
    if (seen.has(tag)) throw StorageErrors.MALFORMED_PROOF(`the challenge of deal ${item.order} shard ${item.shard} is answered twice`);
    seen.add(tag);
    if (!ctx.store.get(dueKey(m.period, sender, item.order, item.shard))) {
      throw StorageErrors.NOT_DUE(`no challenge of deal ${item.order} shard ${item.shard} is due from ${encodeAddress(sender)} in period ${m.period} (not challenged, already answered, or not its shard)`);
    }
    const d = mustDeal(ctx.store, item.order);
    if (item.leaves.length !== p.leavesPerChallenge) throw StorageErrors.MALFORMED_PROOF(`a challenge asks ${p.leavesPerChallenge} leaves, got ${item.leaves.length}`);
    for (const l of item.leaves) if (l.data.length !== LEAF_SIZE) throw StorageErrors.MALFORMED_PROOF(`a leaf is ${LEAF_SIZE} bytes, got ${l.data.length}`);
    const leafCount = leafCountOf(d);
    const indices = challengeLeaves(seed, item.order, item.shard, p.leavesPerChallenge, leafCount);
    const s = d.shards[item.shard] as ShardRecord;
    const ok = item.leaves.every((l, i) => verifyLeaf(l.data, indices[i] as number, leafCount, l.path, s.root));
    return { item, d, s, ok, indices };
  });
  let verified = 0;
  let forged = 0;
  for (const { item, d, s, ok, indices } of checked) {
    ctx.store.delete(dueKey(m.period, sender, item.order, item.shard));
    if (ok) {
      verified++;
      s.misses = 0;
      s.proofs++;
      const units = (d.shardBytes + MiB - 1n) / MiB;
      const paid = deps.rewards.recordWork(ctx, { recipient: s.provider, pool: STORAGE_POOL, units, reason: 'storage-proof', device: s.device });
      const released = deps.market.releaseLease(ctx, s.lease);
      ctx.emit('storage.proof.verified', () => ({ period: m.period, order: item.order, shard: item.shard, provider: encodeAddress(s.provider), units, rewarded: paid ? 'yes' : 'no', released }));
    } else {
      forged++;
      // The lease closes as failed verification before the slash jails the device.
      loseShard(ctx, deps, item.order, item.shard, s, 'forged-storage-proof');
      punishForgery(ctx, deps, m.period, item, indices, s);
    }
    putDeal(ctx, item.order, d);
  }
  return { verified, forged };
}

function punishForgery(ctx: Context, deps: StorageDeps, period: bigint, item: ProofItem, indices: number[], s: ShardRecord): void {
  // The evidence keeps what was asked and the hashes of what was answered (the leaves
  // themselves are too large for a slash record; the tx that carried them is on chain).
  const answered = { ...item, leaves: item.leaves.map((l) => ({ data: leafHash(l.data), path: l.path })) };
  const evidence = encode(forgedProofEvidenceCodec, { chainId: ctx.chainId, period, item: answered, indices });
  const offence = sha256Parts(utf8('forged-proof'), u64b(period), u64b(item.order), Uint8Array.of(item.shard));
  deps.penalties.punishFraud(ctx, null, FORGED_PROOF_KIND, { device: s.device, reason: 'forged-storage-proof', offence }, evidence);
  ctx.emit('storage.proof.forged', () => ({ period, order: item.order, shard: item.shard, provider: encodeAddress(s.provider), root: toHex(s.root) }));
}

// ---------------------------------------------------------------------------------------------
// Retrieval checks

export function getRetrievalDue(store: KVReader, period: bigint, order: bigint): RetrievalDue | undefined {
  const b = store.get(rdueKey(period, order));
  return b ? decode(retrievalDueCodec, b) : undefined;
}

export function retrievalReport(ctx: Context, deps: StorageDeps, sender: Bytes, m: MsgRetrievalReport): void {
  const p = storageParamsOf(ctx.store);
  const seed = currentPeriodSeed(ctx, p, m.period);
  const due = getRetrievalDue(ctx.store, m.period, m.order);
  if (!due) throw StorageErrors.NOT_DUE(`no retrieval check of deal ${m.order} is due in period ${m.period} (already reported?)`);
  const d = mustDeal(ctx.store, m.order);
  if (!equals(sender, d.customer) && !equals(sender, due.checker)) {
    throw StorageErrors.NOT_CHECKER(`deal ${m.order}'s check in period ${m.period} is reported by ${encodeAddress(due.checker)} or the customer ${encodeAddress(d.customer)}`);
  }
  const s = d.shards[due.shard] as ShardRecord;
  if (m.result.type === 'served') {
    const r = m.result.value;
    if (!equals(addressFromPublicKey(r.pubKey), s.provider)) throw StorageErrors.INVALID_RECEIPT(`the receipt is signed by ${encodeAddress(addressFromPublicKey(r.pubKey))}, not the shard's provider ${encodeAddress(s.provider)}`);
    if (!verifyMerkleProof(r.leafHash, due.leaf, leafCountOf(d), r.path, s.root)) throw StorageErrors.INVALID_RECEIPT(`the receipt's leaf hash is not leaf ${due.leaf} of shard ${due.shard}`);
    if (!verifySignature(r.pubKey, retrievalReceiptSignBytes(ctx.chainId, s.root, due.leaf, r.leafHash, retrievalNonce(seed, m.order)), r.signature)) {
      throw StorageErrors.INVALID_RECEIPT('the receipt signature does not cover this check (root, leaf, leaf hash, nonce)');
    }
    s.retrievalFails = 0;
    ctx.emit('storage.retrieval.served', () => ({ period: m.period, order: m.order, shard: due.shard, provider: encodeAddress(s.provider), checker: encodeAddress(sender), receipt: toHex(sha256(r.signature)) }));
  } else {
    if (s.status === 'active') {
      s.retrievalFails++;
      ctx.emit('storage.retrieval.failed', () => ({ period: m.period, order: m.order, shard: due.shard, provider: encodeAddress(s.provider), checker: encodeAddress(sender), reason: m.result.value as string, fails: s.retrievalFails }));
      if (s.retrievalFails >= p.retrievalFailuresToFault) {
        s.retrievalFails = 0;
        deps.penalties.reportFault(ctx, s.device, 'retrieval-failed', encode(missedEvidenceCodec, { period: m.period, order: m.order, shard: due.shard }));
      }
    }
  }
  ctx.store.delete(rdueKey(m.period, m.order));
  putDeal(ctx, m.order, d);
}

// ---------------------------------------------------------------------------------------------
// Repair

export function repair(ctx: Context, deps: StorageDeps, sender: Bytes, m: MsgRepair): void {
  const d = mustDeal(ctx.store, m.order);
  if (d.status !== 'active') throw StorageErrors.DEAL_ENDED(`deal ${m.order} ended at height ${d.endedHeight}`);
  const s = d.shards[m.shard];
  if (!s) throw StorageErrors.INVALID_REPAIR(`deal ${m.order} has shards 0-${d.shards.length - 1}, not ${m.shard}`);
  if (s.status !== 'lost') throw StorageErrors.SHARD_NOT_LOST(`shard ${m.shard} of deal ${m.order} is ${s.status}`);
  const l = deps.market.getLease(ctx.store, m.lease);
  if (!l || l.status !== 'active') throw StorageErrors.INVALID_REPAIR(`lease ${m.lease} is ${l ? l.status : 'unknown'}`);
  const o = deps.market.getOrder(ctx.store, l.order);
  if (!o || o.spec.type !== 'storage') throw StorageErrors.INVALID_REPAIR(`lease ${m.lease} is not a storage lease`);
  if (!equals(o.customer, d.customer) && !equals(o.customer, sender)) throw StorageErrors.INVALID_REPAIR(`lease ${m.lease} is paid by ${encodeAddress(o.customer)}, neither the deal's customer nor the sender`);
  if (o.spec.value.bytes < d.shardBytes) throw StorageErrors.INVALID_REPAIR(`lease ${m.lease} holds ${o.spec.value.bytes} bytes; the shard is ${d.shardBytes}`);
  if (d.shards.some((x) => x.status === 'active' && equals(x.provider, l.provider))) throw StorageErrors.INVALID_REPAIR(`${encodeAddress(l.provider)} already holds a shard of deal ${m.order}`);
  if (ctx.store.get(leaseUsedKey(m.lease))) throw StorageErrors.INVALID_REPAIR(`lease ${m.lease} already holds a shard`);
  verifyAck(ctx, m.lease, l.provider, s.root, d.shardBytes, m.ack, `repair of shard ${m.shard}`);
  const old = s.provider;
  Object.assign(s, { lease: m.lease, provider: l.provider, device: l.device, status: 'active', misses: 0, retrievalFails: 0, statusHeight: ctx.block.height });
  ctx.store.set(providerShardKey(l.provider, m.order, m.shard), Uint8Array.of(1));
  ctx.store.set(leaseUsedKey(m.lease), Uint8Array.of(1));
  deps.market.gateLease(ctx, m.lease);
  d.repairs++;
  const p = storageParamsOf(ctx.store);
  const fee = d.reserve >= p.repairFee ? p.repairFee : 0n;
  if (fee > 0n) {
    deps.bank.transfer(ctx, STORAGE_RESERVE, sender, fee);
    d.reserve -= fee;
  }
  putDeal(ctx, m.order, d);
  ctx.emit('storage.shard.repaired', () => ({ order: m.order, shard: m.shard, lease: m.lease, from: encodeAddress(old), to: encodeAddress(l.provider), worker: encodeAddress(sender), fee }));
}

// ---------------------------------------------------------------------------------------------
// Reads for queries and agents

/** The challenges due from `provider` in `period`: what to answer, with the leaf indices. */
export function challengesOf(store: KVReader, provider: Bytes, period: bigint): Array<{ order: bigint; shard: number; root: Bytes; leafCount: number; leaves: number[] }> {
  const p = storageParamsOf(store);
  const seed = getSeed(store, period);
  if (!seed) return [];
  const prefix = dueProviderPrefix(period, provider);
  const out: Array<{ order: bigint; shard: number; root: Bytes; leafCount: number; leaves: number[] }> = [];
  for (const [k] of store.iterate(prefix, prefixEnd(prefix))) {
    const order = Buffer.from(k.buffer, k.byteOffset, k.byteLength).readBigUInt64BE(prefix.length);
    const shard = k[prefix.length + 8] as number;
    const d = getDeal(store, order);
    if (!d) continue;
    const leafCount = leafCountOf(d);
    out.push({ order, shard, root: (d.shards[shard] as ShardRecord).root, leafCount, leaves: challengeLeaves(seed, order, shard, p.leavesPerChallenge, leafCount) });
  }
  return out;
}

/** Retrieval checks due in `period` that `checker` may report (as designated checker or customer). */
export function retrievalsFor(store: KVReader, checker: Bytes, period: bigint): Array<{ order: bigint; due: RetrievalDue; root: Bytes; provider: Bytes; leafCount: number; nonce: Bytes }> {
  const seed = getSeed(store, period);
  if (!seed) return [];
  const prefix = rduePeriodPrefix(period);
  const out: Array<{ order: bigint; due: RetrievalDue; root: Bytes; provider: Bytes; leafCount: number; nonce: Bytes }> = [];
  for (const [k, v] of store.iterate(prefix, prefixEnd(prefix))) {
    const order = Buffer.from(k.buffer, k.byteOffset, k.byteLength).readBigUInt64BE(prefix.length);
    const due = decode(retrievalDueCodec, v);
    const d = getDeal(store, order);
    if (!d || (!equals(due.checker, checker) && !equals(d.customer, checker))) continue;
    const s = d.shards[due.shard] as ShardRecord;
    out.push({ order, due, root: s.root, provider: s.provider, leafCount: leafCountOf(d), nonce: retrievalNonce(seed, order) });
  }
  return out;
}
