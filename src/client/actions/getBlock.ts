import type { Client } from '../client.js';

export interface BlockView {
  hash: string;
  header: {
    chainId: string;
    height: string;
    time: string;
    lastBlockHash: string;
    txsHash: string;
    resultsHash: string;
    appHash: string;
    validatorsHash: string;
    proposer: string;
    proposerPubKey: string;
  };
  signature: string;
  txCount: number;
  txs: string[];
  results: Array<{ code: number; codespace: string; error: string }>;
}

export interface GetBlockParameters {
  /** Latest when omitted. */
  height?: bigint | number;
}

export function getBlock(client: Client, params: GetBlockParameters = {}): Promise<BlockView> {
  return client.request<BlockView>('GET', `/v1/blocks/${params.height ?? 'latest'}`);
}
