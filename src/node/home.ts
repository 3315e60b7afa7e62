/**
 * A node's home directory:
 *
 *   <home>/config.json          node settings (API address, block interval, mempool, pruning, log)
 *   <home>/genesis.json         the chain's genesis
 *   <home>/validator_key.json   this node's validator key (mode 0600)
 *   <home>/data/                LMDB environment: state, tree, blocks, indexes
 *   <home>/keyring/             client keys (see src/client/keyring.ts)
 *
 * Default home: $GROUNDWORK_HOME or ~/.groundwork.
 */
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fromHex, toHex, type Bytes } from '../core/bytes.js';
import { bool, string, struct, u16, u32, type Infer } from '../core/codec.js';
import { GroundworkError, InvalidInputError } from '../core/errors.js';
import { sha256 } from '../core/hash.js';
import { Ed25519Key } from '../core/keys.js';
import { LOG_LEVELS, type LogLevel } from '../core/log.js';
import { parseGenesis, parseUtcTime, type Genesis } from '../chain/genesis.js';
import { standardModules } from '../chain/index.js';

export function defaultHome(): string {
  return resolve(process.env.GROUNDWORK_HOME ?? join(homedir(), '.groundwork'));
}

export function homePaths(home: string) {
  return {
    home,
    config: join(home, 'config.json'),
    genesis: join(home, 'genesis.json'),
    validatorKey: join(home, 'validator_key.json'),
    data: join(home, 'data'),
    keyring: join(home, 'keyring'),
  };
}

export const configCodec = struct('NodeConfig', {
  api: struct('ApiConfig', { host: string(255), port: u16 }),
  /** Where the ABCI server listens when the node runs under CometBFT (`node start --cometbft`). */
  abci: struct('AbciConfig', { port: u16 }),
  /** Target time between blocks. */
  blockIntervalMs: u32,
  mempool: struct('MempoolConfig', { maxTxs: u32, maxBytes: u32 }),
  /** Keep Merkle tree versions of the last N heights (proofs at older heights fail); 0 keeps all. */
  pruning: struct('PruningConfig', { keepRecent: u32 }),
  /** Tree nodes kept decoded in memory (~0.4 KB each); more means fewer disk reads per commit. */
  cache: struct('CacheConfig', { treeNodes: u32 }),
  log: struct('LogConfig', { level: string(16), json: bool }),
});
export type NodeConfig = Infer<typeof configCodec>;

export const DEFAULT_CONFIG: NodeConfig = {
  api: { host: '127.0.0.1', port: 1317 },
  abci: { port: 26658 },
  blockIntervalMs: 1000,
  mempool: { maxTxs: 100_000, maxBytes: 128 << 20 },
  pruning: { keepRecent: 0 },
  cache: { treeNodes: 150_000 },
  log: { level: 'info', json: false },
};

function readJson(path: string, what: string): unknown {
  if (!existsSync(path)) {
    throw new GroundworkError('HOME_NOT_INITIALIZED', `${what} not found at ${path}; run "groundwork init" first (or pass --home)`);
  }
  const text = readFileSync(path, 'utf8');
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new InvalidInputError('INVALID_JSON', `${path} is not valid JSON: ${(e as Error).message}`);
  }
}

function mergeDefaults(defaults: unknown, given: unknown): unknown {
  if (typeof defaults !== 'object' || defaults === null || typeof given !== 'object' || given === null || Array.isArray(given)) {
    return given === undefined ? defaults : given;
  }
  const out: Record<string, unknown> = { ...(defaults as Record<string, unknown>) };
  for (const [k, v] of Object.entries(given)) out[k] = mergeDefaults((defaults as Record<string, unknown>)[k], v);
  return out;
}

/** Parses a config object (missing fields take defaults); errors name the bad field. */
export function parseConfig(json: unknown, source = 'config.json'): NodeConfig {
  try {
    const c = configCodec.fromJSON(mergeDefaults(configCodec.toJSON(DEFAULT_CONFIG), json));
    if (!LOG_LEVELS.includes(c.log.level as LogLevel)) throw new InvalidInputError('INVALID_FIELD', `log.level must be one of ${LOG_LEVELS.join(', ')}`);
    if (c.blockIntervalMs < 10) throw new InvalidInputError('INVALID_FIELD', 'blockIntervalMs must be at least 10');
    return c;
  } catch (e) {
    if (e instanceof InvalidInputError) throw new InvalidInputError('INVALID_CONFIG', `${source}: ${e.message}`);
    throw e;
  }
}

export function loadConfig(home: string): NodeConfig {
  const p = homePaths(home).config;
  return parseConfig(readJson(p, 'node config'), p);
}

export function writeConfig(home: string, c: NodeConfig): void {
  writeFileSync(homePaths(home).config, `${JSON.stringify(configCodec.toJSON(c), null, 2)}\n`);
}

export interface LoadedGenesis {
  readonly chainId: string;
  /** Unix ms. */
  readonly genesisTime: bigint;
  /** The file's bytes, served as is so clients can check its hash. */
  readonly bytes: Uint8Array;
  /** SHA-256 of the file bytes: what clients pin to know they talk to the right chain. */
  readonly hash: Bytes;
  /**
   * Parses and validates the full genesis (each call parses again; nothing is kept). A node
   * restarting an existing chain only needs the chain id and hash, and a genesis may list
   * millions of accounts: kept alive, they would be hundreds of MB for the GC to trace.
   */
  parse(): Genesis;
}

function parseJson(bytes: Uint8Array, source: string): unknown {
  try {
    return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch (e) {
    throw new InvalidInputError('INVALID_JSON', `${source} is not valid JSON: ${(e as Error).message}`);
  }
}

export function parseGenesisBytes(bytes: Uint8Array, source: string): LoadedGenesis {
  const json = parseJson(bytes, source);
  const top = (typeof json === 'object' && json !== null ? json : {}) as { chainId?: unknown; genesisTime?: unknown };
  if (typeof top.chainId !== 'string') throw new InvalidInputError('INVALID_GENESIS', `${source}: genesis chainId: missing`);
  return {
    chainId: top.chainId,
    genesisTime: parseUtcTime(top.genesisTime, 'genesisTime'),
    bytes,
    hash: sha256(bytes),
    parse: () => parseGenesis(parseJson(bytes, source), standardModules()),
  };
}

export function loadGenesis(home: string): LoadedGenesis {
  const p = homePaths(home).genesis;
  if (!existsSync(p)) throw new GroundworkError('HOME_NOT_INITIALIZED', `genesis not found at ${p}; run "groundwork init" first (or pass --home)`);
  return parseGenesisBytes(readFileSync(p), p);
}

export function loadValidatorKey(home: string): Ed25519Key {
  const p = homePaths(home).validatorKey;
  const j = readJson(p, 'validator key') as { seed?: unknown };
  if (typeof j.seed !== 'string') throw new InvalidInputError('INVALID_KEY_FILE', `${p}: missing "seed"`);
  return Ed25519Key.fromSeed(fromHex(j.seed, `${p} seed`));
}

export function writeValidatorKey(home: string, key: Ed25519Key): void {
  mkdirSync(home, { recursive: true });
  writeFileSync(
    homePaths(home).validatorKey,
    `${JSON.stringify({ type: 'ed25519', publicKey: toHex(key.publicKey), seed: toHex(key.seed) }, null, 2)}\n`,
    { mode: 0o600 },
  );
}
