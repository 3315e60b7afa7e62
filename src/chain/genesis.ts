/**
 * The genesis file: chain id, genesis time, the initial validator set and one section per
 * module (its parameters and its initial state). Validation is complete before anything is
 * written, and every error names the JSON path at fault.
 *
 * {
 *   "chainId": "groundwork-devnet",
 *   "genesisTime": "2026-11-21T12:00:00.000Z",
 *   "validators": [{ "name": "v0", "pubKey": "<hex>", "power": "1", "rewardAddress": "gw1..." }],
 *   "app": {
 *     "auth": { "params": { "feeBase": "1000", ... } },
 *     "bank": { "params": { "sendEnabled": true }, "balances": [{ "address": "gw1...", "amount": "1000000" }] }
 *   }
 * }
 *
 * Parameters not given take their defaults.
 */
import { InvalidInputError } from '../core/errors.js';
import type { Module } from './module.js';
import { validatorSetCodec, type Validator } from './validators.js';

export interface ModuleGenesis {
  readonly params: unknown;
  readonly state: unknown;
}

export interface Genesis {
  readonly chainId: string;
  /** Unix milliseconds. */
  readonly genesisTime: bigint;
  readonly validators: Validator[];
  readonly modules: ReadonlyMap<string, ModuleGenesis>;
}

const CHAIN_ID_RE = /^[a-z0-9][a-z0-9._-]{0,63}$/;

function fail(path: string, msg: string): never {
  throw new InvalidInputError('INVALID_GENESIS', `genesis ${path}: ${msg}`);
}

/** Parses "YYYY-MM-DDTHH:MM:SS(.mmm)Z" into unix ms with integer arithmetic (no Date in the chain). */
export function parseUtcTime(s: unknown, path: string): bigint {
  const m = typeof s === 'string' ? /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?Z$/.exec(s) : null;
  if (!m) fail(path, `expected a UTC time like "2026-01-01T00:00:00Z", got ${typeof s === 'string' ? `"${s}"` : typeof s}`);
  const [y, mo, d, h, mi, se] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const ms = Number((m[7] ?? '0').padEnd(3, '0'));
  const mdays = [31, y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  if (mo < 1 || mo > 12 || d < 1 || d > (mdays[mo - 1] as number) || h > 23 || mi > 59 || se > 59) fail(path, `invalid date ${s as string}`);
  // Days from civil (Howard Hinnant's algorithm).
  const yy = mo <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  const days = era * 146097 + doe - 719468;
  return BigInt(days) * 86_400_000n + BigInt(h * 3_600_000 + mi * 60_000 + se * 1000 + ms);
}

export function parseGenesis(json: unknown, modules: readonly Module[]): Genesis {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) fail('', 'expected a JSON object');
  const g = json as Record<string, unknown>;
  const known = ['chainId', 'genesisTime', 'validators', 'app'];
  for (const k of Object.keys(g)) if (!known.includes(k)) fail(k, `unknown field (expected ${known.join(', ')})`);
  if (typeof g.chainId !== 'string' || !CHAIN_ID_RE.test(g.chainId)) {
    fail('chainId', 'expected 1-64 characters of a-z, 0-9, ".", "_" or "-", starting with a letter or digit');
  }
  const genesisTime = parseUtcTime(g.genesisTime, 'genesisTime');
  const validators = validatorSetCodec.fromJSON(g.validators, 'validators');
  if (validators.length === 0) fail('validators', 'at least one validator is required');
  const keys = new Set<string>();
  validators.forEach((v, i) => {
    const k = Buffer.from(v.pubKey).toString('hex');
    if (keys.has(k)) fail(`validators[${i}].pubKey`, 'duplicate validator key');
    keys.add(k);
    if (v.power === 0n) fail(`validators[${i}].power`, 'power must be positive');
  });
  const app = (g.app ?? {}) as Record<string, unknown>;
  if (typeof app !== 'object' || Array.isArray(app)) fail('app', 'expected an object with one section per module');
  const byName = new Map(modules.map((m) => [m.name, m]));
  for (const k of Object.keys(app)) if (!byName.has(k)) fail(`app.${k}`, `unknown module (modules: ${[...byName.keys()].join(', ')})`);
  const parsed = new Map<string, ModuleGenesis>();
  for (const m of modules) {
    const section = (app[m.name] ?? {}) as Record<string, unknown>;
    if (typeof section !== 'object' || Array.isArray(section)) fail(`app.${m.name}`, 'expected an object');
    const { params: rawParams, ...rest } = section;
    let params: unknown = null;
    if (m.params) {
      const defaults = m.params.codec.toJSON(m.params.defaults) as Record<string, unknown>;
      if (rawParams !== undefined && (typeof rawParams !== 'object' || rawParams === null)) fail(`app.${m.name}.params`, 'expected an object');
      params = m.params.codec.fromJSON({ ...defaults, ...(rawParams as object | undefined) }, `genesis app.${m.name}.params`);
      m.params.validate(params);
    } else if (rawParams !== undefined) {
      fail(`app.${m.name}.params`, `module ${m.name} has no parameters`);
    }
    let state: unknown = null;
    if (m.genesis) state = m.genesis.parse(rest, `genesis app.${m.name}`);
    else if (Object.keys(rest).length > 0) fail(`app.${m.name}`, `module ${m.name} takes no genesis state`);
    parsed.set(m.name, { params, state });
  }
  return { chainId: g.chainId, genesisTime, validators, modules: parsed };
}
