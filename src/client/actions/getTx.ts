import type { Client } from '../client.js';
import { ApiResponseError, TimeoutError } from '../errors.js';

export interface TxView {
  hash: string;
  height: string;
  index: number;
  code: number;
  codespace: string;
  error: string;
  log: string;
  events: Array<{ type: string; attributes: Record<string, string> }>;
  tx: Record<string, unknown> | null;
  raw: string;
}

export interface GetTxParameters {
  /** Tx hash, hex. */
  hash: string;
  /** Wait up to this long for the tx to be committed (0: answer now). */
  waitMs?: number;
}

/** A committed tx and its result; undefined if it is not (yet) in a block. */
export async function getTx(client: Client, params: GetTxParameters): Promise<TxView | undefined> {
  try {
    const wait = params.waitMs ? `?waitMs=${Math.min(params.waitMs, 60_000)}` : '';
    return await client.request<TxView>('GET', `/v1/txs/${params.hash}${wait}`);
  } catch (e) {
    if (e instanceof ApiResponseError && e.code === 'TX_NOT_FOUND') return undefined;
    throw e;
  }
}

/** Waits until the tx is committed; throws TimeoutError after `timeoutMs`. */
export async function waitForTx(client: Client, params: { hash: string; timeoutMs?: number }): Promise<TxView> {
  const deadline = Date.now() + (params.timeoutMs ?? 30_000);
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) break;
    const t = await getTx(client, { hash: params.hash, waitMs: Math.min(left, 10_000) });
    if (t) return t;
  }
  throw new TimeoutError(`tx ${params.hash} was not committed within ${params.timeoutMs ?? 30_000} ms; check it later with "groundwork query tx ${params.hash}"`);
}
