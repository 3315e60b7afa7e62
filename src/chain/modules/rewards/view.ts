/**
 * The JSON form of reward manifest lines, shared by the node's API (which serves lines with
 * their proofs) and the SDK (which parses them back and verifies them against the committed
 * epoch root). Amounts and units are decimal strings, bytes are lower-case hex, addresses
 * bech32, pools by name.
 */
import { fromHex, toHex, type Bytes } from '../../../core/bytes.js';
import { InvalidInputError } from '../../../core/errors.js';
import { decodeAddress, encodeAddress } from '../../../core/keys.js';
import { detailsHash, leafHash, type RewardItem, type StoredLine } from './manifest.js';
import { POOLS, POOL_STAKERS, WORK_POOLS } from './params.js';

export interface RewardItemJSON {
  readonly type: 'work' | 'stake';
  /** storage, compute or coverage (work); stakers (stake). */
  readonly pool: string;
  /** Work: the device that did it (hex; 64 zeros: no device). */
  readonly device?: string;
  /** Work: the reason code the vertical reported. */
  readonly reason?: string;
  /** Work: units reported. */
  readonly units?: string;
  /** Work: units after the device-status multiplier (what the pool pays on). */
  readonly weighted?: string;
  /** Stake: the operator delegated to. */
  readonly operator?: string;
  /** Stake: what the delegation was worth at the close (ugw). */
  readonly tokens?: string;
}

export interface RewardLineJSON {
  readonly epoch: string;
  readonly index: number;
  readonly recipient: string;
  /** ugw. */
  readonly amount: string;
  readonly items: RewardItemJSON[];
  readonly detailsHash: string;
  readonly leaf: string;
  /** Sibling hashes from the leaf up to the root (hex). */
  readonly proof: string[];
}

export function rewardItemJSON(it: RewardItem): RewardItemJSON {
  if (it.type === 'work') {
    const w = it.value;
    return { type: 'work', pool: POOLS[w.pool] as string, device: toHex(w.device), reason: w.reason, units: w.units.toString(), weighted: w.weighted.toString() };
  }
  return { type: 'stake', pool: POOLS[POOL_STAKERS], operator: encodeAddress(it.value.operator), tokens: it.value.tokens.toString() };
}

export function rewardLineJSON(epoch: bigint, index: number, line: StoredLine, proof: readonly Bytes[]): RewardLineJSON {
  const dh = detailsHash(line.items);
  return {
    epoch: epoch.toString(),
    index,
    recipient: encodeAddress(line.recipient),
    amount: line.amount.toString(),
    items: line.items.map(rewardItemJSON),
    detailsHash: toHex(dh),
    leaf: toHex(leafHash({ epoch, index, recipient: line.recipient, amount: line.amount, detailsHash: dh })),
    proof: proof.map(toHex),
  };
}

function bad(what: string): never {
  throw new InvalidInputError('INVALID_REWARD_LINE', `malformed reward line: ${what}`);
}

function uint(v: unknown, what: string): bigint {
  if (typeof v !== 'string' || !/^(0|[1-9][0-9]{0,38})$/.test(v)) bad(`${what} must be a decimal string`);
  return BigInt(v);
}

function hex32(v: unknown, what: string): Bytes {
  if (typeof v !== 'string' || !/^[0-9a-fA-F]{64}$/.test(v)) bad(`${what} must be 32 bytes of hex`);
  return fromHex(v, what);
}

function addr(v: unknown, what: string): Bytes {
  if (typeof v !== 'string') bad(`${what} must be an address`);
  try {
    return decodeAddress(v);
  } catch {
    return bad(`${what} is not a valid address`);
  }
}

export function rewardItemFromJSON(j: RewardItemJSON): RewardItem {
  if (j.type === 'work') {
    const pool = (POOLS as readonly string[]).indexOf(j.pool);
    if (pool < 0 || pool >= WORK_POOLS) bad(`work pool "${j.pool}"`);
    if (typeof j.reason !== 'string') bad('work item without a reason');
    return { type: 'work', value: { pool, device: hex32(j.device, 'device'), reason: j.reason, units: uint(j.units, 'units'), weighted: uint(j.weighted, 'weighted') } };
  }
  if (j.type === 'stake') return { type: 'stake', value: { operator: addr(j.operator, 'operator'), tokens: uint(j.tokens, 'tokens') } };
  return bad(`item type "${String((j as { type?: unknown }).type)}"`);
}

/** A parsed line (everything needed to rebuild its leaf and check its proof). */
export interface ParsedRewardLine {
  readonly epoch: bigint;
  readonly index: number;
  readonly recipient: Bytes;
  readonly amount: bigint;
  readonly items: RewardItem[];
  readonly detailsHash: Bytes;
  readonly proof: Bytes[];
}

/** Parses a line from its JSON; throws INVALID_REWARD_LINE when anything is malformed. */
export function rewardLineFromJSON(j: RewardLineJSON): ParsedRewardLine {
  if (typeof j !== 'object' || j === null) bad('not an object');
  if (!Number.isSafeInteger(j.index) || j.index < 0) bad('index');
  if (!Array.isArray(j.items)) bad('items');
  if (!Array.isArray(j.proof)) bad('proof');
  return {
    epoch: uint(j.epoch, 'epoch'),
    index: j.index,
    recipient: addr(j.recipient, 'recipient'),
    amount: uint(j.amount, 'amount'),
    items: j.items.map(rewardItemFromJSON),
    detailsHash: hex32(j.detailsHash, 'detailsHash'),
    proof: j.proof.map((p, i) => hex32(p, `proof[${i}]`)),
  };
}
