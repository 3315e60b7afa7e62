/**
 * Groundwork TypeScript SDK.
 *
 *   import { createClient, transfer, getAccount, Keyring } from 'groundwork/client';
 */
export { Client, createClient, type ClientConfig, type TrustAnchor } from './client.js';
export * from './errors.js';
export { verifyStateProof, verifySignedHeader, type ProofView, type VerifiedValue } from './verify.js';
export { getStatus, type GetStatusReturnType } from './actions/getStatus.js';
export { getAccount, type GetAccountParameters, type GetAccountReturnType } from './actions/getAccount.js';
export { getState, type GetStateParameters } from './actions/getState.js';
export { getBlock, type BlockView, type GetBlockParameters } from './actions/getBlock.js';
export { getTx, waitForTx, type TxView, type GetTxParameters } from './actions/getTx.js';
export { sendTx, sendTxBatch, type SendTxReturnType, type BatchResult } from './actions/sendTx.js';
export { getParams, type ParamsView } from './actions/getParams.js';
export { searchTxs, type SearchTxsParameters } from './actions/searchTxs.js';
export { prepareTx, signAndSend, transfer, type PrepareTxParameters, type SignAndSendReturnType } from './actions/signAndSend.js';
export { Keyring, type KeyInfo, type KeyringBackend } from './keyring.js';
export { Ed25519Key, encodeAddress, decodeAddress, isAddress } from '../core/keys.js';
export { parseAmount, formatAmount, formatBase } from '../core/amount.js';
export { cometVerifiedQuery, verifyCometCommit, type CometQueryResult, type TrustedValidator } from './cometbft.js';
