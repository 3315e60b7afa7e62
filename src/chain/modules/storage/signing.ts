/**
 * What the parties of a storage deal sign, as canonical bytes (a domain tag, then a codec-encoded
 * record). The chain verifies acknowledgments and receipts with these; the client and the
 * provider agent produce them. Every record names the chain, so a signature is not replayable on
 * another network.
 *
 * - ShardAck: the provider, after receiving a shard and recomputing its root, acknowledges that
 *   it holds `shardBytes` bytes with root `root` for lease `lease` (signed by the provider's
 *   account key; the chain checks the key's address is the lease's provider).
 * - UploadAuth: the customer authorizes one upload to a provider: lease, shard root and size, and
 *   an expiry height-free timestamp (unix ms) the provider checks against its clock (off chain).
 * - RetrievalReceipt: the provider, serving challenged leaf `leaf` of shard `root` for the
 *   checker's nonce, signs the leaf's hash: proof that it served that leaf, recorded on chain.
 */
import { concat, utf8, type Bytes } from '../../../core/bytes.js';
import { bytes32, encode, string, struct, u32, u64 } from '../../../core/codec.js';

const ACK_DOMAIN = utf8('groundwork/storage/shard-ack/v1\n');
const UPLOAD_DOMAIN = utf8('groundwork/storage/upload/v1\n');
const RECEIPT_DOMAIN = utf8('groundwork/storage/retrieval-receipt/v1\n');

export const shardAckCodec = struct('ShardAck', { chainId: string(64), lease: u64, root: bytes32, shardBytes: u64 });
export const uploadAuthCodec = struct('UploadAuth', { chainId: string(64), lease: u64, root: bytes32, shardBytes: u64, expiresMs: u64 });
export const retrievalReceiptCodec = struct('RetrievalReceipt', { chainId: string(64), root: bytes32, leaf: u32, leafHash: bytes32, nonce: bytes32 });

export function shardAckSignBytes(chainId: string, lease: bigint, root: Bytes, shardBytes: bigint): Bytes {
  return concat(ACK_DOMAIN, encode(shardAckCodec, { chainId, lease, root, shardBytes }));
}

export function uploadAuthSignBytes(chainId: string, lease: bigint, root: Bytes, shardBytes: bigint, expiresMs: bigint): Bytes {
  return concat(UPLOAD_DOMAIN, encode(uploadAuthCodec, { chainId, lease, root, shardBytes, expiresMs }));
}

export function retrievalReceiptSignBytes(chainId: string, root: Bytes, leaf: number, leafHash: Bytes, nonce: Bytes): Bytes {
  return concat(RECEIPT_DOMAIN, encode(retrievalReceiptCodec, { chainId, root, leaf, leafHash, nonce }));
}
