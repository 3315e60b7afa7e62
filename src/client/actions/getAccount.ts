import { decode } from '../../core/codec.js';
import { decodeAddress, encodeAddress } from '../../core/keys.js';
import { bankAccountKey } from '../../chain/keys.js';
import { accountCodec } from '../../chain/modules/bank/keeper.js';
import { withFirstBlock, type Client } from '../client.js';
import { verifyStateProof, type ProofView } from '../verify.js';

export interface GetAccountParameters {
  /** bech32 address (gw1...). */
  address: string;
  /** Block height to read at; latest by default. */
  height?: bigint | number;
}

export interface GetAccountReturnType {
  address: string;
  /** Next sequence the account must use. */
  sequence: bigint;
  /** Native balance in ugw. */
  balance: bigint;
  /** False when the account has never been used (no state entry; proven absent). */
  exists: boolean;
  /** Height the values were proven at. */
  height: bigint;
}

/**
 * An account's sequence and balance, verified: the node's Merkle proof is checked against the
 * app hash of a header signed by a trusted validator. Throws VerificationError otherwise.
 */
export async function getAccount(client: Client, params: GetAccountParameters): Promise<GetAccountReturnType> {
  const addr = decodeAddress(params.address);
  const q = params.height === undefined ? '' : `?height=${params.height}`;
  const [res, anchor] = await Promise.all([
    withFirstBlock(() => client.request<{ proof: ProofView }>('GET', `/v1/accounts/${encodeAddress(addr)}${q}`)),
    client.trust(),
  ]);
  const v = verifyStateProof(anchor, bankAccountKey(addr), res.proof);
  const acct = v.value ? decode(accountCodec, v.value) : { sequence: 0n, balance: 0n };
  return { address: encodeAddress(addr), sequence: acct.sequence, balance: acct.balance, exists: v.value !== null, height: v.height };
}
