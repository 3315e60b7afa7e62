/**
 * penalties keeper: fault windows for honest operational faults, slashes for fraud, the slash
 * escrow and its dispute window.
 *
 * Operational faults (a missed challenge...) are reported by the verticals with reportFault.
 * Each device has a fault window of penalties.faultWindowBlocks blocks that opens at its first
 * fault; faults 1..freeFaults in a window only warn (device → warned), each later one takes
 * penalties.faultSlash from the owner's operator pool, and the jailFaults-th jails the device.
 * Windows roll lazily: nothing scans devices; the window is checked when the device is next
 * seen (a fault, or refreshDevice, which verticals call with every report). A warned device
 * whose window ended without new faults goes back to active then.
 *
 * Fraud (a forged or replayed proof, a double-signed report) is proven with evidence that a
 * vertical's verifier checks (submitEvidence); it takes penalties.fraudSlashBps of the owner's
 * operator pool and jails the device. Every slash, fault penalties included, moves the tokens
 * into the slash escrow (moduleAddress('slash_escrow')) with a record: reason code, evidence,
 * height and release height. Until the end of block releaseHeight the slashed operator may
 * dispute it (once, with counter-evidence; this extends the release height by
 * penalties.disputeExtensionBlocks so a governance vote fits) and governance may reverse it
 * (the tokens go back to the operator's pool). At the end of block releaseHeight the tokens are
 * burned (supply drops by exactly the slashed amount).
 */
import { equals, toHex, utf8, type Bytes } from '../../../core/bytes.js';
import { decode, encode, u64 } from '../../../core/codec.js';
import { InvariantError } from '../../../core/errors.js';
import { sha256, sha256Parts } from '../../../core/hash.js';
import { encodeAddress, moduleAddress } from '../../../core/keys.js';
import type { KVReader, KVStore } from '../../../state/overlay.js';
import type { Context } from '../../context.js';
import { prefixEnd } from '../../keys.js';
import { getParams } from '../../module.js';
import { burn, transfer } from '../bank/keeper.js';
import { getDevice, setDeviceStatus } from '../devices/keeper.js';
import { bondedTokensOf, getOperator, restore, slash } from '../staking/keeper.js';
import { PenaltiesErrors } from './errors.js';
import type { EvidenceVerdict, EvidenceVerifiers, PenaltiesBank, PenaltiesDevices, PenaltiesStaking } from './expected.js';
import {
  BY_OPERATOR_PREFIX,
  NEXT_ID_KEY,
  QUEUE_PREFIX,
  SLASH_PREFIX,
  byOperatorKey,
  byOperatorPrefix,
  evidenceKey,
  faultKey,
  offenceKey,
  queueEndAt,
  queueKey,
  slashKey,
} from './keys.js';
import {
  BPS,
  FAULT_KIND,
  KIND_RE,
  MAX_EVIDENCE_BYTES,
  REASON_RE,
  faultRecordCodec,
  penaltiesParams,
  slashRecordCodec,
  type FaultRecord,
  type PenaltiesParams,
  type Slash,
  type SlashRecord,
  type SlashStatus,
} from './types.js';

/** Where slashed tokens wait out the dispute window. */
export const SLASH_ESCROW = moduleAddress('slash_escrow');

// The real keepers behind the narrow interfaces of expected.ts.
const staking: PenaltiesStaking = {
  bondedTokensOf,
  hasDelegators: (store, operator) => (getOperator(store, operator)?.shares ?? 0n) > 0n,
  slash,
  restore,
};
const devices: PenaltiesDevices = { getDevice, setDeviceStatus };
const bank: PenaltiesBank = { burn, transfer };

export function penaltiesParamsOf(store: KVReader): PenaltiesParams {
  return getParams(store, 'penalties', penaltiesParams);
}

function showReason(s: string): string {
  return s.length > 40 ? `"${s.slice(0, 40)}…"` : `"${s}"`;
}

function checkReason(reason: string): void {
  if (!REASON_RE.test(reason)) throw PenaltiesErrors.INVALID_REASON(`reason code ${showReason(reason)} must be 1-32 characters of a-z, 0-9, "_" or "-"`);
}

