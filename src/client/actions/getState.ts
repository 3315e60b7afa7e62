import { toHex, type Bytes } from '../../core/bytes.js';
import { withFirstBlock, type Client } from '../client.js';
import { verifyStateProof, type VerifiedValue, type ProofView } from '../verify.js';

export interface GetStateParameters {
  key: Bytes;
  height?: bigint | number;
}

/** Any state key's value (or proven absence) at a height, verified against a signed header. */
export async function getState(client: Client, params: GetStateParameters): Promise<VerifiedValue> {
  const q = params.height === undefined ? '' : `?height=${params.height}`;
  const [view, anchor] = await Promise.all([withFirstBlock(() => client.request<ProofView>('GET', `/v1/state/${toHex(params.key)}${q}`)), client.trust()]);
  return verifyStateProof(anchor, params.key, view);
}
