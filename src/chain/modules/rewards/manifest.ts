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

/** 2^53: below it, integer arithmetic on numbers is exact. */
const SAFE = 9007199254740992;
/** Bytes of a stored line before its items: recipient 20 ‖ amount u128 ‖ item count u32. */
const LINE_HEAD = 40;
/** What the leaf hash takes of a line as is (recipient ‖ amount); the items list is hashed. */
const LEAF_LINE_HEAD = 36;
/** Initial bytes of a chunk buffer (a bench line is ~120 bytes); a chunk with larger lines grows. */
const CHUNK_BYTES_PER_LINE = 160;

/** `v` (an integer below 2^53) as a big-endian u128 at `off`. */
function writeU128Num(b: Buffer, v: number, off: number): void {
  for (let i = off; i < off + 8; i++) b[i] = 0;
  const hi = Math.floor(v / 4294967296);
  const lo = v - hi * 4294967296;
  b[off + 8] = hi >>> 24;
  b[off + 9] = (hi >>> 16) & 0xff;
  b[off + 10] = (hi >>> 8) & 0xff;
  b[off + 11] = hi & 0xff;
  b[off + 12] = lo >>> 24;
  b[off + 13] = (lo >>> 16) & 0xff;
  b[off + 14] = (lo >>> 8) & 0xff;
  b[off + 15] = lo & 0xff;
}

/** `v` as a big-endian u128 at `off`. */
function writeU128(b: Buffer, v: bigint, off: number): void {
  if (v < 0x20_0000_0000_0000n) writeU128Num(b, Number(v), off);
  else {
    b.writeBigUInt64BE(v >> 64n, off);
    b.writeBigUInt64BE(v & 0xffff_ffff_ffff_ffffn, off + 8);
  }
}

/** A big-endian u128 at `off` as a number if it is below 2^48, else -1. */
function smallU128(b: Bytes, off: number): number {
  let high = 0;
  for (let i = off; i < off + 10; i++) high |= b[i] as number;
  if (high !== 0) return -1;
  let v = 0;
  for (let i = off + 10; i < off + 16; i++) v = v * 256 + (b[i] as number);
  return v;
}

/** A big-endian u128 at `off`. */
function readU128(b: Bytes, off: number): bigint {
  const s = smallU128(b, off);
  if (s >= 0) return BigInt(s);
  let v = 0n;
  for (let i = off; i < off + 16; i++) v = (v << 8n) | BigInt(b[i] as number);
  return v;
}

/** floor(a × u / w) for non-negative integers below 2^53, exactly, or -1 where a × u is not below 2^53. */
function mulDivNum(a: number, u: number, w: number): number {
  const x = a * u;
  // A rounded product below 2^53 means the exact one is (2^53 is representable and rounding is
  // monotonic); then x is exact, `%` on numbers is exact, and x - x % w divides exactly by w.
  if (x >= SAFE) return -1;
  return (x - (x % w)) / w;
}

/**
 * Builds a manifest in one pass without an object per line, writing each line once: straight
 * into the artifact chunk, in its stored form (recipient ‖ amount ‖ items list, the bytes
 * storedLineCodec gives — checked by tests and by the bench against Manifest.fromArtifacts),
 * in memory the LeafHasher hands out, so the hasher reads the line where it lies (another
 * thread, for the worker) and the chunk becomes the artifact as is. Amounts take number
 * arithmetic where it is exact (below 2^53) and bigint otherwise. This is the hot loop of an
 * epoch close.
 */