function checkEvidenceSize(b: Bytes, what: string): void {
  if (b.length > MAX_EVIDENCE_BYTES) throw PenaltiesErrors.EVIDENCE_TOO_LARGE(`${what} is ${b.length} bytes; at most ${MAX_EVIDENCE_BYTES} are kept with a slash`);
}

// ---------------------------------------------------------------------------------------------
// Fault windows

export function getFaultRecord(store: KVReader, device: Bytes): FaultRecord | undefined {
  const b = store.get(faultKey(device));
  return b ? decode(faultRecordCodec, b) : undefined;
}

function putFaultRecord(store: KVStore, device: Bytes, r: FaultRecord): void {
  store.set(faultKey(device), encode(faultRecordCodec, r));
}

/** The first height after the window that opened at `windowStart`. */
export function windowEnd(r: FaultRecord, p: PenaltiesParams): bigint {
  return r.windowStart + p.faultWindowBlocks;
}

/** Whether the record holds no live window at `height` (a fault then opens a new one). */
function windowClosed(r: FaultRecord, height: bigint, p: PenaltiesParams): boolean {
  return r.count === 0 || height >= windowEnd(r, p);
}

export type FaultAction = 'warning' | 'penalty' | 'jail' | 'ignored';

export interface FaultOutcome {
  readonly action: FaultAction;
  /** Faults in the device's current window, this one included (0 when ignored). */
  readonly count: number;
  /** Faults left in the window that only warn. */
  readonly freeLeft: number;
  /** ugw taken into the slash escrow. */
  readonly slashed: bigint;
  /** The slash record, when tokens were taken. */
  readonly slashId: bigint | null;
  readonly note: string;
}

/**
 * Records an honest operational fault of `device` (a missed challenge...), as a vertical
 * detected it; `reason` is a reason code, `evidence` what the vertical has (e.g. the challenge),
 * at most 8 KiB. See the file comment for warning → penalty → jail. A jailed or retired device
 * is out of service: its faults are not counted (action "ignored"). Throws UNKNOWN_DEVICE,
 * INVALID_REASON or EVIDENCE_TOO_LARGE.
 */
export function reportFault(ctx: Context, device: Bytes, reason: string, evidence: Bytes): FaultOutcome {
  checkReason(reason);
  checkEvidenceSize(evidence, 'the fault evidence');
  const d = devices.getDevice(ctx.store, device);
  if (!d) throw PenaltiesErrors.UNKNOWN_DEVICE(`no device ${toHex(device)} to report a fault of`);
  const owner = d.owner;
  if (d.status === 'jailed' || d.status === 'retired') {
    ctx.emit('penalties.fault_ignored', () => ({ device: toHex(device), owner: encodeAddress(owner), reason, status: d.status }));
    return { action: 'ignored', count: 0, freeLeft: 0, slashed: 0n, slashId: null, note: `device is ${d.status}: its faults are not counted` };
  }
  const p = penaltiesParamsOf(ctx.store);
  const height = ctx.block.height;
  const prev = getFaultRecord(ctx.store, device);
  const fresh = !prev || windowClosed(prev, height, p);
  const count = (fresh ? 0 : prev.count) + 1;
  const rec: FaultRecord = { windowStart: fresh ? height : prev.windowStart, count, total: (prev?.total ?? 0n) + 1n, lastHeight: height, lastReason: reason };
  putFaultRecord(ctx.store, device, rec);
  const windowEndHeight = windowEnd(rec, p);

  if (count <= p.freeFaults) {
    const freeLeft = p.freeFaults - count;
    devices.setDeviceStatus(ctx, device, 'warned', `fault ${reason}: warning ${count} of ${p.freeFaults} free faults`);
    ctx.emit('penalties.warning', () => ({ device: toHex(device), owner: encodeAddress(owner), reason, count, freeLeft, windowEnd: windowEndHeight }));
    return { action: 'warning', count, freeLeft, slashed: 0n, slashId: null, note: `warning ${count} of ${p.freeFaults} free faults until height ${windowEndHeight}` };
  }

  // Beyond the free faults: a small slash of the owner's operator pool, held in escrow.
  const taken = p.faultSlash > 0n ? staking.slash(ctx, owner, p.faultSlash, SLASH_ESCROW) : 0n;
  const note =
    p.faultSlash === 0n
      ? 'penalties.faultSlash is 0: nothing taken'
      : taken === 0n
        ? `owner ${encodeAddress(owner)} has no bonded operator stake: nothing taken`
        : taken < p.faultSlash
          ? `took ${taken}ugw of ${p.faultSlash}ugw: the operator pool held no more`
          : `took ${taken}ugw into the slash escrow`;
  const slashId =
    taken > 0n
      ? createSlash(ctx, { operator: owner, device, amount: taken, reason, kind: FAULT_KIND, evidence, evidenceHash: sha256(evidence), reporter: null, note: '' }).id
      : null;
  const jail = count >= p.jailFaults;
  devices.setDeviceStatus(ctx, device, jail ? 'jailed' : 'warned', `fault ${reason}: ${count} faults in the window (${p.freeFaults} free)`);
  ctx.emit('penalties.penalty', () => ({
    device: toHex(device),
    owner: encodeAddress(owner),
    reason,
    count,
    slashed: taken,
    ...(slashId !== null ? { slashId } : {}),
    note,
  }));
  if (jail) ctx.emit('penalties.jail', () => ({ device: toHex(device), owner: encodeAddress(owner), reason, count }));
  return { action: jail ? 'jail' : 'penalty', count, freeLeft: 0, slashed: taken, slashId, note };
}

