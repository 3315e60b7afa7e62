/** What storage needs from other modules, as narrow interfaces (wired in src/chain/index.ts). */
import type { Bytes } from '../../../core/bytes.js';
import type { KVReader } from '../../../state/overlay.js';
import type { Context } from '../../context.js';
import type { LeaseRecord, OrderRecord } from '../market/types.js';
import type { EvidenceVerdict } from '../penalties/expected.js';

export interface StorageDeps {
  market: {
    getLease(store: KVReader, id: bigint): LeaseRecord | undefined;
    getOrder(store: KVReader, id: bigint): OrderRecord | undefined;
    /** Closes an active lease on the chain's authority (settled first). */
    closeLease(ctx: Context, id: bigint, reason: 'failed-verification' | 'customer'): void;
    /** From now on the lease's earnings are held until released or forfeited. */
    gateLease(ctx: Context, id: bigint): void;
    /** Verified (or ended normally): the held earnings become withdrawable. */
    releaseLease(ctx: Context, id: bigint): bigint;
    /** Failed verification: the held earnings go back to the customer. */
    forfeitLease(ctx: Context, id: bigint): bigint;
  };
  bank: {
    transfer(ctx: Context, from: Bytes, to: Bytes, amount: bigint): void;
  };
  penalties: {
    /** An operational fault (free faults, then penalties, then jail). */
    reportFault(ctx: Context, device: Bytes, reason: string, evidence: Bytes): unknown;
    /** Proven fraud: a slash of the owner's operator pool, the device jailed. */
    punishFraud(ctx: Context, reporter: Bytes | null, kind: string, verdict: EvidenceVerdict, evidence: Bytes): unknown;
  };
  rewards: {
    /** Verified work for the epoch's storage pool; false when the device may not earn (jailed...). */
    recordWork(ctx: Context, c: { recipient: Bytes; pool: number; units: bigint; reason: string; device: Bytes }): boolean;
  };
}
