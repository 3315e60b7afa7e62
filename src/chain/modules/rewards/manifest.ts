/**
 * The reward manifest of an epoch: one line per recipient, in recipient address order.
 *
 *   line   = {epoch, index, recipient, amount, detailsHash}
 *   leaf   = SHA-256(0x00 || canonical(line)); the root is a 16-ary Merkle tree over the leaves
 *            (core/widemerkle: internal nodes SHA-256(0x01 || children))
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
import { inlineLeafHasher, type LeafHasher, type LeafJob } from '../../../core/leafhash.js';
import { address } from '../../../core/keys.js';
import { WIDE_ARITY, verifyWideProof, wideLevels, wideProof, wideRoot } from '../../../core/widemerkle.js';
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

/** Checks a line's leaf against an epoch root (16-ary tree of core/widemerkle). */
export function verifyManifestProof(leaf: Bytes, index: number, count: number, proof: readonly Bytes[], root: Bytes): boolean {
  return verifyWideProof(leaf, index, count, proof, root, WIDE_ARITY);
}

/** Most proof hashes a line can need: 15 per level, 16 levels cover 2^64 lines. */
export const MAX_PROOF_HASHES = (WIDE_ARITY - 1) * 16;

/** Lines and leaves of a manifest, with their proofs (node side: serves claims and explain). */
export class Manifest {
  private levels: Buffer[] | undefined;

  constructor(
    readonly epoch: bigint,
    readonly lines: readonly StoredLine[],
    /** count × 32 bytes. */
    readonly leaves: Buffer,
  ) {}

  private tree(): Buffer[] {
    this.levels ??= wideLevels(this.leaves, this.lines.length, WIDE_ARITY);
    return this.levels;
  }

  get root(): Bytes {
    if (this.lines.length === 0) return wideRoot(this.leaves, 0);
    const t = this.tree();
    return Buffer.from((t[t.length - 1] as Buffer).subarray(0, 32));
  }

  leaf(index: number): Bytes {
    return Buffer.from(this.leaves.subarray(index * 32, index * 32 + 32));
  }

  /** Indexes of `recipient`'s lines (at most one: lines are grouped by recipient). */
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
    return wideProof(this.tree(), this.lines.length, index, WIDE_ARITY);
  }

  static fromArtifacts(epoch: bigint, read: (chunk: number) => Bytes | undefined, meta: ManifestMeta): Manifest {
    const lines: StoredLine[] = [];
    const chunks = Math.ceil(meta.count / Math.max(1, meta.chunkSize));
    for (let c = 0; c < chunks; c++) {
      const b = read(c);
      if (!b) break;
      for (const l of decode(manifestChunkCodec, b)) lines.push(l);
    }
    const leaves = Buffer.allocUnsafe(lines.length * 32);
    lines.forEach((l, i) => leaves.set(leafHash({ epoch, index: i, recipient: l.recipient, amount: l.amount, detailsHash: detailsHash(l.items) }), i * 32));
    return new Manifest(epoch, lines, leaves);
  }
}

/** A growable byte buffer with the few canonical-encoding writes the builder needs. */
class Sink {
  buf: Buffer;
  pos = 0;
  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
  raw(b: Bytes, start = 0, end = b.length): void {
    const n = end - start;
    this.ensure(n);
    const buf = this.buf;
    let p = this.pos;
    // Short copies (keys, hashes) byte by byte: cheaper than creating a subarray view.
    if (n <= 64) for (let i = start; i < end; i++) buf[p++] = b[i] as number;
    else {
      buf.set(b.subarray(start, end), p);
      p += n;
    }
    this.pos = p;
  }
  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }
  u32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32BE(v, this.pos);
    this.pos += 4;
  }
  u128(v: bigint): void {
    this.ensure(16);
    writeU128(this.buf, v, this.pos);
    this.pos += 16;
  }
}

/** `v` as a big-endian u128 at `off` (values below 2^48, nearly all amounts, without bigint shifts). */
function writeU128(b: Buffer, v: bigint, off: number): void {
  if (v <= 0xffff_ffff_ffffn) {
    for (let i = off; i < off + 10; i++) b[i] = 0;
    b.writeUIntBE(Number(v), off + 10, 6);
  } else {
    b.writeBigUInt64BE(v >> 64n, off);
    b.writeBigUInt64BE(v & 0xffff_ffff_ffff_ffffn, off + 8);
  }
}

/** A big-endian u128 at `off` (values below 2^48 take a fast path with no intermediate bigints). */
function readU128(b: Bytes, off: number): bigint {
  let high = 0;
  for (let i = off; i < off + 10; i++) high |= b[i] as number;
  if (high === 0) {
    let v = 0;
    for (let i = off + 10; i < off + 16; i++) v = v * 256 + (b[i] as number);
    return BigInt(v);
  }
  let v = 0n;
  for (let i = off; i < off + 16; i++) v = (v << 8n) | BigInt(b[i] as number);
  return v;
}

