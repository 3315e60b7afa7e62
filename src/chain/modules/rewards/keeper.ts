/**
 * rewards keeper: contributions in, one reward manifest per epoch out, claims against it.
 *
 * - recordContribution: the one narrow interface verticals report verified work through
 *   (recipient, pool, units, reason, device). Units are weighted by the device's status
 *   (warned: warnedMultiplierBps) and accumulated per (epoch, recipient, pool, device, reason).
 * - closeEpoch (from the epochs module's end hook): emission for the epoch, split into pools,
 *   every recipient's line computed from the epoch's contributions and the bonded stake, the
 *   Merkle root + count + totals written as ONE epoch record, the lines handed to the node as
 *   artifacts. Tokens: the lines' total is minted into the rewards pool account (paid out by
 *   claims), the treasury's share plus all rounding remainders into the treasury, and the
 *   allocation of a pool nobody earned from is not minted (recorded as `unissued`).
 * - claim: proof of a line against the root, one bit per line marks it paid.
 */
import { equals, type Bytes } from '../../../core/bytes.js';
import type { LeafHasher } from '../../../core/leafhash.js';
import { decode, encode, list, struct, u128, u32, u64, bytes32, type Infer } from '../../../core/codec.js';
import { encodeAddress, moduleAddress } from '../../../core/keys.js';
import { scanRange, type KVReader, type KVStore } from '../../../state/overlay.js';
import type { Context } from '../../context.js';
import { getParams } from '../../module.js';
import { burn, mint, transfer } from '../bank/keeper.js';
import { RewardsErrors } from './errors.js';
import type { DeviceSource, StakeSource } from './expected.js';
import {
  CK_DEVICE,
  CK_POOL,
  CK_REASON,
  CK_RECIPIENT,
  CLAIM_CHUNK_BITS,
  EMITTED_KEY,
  PRUNE_KEY,
  claimedKey,
  contribEpochPrefix,
  contribKey,
  epochKey,
  manifestChunkKey,
  manifestMetaKey,
  totalsKey,
} from './keys.js';
import { ManifestBuilder, leafHash, manifestMetaCodec, verifyManifestProof } from './manifest.js';
import { BPS, POOLS, POOL_STAKERS, POOL_TREASURY, WORK_POOLS, epochEmission, rewardsParams, splitEmission, splitPayment } from './params.js';
import { prefixEnd } from '../../keys.js';
import { currentEpoch } from '../epochs/index.js';

export const REWARDS_POOL = moduleAddress('rewards_pool');
export const TREASURY = moduleAddress('treasury');
const ZERO_DEVICE = new Uint8Array(32);
/**
 * Lines per manifest artifact chunk (~250 KB). Measured at 1M lines: 4,096-line chunks cost LMDB
 * more at commit (bigger overflow-page runs to allocate), 1,024-line ones more at build time.
 */
export const CHUNK_LINES = 2048;
const REASON_RE = /^[a-z0-9][a-z0-9_-]{0,31}$/;

export const contributionCodec = struct('Contribution', { units: u128, weighted: u128 });
export type Contribution = Infer<typeof contributionCodec>;
const totalsCodec = list(u128, WORK_POOLS);

export const poolRecordCodec = struct('PoolRecord', { alloc: u128, units: u128, paid: u128 });
export const epochRecordCodec = struct('EpochRecord', {
  epoch: u64,
  closedHeight: u64,
  root: bytes32,
  count: u32,
  emission: u128,
  /** storage, compute, coverage, stakers, treasury. */
  pools: list(poolRecordCodec, 5),
  /** Eligible bonded stake the stakers pool was shared over. */
  stake: u128,
  /** Minted into the rewards pool (the sum of the lines). */
  minted: u128,
  /** Minted into the treasury: its pool plus every rounding remainder. */
  treasury: u128,
  /** Allocation of pools nobody earned from: never minted. */
  unissued: u128,
});
export type EpochRecord = Infer<typeof epochRecordCodec>;

