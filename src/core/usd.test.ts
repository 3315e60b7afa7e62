import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatDc, formatUsd, parseUsd } from './usd.js';

test('usd: parses dollars exactly into micro-USD', () => {
  const cases: Array<[string, bigint]> = [
    ['0.42', 420_000n],
    ['$0.42', 420_000n],
    [' $ 0.42 ', 420_000n],
    ['0.42usd', 420_000n],
    ['1.5 USD', 1_500_000n],
    ['$.5', 500_000n],
    ['1', 1_000_000n],
    ['0.000001', 1n],
    ['0.00001', 10n],
    ['123456.789012', 123_456_789_012n],
    ['0', 0n],
    ['0.1', 100_000n], // 0.1 has no exact float; the string math is exact
    ['0.3', 300_000n],
  ];
  for (const [s, want] of cases) assert.equal(parseUsd(s), want, s);
});

test('usd: refuses what it cannot represent, saying why', () => {
  const cases: Array<[string, RegExp]> = [
    ['0.0000001', /more than 6 decimals/],
    ['abc', /not a USD amount/],
    ['-1', /not a USD amount/],
    ['1e3', /not a USD amount/],
    ['1.', /not a USD amount/],
    ['', /not a USD amount/],
    ['99999999999999999999', /too large/],
  ];
  for (const [s, re] of cases) assert.throws(() => parseUsd(s), re, s);
});

test('usd: formats micro-USD and DC for people', () => {
  assert.equal(formatUsd(420_000n), '$0.42');
  assert.equal(formatUsd(10n), '$0.00001');
  assert.equal(formatUsd(0n), '$0.00');
  assert.equal(formatUsd(1_234_567_800_000n), '$1,234,567.80');
  assert.equal(formatUsd(1_000_001n), '$1.000001');
  assert.equal(formatDc(0n), '0 DC');
  assert.equal(formatDc(4_000_000n), '4,000,000 DC');
  assert.equal(formatDc(123n), '123 DC');
});

test('property: parseUsd(formatUsd(x)) == x', () => {
  fc.assert(fc.property(fc.bigInt(0n, (1n << 64n) - 1n), (x) => assert.equal(parseUsd(formatUsd(x).replaceAll(',', '')), x)));
});
