/**
 * market parameters (governance-changeable). Defaults follow Akash's market (20 bids per order,
 * a 0.5-token bid deposit) and Storj's vetting and beta reputation (λ = 0.999 per outcome).
 */
import { struct, u64, u128, type Infer } from '../../../core/codec.js';
import { InvalidInputError } from '../../../core/errors.js';
import type { ParamsDef } from '../../module.js';

export const BPS = 10_000n;

export const marketParamsCodec = struct('MarketParams', {
  /** ugw a provider locks with each bid (returned when the bid loses or its lease closes). */
  bidDeposit: u128,
  /** Bids an order holds at most; a new bid then must undercut the worst (which it evicts). */
  maxBidsPerOrder: u64,
  minBidWindow: u64,
  maxBidWindow: u64,
  /** Leases one order may ask for (distinct providers). */
  maxReplicas: u64,
  /** ugw the provider must have bonded (staking) to bid. */
  minProviderStake: u128,
  /** Reputation decay per recorded outcome, basis points (9990: λ = 0.999). */
  repDecayBps: u64,
  /** Successful outcomes after which a provider is vetted. */
  vettingSuccesses: u64,
  /** Share of orders, basis points, an unvetted provider may win over a vetted one's dearer bid. */
  vettingShareBps: u64,
  /** Longest lease duration, blocks. */
  maxLeaseBlocks: u64,
  /**
   * Work one block's end does on due orders, in leases (an order counts its active leases, or
   * its bids while matching, at least 1); orders beyond it wait for the next block. Settlement
   * does not depend on when it runs, so deferring changes no amount or close height, and no
   * block stalls the chain however many leases fall due at once.
   */
  maxLeasesPerBlock: u64,
  /**
   * Blocks after an order's bid window closes during which its losing bids stay bound as
   * standbys: the customer may take one to replace a lease (a provider that refused its upload
   * or left), and their providers cannot withdraw their deposits until then (or until the order
   * closes). A put of a large file needs its standbys for as long as its upload runs.
   */
  standbyBlocks: u64,
});
export type MarketParams = Infer<typeof marketParamsCodec>;

export const marketParams: ParamsDef<MarketParams> = {
  codec: marketParamsCodec,
  defaults: {
    bidDeposit: 500_000n,
    maxBidsPerOrder: 20n,
    minBidWindow: 2n,
    maxBidWindow: 600n,
    maxReplicas: 32n,
    minProviderStake: 100_000_000n,
    repDecayBps: 9_990n,
    vettingSuccesses: 10n,
    vettingShareBps: 1_000n,
    maxLeaseBlocks: 10_000_000n,
    maxLeasesPerBlock: 20_000n,
    standbyBlocks: 600n,
  },
  validate(p) {
    const bad = (m: string): never => {
      throw new InvalidInputError('INVALID_PARAM', `market.${m}`);
    };
    if (p.maxBidsPerOrder < 1n || p.maxBidsPerOrder > 100n) bad('maxBidsPerOrder must be 1-100');
    if (p.minBidWindow < 1n || p.minBidWindow > p.maxBidWindow) bad('minBidWindow must be at least 1 and at most maxBidWindow');
    if (p.maxBidWindow > 1_000_000n) bad('maxBidWindow must be at most 1,000,000 blocks');
    if (p.maxReplicas < 1n || p.maxReplicas > 1_000n) bad('maxReplicas must be 1-1000');
    if (p.repDecayBps < 1n || p.repDecayBps > BPS) bad('repDecayBps must be 1-10000');
    if (p.vettingShareBps > BPS) bad('vettingShareBps must be at most 10000');
    if (p.maxLeaseBlocks < 1n) bad('maxLeaseBlocks must be at least 1');
    if (p.maxLeasesPerBlock < 1n) bad('maxLeasesPerBlock must be at least 1');
    if (p.standbyBlocks > 1_000_000n) bad('standbyBlocks must be at most 1,000,000 blocks');
  },
};
