/**
 * rewards state keys (binary parts after an ASCII prefix; see src/chain/keys.ts for the table).
 *
 *   rewards/c/<epoch u64><recipient 20B><pool u8><device 32B><reason>  Contribution {units, weighted}
 *   rewards/t/<epoch u64>                                               weighted unit totals per work pool
 *   rewards/e/<epoch u64>                                               EpochRecord (root, count, totals)
 *   rewards/b/<epoch u64><chunk u32>                                    claimed bits of 8,192 lines
 *   rewards/emitted                                                     total emission so far (u128)
 *   rewards/prune                                                       next epoch whose contributions to prune
 *
 * Artifacts (node-side, not state): rewards/<epoch u64>/meta and rewards/<epoch u64>/<chunk u32>.
 */
import { utf8, type Bytes } from '../../../core/bytes.js';

export const CONTRIB_PREFIX = utf8('rewards/c/');
export const TOTALS_PREFIX = utf8('rewards/t/');
export const EPOCH_PREFIX = utf8('rewards/e/');
export const CLAIMED_PREFIX = utf8('rewards/b/');
export const EMITTED_KEY = utf8('rewards/emitted');
export const PRUNE_KEY = utf8('rewards/prune');
export const ARTIFACT_PREFIX = utf8('rewards/');

/** Lines per claimed-bits chunk (1 KiB of bits). */
export const CLAIM_CHUNK_BITS = 8192;

function join(prefix: Bytes, ...parts: Bytes[]): Bytes {
  let n = prefix.length;
  for (const p of parts) n += p.length;
  const k = Buffer.allocUnsafe(n);
  k.set(prefix, 0);
  let o = prefix.length;
  for (const p of parts) {
    k.set(p, o);
    o += p.length;
  }
  return k;
}

export function u64Bytes(v: bigint): Bytes {
  const b = Buffer.allocUnsafe(8);
  b.writeBigUInt64BE(v);
  return b;
}

export function u32Bytes(v: number): Bytes {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(v);
  return b;
}

export function contribEpochPrefix(epoch: bigint): Bytes {
  return join(CONTRIB_PREFIX, u64Bytes(epoch));
}

export function contribRecipientPrefix(epoch: bigint, recipient: Bytes): Bytes {
  return join(CONTRIB_PREFIX, u64Bytes(epoch), recipient);
}

export function contribKey(epoch: bigint, recipient: Bytes, pool: number, device: Bytes, reason: string): Bytes {
  return join(CONTRIB_PREFIX, u64Bytes(epoch), recipient, Uint8Array.of(pool), device, utf8(reason));
}

/** Offsets of the parts of a contribution key. */
export const CK_RECIPIENT = CONTRIB_PREFIX.length + 8;
export const CK_POOL = CK_RECIPIENT + 20;
export const CK_DEVICE = CK_POOL + 1;
export const CK_REASON = CK_DEVICE + 32;

export function totalsKey(epoch: bigint): Bytes {
  return join(TOTALS_PREFIX, u64Bytes(epoch));
}

export function epochKey(epoch: bigint): Bytes {
  return join(EPOCH_PREFIX, u64Bytes(epoch));
}

export function claimedKey(epoch: bigint, chunk: number): Bytes {
  return join(CLAIMED_PREFIX, u64Bytes(epoch), u32Bytes(chunk));
}

export function manifestMetaKey(epoch: bigint): Bytes {
  return join(ARTIFACT_PREFIX, u64Bytes(epoch), utf8('/meta'));
}

export function manifestChunkKey(epoch: bigint, chunk: number): Bytes {
  return join(ARTIFACT_PREFIX, u64Bytes(epoch), utf8('/'), u32Bytes(chunk));
}
