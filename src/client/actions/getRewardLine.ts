import { compare, equals, fromHex, toHex, type Bytes } from '../../core/bytes.js';
import { decodeAddress, encodeAddress } from '../../core/keys.js';
import { isClaimed, type EpochRecord } from '../../chain/modules/rewards/keeper.js';
import { CLAIM_CHUNK_BITS, claimedKey } from '../../chain/modules/rewards/keys.js';
import { detailsHash, leafHash, verifyManifestProof } from '../../chain/modules/rewards/manifest.js';
import { rewardLineFromJSON, type ParsedRewardLine, type RewardLineJSON } from '../../chain/modules/rewards/view.js';
import type { Client } from '../client.js';
import { ApiResponseError, VerificationError, type ClientError } from '../errors.js';
import { getState } from './getState.js';
import { requireRewardEpoch, type GetRewardEpochReturnType } from './getRewardEpoch.js';

export interface GetRewardLineParameters {
  epoch: bigint | number;
  /** The recipient (bech32). */
  address: string;
}

/** A manifest line, checked against the committed root. */
export interface RewardLineView extends ParsedRewardLine {
  /** SHA-256(0x00 || canonical line): what the proof proves. */
  readonly leaf: Bytes;
}

export interface GetRewardLineReturnType {
  readonly epoch: bigint;
  /** The epoch record (verified). */
  readonly record: GetRewardEpochReturnType;
  /** The recipient's line, verified against record.root; null when it has none (absence verified too). */
  readonly line: RewardLineView | null;
  /** When line is null: why, in the node's words ("...rounded to 0 ugw"). */
  readonly reason?: string;
  /** When line is null: whether the recipient had contributions that rounded to nothing (the node's word). */
  readonly hasContributions?: boolean;
}

/** EPOCH_NOT_CLOSED, VerificationError (the node's line or its absence does not verify), NodeUnreachableError, ApiResponseError. */
export type GetRewardLineErrorType = ClientError;

interface LinesResponse {
  epoch: string;
  root: string;
  count: number;
  lines: (RewardLineJSON & { claimed?: boolean })[];
}

interface LeafJSON {
  index: number;
  recipient: string;
  amount: string;
  detailsHash: string;
  proof: string[];
}

function parseOrReject<T>(f: () => T, what: string): T {
  try {
    return f();
  } catch (e) {
    throw new VerificationError(`${what}: ${(e as Error).message}`);
  }
}

/** Checks a line served by a node against the verified epoch record; returns it with its leaf. */
export function verifyRewardLine(record: EpochRecord, recipient: Bytes, j: RewardLineJSON): RewardLineView {
  const line = parseOrReject(() => rewardLineFromJSON(j), 'the node sent a malformed reward line');
  if (line.epoch !== record.epoch) throw new VerificationError(`the node sent a line of epoch ${line.epoch} for epoch ${record.epoch}`);
  if (!equals(line.recipient, recipient)) throw new VerificationError(`the node sent the line of ${encodeAddress(line.recipient)} for ${encodeAddress(recipient)}`);
  if (!equals(detailsHash(line.items), line.detailsHash)) throw new VerificationError(`the items of line ${line.index} do not hash to its detailsHash`);
  const leaf = leafHash({ epoch: line.epoch, index: line.index, recipient: line.recipient, amount: line.amount, detailsHash: line.detailsHash });
  if (line.index >= record.count || !verifyManifestProof(leaf, line.index, record.count, line.proof, record.root)) {
    throw new VerificationError(`line ${line.index} of epoch ${record.epoch} (${encodeAddress(recipient)}, ${line.amount} ugw) does not prove into the committed root ${toHex(record.root)}`);
  }
  return { ...line, leaf };
}

function verifyLeaf(record: EpochRecord, j: LeafJSON): { index: number; recipient: Bytes } {
  return parseOrReject(() => {
    const recipient = decodeAddress(j.recipient);
    const leaf = leafHash({ epoch: record.epoch, index: j.index, recipient, amount: BigInt(j.amount), detailsHash: fromHex(j.detailsHash, 'detailsHash') });
    const proof = j.proof.map((p) => fromHex(p, 'proof'));
    if (!Number.isSafeInteger(j.index) || j.index < 0 || j.index >= record.count || !verifyManifestProof(leaf, j.index, record.count, proof, record.root)) {
      throw new VerificationError(`neighbouring line ${j.index} does not prove into the committed root`);
    }
    return { index: j.index, recipient };
  }, 'the proof that the address has no line does not verify');
}

