/**
 * testvertical keeper: the smallest vertical that uses the narrow interfaces every vertical
 * uses. A registered device signs reports of work (seq, pool, units, reason); an accepted report
 * credits the device's owner through rewards' recordContribution. Seqs strictly increase per
 * device, so an old report replayed is refused; two different reports with one seq are fraud
 * (double-signed-report evidence, verifyDoubleSign). Operational faults come from the
 * `authority` param (testvertical/fault) — a test-only stand-in: real verticals detect faults
 * from their own challenges (a missed storage proof, a late compute result) and call
 * penalties.reportFault from their own handlers.
 */
import { concat, equals, toHex, u64be, type Bytes } from '../../../core/bytes.js';
import { decode, encode, string, struct, u64 } from '../../../core/codec.js';
import { CodecError } from '../../../core/errors.js';
import { sha256 } from '../../../core/hash.js';
import { address, encodeAddress, pubKey, verifySignature } from '../../../core/keys.js';
import type { KVReader } from '../../../state/overlay.js';
import type { Context } from '../../context.js';
import { getParams } from '../../module.js';
import type { EvidenceVerdict } from '../penalties/expected.js';
import { TestverticalErrors } from './errors.js';
import type { TestverticalDeps } from './expected.js';
import { lastSeqKey, reportKey } from './keys.js';
import {
  DOUBLE_SIGN_KIND,
  REPORT_POOLS,
  doubleSignEvidenceCodec,
  reportSignBytes,
  sameReportContent,
  testverticalParams,
  type DoubleSignEvidence,
  type TestReport,
} from './types.js';

const REASON_RE = /^[a-z0-9][a-z0-9_-]{0,31}$/;

export function lastSeqOf(store: KVReader, device: Bytes): bigint | undefined {
  const b = store.get(lastSeqKey(device));
  return b ? decode(u64, b) : undefined;
}

/** SHA-256 of the sign bytes of the accepted report (device, seq), if any. */
export function reportHashOf(store: KVReader, device: Bytes, seq: bigint): Bytes | undefined {
  return store.get(reportKey(device, seq));
}

/**
 * Accepts a signed report (anyone may submit it: the device's signature is what counts) and
 * records the contribution for the device's owner. Throws UNKNOWN_DEVICE, INVALID_REPORT,
 * BAD_SIGNATURE, REPLAYED, DEVICE_NOT_ACTIVE (and rewards' errors).
 */
export function submitReport(ctx: Context, deps: TestverticalDeps, r: TestReport): { hash: Bytes; weighted: bigint } {
  const id = toHex(r.device);
  if (!deps.devices.getDevice(ctx.store, r.device)) throw TestverticalErrors.UNKNOWN_DEVICE(`no device ${id} is registered; onboard it first (groundwork device onboard)`);
  if (r.units <= 0n) throw TestverticalErrors.INVALID_REPORT('units must be greater than zero');
  if (!REASON_RE.test(r.reason)) throw TestverticalErrors.INVALID_REPORT(`reason "${r.reason}" must be 1-32 characters of a-z, 0-9, "_" or "-"`);
  const signBytes = reportSignBytes(ctx.chainId, r);
  if (!verifySignature(r.device, signBytes, r.signature)) {
    throw TestverticalErrors.BAD_SIGNATURE(`the signature does not verify: device ${id} must sign (chain ${ctx.chainId}, seq ${r.seq}, ${r.pool}, ${r.units} units, ${r.reason}) with its key`);
  }
  const last = lastSeqOf(ctx.store, r.device);
  if (last !== undefined && r.seq <= last) {
    throw TestverticalErrors.REPLAYED(`device ${id} already reported seq ${last}; seq ${r.seq} is a replay or out of order: sign a new report with a seq above ${last}`);
  }
  // The fault window rolls lazily: seeing the device is the moment to do it.
  deps.penalties.refreshDevice(ctx, r.device);
  const d = deps.devices.getDevice(ctx.store, r.device);
  if (!d) throw TestverticalErrors.UNKNOWN_DEVICE(`no device ${id}`);
  if (d.status === 'jailed') throw TestverticalErrors.DEVICE_NOT_ACTIVE(`device ${id} is jailed until height ${d.jailedUntil}: its reports are refused until its owner unjails it`);
  if (d.status === 'retired') throw TestverticalErrors.DEVICE_NOT_ACTIVE(`device ${id} is retired: its reports are refused`);
  const hash = sha256(signBytes);
  ctx.store.set(lastSeqKey(r.device), encode(u64, r.seq));
  ctx.store.set(reportKey(r.device, r.seq), hash);
  const weighted = deps.rewards.recordContribution(ctx, { recipient: d.owner, pool: REPORT_POOLS.indexOf(r.pool), units: r.units, reason: r.reason, device: r.device });
  ctx.emit('testvertical.report', () => ({ device: id, owner: encodeAddress(d.owner), seq: r.seq, pool: r.pool, units: r.units, weighted, hash: toHex(hash) }));
  return { hash, weighted };
}

const faultEvidenceCodec = struct('TestFaultEvidence', { authority: address, device: pubKey, reason: string(32, 'reason'), height: u64 });

/** testvertical/fault: the authority reports an operational fault of a device to penalties. */
export function reportTestFault(ctx: Context, deps: TestverticalDeps, sender: Bytes, device: Bytes, reason: string): void {
  const { authority } = getParams(ctx.store, 'testvertical', testverticalParams);
  if (authority === null) throw TestverticalErrors.NOT_AUTHORITY('testvertical.authority is not set: nobody may report test faults (set it in genesis or through governance)');
  if (!equals(sender, authority)) {
    throw TestverticalErrors.NOT_AUTHORITY(`only testvertical.authority ${encodeAddress(authority)} may report test faults, not ${encodeAddress(sender)}`);
  }
  const evidence = encode(faultEvidenceCodec, { authority, device, reason, height: ctx.block.height });
  deps.penalties.reportFault(ctx, device, reason, evidence);
}

/**
 * The penalties verifier of double-signed-report evidence: two signed reports of the same
 * device with the same seq and different content, both signed by the device for this chain.
 * The offence is (device, seq): presenting the pair in the other order, or another conflicting
 * report of the same seq, does not punish it again.
 */
export function verifyDoubleSign(_store: KVReader, evidence: Bytes, chainId: string): EvidenceVerdict | string {
  let e: DoubleSignEvidence;
  try {
    e = decode(doubleSignEvidenceCodec, evidence);
  } catch (err) {
    if (err instanceof CodecError) return `the evidence does not decode as two signed reports (${err.message})`;
    throw err;
  }
  const { a, b } = e;
  if (!equals(a.device, b.device)) return `the two reports are from different devices (${toHex(a.device)} and ${toHex(b.device)})`;
  if (a.seq !== b.seq) return `the two reports have different seqs (${a.seq} and ${b.seq}): that is not a double-sign`;
  if (sameReportContent(a, b)) return 'the two reports have the same content: a copy is not a double-sign';
  if (!verifySignature(a.device, reportSignBytes(chainId, a), a.signature)) return `the first report's signature does not verify for device ${toHex(a.device)} on chain ${chainId}`;
  if (!verifySignature(b.device, reportSignBytes(chainId, b), b.signature)) return `the second report's signature does not verify for device ${toHex(b.device)} on chain ${chainId}`;
  return { device: a.device, reason: DOUBLE_SIGN_KIND, offence: concat(a.device, u64be(a.seq)) };
}
