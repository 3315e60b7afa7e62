/**
 * The reward manifest of an epoch: one line per recipient, in recipient address order.
 *
 *   line   = {epoch, index, recipient, amount, detailsHash}
 *   leaf   = SHA-256(0x00 || canonical(line))          (0x01 prefixes internal nodes: core/merkle)
 *   details = the items behind the amount: work items {pool, device, reason, units, weighted}
 *             in contribution key order, then stake items {operator, tokens} by operator
 *   detailsHash = SHA-256(canonical(details))
 *
 * A line's amount is a pure function of its items and the epoch's totals (lineAmount), so
 * anyone holding the items and the committed epoch record can recompute it, rebuild the leaf
 * and check it against the root. Only the root, the count and the totals go into state; the
 * lines themselves are node-side artifacts served with proofs.
 */
import type { Bytes } from '../../../core/bytes.js';
import { bytes32, decode, encode, list, string, struct, u128, u32, u64, u8, union, type Infer } from '../../../core/codec.js';
import { sha256 } from '../../../core/hash.js';
import { address } from '../../../core/keys.js';
import { merkleProof, merkleRoot } from '../../../core/merkle.js';
import { POOL_STAKERS, WORK_POOLS } from './params.js';

export const workItemCodec = struct('WorkItem', { pool: u8, device: bytes32, reason: string(32, 'reason'), units: u128, weighted: u128 });
export const stakeItemCodec = struct('StakeItem', { operator: address, tokens: u128 });
export const rewardItemCodec = union('RewardItem', { work: workItemCodec, stake: stakeItemCodec });
export const detailsCodec = list(rewardItemCodec, 1_000_000, 'reward items');
export type WorkItem = Infer<typeof workItemCodec>;
export type StakeItem = Infer<typeof stakeItemCodec>;
export type RewardItem = Infer<typeof rewardItemCodec>;

export const rewardLineCodec = struct('RewardLine', { epoch: u64, index: u32, recipient: address, amount: u128, detailsHash: bytes32 });
export type RewardLine = Infer<typeof rewardLineCodec>;

/** What the artifact stores per line (epoch and index are implied by its position). */
export const storedLineCodec = struct('StoredLine', { recipient: address, amount: u128, items: detailsCodec });
export type StoredLine = Infer<typeof storedLineCodec>;
export const manifestChunkCodec = list(storedLineCodec, 1_000_000, 'manifest chunk');
export const manifestMetaCodec = struct('ManifestMeta', { count: u32, chunkSize: u32, firstRecipients: list(address, 1_000_000) });
export type ManifestMeta = Infer<typeof manifestMetaCodec>;

/** The totals a line's amount depends on (from the committed epoch record). */
export interface EpochTotals {
  /** ugw allocated to each pool this epoch (storage, compute, coverage, stakers, treasury). */
  readonly alloc: readonly bigint[];
  /** Weighted units of each work pool. */
  readonly workUnits: readonly bigint[];
  /** Eligible bonded stake. */
  readonly stake: bigint;
}

/**
 * A recipient's reward: for each work pool, floor(alloc × its weighted units / pool units);
 * for stake, floor(stakers alloc × its tokens / eligible stake). Each term rounds toward zero;
 * the remainders stay with the epoch (the keeper sends them to the treasury).
 */
export function lineAmount(t: EpochTotals, items: readonly RewardItem[]): { amount: bigint; byPool: bigint[] } {
  const units = [0n, 0n, 0n];
  let tokens = 0n;
  for (const it of items) {
    if (it.type === 'work') units[it.value.pool] = (units[it.value.pool] as bigint) + it.value.weighted;
    else tokens += it.value.tokens;
  }
  const byPool = [0n, 0n, 0n, 0n, 0n];
  for (let p = 0; p < WORK_POOLS; p++) {
    const w = t.workUnits[p] as bigint;
    if (w > 0n) byPool[p] = ((t.alloc[p] as bigint) * (units[p] as bigint)) / w;
  }
  if (t.stake > 0n) byPool[POOL_STAKERS] = ((t.alloc[POOL_STAKERS] as bigint) * tokens) / t.stake;
  return { amount: byPool.reduce((a, b) => a + b, 0n), byPool };
}

const LEAF_TAG = Uint8Array.of(0x00);

export function detailsHash(items: readonly RewardItem[]): Bytes {
  return sha256(encode(detailsCodec, items));
}

export function leafHash(line: RewardLine): Bytes {
  const body = encode(rewardLineCodec, line);
  const b = Buffer.allocUnsafe(1 + body.length);
  b.set(LEAF_TAG, 0);
  b.set(body, 1);
  return sha256(b);
}

/** Lines and leaves of a manifest, with their proofs (node side: serves claims and explain). */
export class Manifest {
  constructor(
    readonly epoch: bigint,
    readonly lines: readonly StoredLine[],
    readonly leaves: readonly Bytes[],
  ) {}

  get root(): Bytes {
    return merkleRoot(this.leaves);
  }

  /** Indexes of `recipient`'s lines (one per recipient: lines are grouped by recipient). */
  find(recipient: Bytes): number[] {
    let lo = 0;
    let hi = this.lines.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (Buffer.compare((this.lines[mid] as StoredLine).recipient, recipient) < 0) lo = mid + 1;
      else hi = mid;
    }
    const out: number[] = [];
    for (let i = lo; i < this.lines.length && Buffer.compare((this.lines[i] as StoredLine).recipient, recipient) === 0; i++) out.push(i);
    return out;
  }

  proof(index: number): Bytes[] {
    return merkleProof(this.leaves, index);
  }

  static fromArtifacts(epoch: bigint, read: (chunk: number) => Bytes | undefined, meta: ManifestMeta): Manifest {
    const lines: StoredLine[] = [];
    const chunks = Math.ceil(meta.count / Math.max(1, meta.chunkSize));
    for (let c = 0; c < chunks; c++) {
      const b = read(c);
      if (!b) break;
      for (const l of decode(manifestChunkCodec, b)) lines.push(l);
    }
    const leaves = lines.map((l, i) => leafHash({ epoch, index: i, recipient: l.recipient, amount: l.amount, detailsHash: detailsHash(l.items) }));
    return new Manifest(epoch, lines, leaves);
  }
}