/**
 * Lines are sorted by recipient, so two adjacent proven lines whose recipients bracket the
 * address (or one proven first/last line, or an empty manifest) prove it has no line.
 */
export function verifyRewardAbsence(record: EpochRecord, recipient: Bytes, absence: { before: LeafJSON | null; after: LeafJSON | null } | undefined): void {
  const fail = (why: string): never => {
    throw new VerificationError(`the node says ${encodeAddress(recipient)} has no line in epoch ${record.epoch}, but ${why}`);
  };
  if (!absence) return fail('sent no proof of it');
  const before = absence.before ? verifyLeaf(record, absence.before) : null;
  const after = absence.after ? verifyLeaf(record, absence.after) : null;
  if (before && compare(before.recipient, recipient) >= 0) fail('the line before it does not sort before it');
  if (after && compare(after.recipient, recipient) <= 0) fail('the line after it does not sort after it');
  if (before && after && after.index !== before.index + 1) fail('the neighbouring lines are not adjacent');
  if (!before && after && after.index !== 0) fail('the line after it is not the first line');
  if (before && !after && before.index !== record.count - 1) fail('the line before it is not the last line');
  if (!before && !after && record.count !== 0) fail(`sent no neighbouring lines (the epoch has ${record.count})`);
}

/**
 * A recipient's reward line in a closed epoch, fetched from the node and verified: the epoch
 * record is read with a Merkle proof, and the line's leaf (rebuilt from its fields and items)
 * must prove into the record's root. A node that alters a line, or hides one, is caught.
 */
export async function getRewardLine(client: Client, p: GetRewardLineParameters): Promise<GetRewardLineReturnType> {
  const epoch = BigInt(p.epoch);
  const recipient = decodeAddress(p.address);
  const record = await requireRewardEpoch(client, epoch);
  let res: LinesResponse;
  try {
    res = await client.request<LinesResponse>('GET', `/v1/rewards/${epoch}/lines/${encodeAddress(recipient)}`);
  } catch (e) {
    if (e instanceof ApiResponseError && e.status === 404 && e.code === 'NO_REWARD_LINE') {
      const err = (e.body as { error?: { absence?: { before: LeafJSON | null; after: LeafJSON | null }; hasContributions?: boolean } } | null)?.error;
      verifyRewardAbsence(record, recipient, err?.absence);
      return { epoch, record, line: null, reason: e.message, hasContributions: err?.hasContributions === true };
    }
    throw e;
  }
  if (res.root.toLowerCase() !== toHex(record.root) || res.count !== record.count) {
    throw new VerificationError(`the node serves epoch ${epoch} with root ${res.root} and ${res.count} lines; the chain committed ${toHex(record.root)} and ${record.count}`);
  }
  const first = res.lines[0];
  if (!first) throw new VerificationError(`the node answered with no line for ${encodeAddress(recipient)}`);
  return { epoch, record, line: verifyRewardLine(record, recipient, first) };
}

export interface IsRewardClaimedParameters {
  epoch: bigint | number;
  index: number;
  height?: bigint | number;
}

/** Whether line `index` of `epoch` was paid, verified (the claimed-bits entry read with a Merkle proof). */
export async function isRewardClaimed(client: Client, p: IsRewardClaimedParameters): Promise<boolean> {
  const epoch = BigInt(p.epoch);
  const key = claimedKey(epoch, Math.floor(p.index / CLAIM_CHUNK_BITS));
  const v = await getState(client, { key, ...(p.height !== undefined ? { height: p.height } : {}) });
  const value = v.value;
  // The keeper's own bit test, over a one-entry view of state.
  return isClaimed({ get: (k) => (value && typeof k !== 'string' && equals(k, key) ? value : undefined), iterate: () => [][Symbol.iterator]() }, epoch, p.index);
}
