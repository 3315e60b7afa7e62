/**
 * Block, result and index storage, in the node's LMDB environment (same transaction as the
 * state of the block, so blocks and state can never disagree after a crash).
 *
 * | table           | key                                        | value                                  |
 * | --------------- | ------------------------------------------ | -------------------------------------- |
 * | blocks          | height u64                                 | Block (header, signature, txs)         |
 * | results         | height u64                                 | BlockResults                           |
 * | blocks.byhash   | block hash (32)                            | height u64                             |
 * | txs.byhash      | tx hash (32)                               | height u64, index u32, tx offset u32,  |
 * |                 |                                            | tx length u32, result offset u32,      |
 * |                 |                                            | result length u32                      |
 * | events          | "type.key=value" 0x00 height u64 index u32 | tx hash (32)                           |
 *
 * A tx location stores the byte offsets of the tx inside its block and of its result inside
 * the results, so looking a tx up never decodes the whole block.
 */
import { concat, readU64be, u64be, utf8, type Bytes } from '../core/bytes.js';
import { Reader, Writer, decode } from '../core/codec.js';
import type { Event } from '../chain/events.js';
import { fromBuffer, toBuffer, type Database, type Table, type WriteOp } from '../state/db.js';
import {
  encodeResults,
  eventListCodec,
  type EncodedResults,
  headerCodec,
  signedHeaderCodec,
  type storableResult,
  txResultCodec,
  type Block,
  type BlockResults,
  type SignedHeader,
} from './block.js';

export interface TxLocation {
  readonly height: number;
  readonly index: number;
  readonly txOffset: number;
  readonly txLength: number;
  readonly resultOffset: number;
  readonly resultLength: number;
}

export interface StoredTx {
  readonly hash: Bytes;
  readonly height: number;
  readonly index: number;
  readonly bytes: Bytes;
  readonly result: ReturnType<typeof storableResult>;
}

export interface TxRef {
  readonly height: number;
  readonly index: number;
  readonly hash: Bytes;
}

function putU32(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}

function putU64(b: Uint8Array, o: number, v: number): void {
  putU32(b, o, Math.floor(v / 0x1_0000_0000));
  putU32(b, o + 4, v >>> 0);
}

function decodeLocation(b: Bytes): TxLocation {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return {
    height: Number(dv.getBigUint64(0)),
    index: dv.getUint32(8),
    txOffset: dv.getUint32(12),
    txLength: dv.getUint32(16),
    resultOffset: dv.getUint32(20),
    resultLength: dv.getUint32(24),
  };
}

function eventIndexPrefix(attr: string): Bytes {
  return concat(utf8(attr), Uint8Array.of(0));
}

export class BlockStore {
  private readonly blocks: Table;
  private readonly resultsT: Table;
  private readonly blockByHash: Table;
  private readonly txByHash: Table;
  private readonly events: Table;

  /** Indexed attribute keys by event type. */
  private readonly indexedByType = new Map<string, Set<string>>();

  /**
   * The last height readers may see. A block's writes become visible to LMDB readers when its
   * transaction commits, a moment before the node switches its state to that block; until then
   * (the node raises this after the switch) the block, its results, its txs and their index
   * entries read as absent, so a client that sees its tx committed always finds its effects in
   * the state it queries next. Unlimited for offline readers (replay).
   */
  visibleHeight = Number.MAX_SAFE_INTEGER;

  constructor(
    db: Database,
    /** Event attributes to index, as "type.key". */
    indexed: ReadonlySet<string>,
  ) {
    for (const name of indexed) {
      const dot = name.lastIndexOf('.');
      const type = name.slice(0, dot);
      const set = this.indexedByType.get(type) ?? new Set<string>();
      set.add(name.slice(dot + 1));
      this.indexedByType.set(type, set);
    }
    this.blocks = db.table('blocks');
    this.resultsT = db.table('results');
    this.blockByHash = db.table('blocks.byhash');
    this.txByHash = db.table('txs.byhash');
    this.events = db.table('events');
  }

