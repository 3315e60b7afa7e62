import type { Command } from 'commander';
import { formatAmount, parseAmount } from '../../core/amount.js';
import { decodeAddress, encodeAddress } from '../../core/keys.js';
import { prepareTx } from '../../client/actions/signAndSend.js';
import { sendTx } from '../../client/actions/sendTx.js';
import { waitForTx } from '../../client/actions/getTx.js';
import { TxFailedError } from '../../client/errors.js';
import { Cli, readPassphrase } from '../context.js';

export function bankCommand(program: Command): void {
  const bank = program.command('bank').description('native token transfers');

  bank
    .command('send <from> <to> <amount>')
    .description('send tokens: <from> is a key name, <to> an address or key name, <amount> like 1.5gw or 1500000ugw')
    .option('--fee <amount>', 'fee (default: the minimum for the tx size)')
    .option('--memo <text>', 'memo attached to the tx', '')
    .option('--no-wait', 'return once the mempool accepted the tx, without waiting for a block')
    .option('--passphrase-file <file>', 'file holding the passphrase of <from>')
    .action(async (from: string, to: string, amountArg: string, opts: { fee?: string; memo: string; wait: boolean; passphraseFile?: string }, cmd: Command) => {
      const cli = new Cli(cmd);
      const amount = parseAmount(amountArg);
      const fee = opts.fee === undefined ? undefined : parseAmount(opts.fee);
      const toAddr = cli.resolveAddress(to);
      const kr = cli.keyring();
      const passphrase = kr.needsPassphrase(from) ? await readPassphrase(opts, `Passphrase of "${from}":`) : undefined;
      const signer = kr.signer(from, passphrase);
      const client = cli.client();
      const prepared = await prepareTx(client, {
        signer,
        msgs: [{ type: 'bank/send', value: { to: decodeAddress(toAddr), amount } }],
        memo: opts.memo,
        ...(fee !== undefined ? { fee } : {}),
      });
      const { hash } = await sendTx(client, { tx: prepared.tx });
      const summary = { hash, from: encodeAddress(signer.address), to: toAddr, amount: amount.toString(), fee: prepared.fee.toString(), sequence: prepared.sequence.toString() };
      if (!opts.wait) {
        return cli.out([`Submitted ${hash}`, `  ${formatAmount(amount)} → ${toAddr} (fee ${formatAmount(prepared.fee)})`, `  check it with: groundwork query tx ${hash}`], {
          ...summary,
          status: 'pending',
        });
      }
      cli.note(`Submitted ${hash}, waiting for a block...`);
      const t = await waitForTx(client, { hash, timeoutMs: 60_000 });
      if (t.code !== 0) throw new TxFailedError(t.hash, BigInt(t.height), t.codespace, t.code, t.error, t.log);
      cli.out([`Sent ${formatAmount(amount)} to ${toAddr}`, `  tx ${hash}`, `  block ${t.height}, fee ${formatAmount(prepared.fee)}`], { ...summary, status: 'committed', height: t.height });
    });
}
