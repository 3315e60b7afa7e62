/**
 * gov keeper: proposals, votes, the end-height index, the tally and the isolated execution of
 * passed proposals. The treasury is the bank account moduleAddress('treasury'): anyone may pay
 * into it (the rewards module mints the treasury pool into it, fees send it part of the take
 * rate), and only a passed treasury-spend proposal pays out of it.
 */
import type { Bytes } from '../../../core/bytes.js';
import { decode, encode, u64 } from '../../../core/codec.js';
import { ChainError, GroundworkError, InvariantError } from '../../../core/errors.js';
import { encodeAddress, moduleAddress } from '../../../core/keys.js';
import { Overlay, type KVReader, type KVStore } from '../../../state/overlay.js';
import { Context } from '../../context.js';
import { prefixEnd } from '../../keys.js';
import { getParams, setParams, type ParamsDef } from '../../module.js';
import { burn, getAccount, transfer } from '../bank/keeper.js';
import { GovErrors } from './errors.js';
import type { GovDeps, StakingVotes } from './expected.js';
import { endKey, endPrefix, GOV_NEXT_ID_KEY, GOV_PROPOSAL_PREFIX, proposalKey, voteKey, votePrefix } from './keys.js';
import {
  govParams,
  MAX_ERROR_CHARS,
  proposalCodec,
  tallyOutcome,
  voteCodec,
  type Proposal,
  type ProposalContent,
  type Tally,
  type Vote,
} from './types.js';

/** The treasury: receives its pool and part of the take rate; pays out only by proposal. */
export const TREASURY_ADDRESS = moduleAddress('treasury');
/** Escrow of proposal deposits until the tally refunds or burns them. */
export const GOV_ESCROW_ADDRESS = moduleAddress('gov');

const MARK = Uint8Array.of(1);

export function treasuryBalance(store: KVReader): bigint {
  return getAccount(store, TREASURY_ADDRESS).balance;
}

/** The params definition of a module, gov's own included; undefined if it has none. */
export function paramsDefOf(deps: Pick<GovDeps, 'params'>, module: string): ParamsDef<unknown> | undefined {
  if (module === 'gov') return govParams as ParamsDef<unknown>;
  return deps.params.get(module);
}

/** Names of the modules whose parameters a proposal may change, sorted. */
export function paramModules(deps: Pick<GovDeps, 'params'>): string[] {
  return [...new Set([...deps.params.keys(), 'gov'])].sort();
}

// ---------------------------------------------------------------------------------------------
// Proposals and votes

export function getProposal(store: KVReader, id: bigint): Proposal | undefined {
  const b = store.get(proposalKey(id));
  return b ? decode(proposalCodec, b) : undefined;
}

export function setProposal(store: KVStore, id: bigint, p: Proposal): void {
  store.set(proposalKey(id), encode(proposalCodec, p, 512));
}

/** Takes the next proposal id (ids start at 1 and are never reused). */
export function allocateProposalId(store: KVStore): bigint {
  const b = store.get(GOV_NEXT_ID_KEY);
  const id = b ? decode(u64, b) : 1n;
  store.set(GOV_NEXT_ID_KEY, encode(u64, id + 1n));
  return id;
}

/** Every proposal, in id order. */
export function* iterateProposals(store: KVReader, fromId = 1n): IterableIterator<{ id: bigint; proposal: Proposal }> {
  for (const [k, v] of store.iterate(proposalKey(fromId), prefixEnd(GOV_PROPOSAL_PREFIX))) {
    yield { id: readU64(k, k.length - 8), proposal: decode(proposalCodec, v) };
  }
}

export function getVote(store: KVReader, id: bigint, voter: Bytes): Vote | undefined {
  const b = store.get(voteKey(id, voter));
  return b ? decode(voteCodec, b) : undefined;
}

export function setVote(store: KVStore, id: bigint, voter: Bytes, v: Vote): void {
  store.set(voteKey(id, voter), encode(voteCodec, v, 32));
}

/** The votes of a proposal, in voter address order. */
export function* iterateVotes(store: KVReader, id: bigint): IterableIterator<{ voter: Bytes; vote: Vote }> {
  const prefix = votePrefix(id);
  for (const [k, v] of store.iterate(prefix, prefixEnd(prefix))) {
    yield { voter: k.subarray(prefix.length), vote: decode(voteCodec, v) };
  }
}

/** Registers that proposal `id`'s voting ends at `height` (what endBlock looks up). */
export function indexEnd(store: KVStore, height: bigint, id: bigint): void {
  store.set(endKey(height, id), MARK);
}

/** Ids of the proposals whose voting ends at `height`, in id order. */
export function proposalsEndingAt(store: KVReader, height: bigint): bigint[] {
  const prefix = endPrefix(height);
  const out: bigint[] = [];
  for (const [k] of store.iterate(prefix, prefixEnd(prefix))) out.push(readU64(k, prefix.length));
  return out;
}

function readU64(b: Bytes, at: number): bigint {
  return new DataView(b.buffer, b.byteOffset + at, 8).getBigUint64(0);
}

// ---------------------------------------------------------------------------------------------
// Tally

/**
 * The tally of proposal `id` with every voter's voting power as of `store` now. Weights are read
 * at tally time, not when the vote was cast: no per-voter snapshot is needed, and a voter who
 * unbonds after voting stops counting. The trade-off: stake bonded after a vote (or moved
 * between voters) counts with the vote its holder cast, so power may be rearranged during the
 * voting period; see ARCHITECTURE.md.
 */
