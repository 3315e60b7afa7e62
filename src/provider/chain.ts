/**
 * What the agent needs from the chain, as one narrow interface (like a module's `expected`
 * file), and its implementation over the SDK: module queries (`GET /v1/q/market/...`), block
 * results, and signed txs. Tests of the agent's logic substitute a fake; the integration test
 * uses this one against a real node.
 */
import { fromHex } from '../core/bytes.js';
import { GroundworkError } from '../core/errors.js';
import { encodeAddress, type Signer } from '../core/keys.js';
import type { DecodedMsg } from '../chain/tx.js';
import type { Client } from '../client/client.js';
import { ApiResponseError } from '../client/errors.js';
import { moduleQuery } from '../client/actions/moduleQuery.js';
import { signAndSend } from '../client/actions/signAndSend.js';
import { getStatus } from '../client/actions/getStatus.js';
import type { ChainSnapshot } from './reconcile.js';
import type { LocalState } from './state.js';
import type { BidView, ChainEvent, ExplainEntry, LeaseView, OrderDetail, OrderView, ProviderView } from './views.js';

export interface SentTx {
  hash: string;
  height: bigint;
  events: ChainEvent[];
}

export interface MarketChain {
  /** The operator's address (bech32). */
  readonly address: string;
  chainId(): Promise<string>;
  height(): Promise<bigint>;
  provider(address: string): Promise<ProviderView | null>;
  activeLeases(provider: string): Promise<LeaseView[]>;
  lease(id: string): Promise<LeaseView | null>;
  order(id: string): Promise<OrderDetail | null>;
  /** The provider's bids (standing and lost), by order id, at most `max` (default 10,000). */
  providerBids(provider: string, max?: number): Promise<BidView[]>;
  /** Orders taking bids now, at most `max`. */
  openOrders(max: number): Promise<OrderView[]>;
  /** The chain's eligibility verdict for `provider` on `order` (null: not listed, i.e. not registered). */
  explain(order: string, provider: string): Promise<ExplainEntry | null>;
  /** The market events of a block, in order: successful txs', then the end block's. */
  blockEvents(height: bigint): Promise<ChainEvent[]>;
  /** Signs with the operator key, sends, waits for the block; throws TxFailedError/TxRejectedError. */
  send(msgs: DecodedMsg[]): Promise<SentTx>;
}

export class MarketUnavailableError extends GroundworkError {
  override name = 'MarketUnavailableError';
}

/** Null for "no such record", rethrow everything else (an unreachable node is not "no lease"). */
async function orNull<T>(p: Promise<T>): Promise<T | null> {
  try {
    return await p;
  } catch (e) {
    if (e instanceof ApiResponseError) {
      if (e.status === 404 && /no module|has no query/.test(e.message)) {
        throw new MarketUnavailableError('MARKET_UNAVAILABLE', `the node has no market module: ${e.message}`, { cause: e });
      }
      if (e.status === 404 || /NOT_FOUND$|NOT_REGISTERED$/.test(e.code)) return null;
    }
    throw e;
  }
}

const PAGE = 100;
/** Pages through a `{items, next}` query, up to `max` items. */
async function all<T>(page: (after: string | undefined) => Promise<{ items: T[]; next: string | null }>, max = 10_000): Promise<T[]> {
  const out: T[] = [];
  let after: string | undefined;
  for (;;) {
    const r = await page(after);
    out.push(...r.items);
    if (!r.next || out.length >= max || r.items.length === 0) return out.slice(0, max);
    after = r.next;
  }
}

