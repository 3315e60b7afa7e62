/**
 * `groundwork staking ...`: bond tokens to operators, run a validator (declare a consensus key),
 * unbond, unjail, and list operators and delegations.
 *
 * Signing: <from> is a key name in the keyring, or the path of a key file (a CometBFT
 * priv_validator_key.json, or this node's validator_key.json): a testnet validator's operator
 * account is the address of its consensus key, so it signs with that file.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { formatAmount, parseAmount } from '../../core/amount.js';
import { fromBase64, fromHex, toHex, type Bytes } from '../../core/bytes.js';
import { InvalidInputError } from '../../core/errors.js';
import { Ed25519Key, decodeAddress, encodeAddress, type Signer } from '../../core/keys.js';
import type { DecodedMsg } from '../../chain/tx.js';
import { isEd25519Point } from '../../chain/modules/staking/ed25519.js';
import { prepareTx } from '../../client/actions/signAndSend.js';
import { sendTx } from '../../client/actions/sendTx.js';
import { waitForTx, type TxView } from '../../client/actions/getTx.js';
import { getOperator } from '../../client/actions/getOperator.js';
import { getOperators } from '../../client/actions/getOperators.js';
import { getDelegation } from '../../client/actions/getDelegation.js';
import { getDelegations } from '../../client/actions/getDelegations.js';
import { moduleQuery } from '../../client/actions/moduleQuery.js';
import { ClientError, TxFailedError } from '../../client/errors.js';
import { Cli, parseIntArg, readPassphrase } from '../context.js';

interface TxOpts {
  fee?: string;
  memo: string;
  wait: boolean;
  passphraseFile?: string;
}

/**
 * A key file: CometBFT's priv_validator_key.json ({pub_key, priv_key} in base64) or Groundwork's
 * validator_key.json ({seed} in hex). Returns the public key, and the signing key when the file
 * has the private part.
 */
export function readKeyFile(path: string): { publicKey: Bytes; key: Ed25519Key | undefined } {
  if (!existsSync(path)) throw new InvalidInputError('FILE_NOT_FOUND', `key file ${path} does not exist`);
  let j: { pub_key?: { value?: unknown }; priv_key?: { value?: unknown }; seed?: unknown; publicKey?: unknown };
  try {
    j = JSON.parse(readFileSync(path, 'utf8')) as typeof j;
  } catch {
    throw new InvalidInputError('INVALID_KEY_FILE', `${path} is not JSON (expected a CometBFT priv_validator_key.json or a validator_key.json)`);
  }
  if (typeof j.seed === 'string') {
    const key = Ed25519Key.fromSeed(fromHex(j.seed, `${path} seed`));
    return { publicKey: key.publicKey, key };
  }
  if (typeof j.priv_key?.value === 'string') {
    const priv = fromBase64(j.priv_key.value, `${path} priv_key`);
    if (priv.length !== 64 && priv.length !== 32) throw new InvalidInputError('INVALID_KEY_FILE', `${path}: priv_key is ${priv.length} bytes, expected an Ed25519 key (64)`);
    const key = Ed25519Key.fromSeed(priv.subarray(0, 32));
    return { publicKey: key.publicKey, key };
  }
  if (typeof j.pub_key?.value === 'string') return { publicKey: fromBase64(j.pub_key.value, `${path} pub_key`), key: undefined };
  throw new InvalidInputError('INVALID_KEY_FILE', `${path} has no Ed25519 key (expected "pub_key"/"priv_key" as in CometBFT's priv_validator_key.json, or "seed")`);
}

async function signerFor(cli: Cli, from: string, opts: { passphraseFile?: string }): Promise<Signer> {
  if (from.endsWith('.json') && existsSync(from)) {
    const { key } = readKeyFile(from);
    if (!key) throw new InvalidInputError('INVALID_KEY_FILE', `${from} holds no private key to sign with`);
    return key;
  }
  const kr = cli.keyring();
  const passphrase = kr.needsPassphrase(from) ? await readPassphrase(opts, `Passphrase of "${from}":`) : undefined;
  return kr.signer(from, passphrase);
}

/** Signs, submits and (unless --no-wait) waits for the tx; prints `done` lines. */
async function submit(cli: Cli, signer: Signer, msgs: DecodedMsg[], opts: TxOpts, summary: Record<string, unknown>, done: (t: TxView | undefined) => string[]): Promise<void> {
  const client = cli.client();
  const fee = opts.fee === undefined ? undefined : parseAmount(opts.fee);
  const prepared = await prepareTx(client, { signer, msgs, memo: opts.memo, ...(fee !== undefined ? { fee } : {}) });
  const { hash } = await sendTx(client, { tx: prepared.tx });
  const base = { hash, signer: encodeAddress(signer.address), ...summary, fee: prepared.fee.toString(), sequence: prepared.sequence.toString() };
  if (!opts.wait) return cli.out([`Submitted ${hash}`, ...done(undefined), `  check it with: groundwork query tx ${hash}`], { ...base, status: 'pending' });
  cli.note(`Submitted ${hash}, waiting for a block...`);
  const t = await waitForTx(client, { hash, timeoutMs: 60_000 });
  if (t.code !== 0) throw new TxFailedError(t.hash, BigInt(t.height), t.codespace, t.code, t.error, t.log);
  const events = t.events.filter((e) => e.type.startsWith('staking.'));
  cli.out([...done(t), `  tx ${hash}, block ${t.height}, fee ${formatAmount(prepared.fee)}`], { ...base, status: 'committed', height: t.height, events });
}

