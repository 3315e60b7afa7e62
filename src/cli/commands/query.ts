import type { Command } from 'commander';
import { formatAmount } from '../../core/amount.js';
import { InvalidInputError } from '../../core/errors.js';
import { getAccount } from '../../client/actions/getAccount.js';
import { getBlock } from '../../client/actions/getBlock.js';
import { getTx } from '../../client/actions/getTx.js';
import { getStatus } from '../../client/actions/getStatus.js';
import { searchTxs } from '../../client/actions/searchTxs.js';
import { getParams } from '../../client/actions/getParams.js';
import { getSupply } from '../../client/actions/getSupply.js';
import { ClientError } from '../../client/errors.js';
import { Cli, parseIntArg } from '../context.js';
import { decode } from '../../core/codec.js';
import { decodeAddress } from '../../core/keys.js';
import { bankAccountKey } from '../../chain/keys.js';
import { accountCodec } from '../../chain/modules/bank/keeper.js';
import { cometVerifiedQuery } from '../../client/cometbft.js';
import { loadGenesis } from '../../node/home.js';

/** An account read from a CometBFT node, verified like a light client (trust anchor: this home's genesis validators, followed through validator-set changes). */
async function cometAccount(cli: Cli, rpcUrl: string, address: string, height: number | undefined) {
  const trusted = loadGenesis(cli.home)
    .parse()
    .validators.map((v) => ({ pubKey: v.pubKey, power: v.power }));
  const r = await cometVerifiedQuery(rpcUrl.replace(/\/$/, ''), bankAccountKey(decodeAddress(address)), trusted, height !== undefined ? { height: BigInt(height) } : {});
  const a = r.value ? decode(accountCodec, r.value) : { sequence: 0n, balance: 0n };
  return { address, balance: a.balance, sequence: a.sequence, height: r.height, exists: r.value !== null };
}

const HASH_RE = /^(0x)?[0-9a-fA-F]{64}$/;

