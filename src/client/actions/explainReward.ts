import { mapLimit } from '../../core/async.js';
import { fromHex, toHex, type Bytes } from '../../core/bytes.js';
import { InvalidInputError } from '../../core/errors.js';
import { decodeAddress, encodeAddress } from '../../core/keys.js';
import { decode } from '../../core/codec.js';
import { deviceKey } from '../../chain/modules/devices/keys.js';
import { deviceRecordCodec } from '../../chain/modules/devices/types.js';
import { explainKeys, explainLine, type Explanation } from '../../chain/modules/rewards/explain.js';
import type { Client } from '../client.js';
import { ApiResponseError, ClientError } from '../errors.js';
import { getParams } from './getParams.js';
import { getState } from './getState.js';
import { requireRewardEpoch, type GetRewardEpochReturnType } from './getRewardEpoch.js';
import { getRewardLine, isRewardClaimed } from './getRewardLine.js';

export interface ExplainRewardParameters {
  epoch: bigint | number;
  /** Explain this recipient's line (bech32)... */
  address?: string;
  /** ...or the line of this device's owner (at the epoch's close), with the device's items highlighted (64 hex characters). */
  device?: string;
  /** Verified reads in flight at once (default 8). */
  concurrency?: number;
}

export interface ExplainRewardReturnType extends Explanation {
  /** The recipient (bech32). */
  readonly address: string;
  /** Explain by device: the device and its owner at the close. */
  readonly device?: { readonly id: string; readonly owner: string; readonly items: number };
  /** The epoch record the line was checked against (verified). */
  readonly record: GetRewardEpochReturnType;
  /** rewards.warnedMultiplierBps now (the node's word; for the multiplier legend). */
  readonly warnedMultiplierBps: bigint | undefined;
}

/**
 * NO_REWARD_LINE (nothing to explain: the message says whether contributions rounded to zero),
 * UNKNOWN_DEVICE, EPOCH_NOT_CLOSED, VerificationError, NodeUnreachableError, ApiResponseError.
 */
export type ExplainRewardErrorType = ClientError;

async function stateAt(client: Client, key: Bytes, height: bigint): Promise<Bytes | null | undefined> {
  try {
    return (await getState(client, { key, height })).value;
  } catch (e) {
    if (e instanceof ApiResponseError && e.code === 'HEIGHT_PRUNED') return undefined;
    throw e;
  }
}

/**
 * Recomputes a reward line from on-chain data and checks it against the committed root:
 * the epoch record (root, count, pool totals) is a verified read; every work item must equal
 * its contribution entry, and every stake item what its delegation was worth, in state at the
 * close height (verified reads at that height); the amount must equal lineAmount(totals,
 * items); the leaf must prove into the root. Returns each item with its reason code,
 * multiplier, share of its pool and the ugw it brings, and each check's outcome (`ok`).
 */
export async function explainReward(client: Client, p: ExplainRewardParameters): Promise<ExplainRewardReturnType> {
  if ((p.address === undefined) === (p.device === undefined)) throw new InvalidInputError('INVALID_ARGUMENT', 'explain either an address or a device');
  const epoch = BigInt(p.epoch);
  const record = await requireRewardEpoch(client, epoch);
  let address: string;
  let deviceId: Bytes | undefined;
  if (p.device !== undefined) {
    deviceId = fromHex(p.device, 'device id');
    if (deviceId.length !== 32) throw new InvalidInputError('INVALID_DEVICE_ID', `a device id is its 32-byte public key (64 hex characters), got ${deviceId.length} bytes`);
    // The owner when the epoch closed (the line the device's work went to), or now if that height is gone.
    const v = (await stateAt(client, deviceKey(deviceId), record.closedHeight)) ?? (await getState(client, { key: deviceKey(deviceId) })).value;
    if (!v) throw new ClientError('UNKNOWN_DEVICE', `no device ${toHex(deviceId)} on this chain`);
    address = encodeAddress(decode(deviceRecordCodec, v).owner);
  } else address = encodeAddress(decodeAddress(p.address as string));

  const got = await getRewardLine(client, { epoch, address });
  if (!got.line) {
    const why = got.reason ?? `${address} has no reward line in epoch ${epoch}`;
    throw new ClientError('NO_REWARD_LINE', deviceId ? `device ${toHex(deviceId)} (owner ${address}): ${why}` : why);
  }
  const line = got.line;
  const keys = explainKeys(line);
  const values = await mapLimit(keys, p.concurrency ?? 8, (k) => stateAt(client, k, record.closedHeight));
  const byKey = new Map(keys.map((k, i) => [toHex(k), values[i]]));
  const [claimed, params] = await Promise.all([
    isRewardClaimed(client, { epoch, index: line.index }),
    getParams(client).catch(() => undefined),
  ]);
  const x = explainLine(record, line, (k) => byKey.get(toHex(k)), { claimed, device: deviceId });
  const warned = (params as { rewards?: { warnedMultiplierBps?: string } } | undefined)?.rewards?.warnedMultiplierBps;
  return {
    ...x,
    address,
    record,
    warnedMultiplierBps: warned === undefined ? undefined : BigInt(warned),
    ...(deviceId ? { device: { id: toHex(deviceId), owner: address, items: x.items.filter((i) => i.highlighted).length } } : {}),
  };
}