/**
 * Builds a manifest in one pass without an object per line: items are encoded straight into
 * their canonical bytes (the same bytes detailsCodec gives, checked by tests and by the bench
 * against Manifest.fromArtifacts), hashed, and appended to the artifact chunk; leaves go into
 * one flat buffer. This is the hot loop of an epoch close.
 */
export class ManifestBuilder {
  private readonly hashing: LeafJob;
  count = 0;
  private readonly items = new Sink(4096);
  private itemCount = 0;
  private readonly units = [0n, 0n, 0n];
  private tokens = 0n;
  private readonly chunk = new Sink(1 << 20);
  private chunkLines = 0;
  private chunkNo = 0;
  /** The leaf preimage's head: 0x00 || epoch u64 || index u32 || recipient 20 || amount u128 (detailsHash follows). */
  private readonly pre = Buffer.alloc(49);
  readonly firstRecipients: Bytes[] = [];
  readonly paid = [0n, 0n, 0n, 0n, 0n];

  constructor(
    readonly epoch: bigint,
    private readonly totals: EpochTotals,
    private readonly chunkLinesMax: number,
    private readonly onChunk: (no: number, bytes: Bytes) => void,
    hasher: LeafHasher = inlineLeafHasher,
  ) {
    this.hashing = hasher.start();
    this.pre[0] = 0x00;
    this.pre.writeBigUInt64BE(epoch, 1);
    this.chunk.u32(0);
    this.beginLine();
  }

  private beginLine(): void {
    this.items.pos = 4;
    this.itemCount = 0;
    this.units[0] = this.units[1] = this.units[2] = 0n;
    this.tokens = 0n;
  }

  /** A work item from a contribution entry: pool, device and reason from the key, value = units u128 || weighted u128. */
  addWork(pool: number, key: Bytes, deviceAt: number, reasonAt: number, value: Bytes): void {
    const s = this.items;
    s.u8(0);
    s.u8(pool);
    s.raw(key, deviceAt, deviceAt + 32);
    s.u32(key.length - reasonAt);
    s.raw(key, reasonAt);
    s.raw(value, 0, 32);
    this.units[pool] = (this.units[pool] as bigint) + readU128(value, 16);
    this.itemCount++;
  }

  addStake(operator: Bytes, tokens: bigint): void {
    const s = this.items;
    s.u8(1);
    s.raw(operator);
    s.u128(tokens);
    this.tokens += tokens;
    this.itemCount++;
  }

  /** Ends the current line (lineAmount over its items); a line worth 0 is dropped. */
  /** Whether `key` bytes [at, at+20) equal the current line's recipient (no subarray view). */
  static sameRecipient(key: Bytes, at: number, recipient: Bytes): boolean {
    for (let i = 0; i < 20; i++) if (key[at + i] !== recipient[i]) return false;
    return true;
  }

  endLine(recipient: Bytes): void {
    const t = this.totals;
    let amount = 0n;
    const add = (p: number, v: bigint): void => {
      this.paid[p] = (this.paid[p] as bigint) + v;
      amount += v;
    };
    for (let p = 0; p < WORK_POOLS; p++) {
      const w = t.workUnits[p] as bigint;
      const u = this.units[p] as bigint;
      if (w > 0n && u > 0n) add(p, ((t.alloc[p] as bigint) * u) / w);
    }
    if (t.stake > 0n && this.tokens > 0n) add(POOL_STAKERS, ((t.alloc[POOL_STAKERS] as bigint) * this.tokens) / t.stake);
    if (amount > 0n) this.emit(recipient, amount);
    this.beginLine();
  }

  private emit(recipient: Bytes, amount: bigint): void {
    const items = this.items;
    items.buf.writeUInt32BE(this.itemCount, 0);
    const pre = this.pre;
    pre.writeUInt32BE(this.count, 9);
    pre.set(recipient, 13);
    writeU128(pre, amount, 33);
    this.hashing.add(pre, items.buf, items.pos);
    this.count++;
    const c = this.chunk;
    if (this.chunkLines === 0) this.firstRecipients.push(Uint8Array.from(recipient));
    c.raw(recipient);
    c.u128(amount);
    c.raw(items.buf, 0, items.pos);
    if (++this.chunkLines === this.chunkLinesMax) this.flush();
  }

  private flush(): void {
    if (this.chunkLines === 0) return;
    this.chunk.buf.writeUInt32BE(this.chunkLines, 0);
    this.onChunk(this.chunkNo++, Buffer.from(this.chunk.buf.subarray(0, this.chunk.pos)));
    this.chunk.pos = 0;
    this.chunk.u32(0);
    this.chunkLines = 0;
  }

  /** Flushes the last chunk; returns the root (16-ary tree over the leaves). */
  finish(): Bytes {
    this.flush();
    return wideRoot(this.hashing.finish(), this.count, WIDE_ARITY);
  }
}
