/**
 * Beta reputation (Storj's audit reputation, Jøsang's beta model) in fixed point.
 *
 *   after an outcome s ∈ {0, 1}:  α ← λ·α + s,  β ← λ·β + (1 − s)
 *   score = α / (α + β)
 *
 * α and β are fixed point with REP_ONE = 1.0 (each outcome weighs 1); λ = repDecayBps / 10,000,
 * so old evidence fades and a provider can recover. λ·α rounds toward zero (the decay never
 * adds evidence). A new provider starts at α = 1, β = 0 (score 100%): the market does not punish
 * newcomers by score; it limits what they win until they are vetted (vettingSuccesses).
 */
import { BPS } from './params.js';

export const REP_ONE = 1_000_000n;
export const START_ALPHA = REP_ONE;
export const START_BETA = 0n;

export function recordOutcome(alpha: bigint, beta: bigint, success: boolean, decayBps: bigint): { alpha: bigint; beta: bigint } {
  return {
    alpha: (alpha * decayBps) / BPS + (success ? REP_ONE : 0n),
    beta: (beta * decayBps) / BPS + (success ? 0n : REP_ONE),
  };
}

/** The score in basis points, rounded down (no evidence at all: 10,000). */
export function scoreBps(alpha: bigint, beta: bigint): bigint {
  const total = alpha + beta;
  return total === 0n ? BPS : (alpha * BPS) / total;
}