export function getEpochRecord(store: KVReader, epoch: bigint): EpochRecord | undefined {
  const b = store.get(epochKey(epoch));
  return b ? decode(epochRecordCodec, b) : undefined;
}

export function workTotals(store: KVReader, epoch: bigint): bigint[] {
  const b = store.get(totalsKey(epoch));
  return b ? decode(totalsCodec, b) : [0n, 0n, 0n];
}

export function getEmitted(store: KVReader): bigint {
  const b = store.get(EMITTED_KEY);
  return b ? decode(u128, b) : 0n;
}

export function getContribution(store: KVReader, epoch: bigint, recipient: Bytes, pool: number, device: Bytes, reason: string): Contribution | undefined {
  const b = store.get(contribKey(epoch, recipient, pool, device, reason));
  return b ? decode(contributionCodec, b) : undefined;
}

export interface ContributionReport {
  readonly recipient: Bytes;
  /** 0 storage, 1 compute, 2 coverage. */
  readonly pool: number;
  readonly units: bigint;
  /** Why (a reason code, e.g. "storage-proof", "coverage-beacon"). */
  readonly reason: string;
  /** The device that did the work (32 zero bytes: none). */
  readonly device?: Bytes;
}

/**
 * Records verified work for the current epoch. Throws DEVICE_INELIGIBLE for a jailed, retired
 * or unknown device, INVALID_CONTRIBUTION for a bad pool/reason/units. Returns the weighted units.
 */
export function recordContribution(ctx: Context, devices: DeviceSource, c: ContributionReport): bigint {
  if (!Number.isInteger(c.pool) || c.pool < 0 || c.pool >= WORK_POOLS) throw RewardsErrors.INVALID_CONTRIBUTION(`pool ${c.pool} is not a work pool (0-${WORK_POOLS - 1})`);
  if (!REASON_RE.test(c.reason)) throw RewardsErrors.INVALID_CONTRIBUTION(`reason "${c.reason}" must be 1-32 characters of a-z, 0-9, "_" or "-"`);
  if (c.units <= 0n) throw RewardsErrors.INVALID_CONTRIBUTION('units must be greater than zero');
  const device = c.device ?? ZERO_DEVICE;
  let multiplier = BPS;
  if (!equals(device, ZERO_DEVICE)) {
    const status = devices.statusOf(ctx.store, device);
    if (status === undefined) throw RewardsErrors.DEVICE_INELIGIBLE(`device ${Buffer.from(device).toString('hex')} is not registered`);
    if (status === 'jailed' || status === 'retired') throw RewardsErrors.DEVICE_INELIGIBLE(`device ${Buffer.from(device).toString('hex')} is ${status} and earns nothing`);
    if (status === 'warned') multiplier = getParams(ctx.store, 'rewards', rewardsParams).warnedMultiplierBps;
  }
  // Weight rounds toward zero per report; the dropped fraction is simply not earned.
  const weighted = (c.units * multiplier) / BPS;
  const epoch = currentEpoch(ctx.store);
  const key = contribKey(epoch, c.recipient, c.pool, device, c.reason);
  const prev = ctx.store.get(key);
  const cur = prev ? decode(contributionCodec, prev) : { units: 0n, weighted: 0n };
  ctx.store.set(key, encode(contributionCodec, { units: cur.units + c.units, weighted: cur.weighted + weighted }));
  const tk = totalsKey(epoch);
  const tb = ctx.store.get(tk);
  const totals = tb ? decode(totalsCodec, tb) : [0n, 0n, 0n];
  totals[c.pool] = (totals[c.pool] as bigint) + weighted;
  ctx.store.set(tk, encode(totalsCodec, totals));
  ctx.emit('rewards.contribution', () => ({
    epoch,
    recipient: encodeAddress(c.recipient),
    pool: POOLS[c.pool] as string,
    device: Buffer.from(device).toString('hex'),
    reason: c.reason,
    units: c.units,
    weighted,
  }));
  return weighted;
}

