import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatIn, parseAttributes, parseBps, parseDenomAmount, parseId, parsePrice, parseRegion, parseSpec, specText } from './market.js';

test('market CLI: resource flags become the order spec of the kind, and only of that kind', () => {
  assert.deepEqual(parseSpec({ kind: 'storage', size: '10GiB', duration: '1000' }), { type: 'storage', value: { bytes: 10n << 30n, durationBlocks: 1000n } });
  assert.deepEqual(parseSpec({ kind: 'coverage', volume: '5GiB', duration: '20' }), { type: 'coverage', value: { volumeBytes: 5n << 30n, durationBlocks: 20n } });
  assert.deepEqual(parseSpec({ kind: 'compute', cpu: '4', memory: '4GiB', duration: '7' }), {
    type: 'compute',
    value: { cpuCores: 4, memoryBytes: 4n << 30n, gpuModel: '', gpuCount: 0, durationBlocks: 7n },
  });
  assert.deepEqual(parseSpec({ kind: 'compute', cpu: '8', memory: '64GiB', gpuModel: 'a100', duration: '7' }).value, { cpuCores: 8, memoryBytes: 64n << 30n, gpuModel: 'a100', gpuCount: 1, durationBlocks: 7n });
  const bad: Array<[Parameters<typeof parseSpec>[0], RegExp]> = [
    [{ size: '1GiB', duration: '1' }, /--kind must be one of storage, compute, coverage/],
    [{ kind: 'disk', size: '1GiB', duration: '1' }, /got "disk"/],
    [{ kind: 'storage', duration: '1' }, /needs --size/],
    [{ kind: 'storage', size: '1GiB' }, /--duration <blocks> is required/],
    [{ kind: 'storage', size: '1GiB', duration: '0' }, /--duration must be a whole number of blocks ≥ 1/],
    [{ kind: 'storage', size: '1GiB', duration: '1.5' }, /--duration/],
    [{ kind: 'storage', size: '0', duration: '1' }, /--size must be more than 0 bytes/],
    [{ kind: 'storage', size: '1XB', duration: '1' }, /--size/],
    [{ kind: 'storage', size: '1GiB', cpu: '2', duration: '1' }, /--cpu applies to compute orders, not storage/],
    [{ kind: 'compute', cpu: '2', duration: '1' }, /needs --memory/],
    [{ kind: 'compute', cpu: '0', memory: '1GiB', duration: '1' }, /--cpu must be an integer ≥ 1/],
    [{ kind: 'compute', cpu: '2', memory: '1GiB', gpuCount: '2', duration: '1' }, /--gpu-count needs --gpu-model/],
    [{ kind: 'coverage', volume: '1GiB', size: '1GiB', duration: '1' }, /--size applies to storage orders/],
  ];
  for (const [flags, re] of bad) assert.throws(() => parseSpec(flags), re, JSON.stringify(flags));
});

test('market CLI: prices in ugw or whole DC, never zero or negative', () => {
  assert.equal(parsePrice('0.01gw', 'ugw', '--max-price'), 10_000n);
  assert.equal(parsePrice('10000ugw', 'ugw', '--max-price'), 10_000n);
  assert.equal(parsePrice('5', 'dc', '--max-price'), 5n);
  assert.equal(parsePrice('5dc', 'dc', '--max-price'), 5n);
  for (const [s, d, re] of [
    ['0gw', 'ugw', /greater than zero/],
    ['0', 'dc', /greater than zero/],
    ['0.000ugw', 'ugw', /greater than zero/],
    ['-1gw', 'ugw', /greater than zero/],
    ['-5', 'dc', /greater than zero/],
    ['5', 'ugw', /has no unit/],
    ['0.5gw', 'dc', /a Data Credit amount/],
    ['1.5', 'dc', /not a DC amount/],
    ['1.0000001gw', 'ugw', /more than 6 decimals/],
  ] as const) {
    assert.throws(() => parsePrice(s, d, '--price'), (e: Error & { code?: string }) => re.test(e.message) && /--price/.test(e.message), `${s} ${d}`);
  }
  assert.throws(() => parsePrice('0gw', 'ugw', '--price'), { code: 'INVALID_PRICE' });
  assert.equal(parseDenomAmount('0', 'dc', '--deposit', false), 0n);
  assert.equal(formatIn(1_500_000n, 'ugw'), '1.5 GW');
  assert.equal(formatIn(1500n, 'dc'), '1,500 DC');
});

test('market CLI: reputation, attributes, regions, ids', () => {
  assert.equal(parseBps('90%', '--min-reputation'), 9000);
  assert.equal(parseBps('99.5%', '--min-reputation'), 9950);
  assert.equal(parseBps('100%', '--min-reputation'), 10_000);
  assert.equal(parseBps('9000bps', '--min-reputation'), 9000);
  for (const s of ['90', '101%', '0.9', '12.345%', 'high']) assert.throws(() => parseBps(s, '--min-reputation'), /--min-reputation/, s);
  assert.deepEqual(parseAttributes(['tier=datacenter', 'region = eu-west'], 16), [
    { key: 'tier', value: 'datacenter' },
    { key: 'region', value: 'eu-west' },
  ]);
  assert.throws(() => parseAttributes(['tier'], 16), /key=value/);
  assert.throws(() => parseAttributes(['a=1', 'a=2'], 16), /given twice/);
  assert.throws(() => parseAttributes(['a=1', 'b=2'], 1), /at most 1/);
  assert.deepEqual(parseRegion(['851FB467FFFFFFF', '851fb467fffffff']), ['851fb467fffffff']);
  assert.throws(() => parseRegion(['8a1fb4662557ffe']), /not a valid H3 cell/);
  assert.equal(parseId('7', 'order id'), 7n);
  for (const s of ['0', '-1', 'x', '18446744073709551616']) assert.throws(() => parseId(s, 'order id'), /order id must be a positive integer/, s);
  assert.equal(specText({ type: 'storage', value: { bytes: 10n << 30n, durationBlocks: 100n } }), 'storage 10 GiB for 100 blocks');
});
