/**
 * staking: operators, delegation, unbonding, and the validator set computed from stake.
 *
 * Messages:
 *   staking/delegate      {operator, amount}   bond tokens to an operator; delegating to oneself
 *                                              (self-bond) creates the operator
 *   staking/undelegate    {operator, amount}   start unbonding; the tokens return after
 *                                              `unbondingBlocks` (end block of that height)
 *   staking/set-validator {pubKey, moniker}    the operator declares/changes its consensus key
 *   staking/unjail        {}                   back into the running once the jail has ended
 *
 * Validator set: at the end of every block, when the genesis had staking operators, the set is
 * the top `maxValidators` non-jailed operators with a consensus key and at least
 * `minValidatorBond` tokens, by tokens (descending) then public key; power = tokens /
 * powerReduction (rounded down). A change is written to chain/validators (CometBFT receives the
 * difference from FinalizeBlock and applies it two heights later). An empty set is never
 * written. A genesis without staking operators keeps its genesis validators for good.
 *
 * Genesis: `operators: [{address, pubKey, moniker, selfBond}]`; each self-bond is moved from the
 * operator's genesis bank balance into the bonded pool (bank's genesis runs first), and the
 * genesis `validators` must be exactly the set computed from these operators.
 */
import { equals, toHex, type Bytes } from '../../../core/bytes.js';
import { decode, encode, list, option, string, struct, u128, u64, type Infer } from '../../../core/codec.js';
import { InvalidInputError } from '../../../core/errors.js';
import { address, decodeAddress, encodeAddress, pubKey } from '../../../core/keys.js';
import type { KVReader } from '../../../state/overlay.js';
import { prefixEnd } from '../../keys.js';
import { msg, type Module, type ModuleQuery } from '../../module.js';
import { getValidators, validatorSetCodec, type Validator } from '../../validators.js';
import { BankErrors } from '../bank/errors.js';
import { getAccount } from '../bank/keeper.js';
import { isEd25519Point } from './ed25519.js';
import {
  BONDED_POOL,
  UNBONDING_POOL,
  bondAtGenesis,
  compareCandidates,
  completeUnbondings,
  computeValidatorSet,
  delegate,
  delegationCodec,
  getDelegation,
  getOperator,
  managesValidatorSet,
  operatorCodec,
  selectValidators,
  selfBondOf,
  setManaged,
  setValidatorKey,
  tokensOfShares,
  totalBonded,
  undelegate,
  unbondingCodec,
  unjail,
  updateValidatorSet,
  type Operator,
} from './keeper.js';
import { OPERATOR_PREFIX, delegationsOfPrefix, operatorKey, unbondingByDelegatorPrefix, unbondingKey } from './keys.js';
import { stakingParams, type StakingParams } from './params.js';

export { stakingParams, type StakingParams } from './params.js';
export { BONDED_POOL, UNBONDING_POOL } from './keeper.js';

export const delegateMsgCodec = struct('MsgDelegate', { operator: address, amount: u128 });
export const undelegateMsgCodec = struct('MsgUndelegate', { operator: address, amount: u128 });
export const setValidatorMsgCodec = struct('MsgSetValidator', { pubKey, moniker: string(64, 'moniker') });
export const unjailMsgCodec = struct('MsgUnjail', {});
export type MsgDelegate = Infer<typeof delegateMsgCodec>;
export type MsgUndelegate = Infer<typeof undelegateMsgCodec>;
export type MsgSetValidator = Infer<typeof setValidatorMsgCodec>;

export const genesisOperatorCodec = struct('GenesisOperator', { address, pubKey: option(pubKey), moniker: string(64, 'moniker'), selfBond: u128 });
export type GenesisOperator = Infer<typeof genesisOperatorCodec>;
const genesisCodec = struct('StakingGenesis', { operators: list(genesisOperatorCodec, 10_000) });
export type StakingGenesis = Infer<typeof genesisCodec>;

/**
 * The validator set a staking genesis calls for (what the genesis `validators` must be): for
 * genesis writers (devnet, testnet) and for checking a genesis file.
 */
export function genesisValidators(operators: readonly GenesisOperator[], p: StakingParams = stakingParams.defaults): Validator[] {
  const candidates = operators
    .filter((o): o is GenesisOperator & { pubKey: Bytes } => o.pubKey !== null)
    .map((o) => ({ operator: o.address, pubKey: o.pubKey, tokens: o.selfBond, moniker: o.moniker }))
    .sort(compareCandidates);
  return selectValidators(candidates, p);
}

function describeSet(vals: readonly Validator[]): string {
  return vals.length === 0 ? '(none)' : vals.map((v) => `${v.name} ${toHex(v.pubKey)} power ${v.power} reward ${encodeAddress(v.rewardAddress)}`).join('; ');
}

// ---- queries -----------------------------------------------------------------------------------

