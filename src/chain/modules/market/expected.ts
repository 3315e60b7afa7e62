/** What market needs from other modules, as narrow interfaces (wired in src/chain/index.ts). */
import type { Bytes } from '../../../core/bytes.js';
import type { KVReader } from '../../../state/overlay.js';
import type { Context } from '../../context.js';
import type { Device } from '../devices/types.js';

export interface MarketDeps {
  devices: {
    get(store: KVReader, id: Bytes): Device | undefined;
    /** The owner's devices in id order (at most `limit`). */
    of(store: KVReader, owner: Bytes, limit: number): Device[];
  };
  stake: {
    /** `who` as a staking operator: the ugw bonded to it (its self-bond and delegations) and whether it is jailed; undefined if it is none. */
    operator(store: KVReader, who: Bytes): { tokens: bigint; jailed: boolean } | undefined;
  };
  bank: {
    transfer(ctx: Context, from: Bytes, to: Bytes, amount: bigint): void;
    /** One debit of `from`, one credit per recipient. */
    transferMany(ctx: Context, from: Bytes, outs: readonly { to: Bytes; amount: bigint }[]): void;
  };
  credits: {
    escrowCredits(ctx: Context, from: Bytes, amount: bigint, reason: string): void;
    releaseCredits(ctx: Context, to: Bytes, amount: bigint): void;
    burnEscrowedCredits(ctx: Context, amount: bigint, reason: string): void;
  };
  rewards: {
    /** Pays `amount` from `payer`: the provider share to `to`, the take to treasury and burn. Returns the provider share. */
    payWithTake(ctx: Context, payer: Bytes, to: Bytes, amount: bigint): { provider: bigint };
    /** payWithTake for several payments at once (same split per payment, bank moves batched); the provider shares. */
    payWithTakeMany(ctx: Context, payer: Bytes, to: Bytes, amounts: readonly bigint[]): bigint[];
    /** Records delivered work (DC-paid leases) for the epoch's reward pool. */
    recordWork(ctx: Context, c: { recipient: Bytes; pool: number; units: bigint; reason: string; device?: Bytes }): void;
  };
}
