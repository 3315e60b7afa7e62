import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { nextWake, settle, type SettleLease } from './settlement.js';

const L = (id: number, price: bigint, end: bigint, endReason: SettleLease['endReason'] = 'expired'): SettleLease => ({ id: BigInt(id), price, end, endReason });

test('settlement: table of cases (paid per lease, closes, escrow left)', () => {
  const rows: Array<{ name: string; leases: SettleLease[]; escrow: bigint; from: bigint; to: bigint; paid: bigint[]; closes: string[]; left: bigint; settledTo: bigint }> = [
    { name: 'one lease, plenty of escrow', leases: [L(1, 10n, 1000n)], escrow: 1000n, from: 5n, to: 15n, paid: [100n], closes: [], left: 900n, settledTo: 15n },
    { name: 'nothing elapsed', leases: [L(1, 10n, 1000n)], escrow: 1000n, from: 5n, to: 5n, paid: [0n], closes: [], left: 1000n, settledTo: 5n },
    { name: 'two leases share the escrow', leases: [L(1, 10n, 1000n), L(2, 5n, 1000n)], escrow: 1000n, from: 0n, to: 10n, paid: [100n, 50n], closes: [], left: 850n, settledTo: 10n },
    { name: 'runs dry mid-way: last fully paid block', leases: [L(1, 10n, 1000n)], escrow: 95n, from: 0n, to: 20n, paid: [90n], closes: ['1@9 insufficient-funds'], left: 5n, settledTo: 9n },
    { name: 'dry for both leases at once', leases: [L(1, 10n, 1000n), L(2, 20n, 1000n)], escrow: 100n, from: 0n, to: 20n, paid: [30n, 60n], closes: ['1@3 insufficient-funds', '2@3 insufficient-funds'], left: 10n, settledTo: 3n },
    { name: 'exactly enough to `to`, not one more block: closes at `to`', leases: [L(1, 10n, 1000n)], escrow: 100n, from: 0n, to: 10n, paid: [100n], closes: ['1@10 insufficient-funds'], left: 0n, settledTo: 10n },
    { name: 'expires before `to`', leases: [L(1, 10n, 7n)], escrow: 1000n, from: 0n, to: 20n, paid: [70n], closes: ['1@7 expired'], left: 930n, settledTo: 7n },
    { name: 'one expires, the other runs on', leases: [L(1, 10n, 5n), L(2, 1n, 100n)], escrow: 1000n, from: 0n, to: 10n, paid: [50n, 10n], closes: ['1@5 expired'], left: 940n, settledTo: 10n },
    { name: 'after one expires the cheaper rest is affordable longer', leases: [L(1, 10n, 2n), L(2, 10n, 100n)], escrow: 60n, from: 0n, to: 10n, paid: [20n, 40n], closes: ['1@2 expired', '2@4 insufficient-funds'], left: 0n, settledTo: 4n },
    { name: 'device gone at 3', leases: [L(1, 10n, 3n, 'device-gone')], escrow: 1000n, from: 0n, to: 10n, paid: [30n], closes: ['1@3 device-gone'], left: 970n, settledTo: 3n },
    { name: 'already past its end', leases: [L(1, 10n, 4n)], escrow: 1000n, from: 5n, to: 10n, paid: [0n], closes: ['1@5 expired'], left: 1000n, settledTo: 5n },
    { name: 'empty', leases: [], escrow: 7n, from: 0n, to: 10n, paid: [], closes: [], left: 7n, settledTo: 0n },
  ];
  for (const r of rows) {
    const s = settle(r.leases, r.escrow, r.from, r.to);
    assert.deepEqual(s.paid, r.paid, r.name);
    assert.deepEqual(
      s.closes.map((c) => `${c.id}@${c.height} ${c.reason}`),
      r.closes,
      r.name,
    );
    assert.equal(s.escrowLeft, r.left, r.name);
    assert.equal(s.settledTo, r.settledTo, r.name);
  }
});

test('settlement: nextWake is a lease end or the last block the escrow pays', () => {
  assert.equal(nextWake([L(1, 10n, 1000n)], 95n, 0n), 9n);
  assert.equal(nextWake([L(1, 10n, 5n)], 1000n, 0n), 5n);
  assert.equal(nextWake([], 1000n, 0n), undefined);
});

const arbLeases = fc.array(
  fc.record({ price: fc.bigInt(1n, 50n), end: fc.bigInt(1n, 60n), gone: fc.boolean() }),
  { minLength: 0, maxLength: 5 },
);

test('settlement property: conservation (escrow in = paid + left), never negative, and any split of the interval gives the same result', () => {
  fc.assert(
    fc.property(arbLeases, fc.bigInt(0n, 3000n), fc.bigInt(0n, 80n), fc.array(fc.bigInt(0n, 80n), { maxLength: 4 }), (raw, escrow, to, cuts) => {
      const leases = raw.map((r, i) => L(i + 1, r.price, r.end, r.gone ? 'device-gone' : 'expired'));
      const whole = settle(leases, escrow, 0n, to);
      const paidSum = whole.paid.reduce((a, b) => a + b, 0n);
      assert.equal(paidSum + whole.escrowLeft, escrow);
      assert.ok(whole.escrowLeft >= 0n);
      for (const p of whole.paid) assert.ok(p >= 0n);
      // The same interval in pieces (each settlement from where the last one left the leases).
      const points = [...cuts.filter((c) => c <= to).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)), to];
      let active = leases;
      let left = escrow;
      let from = 0n;
      const paid = new Map<bigint, bigint>();
      const closes: string[] = [];
      for (const p of points) {
        if (active.length === 0 || p < from) continue;
        const s = settle(active, left, from, p);
        s.paid.forEach((v, i) => paid.set((active[i] as SettleLease).id, (paid.get((active[i] as SettleLease).id) ?? 0n) + v));
        for (const c of s.closes) closes.push(`${c.id}@${c.height} ${c.reason}`);
        left = s.escrowLeft;
        from = s.settledTo;
        active = s.active;
      }
      assert.equal(left, whole.escrowLeft);
      assert.deepEqual(
        leases.map((l) => paid.get(l.id) ?? 0n),
        whole.paid,
      );
      assert.deepEqual(closes.sort(), whole.closes.map((c) => `${c.id}@${c.height} ${c.reason}`).sort());
    }),
    { numRuns: 2000 },
  );
});
