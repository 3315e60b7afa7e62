/**
 * storage: records, messages and parameters. A deal is a stored file's on-chain record: the
 * market order that bought the space (deal id = order id), the erasure code (k data + m parity
 * shards), the shard layout (core/shardtree: segments × pieceSize bytes per shard) and one entry
 * per shard: its lease, provider, device and Merkle root.
 */
import { bytes, bytes32, enumOf, list, string, struct, u128, u16, u32, u64, u8, union, type Infer } from '../../../core/codec.js';
import { InvalidInputError } from '../../../core/errors.js';
import { address, pubKey } from '../../../core/keys.js';
import { LEAF_SIZE } from '../../../core/shardtree.js';
import type { ParamsDef } from '../../module.js';

export const MAX_SHARDS = 32;
/** Leaves one challenge asks per shard, at most (params.leavesPerChallenge ≤ this). */
export const MAX_LEAVES_PER_CHALLENGE = 8;
export const SIGNATURE = bytes(64, 'signature');

export const SHARD_STATUSES = ['active', 'lost', 'ended'] as const;
export type ShardStatus = (typeof SHARD_STATUSES)[number];

export const shardRecordCodec = struct('ShardRecord', {
  lease: u64,
  provider: address,
  device: pubKey,
  root: bytes32,
  status: enumOf('ShardStatus', SHARD_STATUSES),
  /** Consecutive challenge periods missed (reset by a verified proof). */
  misses: u16,
  /** Consecutive failed retrieval checks (reset by a served one). */
  retrievalFails: u16,
  /** Verified proofs, all time. */
  proofs: u64,
  /** Height at which the shard last changed status (lost / repaired / ended). */
  statusHeight: u64,
});
export type ShardRecord = Infer<typeof shardRecordCodec>;

export const DEAL_STATUSES = ['active', 'ended'] as const;
export const dealRecordCodec = struct('DealRecord', {
  customer: address,
  /** Plaintext bytes of the file (for display; the chain never sees the file). */
  size: u64,
  k: u8,
  m: u8,
  pieceSize: u32,
  segments: u64,
  shardBytes: u64,
  createdHeight: u64,
  status: enumOf('DealStatus', DEAL_STATUSES),
  endedHeight: u64,
  /** ugw held for repairs (repairFee each), returned to the customer when the deal ends. */
  reserve: u128,
  repairs: u32,
  shards: list(shardRecordCodec, MAX_SHARDS),
});
export type DealRecord = Infer<typeof dealRecordCodec>;

/** A challenge due in a period: the shard's provider answers it in one storage/prove tx. */
export const retrievalDueCodec = struct('RetrievalDue', { shard: u8, leaf: u32, checker: address });
export type RetrievalDue = Infer<typeof retrievalDueCodec>;

// ---------------------------------------------------------------------------------------------
// Messages

/** A provider's signature (account key) acknowledging a shard it holds: see signing.ts. */
export const ackCodec = struct('ShardAckSig', { pubKey, signature: SIGNATURE });
export type AckSig = Infer<typeof ackCodec>;

export const createDealMsgCodec = struct('MsgCreateDeal', {
  order: u64,
  size: u64,
  k: u8,
  m: u8,
  pieceSize: u32,
  segments: u64,
  shards: list(struct('DealShard', { lease: u64, root: bytes32, ack: ackCodec }), MAX_SHARDS),
});
export type MsgCreateDeal = Infer<typeof createDealMsgCodec>;

export const leafAnswerCodec = struct('LeafAnswer', { data: bytes(LEAF_SIZE, 'leaf'), path: list(bytes32, 64) });
export const proofItemCodec = struct('ProofItem', { order: u64, shard: u8, leaves: list(leafAnswerCodec, MAX_LEAVES_PER_CHALLENGE) });
export type ProofItem = Infer<typeof proofItemCodec>;
export const proveMsgCodec = struct('MsgProve', { period: u64, proofs: list(proofItemCodec, 64) });
export type MsgProve = Infer<typeof proveMsgCodec>;

export const receiptCodec = struct('RetrievalReceiptSig', { pubKey, signature: SIGNATURE, leafHash: bytes32, path: list(bytes32, 64) });
export type ReceiptSig = Infer<typeof receiptCodec>;
export const RETRIEVAL_FAILURES = ['timeout', 'refused', 'bad-data'] as const;
export const retrievalReportMsgCodec = struct('MsgRetrievalReport', {
  period: u64,
  order: u64,
  result: union('RetrievalResult', { served: receiptCodec, failed: enumOf('RetrievalFailure', RETRIEVAL_FAILURES) }),
});
export type MsgRetrievalReport = Infer<typeof retrievalReportMsgCodec>;

export const repairMsgCodec = struct('MsgRepair', { order: u64, shard: u8, lease: u64, ack: ackCodec });
export type MsgRepair = Infer<typeof repairMsgCodec>;

export const closeDealMsgCodec = struct('MsgCloseDeal', { order: u64 });

// The evidence recorded with a forged proof's slash: what was asked and what was answered.
export const forgedProofEvidenceCodec = struct('ForgedProofEvidence', { chainId: string(64), period: u64, item: proofItemCodec, indices: list(u32, MAX_LEAVES_PER_CHALLENGE) });
export const missedEvidenceCodec = struct('MissedProofEvidence', { period: u64, order: u64, shard: u8 });

// ---------------------------------------------------------------------------------------------
// Parameters

export const storageParamsCodec = struct('StorageParams', {
  /** Blocks per challenge period: challenges are drawn at its first block, due before the next period. */
  periodBlocks: u64,
  /** Random leaves asked per challenged shard. */
  leavesPerChallenge: u8,
  /** Challenged shards per provider per period (expected; a provider with fewer has all challenged). */
  challengesPerProvider: u32,
  /** Consecutive missed periods after which a shard is lost: its lease closes (failed-verification) and it awaits repair. */
  missesToLose: u16,
  /** Consecutive failed retrieval checks that count as one fault of the provider. */
  retrievalFailuresToFault: u16,
  /** ugw paid to whoever repairs a lost shard, from the deal's reserve (the customer funds m of them). */
  repairFee: u128,
});
export type StorageParams = Infer<typeof storageParamsCodec>;

export const storageParams: ParamsDef<StorageParams> = {
  codec: storageParamsCodec,
  defaults: { periodBlocks: 10n, leavesPerChallenge: 2, challengesPerProvider: 8, missesToLose: 3, retrievalFailuresToFault: 2, repairFee: 1_000_000n },
  validate(p) {
    const bad = (m: string): never => {
      throw new InvalidInputError('INVALID_PARAM', `storage.${m}`);
    };
    if (p.periodBlocks < 2n || p.periodBlocks > 100_000n) bad('periodBlocks must be 2-100000');
    if (p.leavesPerChallenge < 1 || p.leavesPerChallenge > MAX_LEAVES_PER_CHALLENGE) bad(`leavesPerChallenge must be 1-${MAX_LEAVES_PER_CHALLENGE}`);
    if (p.challengesPerProvider < 1 || p.challengesPerProvider > 64) bad('challengesPerProvider must be 1-64');
    if (p.missesToLose < 1) bad('missesToLose must be at least 1');
    if (p.retrievalFailuresToFault < 1) bad('retrievalFailuresToFault must be at least 1');
  },
};
