import type { Client } from '../client.js';
import type { TxView } from './getTx.js';

export interface SearchTxsParameters {
  /** An indexed event attribute, "type.key=value", e.g. "bank.transfer.recipient=gw1...". */
  event: string;
  limit?: number;
  /** Cursor from a previous page. */
  before?: string;
}

/** Committed txs whose events match, newest first. */
export function searchTxs(client: Client, params: SearchTxsParameters): Promise<{ txs: TxView[]; next: string | null }> {
  const q = new URLSearchParams({ event: params.event });
  if (params.limit) q.set('limit', String(params.limit));
  if (params.before) q.set('before', params.before);
  return client.request('GET', `/v1/txs?${q.toString()}`);
}