  /**
   * The writes that store a block, its results and its indexes. `txHashes[i]` is the hash of
   * `block.txs[i]`.
   */
  writesFor(block: Block, blockHash: Bytes, txHashes: readonly Bytes[], results: BlockResults, encoded: EncodedResults = encodeResults(results)): WriteOp[] {
    const height = block.header.height;
    const hkey = u64be(height);
    const ops: WriteOp[] = [];

    // Block: header, signature, u32 count, then (u32 length, bytes) per tx; track offsets.
    const bw = new Writer(1024 + block.txs.reduce((n, t) => n + t.length + 4, 0));
    headerCodec.write(bw, block.header);
    bw.raw(block.signature);
    bw.u32(block.txs.length);
    const txOffsets: number[] = [];
    for (const t of block.txs) {
      bw.u32(t.length);
      txOffsets.push(bw.pos);
      bw.raw(t);
    }
    ops.push({ table: this.blocks, key: hkey, value: bw.finish() });

    const resultOffsets = encoded.offsets;
    ops.push({ table: this.resultsT, key: hkey, value: encoded.blob });
    ops.push({ table: this.blockByHash, key: blockHash, value: hkey });

    const h = Number(height);
    for (let i = 0; i < block.txs.length; i++) {
      const loc = new Uint8Array(28);
      putU64(loc, 0, h);
      putU32(loc, 8, i);
      putU32(loc, 12, txOffsets[i] as number);
      putU32(loc, 16, (block.txs[i] as Bytes).length);
      putU32(loc, 20, resultOffsets[2 * i] as number);
      putU32(loc, 24, resultOffsets[2 * i + 1] as number);
      ops.push({ table: this.txByHash, key: txHashes[i] as Bytes, value: loc });
      let seen: string[] | undefined;
      for (const e of (results.txResults[i] as { events: Event[] }).events) {
        const keys = this.indexedByType.get(e.type);
        if (!keys) continue;
        for (const a of e.attributes) {
          if (!keys.has(a.key)) continue;
          const k = `${e.type}.${a.key}=${a.value}`;
          if (seen?.includes(k)) continue;
          (seen ??= []).push(k);
          // key: "type.key=value" 0x00 height u64 index u32
          const n = Buffer.byteLength(k, 'utf8');
          const key = Buffer.allocUnsafe(n + 13);
          key.write(k, 0, 'utf8');
          key[n] = 0;
          putU64(key, n + 1, h);
          putU32(key, n + 9, i);
          ops.push({ table: this.events, key, value: txHashes[i] as Bytes });
        }
      }
    }
    return ops;
  }

  blockRaw(height: number): Bytes | undefined {
    if (height > this.visibleHeight) return undefined;
    const b = this.blocks.get(toBuffer(u64be(height)));
    return b ? fromBuffer(b) : undefined;
  }

  block(height: number): Block | undefined {
    const raw = this.blockRaw(height);
    if (!raw) return undefined;
    const r = new Reader(raw);
    const header = headerCodec.read(r);
    const signature = r.raw(64);
    const n = r.u32();
    const txs: Bytes[] = new Array(n);
    for (let i = 0; i < n; i++) txs[i] = r.raw(r.u32());
    return { header, signature, txs };
  }

  signedHeader(height: number): SignedHeader | undefined {
    const raw = this.blockRaw(height);
    if (!raw) return undefined;
    const r = new Reader(raw);
    return signedHeaderCodec.read(r);
  }

  results(height: number): BlockResults | undefined {
    if (height > this.visibleHeight) return undefined;
    const raw = this.resultsT.get(toBuffer(u64be(height)));
    if (!raw) return undefined;
    const r = new Reader(fromBuffer(raw));
    const n = r.u32();
    const txResults = new Array(n);
    for (let i = 0; i < n; i++) txResults[i] = txResultCodec.read(r);
    const beginEvents = eventListCodec.read(r);
    const endEvents = eventListCodec.read(r);
    return { txResults, beginEvents, endEvents };
  }

  heightOf(blockHash: Bytes): number | undefined {
    const b = this.blockByHash.get(toBuffer(blockHash));
    const height = b ? Number(readU64be(fromBuffer(b))) : undefined;
    return height !== undefined && height <= this.visibleHeight ? height : undefined;
  }

  /** Whether the tx is stored, visible or not (the mempool's duplicate check must see it at once). */
  hasTx(hash: Bytes): boolean {
    return this.txByHash.doesExist(toBuffer(hash));
  }

  tx(hash: Bytes): StoredTx | undefined {
    const l = this.txByHash.get(toBuffer(hash));
    if (!l) return undefined;
    const loc = decodeLocation(fromBuffer(l));
    if (loc.height > this.visibleHeight) return undefined;
    const block = this.blocks.get(toBuffer(u64be(loc.height)));
    const results = this.resultsT.get(toBuffer(u64be(loc.height)));
    if (!block || !results) return undefined;
    const bytes = Uint8Array.from(block.subarray(loc.txOffset, loc.txOffset + loc.txLength));
    const result = decode(txResultCodec, fromBuffer(results).subarray(loc.resultOffset, loc.resultOffset + loc.resultLength));
    return { hash, height: loc.height, index: loc.index, bytes, result };
  }

  /**
   * Txs whose events carry `attr` ("type.key=value"), newest first. `before` continues a
   * previous page (exclusive).
   */
  searchTxs(attr: string, limit: number, before?: { height: number; index: number }): TxRef[] {
    const prefix = eventIndexPrefix(attr);
    let start: Bytes;
    if (before) {
      const suffix = new Uint8Array(12);
      const dv = new DataView(suffix.buffer);
      dv.setBigUint64(0, BigInt(before.height));
      dv.setUint32(8, before.index);
      start = concat(prefix, suffix);
    } else {
      start = concat(prefix, new Uint8Array(12).fill(0xff));
    }
    const out: TxRef[] = [];
    for (const { key, value } of this.events.getRange({ start: toBuffer(start), end: toBuffer(prefix), reverse: true })) {
      if (before && key.length === start.length && Buffer.compare(key, toBuffer(start)) === 0) continue;
      const dv = new DataView(key.buffer, key.byteOffset + prefix.length, 12);
      const height = Number(dv.getBigUint64(0));
      if (height > this.visibleHeight) continue;
      out.push({ height, index: dv.getUint32(8), hash: Uint8Array.from(value) });
      if (out.length >= limit) break;
    }
    return out;
  }
}