export class ManifestBuilder {
  private readonly hashing: LeafJob;
  count = 0;
  /** The current chunk: its memory, the write position, where the open line starts (0: no chunk open). */
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;
  private lineStart = 0;
  private itemCount = 0;
  /** The open line's weighted units per work pool while exact as numbers; `unitsBig` once any is not. */
  private readonly units = [0, 0, 0];
  private unitsBig: bigint[] | undefined;
  private tokens = 0n;
  private chunkLines = 0;
  private chunkNo = 0;
  /** Per pool: allocation and units as numbers where below 2^53, else -1 (then bigint math). */
  private readonly allocNum: number[];
  private readonly unitsNum: number[];
  /** Paid per pool: the number part (sums of number amounts, each pool's below its allocation) and the bigint part. */
  private readonly paidNum = [0, 0, 0, 0, 0];
  private readonly paidBig = [0n, 0n, 0n, 0n, 0n];
  readonly firstRecipients: Bytes[] = [];

  constructor(
    readonly epoch: bigint,
    private readonly totals: EpochTotals,
    private readonly chunkLinesMax: number,
    private readonly onChunk: (no: number, bytes: Bytes) => void,
    hasher: LeafHasher = inlineLeafHasher,
  ) {
    // Leaf preimage: 0x00 ‖ epoch u64 (the prefix) ‖ index u32 ‖ recipient ‖ amount ‖ details hash.
    const prefix = Buffer.alloc(9);
    prefix[0] = 0x00;
    prefix.writeBigUInt64BE(epoch, 1);
    this.hashing = hasher.start(prefix, LEAF_LINE_HEAD);
    const num = (v: bigint | undefined): number => (v !== undefined && v < BigInt(SAFE) ? Number(v) : -1);
    this.allocNum = totals.alloc.map(num);
    this.unitsNum = totals.workUnits.map(num);
    this.beginLine();
  }

  /** Total paid per pool (the lines' amounts summed by pool). */
  get paid(): bigint[] {
    return this.paidBig.map((b, p) => b + BigInt(this.paidNum[p] as number));
  }

  private beginLine(): void {
    if (this.lineStart === 0) {
      this.buf = this.hashing.buffer(this.chunkLinesMax * CHUNK_BYTES_PER_LINE + 4, 4);
      this.lineStart = 4;
    }
    this.pos = this.lineStart;
    this.ensure(LINE_HEAD);
    this.pos = this.lineStart + LINE_HEAD;
    this.itemCount = 0;
    this.units[0] = this.units[1] = this.units[2] = 0;
    this.unitsBig = undefined;
    this.tokens = 0n;
  }

  /** Room for `n` more bytes: a chunk that outgrows its buffer moves to one twice the size. */
  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = this.hashing.buffer(size, this.lineStart);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** A work item from a contribution entry: pool, device and reason from the key, value = units u128 || weighted u128. */
  addWork(pool: number, key: Bytes, deviceAt: number, reasonAt: number, value: Bytes): void {
    const reasonLen = key.length - reasonAt;
    this.ensure(70 + reasonLen);
    const b = this.buf;
    let p = this.pos;
    b[p++] = 0;
    b[p++] = pool;
    for (let i = deviceAt; i < deviceAt + 32; i++) b[p++] = key[i] as number;
    b[p++] = reasonLen >>> 24;
    b[p++] = (reasonLen >>> 16) & 0xff;
    b[p++] = (reasonLen >>> 8) & 0xff;
    b[p++] = reasonLen & 0xff;
    for (let i = reasonAt; i < key.length; i++) b[p++] = key[i] as number;
    for (let i = 0; i < 32; i++) b[p++] = value[i] as number;
    this.pos = p;
    this.itemCount++;
    const w = smallU128(value, 16);
    const units = this.units;
    if (w >= 0 && this.unitsBig === undefined) {
      const s = (units[pool] as number) + w;
      if (s < SAFE) {
        units[pool] = s;
        return;
      }
    }
    this.unitsBig ??= units.map((u) => BigInt(u));
    this.unitsBig[pool] = (this.unitsBig[pool] as bigint) + readU128(value, 16);
  }

