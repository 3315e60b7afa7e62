/**
 * gov: value types (codecs), parameters and the tally rule. Pure: shared by the state machine,
 * the SDK and the CLI, so what a client builds is exactly what the chain decodes.
 */
import { bool, bytes, option, string, struct, u128, u64, union, unit, type Infer, enumOf } from '../../../core/codec.js';
import { InvalidInputError } from '../../../core/errors.js';
import { address, pubKey } from '../../../core/keys.js';
import type { ParamsDef } from '../../module.js';

/** A string enum: one byte (the value's index) in binary, the name in JSON. */

// ---------------------------------------------------------------------------------------------
// Parameters

export const govParamsCodec = struct('GovParams', {
  /** Blocks a proposal is open for votes (the tally runs at the end of its last block). */
  votingPeriod: u64,
  /** ugw a proposer must put down at submission (refunded or burned by the outcome). */
  minDeposit: u128,
  /** Share of all bonded stake that must vote (any option) for the result to count. */
  quorumBps: u64,
  /** Share of yes among yes + no + veto that a proposal must exceed to pass. */
  thresholdBps: u64,
  /** Share of veto among all votes at which a proposal is rejected and its deposit burned. */
  vetoBps: u64,
  /** Burn the deposit of a proposal that missed quorum (else refund it). */
  burnDepositNoQuorum: bool,
});
export type GovParams = Infer<typeof govParamsCodec>;

function badParam(msg: string): InvalidInputError {
  return new InvalidInputError('INVALID_PARAM', msg);
}

export const govParams: ParamsDef<GovParams> = {
  codec: govParamsCodec,
  defaults: {
    // 30 s at 1 s blocks, so a devnet sees proposals close. Cosmos SDK's default is 2 days
    // (172,800 blocks at 1 s), the Cosmos Hub uses 14 days; production should be days.
    votingPeriod: 30n,
    minDeposit: 100_000_000n, // 100 GW
    quorumBps: 3340n, // Cosmos: 33.4%
    thresholdBps: 5000n, // Cosmos: 50%
    vetoBps: 3340n, // Cosmos: 33.4%
    // Cosmos SDK up to v0.46 (the Hub for years) burned deposits when quorum was missed; with
    // the whole deposit at submission, it is the only price of a proposal nobody cares about.
    burnDepositNoQuorum: true,
  },
  validate(p) {
    if (p.votingPeriod < 1n || p.votingPeriod > 10_000_000n) throw badParam('gov.votingPeriod must be between 1 and 10,000,000 blocks');
    if (p.minDeposit < 1n) throw badParam('gov.minDeposit must be at least 1 ugw');
    // Governance must stay able to change itself: a quorum near 100% would need every bonded
    // token to vote, and nothing but governance could lower it again.
    if (p.quorumBps < 1n || p.quorumBps > 9000n) throw badParam('gov.quorumBps must be between 1 and 9000 (bps)');
    // Below half, a minority could pass changes against a majority; at 100% nothing could pass.
    if (p.thresholdBps < 5000n || p.thresholdBps > 9999n) throw badParam('gov.thresholdBps must be between 5000 and 9999 (bps)');
    if (p.vetoBps < 1n || p.vetoBps > 10_000n) throw badParam('gov.vetoBps must be between 1 and 10000 (bps)');
  },
};

// ---------------------------------------------------------------------------------------------
// Proposals

export const MAX_TITLE_BYTES = 140;
export const MAX_DESCRIPTION_BYTES = 10_000;
/** Longest encoded params of one module a proposal may carry. */
export const MAX_PARAMS_BYTES = 16_384;
/** Longest failure message kept in a proposal (and its event). */
export const MAX_ERROR_CHARS = 300;

export const CONTENT_KINDS = ['params', 'maker-approve', 'maker-revoke', 'treasury-spend', 'slash-reverse', 'text'] as const;
export type ContentKind = (typeof CONTENT_KINDS)[number];

export const proposalContentCodec = union('ProposalContent', {
  /** `changes`: the module's FULL new parameters, encoded with that module's params codec. */
  params: struct('ParamsChange', { module: string(32, 'module'), changes: bytes(MAX_PARAMS_BYTES, 'changes') }),
  'maker-approve': struct('MakerApprove', { name: string(64, 'maker name'), pubKey }),
  'maker-revoke': struct('MakerRevoke', { name: string(64, 'maker name') }),
  'treasury-spend': struct('TreasurySpend', { to: address, amount: u128 }),
  'slash-reverse': struct('SlashReverse', { id: u64 }),
  text: unit,
});
export type ProposalContent = Infer<typeof proposalContentCodec>;

