/**
 * gov: governance proposals and the treasury.
 *
 * `gov/submit {title, description, content, deposit}` opens a proposal. The whole deposit (at
 * least gov.minDeposit) moves into escrow (moduleAddress('gov')) at submission, and voting
 * starts at once: there is no separate deposit period to top up (one step, no proposals stuck
 * half-funded). The content is one of:
 *   params {module, changes}     the module's FULL new parameters in its params codec
 *   maker-approve {name, pubKey} / maker-revoke {name}   the device maker registry
 *   treasury-spend {to, amount}  pay out of the treasury
 *   slash-reverse {id}           undo a slash during its dispute window (penalties)
 *   text {}                      a signal, nothing executes
 * What can be checked at submission is (module known, params decode and validate, names,
 * amounts), so bad proposals fail early and cost nothing but the tx fee.
 *
 * `gov/vote {id, option}` (yes | no | abstain | veto) by any address with bonded stake; voting
 * again replaces the earlier vote. Voting is open from the submission block through height
 * submitHeight + votingPeriod; at the end of that block the proposal is tallied (see
 * tallyOutcome for the rule), weighing each vote with its voter's voting power at that moment.
 * A passed proposal executes right there, isolated: if it fails (e.g. the treasury holds too
 * little) nothing of it is applied and it is marked `failed` with the error. Deposits are
 * refunded, except on a veto or (with gov.burnDepositNoQuorum) a missed quorum, where they are
 * burned.
 *
 * Parameters of every module change only through params proposals: no other message calls
 * setParams.
 */
import { equals } from '../../../core/bytes.js';
import { CodecError, InvalidInputError } from '../../../core/errors.js';
import { decode, parseBigUint, U64_MAX } from '../../../core/codec.js';
import { formatAmount } from '../../../core/amount.js';
import { encodeAddress } from '../../../core/keys.js';
import type { KVReader } from '../../../state/overlay.js';
import { paramsKey } from '../../keys.js';
import { getParams, msg, type Module } from '../../module.js';
import { getAccount, transfer } from '../bank/keeper.js';
import { MAKER_NAME_RE } from '../devices/types.js';
import { GovErrors } from './errors.js';
import type { GovDeps } from './expected.js';
import {
  allocateProposalId,
  closeProposal,
  computeTally,
  getProposal,
  GOV_ESCROW_ADDRESS,
  indexEnd,
  iterateProposals,
  iterateVotes,
  paramModules,
  paramsDefOf,
  proposalsEndingAt,
  setProposal,
  setVote,
  treasuryBalance,
  TREASURY_ADDRESS,
} from './keeper.js';
import { endKey } from './keys.js';
import {
  govParams,
  PROPOSAL_STATUSES,
  proposalCodec,
  submitMsgCodec,
  tallyCodec,
  tallyOutcome,
  voteMsgCodec,
  type GovParams,
  type Proposal,
  type ProposalContent,
} from './types.js';

export * from './types.js';
export { GovErrors } from './errors.js';
export { TREASURY_ADDRESS, GOV_ESCROW_ADDRESS } from './keeper.js';
export type { GovDeps } from './expected.js';

/** Refuses what can be known to fail before voting starts. */
export function validateContent(store: KVReader, deps: GovDeps, c: ProposalContent): void {
  switch (c.type) {
    case 'params': {
      const { module, changes } = c.value;
      const def = paramsDefOf(deps, module);
      if (!def) {
        throw GovErrors.UNKNOWN_MODULE(`no module "${module}" has parameters; modules with parameters: ${paramModules(deps).join(', ')}`);
      }
      let value: unknown;
      try {
        value = decode(def.codec, changes);
      } catch (e) {
        if (!(e instanceof CodecError)) throw e;
        throw GovErrors.INVALID_PARAMS(`the proposed ${module} parameters do not decode (${e.message}): encode the module's FULL parameters with its params codec`);
      }
      try {
        def.validate(value);
      } catch (e) {
        if (!(e instanceof InvalidInputError)) throw e;
        throw GovErrors.INVALID_PARAMS(`the proposed ${module} parameters are invalid: ${e.message}`);
      }
      const current = store.get(paramsKey(module));
      if (current && equals(current, changes)) throw GovErrors.PARAMS_UNCHANGED(`the proposed ${module} parameters equal the current ones: nothing would change`);
      return;
    }
    case 'maker-approve':
    case 'maker-revoke':
      if (!deps.devices) throw GovErrors.NOT_SUPPORTED('maker proposals need the devices module, which this chain does not run');
      if (!MAKER_NAME_RE.test(c.value.name)) throw GovErrors.INVALID_MAKER_NAME(`"${c.value.name}" is not a maker name: 1-64 characters of a-z, 0-9 and "-", starting with a letter or digit`);
      return;
    case 'treasury-spend':
      if (c.value.amount <= 0n) throw GovErrors.INVALID_AMOUNT('a treasury spend must pay more than zero');
      return;
    case 'slash-reverse':
      if (!deps.penalties) throw GovErrors.NOT_SUPPORTED('slash reversals need the penalties module, which this chain does not run');
      return;
    case 'text':
      return;
  }
}

