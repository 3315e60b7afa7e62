/**
 * JSON views of chain objects for the API. Hashes people copy around (block, tx, app hash) are
 * upper-case hex as in CometBFT; amounts and heights are decimal strings (they can exceed 2^53).
 */
import { toBase64, toHex, type Bytes } from '../core/bytes.js';
import { encode } from '../core/codec.js';
import { encodeAddress, addressFromPublicKey } from '../core/keys.js';
import type { Event } from '../chain/events.js';
import type { MsgRegistry } from '../chain/tx.js';
import { decodeTx, txToJSON } from '../chain/tx.js';
import { headerHash, signedHeaderCodec, type Block, type Header, type SignedHeader } from '../node/block.js';
import type { StoredTx } from '../node/blockstore.js';

export const hexU = (b: Bytes): string => toHex(b).toUpperCase();

export function headerJSON(h: Header) {
  return {
    chainId: h.chainId,
    height: h.height.toString(),
    time: new Date(Number(h.time)).toISOString(),
    lastBlockHash: hexU(h.lastBlockHash),
    txsHash: hexU(h.txsHash),
    resultsHash: hexU(h.resultsHash),
    appHash: hexU(h.appHash),
    validatorsHash: hexU(h.validatorsHash),
    proposer: encodeAddress(addressFromPublicKey(h.proposer)),
    proposerPubKey: toHex(h.proposer),
  };
}

/** The signed header in its canonical binary form (what a client verifies), base64. */
export function signedHeaderRaw(sh: SignedHeader): string {
  return toBase64(encode(signedHeaderCodec, sh));
}

export function blockJSON(b: Block, txHashes: readonly Bytes[]) {
  return {
    hash: hexU(headerHash(b.header)),
    header: headerJSON(b.header),
    signature: toHex(b.signature),
    txCount: b.txs.length,
    txs: txHashes.map(hexU),
  };
}

export function eventsJSON(events: readonly Event[]) {
  return events.map((e) => ({ type: e.type, attributes: Object.fromEntries(e.attributes.map((a) => [a.key, a.value])) }));
}

export function storedTxJSON(t: StoredTx, registry: MsgRegistry) {
  let tx: Record<string, unknown> | null = null;
  try {
    tx = txToJSON(decodeTx(t.bytes, registry), registry);
  } catch {
    tx = null; // stored but not decodable (an invalid tx that was included and rejected)
  }
  return {
    hash: hexU(t.hash),
    height: String(t.height),
    index: t.index,
    code: t.result.code,
    codespace: t.result.codespace,
    error: t.result.error,
    log: t.result.log,
    events: eventsJSON(t.result.events),
    tx,
    raw: toBase64(t.bytes),
  };
}