/** The staking side of a manifest: eligible delegations sorted by delegator, and their total. */
function eligibleStake(store: KVReader, stake: StakeSource): { rows: { delegator: Bytes; operator: Bytes; tokens: bigint }[]; total: bigint } {
  const rows: { delegator: Bytes; operator: Bytes; tokens: bigint }[] = [];
  let total = 0n;
  const jailed = new Map<string, boolean>();
  for (const d of stake.iterateDelegations(store)) {
    if (d.tokens === 0n) continue;
    const k = Buffer.from(d.operator).toString('latin1');
    let j = jailed.get(k);
    if (j === undefined) {
      j = stake.isJailed(store, d.operator);
      jailed.set(k, j);
    }
    if (j) continue;
    rows.push(d);
    total += d.tokens;
  }
  return { rows, total };
}

/** Compares the 20 bytes of `key` at `at` with `addr` (no subarray view). */
function compareAt(key: Bytes, at: number, addr: Bytes): number {
  for (let i = 0; i < 20; i++) {
    const d = (key[at + i] as number) - (addr[i] as number);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * Closes `epoch`: computes the manifest, writes the epoch record, mints, emits the artifacts.
 * Writes a constant number of state entries whatever the number of recipients.
 */
export function closeEpoch(ctx: Context, stakeSource: StakeSource, epoch: bigint, hasher?: LeafHasher): EpochRecord {
  const p = getParams(ctx.store, 'rewards', rewardsParams);
  const emittedBefore = getEmitted(ctx.store);
  const emission = epochEmission(p, epoch, emittedBefore);
  const alloc = splitEmission(p, emission);
  const workUnits = workTotals(ctx.store, epoch);
  const stake = eligibleStake(ctx.store, stakeSource);
  const totals = { alloc, workUnits, stake: stake.total };

  const builder = new ManifestBuilder(epoch, totals, CHUNK_LINES, (no, bytes) => ctx.putArtifact(manifestChunkKey(epoch, no), bytes), hasher);

  // Merge the contributions (key order = recipient order) with the stake rows (delegator order):
  // one line per recipient, its work items then its stake items. The scan hands out transient
  // views; the builder copies what it keeps and nothing here reads the store meanwhile.
  const rows = stake.rows;
  let si = 0;
  let open = false;
  const recipient = Buffer.alloc(20);
  const closeLine = (): void => {
    while (si < rows.length && equals((rows[si] as { delegator: Bytes }).delegator, recipient)) {
      const r = rows[si++] as { operator: Bytes; tokens: bigint };
      builder.addStake(r.operator, r.tokens);
    }
    builder.endLine(recipient);
  };
  /** Lines of stakers with no work, ordered before the recipient of contribution key `k` (all: undefined). */
  const stakeOnlyLines = (k: Bytes | undefined): void => {
    while (si < rows.length && (k === undefined || compareAt(k, CK_RECIPIENT, (rows[si] as { delegator: Bytes }).delegator) > 0)) {
      recipient.set((rows[si] as { delegator: Bytes }).delegator);
      closeLine();
    }
  };
  const prefix = contribEpochPrefix(epoch);
  scanRange(ctx.store, prefix, prefixEnd(prefix), (k, v) => {
    if (!open || !ManifestBuilder.sameRecipient(k, CK_RECIPIENT, recipient)) {
      if (open) closeLine();
      stakeOnlyLines(k);
      for (let i = 0; i < 20; i++) recipient[i] = k[CK_RECIPIENT + i] as number;
      open = true;
    }
    builder.addWork(k[CK_POOL] as number, k, CK_DEVICE, CK_REASON, v);
  });
  if (open) closeLine();
  stakeOnlyLines(undefined);
  const root = builder.finish();
  const paid = builder.paid;
  ctx.putArtifact(manifestMetaKey(epoch), encode(manifestMetaCodec, { count: builder.count, chunkSize: CHUNK_LINES, firstRecipients: builder.firstRecipients }));

  // Where every ugw of the allocation goes: paid lines, treasury (its pool + remainders of the
  // pools someone earned from), or unissued (pools nobody earned from).
  let treasury = alloc[POOL_TREASURY] as bigint;
  let unissued = 0n;
  const pools = [];
  for (let i = 0; i < 5; i++) {
    const a = alloc[i] as bigint;
    const units = i < WORK_POOLS ? (workUnits[i] as bigint) : i === POOL_STAKERS ? stake.total : 0n;
    if (i !== POOL_TREASURY) {
      if (units === 0n) unissued += a;
      else treasury += a - (paid[i] as bigint);
    }
    pools.push({ alloc: a, units, paid: i === POOL_TREASURY ? a : (paid[i] as bigint) });
  }
  const minted = paid.reduce((x, y) => x + y, 0n);
  const record: EpochRecord = {
    epoch,
    closedHeight: ctx.block.height,
    root,
    count: builder.count,
    emission,
    pools,
    stake: stake.total,
    minted,
    treasury,
    unissued,
  };
  ctx.store.set(epochKey(epoch), encode(epochRecordCodec, record));
  ctx.store.set(EMITTED_KEY, encode(u128, emittedBefore + minted + treasury));
  if (minted > 0n) mint(ctx, REWARDS_POOL, minted);
  if (treasury > 0n) mint(ctx, TREASURY, treasury);
  ctx.emit('rewards.epoch', () => ({
    epoch,
    root: Buffer.from(record.root).toString('hex'),
    lines: record.count,
    emission,
    minted,
    treasury,
    unissued,
  }));
  return record;
}

export interface ClaimInput {
  readonly epoch: bigint;
  readonly index: number;
  readonly recipient: Bytes;
  readonly amount: bigint;
  readonly detailsHash: Bytes;
  readonly proof: readonly Bytes[];
}

export function isClaimed(store: KVReader, epoch: bigint, index: number): boolean {
  const b = store.get(claimedKey(epoch, Math.floor(index / CLAIM_CHUNK_BITS)));
  if (!b) return false;
  const bit = index % CLAIM_CHUNK_BITS;
  return (((b[bit >> 3] as number) >> (bit & 7)) & 1) === 1;
}

function markClaimed(store: KVStore, epoch: bigint, index: number): void {
  const key = claimedKey(epoch, Math.floor(index / CLAIM_CHUNK_BITS));
  const prev = store.get(key);
  const b = new Uint8Array(CLAIM_CHUNK_BITS / 8);
  if (prev) b.set(prev);
  const bit = index % CLAIM_CHUNK_BITS;
  b[bit >> 3] = (b[bit >> 3] as number) | (1 << (bit & 7));
  store.set(key, b);
}

/**
 * Pays a manifest line to its recipient (anyone may submit the claim; the tokens always go to
 * the recipient in the line). Idempotent: a second claim fails with ALREADY_CLAIMED.
 */
export function claim(ctx: Context, c: ClaimInput): void {
  const rec = getEpochRecord(ctx.store, c.epoch);
  if (!rec) throw RewardsErrors.UNKNOWN_EPOCH(`epoch ${c.epoch} has not closed; check it with: groundwork rewards epoch ${c.epoch}`);
  if (c.index < 0 || c.index >= rec.count) throw RewardsErrors.BAD_PROOF(`line ${c.index} is out of range: epoch ${c.epoch} has ${rec.count} lines`);
  if (c.amount <= 0n) throw RewardsErrors.INVALID_AMOUNT();
  const leaf = leafHash({ epoch: c.epoch, index: c.index, recipient: c.recipient, amount: c.amount, detailsHash: c.detailsHash });
  if (!verifyManifestProof(leaf, c.index, rec.count, c.proof, rec.root)) {
    throw RewardsErrors.BAD_PROOF(`line ${c.index} of epoch ${c.epoch} (${encodeAddress(c.recipient)}, ${c.amount}ugw) is not in the manifest; fetch the line and proof again`);
  }
  if (isClaimed(ctx.store, c.epoch, c.index)) throw RewardsErrors.ALREADY_CLAIMED(`line ${c.index} of epoch ${c.epoch} was already paid to ${encodeAddress(c.recipient)}`);
  markClaimed(ctx.store, c.epoch, c.index);
  transfer(ctx, REWARDS_POOL, c.recipient, c.amount);
  ctx.emit('rewards.claim', () => ({ epoch: c.epoch, index: c.index, recipient: encodeAddress(c.recipient), amount: c.amount }));
}

/**
 * A customer payment with the protocol's take (see splitPayment): `amount` leaves `payer`,
 * provider gets the rest after the take, part of the take is burned, the rest goes to the
 * treasury. Returns the split.
 */
export function payWithTake(ctx: Context, payer: Bytes, provider: Bytes, amount: bigint): { provider: bigint; burn: bigint; treasury: bigint } {
  if (amount <= 0n) throw RewardsErrors.INVALID_AMOUNT();
  const s = splitPayment(getParams(ctx.store, 'rewards', rewardsParams), amount);
  if (s.provider > 0n) transfer(ctx, payer, provider, s.provider);
  if (s.treasury > 0n) transfer(ctx, payer, TREASURY, s.treasury);
  if (s.burn > 0n) burn(ctx, payer, s.burn);
  ctx.emit('rewards.take', () => ({ payer: encodeAddress(payer), provider: encodeAddress(provider), amount, burned: s.burn, treasury: s.treasury }));
  return s;
}

/**
 * Several customer payments from one payer to one account, each split as payWithTake splits it
 * (the same rounding per payment), with the bank moves done once for the total: one transfer of
 * the providers' shares to `to`, one to the treasury, one burn. Returns each payment's provider
 * share, in order.
 */
export function payWithTakeMany(ctx: Context, payer: Bytes, to: Bytes, amounts: readonly bigint[]): bigint[] {
  const p = getParams(ctx.store, 'rewards', rewardsParams);
  let provider = 0n;
  let burned = 0n;
  let treasury = 0n;
  const shares = amounts.map((a) => {
    if (a <= 0n) throw RewardsErrors.INVALID_AMOUNT();
    const s = splitPayment(p, a);
    provider += s.provider;
    burned += s.burn;
    treasury += s.treasury;
    return s.provider;
  });
  if (provider > 0n) transfer(ctx, payer, to, provider);
  if (treasury > 0n) transfer(ctx, payer, TREASURY, treasury);
  if (burned > 0n) burn(ctx, payer, burned);
  if (amounts.length > 0) ctx.emit('rewards.take', () => ({ payer: encodeAddress(payer), provider: encodeAddress(to), amount: provider + burned + treasury, burned, treasury }));
  return shares;
}

/**
 * Deletes contributions of epochs older than keepEpochs, at most `budget` entries per block, so
 * state does not grow forever and no block pays for a whole epoch's cleanup.
 */
export function pruneContributions(ctx: Context, budget: number): void {
  const keep = getParams(ctx.store, 'rewards', rewardsParams).keepEpochs;
  if (keep === 0n) return;
  const cur = currentEpoch(ctx.store);
  const pb = ctx.store.get(PRUNE_KEY);
  let e = pb ? decode(u64, pb) : 0n;
  let left = budget;
  while (e + keep < cur && left > 0) {
    const prefix = contribEpochPrefix(e);
    const keys: Bytes[] = [];
    for (const [k] of ctx.store.iterate(prefix, prefixEnd(prefix))) {
      keys.push(k);
      if (keys.length >= left) break;
    }
    for (const k of keys) ctx.store.delete(k);
    left -= keys.length;
    if (left > 0) {
      ctx.store.delete(totalsKey(e));
      e++;
    }
  }
  if (!pb || decode(u64, pb) !== e) ctx.store.set(PRUNE_KEY, encode(u64, e));
}

export { POOLS, BPS };
