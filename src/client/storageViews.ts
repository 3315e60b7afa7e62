/**
 * The storage module's query answers in the SDK: the JSON the node sends (`*View`: amounts,
 * heights and ids as decimal strings, roots and nonces as hex) and the typed values the storage
 * actions return (bigints and bytes parsed). Shared by the storage query and tx actions.
 */
import { fromHex, type Bytes } from '../core/bytes.js';
import type { DEAL_STATUSES, ShardStatus } from '../chain/modules/storage/types.js';
import type { Client } from './client.js';
import { ClientError } from './errors.js';
import { verticalQuery } from './actions/moduleQuery.js';
import { big, num } from './marketViews.js';

export type DealStatus = (typeof DEAL_STATUSES)[number];
export type { ShardStatus };

// ---------------------------------------------------------------------------------------------
// JSON as the node answers

export interface ShardView {
  index: number;
  lease: string;
  provider: string;
  /** Device id (public key), lowercase hex. */
  device: string;
  /** Merkle root of the shard (core/shardtree), hex. */
  root: string;
  status: ShardStatus;
  misses: number;
  retrievalFails: number;
  proofs: string;
  statusHeight: string;
}

export interface DealView {
  order: string;
  customer: string;
  size: string;
  k: number;
  m: number;
  pieceSize: number;
  segments: string;
  shardBytes: string;
  createdHeight: string;
  status: DealStatus;
  endedHeight: string;
  reserve: string;
  repairs: number;
  shards: ShardView[];
}

export interface ChallengeView {
  order: string;
  shard: number;
  root: string;
  leafCount: number;
  leaves: number[];
}

export interface ChallengesView {
  period: string;
  deadline: string;
  leavesPerChallenge: number;
  challenges: ChallengeView[];
}

export interface RetrievalCheckView {
  order: string;
  shard: number;
  leaf: number;
  leafCount: number;
  root: string;
  provider: string;
  nonce: string;
}

export interface RetrievalsView {
  period: string;
  checks: RetrievalCheckView[];
}

// ---------------------------------------------------------------------------------------------
// Typed

export interface StorageShard {
  /** Position in the deal: 0..k-1 data, k..k+m-1 parity. */
  index: number;
  /** The lease holding it (a new one after a repair). */
  lease: bigint;
  provider: string;
  /** Device id (public key), lowercase hex (as in MarketLease). */
  device: string;
  /** 32-byte Merkle root the provider acknowledged. */
  root: Bytes;
  status: ShardStatus;
  /** Consecutive challenge periods missed (reset by a verified proof). */
  misses: number;
  /** Consecutive failed retrieval checks (reset by a served one). */
  retrievalFails: number;
  /** Verified proofs, all time. */
  proofs: bigint;
  /** Height at which the shard last changed status. */
  statusHeight: bigint;
}

/** A stored file's on-chain record; its id is the market order that bought the space. */
export interface StorageDeal {
  order: bigint;
  customer: string;
  /** Plaintext bytes of the file. */
  size: bigint;
  /** Data and parity shards of the erasure code. */
  k: number;
  m: number;
  pieceSize: number;
  segments: bigint;
  /** Bytes per shard (segments × pieceSize). */
  shardBytes: bigint;
  createdHeight: bigint;
  status: DealStatus;
  /** 0 while active. */
  endedHeight: bigint;
  /** ugw held for repairs, returned to the customer when the deal ends. */
  reserve: bigint;
  repairs: number;
  shards: StorageShard[];
}

/** One challenged shard: the leaves to answer with their Merkle paths. */
export interface StorageChallenge {
  order: bigint;
  shard: number;
  root: Bytes;
  leafCount: number;
  /** Leaf indices asked, in the order the proof must answer them. */
  leaves: number[];
}

export interface StorageChallenges {
  /** The period asked about (the latest drawn one by default). */
  period: bigint;
  /** First height of the next period: the answers must be committed before it. */
  deadline: bigint;
  leavesPerChallenge: number;
  challenges: StorageChallenge[];
}

/** One retrieval check the checker may report: fetch `leaf` of the shard and have it signed. */
export interface RetrievalCheck {
  order: bigint;
  shard: number;
  leaf: number;
  leafCount: number;
  root: Bytes;
  /** The shard's provider, who must sign the receipt. */
  provider: string;
  /** 32 bytes the receipt signs (binds it to this check). */
  nonce: Bytes;
}

export interface RetrievalChecks {
  period: bigint;
  checks: RetrievalCheck[];
}

// ---------------------------------------------------------------------------------------------
// Parsing: the node's word is checked for shape, so a wrong answer is a clear error, not NaN.

function bad(path: string, v: unknown): ClientError {
  return new ClientError('BAD_RESPONSE', `the node's answer has an invalid ${path}: ${JSON.stringify(v)}`);
}

function obj(v: unknown, path: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad(path, v);
  return v as Record<string, unknown>;
}

function arr(v: unknown, path: string): unknown[] {
  if (!Array.isArray(v)) throw bad(path, v);
  return v;
}

function str(v: unknown, path: string): string {
  if (typeof v !== 'string' || v === '') throw bad(path, v);
  return v;
}

