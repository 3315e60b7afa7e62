/**
 * Reconciliation: (chain snapshot, local state) → actions + the new local state. A pure
 * function: no I/O, no clock; the agent builds the snapshot (chain.ts) and carries the actions
 * out (agent.ts). The chain is the source of truth and the local state only a cache, so:
 *
 * - a lease active on chain but unknown locally is adopted (the agent crashed after the lease
 *   was made, or its state file was lost); a local lease no longer active on chain is released
 *   with the chain's close reason (it closed while the agent was down);
 * - a bid standing on chain but unknown locally is adopted (the agent crashed between sending
 *   it and saving), so it is never sent twice; a local bid gone from the chain is forgotten
 *   with why (won, lost, order closed);
 * - the provider record is (re-)registered when missing or when hostUri/attributes differ;
 * - open orders the agent neither bid on nor passed on are handed to the bidder.
 *
 * Idempotent: reconciling the same snapshot against the state it produced yields the same state
 * and no lease or bid actions (only the register/consider-order work the agent has still to do).
 */
import type { CloseReason } from '../chain/modules/market/types.js';
import type { LocalBid, LocalLease, LocalState } from './state.js';
import type { BidView, LeaseView, OrderView, ProviderView } from './views.js';

export interface ChainSnapshot {
  height: bigint;
  /** The operator's provider record; null when it is not registered. */
  provider: ProviderView | null;
  /** Every active lease of the provider. */
  activeLeases: LeaseView[];
  /** The chain's view of each local lease that is not in activeLeases (null: the chain does not know it). */
  otherLeases: Record<string, LeaseView | null>;
  /** The order of each local bid: its status, standing bids and leases (null: not found). */
  bidOrders: Record<string, { status: OrderView['status']; bids: BidView[]; leases: LeaseView[] } | null>;
  /** Orders taking bids now, each with the provider's own standing bid if it has one. */
  openOrders: Array<{ order: OrderView; myBid: BidView | null }>;
}

export interface DesiredProvider {
  hostUri: string;
  /** Sorted by key. */
  attributes: Array<{ key: string; value: string }>;
}

export type BidEnd = 'won' | 'lost' | 'order-closed' | 'gone';

export type ReconcileAction =
  | { type: 'register'; reason: 'missing' | 'host-uri-changed' | 'attributes-changed' }
  | { type: 'adopt-lease'; lease: LocalLease }
  | { type: 'release-lease'; lease: LocalLease; reason: CloseReason | 'unknown'; closedHeight: string }
  | { type: 'adopt-bid'; bid: LocalBid }
  | { type: 'forget-bid'; bid: LocalBid; reason: BidEnd }
  | { type: 'consider-order'; order: OrderView };

export interface ReconcileResult {
  actions: ReconcileAction[];
  state: LocalState;
}

export function leaseFromView(l: LeaseView): LocalLease {
  return { id: l.id, order: l.order, device: l.device, customer: l.customer, price: l.price, denom: l.denom, startHeight: l.startHeight, endHeight: l.endHeight };
}

export function bidFromView(b: BidView): LocalBid {
  return { order: b.order, device: b.device, price: b.price, height: b.height };
}

const byNumericId = (a: string, b: string) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0);

function sortedAttrs(a: ReadonlyArray<{ key: string; value: string }>): string {
  return [...a]
    .map((x) => `${x.key}=${x.value}`)
    .sort()
    .join('\n');
}

export function reconcile(snap: ChainSnapshot, local: LocalState, desired: DesiredProvider): ReconcileResult {
  const actions: ReconcileAction[] = [];
  const me = local.provider;

  // The provider record.
  if (!snap.provider) actions.push({ type: 'register', reason: 'missing' });
  else if (snap.provider.hostUri !== desired.hostUri) actions.push({ type: 'register', reason: 'host-uri-changed' });
  else if (sortedAttrs(snap.provider.attributes) !== sortedAttrs(desired.attributes)) actions.push({ type: 'register', reason: 'attributes-changed' });

  // Leases: exactly the chain's active ones.
  const leases: Record<string, LocalLease> = {};
  for (const l of [...snap.activeLeases].sort((a, b) => byNumericId(a.id, b.id))) {
    if (l.provider !== me || l.status !== 'active') continue;
    leases[l.id] = leaseFromView(l);
    if (!local.leases[l.id]) actions.push({ type: 'adopt-lease', lease: leases[l.id] as LocalLease });
  }
  for (const id of Object.keys(local.leases).sort(byNumericId)) {
    if (leases[id]) continue;
    const lease = local.leases[id] as LocalLease;
    const v = snap.otherLeases[id];
    // Not active on chain: closed (with its reason), or unknown to the chain (a reset devnet).
    actions.push({ type: 'release-lease', lease, reason: v?.closeReason ?? 'unknown', closedHeight: v?.closedHeight ?? '0' });
  }

  // Bids: the local ones still standing, plus the chain's that the cache missed.
  const bids: Record<string, LocalBid> = {};
  for (const order of Object.keys(local.bids).sort(byNumericId)) {
    const bid = local.bids[order] as LocalBid;
    if (!(order in snap.bidOrders)) {
      bids[order] = bid; // not looked at this time: keep
      continue;
    }
    const o = snap.bidOrders[order];
    let end: BidEnd | undefined;
    if (!o) end = 'gone';
    else if (o.leases.some((l) => l.provider === me)) end = 'won';
    // A bid stays stored after its order stops taking bids (lost, until withdraw takes back its deposit).
    else if (o.status === 'open' && o.bids.some((b) => b.provider === me)) end = undefined;
    else if (o.status === 'closed') end = 'order-closed';
    else end = 'lost';
    if (end) actions.push({ type: 'forget-bid', bid, reason: end });
    else bids[order] = bid;
  }
  for (const { order, myBid } of [...snap.openOrders].sort((a, b) => byNumericId(a.order.id, b.order.id))) {
    if (myBid) {
      if (!bids[order.id]) {
        bids[order.id] = bidFromView(myBid);
        if (!local.bids[order.id]) actions.push({ type: 'adopt-bid', bid: bids[order.id] as LocalBid });
      }
      continue;
    }
    if (bids[order.id] || local.skipped[order.id]) continue;
    if (BigInt(order.bidWindowEnd) < snap.height) continue;
    actions.push({ type: 'consider-order', order });
  }

  // Passed-on orders are remembered while they still take bids (so they are not re-decided).
  const open = new Set(snap.openOrders.map((o) => o.order.id));
  const skipped: LocalState['skipped'] = {};
  for (const [order, reason] of Object.entries(local.skipped)) if (open.has(order)) skipped[order] = reason;

  const height = snap.height > BigInt(local.height) ? snap.height.toString() : local.height;
  return { actions, state: { ...local, height, leases, bids, skipped } };
}
