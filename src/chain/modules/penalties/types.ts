/**
 * penalties: value types (codecs), parameters and JSON views. Pure: shared by the state
 * machine, the SDK and the CLI.
 */
import { bool, bytes, bytes32, option, string, struct, u128, u32, u64, type Infer, enumOf } from '../../../core/codec.js';
import { InvalidInputError } from '../../../core/errors.js';
import { address, pubKey } from '../../../core/keys.js';
import type { ParamsDef } from '../../module.js';

/** Evidence and counter-evidence are bounded so a slash record stays small (8 KiB). */
export const MAX_EVIDENCE_BYTES = 8192;
/** Reason codes, as rewards' (one vocabulary for verdicts, reward lines and penalties). */
export const REASON_RE = /^[a-z0-9][a-z0-9_-]{0,31}$/;
/** Evidence kinds: the same shape as reason codes. */
export const KIND_RE = REASON_RE;
/** The kind of the slash records that operational-fault penalties create. */
export const FAULT_KIND = 'fault';
export const BPS = 10_000n;

export const SLASH_STATUSES = ['pending', 'disputed', 'burned', 'reversed'] as const;
export type SlashStatus = (typeof SLASH_STATUSES)[number];

/** A string enum: one byte (the value's index) in binary, the name in JSON. */

export const slashStatusCodec = enumOf('SlashStatus', SLASH_STATUSES);

// ---------------------------------------------------------------------------------------------
// Parameters

export const penaltiesParamsCodec = struct('PenaltiesParams', {
  /** Blocks a device's fault window lasts, from its first fault (then the count starts over). */
  faultWindowBlocks: u64,
  /** Faults per window that only warn. */
  freeFaults: u32,
  /** ugw taken from the owner's operator pool for each fault beyond the free ones. */
  faultSlash: u128,
  /** The fault count in a window at which the device is jailed (> freeFaults). */
  jailFaults: u32,
  /** Share of the owner's operator pool a proven fraud takes (basis points). */
  fraudSlashBps: u64,
  /** Blocks slashed tokens stay in escrow (disputable, reversible) before they burn. */
  disputeBlocks: u64,
  /** Blocks a dispute adds to the escrow period, so governance has time to vote. */
  disputeExtensionBlocks: u64,
});
export type PenaltiesParams = Infer<typeof penaltiesParamsCodec>;

function badParam(msg: string): InvalidInputError {
  return new InvalidInputError('INVALID_PARAM', msg);
}

export const penaltiesParams: ParamsDef<PenaltiesParams> = {
  codec: penaltiesParamsCodec,
  defaults: {
    // One hour at 1 s blocks. Filecoin counts faults per 24 h proving period; a devnet wants to
    // see a window roll over.
    faultWindowBlocks: 3_600n,
    // FIP-0002 added "free" declared faults because honest operators were over-penalised.
    freeFaults: 3,
    faultSlash: 1_000_000n, // 1 GW
    jailFaults: 6,
    fraudSlashBps: 500n, // 5 %
    // Ten minutes at 1 s blocks so a devnet sees the burn; production wants days (and
    // staking.unbondingBlocks longer still, since unbonding tokens cannot be slashed).
    disputeBlocks: 600n,
    // Four gov.votingPeriod defaults: a proposal submitted right after the dispute can end in time.
    disputeExtensionBlocks: 120n,
  },
  validate(p) {
    if (p.faultWindowBlocks < 1n) throw badParam('penalties.faultWindowBlocks must be at least 1');
    if (p.jailFaults <= p.freeFaults) throw badParam(`penalties.jailFaults (${p.jailFaults}) must be greater than penalties.freeFaults (${p.freeFaults})`);
    if (p.fraudSlashBps > BPS) throw badParam('penalties.fraudSlashBps must be at most 10000 (100%)');
    if (p.disputeBlocks < 1n) throw badParam('penalties.disputeBlocks must be at least 1');
    if (p.disputeExtensionBlocks < 1n) throw badParam('penalties.disputeExtensionBlocks must be at least 1');
  },
};

// ---------------------------------------------------------------------------------------------
// State

export const faultRecordCodec = struct('FaultRecord', {
  /** First height of the device's current fault window. */
  windowStart: u64,
  /** Faults in the current window. */
  count: u32,
  /** Faults ever reported. */
  total: u64,
  lastHeight: u64,
  lastReason: string(32, 'reason'),
});
export type FaultRecord = Infer<typeof faultRecordCodec>;

export const slashRecordCodec = struct('SlashRecord', {
  operator: address,
  device: pubKey,
  /** ugw taken from the operator's pool into the slash escrow. */
  amount: u128,
  reason: string(32, 'reason'),
  /** "fault" for an operational-fault penalty, else the evidence kind (e.g. double-signed-report). */
  kind: string(32, 'kind'),
  evidenceHash: bytes32,
  evidence: bytes(MAX_EVIDENCE_BYTES, 'evidence'),
  /** Who submitted the evidence (null: a vertical reported the fault). */
  reporter: option(address),
  height: u64,
  /** At the end of this block the escrowed tokens burn, unless reversed before. */
  releaseHeight: u64,
  status: slashStatusCodec,
  statusHeight: u64,
  counterEvidence: option(bytes(MAX_EVIDENCE_BYTES, 'counter-evidence')),
  note: string(256, 'note'),
  /** Reversed to the operator's account because its pool had no delegators left. */
  restoredToAccount: bool,
});
export type SlashRecord = Infer<typeof slashRecordCodec>;

export interface Slash extends SlashRecord {
  readonly id: bigint;
}

// ---------------------------------------------------------------------------------------------
// Messages

export const evidenceMsgCodec = struct('MsgEvidence', { kind: string(32, 'kind'), evidence: bytes(MAX_EVIDENCE_BYTES, 'evidence') });
export type MsgEvidence = Infer<typeof evidenceMsgCodec>;

export const disputeMsgCodec = struct('MsgDispute', { id: u64, counterEvidence: bytes(MAX_EVIDENCE_BYTES, 'counter-evidence'), note: string(256, 'note') });
export type MsgDispute = Infer<typeof disputeMsgCodec>;

// ---------------------------------------------------------------------------------------------
// JSON views (bigints as strings, bytes as hex, addresses bech32)

export function slashJSON(s: Slash): Record<string, unknown> {
  const { id, ...rec } = s;
  return { id: id.toString(), ...slashRecordCodec.toJSON(rec), evidenceBytes: s.evidence.length };
}
