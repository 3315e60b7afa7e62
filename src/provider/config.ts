/**
 * The provider agent's configuration: `<home>/provider.json`.
 *
 * The file is plain JSON (no comments: JSON has none); every field is documented in
 * CONFIG_FIELDS, which `groundwork provider init` prints and writes beside the file as
 * provider.README.md. Validation names the exact field at fault ("pricing.cpuPerCore must be…"),
 * since an operator edits this file by hand and a daemon that dies on "invalid config" with no
 * field name costs them an evening.
 *
 * Amounts in the pricing are decimal integer strings (like every amount in the codec's JSON), in
 * the base unit of the order's denomination (ugw or dc) per block per lease: a JSON number would
 * lose precision above 2^53.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { GroundworkError } from '../core/errors.js';
import { fromHex, toHex } from '../core/bytes.js';
import { LOG_LEVELS, type LogLevel } from '../core/log.js';
import { DENOMS, RESOURCE_KINDS, type Denom, type ResourceKind } from '../chain/modules/market/types.js';

export const CONFIG_FILE = 'provider.json';

/** A configuration the agent refuses to run with. `field` is the JSON path of the culprit. */
export class ProviderConfigError extends GroundworkError {
  override name = 'ProviderConfigError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super('INVALID_PROVIDER_CONFIG', `${CONFIG_FILE}: ${field} ${message}`);
  }
}

export type PricingConfig =
  | { type: 'fixed'; price: bigint }
  | {
      type: 'scale';
      storagePerGiB: bigint;
      cpuPerCore: bigint;
      memoryPerGiB: bigint;
      gpuPerUnit: bigint;
      coveragePerGiB: bigint;
      min: bigint;
    }
  | { type: 'script'; path: string; timeoutMs: number };

/** The storage service (`storage` in provider.json); absent: the agent serves no storage. */
export interface StorageConfig {
  /** Shard store directory (absolute). */
  dir: string;
  /** Shard data bytes the store may hold. */
  capacityBytes: number;
  /** host:port the storage HTTP service listens on. */
  listen: string;
  /** A shard none of whose leases is active is deleted after this long. */
  gcGraceMs: number;
  /** How often the prover asks the node for due storage challenges and retrieval checks (ms). */
  proverPollMs: number;
}

export interface ProviderConfig {
  /** Node API URL. */
  node: string;
  /** SHA-256 of the chain's genesis file (hex); empty: trust the genesis at <home>/genesis.json, else the node's own. */
  genesisHash: string;
  /** Operator key name in the keyring. */
  key: string;
  keyringBackend: 'file' | 'test';
  /** Keyring directory; default <home>/keyring. */
  keyringDir: string;
  /** File with the key's passphrase (file backend); empty: $GROUNDWORK_PASSPHRASE. */
  passphraseFile: string;
  hostUri: string;
  attributes: Array<{ key: string; value: string }>;
  /** Device ids (hex ed25519 public keys) to bid with; empty: any device of the operator that the chain finds eligible. */
  devices: string[];
  kinds: ResourceKind[];
  denoms: Denom[];
  pricing: PricingConfig;
  withdrawEveryBlocks: number;
  reconcileEveryBlocks: number;
  /** host:port of the /metrics endpoint; empty: no endpoint. */
  metricsListen: string;
  /** Local state (a cache of chain state); relative paths are under the home directory. */
  stateDir: string;
  logLevel: LogLevel;
  jsonLogs: boolean;
  /** The storage service; absent when not configured. */
  storage?: StorageConfig;
}

export interface FieldDoc {
  field: string;
  type: string;
  default: string;
  description: string;
}

