/**
 * The provider agent: a start/stop-able component wired from injected dependencies (the chain,
 * a pricing strategy, a state store, a block watcher, a logger, metrics), so tests substitute
 * any of them and the CLI wires the real ones (index.ts).
 *
 * All work runs on one serial queue — reconciling, reading a block's events, bidding,
 * withdrawing — so two of them never race on the local state or on the operator's account
 * sequence. The watcher only records the latest height; the queue walks every height from the
 * last one processed to it, so no block's events are skipped. If the agent falls more than
 * MAX_CATCHUP blocks behind (or after an error or a reconnect) it reconciles with chain state
 * instead, which covers whatever happened in between.
 *
 * Every decision is one log line with a reason code:
 *   bid order=12 price=900 strategy=scale device=ab12…
 *   skip order=13 reason=PRICE_ABOVE_MAX detail="price 1200 > maxPrice 1000"
 *   lease-adopted lease=4 order=12 source=event
 *   lease-closed lease=4 order=12 reason=insufficient-funds
 *   bid-forgotten order=12 reason=lost
 *   withdraw amount=123456
 */
import { mapLimit } from '../core/async.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { TxFailedError } from '../client/errors.js';
import { bidMsg, readSnapshot, registerProviderMsg, withdrawMsg, type MarketChain } from './chain.js';
import { bidFailureReason, decideBid, type BidPolicy } from './bidder.js';
import type { ProviderMetrics } from './metrics.js';
import type { PricingStrategy, SkipReason } from './pricing.js';
import { leaseFromView, reconcile, type DesiredProvider, type ReconcileAction } from './reconcile.js';
import { emptyState, type LocalState, type StateStore } from './state.js';
import type { BlockWatcher } from './watcher.js';
import type { ChainEvent, OrderView } from './views.js';

/** Beyond this many blocks behind, reconcile rather than replay block by block. */
export const MAX_CATCHUP = 50n;
/** Bids per tx (auth.maxMsgs is 32 by default) and orders decided at once (explain queries, pricing scripts). */
export const BID_BATCH = 16;
const DECIDE_CONCURRENCY = 8;

export interface AgentOptions extends BidPolicy {
  desired: DesiredProvider;
  withdrawEveryBlocks: number;
  reconcileEveryBlocks: number;
}

export interface AgentDeps {
  chain: MarketChain;
  pricing: PricingStrategy;
  store: StateStore;
  log: Logger;
  metrics: ProviderMetrics;
  /** Builds the block watcher with the agent's handlers. */
  watcher(handlers: { onBlock(height: bigint): void; onReconnect(): void }): BlockWatcher;
}

export interface AgentStatus {
  address: string;
  chainId: string;
  height: string;
  leases: LocalState['leases'];
  bids: LocalState['bids'];
  connected: boolean;
  lastReconcileHeight: string;
}

export class ProviderAgent {
  private state: LocalState | undefined;
  private chainId = '';
  private queue: Promise<void> = Promise.resolve();
  private latest = 0n;
  private processed = 0n;
  private lastReconcile = 0n;
  private needsReconcile = true;
  private pumping = false;
  private stopping = false;
  private watcher: BlockWatcher | undefined;
  private readonly considering = new Set<string>();

  constructor(
    private readonly opts: AgentOptions,
    private readonly deps: AgentDeps,
  ) {}

  get address(): string {
    return this.deps.chain.address;
  }

  status(): AgentStatus {
    return {
      address: this.address,
      chainId: this.chainId,
      height: this.processed.toString(),
      leases: this.state?.leases ?? {},
      bids: this.state?.bids ?? {},
      connected: this.watcher?.connected ?? false,
      lastReconcileHeight: this.lastReconcile.toString(),
    };
  }

  /**
   * Reconciles once (when the node answers; otherwise it retries on the next block), then
   * follows blocks. Resolves once the first reconciliation was attempted.
   */
  async start(): Promise<void> {
    this.stopping = false;
    await this.enqueue(async () => void (await this.reconcileOnce('start')));
    this.watcher = this.deps.watcher({
      onBlock: (h) => this.onBlock(h),
      onReconnect: () => {
        this.deps.metrics.wsReconnects.inc();
        this.needsReconcile = true;
        this.kick();
      },
    });
    this.watcher.start();
  }

