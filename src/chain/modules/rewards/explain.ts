/**
 * `rewards explain`: recomputes a reward manifest line from on-chain data and checks it against
 * the committed epoch root. Pure (no I/O): the caller supplies the verified epoch record, the
 * line as served by a node, and a lookup of state at the epoch's close height (the SDK fills it
 * with Merkle-proven reads; tests read an App's state directly).
 *
 * What is checked, and how:
 *   details  SHA-256 of the line's items equals the detailsHash the node sent;
 *   work     every work item's {units, weighted} equals the contribution entry in state at the
 *            close height (rewards/c/<epoch><recipient><pool><device><reason>);
 *   stake    every stake item's tokens equal what the delegation was worth at the close,
 *            floor(shares × pool tokens / pool shares), and the operator was not jailed;
 *   amount   lineAmount(epoch totals, items) equals the line's amount;
 *   root     the leaf rebuilt from (epoch, index, recipient, amount, detailsHash(items)) proves
 *            into the committed root at its index.
 * A line that passes all five is exactly what the chain committed, computed from what the
 * chain recorded. (The items' completeness — that no contribution of the recipient was left out
 * — follows from the root: the chain itself built the line from every entry under its prefix.)
 */
import { equals, toHex, type Bytes } from '../../../core/bytes.js';
import { decode } from '../../../core/codec.js';
import { encodeAddress } from '../../../core/keys.js';
import { delegationCodec, operatorCodec, tokensOfShares } from '../staking/keeper.js';
import { delegationKey, operatorKey } from '../staking/keys.js';
import { contributionCodec, type EpochRecord } from './keeper.js';
import { contribKey } from './keys.js';
import { detailsHash, leafHash, lineAmount, verifyManifestProof, type EpochTotals } from './manifest.js';
import { BPS, POOLS, POOL_STAKERS, WORK_POOLS, type PoolName } from './params.js';
import type { ParsedRewardLine } from './view.js';

/**
 * State at the close height: the value of a key, null when proven absent, undefined when it
 * cannot be read any more (the node no longer retains that height).
 */
export type StateAt = (key: Bytes) => Bytes | null | undefined;

export interface ExplainCheck {
  readonly id: 'details' | 'work' | 'stake' | 'amount' | 'root';
  /** true: passed; false: failed; null: could not be checked (data no longer retained). */
  readonly ok: boolean | null;
  readonly detail: string;
}

export interface ItemExplanation {
  readonly type: 'work' | 'stake';
  readonly pool: PoolName;
  /** Work: the device (32 zero bytes: none), the reason code, units and weighted units. */
  readonly device?: Bytes;
  readonly reason?: string;
  readonly units?: bigint;
  readonly weighted?: bigint;
  /** Work: weighted ÷ units in bps, rounded down (10,000 = the full rate; warned devices earn less). */
  readonly multiplierBps?: bigint;
  /** Stake: the operator and what the delegation was worth at the close. */
  readonly operator?: Bytes;
  readonly tokens?: bigint;
  /** The pool's allocation this epoch and what it was shared over (weighted units or eligible stake). */
  readonly poolAlloc: bigint;
  readonly poolUnits: bigint;
  /** This item's part of the pool, parts per million, rounded down. */
  readonly sharePpm: bigint;
  /** floor(poolAlloc × (weighted or tokens) ÷ poolUnits): what this item alone is worth. */
  readonly ugw: bigint;
  /** The device asked about (explain by device). */
  readonly highlighted: boolean;
  /** This item against state at the close height. */
  readonly check: { readonly ok: boolean | null; readonly detail: string };
}

export interface PoolExplanation {
  readonly pool: PoolName;
  readonly alloc: bigint;
  readonly poolUnits: bigint;
  /** The line's weighted units (work) or tokens (stake) in this pool. */
  readonly lineUnits: bigint;
  /** floor(alloc × lineUnits ÷ poolUnits): the line's term for this pool. */
  readonly ugw: bigint;
  /** ugw − the sum of the items' own floors (each item rounds separately): 0 ≤ it < items. */
  readonly roundingGain: bigint;
}

export interface Explanation {
  readonly epoch: bigint;
  readonly closedHeight: bigint;
  readonly index: number;
  readonly recipient: Bytes;
  readonly amount: bigint;
  /** lineAmount(totals, items). */
  readonly recomputed: bigint;
  readonly items: ItemExplanation[];
  readonly pools: PoolExplanation[];
  readonly checks: ExplainCheck[];
  /** No check failed (a check that could not run does not fail the line). */
  readonly ok: boolean;
  readonly claimed: boolean | undefined;
  readonly rounding: string;
  readonly root: Bytes;
  readonly count: number;
}

export function epochTotals(r: EpochRecord): EpochTotals {
  return {
    alloc: r.pools.map((p) => p.alloc),
    workUnits: r.pools.slice(0, WORK_POOLS).map((p) => p.units),
    stake: r.stake,
  };
}

