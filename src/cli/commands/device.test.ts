import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatBytes, parseBandwidth, parseBytes } from './device.js';

test('device CLI: human sizes and bandwidths', () => {
  const sizes: Array<[string, bigint]> = [
    ['4TiB', 4n << 40n],
    ['16GiB', 16n << 30n],
    ['16 gib', 16n << 30n],
    ['500GB', 500_000_000_000n],
    ['1.5TiB', 3n << 39n],
    ['1048576', 1048576n],
    ['0', 0n],
    ['2EiB', 2n << 60n],
  ];
  for (const [s, v] of sizes) assert.equal(parseBytes(s), v, s);
  for (const s of ['', '4XB', '-1GiB', '1.5', '0.1B', 'GiB', '4 TiB extra']) assert.throws(() => parseBytes(s, '--capacity'), /--capacity/, s);
  const rates: Array<[string, number]> = [
    ['1000', 1000],
    ['100Mbps', 100],
    ['2.5Gbps', 2500],
    ['10gbit', 10_000],
    ['1Tbps', 1_000_000],
  ];
  for (const [s, v] of rates) assert.equal(parseBandwidth(s), v, s);
  for (const s of ['fast', '1.5', '0.5Mbps', '5000000Tbps']) assert.throws(() => parseBandwidth(s), /--bandwidth/, s);
  assert.equal(formatBytes(0n), '0 B');
  assert.equal(formatBytes(4n << 40n), '4 TiB');
  assert.equal(formatBytes(3n << 39n), '1.5 TiB');
  assert.equal(formatBytes(1023n), '1023 B');
  assert.equal(formatBytes((1n << 30n) + 1n), '1 GiB');
});
