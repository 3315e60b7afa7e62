import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toHex } from '../../core/bytes.js';
import { testKey } from '../../testkit/index.js';
import type { Validator } from '../../chain/validators.js';
import { validatorUpdates } from './abci-app.js';

const val = (label: string, power: bigint): Validator => ({ name: label, pubKey: testKey(label).publicKey, power, rewardAddress: testKey(label).address });

test('validator updates: new and changed keys with their power, removed keys with power 0, sorted by key', () => {
  const before = [val('a', 10n), val('b', 10n), val('c', 5n)];
  const after = [val('a', 10n), val('b', 7n), val('d', 3n)];
  const u = validatorUpdates(before, after).map((x) => [toHex(x.pubKey.ed25519 ?? new Uint8Array(0)), x.power]);
  const want = [
    [toHex(testKey('b').publicKey), 7n],
    [toHex(testKey('c').publicKey), 0n],
    [toHex(testKey('d').publicKey), 3n],
  ].sort(([x], [y]) => ((x as string) < (y as string) ? -1 : 1));
  assert.deepEqual(u, want);
  assert.deepEqual(validatorUpdates(before, before), [], 'no change, no updates');
  // A renamed validator (same key and power) is no change for CometBFT.
  assert.deepEqual(validatorUpdates(before, before.map((v) => ({ ...v, name: `${v.name}!` }))), []);
});
