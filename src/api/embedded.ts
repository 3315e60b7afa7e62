/**
 * The embedded node as an API backend.
 */
import type { EmbeddedNode } from '../node/node.js';
import type { NodeBackend } from './backend.js';

export function embeddedBackend(node: EmbeddedNode): NodeBackend {
  return {
    chainId: node.chainId,
    genesisBytes: node.opts.genesis.bytes,
    genesisHash: node.opts.genesis.hash,
    get height() {
      return node.height;
    },
    get lastBlockHash() {
      return node.lastBlockHash;
    },
    app: node.app,
    get mempoolSize() {
      return node.mempool.size;
    },
    get mempoolBytes() {
      return node.mempool.sizeBytes;
    },
    submit: (txs) => node.submit(txs),
    waitForTx: (hash, ms) => node.waitForTx(hash, ms),
    tx: (hash) => node.blocks.tx(hash),
    block: (h) => node.blocks.block(h),
    blockResults: (h) => node.blocks.results(h),
    signedHeader: (h) => node.blocks.signedHeader(h),
    searchTxs: (attr, limit, before) => node.blocks.searchTxs(attr, limit, before),
    proveState: (key, height) => (height > node.height ? undefined : node.store.proveAt(key, height)),
    onBlock(listener) {
      node.on('block', listener);
      return () => node.off('block', listener);
    },
  };
}