export const PROPOSAL_STATUSES = ['voting', 'passed', 'rejected', 'failed'] as const;
export type ProposalStatus = (typeof PROPOSAL_STATUSES)[number];
export const proposalStatusCodec = enumOf('ProposalStatus', PROPOSAL_STATUSES);

/** Why a proposal ended as it did ('' while voting). */
export const PROPOSAL_REASONS = ['', 'executed', 'execution-failed', 'quorum-not-met', 'vetoed', 'threshold-not-met'] as const;
export type ProposalReason = (typeof PROPOSAL_REASONS)[number];
export const proposalReasonCodec = enumOf('ProposalReason', PROPOSAL_REASONS);

export const DEPOSIT_STATES = ['held', 'refunded', 'burned'] as const;
export type DepositState = (typeof DEPOSIT_STATES)[number];
export const depositStateCodec = enumOf('DepositState', DEPOSIT_STATES);

export const tallyCodec = struct('Tally', { yes: u128, no: u128, abstain: u128, veto: u128, totalBonded: u128 });
export type Tally = Infer<typeof tallyCodec>;

export const proposalCodec = struct('Proposal', {
  proposer: address,
  title: string(MAX_TITLE_BYTES, 'title'),
  description: string(MAX_DESCRIPTION_BYTES, 'description'),
  content: proposalContentCodec,
  deposit: u128,
  submitHeight: u64,
  /** The last height votes are accepted at; the tally runs at the end of that block. */
  votingEndHeight: u64,
  status: proposalStatusCodec,
  reason: proposalReasonCodec,
  /** The execution error of a failed proposal ('' otherwise). */
  error: string(1024, 'error'),
  depositState: depositStateCodec,
  /** The final tally (null while voting). */
  tally: option(tallyCodec),
});
export type Proposal = Infer<typeof proposalCodec>;

export const VOTE_OPTIONS = ['yes', 'no', 'abstain', 'veto'] as const;
export type VoteOption = (typeof VOTE_OPTIONS)[number];
export const voteOptionCodec = enumOf('VoteOption', VOTE_OPTIONS);

export const voteCodec = struct('Vote', {
  option: voteOptionCodec,
  /** The voter's power counted at the tally (null while voting). */
  weight: option(u128),
});
export type Vote = Infer<typeof voteCodec>;

// Messages

export const submitMsgCodec = struct('MsgGovSubmit', {
  title: string(MAX_TITLE_BYTES, 'title'),
  description: string(MAX_DESCRIPTION_BYTES, 'description'),
  content: proposalContentCodec,
  deposit: u128,
});
export type MsgGovSubmit = Infer<typeof submitMsgCodec>;

export const voteMsgCodec = struct('MsgGovVote', { id: u64, option: voteOptionCodec });
export type MsgGovVote = Infer<typeof voteMsgCodec>;

// ---------------------------------------------------------------------------------------------
// The tally rule

export type TallyOutcome =
  | { readonly passed: true; readonly reason: 'passed'; readonly burnDeposit: false }
  | { readonly passed: false; readonly reason: 'quorum-not-met' | 'vetoed' | 'threshold-not-met'; readonly burnDeposit: boolean };

/**
 * Decides a proposal from its tally (voting power in ugw), in this order:
 *  1. quorum: voted (yes + no + abstain + veto) / totalBonded ≥ quorumBps, else rejected; the
 *     deposit is burned if burnDepositNoQuorum (no bonded stake at all: quorum not met);
 *  2. veto: veto / voted ≥ vetoBps → rejected, deposit burned;
 *  3. threshold: yes / (yes + no + veto) > thresholdBps → passed; otherwise (including when
 *     everyone abstained) rejected with the deposit refunded. Abstain counts for quorum only.
 * Every comparison cross-multiplies (a / b ≥ c / 10000 ⇔ a × 10000 ≥ c × b): exact, no
 * division, no rounding.
 */
export function tallyOutcome(
  t: Tally,
  p: Pick<GovParams, 'quorumBps' | 'thresholdBps' | 'vetoBps' | 'burnDepositNoQuorum'>,
): TallyOutcome {
  const voted = t.yes + t.no + t.abstain + t.veto;
  if (t.totalBonded === 0n || voted === 0n || voted * 10_000n < p.quorumBps * t.totalBonded) {
    return { passed: false, reason: 'quorum-not-met', burnDeposit: p.burnDepositNoQuorum };
  }
  if (t.veto * 10_000n >= p.vetoBps * voted) return { passed: false, reason: 'vetoed', burnDeposit: true };
  const decisive = t.yes + t.no + t.veto;
  if (decisive > 0n && t.yes * 10_000n > p.thresholdBps * decisive) return { passed: true, reason: 'passed', burnDeposit: false };
  return { passed: false, reason: 'threshold-not-met', burnDeposit: false };
}