  /** Stops following blocks and lets the work in hand finish (a tx in flight is waited for, up to `graceMs`). */
  async stop(graceMs = 15_000): Promise<void> {
    this.stopping = true;
    await this.watcher?.stop();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.queue, new Promise<void>((r) => (timer = setTimeout(r, graceMs)))]);
    clearTimeout(timer);
  }

  /** Runs a reconciliation now (serialized with everything else). */
  reconcileNow(): Promise<void> {
    return this.enqueue(async () => void (await this.reconcileOnce('manual')));
  }

  /** Runs `fn` on the agent's serial queue: other components' txs share the operator's account sequence. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    let out: T | undefined;
    return this.enqueue(async () => {
      out = await fn();
    }).then(() => out as T);
  }

  /** Resolves when the work queued so far is done (tests). */
  idle(): Promise<void> {
    return this.enqueue(async () => {});
  }

  private enqueue(fn: () => Promise<void>): Promise<void> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => {});
    return run;
  }

  private onBlock(h: bigint): void {
    this.deps.metrics.chainHeight.set(h);
    if (h > this.latest) this.latest = h;
    this.kick();
  }

  private kick(): void {
    if (this.pumping || this.stopping) return;
    this.pumping = true;
    void this.enqueue(async () => {
      try {
        await this.pump();
      } finally {
        this.pumping = false;
      }
    });
  }

  /** Walks the heights not yet processed; reconciles when asked to, when too far behind, or every reconcileEveryBlocks. */
  private async pump(): Promise<void> {
    while (!this.stopping) {
      if (this.needsReconcile || this.latest - this.processed > MAX_CATCHUP) {
        const ok = await this.reconcileOnce(this.needsReconcile ? 'resync' : 'behind');
        if (!ok) return; // the node is not answering; the next block or reconnect tries again
        continue;
      }
      if (this.processed >= this.latest) return;
      const h = this.processed + 1n;
      try {
        await this.processBlock(h);
      } catch (e) {
        this.fail('block', e, { height: h });
        this.needsReconcile = true;
        return;
      }
      this.processed = h;
      this.setHeight(h);
      if (h - this.lastReconcile >= BigInt(this.opts.reconcileEveryBlocks)) await this.reconcileOnce('periodic');
      await this.maybeWithdraw(h);
    }
  }

  private setHeight(h: bigint): void {
    const s = this.state;
    if (!s || BigInt(s.height) >= h) return;
    // In memory only: the height is informational (the chain decides what to reconcile), and
    // an fsync per block would be the agent's main disk load. The next real change saves it.
    s.height = h.toString();
  }

  private save(): void {
    if (!this.state) return;
    this.deps.store.save(this.state);
    this.deps.metrics.leasesActive.set(BigInt(Object.keys(this.state.leases).length));
  }

  private fail(what: string, e: unknown, fields: Record<string, unknown> = {}): void {
    this.deps.metrics.errors.inc({ kind: what });
    this.deps.log.warn(`${what}-failed`, { ...fields, code: (e as { code?: string }).code ?? 'ERROR', error: errorMessage(e) });
  }

  // -------------------------------------------------------------------------------------------
  // Reconciliation

  /** Reads chain state and converges to it; false when the chain could not be read. */
  private async reconcileOnce(why: string): Promise<boolean> {
    const { chain, log, metrics } = this.deps;
    try {
      if (!this.state) {
        this.chainId = await chain.chainId();
        const loaded = this.deps.store.load(this.chainId, this.address);
        this.state = loaded ?? emptyState(this.chainId, this.address);
        log.info('state-loaded', { source: loaded ? 'file' : 'empty', leases: Object.keys(this.state.leases).length, bids: Object.keys(this.state.bids).length, height: this.state.height });
      }
      const snap = await readSnapshot(chain, this.state);
      const { actions, state } = reconcile(snap, this.state, this.opts.desired);
      this.state = state;
      this.needsReconcile = false;
      this.lastReconcile = snap.height;
      if (snap.height > this.processed) this.processed = snap.height;
      if (snap.height > this.latest) this.latest = snap.height;
      metrics.reconciles.inc();
      metrics.chainHeight.set(this.latest);
      this.save();
      const toConsider: OrderView[] = [];
      for (const a of actions) {
        if (a.type !== 'consider-order') await this.apply(a, 'reconcile');
        else {
          metrics.ordersSeen.inc();
          toConsider.push(a.order);
        }
      }
      await this.consider(toConsider);
      log.info('reconciled', {
        why,
        height: snap.height,
        leases: Object.keys(this.state.leases).length,
        bids: Object.keys(this.state.bids).length,
        changes: actions.filter((a) => a.type !== 'consider-order').length,
      });
      return true;
    } catch (e) {
      this.fail('reconcile', e, { why });
      this.needsReconcile = true;
      return false;
    }
  }

  private async apply(a: ReconcileAction, source: 'reconcile' | 'event'): Promise<void> {
    const { log, metrics } = this.deps;
    switch (a.type) {
      case 'register':
        await this.register(a.reason);
        return;
      case 'adopt-lease':
        metrics.leasesAdopted.inc();
        log.info('lease-adopted', { lease: a.lease.id, order: a.lease.order, device: a.lease.device, price: a.lease.price, denom: a.lease.denom, source });
        return;
      case 'release-lease':
        metrics.leasesClosed.inc({ reason: a.reason });
        log.info('lease-closed', { lease: a.lease.id, order: a.lease.order, reason: a.reason, closedHeight: a.closedHeight, source });
        return;
      case 'adopt-bid':
        log.info('bid-adopted', { order: a.bid.order, price: a.bid.price, device: a.bid.device, source });
        return;
      case 'forget-bid':
        log.info('bid-forgotten', { order: a.bid.order, reason: a.reason, source });
        return;
      case 'consider-order':
        metrics.ordersSeen.inc();
        await this.consider([a.order]);
        return;
    }
  }

  private async register(reason: string): Promise<void> {
    const { hostUri, attributes } = this.opts.desired;
    try {
      const t = await this.deps.chain.send([registerProviderMsg(hostUri, attributes)]);
      this.deps.log.info('provider-registered', { reason, hostUri, attributes: attributes.map((x) => `${x.key}=${x.value}`).join(','), height: t.height });
    } catch (e) {
      this.fail('register', e, { reason });
    }
  }

  // -------------------------------------------------------------------------------------------
  // Blocks and events

  /** Applies a block's events in order, then decides on the orders it created, together. */
  private async processBlock(h: bigint): Promise<void> {
    const events = await this.deps.chain.blockEvents(h);
    const created: string[] = [];
    for (const e of events) {
      if (e.type !== 'market.order.created') await this.onEvent(e, h);
      else if (e.attributes.order) created.push(e.attributes.order);
    }
    const s = this.state;
    const fresh = created.filter((id) => s && !s.bids[id] && !s.skipped[id]);
    if (fresh.length === 0) return;
    this.deps.metrics.ordersSeen.inc({}, BigInt(fresh.length));
    const orders = await Promise.all(fresh.map((id) => this.deps.chain.order(id)));
    await this.consider(orders.filter((o): o is NonNullable<typeof o> => o !== null), h);
  }

  private async onEvent(e: ChainEvent, h: bigint): Promise<void> {
    const s = this.state;
    if (!s) return;
    const a = e.attributes;
    const me = this.address;
    switch (e.type) {
      case 'market.bid': {
        if (a.provider !== me || !a.order || s.bids[a.order]) return;
        s.bids[a.order] = { order: a.order, device: a.device ?? '', price: a.price ?? '0', height: h.toString() };
        this.save();
        return;
      }
      case 'market.order.matched': {
        // Its leases are made (ours, if we won, came first in this block): a bid still here lost.
        if (!a.order || !s.bids[a.order]) return;
        delete s.bids[a.order];
        this.save();
        this.deps.log.info('bid-forgotten', { order: a.order, reason: 'lost', source: 'event' });
        return;
      }
      case 'market.bid.removed': {
        if (a.provider !== me || !a.order) return;
        const bid = s.bids[a.order];
        if (!bid) return;
        delete s.bids[a.order];
        this.save();
        this.deps.log.info('bid-forgotten', { order: a.order, reason: a.reason ?? 'unknown', source: 'event' });
        return;
      }
      case 'market.lease.created': {
        if (a.provider !== me || !a.lease || s.leases[a.lease]) return;
        const l = await this.deps.chain.lease(a.lease);
        if (!l || l.status !== 'active') return; // closed in the same block: its close event follows
        s.leases[l.id] = leaseFromView(l);
        if (s.bids[l.order]) delete s.bids[l.order];
        this.save();
        await this.apply({ type: 'adopt-lease', lease: leaseFromView(l) }, 'event');
        return;
      }
      case 'market.lease.closed': {
        if (a.provider !== me || !a.lease) return;
        const lease = s.leases[a.lease];
        if (!lease) return;
        delete s.leases[a.lease];
        this.save();
        await this.apply({ type: 'release-lease', lease, reason: (a.reason as never) ?? 'unknown', closedHeight: h.toString() }, 'event');
        return;
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // Bidding

  private skip(order: string, reason: SkipReason, detail: string): void {
    this.deps.metrics.skipped.inc({ reason });
    this.deps.log.info('skip', { order, reason, detail });
    const s = this.state;
    // ALREADY_BID is not a pass: reconciliation adopts the standing bid.
    if (s && reason !== 'ALREADY_BID') {
      s.skipped[order] = reason;
      this.save();
    }
  }

  /**
   * Decides on orders (the chain's verdicts and the prices asked together) and sends the bids
   * BID_BATCH to a tx: a burst of orders costs the agent a block, not a block per order, so it
   * bids within short windows however many orders open at once. A batch the chain refuses is
   * retried bid by bid, so each order still gets its own verdict (a skip reason or a bid).
   * At most one bid per order: an order already bid on, passed on or being decided is left.
   */
  private async consider(orders: readonly OrderView[], height?: bigint): Promise<void> {
    const s = this.state;
    if (!s) return;
    const todo = orders.filter((o) => !s.bids[o.id] && !s.skipped[o.id] && !this.considering.has(o.id));
    for (const o of todo) this.considering.add(o.id);
    try {
      const h = height ?? BigInt(s.height);
      const bids: Array<{ order: OrderView; device: string; price: bigint }> = [];
      await mapLimit(todo, DECIDE_CONCURRENCY, async (order) => {
        try {
          const d = await decideBid(order, { address: this.address, height: h }, this.opts, this.deps.chain, this.deps.pricing);
          if (d.bid) bids.push({ order, device: d.device, price: d.price });
          else this.skip(order.id, d.reason, d.detail);
        } catch (e) {
          this.fail('bid', e, { order: order.id });
        }
      });
      for (let i = 0; i < bids.length; i += BID_BATCH) await this.sendBids(bids.slice(i, i + BID_BATCH));
    } finally {
      for (const o of todo) this.considering.delete(o.id);
    }
  }

  /** Sends bids in one tx; if the chain refuses it, each bid alone (one refusal fails a whole tx). */
  private async sendBids(bids: ReadonlyArray<{ order: OrderView; device: string; price: bigint }>): Promise<void> {
    const s = this.state;
    if (!s || bids.length === 0) return;
    let t;
    try {
      t = await this.deps.chain.send(bids.map((b) => bidMsg(b.order.id, b.device, b.price)));
    } catch (e) {
      const f = bidFailureReason(e);
      if (f && bids.length > 1) {
        for (const b of bids) await this.sendBids([b]);
        return;
      }
      for (const b of bids) {
        if (!f) this.fail('bid', e, { order: b.order.id });
        else {
          if (f.reason === 'ALREADY_BID') this.needsReconcile = true;
          this.skip(b.order.id, f.reason, f.detail);
        }
      }
      return;
    }
    for (const b of bids) {
      s.bids[b.order.id] = { order: b.order.id, device: b.device, price: b.price.toString(), height: t.height.toString() };
      this.deps.metrics.bids.inc();
      this.deps.log.info('bid', { order: b.order.id, price: b.price, denom: b.order.denom, strategy: this.deps.pricing.name, device: b.device, height: t.height });
    }
    this.save();
  }

  // -------------------------------------------------------------------------------------------
  // Withdrawals

  private async maybeWithdraw(h: bigint): Promise<void> {
    const s = this.state;
    const every = BigInt(this.opts.withdrawEveryBlocks);
    if (!s || every === 0n || h - BigInt(s.lastWithdrawHeight) < every) return;
    s.lastWithdrawHeight = h.toString();
    this.save();
    await this.withdraw();
  }

  /** Withdraws now (serialized with the rest); resolves with the amount taken. */
  withdrawNow(): Promise<bigint> {
    let out = 0n;
    return this.enqueue(async () => {
      out = await this.withdraw();
    }).then(() => out);
  }

  /**
   * Withdraws when there is something to take: earnings recorded, active leases whose pay is
   * settled on withdrawal, or lost bids whose standby time is over, so that their deposits come
   * back with it (a withdraw takes back at most MAX_RECLAIM of them; while the chain says there
   * are more, it withdraws again). A lost bid still in its standby time is left alone.
   */
  private async withdraw(): Promise<bigint> {
    const { chain, log, metrics } = this.deps;
    try {
      const p = await chain.provider(this.address);
      // The withdraw lands in the next block at the earliest.
      const next = (await chain.height()) + 1n;
      const lost = p ? (await chain.providerBids(this.address)).some((b) => b.status === 'lost' && b.reclaimableFrom !== null && BigInt(b.reclaimableFrom) <= next) : false;
      if (!p || (BigInt(p.earnings) === 0n && p.activeLeases === 0 && !lost)) {
        log.debug('withdraw-skipped', { reason: p ? 'NOTHING_EARNED' : 'NOT_REGISTERED' });
        return 0n;
      }
      let amount = 0n;
      for (let round = 0; round < 16; round++) {
        const t = await chain.send([withdrawMsg]);
        const ev = t.events.find((e) => e.type === 'market.withdraw')?.attributes ?? {};
        const got = BigInt(ev.amount ?? '0');
        amount += got;
        metrics.earningsWithdrawn.inc({}, got);
        log.info('withdraw', { amount: got, deposits: ev.deposits ?? '0', lostBids: ev.lostBids ?? '0', height: t.height });
        if (ev.more !== '1') break;
      }
      return amount;
    } catch (e) {
      if (e instanceof TxFailedError && e.code.endsWith('NOTHING_TO_WITHDRAW')) {
        log.debug('withdraw-skipped', { reason: 'NOTHING_TO_WITHDRAW' });
        return 0n;
      }
      this.fail('withdraw', e);
      return 0n;
    }
  }
}
