import { parseAmount } from '../../core/amount.js';
import { encode } from '../../core/codec.js';
import { InvalidInputError } from '../../core/errors.js';
import { standardModules } from '../../chain/index.js';
import type { ParamsDef } from '../../chain/module.js';
import type { ProposalContent } from '../../chain/modules/gov/types.js';
import type { Client } from '../client.js';
import type { ClientError } from '../errors.js';
import { getParams } from './getParams.js';

export interface BuildParamsChangeParameters {
  /** The module whose parameters change (one module per proposal). */
  module: string;
  /** New values by parameter name, as text: "false", "30", "5000", "100gw", "gw1...,gw1..." or JSON. */
  set: Record<string, string>;
}

export interface BuildParamsChangeReturnType {
  /** The proposal content: the module's FULL new parameters, encoded with its params codec. */
  content: Extract<ProposalContent, { type: 'params' }>;
  /** Current and proposed parameters (JSON form). */
  current: Record<string, unknown>;
  proposed: Record<string, unknown>;
  /** Each parameter that changes. */
  changes: Array<{ key: string; from: unknown; to: unknown }>;
}

/** InvalidInputError (unknown module or parameter, bad value; the message lists the valid ones) / ApiResponseError / NodeUnreachableError. */
export type BuildParamsChangeErrorType = InvalidInputError | ClientError;

function paramDefs(): Map<string, ParamsDef<unknown>> {
  const out = new Map<string, ParamsDef<unknown>>();
  for (const m of standardModules()) if (m.params) out.set(m.name, m.params as ParamsDef<unknown>);
  return out;
}

/** A text value in the JSON type of the parameter it replaces. */
function coerce(current: unknown, raw: string, key: string): unknown {
  const bad = (what: string) => new InvalidInputError('INVALID_PARAM_VALUE', `${key}: expected ${what}, got "${raw}"`);
  if (typeof current === 'boolean') {
    if (raw !== 'true' && raw !== 'false') throw bad('true or false');
    return raw === 'true';
  }
  if (typeof current === 'number') {
    if (!/^[0-9]+$/.test(raw)) throw bad('a non-negative integer');
    return Number(raw);
  }
  if (typeof current === 'string') {
    // An amount with a unit becomes base units; a bare integer is taken as is.
    if (/^\s*[0-9]+(\.[0-9]+)?\s*(u?gw)\s*$/i.test(raw)) return parseAmount(raw).toString();
    return raw;
  }
  if (Array.isArray(current)) {
    if (raw.trim().startsWith('[')) return parseJSON(raw, key);
    return raw.trim() === '' ? [] : raw.split(',').map((s) => s.trim());
  }
  return parseJSON(raw, key);
}

function parseJSON(raw: string, key: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    throw new InvalidInputError('INVALID_PARAM_VALUE', `${key}: "${raw}" is not valid JSON`);
  }
}

/**
 * Builds a params proposal's content: the module's current parameters (from the node) with
 * `set` applied, checked with the module's own validation (what the chain checks again at
 * submission and at execution), encoded with its params codec.
 */
export async function buildParamsChange(client: Client, params: BuildParamsChangeParameters): Promise<BuildParamsChangeReturnType> {
  const defs = paramDefs();
  const { module } = params;
  const def = defs.get(module);
  if (!def) throw new InvalidInputError('UNKNOWN_MODULE', `no module "${module}" has parameters; modules with parameters: ${[...defs.keys()].sort().join(', ')}`);
  const all = await getParams(client);
  const current = all[module] ?? (def.codec.toJSON(def.defaults) as Record<string, unknown>);
  const proposed: Record<string, unknown> = { ...current };
  for (const [name, raw] of Object.entries(params.set)) {
    if (!Object.hasOwn(current, name)) {
      throw new InvalidInputError('UNKNOWN_PARAM', `unknown parameter "${module}.${name}"; ${module}'s parameters: ${Object.keys(current).join(', ')}`);
    }
    proposed[name] = coerce(current[name], raw, `${module}.${name}`);
  }
  const value = def.codec.fromJSON(proposed, module);
  def.validate(value);
  const normalized = def.codec.toJSON(value) as Record<string, unknown>;
  const changes = Object.keys(normalized)
    .filter((k) => JSON.stringify(current[k]) !== JSON.stringify(normalized[k]))
    .map((k) => ({ key: `${module}.${k}`, from: current[k], to: normalized[k] }));
  if (changes.length === 0) throw new InvalidInputError('PARAMS_UNCHANGED', `these values equal ${module}'s current parameters: nothing would change`);
  return { content: { type: 'params', value: { module, changes: encode(def.codec, value) } }, current, proposed: normalized, changes };
}
