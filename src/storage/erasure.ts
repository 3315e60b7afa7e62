/**
 * Reed–Solomon erasure coding of one segment's pieces through @ronomon/reed-solomon: a native
 * addon (Cauchy matrix over GF(2^8), bit-matrix XOR kernels) that runs on libuv's thread pool, so
 * encoding overlaps the hashing and encryption done on JavaScript threads. The code is
 * systematic: the k data pieces are stored as they are and the m parity pieces are what the
 * library computes for them; any k of the k + m pieces give back the rest. The parity bytes are
 * that library's matrix (shard roots commit to them), so every encoder of a file must use it.
 *
 * A stripe is the k + m pieces of one segment back to back in one buffer: piece i at
 * [i × pieceSize, (i + 1) × pieceSize). m = 0 (no parity) is allowed: nothing to compute.
 */
import { createRequire } from 'node:module';
import { InvalidInputError, InvariantError } from '../core/errors.js';
import { MAX_DATA_SHARDS, MAX_PARITY_SHARDS } from './layout.js';

/** The addon's API (it ships no types). */
interface Ronomon {
  readonly MAX_K: number;
  readonly MAX_M: number;
  create(k: number, m: number): unknown;
  encode(
    context: unknown,
    sources: number,
    targets: number,
    buffer: Uint8Array,
    bufferOffset: number,
    bufferSize: number,
    parity: Uint8Array,
    parityOffset: number,
    paritySize: number,
    callback: (error: Error | undefined) => void,
  ): void;
}

// A native addon cannot be imported from ESM: load it through require.
const ronomon = createRequire(import.meta.url)('@ronomon/reed-solomon') as Ronomon;
if (ronomon.MAX_K < MAX_DATA_SHARDS || ronomon.MAX_M < MAX_PARITY_SHARDS) {
  throw new InvariantError(`@ronomon/reed-solomon supports k ≤ ${ronomon.MAX_K}, m ≤ ${ronomon.MAX_M}; layout.ts assumes ${MAX_DATA_SHARDS}, ${MAX_PARITY_SHARDS}`);
}

export interface ErasureCoder {
  readonly k: number;
  readonly m: number;
  /** Computes the m parity pieces of `stripe` from its k data pieces (in place). */
  encode(stripe: Uint8Array, pieceSize: number): Promise<void>;
  /**
   * Rebuilds, in place, the pieces in bit mask `targets` (bit i = piece i; at most m of them)
   * from those in `present` (at least k; bits of pieces holding their true bytes).
   */
  reconstruct(stripe: Uint8Array, pieceSize: number, present: number, targets: number): Promise<void>;
}

function run(context: unknown, k: number, m: number, sources: number, targets: number, stripe: Uint8Array, pieceSize: number): Promise<void> {
  if (!Number.isInteger(pieceSize) || pieceSize <= 0 || pieceSize % 8 !== 0) throw new InvalidInputError('INVALID_PIECE_SIZE', `piece size must be a positive multiple of 8, not ${pieceSize}`);
  if (stripe.length < (k + m) * pieceSize) throw new InvalidInputError('INVALID_STRIPE', `a stripe of ${k}+${m} pieces of ${pieceSize} bytes needs ${(k + m) * pieceSize} bytes, not ${stripe.length}`);
  return new Promise((resolve, reject) => {
    ronomon.encode(context, sources, targets, stripe, 0, k * pieceSize, stripe, k * pieceSize, m * pieceSize, (error) => {
      if (error) reject(new InvariantError(`erasure coding failed: ${error.message}`, { cause: error }));
      else resolve();
    });
  });
}

function bits(mask: number): number {
  let c = 0;
  for (let v = mask; v !== 0; v &= v - 1) c++;
  return c;
}

const coders = new Map<string, ErasureCoder>();

/** The coder for k data + m parity pieces (cached: a context serves concurrent calls). */
export function erasureCoder(k: number, m: number): ErasureCoder {
  const id = `${k}+${m}`;
  const cached = coders.get(id);
  if (cached !== undefined) return cached;
  if (!Number.isInteger(k) || k < 1 || k > MAX_DATA_SHARDS || !Number.isInteger(m) || m < 0 || m > MAX_PARITY_SHARDS) {
    throw new InvalidInputError('INVALID_ERASURE_CODE', `an erasure code needs 1 ≤ k ≤ ${MAX_DATA_SHARDS} and 0 ≤ m ≤ ${MAX_PARITY_SHARDS}, not ${k}+${m}`);
  }
  const all = (1 << (k + m)) - 1;
  const dataMask = (1 << k) - 1;
  // The addon rejects m = 0; with no parity there is nothing to encode or rebuild.
  const context = m > 0 ? ronomon.create(k, m) : undefined;
  const coder: ErasureCoder = {
    k,
    m,
    async encode(stripe, pieceSize) {
      if (m === 0) return;
      return run(context, k, m, dataMask, all & ~dataMask, stripe, pieceSize);
    },
    async reconstruct(stripe, pieceSize, present, targets) {
      if ((present & ~all) !== 0 || (targets & ~all) !== 0 || (present & targets) !== 0) {
        throw new InvalidInputError('INVALID_PIECE_MASK', `piece masks out of range or overlapping: present ${present.toString(2)}, targets ${targets.toString(2)}`);
      }
      if (bits(present) < k) throw new InvalidInputError('NOT_ENOUGH_PIECES', `${bits(present)} pieces present, ${k} needed`);
      if (bits(targets) > m) throw new InvalidInputError('TOO_MANY_TARGETS', `${bits(targets)} pieces to rebuild, at most m = ${m}`);
      if (targets === 0) return;
      return run(context, k, m, present, targets, stripe, pieceSize);
    },
  };
  coders.set(id, coder);
  return coder;
}

/** The m parity pieces of k equal-sized data pieces (a convenience over stripes). */
export async function encodePieces(k: number, m: number, data: readonly Uint8Array[]): Promise<Uint8Array[]> {
  const size = data[0]?.length ?? 0;
  if (data.length !== k || data.some((d) => d.length !== size)) throw new InvalidInputError('INVALID_PIECES', `expected ${k} data pieces of equal size`);
  const stripe = Buffer.alloc((k + m) * size);
  data.forEach((d, i) => stripe.set(d, i * size));
  await erasureCoder(k, m).encode(stripe, size);
  return Array.from({ length: m }, (_, j) => stripe.subarray((k + j) * size, (k + j + 1) * size));
}

/**
 * All k + m pieces from any k of them (`null` for a missing one); the missing ones are
 * rebuilt. Throws NOT_ENOUGH_PIECES when fewer than k are given.
 */
export async function reconstructPieces(k: number, m: number, pieces: readonly (Uint8Array | null)[]): Promise<Uint8Array[]> {
  if (pieces.length !== k + m) throw new InvalidInputError('INVALID_PIECES', `expected ${k + m} pieces (null where missing), got ${pieces.length}`);
  const size = pieces.find((p) => p !== null)?.length ?? 0;
  const stripe = Buffer.alloc((k + m) * size);
  let present = 0;
  let missing = 0;
  pieces.forEach((p, i) => {
    if (p === null) missing |= 1 << i;
    else {
      if (p.length !== size) throw new InvalidInputError('INVALID_PIECES', 'pieces differ in size');
      stripe.set(p, i * size);
      present |= 1 << i;
    }
  });
  await erasureCoder(k, m).reconstruct(stripe, size, present, missing);
  return Array.from({ length: k + m }, (_, i) => stripe.subarray(i * size, (i + 1) * size));
}