/**
 * Rolls the device's fault window over if it has ended, and takes a warned device whose window
 * ended without new faults back to active. Cheap (one or two reads) and never throws for a
 * device it does not know: verticals (and rewards) call it whenever they see a device.
 */
export function refreshDevice(ctx: Context, device: Bytes): void {
  const d = devices.getDevice(ctx.store, device);
  if (!d) return;
  let r = getFaultRecord(ctx.store, device);
  if (r && r.count > 0) {
    const p = penaltiesParamsOf(ctx.store);
    if (ctx.block.height >= windowEnd(r, p)) {
      const faults = r.count;
      r = { ...r, count: 0 };
      putFaultRecord(ctx.store, device, r);
      ctx.emit('penalties.window_reset', () => ({ device: toHex(device), owner: encodeAddress(d.owner), faults }));
    }
  }
  if (d.status === 'warned' && (!r || r.count === 0)) {
    devices.setDeviceStatus(ctx, device, 'active', 'fault window over without new faults');
  }
}

// ---------------------------------------------------------------------------------------------
// Slash records

export function getSlash(store: KVReader, id: bigint): Slash | undefined {
  const b = store.get(slashKey(id));
  return b ? { id, ...decode(slashRecordCodec, b) } : undefined;
}

function putSlash(store: KVStore, s: Slash): void {
  const { id, ...rec } = s;
  store.set(slashKey(id), encode(slashRecordCodec, rec, 256 + rec.evidence.length + (rec.counterEvidence?.length ?? 0)));
}

function nextSlashId(store: KVStore): bigint {
  const b = store.get(NEXT_ID_KEY);
  const id = b ? decode(u64, b) : 1n;
  store.set(NEXT_ID_KEY, encode(u64, id + 1n));
  return id;
}

type NewSlash = Pick<SlashRecord, 'operator' | 'device' | 'amount' | 'reason' | 'kind' | 'evidence' | 'evidenceHash' | 'reporter' | 'note'>;

