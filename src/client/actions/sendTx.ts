import { toBase64, type Bytes } from '../../core/bytes.js';
import type { Client } from '../client.js';
import { TxRejectedError } from '../errors.js';

export interface SendTxReturnType {
  /** Tx hash, upper-case hex. */
  hash: string;
}

interface Rejection {
  error: { code: string; message: string; hash: string; codespace: string; abciCode: number };
}

function isRejection(r: unknown): r is Rejection {
  const e = (r as { error?: unknown }).error;
  return typeof e === 'object' && e !== null;
}

/** Submits signed tx bytes; resolves once the mempool accepted them, throws TxRejectedError otherwise. */
export async function sendTx(client: Client, params: { tx: Bytes }): Promise<SendTxReturnType> {
  const r = await client.request<{ hash: string } | Rejection>('POST', '/v1/txs', { tx: toBase64(params.tx) });
  if (isRejection(r)) {
    const kind = r.error.code.slice(r.error.code.indexOf('.') + 1);
    throw new TxRejectedError(r.error.hash, r.error.codespace, r.error.abciCode, kind, r.error.message);
  }
  return { hash: r.hash };
}

export interface BatchResult {
  hash: string;
  code: number;
  codespace: string;
  error: string;
  log: string;
}

/** Submits many signed txs at once (one result each, in order; nothing throws for rejections). */
export async function sendTxBatch(client: Client, params: { txs: readonly Bytes[] }): Promise<BatchResult[]> {
  const r = await client.request<{ results: BatchResult[] }>('POST', '/v1/txs', { txs: params.txs.map(toBase64) });
  return r.results;
}