/** Every field, for `provider init`, --help and the README. Keep in step with validateConfig. */
export const CONFIG_FIELDS: readonly FieldDoc[] = [
  { field: 'node', type: 'URL', default: 'http://127.0.0.1:1317', description: 'The node API the agent reads the chain from and sends its txs to (WebSocket: <node>/v1/ws).' },
  { field: 'genesisHash', type: 'hex', default: '""', description: "SHA-256 of the chain's genesis file. Empty: trust <home>/genesis.json, or else the node's own genesis (trust on first use)." },
  { field: 'key', type: 'string', default: '"provider"', description: 'Name of the operator key in the keyring: it owns the devices, holds the stake, signs bids and withdrawals.' },
  { field: 'keyringBackend', type: '"file" | "test"', default: '"file"', description: 'Backend of that key: "file" is encrypted (passphrase from passphraseFile or $GROUNDWORK_PASSPHRASE), "test" is clear text (devnets only).' },
  { field: 'keyringDir', type: 'path', default: '"" (<home>/keyring)', description: 'Keyring directory.' },
  { field: 'passphraseFile', type: 'path', default: '""', description: 'File holding the passphrase of a "file" key. Empty: $GROUNDWORK_PASSPHRASE.' },
  { field: 'hostUri', type: 'URL', default: '"http://127.0.0.1:8700"', description: 'Where customers reach this provider; registered on chain (market/register-provider) and re-registered when it changes.' },
  { field: 'attributes', type: 'object', default: '{}', description: 'Provider attributes registered on chain, e.g. {"region": "eu-west", "tier": "datacenter"}: at most 32; keys 1-32 of a-z 0-9 _ . -, values 1-64 bytes. Orders may require some.' },
  { field: 'devices', type: 'hex[]', default: '[]', description: 'Device ids (ed25519 public keys, hex) owned by the operator to bid with. Empty: any of its devices the chain finds eligible.' },
  { field: 'kinds', type: 'string[]', default: '["storage","compute","coverage"]', description: 'Order kinds to bid on.' },
  { field: 'denoms', type: 'string[]', default: '["ugw","dc"]', description: 'Payment denominations to accept (ugw: native token; dc: Data Credits). Earnings are always paid in ugw.' },
  { field: 'pricing', type: 'object', default: '{"type":"fixed","price":"1000"}', description: 'How to price a bid, per block per lease, in the base unit of the order\'s denomination. Never bids above the order\'s maxPrice (skips it instead: PRICE_ABOVE_MAX).' },
  { field: 'pricing (fixed)', type: '{type,price}', default: '', description: '{"type":"fixed","price":"1000"}: the same price for every order.' },
  { field: 'pricing (scale)', type: '{type,...}', default: '', description: '{"type":"scale","storagePerGiB":"10","cpuPerCore":"100","memoryPerGiB":"20","gpuPerUnit":"5000","coveragePerGiB":"5","min":"1"}: price from the order spec, each GiB part rounded up; at least min.' },
  { field: 'pricing (script)', type: '{type,path,timeoutMs}', default: '', description: '{"type":"script","path":"./price.js","timeoutMs":2000}: runs the script (.js/.mjs/.cjs with node, else as an executable) with the order JSON (as the API shows it) on stdin and GW_PROVIDER, GW_HEIGHT in its environment; it prints a price or "skip [why]". Killed after timeoutMs (order skipped: SCRIPT_TIMEOUT). A relative path is relative to the config file.' },
  { field: 'withdrawEveryBlocks', type: 'integer', default: '100', description: 'Send market/withdraw every this many blocks when there is something to withdraw: earnings, and the deposits of bids that lost. 0: never (use "provider withdraw").' },
  { field: 'reconcileEveryBlocks', type: 'integer', default: '20', description: 'Re-read chain state and converge to it every this many blocks (also on start and after a WebSocket reconnect).' },
  { field: 'metricsListen', type: 'host:port', default: '"127.0.0.1:9464"', description: 'Address of the Prometheus /metrics endpoint. Empty: no endpoint. Port 0 picks a free port (logged).' },
  { field: 'stateDir', type: 'path', default: '"provider-state"', description: "Local state (a cache of chain state: leases served, bids standing); relative to the home directory. Deleting it is safe: the agent rebuilds it from the chain." },
  { field: 'logLevel', type: 'string', default: '"info"', description: 'debug, info, warn, error or silent.' },
  { field: 'jsonLogs', type: 'boolean', default: 'false', description: 'JSON lines instead of human lines (also --json-logs).' },
  { field: 'storage', type: 'object | null', default: 'null', description: 'The storage service customers upload shards to and fetch them from (on hostUri). null: none. {"capacityBytes": "1099511627776"} turns it on; the other fields have defaults.' },
  { field: 'storage.capacityBytes', type: 'integer', default: '(required)', description: 'Shard bytes the store may hold (a decimal string or a number). An upload that does not fit is refused (INSUFFICIENT_CAPACITY). The leaf-hash files add 1/128 on top.' },
  { field: 'storage.dir', type: 'path', default: '"storage"', description: 'Shard store directory, relative to the home directory.' },
  { field: 'storage.listen', type: 'host:port', default: '(from hostUri)', description: "Where the storage service listens. Default: hostUri's port, on hostUri's host when that is a loopback address, else on 0.0.0.0. Required when hostUri is https: the service speaks plain HTTP, so put a TLS proxy in front of it." },
  { field: 'storage.proverPollMs', type: 'integer', default: '1000', description: 'How often (ms) the prover asks the node for the storage challenges due and the retrieval checks to do; keep it well under a challenge period.' },
  { field: 'storage.gcGraceMs', type: 'integer', default: '86400000', description: 'A shard none of whose leases is active any more is deleted after this many ms (24 h by default), freeing its capacity.' },
];

