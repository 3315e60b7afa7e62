/**
 * bank: native token balances, transfers, supply, and fee distribution.
 *
 * Fees: the ante handler moves each tx's fee into the `fee_collector` module account; at the
 * end of every block bank pays the whole fee collector balance to the reward address of the
 * block's proposer (event `bank.fees`). A block whose proposer is not in the validator set
 * leaves the fees in the collector for the next block.
 */
import type { Bytes } from '../../../core/bytes.js';
import { U128_MAX, bool, list, struct, u128, type Infer } from '../../../core/codec.js';
import { InvalidInputError } from '../../../core/errors.js';
import { address, encodeAddress, moduleAddress } from '../../../core/keys.js';
import type { Context } from '../../context.js';
import { getParams, msg, type Module, type ParamsDef } from '../../module.js';
import { BankErrors } from './errors.js';
import type { ValidatorLookup } from './expected.js';
import { addBalance, getAccount, setAccount, setSupply, subBalance, transfer } from './keeper.js';

export const FEE_COLLECTOR = moduleAddress('fee_collector');

export const bankParamsCodec = struct('BankParams', { sendEnabled: bool });
export type BankParams = Infer<typeof bankParamsCodec>;

export const bankParams: ParamsDef<BankParams> = {
  codec: bankParamsCodec,
  defaults: { sendEnabled: true },
  validate() {},
};

export const sendMsgCodec = struct('MsgSend', { to: address, amount: u128 });
export type MsgSend = Infer<typeof sendMsgCodec>;

export const balanceEntryCodec = struct('GenesisBalance', { address, amount: u128 });
const genesisCodec = struct('BankGenesis', { balances: list(balanceEntryCodec, 100_000_000) });
export type BankGenesis = Infer<typeof genesisCodec>;


export function bankModule(deps: { validators: ValidatorLookup }): Module<BankGenesis, BankParams> {
  return {
    name: 'bank',
    params: bankParams,
    indexedAttributes: ['bank.transfer.sender', 'bank.transfer.recipient'],
    msgs: [
      msg(
        'bank/send',
        sendMsgCodec,
        (ctx, m) => {
          if (!getParams(ctx.store, 'bank', bankParams).sendEnabled) throw BankErrors.SEND_DISABLED();
          transfer(ctx, ctx.sender as Bytes, m.to, m.amount);
        },
        // Admission debits the sender (so its next txs see what is left) but does not credit the
        // recipient: funds in flight are spendable once their block is committed.
        (ctx, m) => {
          if (!getParams(ctx.store, 'bank', bankParams).sendEnabled) throw BankErrors.SEND_DISABLED();
          if (m.amount <= 0n) throw BankErrors.INVALID_AMOUNT();
          subBalance(ctx.store, ctx.sender as Bytes, m.amount);
        },
      ),
    ],
    genesis: {
      parse(json, path) {
        const g = genesisCodec.fromJSON(json ?? { balances: [] }, path);
        const seen = new Set<string>();
        let total = 0n;
        g.balances.forEach((b, i) => {
          const a = encodeAddress(b.address);
          if (seen.has(a)) throw new InvalidInputError('INVALID_GENESIS', `${path}.balances[${i}]: duplicate address ${a}`);
          seen.add(a);
          total += b.amount;
        });
        if (total > U128_MAX) throw new InvalidInputError('INVALID_GENESIS', `${path}.balances: total supply exceeds 2^128-1`);
        return g;
      },
      init(ctx, g) {
        // Direct writes (no per-account events): genesis may hold millions of accounts.
        let supply = 0n;
        for (const b of g.balances) {
          if (b.amount === 0n) continue;
          setAccount(ctx.store, b.address, { sequence: 0n, balance: b.amount });
          supply += b.amount;
        }
        setSupply(ctx.store, supply);
      },
    },
    endBlock(ctx: Context) {
      const collected = getAccount(ctx.store, FEE_COLLECTOR);
      if (collected.balance === 0n) return;
      const to = deps.validators.rewardAddressOf(ctx.store, ctx.block.proposer);
      if (!to) return;
      transferFees(ctx, to, collected.balance);
    },
  };
}

function transferFees(ctx: Context, to: Bytes, amount: bigint): void {
  subBalance(ctx.store, FEE_COLLECTOR, amount);
  addBalance(ctx.store, to, amount);
  ctx.emit('bank.fees', () => ({ recipient: encodeAddress(to), amount }));
}