function addressArg(args: Readonly<Record<string, string>>, name: string): Bytes {
  const v = args[name];
  if (v === undefined || v === '') throw new InvalidInputError('MISSING_ARGUMENT', `query argument "${name}" (a gw1... address) is required`);
  return decodeAddress(v);
}

function limitArg(args: Readonly<Record<string, string>>): number {
  const v = args.limit;
  if (v === undefined) return 100;
  const n = /^[0-9]{1,4}$/.test(v) ? Number(v) : 0;
  if (n < 1 || n > 1000) throw new InvalidInputError('INVALID_ARGUMENT', `limit must be an integer from 1 to 1000, got "${v}"`);
  return n;
}

export interface OperatorView {
  address: string;
  tokens: string;
  shares: string;
  selfBond: string;
  validatorPubKey: string | null;
  moniker: string;
  jailed: boolean;
  jailedUntil: string;
  /** Voting power in the current validator set ("0": not in it). */
  power: string;
}

function operatorView(store: KVReader, addr: Bytes, op: Operator, set: readonly Validator[]): OperatorView {
  const key = op.validatorPubKey;
  const inSet = key ? set.find((v) => toHex(v.pubKey) === toHex(key)) : undefined;
  return {
    address: encodeAddress(addr),
    tokens: op.tokens.toString(),
    shares: op.shares.toString(),
    selfBond: selfBondOf(store, addr).toString(),
    validatorPubKey: key ? toHex(key) : null,
    moniker: op.moniker,
    jailed: op.jailed,
    jailedUntil: op.jailedUntil.toString(),
    power: (inSet?.power ?? 0n).toString(),
  };
}

function unbondingsOf(store: KVReader, delegator: Bytes): Array<{ operator: string; amount: string; completionHeight: string }> {
  const prefix = unbondingByDelegatorPrefix(delegator);
  const out: Array<{ operator: string; amount: string; completionHeight: string }> = [];
  for (const [k] of store.iterate(prefix, prefixEnd(prefix))) {
    const completion = decode(u64, k.subarray(prefix.length, prefix.length + 8));
    const operator = k.subarray(prefix.length + 8);
    const v = store.get(unbondingKey(completion, delegator, operator));
    if (v) out.push({ operator: encodeAddress(operator), amount: decode(unbondingCodec, v).amount.toString(), completionHeight: completion.toString() });
  }
  return out;
}


const queries: Record<string, ModuleQuery> = {
  /** All operators in address order: ?after=<address>&limit=<n> (default 100). */
  operators(store, args) {
    const limit = limitArg(args);
    const after = args.after ? operatorKey(decodeAddress(args.after)) : undefined;
    const set = getValidators(store);
    const out: OperatorView[] = [];
    let next: string | null = null;
    for (const [k, v] of store.iterate(after ?? OPERATOR_PREFIX, prefixEnd(OPERATOR_PREFIX))) {
      if (after && equals(k, after)) continue;
      const addr = k.subarray(OPERATOR_PREFIX.length);
      if (out.length === limit) {
        next = out[out.length - 1]?.address ?? null;
        break;
      }
      out.push(operatorView(store, addr, decode(operatorCodec, v), set));
    }
    return { operators: out, next };
  },
  /** One operator: ?address=<operator>. */
  operator(store, args) {
    const addr = addressArg(args, 'address');
    const op = getOperator(store, addr);
    if (!op) throw new InvalidInputError('NOT_FOUND', `${encodeAddress(addr)} is not an operator`);
    return operatorView(store, addr, op, getValidators(store));
  },
  /** A delegator's delegations (with what each is worth) and unbonding entries: ?delegator=<address>. */
  delegations(store, args) {
    const delegator = addressArg(args, 'delegator');
    const prefix = delegationsOfPrefix(delegator);
    const delegations: Array<{ operator: string; shares: string; tokens: string }> = [];
    for (const [k, v] of store.iterate(prefix, prefixEnd(prefix))) {
      const operator = k.subarray(prefix.length);
      const op = getOperator(store, operator);
      const shares = decode(delegationCodec, v).shares;
      delegations.push({ operator: encodeAddress(operator), shares: shares.toString(), tokens: (op ? tokensOfShares(op, shares) : 0n).toString() });
    }
    return { delegator: encodeAddress(delegator), delegations, unbonding: unbondingsOf(store, delegator) };
  },
  /** One delegation: ?delegator=<address>&operator=<address>. */
  delegation(store, args) {
    const delegator = addressArg(args, 'delegator');
    const operator = addressArg(args, 'operator');
    const d = getDelegation(store, delegator, operator);
    const op = getOperator(store, operator);
    if (!d || !op) throw new InvalidInputError('NOT_FOUND', `${encodeAddress(delegator)} has no delegation to ${encodeAddress(operator)}`);
    return { delegator: encodeAddress(delegator), operator: encodeAddress(operator), shares: d.shares.toString(), tokens: tokensOfShares(op, d.shares).toString() };
  },
  /** A delegator's unbonding entries: ?delegator=<address>. */
  unbonding(store, args) {
    const delegator = addressArg(args, 'delegator');
    return { delegator: encodeAddress(delegator), unbonding: unbondingsOf(store, delegator) };
  },
  /** The stored validator set and the one stake calls for now (they differ only inside a block). */
  validators(store) {
    const toJSON = (vals: Validator[]) => validatorSetCodec.toJSON(vals);
    return { managed: managesValidatorSet(store), current: toJSON(getValidators(store)), computed: toJSON(computeValidatorSet(store)) };
  },
  /** Totals: bonded tokens, and the two pool accounts' balances. */
  pool(store) {
    return {
      totalBonded: totalBonded(store).toString(),
      bondedPool: { address: encodeAddress(BONDED_POOL), balance: getAccount(store, BONDED_POOL).balance.toString() },
      unbondingPool: { address: encodeAddress(UNBONDING_POOL), balance: getAccount(store, UNBONDING_POOL).balance.toString() },
    };
  },
};

