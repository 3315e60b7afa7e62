import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../testkit/index.js';
import { CONFIG_FIELDS, configFieldsMarkdown, defaultConfigJSON, loadConfig, parseListen, ProviderConfigError, validateConfig } from './config.js';

const home = '/srv/gw';
const v = (over: Record<string, unknown>) => validateConfig({ ...defaultConfigJSON(), ...over }, { home });

/** Asserts a ProviderConfigError naming `field`, with a message matching `re`. */
function rejects(over: Record<string, unknown>, field: string, re: RegExp): void {
  assert.throws(
    () => v(over),
    (e: unknown) => {
      assert.ok(e instanceof ProviderConfigError, String(e));
      assert.equal(e.field, field);
      assert.match(e.message, re);
      assert.ok(e.message.startsWith(`provider.json: ${field} `), e.message);
      return true;
    },
  );
}

test('config: the defaults validate, paths resolve under the home directory', () => {
  const c = v({});
  assert.equal(c.node, 'http://127.0.0.1:1317');
  assert.equal(c.keyringDir, join(home, 'keyring'));
  assert.equal(c.stateDir, join(home, 'provider-state'));
  assert.deepEqual(c.pricing, { type: 'fixed', price: 1000n });
  assert.deepEqual(c.kinds, ['storage', 'compute', 'coverage']);
  assert.deepEqual(c.denoms, ['ugw', 'dc']);
  assert.equal(c.withdrawEveryBlocks, 100);
  // An empty object is the defaults too.
  assert.deepEqual(validateConfig({}, { home }), c);
});

test('config: attributes become the sorted list the chain stores; devices are lowercased', () => {
  const c = v({ attributes: { tier: 'dc', region: 'eu-west' }, devices: ['AB'.repeat(32)] });
  assert.deepEqual(c.attributes, [
    { key: 'region', value: 'eu-west' },
    { key: 'tier', value: 'dc' },
  ]);
  assert.deepEqual(c.devices, ['ab'.repeat(32)]);
});

test('config: every mistake names its field', () => {
  rejects({ nod: 'x' }, 'nod', /not a known field/);
  rejects({ node: 'localhost:1317' }, 'node', /http\(s\) URL/);
  rejects({ genesisHash: 'abc' }, 'genesisHash', /64 hex/);
  rejects({ key: 'a b' }, 'key', /key name/);
  rejects({ keyringBackend: 'os' }, 'keyringBackend', /"file" or "test"/);
  rejects({ hostUri: '' }, 'hostUri', /http\(s\) URL/);
  rejects({ hostUri: 'ftp://x' }, 'hostUri', /http\(s\) URL/);
  rejects({ attributes: [{ key: 'a', value: 'b' }] }, 'attributes', /object/);
  rejects({ attributes: { region: 5 } }, 'attributes.region', /string/);
  rejects({ attributes: { ['k'.repeat(33)]: 'v' } }, `attributes.${'k'.repeat(33)}`, /1 to 32 characters/);
  rejects({ attributes: { Region: 'eu' } }, 'attributes.Region', /a-z/);
  rejects({ attributes: { region: '' } }, 'attributes.region', /1 to 64 bytes/);
  rejects({ devices: ['zz'] }, 'devices[0]', /64 hex digits/);
  rejects({ devices: ['ab'.repeat(32), 'AB'.repeat(32)] }, 'devices', /twice/);
  rejects({ kinds: [] }, 'kinds', /non-empty/);
  rejects({ kinds: ['storage', 'gpu'] }, 'kinds[1]', /one of "storage", "compute", "coverage"/);
  rejects({ denoms: ['usd'] }, 'denoms[0]', /"ugw", "dc"/);
  rejects({ withdrawEveryBlocks: -1 }, 'withdrawEveryBlocks', /integer from 0/);
  rejects({ reconcileEveryBlocks: 0 }, 'reconcileEveryBlocks', /integer from 1/);
  rejects({ reconcileEveryBlocks: 2.5 }, 'reconcileEveryBlocks', /integer/);
  rejects({ metricsListen: '9464' }, 'metricsListen', /host:port/);
  rejects({ logLevel: 'verbose' }, 'logLevel', /debug, info/);
  rejects({ jsonLogs: 'yes' }, 'jsonLogs', /true or false/);
  rejects({ stateDir: '' }, 'stateDir', /empty/);
});

test('config: pricing strategies and their fields', () => {
  rejects({ pricing: 'fixed' }, 'pricing', /object/);
  rejects({ pricing: { type: 'auction' } }, 'pricing.type', /"fixed", "scale" or "script"/);
  rejects({ pricing: { type: 'fixed' } }, 'pricing.price', /required/);
  rejects({ pricing: { type: 'fixed', price: '0' } }, 'pricing.price', /greater than 0/);
  rejects({ pricing: { type: 'fixed', price: '1.5' } }, 'pricing.price', /decimal integer/);
  rejects({ pricing: { type: 'fixed', price: -3 } }, 'pricing.price', /decimal integer/);
  rejects({ pricing: { type: 'fixed', price: '1'.repeat(40) } }, 'pricing.price', /decimal integer/);
  rejects({ pricing: { type: 'fixed', price: '1000', cpuPerCore: '1' } }, 'pricing.cpuPerCore', /not a field of the "fixed" strategy/);
  rejects({ pricing: { type: 'scale' } }, 'pricing', /at least one non-zero rate/);
  rejects({ pricing: { type: 'scale', cpuPerCore: 'x' } }, 'pricing.cpuPerCore', /decimal integer/);
  rejects({ pricing: { type: 'scale', cpuPerCore: '1', min: '0' } }, 'pricing.min', /greater than 0/);
  rejects({ pricing: { type: 'script' } }, 'pricing.path', /required/);
  rejects({ pricing: { type: 'script', path: './nope.js' } }, 'pricing.path', /does not exist/);
  rejects({ pricing: { type: 'script', path: '/bin/sh', timeoutMs: 5 } }, 'pricing.timeoutMs', /integer from 10/);

  assert.deepEqual(v({ pricing: { type: 'fixed', price: 42 } }).pricing, { type: 'fixed', price: 42n });
  assert.deepEqual(v({ pricing: { type: 'scale', storagePerGiB: '10', gpuPerUnit: '340282366920938463463374607431768211455' } }).pricing, {
    type: 'scale',
    storagePerGiB: 10n,
    cpuPerCore: 0n,
    memoryPerGiB: 0n,
    gpuPerUnit: (1n << 128n) - 1n,
    coveragePerGiB: 0n,
    min: 1n,
  });
  rejects({ pricing: { type: 'scale', gpuPerUnit: '340282366920938463463374607431768211456' } }, 'pricing.gpuPerUnit', /2\^128-1/);
});