function txOptions(c: Command): Command {
  return c
    .option('--fee <amount>', 'fee (default: the minimum for the tx size)')
    .option('--memo <text>', 'memo attached to the tx', '')
    .option('--no-wait', 'return once the mempool accepted the tx, without waiting for a block')
    .option('--passphrase-file <file>', 'file holding the passphrase of <from>');
}

const FROM_HELP = '<from> is a key name, or the path of a key file (CometBFT priv_validator_key.json)';

function parsePubKey(hex: string): Bytes {
  const b = fromHex(hex, '--pubkey');
  if (b.length !== 32) throw new InvalidInputError('INVALID_PUBKEY', `--pubkey must be 32 bytes (64 hex characters), got ${b.length} bytes`);
  return b;
}

export function stakingCommand(program: Command): void {
  const staking = program.command('staking').description('bond tokens to operators, run a validator, unbond, unjail');

  txOptions(
    staking
      .command('delegate <from> <operator> <amount>')
      .description(`bond <amount> (like 100gw) to <operator> (address or key name); delegating to yourself is a self-bond and makes you an operator. ${FROM_HELP}`),
  ).action(async (from: string, operatorArg: string, amountArg: string, opts: TxOpts, cmd: Command) => {
    const cli = new Cli(cmd);
    const amount = parseAmount(amountArg);
    if (amount === 0n) throw new InvalidInputError('INVALID_AMOUNT', 'amount must be greater than zero');
    const signer = await signerFor(cli, from, opts);
    const operator = operatorArg === 'self' ? encodeAddress(signer.address) : cli.resolveAddress(operatorArg);
    const self = operator === encodeAddress(signer.address);
    await submit(cli, signer, [{ type: 'staking/delegate', value: { operator: decodeAddress(operator), amount } }], opts, { operator, amount: amount.toString() }, (t) => [
      `${t ? 'Bonded' : 'Bonding'} ${formatAmount(amount)} to ${operator}${self ? ' (self-bond)' : ''}`,
    ]);
  });

  txOptions(
    staking
      .command('undelegate <from> <operator> <amount>')
      .description(`unbond <amount> (like 10gw, or "all") from <operator>; the tokens return after staking.unbondingBlocks blocks. ${FROM_HELP}`),
  ).action(async (from: string, operatorArg: string, amountArg: string, opts: TxOpts, cmd: Command) => {
    const cli = new Cli(cmd);
    const signer = await signerFor(cli, from, opts);
    const operator = operatorArg === 'self' ? encodeAddress(signer.address) : cli.resolveAddress(operatorArg);
    let amount: bigint;
    if (amountArg === 'all') {
      const d = await getDelegation(cli.client(), { delegator: encodeAddress(signer.address), operator });
      if (!d || d.tokens === 0n) throw new ClientError('NO_DELEGATION', `${encodeAddress(signer.address)} has nothing bonded to ${operator}`);
      amount = d.tokens;
    } else {
      amount = parseAmount(amountArg);
      if (amount === 0n) throw new InvalidInputError('INVALID_AMOUNT', 'amount must be greater than zero');
    }
    await submit(cli, signer, [{ type: 'staking/undelegate', value: { operator: decodeAddress(operator), amount } }], opts, { operator, amount: amount.toString() }, (t) => {
      const ev = t?.events.find((e) => e.type === 'staking.undelegate')?.attributes;
      return [
        `${t ? 'Unbonding' : 'Requested unbonding of'} ${formatAmount(ev?.amount ? BigInt(ev.amount) : amount)} from ${operator}`,
        ...(ev?.completionHeight ? [`  the tokens return to ${encodeAddress(signer.address)} at block ${ev.completionHeight}`] : []),
      ];
    });
  });

  txOptions(
    staking
      .command('set-validator <from>')
      .description(`declare (or change) your consensus key: with enough stake your operator joins the validator set. ${FROM_HELP}`)
      .option('--pubkey <hex>', 'the Ed25519 consensus public key, 64 hex characters')
      .option('--key-file <file>', "read the public key from a CometBFT priv_validator_key.json (e.g. <node home>/cometbft/config/priv_validator_key.json)")
      .option('--moniker <name>', 'display name (at most 64 bytes)', ''),
  ).action(async (from: string, opts: TxOpts & { pubkey?: string; keyFile?: string; moniker: string }, cmd: Command) => {
    const cli = new Cli(cmd);
    if ((opts.pubkey === undefined) === (opts.keyFile === undefined)) throw new InvalidInputError('INVALID_ARGUMENT', 'give the consensus key with exactly one of --pubkey <hex> or --key-file <priv_validator_key.json>');
    const pubKey = opts.pubkey !== undefined ? parsePubKey(opts.pubkey) : readKeyFile(opts.keyFile as string).publicKey;
    if (!isEd25519Point(pubKey)) throw new InvalidInputError('INVALID_PUBKEY', `${toHex(pubKey)} is not an Ed25519 public key`);
    if (Buffer.byteLength(opts.moniker, 'utf8') > 64) throw new InvalidInputError('INVALID_ARGUMENT', '--moniker is longer than 64 bytes');
    const signer = await signerFor(cli, from, opts);
    await submit(cli, signer, [{ type: 'staking/set-validator', value: { pubKey, moniker: opts.moniker } }], opts, { pubKey: toHex(pubKey), moniker: opts.moniker }, (t) => [
      `${t ? 'Declared' : 'Declaring'} consensus key ${toHex(pubKey)} for operator ${encodeAddress(signer.address)}${opts.moniker ? ` (${opts.moniker})` : ''}`,
      ...(t ? ['  check the validator set with: groundwork staking show <operator>'] : []),
    ]);
  });

  txOptions(staking.command('unjail <from>').description(`let your jailed operator back into the validator set, once its jail has ended. ${FROM_HELP}`)).action(
    async (from: string, opts: TxOpts, cmd: Command) => {
      const cli = new Cli(cmd);
      const signer = await signerFor(cli, from, opts);
      await submit(cli, signer, [{ type: 'staking/unjail', value: {} }], opts, { operator: encodeAddress(signer.address) }, (t) => [`${t ? 'Unjailed' : 'Unjailing'} operator ${encodeAddress(signer.address)}`]);
    },
  );

  staking
    .command('operators')
    .description('list the operators: bonded tokens, voting power, jail status')
    .option('--limit <n>', 'at most this many (1–1000)', '100')
    .option('--after <address>', 'start after this operator (paging)')
    .action(async (opts: { limit: string; after?: string }, cmd: Command) => {
      const cli = new Cli(cmd);
      const r = await getOperators(cli.client(), { limit: parseIntArg(opts.limit, '--limit', 1), ...(opts.after ? { after: cli.resolveAddress(opts.after) } : {}) });
      const lines = r.operators.map(
        (o) =>
          `${(o.moniker || '-').padEnd(16)} ${o.address}  ${formatAmount(BigInt(o.tokens)).padStart(22)}  power ${o.power.padStart(6)}${o.jailed ? `  jailed until ${o.jailedUntil}` : ''}${o.validatorPubKey ? '' : '  (no consensus key)'}`,
      );
      cli.out(lines.length ? [...lines, ...(r.next ? [`more: --after ${r.next}`] : [])] : 'no operators', r);
    });

  staking
    .command('show <operator>')
    .description('one operator (address or key name): pool, self-bond, consensus key, jail, voting power')
    .action(async (operatorArg: string, _o: unknown, cmd: Command) => {
      const cli = new Cli(cmd);
      const address = cli.resolveAddress(operatorArg);
      const client = cli.client();
      const op = await getOperator(client, { address });
      if (!op) throw new ClientError('NOT_AN_OPERATOR', `${address} is not an operator (an account becomes one by delegating to itself: groundwork staking delegate <key> self <amount>)`);
      const view = await moduleQuery<{ power: string }>(client, 'staking', 'operator', { address }).catch(() => ({ power: '0' }));
      const json = { ...op, tokens: op.tokens.toString(), shares: op.shares.toString(), selfBond: op.selfBond.toString(), jailedUntil: op.jailedUntil.toString(), height: op.height.toString(), power: view.power, verified: true };
      cli.out(
        [
          `operator:   ${op.address}${op.moniker ? ` (${op.moniker})` : ''}`,
          `bonded:     ${formatAmount(op.tokens)} (${op.tokens} ugw), self-bond ${formatAmount(op.selfBond)}`,
          `key:        ${op.validatorPubKey ?? 'none (declare one with: groundwork staking set-validator)'}`,
          `validator:  ${view.power === '0' ? 'no' : `yes, voting power ${view.power}`}`,
          `jailed:     ${op.jailed ? `yes, may unjail from block ${op.jailedUntil}` : 'no'}`,
          `height:     ${op.height} (Merkle proof verified against the signed header)`,
        ],
        json,
      );
    });

  staking
    .command('delegations <address>')
    .description('what an address (or key name) has bonded, to whom, and what is unbonding')
    .action(async (who: string, _o: unknown, cmd: Command) => {
      const cli = new Cli(cmd);
      const delegator = cli.resolveAddress(who);
      const r = await getDelegations(cli.client(), { delegator });
      const lines = [
        ...r.delegations.map((d) => `bonded     ${formatAmount(BigInt(d.tokens)).padStart(22)}  to ${d.operator}`),
        ...r.unbonding.map((u) => `unbonding  ${formatAmount(BigInt(u.amount)).padStart(22)}  from ${u.operator}, back at block ${u.completionHeight}`),
      ];
      cli.out(lines.length ? lines : `${delegator} has no delegations`, r);
    });
}
