/**
 * The module system. A module owns a slice of state (its key prefixes, listed in keys.ts), its
 * messages, its parameters and its genesis section; the app wires modules together. Later
 * modules (staking, devices, market, escrow, credits, rewards, governance, storage, compute,
 * coverage) plug in through this interface and state what they need from others as narrow
 * interfaces in their own `expected.ts`.
 */
import { equals } from '../core/bytes.js';
import { decode, encode, type Codec } from '../core/codec.js';
import { InvariantError } from '../core/errors.js';
import type { KVReader, KVStore } from '../state/overlay.js';
import type { Context } from './context.js';
import { paramsKey } from './keys.js';
import type { MsgType } from './tx.js';

export interface MsgHandler<T> extends MsgType<T> {
  /** Runs the message for `ctx.sender`. Throws a ChainError to fail the whole tx. */
  handle(ctx: Context, msg: T): void;
  /**
   * The admission check CheckTx runs instead of `handle` (default: `handle` itself). It must
   * refuse whatever `handle` would refuse on the same state, and record in the check state what
   * later txs must see (funds spent); it may skip effects no admission decision depends on,
   * such as crediting a recipient.
   */
  admit?(ctx: Context, msg: T): void;
}

/** Declares a message handler with its payload type inferred from the codec. */
export function msg<T>(
  type: string,
  codec: Codec<T, unknown>,
  handle: (ctx: Context, msg: T) => void,
  admit?: (ctx: Context, msg: T) => void,
): MsgHandler<T> {
  return admit ? { type, codec, handle, admit } : { type, codec, handle };
}

export interface ParamsDef<P> {
  readonly codec: Codec<P, unknown>;
  readonly defaults: P;
  /** Throws InvalidInputError naming the bad field. */
  validate(p: P): void;
}

export interface GenesisDef<G> {
  /** Parses and validates this module's genesis section (JSON), errors name `path`. */
  parse(json: unknown, path: string): G;
  init(ctx: Context, g: G): void;
}

/**
 * A read-only view a module offers to the API (`GET /v1/q/<module>/<name>?arg=...`): args are
 * the query string, the result is JSON (bigints as decimal strings, bytes as hex, addresses in
 * bech32). Bad args throw InvalidInputError (HTTP 400); a missing object throws
 * InvalidInputError with code NOT_FOUND (HTTP 404). Unverified: clients that must not trust the
 * node read the raw keys with a Merkle proof instead.
 */
export type ModuleQuery = (store: KVReader, args: Readonly<Record<string, string>>) => unknown;

export interface Module<G = unknown, P = unknown> {
  readonly name: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly msgs?: readonly MsgHandler<any>[];
  readonly params?: ParamsDef<P>;
  readonly genesis?: GenesisDef<G>;
  beginBlock?(ctx: Context): void;
  endBlock?(ctx: Context): void;
  /** Event attributes worth an index, as "type.key" (e.g. "bank.transfer.recipient"). */
  readonly indexedAttributes?: readonly string[];
  readonly queries?: Readonly<Record<string, ModuleQuery>>;
}

// Decoded params by module, reused while the stored bytes are unchanged (read on every tx).
const paramsMemo = new Map<string, { raw: Uint8Array; value: unknown }>();

/** Reads a module's parameters from state. */
export function getParams<P>(store: KVReader, module: string, def: ParamsDef<P>): P {
  const b = store.get(paramsKey(module));
  if (!b) throw new InvariantError(`parameters of module ${module} are missing from state`);
  const memo = paramsMemo.get(module);
  if (memo && equals(memo.raw, b)) return memo.value as P;
  const value = decode(def.codec, b);
  paramsMemo.set(module, { raw: Uint8Array.from(b), value });
  return value;
}

export function setParams<P>(store: KVStore, module: string, def: ParamsDef<P>, p: P): void {
  def.validate(p);
  store.set(paramsKey(module), encode(def.codec, p));
}
