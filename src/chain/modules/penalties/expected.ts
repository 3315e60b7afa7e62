/**
 * What penalties needs from other modules, as narrow interfaces. keeper.ts binds them to the
 * real staking, devices and bank keepers; the evidence verifiers come from the verticals and
 * are given to the module factory (src/chain/index.ts).
 */
import type { Bytes } from '../../../core/bytes.js';
import type { KVReader } from '../../../state/overlay.js';
import type { Context } from '../../context.js';

/** The operator stake a penalty takes from (staking keeper). */
export interface PenaltiesStaking {
  /** The operator's pool tokens (ugw, all its delegators), 0 for no operator. */
  bondedTokensOf(store: KVReader, operator: Bytes): bigint;
  /** Whether the operator's pool still has delegators (shares) to give restored tokens to. */
  hasDelegators(store: KVReader, operator: Bytes): boolean;
  /** Takes up to `amount` from the pool, pro rata over its delegators, into `to`; returns what was taken. */
  slash(ctx: Context, operator: Bytes, amount: bigint, to: Bytes): bigint;
  /** Puts `amount` held by `from` back into the pool (throws when the pool has no delegators). */
  restore(ctx: Context, operator: Bytes, amount: bigint, from: Bytes): void;
}

/** The device registry (devices keeper). */
export interface PenaltiesDevices {
  getDevice(store: KVReader, id: Bytes): { readonly owner: Bytes; readonly status: 'active' | 'warned' | 'jailed' | 'retired' } | undefined;
  /** Throws a ChainError for a transition the devices module refuses (see its status table). */
  setDeviceStatus(ctx: Context, id: Bytes, status: 'active' | 'warned' | 'jailed', reason: string): void;
}

/** Token moves out of the slash escrow (bank keeper). */
export interface PenaltiesBank {
  burn(ctx: Context, from: Bytes, amount: bigint): void;
  transfer(ctx: Context, from: Bytes, to: Bytes, amount: bigint): void;
}

/** What a verifier found: the device that committed the fraud, and why. */
export interface EvidenceVerdict {
  readonly device: Bytes;
  /** A reason code (1-32 characters of a-z, 0-9, "_" or "-"), e.g. "double-signed-report". */
  readonly reason: string;
  /**
   * What the offence is, independent of how the evidence encodes it (e.g. device and sequence
   * number of a double-signed report): the same offence is punished once, even when its
   * evidence is presented in another order or with other witnesses. Absent: the evidence hash.
   */
  readonly offence?: Bytes;
}

/**
 * Checks fraud evidence of one kind. Pure: reads state, never writes. Returns the verdict, or a
 * string saying why the evidence proves nothing (shown to the submitter as is).
 */
export type EvidenceVerifier = (store: KVReader, evidence: Bytes, chainId: string) => EvidenceVerdict | string;

/** Evidence verifiers by kind, registered by the verticals. */
export type EvidenceVerifiers = ReadonlyMap<string, EvidenceVerifier>;