export function clientMarketChain(client: Client, signer: Signer): MarketChain {
  const q = <T>(query: string, args: Record<string, string | undefined> = {}) => moduleQuery<T>(client, 'market', query, args);
  const address = encodeAddress(signer.address);
  return {
    address,
    async chainId() {
      return (await getStatus(client)).chainId;
    },
    async height() {
      return BigInt((await getStatus(client)).height);
    },
    provider: (a) => orNull(q<ProviderView>('provider', { address: a })),
    activeLeases: (provider) =>
      all(async (after) => {
        const r = await q<{ leases: LeaseView[]; next: string | null }>('leases', { provider, status: 'active', after, limit: String(PAGE) });
        return { items: r.leases, next: r.next };
      }),
    lease: (id) => orNull(q<LeaseView>('lease', { id })),
    order: (id) => orNull(q<OrderDetail>('order', { id })),
    providerBids: (provider, max) =>
      all(async (after) => {
        const r = await q<{ bids: BidView[]; next: string | null }>('bids', { provider, after, limit: String(PAGE) });
        return { items: r.bids, next: r.next };
      }, max),
    openOrders: (max) =>
      all(async (after) => {
        const r = await q<{ orders: OrderView[]; next: string | null }>('open-orders', { after, limit: String(PAGE) });
        return { items: r.orders, next: r.next };
      }, max),
    async explain(order, provider) {
      // The one provider's verdict (all its devices): no paging through every registered provider.
      const r = await orNull(q<{ providers: ExplainEntry[] }>('explain', { order, provider }));
      return r?.providers.find((p) => p.provider === provider) ?? null;
    },
    async blockEvents(height) {
      const r = await client.request<{ txResults: Array<{ code: number; events: ChainEvent[] }>; beginEvents: ChainEvent[]; endEvents: ChainEvent[] }>('GET', `/v1/blocks/${height}/results`);
      const evs = [...r.beginEvents, ...r.txResults.filter((t) => t.code === 0).flatMap((t) => t.events), ...r.endEvents];
      return evs.filter((e) => e.type.startsWith('market.'));
    },
    async send(msgs) {
      const t = await signAndSend(client, { signer, msgs, timeoutMs: 60_000 });
      return { hash: t.hash, height: BigInt(t.height), events: t.events };
    },
  };
}

/**
 * Reads what reconcile() compares against: the provider record, its active leases, the chain's
 * view of each local lease and bid, and the open orders (with the provider's bid on each).
 */
export async function readSnapshot(chain: MarketChain, local: LocalState, opts: { maxOpenOrders?: number } = {}): Promise<ChainSnapshot> {
  const me = chain.address;
  const height = await chain.height();
  const [provider, activeLeases, open, myBids] = await Promise.all([chain.provider(me), chain.activeLeases(me), chain.openOrders(opts.maxOpenOrders ?? 1000), chain.providerBids(me)]);
  const active = new Set(activeLeases.map((l) => l.id));
  const otherLeases: ChainSnapshot['otherLeases'] = {};
  for (const id of Object.keys(local.leases)) {
    if (active.has(id)) continue;
    const l = await chain.lease(id);
    // Still active (the active list was cut short, or the lease was made while it was read): keep it.
    if (l && l.status === 'active' && l.provider === me) activeLeases.push(l);
    else otherLeases[id] = l;
  }
  const bidOrders: ChainSnapshot['bidOrders'] = {};
  for (const id of Object.keys(local.bids)) {
    const o = await chain.order(id);
    bidOrders[id] = o ? { status: o.status, bids: o.bids, leases: o.leases } : null;
  }
  // Our bid on each open order, from our own bid list (one paged query, not one per order).
  const byOrder = new Map(myBids.map((b) => [b.order, b]));
  const openOrders: ChainSnapshot['openOrders'] = open.map((order) => ({ order, myBid: byOrder.get(order.id) ?? null }));
  return { height, provider, activeLeases, otherLeases, bidOrders, openOrders };
}

/** `market/bid` as a tx message (the codec's in-memory types: bigint, bytes). */
export function bidMsg(order: string, device: string, price: bigint): DecodedMsg {
  return { type: 'market/bid', value: { order: BigInt(order), device: fromHex(device, 'device id'), price } };
}

export function registerProviderMsg(hostUri: string, attributes: Array<{ key: string; value: string }>): DecodedMsg {
  return { type: 'market/register-provider', value: { hostUri, attributes } };
}

export const withdrawMsg: DecodedMsg = { type: 'market/withdraw', value: {} };
