import type { ClientError } from '../errors.js';
import { decode } from '../../core/codec.js';
import { decodeAddress, encodeAddress } from '../../core/keys.js';
import { toHex } from '../../core/bytes.js';
import { delegationCodec, operatorCodec, tokensOfShares } from '../../chain/modules/staking/keeper.js';
import { delegationKey, operatorKey } from '../../chain/modules/staking/keys.js';
import type { Client } from '../client.js';
import { getState } from './getState.js';

export interface GetOperatorParameters {
  /** The operator's address (bech32). */
  address: string;
  height?: bigint | number;
}

/** TxRejectedError, TxFailedError, VerificationError, NodeUnreachableError, TimeoutError, ApiResponseError. */
export type GetOperatorErrorType = ClientError;

export interface GetOperatorReturnType {
  address: string;
  /** Tokens in the operator's pool (ugw), all delegators together. */
  tokens: bigint;
  shares: bigint;
  /** What the operator's delegation to itself is worth (ugw). */
  selfBond: bigint;
  /** Consensus key (hex), or null when none is declared. */
  validatorPubKey: string | null;
  moniker: string;
  jailed: boolean;
  jailedUntil: bigint;
  /** Height the values were proven at. */
  height: bigint;
}

/**
 * An operator's pool, key and jail status, verified: both state values (operator and self
 * delegation) are proven against the same signed header. Undefined when the address is no
 * operator (proven absent).
 */
export async function getOperator(client: Client, p: GetOperatorParameters): Promise<GetOperatorReturnType | undefined> {
  const addr = decodeAddress(p.address);
  const op = await getState(client, { key: operatorKey(addr), ...(p.height !== undefined ? { height: p.height } : {}) });
  if (!op.value) return undefined;
  const self = await getState(client, { key: delegationKey(addr, addr), height: op.height });
  const o = decode(operatorCodec, op.value);
  const selfShares = self.value ? decode(delegationCodec, self.value).shares : 0n;
  return {
    address: encodeAddress(addr),
    tokens: o.tokens,
    shares: o.shares,
    selfBond: tokensOfShares(o, selfShares),
    validatorPubKey: o.validatorPubKey ? toHex(o.validatorPubKey) : null,
    moniker: o.moniker,
    jailed: o.jailed,
    jailedUntil: o.jailedUntil,
    height: op.height,
  };
}