export function computeTally(store: KVReader, staking: StakingVotes, id: bigint): { tally: Tally; weights: Array<{ voter: Bytes; vote: Vote; weight: bigint }> } {
  const t = { yes: 0n, no: 0n, abstain: 0n, veto: 0n, totalBonded: staking.totalBonded(store) };
  const weights: Array<{ voter: Bytes; vote: Vote; weight: bigint }> = [];
  for (const { voter, vote } of iterateVotes(store, id)) {
    const w = staking.votingPowerOf(store, voter);
    t[vote.option] += w;
    weights.push({ voter: Uint8Array.from(voter), vote, weight: w });
  }
  return { tally: t, weights };
}

// ---------------------------------------------------------------------------------------------
// Closing a proposal

/** Tallies, executes (if passed), settles the deposit and records the outcome of proposal `id`. */
export function closeProposal(ctx: Context, deps: GovDeps, id: bigint): void {
  const p = getProposal(ctx.store, id);
  if (!p) throw new InvariantError(`gov: proposal ${id} is in the end index but not in state`);
  if (p.status !== 'voting') throw new InvariantError(`gov: proposal ${id} closed twice`);
  const params = getParams(ctx.store, 'gov', govParams);
  const { tally, weights } = computeTally(ctx.store, deps.staking, id);
  for (const w of weights) setVote(ctx.store, id, w.voter, { option: w.vote.option, weight: w.weight });
  const outcome = tallyOutcome(tally, params);
  let next: Proposal;
  if (outcome.passed) {
    const r = executeIsolated(ctx, deps, id, p.content);
    next = r.ok
      ? { ...p, status: 'passed', reason: 'executed', tally }
      : { ...p, status: 'failed', reason: 'execution-failed', error: r.error, tally };
  } else {
    next = { ...p, status: 'rejected', reason: outcome.reason, tally };
  }
  // A failed execution still passed the vote: its deposit is refunded like any passed one's.
  if (outcome.burnDeposit) burn(ctx, GOV_ESCROW_ADDRESS, p.deposit);
  else transfer(ctx, GOV_ESCROW_ADDRESS, p.proposer, p.deposit);
  next = { ...next, depositState: outcome.burnDeposit ? 'burned' : 'refunded' };
  setProposal(ctx.store, id, next);
  ctx.emit('gov.tally', () => ({
    id,
    status: next.status,
    reason: next.reason,
    yes: tally.yes,
    no: tally.no,
    abstain: tally.abstain,
    veto: tally.veto,
    totalBonded: tally.totalBonded,
  }));
  ctx.emit('gov.deposit', () => ({ id, outcome: next.depositState, amount: p.deposit, proposer: encodeAddress(p.proposer) }));
  if (next.status === 'failed') ctx.emit('gov.failed', () => ({ id, error: next.error }));
}

/**
 * Runs a passed proposal's content in a child layer over the block's state, and applies what it
 * wrote (and its events) only if it completed: a failure leaves nothing of it behind.
 */
export function executeIsolated(ctx: Context, deps: GovDeps, id: bigint, content: ProposalContent): { ok: true } | { ok: false; error: string } {
  const child = new Overlay(ctx.store);
  const cctx = new Context(ctx.block, child);
  try {
    executeContent(cctx, deps, id, content);
  } catch (e) {
    return { ok: false, error: failureMessage(e) };
  }
  for (const [k, v] of child.changes) {
    if (v === null) ctx.store.delete(k);
    else ctx.store.set(k, v);
  }
  ctx.events.push(...cctx.events);
  ctx.artifacts.push(...cctx.artifacts);
  ctx.emit('gov.execute', () => ({ id, kind: content.type }));
  return { ok: true };
}

function failureMessage(e: unknown): string {
  // Messages of our own errors are deterministic; anything else is a bug, named only by class.
  const m =
    e instanceof ChainError ? `${e.codespace}.${e.kind}: ${e.message}` : e instanceof GroundworkError ? `${e.code}: ${e.message}` : `internal error (${e instanceof Error ? e.name : typeof e})`;
  return m.length > MAX_ERROR_CHARS ? `${m.slice(0, MAX_ERROR_CHARS - 3)}...` : m;
}

/** Applies a proposal's content. Throws on anything that cannot be done (the caller isolates it). */
export function executeContent(ctx: Context, deps: GovDeps, id: bigint, content: ProposalContent): void {
  switch (content.type) {
    case 'params': {
      const { module, changes } = content.value;
      const def = paramsDefOf(deps, module);
      if (!def) throw GovErrors.UNKNOWN_MODULE(`no module "${module}" has parameters`);
      setParams(ctx.store, module, def, decode(def.codec, changes));
      ctx.emit('gov.params', () => ({ id, module }));
      return;
    }
    case 'maker-approve': {
      if (!deps.devices) throw GovErrors.NOT_SUPPORTED('maker proposals need the devices module');
      deps.devices.approveMaker(ctx, { name: content.value.name, pubKey: content.value.pubKey });
      return;
    }
    case 'maker-revoke': {
      if (!deps.devices) throw GovErrors.NOT_SUPPORTED('maker proposals need the devices module');
      deps.devices.revokeMaker(ctx, content.value.name);
      return;
    }
    case 'treasury-spend': {
      const { to, amount } = content.value;
      const have = treasuryBalance(ctx.store);
      if (have < amount) {
        throw GovErrors.INSUFFICIENT_TREASURY(`the treasury holds ${have}ugw, the proposal spends ${amount}ugw`);
      }
      transfer(ctx, TREASURY_ADDRESS, to, amount);
      ctx.emit('gov.spend', () => ({ id, recipient: encodeAddress(to), amount }));
      return;
    }
    case 'slash-reverse': {
      if (!deps.penalties) throw GovErrors.NOT_SUPPORTED('slash reversals need the penalties module');
      deps.penalties.reverseSlash(ctx, content.value.id);
      return;
    }
    case 'text':
      return;
  }
}