export function queryCommand(program: Command): void {
  const query = program.command('query').alias('q').description('read chain state (values are verified against signed headers)');

  const accountAction = (balanceOnly: boolean) => async (who: string, opts: { height?: string; cometbft?: string }, cmd: Command) => {
    const cli = new Cli(cmd);
    const address = cli.resolveAddress(who);
    const height = opts.height === undefined ? undefined : parseIntArg(opts.height, '--height', 1);
    const a = opts.cometbft
      ? await cometAccount(cli, opts.cometbft, address, height)
      : await getAccount(cli.client(), { address, ...(height !== undefined ? { height } : {}) });
    const json = { address: a.address, balance: a.balance.toString(), sequence: a.sequence.toString(), height: a.height.toString(), exists: a.exists, verified: true };
    if (balanceOnly) return cli.out(`${formatAmount(a.balance)} (${a.balance} ugw) at height ${a.height}, proof verified`, json);
    cli.out(
      [
        `address:  ${a.address}`,
        `balance:  ${formatAmount(a.balance)} (${a.balance} ugw)`,
        `sequence: ${a.sequence}`,
        `height:   ${a.height} (Merkle proof verified against the signed header)`,
        ...(a.exists ? [] : ['note:     this account has never been used (proven absent)']),
      ],
      json,
    );
  };

  query
    .command('account <address>')
    .description('an account: balance and sequence (address or key name)')
    .option('--height <h>', 'read at this block height (default latest)')
    .option('--cometbft <rpc-url>', "read from a CometBFT node's RPC, verifying the state like a light client (from the genesis validators, following set changes)")
    .action(accountAction(false));

  query
    .command('balance <address>')
    .description('the native balance of an address (or key name)')
    .option('--height <h>', 'read at this block height (default latest)')
    .option('--cometbft <rpc-url>', "read from a CometBFT node's RPC, verifying the state like a light client (from the genesis validators, following set changes)")
    .action(accountAction(true));

  query
    .command('block [height]')
    .description('a block (latest by default)')
    .action(async (height: string | undefined, _o: unknown, cmd: Command) => {
      const cli = new Cli(cmd);
      const h = height === undefined || height === 'latest' ? undefined : parseIntArg(height, 'height', 1);
      const b = await getBlock(cli.client(), h === undefined ? {} : { height: h });
      cli.out(
        [
          `height:   ${b.header.height}`,
          `hash:     ${b.hash}`,
          `time:     ${b.header.time}`,
          `txs:      ${b.txCount}`,
          `app hash: ${b.header.appHash}`,
          `proposer: ${b.header.proposer}`,
          ...b.txs.slice(0, 20).map((t, i) => `  ${t} ${b.results[i]?.code === 0 ? 'ok' : `failed (${b.results[i]?.codespace}.${b.results[i]?.error})`}`),
          ...(b.txs.length > 20 ? [`  ... ${b.txs.length - 20} more (--json for all)`] : []),
        ],
        b,
      );
    });

  query
    .command('tx <hash>')
    .description('a committed tx and its result')
    .option('--wait <ms>', 'wait up to this long for it to be committed', '0')
    .action(async (hash: string, opts: { wait: string }, cmd: Command) => {
      const cli = new Cli(cmd);
      if (!HASH_RE.test(hash)) throw new InvalidInputError('INVALID_HASH', `"${hash}" is not a tx hash (64 hex characters)`);
      const t = await getTx(cli.client(), { hash: hash.replace(/^0x/, ''), waitMs: parseIntArg(opts.wait, '--wait') });
      if (!t) throw new ClientError('TX_NOT_FOUND', `tx ${hash.toUpperCase()} is not in any block (yet); pending txs live in the mempool for a few blocks at most`);
      const msgs = ((t.tx?.msgs ?? []) as Array<{ type: string; value: unknown }>).map((m) => `  ${m.type} ${JSON.stringify(m.value)}`);
      cli.out(
        [
          `hash:    ${t.hash}`,
          `height:  ${t.height} (index ${t.index})`,
          `result:  ${t.code === 0 ? 'success' : `failed: ${t.codespace}.${t.error} (code ${t.code}): ${t.log}`}`,
          `signer:  ${(t.events.find((e) => e.type === 'tx')?.attributes.signer) ?? '?'}`,
          `fee:     ${t.tx ? formatAmount(BigInt(t.tx.fee as string)) : '?'}`,
          'msgs:',
          ...msgs,
          'events:',
          ...t.events.map((e) => `  ${e.type} ${Object.entries(e.attributes).map(([k, v]) => `${k}=${v}`).join(' ')}`),
        ],
        t,
      );
    });

  query
    .command('txs')
    .description('committed txs matching an indexed event attribute, newest first')
    .requiredOption('--event <type.key=value>', 'e.g. bank.transfer.recipient=gw1... or tx.signer=gw1...')
    .option('--limit <n>', 'how many', '20')
    .action(async (opts: { event: string; limit: string }, cmd: Command) => {
      const cli = new Cli(cmd);
      const r = await searchTxs(cli.client(), { event: opts.event, limit: parseIntArg(opts.limit, '--limit', 1) });
      cli.out(r.txs.length ? r.txs.map((t) => `${t.height.padStart(8)}  ${t.hash}  ${t.code === 0 ? 'ok' : `${t.codespace}.${t.error}`}`) : 'no matching txs', r);
    });

  query
    .command('status')
    .description("the node's chain id, height and app hash")
    .action(async (_o: unknown, cmd: Command) => {
      const cli = new Cli(cmd);
      const s = await getStatus(cli.client());
      cli.out(
        [`chain:    ${s.chainId}`, `height:   ${s.height}`, `app hash: ${s.appHash}`, `time:     ${s.latestBlockTime ?? '-'}`, `mempool:  ${s.mempool.txs} txs`, `node:     ${cli.url} (v${s.version})`],
        s,
      );
    });

  query
    .command('supply')
    .description('total native token supply (genesis + minted − burned), proof-verified')
    .option('--height <h>', 'read at this block height (default latest)')
    .action(async (opts: { height?: string }, cmd: Command) => {
      const cli = new Cli(cmd);
      const height = opts.height === undefined ? undefined : parseIntArg(opts.height, '--height', 1);
      const s = await getSupply(cli.client(), height !== undefined ? { height } : {});
      cli.out(`${formatAmount(s.supply)} (${s.supply} ugw) at height ${s.height}, proof verified`, { supply: s.supply.toString(), height: s.height.toString(), verified: true });
    });

  query
    .command('params')
    .description('module parameters')
    .action(async (_o: unknown, cmd: Command) => {
      const cli = new Cli(cmd);
      const p = await getParams(cli.client());
      cli.out(Object.entries(p).map(([m, v]) => `${m}: ${JSON.stringify(v)}`), p);
    });
}