/** The file `provider init` writes (JSON form: amounts as strings). */
export function defaultConfigJSON(): Record<string, unknown> {
  return {
    node: 'http://127.0.0.1:1317',
    genesisHash: '',
    key: 'provider',
    keyringBackend: 'file',
    keyringDir: '',
    passphraseFile: '',
    hostUri: 'http://127.0.0.1:8700',
    attributes: {},
    devices: [],
    kinds: [...RESOURCE_KINDS],
    denoms: [...DENOMS],
    pricing: { type: 'fixed', price: '1000' },
    withdrawEveryBlocks: 100,
    reconcileEveryBlocks: 20,
    metricsListen: '127.0.0.1:9464',
    stateDir: 'provider-state',
    logLevel: 'info',
    jsonLogs: false,
    storage: null,
  };
}

/** CONFIG_FIELDS as a Markdown table (provider.README.md, the README section). */
export function configFieldsMarkdown(): string {
  const cell = (t: string) => t.replace(/\|/g, '\\|');
  const rows = CONFIG_FIELDS.map((f) => `| \`${f.field}\` | ${cell(f.type)} | ${f.default ? `\`${cell(f.default)}\`` : ''} | ${cell(f.description)} |`);
  return ['| Field | Type | Default | Meaning |', '|---|---|---|---|', ...rows].join('\n');
}

// ---------------------------------------------------------------------------------------------
// Validation

const KNOWN = new Set(Object.keys(defaultConfigJSON()));
const DEC_RE = /^[0-9]{1,39}$/;
const U128_MAX = (1n << 128n) - 1n;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(o: Record<string, unknown>, field: string, path: string, dflt: string): string {
  const v = o[field];
  if (v === undefined) return dflt;
  if (typeof v !== 'string') throw new ProviderConfigError(path, `must be a string, got ${JSON.stringify(v)}`);
  return v;
}

function int(o: Record<string, unknown>, field: string, path: string, dflt: number, min: number, max: number): number {
  const v = o[field];
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    throw new ProviderConfigError(path, `must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
  }
  return v;
}

/** A non-negative amount: a decimal string (a safe-integer JSON number is accepted too). */
function amount(o: Record<string, unknown>, field: string, path: string, dflt: bigint | undefined, positive = false): bigint {
  const v = o[field];
  let n: bigint;
  if (v === undefined) {
    if (dflt === undefined) throw new ProviderConfigError(path, 'is required (a decimal integer string, e.g. "1000")');
    n = dflt;
  } else if (typeof v === 'string' && DEC_RE.test(v)) n = BigInt(v);
  else if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) n = BigInt(v);
  else throw new ProviderConfigError(path, `must be a non-negative decimal integer string (base units per block), got ${JSON.stringify(v)}`);
  if (n > U128_MAX) throw new ProviderConfigError(path, 'exceeds 2^128-1');
  if (positive && n === 0n) throw new ProviderConfigError(path, 'must be greater than 0 (the chain refuses a bid at price 0)');
  return n;
}

function subset<T extends string>(o: Record<string, unknown>, field: string, allowed: readonly T[]): T[] {
  const v = o[field];
  if (v === undefined) return [...allowed];
  if (!Array.isArray(v) || v.length === 0) throw new ProviderConfigError(field, `must be a non-empty list of ${allowed.map((a) => `"${a}"`).join(', ')}`);
  const out: T[] = [];
  v.forEach((x, i) => {
    if (typeof x !== 'string' || !(allowed as readonly string[]).includes(x)) {
      throw new ProviderConfigError(`${field}[${i}]`, `must be one of ${allowed.map((a) => `"${a}"`).join(', ')}, got ${JSON.stringify(x)}`);
    }
    if (!out.includes(x as T)) out.push(x as T);
  });
  return out;
}

