/**
 * Blocks as the embedded node produces and stores them.
 *
 * The header commits to everything a light client needs: the previous block, the txs (Merkle
 * root of their hashes), their results (Merkle root of result hashes), the state after the
 * block (app hash) and the validator set. The proposer signs HEADER_DOMAIN || SHA-256(header).
 */
import { concat, utf8, type Bytes } from '../core/bytes.js';
import { Writer, bytes, bytes32, decode, encode, list, string, struct, u32, u64, type Infer } from '../core/codec.js';
import { sha256 } from '../core/hash.js';
import { pubKey, signature, verifySignature, type Signer } from '../core/keys.js';
import { merkleRoot } from '../core/merkle.js';
import type { TxResult } from '../chain/app.js';
import { eventCodec } from '../chain/events.js';
import { ABSOLUTE_MAX_TX_BYTES } from '../chain/tx.js';

export const HEADER_DOMAIN = utf8('groundwork-header-v1\n');

export const headerCodec = struct('Header', {
  chainId: string(64),
  height: u64,
  /** Unix milliseconds, set by the proposer; strictly increasing. */
  time: u64,
  lastBlockHash: bytes32,
  txsHash: bytes32,
  resultsHash: bytes32,
  /** State root after applying this block. */
  appHash: bytes32,
  validatorsHash: bytes32,
  proposer: pubKey,
});
export type Header = Infer<typeof headerCodec>;

export const signedHeaderCodec = struct('SignedHeader', { header: headerCodec, signature });
export type SignedHeader = Infer<typeof signedHeaderCodec>;

export const blockCodec = struct('Block', {
  header: headerCodec,
  signature,
  txs: list(bytes(ABSOLUTE_MAX_TX_BYTES, 'tx'), 10_000_000, 'txs'),
});
export type Block = Infer<typeof blockCodec>;

/**
 * A stored tx result. The leading fields (code, codespace, events) are what the results hash
 * commits to; the error name and the log are for people (log texts are not consensus data).
 */
export const txResultCodec = struct('TxResult', {
  code: u32,
  codespace: string(64),
  events: list(eventCodec, 1024),
  error: string(64),
  log: string(4096),
});

export const eventListCodec = list(eventCodec, 1_000_000);

export const blockResultsCodec = struct('BlockResults', {
  txResults: list(txResultCodec, 10_000_000),
  beginEvents: eventListCodec,
  endEvents: eventListCodec,
});
export type BlockResults = Infer<typeof blockResultsCodec>;

export function headerHash(h: Header): Bytes {
  return sha256(encode(headerCodec, h));
}

export function signHeader(h: Header, key: Signer): Bytes {
  return key.sign(concat(HEADER_DOMAIN, headerHash(h)));
}

export function verifyHeaderSignature(h: Header, sig: Bytes): boolean {
  return verifySignature(h.proposer, concat(HEADER_DOMAIN, headerHash(h)), sig);
}

/** Merkle root of the block's tx hashes, in block order. */
export function txsHash(txHashes: readonly Bytes[]): Bytes {
  return merkleRoot(txHashes);
}

/** Logs are for people; cap them so one verbose error cannot bloat the block store. */
export function storableResult(r: TxResult): Infer<typeof txResultCodec> {
  return { code: r.code, codespace: r.codespace, events: r.events, error: r.error, log: r.log.length > 1000 ? `${r.log.slice(0, 1000)}…` : r.log };
}

/**
 * A block's results in their stored form, encoded once: u32 count, each tx result, then the
 * begin- and end-block events. Also yields each result's position and the results hash: the
 * Merkle root of SHA-256(code, codespace, events) per tx, which are the first fields of each
 * stored result.
 */
export interface EncodedResults {
  readonly blob: Bytes;
  /** (offset, length) of tx result i at 2i, 2i+1. */
  readonly offsets: readonly number[];
  readonly hash: Bytes;
}

export function encodeResults(results: BlockResults): EncodedResults {
  const w = new Writer(256 + results.txResults.length * 200);
  w.u32(results.txResults.length);
  const offsets: number[] = [];
  const digestEnds: number[] = [];
  for (const r of results.txResults) {
    const start = w.pos;
    const s = storableResult(r);
    u32.write(w, s.code);
    txResultCodec.fields.codespace.write(w, s.codespace);
    txResultCodec.fields.events.write(w, s.events);
    digestEnds.push(w.pos);
    txResultCodec.fields.error.write(w, s.error);
    txResultCodec.fields.log.write(w, s.log);
    offsets.push(start, w.pos - start);
  }
  eventListCodec.write(w, results.beginEvents);
  eventListCodec.write(w, results.endEvents);
  const blob = w.finish();
  const digests = digestEnds.map((end, i) => sha256(blob.subarray(offsets[2 * i] as number, end)));
  return { blob, offsets, hash: merkleRoot(digests) };
}

export function resultsHash(results: readonly TxResult[]): Bytes {
  return encodeResults({ txResults: [...results], beginEvents: [], endEvents: [] }).hash;
}

export function decodeBlock(b: Bytes): Block {
  return decode(blockCodec, b);
}