/** Records a slash whose tokens are already in the escrow, and queues its burn. */
function createSlash(ctx: Context, n: NewSlash): Slash {
  const p = penaltiesParamsOf(ctx.store);
  const height = ctx.block.height;
  const id = nextSlashId(ctx.store);
  const s: Slash = {
    id,
    ...n,
    height,
    releaseHeight: height + p.disputeBlocks,
    status: 'pending',
    statusHeight: height,
    counterEvidence: null,
    restoredToAccount: false,
  };
  putSlash(ctx.store, s);
  ctx.store.set(byOperatorKey(n.operator, id), Uint8Array.of(1)); // an index: the value is a placeholder
  ctx.store.set(queueKey(s.releaseHeight, id), Uint8Array.of(1));
  ctx.emit('penalties.slash', () => ({
    id,
    operator: encodeAddress(n.operator),
    device: toHex(n.device),
    kind: n.kind,
    reason: n.reason,
    amount: n.amount,
    evidenceHash: toHex(n.evidenceHash),
    releaseHeight: s.releaseHeight,
  }));
  return s;
}

/**
 * Fraud evidence (`penalties/evidence`, anyone may send it): the verifier registered for `kind`
 * checks it; valid evidence takes fraudSlashBps of the device owner's operator pool (all its
 * delegators pro rata) into the escrow, jails the device and records the slash. The same
 * evidence (by SHA-256) and the same offence are used once. Throws UNKNOWN_EVIDENCE_KIND,
 * INVALID_EVIDENCE (with the verifier's reason), EVIDENCE_USED, OFFENCE_PUNISHED, UNKNOWN_DEVICE.
 */
export function submitEvidence(ctx: Context, verifiers: EvidenceVerifiers, reporter: Bytes | null, kind: string, evidence: Bytes): Slash {
  const verify = KIND_RE.test(kind) ? verifiers.get(kind) : undefined;
  if (!verify) {
    const known = [...verifiers.keys()].sort().join(', ') || 'none';
    throw PenaltiesErrors.UNKNOWN_EVIDENCE_KIND(`no vertical verifies evidence of kind ${showReason(kind)}; known kinds: ${known}`);
  }
  checkEvidenceSize(evidence, 'the evidence');
  if (evidence.length === 0) throw PenaltiesErrors.INVALID_EVIDENCE('the evidence is empty');
  const evidenceHash = sha256(evidence);
  const used = ctx.store.get(evidenceKey(evidenceHash));
  if (used) {
    const id = decode(u64, used);
    throw PenaltiesErrors.EVIDENCE_USED(`evidence ${toHex(evidenceHash)} was already used for slash ${id}: see "groundwork penalties show ${id}"`);
  }
  const v = verify(ctx.store, evidence, ctx.chainId);
  if (typeof v === 'string') throw PenaltiesErrors.INVALID_EVIDENCE(`${kind} evidence rejected: ${v}`);
  if (!REASON_RE.test(v.reason)) throw new InvariantError(`the ${kind} verifier returned an invalid reason code ${showReason(v.reason)}`);
  return punishFraud(ctx, reporter, kind, v, evidence);
}

/**
 * Punishes proven fraud (see submitEvidence, which calls it once a verifier accepted the
 * evidence; a vertical that proves the fraud itself, e.g. a forged storage proof in the
 * provider's own tx, calls it directly). Throws EVIDENCE_USED, OFFENCE_PUNISHED, UNKNOWN_DEVICE.
 */