function parsePricing(v: unknown): PricingConfig {
  if (v === undefined) return { type: 'fixed', price: 1000n };
  if (!isObject(v)) throw new ProviderConfigError('pricing', 'must be an object with "type": "fixed", "scale" or "script"');
  const allow = (keys: string[]) => {
    for (const k of Object.keys(v)) if (!keys.includes(k)) throw new ProviderConfigError(`pricing.${k}`, `is not a field of the "${String(v.type)}" strategy (fields: ${keys.join(', ')})`);
  };
  switch (v.type) {
    case 'fixed':
      allow(['type', 'price']);
      return { type: 'fixed', price: amount(v, 'price', 'pricing.price', undefined, true) };
    case 'scale': {
      allow(['type', 'storagePerGiB', 'cpuPerCore', 'memoryPerGiB', 'gpuPerUnit', 'coveragePerGiB', 'min']);
      const p = {
        type: 'scale' as const,
        storagePerGiB: amount(v, 'storagePerGiB', 'pricing.storagePerGiB', 0n),
        cpuPerCore: amount(v, 'cpuPerCore', 'pricing.cpuPerCore', 0n),
        memoryPerGiB: amount(v, 'memoryPerGiB', 'pricing.memoryPerGiB', 0n),
        gpuPerUnit: amount(v, 'gpuPerUnit', 'pricing.gpuPerUnit', 0n),
        coveragePerGiB: amount(v, 'coveragePerGiB', 'pricing.coveragePerGiB', 0n),
        // A bid at 0 is refused by the chain (INVALID_PRICE): the floor is at least 1.
        min: amount(v, 'min', 'pricing.min', 1n, true),
      };
      if (p.storagePerGiB + p.cpuPerCore + p.memoryPerGiB + p.gpuPerUnit + p.coveragePerGiB === 0n) {
        throw new ProviderConfigError('pricing', 'of type "scale" needs at least one non-zero rate (storagePerGiB, cpuPerCore, memoryPerGiB, gpuPerUnit, coveragePerGiB)');
      }
      return p;
    }
    case 'script': {
      allow(['type', 'path', 'timeoutMs']);
      const path = str(v, 'path', 'pricing.path', '');
      if (!path) throw new ProviderConfigError('pricing.path', 'is required for the "script" strategy (the script to run, e.g. "./price.js")');
      return { type: 'script', path, timeoutMs: int(v, 'timeoutMs', 'pricing.timeoutMs', 2000, 10, 60_000) };
    }
    default:
      throw new ProviderConfigError('pricing.type', `must be "fixed", "scale" or "script", got ${JSON.stringify(v.type)}`);
  }
}

const STORAGE_FIELDS = ['dir', 'capacityBytes', 'listen', 'gcGraceMs', 'proverPollMs'];

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '[::1]' || host === '::1' || /^127\.[0-9]+\.[0-9]+\.[0-9]+$/.test(host);
}

/** The storage section: null/absent is none; `hostUri` gives the default listen address. */
function parseStorage(v: unknown, hostUri: string, home: string): StorageConfig | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) throw new ProviderConfigError('storage', 'must be null (no storage service) or an object such as {"capacityBytes": "1099511627776"}');
  for (const k of Object.keys(v)) {
    if (!STORAGE_FIELDS.includes(k)) throw new ProviderConfigError(`storage.${k}`, `is not a known field (known: ${STORAGE_FIELDS.join(', ')})`);
  }
  const cap = v.capacityBytes;
  let capacityBytes: number;
  if (cap === undefined) throw new ProviderConfigError('storage.capacityBytes', 'is required: the shard bytes this provider may store, e.g. "1099511627776" (1 TiB)');
  if (typeof cap === 'number' && Number.isSafeInteger(cap) && cap > 0) capacityBytes = cap;
  else if (typeof cap === 'string' && /^[0-9]{1,16}$/.test(cap) && Number.isSafeInteger(Number(cap)) && Number(cap) > 0) capacityBytes = Number(cap);
  else throw new ProviderConfigError('storage.capacityBytes', `must be a positive integer number of bytes (at most 2^53-1), got ${JSON.stringify(cap)}`);
  const dir = str(v, 'dir', 'storage.dir', 'storage');
  if (!dir) throw new ProviderConfigError('storage.dir', 'must not be empty');
  let listen = str(v, 'listen', 'storage.listen', '');
  if (listen) parseListen(listen, 'storage.listen');
  else {
    const u = new URL(hostUri);
    if (u.protocol === 'https:') {
      throw new ProviderConfigError('storage.listen', `is required when hostUri is https (${hostUri}): the storage service speaks plain HTTP, so it listens behind a TLS proxy; say where, e.g. "127.0.0.1:8700"`);
    }
    const port = u.port || '80';
    listen = isLoopback(u.hostname) ? `${u.hostname.startsWith('[') || !u.hostname.includes(':') ? u.hostname : `[${u.hostname}]`}:${port}` : `0.0.0.0:${port}`;
  }
  return { dir: resolve(home, dir), capacityBytes, listen, gcGraceMs: int(v, 'gcGraceMs', 'storage.gcGraceMs', 86_400_000, 0, 365 * 86_400_000), proverPollMs: int(v, 'proverPollMs', 'storage.proverPollMs', 1_000, 100, 600_000) };
}

