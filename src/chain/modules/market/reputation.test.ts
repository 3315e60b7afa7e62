import { test } from 'node:test';
import assert from 'node:assert/strict';
import { REP_ONE, START_ALPHA, START_BETA, recordOutcome, scoreBps } from './reputation.js';

test('reputation: table (decay, success, failure, recovery)', () => {
  let r = { alpha: START_ALPHA, beta: START_BETA };
  assert.equal(scoreBps(r.alpha, r.beta), 10_000n);
  r = recordOutcome(r.alpha, r.beta, false, 9_990n);
  // α = 0.999, β = 1: score = 0.999 / 1.999 = 49.97%
  assert.deepEqual(r, { alpha: 999_000n, beta: REP_ONE });
  assert.equal(scoreBps(r.alpha, r.beta), 4_997n);
  for (let i = 0; i < 9; i++) r = recordOutcome(r.alpha, r.beta, true, 9_990n);
  assert.equal(scoreBps(r.alpha, r.beta), 9_094n); // ≈ 10 / 11, the old failure decayed a little
  // With strong decay, old failures fade fast.
  let q = { alpha: 0n, beta: 10n * REP_ONE };
  for (let i = 0; i < 20; i++) q = recordOutcome(q.alpha, q.beta, true, 5_000n);
  assert.ok(scoreBps(q.alpha, q.beta) > 9_990n);
  assert.equal(scoreBps(0n, 0n), 10_000n);
});