// ---- the module --------------------------------------------------------------------------------

export const stakingModule: Module<StakingGenesis, StakingParams> = {
  name: 'staking',
  params: stakingParams,
  indexedAttributes: ['staking.delegate.delegator', 'staking.delegate.operator', 'staking.undelegate.delegator', 'staking.undelegate.operator'],
  msgs: [
    msg('staking/delegate', delegateMsgCodec, (ctx, m) => delegate(ctx, ctx.sender as Bytes, m.operator, m.amount)),
    msg('staking/undelegate', undelegateMsgCodec, (ctx, m) => void undelegate(ctx, ctx.sender as Bytes, m.operator, m.amount)),
    msg('staking/set-validator', setValidatorMsgCodec, (ctx, m) => setValidatorKey(ctx, ctx.sender as Bytes, m.pubKey, m.moniker)),
    msg('staking/unjail', unjailMsgCodec, (ctx) => unjail(ctx, ctx.sender as Bytes)),
  ],
  queries,
  genesis: {
    parse(json, path) {
      const o = (json ?? {}) as Record<string, unknown>;
      const ops = Array.isArray(o.operators)
        ? o.operators.map((x: unknown) => (typeof x === 'object' && x !== null && !Array.isArray(x) ? { moniker: '', pubKey: null, ...x } : x))
        : (o.operators ?? []);
      const g = genesisCodec.fromJSON({ ...o, operators: ops }, path);
      const addrs = new Set<string>();
      const keys = new Set<string>();
      g.operators.forEach((op, i) => {
        const at = `${path}.operators[${i}]`;
        const a = encodeAddress(op.address);
        if (addrs.has(a)) throw new InvalidInputError('INVALID_GENESIS', `${at}: duplicate operator ${a}`);
        addrs.add(a);
        if (op.selfBond === 0n) throw new InvalidInputError('INVALID_GENESIS', `${at}.selfBond: must be greater than zero`);
        if (op.pubKey) {
          const k = toHex(op.pubKey);
          if (!isEd25519Point(op.pubKey)) throw new InvalidInputError('INVALID_GENESIS', `${at}.pubKey: ${k} is not an Ed25519 public key`);
          if (keys.has(k)) throw new InvalidInputError('INVALID_GENESIS', `${at}.pubKey: consensus key ${k} is used by another operator`);
          keys.add(k);
        }
      });
      return g;
    },
    init(ctx, g) {
      if (g.operators.length === 0) return; // the genesis validators stay the set for good
      g.operators.forEach((op, i) => {
        try {
          bondAtGenesis(ctx.store, op.address, op.pubKey, op.moniker, op.selfBond);
        } catch (e) {
          if (!BankErrors.INSUFFICIENT_FUNDS.is(e)) throw e;
          const has = getAccount(ctx.store, op.address).balance;
          throw new InvalidInputError(
            'INVALID_GENESIS',
            `genesis app.staking.operators[${i}]: ${encodeAddress(op.address)} self-bonds ${op.selfBond}ugw but has ${has}ugw in app.bank.balances (the self-bond is taken from the operator's genesis balance)`,
          );
        }
      });
      setManaged(ctx.store);
      const want = computeValidatorSet(ctx.store);
      const got = getValidators(ctx.store);
      const same = want.length === got.length && toHex(encodeSet(want)) === toHex(encodeSet(got));
      if (!same) {
        throw new InvalidInputError(
          'INVALID_GENESIS',
          `genesis validators must be the set computed from app.staking.operators (top staking.maxValidators operators with a pubKey and selfBond >= minValidatorBond, by selfBond then pubKey; power = selfBond / powerReduction; name = moniker or address). Expected: ${describeSet(want)}. Genesis has: ${describeSet(got)}`,
        );
      }
    },
  },
  endBlock(ctx) {
    completeUnbondings(ctx, ctx.block.height);
    updateValidatorSet(ctx);
  },
};


function encodeSet(v: Validator[]): Bytes {
  return encode(validatorSetCodec, v);
}