/** A hex string of exactly `len` bytes. */
function hexBytes(v: unknown, len: number, path: string): Bytes {
  if (typeof v !== 'string' || v.length !== len * 2 || !/^[0-9a-fA-F]*$/.test(v)) throw bad(path, v);
  return fromHex(v, path);
}

export function parseShard(j: unknown, path = 'shard'): StorageShard {
  const s = obj(j, path);
  return {
    index: num(s.index, `${path}.index`),
    lease: big(s.lease, `${path}.lease`),
    provider: str(s.provider, `${path}.provider`),
    device: str(s.device, `${path}.device`),
    root: hexBytes(s.root, 32, `${path}.root`),
    status: str(s.status, `${path}.status`) as ShardStatus,
    misses: num(s.misses, `${path}.misses`),
    retrievalFails: num(s.retrievalFails, `${path}.retrievalFails`),
    proofs: big(s.proofs, `${path}.proofs`),
    statusHeight: big(s.statusHeight, `${path}.statusHeight`),
  };
}

export function parseDeal(j: unknown): StorageDeal {
  const d = obj(j, 'deal');
  return {
    order: big(d.order, 'deal.order'),
    customer: str(d.customer, 'deal.customer'),
    size: big(d.size, 'deal.size'),
    k: num(d.k, 'deal.k'),
    m: num(d.m, 'deal.m'),
    pieceSize: num(d.pieceSize, 'deal.pieceSize'),
    segments: big(d.segments, 'deal.segments'),
    shardBytes: big(d.shardBytes, 'deal.shardBytes'),
    createdHeight: big(d.createdHeight, 'deal.createdHeight'),
    status: str(d.status, 'deal.status') as DealStatus,
    endedHeight: big(d.endedHeight ?? '0', 'deal.endedHeight'),
    reserve: big(d.reserve, 'deal.reserve'),
    repairs: num(d.repairs, 'deal.repairs'),
    shards: arr(d.shards, 'deal.shards').map((s, i) => parseShard(s, `deal.shards[${i}]`)),
  };
}

export function parseDeals(j: unknown): StorageDeal[] {
  return arr(obj(j, 'answer').deals, 'deals').map(parseDeal);
}

export function parseChallenges(j: unknown): StorageChallenges {
  const o = obj(j, 'answer');
  return {
    period: big(o.period, 'period'),
    deadline: big(o.deadline, 'deadline'),
    leavesPerChallenge: num(o.leavesPerChallenge, 'leavesPerChallenge'),
    challenges: arr(o.challenges, 'challenges').map((x, i) => {
      const c = obj(x, `challenges[${i}]`);
      return {
        order: big(c.order, `challenges[${i}].order`),
        shard: num(c.shard, `challenges[${i}].shard`),
        root: hexBytes(c.root, 32, `challenges[${i}].root`),
        leafCount: num(c.leafCount, `challenges[${i}].leafCount`),
        leaves: arr(c.leaves, `challenges[${i}].leaves`).map((l, n) => num(l, `challenges[${i}].leaves[${n}]`)),
      };
    }),
  };
}

export function parseRetrievals(j: unknown): RetrievalChecks {
  const o = obj(j, 'answer');
  return {
    period: big(o.period, 'period'),
    checks: arr(o.checks, 'checks').map((x, i) => {
      const c = obj(x, `checks[${i}]`);
      return {
        order: big(c.order, `checks[${i}].order`),
        shard: num(c.shard, `checks[${i}].shard`),
        leaf: num(c.leaf, `checks[${i}].leaf`),
        leafCount: num(c.leafCount, `checks[${i}].leafCount`),
        root: hexBytes(c.root, 32, `checks[${i}].root`),
        provider: str(c.provider, `checks[${i}].provider`),
        nonce: hexBytes(c.nonce, 32, `checks[${i}].nonce`),
      };
    }),
  };
}

// ---------------------------------------------------------------------------------------------
// Arguments

/** Bytes given as bytes or hex (with or without 0x); the chain's codec checks the length when the tx is built. */
export type HexOrBytes = string | Bytes;

export function bytesArg(v: HexOrBytes, what: string): Bytes {
  return typeof v === 'string' ? fromHex(v.replace(/^0x/i, ''), what) : v;
}

/** A provider's signed acknowledgment of a shard (see chain/modules/storage/signing.ts shardAckSignBytes). */
export interface ShardAckInput {
  /** The provider's account public key (32 bytes). */
  pubKey: HexOrBytes;
  /** Ed25519 signature (64 bytes) over shardAckSignBytes(chainId, lease, root, shardBytes). */
  signature: HexOrBytes;
}

export function ackArg(a: ShardAckInput, what: string): { pubKey: Bytes; signature: Bytes } {
  return { pubKey: bytesArg(a.pubKey, `${what} public key`), signature: bytesArg(a.signature, `${what} signature`) };
}

// ---------------------------------------------------------------------------------------------
// Query

/**
 * A storage query. A node without the storage module is a clear error (STORAGE_UNAVAILABLE), not
 * a 404 that reads like a missing deal; `notFound` turns the query's own NOT_FOUND into a value.
 */
export function storageQuery<T>(client: Client, query: string, args: Record<string, string | bigint | number | undefined>, notFound?: () => T): Promise<T> {
  return verticalQuery<T>(client, 'storage', query, args, notFound);
}
