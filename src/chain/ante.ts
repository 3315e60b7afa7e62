/**
 * The checks every tx passes before its messages run, in order of cost: chain id, message
 * count, memo, timeout, signature, fee, sequence, fee funds. Then the fee is taken and the
 * sequence advanced. Each failure is a specific error saying what to do.
 */
import { encodeAddress, verifySignature } from '../core/keys.js';
import type { Context } from './context.js';
import { TxErrors } from './errors.js';
import { minFee, type AuthParams } from './modules/auth/index.js';
import { FEE_COLLECTOR } from './modules/bank/index.js';
import { addBalance, getAccount, setAccount } from './modules/bank/keeper.js';
import type { DecodedTx } from './tx.js';

export function ante(ctx: Context, d: DecodedTx, auth: AuthParams, signatureChecked: boolean): void {
  const b = d.tx.body;
  if (b.chainId !== ctx.chainId) {
    throw TxErrors.WRONG_CHAIN_ID(`tx is for chain "${b.chainId}" but this chain is "${ctx.chainId}"`);
  }
  if (b.msgs.length === 0) throw TxErrors.NO_MSGS();
  if (b.msgs.length > auth.maxMsgs) throw TxErrors.TOO_MANY_MSGS(`tx has ${b.msgs.length} messages, the limit is ${auth.maxMsgs}`);
  const memoBytes = Buffer.byteLength(b.memo, 'utf8');
  if (memoBytes > auth.maxMemoBytes) throw TxErrors.MEMO_TOO_LONG(`memo is ${memoBytes} bytes, the limit is ${auth.maxMemoBytes}`);
  if (b.timeoutHeight !== 0n && ctx.block.height > b.timeoutHeight) {
    throw TxErrors.TX_EXPIRED(`tx timed out at height ${b.timeoutHeight}; the chain is at ${ctx.block.height}`);
  }
  if (!signatureChecked && !verifySignature(b.signer, d.signBytes, d.tx.signature)) {
    throw TxErrors.BAD_SIGNATURE('signature does not verify: the tx was altered after signing or signed with another key/chain id');
  }
  const need = minFee(auth, d.bytes.length);
  if (b.fee < need) throw TxErrors.FEE_TOO_LOW(`fee ${b.fee}ugw is below the minimum ${need}ugw for a ${d.bytes.length}-byte tx`);
  const acct = getAccount(ctx.store, d.signerAddress);
  if (b.sequence < acct.sequence) {
    throw TxErrors.SEQUENCE_REUSED(`sequence ${b.sequence} was already used; the account's next sequence is ${acct.sequence}`);
  }
  if (b.sequence > acct.sequence) {
    throw TxErrors.SEQUENCE_GAP(`sequence ${b.sequence} skips ahead; the account's next sequence is ${acct.sequence}`);
  }
  if (acct.balance < b.fee) {
    throw TxErrors.INSUFFICIENT_FEE_FUNDS(`${encodeAddress(d.signerAddress)} has ${acct.balance}ugw, the fee is ${b.fee}ugw`);
  }
  setAccount(ctx.store, d.signerAddress, { sequence: acct.sequence + 1n, balance: acct.balance - b.fee });
  // Admission does not credit the collector: no admission decision depends on its balance, and
  // leaving it out keeps pending txs independent of each other (see Mempool.update).
  if (b.fee > 0n && !ctx.checkOnly) addBalance(ctx.store, FEE_COLLECTOR, b.fee);
  ctx.emit('tx', () => ({ signer: encodeAddress(d.signerAddress), sequence: b.sequence, fee: b.fee }));
}