// ---------------------------------------------------------------------------------------------
// Query views (JSON)

function parseId(args: Readonly<Record<string, string>>): bigint {
  if (args.id === undefined) throw new InvalidInputError('INVALID_ARGUMENT', 'give the proposal id (?id=)');
  return parseBigUint(args.id, U64_MAX, 'id');
}

/** Last committed height, when the store knows it (the API passes the committed StateStore). */
function committedHeight(store: KVReader): bigint | undefined {
  const v = (store as { version?: unknown }).version;
  return typeof v === 'number' && v >= 0 ? BigInt(v) : undefined;
}

/** Each field of a params proposal that differs from the parameters in force now. */
function paramsDiff(store: KVReader, deps: GovDeps, module: string, changes: Uint8Array): Array<{ key: string; from: unknown; to: unknown }> | null {
  const def = paramsDefOf(deps, module);
  if (!def) return null;
  try {
    const to = def.codec.toJSON(decode(def.codec, changes)) as Record<string, unknown>;
    const from = def.codec.toJSON(getParams(store, module, def)) as Record<string, unknown>;
    return Object.keys(to)
      .filter((k) => !sameJSON(from[k], to[k]))
      .map((k) => ({ key: `${module}.${k}`, from: from[k], to: to[k] }));
  } catch {
    return null;
  }
}