export function punishFraud(ctx: Context, reporter: Bytes | null, kind: string, v: EvidenceVerdict, evidence: Bytes): Slash {
  checkEvidenceSize(evidence, 'the evidence');
  if (!REASON_RE.test(v.reason)) throw new InvariantError(`the ${kind} verdict has an invalid reason code ${showReason(v.reason)}`);
  const evidenceHash = sha256(evidence);
  const used = ctx.store.get(evidenceKey(evidenceHash));
  if (used) {
    const id = decode(u64, used);
    throw PenaltiesErrors.EVIDENCE_USED(`evidence ${toHex(evidenceHash)} was already used for slash ${id}: see "groundwork penalties show ${id}"`);
  }
  const offence = sha256Parts(utf8(kind), Uint8Array.of(0), v.offence ?? evidenceHash);
  const punished = ctx.store.get(offenceKey(offence));
  if (punished) {
    const id = decode(u64, punished);
    throw PenaltiesErrors.OFFENCE_PUNISHED(`device ${toHex(v.device)} was already slashed for this offence (slash ${id}); other evidence of it is not punished again`);
  }
  const d = devices.getDevice(ctx.store, v.device);
  if (!d) throw PenaltiesErrors.UNKNOWN_DEVICE(`the evidence is about device ${toHex(v.device)}, which is not registered`);

  const p = penaltiesParamsOf(ctx.store);
  const pool = staking.bondedTokensOf(ctx.store, d.owner);
  // Rounds toward zero; the fraction of a ugw not taken stays in the pool.
  const want = (pool * p.fraudSlashBps) / BPS;
  const taken = staking.slash(ctx, d.owner, want, SLASH_ESCROW);
  // A retired device has no status to change; its owner's stake still pays for the fraud.
  if (d.status !== 'retired') devices.setDeviceStatus(ctx, v.device, 'jailed', `fraud proven: ${v.reason}`);
  const note = taken === 0n ? `owner ${encodeAddress(d.owner)} has no bonded operator stake: nothing taken` : '';
  const s = createSlash(ctx, { operator: d.owner, device: v.device, amount: taken, reason: v.reason, kind, evidence, evidenceHash, reporter, note });
  ctx.store.set(evidenceKey(evidenceHash), encode(u64, s.id));
  ctx.store.set(offenceKey(offence), encode(u64, s.id));
  return s;
}

/**
 * The slashed operator disputes a pending slash (`penalties/dispute`) before its release height,
 * with counter-evidence and a note: the slash becomes `disputed` and its release height moves
 * penalties.disputeExtensionBlocks later, so a slash-reverse proposal has time to pass.
 * Throws SLASH_NOT_FOUND, NOT_OPERATOR, ALREADY_DISPUTED, DISPUTE_CLOSED, INVALID_EVIDENCE.
 */
export function disputeSlash(ctx: Context, sender: Bytes, id: bigint, counterEvidence: Bytes, note: string): Slash {
  const s = getSlash(ctx.store, id);
  if (!s) throw PenaltiesErrors.SLASH_NOT_FOUND(`no slash ${id}; see "groundwork penalties list"`);
  if (!equals(sender, s.operator)) {
    throw PenaltiesErrors.NOT_OPERATOR(`slash ${id} took stake of ${encodeAddress(s.operator)}; only that operator can dispute it (the sender is ${encodeAddress(sender)})`);
  }
  if (s.status === 'disputed') {
    throw PenaltiesErrors.ALREADY_DISPUTED(`slash ${id} was disputed at height ${s.statusHeight}: governance decides it (a slash-reverse proposal ending before height ${s.releaseHeight})`);
  }
  if (s.status !== 'pending') throw PenaltiesErrors.DISPUTE_CLOSED(`slash ${id} is ${s.status} (since height ${s.statusHeight}): it can no longer be disputed`);
  const height = ctx.block.height;
  if (height >= s.releaseHeight) throw PenaltiesErrors.DISPUTE_CLOSED(`the dispute window of slash ${id} ended at height ${s.releaseHeight - 1n} (now ${height})`);
  checkEvidenceSize(counterEvidence, 'the counter-evidence');
  if (counterEvidence.length === 0) throw PenaltiesErrors.INVALID_EVIDENCE('give counter-evidence: what shows the slash is wrong');
  const p = penaltiesParamsOf(ctx.store);
  const releaseHeight = s.releaseHeight + p.disputeExtensionBlocks;
  ctx.store.delete(queueKey(s.releaseHeight, id));
  ctx.store.set(queueKey(releaseHeight, id), Uint8Array.of(1));
  const out: Slash = { ...s, status: 'disputed', statusHeight: height, releaseHeight, counterEvidence, note };
  putSlash(ctx.store, out);
  ctx.emit('penalties.dispute', () => ({ id, operator: encodeAddress(s.operator), releaseHeight, counterEvidenceHash: toHex(sha256(counterEvidence)) }));
  return out;
}