  addStake(operator: Bytes, tokens: bigint): void {
    this.ensure(37);
    const b = this.buf;
    let p = this.pos;
    b[p++] = 1;
    for (let i = 0; i < 20; i++) b[p++] = operator[i] as number;
    writeU128(b, tokens, p);
    this.pos = p + 16;
    this.tokens += tokens;
    this.itemCount++;
  }

  /** Whether `key` bytes [at, at+20) equal the current line's recipient (no subarray view). */
  static sameRecipient(key: Bytes, at: number, recipient: Bytes): boolean {
    for (let i = 0; i < 20; i++) if (key[at + i] !== recipient[i]) return false;
    return true;
  }

  /** Ends the current line (lineAmount over its items); a line worth 0 is dropped. */
  endLine(recipient: Bytes): void {
    const t = this.totals;
    // The amount as a number while every term is exact as one, else as a bigint.
    let amount = 0;
    let amountBig = 0n;
    for (let p = 0; p < WORK_POOLS; p++) {
      const ub = this.unitsBig;
      const u = this.units[p] as number;
      if (ub === undefined && u === 0) continue;
      const w = this.unitsNum[p] as number;
      const a = this.allocNum[p] as number;
      if (ub === undefined && w > 0 && a >= 0) {
        const v = mulDivNum(a, u, w);
        if (v >= 0) {
          // Sums stay numbers while below 2^53 (a rounded sum below it is the exact sum).
          const paid = (this.paidNum[p] as number) + v;
          if (paid < SAFE) this.paidNum[p] = paid;
          else this.paidBig[p] = (this.paidBig[p] as bigint) + BigInt(v);
          if (amount + v < SAFE) amount += v;
          else amountBig += BigInt(v);
          continue;
        }
      }
      const wb = t.workUnits[p] as bigint;
      const unb = ub === undefined ? BigInt(u) : (ub[p] as bigint);
      if (wb > 0n && unb > 0n) {
        const v = ((t.alloc[p] as bigint) * unb) / wb;
        this.paidBig[p] = (this.paidBig[p] as bigint) + v;
        amountBig += v;
      }
    }
    if (t.stake > 0n && this.tokens > 0n) {
      const v = ((t.alloc[POOL_STAKERS] as bigint) * this.tokens) / t.stake;
      this.paidBig[POOL_STAKERS] = (this.paidBig[POOL_STAKERS] as bigint) + v;
      amountBig += v;
    }
    if (amountBig > 0n) this.emit(recipient, -1, amountBig + BigInt(amount));
    else if (amount > 0) this.emit(recipient, amount, 0n);
    this.beginLine();
  }

  /** Writes the open line's head (amount: the number, or -1 and the bigint) and hands the line to the hasher. */
  private emit(recipient: Bytes, amount: number, amountBig: bigint): void {
    const b = this.buf;
    const s = this.lineStart;
    for (let i = 0; i < 20; i++) b[s + i] = recipient[i] as number;
    if (amount >= 0) writeU128Num(b, amount, s + 20);
    else writeU128(b, amountBig, s + 20);
    b.writeUInt32BE(this.itemCount, s + 36);
    if (this.chunkLines === 0) this.firstRecipients.push(Uint8Array.from(recipient));
    this.hashing.add(this.pos);
    this.count++;
    this.lineStart = this.pos;
    if (++this.chunkLines === this.chunkLinesMax) this.flush();
  }

  private flush(): void {
    if (this.chunkLines === 0) return;
    this.buf.writeUInt32BE(this.chunkLines, 0);
    // The chunk's memory becomes the artifact as is: the builder never writes to it again.
    this.onChunk(this.chunkNo++, this.buf.subarray(0, this.lineStart));
    this.buf = Buffer.alloc(0);
    this.pos = this.lineStart = 0;
    this.chunkLines = 0;
  }

  /** Flushes the last chunk; returns the root (16-ary tree over the leaves). */
  finish(): Bytes {
    this.flush();
    return wideRoot(this.hashing.finish(), this.count, WIDE_ARITY);
  }
}
