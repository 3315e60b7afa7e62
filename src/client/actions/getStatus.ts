import type { Client } from '../client.js';

export interface GetStatusReturnType {
  chainId: string;
  genesisHash: string;
  height: string;
  appHash: string;
  latestBlockHash: string;
  latestBlockTime: string | null;
  mempool: { txs: number; bytes: number };
  version: string;
}

/** The node's chain id, latest height and app hash (unverified: use for display and polling). */
export function getStatus(client: Client): Promise<GetStatusReturnType> {
  return client.request<GetStatusReturnType>('GET', '/v1/status');
}