/**
 * Governance reverses a pending or disputed slash (a passed slash-reverse proposal): the
 * escrowed tokens go back to the operator's pool, shared by its delegators pro rata as they
 * are now; when the pool has no delegators any more they go to the operator's account. A device
 * jailed by the fraud finding is set active again. Throws SLASH_NOT_FOUND or NOT_REVERSIBLE.
 */
export function reverseSlash(ctx: Context, id: bigint): void {
  const s = getSlash(ctx.store, id);
  if (!s) throw PenaltiesErrors.SLASH_NOT_FOUND(`no slash ${id}`);
  if (s.status !== 'pending' && s.status !== 'disputed') {
    throw PenaltiesErrors.NOT_REVERSIBLE(
      `slash ${id} is ${s.status} since height ${s.statusHeight}: ${s.status === 'burned' ? 'its tokens were burned' : 'it was already reversed'}`,
    );
  }
  ctx.store.delete(queueKey(s.releaseHeight, id));
  let toAccount = false;
  if (s.amount > 0n) {
    if (staking.hasDelegators(ctx.store, s.operator)) staking.restore(ctx, s.operator, s.amount, SLASH_ESCROW);
    else {
      bank.transfer(ctx, SLASH_ESCROW, s.operator, s.amount);
      toAccount = true;
    }
  }
  if (s.kind !== FAULT_KIND && devices.getDevice(ctx.store, s.device)?.status === 'jailed') {
    devices.setDeviceStatus(ctx, s.device, 'active', `slash ${id} reversed by governance`);
  }
  const height = ctx.block.height;
  putSlash(ctx.store, { ...s, status: 'reversed', statusHeight: height, restoredToAccount: toAccount });
  ctx.emit('penalties.reverse', () => ({ id, operator: encodeAddress(s.operator), amount: s.amount, to: toAccount ? 'account' : 'pool' }));
}

/** End of block: burns the escrow of every slash whose release height has come (only those are read). */
export function releaseDue(ctx: Context): number {
  const height = ctx.block.height;
  const due: Bytes[] = [];
  for (const [k] of ctx.store.iterate(QUEUE_PREFIX, queueEndAt(height))) due.push(k);
  const n = QUEUE_PREFIX.length;
  for (const k of due) {
    const id = decode(u64, k.subarray(n + 8, n + 16));
    const s = getSlash(ctx.store, id);
    if (!s || (s.status !== 'pending' && s.status !== 'disputed')) throw new InvariantError(`burn queue entry for slash ${id}, which is ${s ? s.status : 'missing'}`);
    ctx.store.delete(k);
    if (s.amount > 0n) bank.burn(ctx, SLASH_ESCROW, s.amount);
    putSlash(ctx.store, { ...s, status: 'burned', statusHeight: height });
    ctx.emit('penalties.burn', () => ({ id, operator: encodeAddress(s.operator), amount: s.amount }));
  }
  return due.length;
}

// ---------------------------------------------------------------------------------------------
// Listings

export interface ListSlashesOptions {
  readonly operator?: Bytes;
  readonly status?: SlashStatus;
  /** Only ids greater than this. */
  readonly after?: bigint;
  readonly limit?: number;
}

/** Slashes in id order: all, or one operator's (its index); filtered by status. */
export function listSlashes(store: KVReader, o: ListSlashesOptions = {}): Slash[] {
  const limit = o.limit ?? 100;
  const after = o.after ?? 0n;
  const out: Slash[] = [];
  const take = (id: bigint): boolean => {
    const s = getSlash(store, id);
    if (s && (o.status === undefined || s.status === o.status)) out.push(s);
    return out.length < limit;
  };
  if (o.operator) {
    const prefix = byOperatorPrefix(o.operator);
    for (const [k] of store.iterate(byOperatorKey(o.operator, after + 1n), prefixEnd(prefix))) {
      if (!take(decode(u64, k.subarray(BY_OPERATOR_PREFIX.length + 20)))) break;
    }
  } else {
    for (const [k] of store.iterate(slashKey(after + 1n), prefixEnd(SLASH_PREFIX))) {
      if (!take(decode(u64, k.subarray(SLASH_PREFIX.length)))) break;
    }
  }
  return out;
}
