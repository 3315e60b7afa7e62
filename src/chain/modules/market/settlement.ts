/**
 * Lease settlement: the pure arithmetic of streaming an order's escrow to its leases.
 *
 * An order's active leases are always settled to the same height `from` (a lease that joins an
 * order is settled from its start, after the order was settled to that height). Settling to
 * `to` pays every active lease its price for each block in (from, to], in order:
 *
 *   - a lease stops being paid after its last block, `end` (its duration ran out: `expired`, or
 *     its device was jailed or retired at that height: `device-gone`), and closes there;
 *   - blocks are paid only from the escrow, never on credit: the first block the escrow cannot
 *     pay for every active lease is not paid, and every active lease closes at the last paid
 *     block with `insufficient-funds` (what is left of the escrow is not paid to anyone: the
 *     caller refunds it). The same rule applies at `to` itself: leases whose next block the
 *     escrow cannot pay close now rather than run a block unpaid.
 *
 * Everything is integer arithmetic; nothing rounds (prices are per whole block). The result is
 * the same however the interval is split into settlements (a property test checks it): settling
 * (a, b] then (b, c] pays and closes exactly what settling (a, c] does.
 */

export interface SettleLease {
  readonly id: bigint;
  /** Per block. */
  readonly price: bigint;
  /** Last block paid for; reason it stops there. */
  readonly end: bigint;
  readonly endReason: 'expired' | 'device-gone';
}

export interface SettleClose {
  readonly id: bigint;
  readonly height: bigint;
  readonly reason: 'expired' | 'device-gone' | 'insufficient-funds';
}

export interface SettleResult {
  /** Paid per lease (same order as the input). */
  readonly paid: bigint[];
  readonly closes: SettleClose[];
  readonly escrowLeft: bigint;
  /** Height the still-active leases are settled to (= `to` when any remain). */
  readonly settledTo: bigint;
  /** Leases still active after settling. */
  readonly active: SettleLease[];
}

export function settle(leases: readonly SettleLease[], escrow: bigint, from: bigint, to: bigint): SettleResult {
  const paid = leases.map(() => 0n);
  const index = new Map(leases.map((l, i) => [l.id, i]));
  const closes: SettleClose[] = [];
  let active = [...leases];
  let cur = from;
  let left = escrow;
  const close = (ls: readonly SettleLease[], height: bigint, reason: SettleClose['reason']): void => {
    for (const l of ls) closes.push({ id: l.id, height, reason });
  };
  // Leases already settled to (or past) their end close now, paid nothing more.
  for (const l of active) if (l.end <= cur) closes.push({ id: l.id, height: cur, reason: l.endReason });
  active = active.filter((l) => l.end > cur);
  while (active.length > 0 && cur < to) {
    let segEnd = to;
    for (const l of active) if (l.end < segEnd) segEnd = l.end;
    const rate = active.reduce((a, l) => a + l.price, 0n);
    const blocks = segEnd - cur;
    const affordable = rate === 0n ? blocks : left / rate;
    const n = affordable < blocks ? affordable : blocks;
    for (const l of active) paid[index.get(l.id) as number] = (paid[index.get(l.id) as number] as bigint) + l.price * n;
    left -= rate * n;
    cur += n;
    if (n < blocks) {
      close(active, cur, 'insufficient-funds');
      active = [];
      break;
    }
    const ending = active.filter((l) => l.end === cur);
    for (const l of ending) closes.push({ id: l.id, height: cur, reason: l.endReason });
    active = active.filter((l) => l.end !== cur);
  }
  // The overdraft rule at `to`: a lease whose next block cannot be paid closes now.
  if (active.length > 0) {
    const rate = active.reduce((a, l) => a + l.price, 0n);
    if (left < rate) {
      close(active, cur, 'insufficient-funds');
      active = [];
    }
  }
  return { paid, closes, escrowLeft: left, settledTo: active.length > 0 ? to : cur, active };
}

/**
 * The next height at which settling changes anything without an action: a lease's end, or the
 * last block the escrow pays for (after which the leases close). undefined when nothing is active.
 */
export function nextWake(active: readonly SettleLease[], escrow: bigint, settledTo: bigint): bigint | undefined {
  if (active.length === 0) return undefined;
  const rate = active.reduce((a, l) => a + l.price, 0n);
  let wake = rate === 0n ? undefined : settledTo + escrow / rate;
  for (const l of active) if (wake === undefined || l.end < wake) wake = l.end;
  return wake;
}