function sameJSON(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => sameJSON((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

function summary(id: bigint, p: Proposal) {
  return {
    id: id.toString(),
    title: p.title,
    kind: p.content.type,
    proposer: encodeAddress(p.proposer),
    status: p.status,
    reason: p.reason,
    deposit: p.deposit.toString(),
    depositState: p.depositState,
    submitHeight: p.submitHeight.toString(),
    votingEndHeight: p.votingEndHeight.toString(),
  };
}

export function proposalView(store: KVReader, deps: GovDeps, id: bigint) {
  const p = getProposal(store, id);
  if (!p) throw new InvalidInputError('NOT_FOUND', `no proposal ${id}`);
  const params = getParams(store, 'gov', govParams);
  const live = p.status === 'voting' ? computeTally(store, deps.staking, id).tally : null;
  const tally = p.tally ?? live;
  const height = committedHeight(store);
  const content = proposalCodec.fields.content.toJSON(p.content);
  return {
    ...summary(id, p),
    description: p.description,
    content,
    ...(p.content.type === 'params' ? { paramChanges: paramsDiff(store, deps, p.content.value.module, p.content.value.changes) } : {}),
    error: p.error,
    /** Final for a closed proposal; for an open one, with voting power as of now. */
    tally: tally ? tallyCodec.toJSON(tally) : null,
    tallyFinal: p.tally !== null,
    ...(live ? { outcomeIfEndedNow: tallyOutcome(live, params).reason } : {}),
    ...(height !== undefined ? { height: height.toString(), blocksLeft: p.status === 'voting' && p.votingEndHeight > height ? (p.votingEndHeight - height).toString() : '0' } : {}),
    params: { quorumBps: params.quorumBps.toString(), thresholdBps: params.thresholdBps.toString(), vetoBps: params.vetoBps.toString() },
  };
}

export function govModule(deps: GovDeps): Module<null, GovParams> {
  return {
    name: 'gov',
    params: govParams,
    indexedAttributes: ['gov.submit.proposer', 'gov.vote.voter'],
    msgs: [
      msg('gov/submit', submitMsgCodec, (ctx, m) => {
        const sender = ctx.sender as Uint8Array;
        if (m.title.trim().length === 0) throw GovErrors.INVALID_TITLE('give the proposal a title (1-140 bytes)');
        validateContent(ctx.store, deps, m.content);
        const params = getParams(ctx.store, 'gov', govParams);
        if (m.deposit < params.minDeposit) {
          throw GovErrors.INSUFFICIENT_DEPOSIT(`the deposit is ${formatAmount(m.deposit)}; gov.minDeposit is ${formatAmount(params.minDeposit)}: deposit at least that`);
        }
        transfer(ctx, sender, GOV_ESCROW_ADDRESS, m.deposit);
        const id = allocateProposalId(ctx.store);
        const height = ctx.block.height;
        const votingEndHeight = height + params.votingPeriod;
        setProposal(ctx.store, id, {
          proposer: sender,
          title: m.title,
          description: m.description,
          content: m.content,
          deposit: m.deposit,
          submitHeight: height,
          votingEndHeight,
          status: 'voting',
          reason: '',
          error: '',
          depositState: 'held',
          tally: null,
        });
        indexEnd(ctx.store, votingEndHeight, id);
        ctx.emit('gov.submit', () => ({ id, proposer: encodeAddress(sender), kind: m.content.type, deposit: m.deposit, votingEndHeight }));
      }),
      msg('gov/vote', voteMsgCodec, (ctx, m) => {
        const sender = ctx.sender as Uint8Array;
        const p = getProposal(ctx.store, m.id);
        if (!p) throw GovErrors.PROPOSAL_NOT_FOUND(`no proposal ${m.id}; see "groundwork gov list"`);
        if (p.status !== 'voting') throw GovErrors.VOTING_CLOSED(`proposal ${m.id} is ${p.status}: voting ended at height ${p.votingEndHeight}`);
        if (deps.staking.votingPowerOf(ctx.store, sender) === 0n) {
          throw GovErrors.NO_VOTING_POWER(`${encodeAddress(sender)} has no bonded stake: delegate first; votes weigh the stake bonded when voting ends`);
        }
        setVote(ctx.store, m.id, sender, { option: m.option, weight: null });
        ctx.emit('gov.vote', () => ({ id: m.id, voter: encodeAddress(sender), option: m.option }));
      }),
    ],
    endBlock(ctx) {
      const height = ctx.block.height;
      for (const id of proposalsEndingAt(ctx.store, height)) {
        ctx.store.delete(endKey(height, id));
        closeProposal(ctx, deps, id);
      }
    },
    queries: {
      proposals(store, args) {
        const status = args.status;
        if (status !== undefined && !(PROPOSAL_STATUSES as readonly string[]).includes(status)) {
          throw new InvalidInputError('INVALID_ARGUMENT', `status must be one of ${PROPOSAL_STATUSES.join(', ')}, got "${status}"`);
        }
        const limit = args.limit === undefined ? 100 : Number(parseBigUint(args.limit, 1000n, 'limit'));
        const from = args.from === undefined ? 1n : parseBigUint(args.from, U64_MAX, 'from');
        const out = [];
        for (const { id, proposal } of iterateProposals(store, from)) {
          if (status !== undefined && proposal.status !== status) continue;
          out.push(summary(id, proposal));
          if (out.length >= limit) break;
        }
        const height = committedHeight(store);
        return { proposals: out, ...(height !== undefined ? { height: height.toString() } : {}) };
      },
      proposal: (store, args) => proposalView(store, deps, parseId(args)),
      votes(store, args) {
        const id = parseId(args);
        const p = getProposal(store, id);
        if (!p) throw new InvalidInputError('NOT_FOUND', `no proposal ${id}`);
        const votes = [];
        for (const { voter, vote } of iterateVotes(store, id)) {
          const weight = vote.weight ?? deps.staking.votingPowerOf(store, voter);
          votes.push({ voter: encodeAddress(voter), option: vote.option, weight: weight.toString(), final: vote.weight !== null });
        }
        return { id: id.toString(), status: p.status, votes };
      },
      treasury: (store) => ({ address: encodeAddress(TREASURY_ADDRESS), balance: treasuryBalance(store).toString() }),
      /** Deposits held for open proposals. */
      escrow: (store) => ({ address: encodeAddress(GOV_ESCROW_ADDRESS), balance: getAccount(store, GOV_ESCROW_ADDRESS).balance.toString() }),
    },
  };
}