/**
 * Checks a parsed provider.json and fills the defaults. `baseDir` resolves relative paths of
 * the script (the config file's directory); `home` resolves stateDir and keyringDir.
 */
export function validateConfig(raw: unknown, opts: { home: string; baseDir?: string }): ProviderConfig {
  if (!isObject(raw)) throw new ProviderConfigError('(top level)', 'must be a JSON object; run "groundwork provider init" for a template');
  for (const k of Object.keys(raw)) {
    if (!KNOWN.has(k)) throw new ProviderConfigError(k, `is not a known field (known: ${[...KNOWN].join(', ')})`);
  }
  const d = defaultConfigJSON();
  const node = str(raw, 'node', 'node', d.node as string);
  if (!/^https?:\/\/[^\s/]+/.test(node)) throw new ProviderConfigError('node', `must be an http(s) URL such as "http://127.0.0.1:1317", got ${JSON.stringify(node)}`);
  const genesisHash = str(raw, 'genesisHash', 'genesisHash', '').toLowerCase();
  if (genesisHash && !/^[0-9a-f]{64}$/.test(genesisHash)) throw new ProviderConfigError('genesisHash', 'must be 64 hex digits (the SHA-256 of the genesis file) or ""');
  const key = str(raw, 'key', 'key', d.key as string);
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(key)) throw new ProviderConfigError('key', `must be a key name (1-64 letters, digits, ".", "_" or "-"), got ${JSON.stringify(key)}`);
  const keyringBackend = str(raw, 'keyringBackend', 'keyringBackend', 'file');
  if (keyringBackend !== 'file' && keyringBackend !== 'test') throw new ProviderConfigError('keyringBackend', `must be "file" or "test", got ${JSON.stringify(keyringBackend)}`);
  const keyringDir = str(raw, 'keyringDir', 'keyringDir', '');
  const passphraseFile = str(raw, 'passphraseFile', 'passphraseFile', '');
  const hostUri = str(raw, 'hostUri', 'hostUri', d.hostUri as string);
  if (Buffer.byteLength(hostUri) > 256 || !/^https?:\/\/[^\s/?#]+(:[0-9]{1,5})?(\/[^\s]*)?$/.test(hostUri)) {
    throw new ProviderConfigError('hostUri', `must be an http(s) URL of at most 256 bytes such as "http://203.0.113.5:8700" (where customers reach this provider), got ${JSON.stringify(hostUri)}`);
  }

  const attrsRaw = raw.attributes ?? {};
  if (!isObject(attrsRaw)) throw new ProviderConfigError('attributes', 'must be an object of key: value strings, e.g. {"region": "eu-west"}');
  const attributes = Object.entries(attrsRaw)
    .map(([k, v]) => {
      if (typeof v !== 'string') throw new ProviderConfigError(`attributes.${k}`, `must be a string, got ${JSON.stringify(v)}`);
      // The chain's rules (market/register-provider), checked here so a typo fails at start, not in a tx.
      if (!/^[a-z0-9][a-z0-9_.-]{0,31}$/.test(k)) throw new ProviderConfigError(`attributes.${k}`, 'key must be 1 to 32 characters of a-z, 0-9, "_", "." or "-" (starting with a letter or digit)');
      if (v.length === 0 || Buffer.byteLength(v) > 64) throw new ProviderConfigError(`attributes.${k}`, 'value must be 1 to 64 bytes');
      return { key: k, value: v };
    })
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  if (attributes.length > 32) throw new ProviderConfigError('attributes', `has ${attributes.length} entries; at most 32`);

  const devRaw = raw.devices ?? [];
  if (!Array.isArray(devRaw)) throw new ProviderConfigError('devices', 'must be a list of device ids (hex)');
  const devices = devRaw.map((x, i) => {
    if (typeof x !== 'string' || !/^[0-9a-fA-F]{64}$/.test(x)) throw new ProviderConfigError(`devices[${i}]`, `must be a device id (64 hex digits), got ${JSON.stringify(x)}`);
    return toHex(fromHex(x)).toLowerCase();
  });
  if (new Set(devices).size !== devices.length) throw new ProviderConfigError('devices', 'lists a device twice');

  const metricsListen = str(raw, 'metricsListen', 'metricsListen', d.metricsListen as string);
  if (metricsListen) parseListen(metricsListen);
  const logLevel = str(raw, 'logLevel', 'logLevel', 'info');
  if (!(LOG_LEVELS as string[]).includes(logLevel)) throw new ProviderConfigError('logLevel', `must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(logLevel)}`);
  const jsonLogs = raw.jsonLogs ?? false;
  if (typeof jsonLogs !== 'boolean') throw new ProviderConfigError('jsonLogs', `must be true or false, got ${JSON.stringify(jsonLogs)}`);

  let pricing = parsePricing(raw.pricing);
  if (pricing.type === 'script') {
    const p = isAbsolute(pricing.path) ? pricing.path : resolve(opts.baseDir ?? opts.home, pricing.path);
    if (!existsSync(p)) throw new ProviderConfigError('pricing.path', `names ${p}, which does not exist`);
    pricing = { ...pricing, path: p };
  }
  const stateDirRaw = str(raw, 'stateDir', 'stateDir', d.stateDir as string);
  if (!stateDirRaw) throw new ProviderConfigError('stateDir', 'must not be empty');
  const storage = parseStorage(raw.storage, hostUri, opts.home);
  if (storage && metricsListen && storage.listen === metricsListen) {
    throw new ProviderConfigError('storage.listen', `is the same address as metricsListen (${metricsListen}); give each its own port`);
  }
  return {
    node: node.replace(/\/+$/, ''),
    genesisHash,
    key,
    keyringBackend,
    keyringDir: keyringDir ? resolve(opts.home, keyringDir) : join(opts.home, 'keyring'),
    passphraseFile: passphraseFile ? resolve(opts.home, passphraseFile) : '',
    hostUri,
    attributes,
    devices,
    kinds: subset(raw, 'kinds', RESOURCE_KINDS),
    denoms: subset(raw, 'denoms', DENOMS),
    pricing,
    withdrawEveryBlocks: int(raw, 'withdrawEveryBlocks', 'withdrawEveryBlocks', 100, 0, 1_000_000),
    reconcileEveryBlocks: int(raw, 'reconcileEveryBlocks', 'reconcileEveryBlocks', 20, 1, 1_000_000),
    metricsListen,
    stateDir: resolve(opts.home, stateDirRaw),
    logLevel: logLevel as LogLevel,
    jsonLogs,
    ...(storage ? { storage } : {}),
  };
}

/** "host:port" (IPv6 as "[::1]:9464"); `field` names the config field in the error. */
export function parseListen(s: string, field = 'metricsListen'): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+)):([0-9]{1,5})$/.exec(s);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new ProviderConfigError(field, `must be "host:port" such as "127.0.0.1:9464"${field === 'metricsListen' ? ' (or "" for none)' : ''}, got ${JSON.stringify(s)}`);
  return { host: (m[1] ?? m[2]) as string, port };
}

/** Reads and validates `file` (default <home>/provider.json). */
export function loadConfig(home: string, file?: string): ProviderConfig {
  const path = file ? resolve(file) : join(home, CONFIG_FILE);
  if (!existsSync(path)) {
    throw new GroundworkError('PROVIDER_CONFIG_NOT_FOUND', `no provider config at ${path}; create one with "groundwork provider init"${file ? '' : ' (or pass --config)'}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new ProviderConfigError('(file)', `is not valid JSON: ${(e as Error).message}`);
  }
  return validateConfig(raw, { home, baseDir: dirname(path) });
}
