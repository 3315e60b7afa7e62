/**
 * What gov needs from other modules, as narrow interfaces. The lead wires the real keepers in
 * src/chain/index.ts; unit tests pass small doubles.
 */
import type { Bytes } from '../../../core/bytes.js';
import type { KVReader } from '../../../state/overlay.js';
import type { Context } from '../../context.js';
import type { ParamsDef } from '../../module.js';

/** Voting power (staking keeper). */
export interface StakingVotes {
  /** Tokens the address has bonded, over all its delegations (ugw). */
  votingPowerOf(store: KVReader, delegator: Bytes): bigint;
  /** All bonded tokens (ugw): the quorum's denominator. */
  totalBonded(store: KVReader): bigint;
}

/** The maker registry (devices keeper). Both throw a ChainError when the change is not possible. */
export interface MakerRegistry {
  approveMaker(ctx: Context, m: { name: string; pubKey: Bytes }): void;
  revokeMaker(ctx: Context, name: string): void;
}

/** Reversible penalties (penalties keeper). Throws a ChainError when the slash is unknown or final. */
export interface SlashReversal {
  reverseSlash(ctx: Context, id: bigint): void;
}

export interface GovDeps {
  /**
   * Every module's parameter definition by module name (gov's own is added by gov). Read when a
   * proposal is submitted or executed, not when the module is built, so the caller may fill the
   * map after building all modules.
   */
  readonly params: ReadonlyMap<string, ParamsDef<unknown>>;
  readonly staking: StakingVotes;
  /** Absent: maker proposals are refused (NOT_SUPPORTED). */
  readonly devices?: MakerRegistry | undefined;
  /** Absent: slash-reverse proposals are refused (NOT_SUPPORTED). */
  readonly penalties?: SlashReversal | undefined;
}