test('config: a script path is relative to the config file; loadConfig reports bad JSON and a missing file', () => {
  const d = tempDir('gw-provider-config-');
  try {
    writeFileSync(join(d.path, 'price.js'), 'console.log("1")\n');
    writeFileSync(join(d.path, 'provider.json'), JSON.stringify({ pricing: { type: 'script', path: './price.js' } }));
    const c = loadConfig('/elsewhere', join(d.path, 'provider.json'));
    assert.deepEqual(c.pricing, { type: 'script', path: join(d.path, 'price.js'), timeoutMs: 2000 });
    writeFileSync(join(d.path, 'provider.json'), '{"node": ');
    assert.throws(() => loadConfig(d.path), (e: unknown) => e instanceof ProviderConfigError && /not valid JSON/.test(e.message));
    assert.throws(() => loadConfig(join(d.path, 'none')), /provider init/);
  } finally {
    d.cleanup();
  }
});

test('config: listen addresses; the field table documents every field', () => {
  assert.deepEqual(parseListen('127.0.0.1:9464'), { host: '127.0.0.1', port: 9464 });
  assert.deepEqual(parseListen('[::1]:0'), { host: '::1', port: 0 });
  assert.throws(() => parseListen('host:99999'), ProviderConfigError);
  const documented = new Set(CONFIG_FIELDS.map((f) => f.field.split(' ')[0]));
  for (const k of Object.keys(defaultConfigJSON())) assert.ok(documented.has(k), `${k} is documented`);
  assert.match(configFieldsMarkdown(), /^\| Field \| Type \| Default \| Meaning \|/);
});

test('config: storage is off unless configured; its defaults come from the home directory and hostUri', () => {
  assert.equal(v({}).storage, undefined);
  assert.equal(v({ storage: null }).storage, undefined);
  assert.deepEqual(v({ storage: { capacityBytes: '1099511627776' } }).storage, {
    dir: join(home, 'storage'),
    capacityBytes: 1099511627776,
    listen: '127.0.0.1:8700',
    gcGraceMs: 86_400_000,
    proverPollMs: 1_000,
  });
  const c = v({ hostUri: 'http://203.0.113.5:9000', storage: { capacityBytes: 4096, dir: '/data/shards', gcGraceMs: 0 } }).storage;
  assert.deepEqual(c, { dir: '/data/shards', capacityBytes: 4096, listen: '0.0.0.0:9000', gcGraceMs: 0, proverPollMs: 1_000 });
  assert.equal(v({ hostUri: 'http://localhost', storage: { capacityBytes: 1 } }).storage?.listen, 'localhost:80');
  const six = v({ hostUri: 'http://[::1]:8701', storage: { capacityBytes: 1 } }).storage?.listen;
  assert.equal(six, '[::1]:8701');
  assert.deepEqual(parseListen(six as string, 'storage.listen'), { host: '::1', port: 8701 });
  assert.equal(v({ hostUri: 'https://sp.example', storage: { capacityBytes: 1, listen: '127.0.0.1:8700' } }).storage?.listen, '127.0.0.1:8700');
});

test('config: every storage mistake names its field', () => {
  rejects({ storage: 5 }, 'storage', /null .* or an object/);
  rejects({ storage: {} }, 'storage.capacityBytes', /required/);
  rejects({ storage: { capacityBytes: 0 } }, 'storage.capacityBytes', /positive integer/);
  rejects({ storage: { capacityBytes: '1.5' } }, 'storage.capacityBytes', /positive integer/);
  rejects({ storage: { capacityBytes: '99999999999999999' } }, 'storage.capacityBytes', /positive integer/);
  rejects({ storage: { capacityBytes: 1, size: 2 } }, 'storage.size', /not a known field/);
  rejects({ storage: { capacityBytes: 1, dir: '' } }, 'storage.dir', /empty/);
  rejects({ storage: { capacityBytes: 1, listen: '8700' } }, 'storage.listen', /host:port/);
  rejects({ storage: { capacityBytes: 1, listen: '127.0.0.1:9464' } }, 'storage.listen', /same address as metricsListen/);
  rejects({ storage: { capacityBytes: 1, gcGraceMs: -1 } }, 'storage.gcGraceMs', /integer from 0/);
  rejects({ hostUri: 'https://sp.example', storage: { capacityBytes: 1 } }, 'storage.listen', /required when hostUri is https/);
});
