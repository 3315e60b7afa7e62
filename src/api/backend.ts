/**
 * What the API server needs from a node. The embedded node provides it; a CometBFT-backed node
 * can provide the same, so the API, SDK and CLI do not care which one runs the chain.
 */
import type { Bytes } from '../core/bytes.js';
import type { App } from '../chain/app.js';
import type { Block, BlockResults, SignedHeader } from '../node/block.js';
import type { StoredTx, TxRef } from '../node/blockstore.js';
import type { SubmitResult } from '../node/mempool.js';
import type { CommittedBlock } from '../node/node.js';
import type { ProvenValue } from '../state/jmt.js';

export interface NodeBackend {
  readonly chainId: string;
  /** The genesis file exactly as the node loaded it. */
  readonly genesisBytes: Bytes;
  readonly genesisHash: Bytes;
  /** Height of the last committed block. */
  readonly height: number;
  readonly lastBlockHash: Bytes;
  readonly app: Pick<App, 'msgType' | 'modules' | 'validators' | 'state' | 'artifact'>;
  readonly mempoolSize: number;
  readonly mempoolBytes: number;

  submit(txs: readonly Bytes[]): Promise<SubmitResult[]>;
  waitForTx(hash: Bytes, timeoutMs: number): Promise<StoredTx | undefined>;
  tx(hash: Bytes): StoredTx | undefined;
  block(height: number): Block | undefined;
  blockResults(height: number): BlockResults | undefined;
  signedHeader(height: number): SignedHeader | undefined;
  searchTxs(attr: string, limit: number, before?: { height: number; index: number }): TxRef[];
  /** Value + proof at `height`, or undefined if that height's state is not retained. */
  proveState(key: Bytes, height: number): (ProvenValue & { rootHash: Bytes }) | undefined;

  onBlock(listener: (b: CommittedBlock) => void): () => void;
}
