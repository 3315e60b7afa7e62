/**
 * storage: proof of storage and retrieval for files stored on independent providers (see
 * keeper.ts for the lifecycle).
 *
 *   storage/create-deal {order, size, k, m, pieceSize, segments, shards[{lease, root, ack}]}  the order's customer
 *   storage/prove {period, proofs[{order, shard, leaves[{data, path}]}]}                        the shards' provider
 *   storage/retrieval-report {period, order, result: served{receipt} | failed{reason}}          the designated checker or the customer
 *   storage/repair {order, shard, lease, ack}                                                   anyone (the repair worker)
 *   storage/close-deal {order}                                                                  the customer
 */
import { toHex, type Bytes } from '../../../core/bytes.js';
import { parseBigUint, U64_MAX } from '../../../core/codec.js';
import { InvalidInputError } from '../../../core/errors.js';
import { decodeAddress, encodeAddress } from '../../../core/keys.js';
import type { KVReader } from '../../../state/overlay.js';
import { prefixEnd } from '../../keys.js';
import { msg, type Module } from '../../module.js';
import type { StorageDeps } from './expected.js';
import {
  challengesOf,
  closeDeal,
  createDeal,
  endBlock,
  getDeal,
  latestPeriod,
  periodStart,
  prove,
  repair,
  retrievalReport,
  retrievalsFor,
  storageParamsOf,
} from './keeper.js';
import { customerDealsPrefix } from './keys.js';
import { closeDealMsgCodec, createDealMsgCodec, proveMsgCodec, repairMsgCodec, retrievalReportMsgCodec, storageParams, type DealRecord, type StorageParams } from './types.js';

export * from './types.js';
export * from './signing.js';
export { StorageErrors } from './errors.js';
export type { StorageDeps } from './expected.js';
export { STORAGE_RESERVE, FORGED_PROOF_KIND, challengeLeaves, retrievalNonce, getDeal, periodOf } from './keeper.js';

export function dealView(order: bigint, d: DealRecord) {
  return {
    order: order.toString(),
    customer: encodeAddress(d.customer),
    size: d.size.toString(),
    k: d.k,
    m: d.m,
    pieceSize: d.pieceSize,
    segments: d.segments.toString(),
    shardBytes: d.shardBytes.toString(),
    createdHeight: d.createdHeight.toString(),
    status: d.status,
    endedHeight: d.endedHeight.toString(),
    reserve: d.reserve.toString(),
    repairs: d.repairs,
    shards: d.shards.map((s, index) => ({
      index,
      lease: s.lease.toString(),
      provider: encodeAddress(s.provider),
      device: toHex(s.device),
      root: toHex(s.root),
      status: s.status,
      misses: s.misses,
      retrievalFails: s.retrievalFails,
      proofs: s.proofs.toString(),
      statusHeight: s.statusHeight.toString(),
    })),
  };
}

type Args = Readonly<Record<string, string>>;

function argOrder(args: Args): bigint {
  const v = args.order ?? args.id;
  if (v === undefined || !/^[1-9][0-9]{0,19}$/.test(v)) throw new InvalidInputError('INVALID_ARGUMENT', `give ?order= as a positive integer${v === undefined ? '' : `, got "${v}"`}`);
  return parseBigUint(v, U64_MAX, 'order');
}

function argAddr(args: Args, name: string): Bytes {
  const v = args[name];
  if (v === undefined) throw new InvalidInputError('INVALID_ARGUMENT', `give ?${name}=gw1...`);
  return decodeAddress(v);
}

function argPeriod(store: KVReader, args: Args): bigint {
  return args.period === undefined ? latestPeriod(store) : parseBigUint(args.period, U64_MAX, 'period');
}

export function storageModule(deps: StorageDeps): Module<null, StorageParams> {
  return {
    name: 'storage',
    params: storageParams,
    indexedAttributes: ['storage.deal.created.customer', 'storage.proof.missed.provider', 'storage.proof.forged.provider', 'storage.shard.lost.provider', 'storage.retrieval.failed.provider'],
    msgs: [
      msg('storage/create-deal', createDealMsgCodec, (ctx, m) => {
        createDeal(ctx, deps, ctx.sender as Bytes, m);
      }),
      msg('storage/prove', proveMsgCodec, (ctx, m) => {
        prove(ctx, deps, ctx.sender as Bytes, m);
      }),
      msg('storage/retrieval-report', retrievalReportMsgCodec, (ctx, m) => retrievalReport(ctx, deps, ctx.sender as Bytes, m)),
      msg('storage/repair', repairMsgCodec, (ctx, m) => repair(ctx, deps, ctx.sender as Bytes, m)),
      msg('storage/close-deal', closeDealMsgCodec, (ctx, m) => closeDeal(ctx, deps, ctx.sender as Bytes, m.order)),
    ],
    endBlock(ctx) {
      endBlock(ctx, deps);
    },
    queries: {
      /** ?order=N: the deal, its shards and their standing. */
      deal(store, args) {
        const order = argOrder(args);
        const d = getDeal(store, order);
        if (!d) throw new InvalidInputError('NOT_FOUND', `no storage deal for order ${order}`);
        return dealView(order, d);
      },
      /** ?customer=gw1...: the customer's deals (newest first, at most 100). */
      deals(store, args) {
        const who = argAddr(args, 'customer');
        const prefix = customerDealsPrefix(who);
        const out: ReturnType<typeof dealView>[] = [];
        for (const [k] of store.iterate(prefix, prefixEnd(prefix))) {
          const order = Buffer.from(k.buffer, k.byteOffset, k.byteLength).readBigUInt64BE(prefix.length);
          out.push(dealView(order, getDeal(store, order) as DealRecord));
        }
        return { deals: out.reverse().slice(0, 100) };
      },
      /** ?provider=gw1...[&period=N] (default: the latest period): the storage challenges due from the provider. */
      challenges(store, args) {
        const provider = argAddr(args, 'provider');
        const p = storageParamsOf(store);
        const period = argPeriod(store, args);
        return {
          period: period.toString(),
          deadline: periodStart(period + 1n, p).toString(),
          leavesPerChallenge: p.leavesPerChallenge,
          challenges: challengesOf(store, provider, period).map((c) => ({ order: c.order.toString(), shard: c.shard, root: toHex(c.root), leafCount: c.leafCount, leaves: c.leaves })),
        };
      },
      /** ?checker=gw1...[&period=N] (default: the latest period): retrieval checks the address may report. */
      retrievals(store, args) {
        const checker = argAddr(args, 'checker');
        const period = argPeriod(store, args);
        return {
          period: period.toString(),
          checks: retrievalsFor(store, checker, period).map((r) => ({
            order: r.order.toString(),
            shard: r.due.shard,
            leaf: r.due.leaf,
            leafCount: r.leafCount,
            root: toHex(r.root),
            provider: encodeAddress(r.provider),
            nonce: toHex(r.nonce),
          })),
        };
      },
    },
  };
}