/** The state keys explainLine reads (at the close height), without duplicates. */
export function explainKeys(line: Pick<ParsedRewardLine, 'epoch' | 'recipient' | 'items'>): Bytes[] {
  const out = new Map<string, Bytes>();
  const add = (k: Bytes): void => {
    out.set(toHex(k), k);
  };
  for (const it of line.items) {
    if (it.type === 'work') add(contribKey(line.epoch, line.recipient, it.value.pool, it.value.device, it.value.reason));
    else {
      add(delegationKey(line.recipient, it.value.operator));
      add(operatorKey(it.value.operator));
    }
  }
  return [...out.values()];
}

/** `num ÷ den` as a percentage with `decimals` digits, rounded down, with bigint arithmetic only. */
export function percent(num: bigint, den: bigint, decimals = 2): string {
  if (den === 0n) return '0%';
  const scale = 10n ** BigInt(decimals);
  const v = (num * 100n * scale) / den; // rounds toward zero
  const whole = v / scale;
  const frac = v % scale;
  return decimals === 0 ? `${whole}%` : `${whole}.${frac.toString().padStart(decimals, '0')}%`;
}

function checkWork(state: StateAt, key: Bytes, units: bigint, weighted: bigint, height: bigint): { ok: boolean | null; detail: string } {
  const v = state(key);
  if (v === undefined) return { ok: null, detail: `state at height ${height} is no longer retained; cannot check` };
  if (v === null) return { ok: false, detail: `no such contribution in state at height ${height}` };
  let c;
  try {
    c = decode(contributionCodec, v);
  } catch {
    return { ok: false, detail: 'the contribution entry does not decode' };
  }
  if (c.units !== units || c.weighted !== weighted) {
    return { ok: false, detail: `state at height ${height} has ${c.units} units (${c.weighted} weighted), the line says ${units} (${weighted})` };
  }
  return { ok: true, detail: `matches the contribution recorded on chain (height ${height})` };
}

function checkStake(state: StateAt, delegator: Bytes, operator: Bytes, tokens: bigint, height: bigint): { ok: boolean | null; detail: string } {
  const dv = state(delegationKey(delegator, operator));
  const ov = state(operatorKey(operator));
  if (dv === undefined || ov === undefined) return { ok: null, detail: `state at height ${height} is no longer retained; cannot check` };
  if (dv === null) return { ok: false, detail: `no delegation to ${encodeAddress(operator)} in state at height ${height}` };
  if (ov === null) return { ok: false, detail: `operator ${encodeAddress(operator)} does not exist at height ${height}` };
  let worth: bigint;
  let jailed: boolean;
  try {
    const op = decode(operatorCodec, ov);
    jailed = op.jailed;
    worth = tokensOfShares(op, decode(delegationCodec, dv).shares);
  } catch {
    return { ok: false, detail: 'the delegation or operator entry does not decode' };
  }
  if (jailed) return { ok: false, detail: `operator ${encodeAddress(operator)} was jailed at height ${height}: its delegations earn nothing` };
  if (worth !== tokens) return { ok: false, detail: `the delegation was worth ${worth} ugw at height ${height}, the line says ${tokens}` };
  return { ok: true, detail: `the delegation was worth ${tokens} ugw at the close (height ${height}): shares × pool tokens ÷ pool shares` };
}

function summarize(id: 'work' | 'stake', results: readonly { ok: boolean | null }[], what: string): ExplainCheck {
  const failed = results.filter((r) => r.ok === false).length;
  const unknown = results.filter((r) => r.ok === null).length;
  if (results.length === 0) return { id, ok: true, detail: `no ${what}` };
  if (failed > 0) return { id, ok: false, detail: `${failed} of ${results.length} ${what} do not match state at the close` };
  if (unknown > 0) return { id, ok: null, detail: `${unknown} of ${results.length} ${what} could not be checked (state no longer retained)` };
  return { id, ok: true, detail: `all ${results.length} ${what} match state at the close` };
}

export interface ExplainOptions {
  /** Whether the line was claimed (a verified read), if known. */
  readonly claimed?: boolean | undefined;
  /** Highlight this device's items (explain by device). */
  readonly device?: Bytes | undefined;
}

