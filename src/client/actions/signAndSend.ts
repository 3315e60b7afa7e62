import type { Bytes } from '../../core/bytes.js';
import { decodeAddress, encodeAddress, type Signer } from '../../core/keys.js';
import { buildTx, type DecodedMsg } from '../../chain/tx.js';
import type { Client } from '../client.js';
import { TxFailedError } from '../errors.js';
import { getAccount } from './getAccount.js';
import { getParams } from './getParams.js';
import { waitForTx, type TxView } from './getTx.js';
import { sendTx } from './sendTx.js';

export interface PrepareTxParameters {
  signer: Signer;
  msgs: DecodedMsg[];
  /** ugw; the chain's minimum for this tx's size when omitted. */
  fee?: bigint;
  memo?: string;
  /** Defaults to the account's next sequence (read with a verified query). */
  sequence?: bigint;
  timeoutHeight?: bigint;
}

/** Builds and signs a tx: looks up the sequence and the minimum fee, encodes, signs. */
export async function prepareTx(client: Client, p: PrepareTxParameters): Promise<{ tx: Bytes; fee: bigint; sequence: bigint }> {
  const anchor = await client.trust();
  const sequence = p.sequence ?? (await getAccount(client, { address: encodeAddress(p.signer.address) })).sequence;
  const base = { chainId: anchor.genesis.chainId, sequence, msgs: p.msgs, memo: p.memo ?? '', timeoutHeight: p.timeoutHeight ?? 0n };
  let fee = p.fee;
  if (fee === undefined) {
    const auth = (await getParams(client)).auth as { feeBase: string; feePerByte: string };
    // The fee field has a fixed width, so the size does not depend on the fee chosen.
    const size = buildTx(client.registry, p.signer, { ...base, fee: 0n }).length;
    fee = BigInt(auth.feeBase) + BigInt(auth.feePerByte) * BigInt(size);
  }
  return { tx: buildTx(client.registry, p.signer, { ...base, fee }), fee, sequence };
}

export interface SignAndSendReturnType extends TxView {
  fee: bigint;
}

/**
 * Builds, signs, submits and waits for inclusion. Resolves with the committed tx; throws
 * TxRejectedError (refused by the mempool), TxFailedError (committed but failed) or TimeoutError.
 */
export async function signAndSend(client: Client, p: PrepareTxParameters & { timeoutMs?: number }): Promise<SignAndSendReturnType> {
  const { tx, fee } = await prepareTx(client, p);
  const { hash } = await sendTx(client, { tx });
  const t = await waitForTx(client, { hash, timeoutMs: p.timeoutMs ?? 30_000 });
  if (t.code !== 0) throw new TxFailedError(t.hash, BigInt(t.height), t.codespace, t.code, t.error, t.log);
  return { ...t, fee };
}

/** Sends `amount` ugw from the signer to `to`. */
export function transfer(client: Client, p: Omit<PrepareTxParameters, 'msgs'> & { to: string; amount: bigint; timeoutMs?: number }): Promise<SignAndSendReturnType> {
  const { to, amount, ...rest } = p;
  return signAndSend(client, { ...rest, msgs: [{ type: 'bank/send', value: { to: decodeAddress(to), amount } }] });
}