/** Recomputes `line` from the epoch record and state at the close height, and checks it. */
export function explainLine(record: EpochRecord, line: ParsedRewardLine, state: StateAt, opts: ExplainOptions = {}): Explanation {
  const height = record.closedHeight;
  const totals = epochTotals(record);
  const items: ItemExplanation[] = [];
  const lineUnits = [0n, 0n, 0n, 0n, 0n];
  const itemSums = [0n, 0n, 0n, 0n, 0n];
  const workResults: { ok: boolean | null }[] = [];
  const stakeResults: { ok: boolean | null }[] = [];
  for (const it of line.items) {
    if (it.type === 'work') {
      const w = it.value;
      const pool = record.pools[w.pool];
      const poolAlloc = pool?.alloc ?? 0n;
      const poolUnits = pool?.units ?? 0n;
      // Each of these rounds toward zero (display figures; the line's amount is computed per pool).
      const ugw = poolUnits > 0n ? (poolAlloc * w.weighted) / poolUnits : 0n;
      const check = checkWork(state, contribKey(line.epoch, line.recipient, w.pool, w.device, w.reason), w.units, w.weighted, height);
      workResults.push(check);
      lineUnits[w.pool] = (lineUnits[w.pool] as bigint) + w.weighted;
      itemSums[w.pool] = (itemSums[w.pool] as bigint) + ugw;
      items.push({
        type: 'work',
        pool: (POOLS[w.pool] ?? 'storage') as PoolName,
        device: w.device,
        reason: w.reason,
        units: w.units,
        weighted: w.weighted,
        multiplierBps: w.units > 0n ? (w.weighted * BPS) / w.units : 0n,
        poolAlloc,
        poolUnits,
        sharePpm: poolUnits > 0n ? (w.weighted * 1_000_000n) / poolUnits : 0n,
        ugw,
        highlighted: opts.device !== undefined && equals(opts.device, w.device),
        check,
      });
    } else {
      const s = it.value;
      const poolAlloc = (record.pools[POOL_STAKERS] as { alloc: bigint }).alloc;
      const ugw = record.stake > 0n ? (poolAlloc * s.tokens) / record.stake : 0n; // rounds toward zero
      const check = checkStake(state, line.recipient, s.operator, s.tokens, height);
      stakeResults.push(check);
      lineUnits[POOL_STAKERS] = (lineUnits[POOL_STAKERS] as bigint) + s.tokens;
      itemSums[POOL_STAKERS] = (itemSums[POOL_STAKERS] as bigint) + ugw;
      items.push({
        type: 'stake',
        pool: 'stakers',
        operator: s.operator,
        tokens: s.tokens,
        poolAlloc,
        poolUnits: record.stake,
        sharePpm: record.stake > 0n ? (s.tokens * 1_000_000n) / record.stake : 0n,
        ugw,
        highlighted: false,
        check,
      });
    }
  }
  const { amount: recomputed, byPool } = lineAmount(totals, line.items);
  const pools: PoolExplanation[] = [];
  for (let p = 0; p < POOLS.length; p++) {
    const has = line.items.some((it) => (it.type === 'work' ? it.value.pool === p : p === POOL_STAKERS));
    if (!has) continue;
    const rec = record.pools[p] as { alloc: bigint; units: bigint };
    pools.push({
      pool: POOLS[p] as PoolName,
      alloc: rec.alloc,
      poolUnits: p === POOL_STAKERS ? record.stake : rec.units,
      lineUnits: lineUnits[p] as bigint,
      ugw: byPool[p] as bigint,
      roundingGain: (byPool[p] as bigint) - (itemSums[p] as bigint),
    });
  }

  const dh = detailsHash(line.items);
  const checks: ExplainCheck[] = [];
  checks.push(
    equals(dh, line.detailsHash)
      ? { id: 'details', ok: true, detail: `the items hash to the line's detailsHash ${toHex(dh).slice(0, 16)}…` }
      : { id: 'details', ok: false, detail: `the items hash to ${toHex(dh)}, the line claims ${toHex(line.detailsHash)}` },
  );
  checks.push(summarize('work', workResults, 'work items'));
  checks.push(summarize('stake', stakeResults, 'stake items'));
  checks.push(
    recomputed === line.amount
      ? { id: 'amount', ok: true, detail: `recomputed ${recomputed} ugw from the items and the epoch totals = the line's amount` }
      : { id: 'amount', ok: false, detail: `recomputed ${recomputed} ugw from the items and the epoch totals, the line says ${line.amount}` },
  );
  let rootOk = false;
  let rootDetail: string;
  if (line.epoch !== record.epoch) rootDetail = `the line is for epoch ${line.epoch}, the record for epoch ${record.epoch}`;
  else if (line.index >= record.count) rootDetail = `index ${line.index} is out of range: the epoch has ${record.count} lines`;
  else {
    const leaf = leafHash({ epoch: line.epoch, index: line.index, recipient: line.recipient, amount: line.amount, detailsHash: dh });
    rootOk = verifyManifestProof(leaf, line.index, record.count, line.proof, record.root);
    rootDetail = rootOk
      ? `line ${line.index} of ${record.count} proves into the committed root ${toHex(record.root).slice(0, 16)}…`
      : `line ${line.index} does not prove into the committed root ${toHex(record.root)}`;
  }
  checks.push({ id: 'root', ok: rootOk, detail: rootDetail });

  return {
    epoch: line.epoch,
    closedHeight: height,
    index: line.index,
    recipient: line.recipient,
    amount: line.amount,
    recomputed,
    items,
    pools,
    checks,
    ok: checks.every((c) => c.ok !== false),
    claimed: opts.claimed,
    rounding:
      'each pool pays floor(alloc × the line’s units ÷ the pool’s units); per-item figures are rounded down on their own, so they may add up to ' +
      'a few ugw less than the pool’s term; what every line’s rounding leaves over goes to the treasury',
    root: record.root,
    count: record.count,
  };
}
