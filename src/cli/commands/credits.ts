import type { Command } from 'commander';
import { formatAmount, parseAmount } from '../../core/amount.js';
import { InvalidInputError } from '../../core/errors.js';
import { encodeAddress } from '../../core/keys.js';
import { formatDc, formatUsd } from '../../core/usd.js';
import { getCreditTotals, type GetCreditTotalsReturnType } from '../../client/actions/getCreditTotals.js';
import { getCredits } from '../../client/actions/getCredits.js';
import { getParams } from '../../client/actions/getParams.js';
import { mintCredits } from '../../client/actions/mintCredits.js';
import type { Client } from '../../client/client.js';
import { Cli, readPassphrase } from '../context.js';
import { perGw } from './oracle.js';

/** The chain's price of one Data Credit, micro-USD. */
async function dcPrice(client: Client): Promise<bigint> {
  const p = (await getParams(client)).credits as { dcPriceMicroUsd?: string } | undefined;
  return BigInt(p?.dcPriceMicroUsd ?? '10');
}

function totalsOut(cli: Cli, title: string, t: GetCreditTotalsReturnType, dcUsd: bigint): void {
  cli.out(
    [
      title,
      `  tokens burned: ${formatAmount(t.tokensBurned)}`,
      `  DC minted:     ${formatDc(t.dcMinted)} (${formatUsd(t.dcMinted * dcUsd)})`,
      `  DC spent:      ${formatDc(t.dcBurned)} (${formatUsd(t.dcBurned * dcUsd)})`,
      `  at height ${t.height}, proof verified`,
    ],
    {
      ...(t.epoch !== null ? { epoch: t.epoch.toString() } : {}),
      tokensBurned: t.tokensBurned.toString(),
      dcMinted: t.dcMinted.toString(),
      dcBurned: t.dcBurned.toString(),
      height: t.height.toString(),
      verified: true,
    },
  );
}

export function creditsCommand(program: Command): void {
  const credits = program.command('credits').description('Data Credits: burn tokens for non-transferable credits at a fixed USD value, spent on onboarding and usage');

  credits
    .command('mint <from> <amount>')
    .description('burn <amount> tokens (like 1.5gw or 1500000ugw) of key <from> for Data Credits at the oracle minting price')
    .option('--to <address>', 'who receives the credits (address or key name; default <from>)')
    .option('--fee <amount>', 'fee (default: the minimum for the tx size)')
    .option('--passphrase-file <file>', 'file holding the passphrase of <from>')
    .action(async (from: string, amountArg: string, opts: { to?: string; fee?: string; passphraseFile?: string }, cmd: Command) => {
      const cli = new Cli(cmd);
      const amount = parseAmount(amountArg);
      if (amount === 0n) throw new InvalidInputError('INVALID_AMOUNT', 'the amount to burn must be greater than zero');
      const fee = opts.fee === undefined ? undefined : parseAmount(opts.fee);
      const to = opts.to === undefined ? undefined : cli.resolveAddress(opts.to);
      const kr = cli.keyring();
      const passphrase = kr.needsPassphrase(from) ? await readPassphrase(opts, `Passphrase of "${from}":`) : undefined;
      const signer = kr.signer(from, passphrase);
      const client = cli.client();
      const [m, dcUsd] = await Promise.all([
        mintCredits(client, { signer, amount, ...(to !== undefined ? { to } : {}), ...(fee !== undefined ? { fee } : {}) }),
        dcPrice(client),
      ]);
      cli.out(
        [
          `Burned ${formatAmount(m.burned)} for ${formatDc(m.dc)} (${formatUsd(m.dc * dcUsd)} at ${formatUsd(dcUsd)} per DC)`,
          `  price used: ${perGw(m.price)} (the oracle's conservative minting price)`,
          `  credited to ${m.recipient}`,
          `  tx ${m.hash}, block ${m.height}, epoch ${m.epoch}, fee ${formatAmount(m.fee)}`,
        ],
        {
          hash: m.hash,
          height: m.height,
          from: encodeAddress(signer.address),
          recipient: m.recipient,
          burned: m.burned.toString(),
          dc: m.dc.toString(),
          price: m.price.toString(),
          priceUsd: formatUsd(m.price),
          dcPriceMicroUsd: dcUsd.toString(),
          epoch: m.epoch.toString(),
          fee: m.fee.toString(),
        },
      );
    });

  credits
    .command('balance <address>')
    .description('the Data Credits of an address (or key name), verified against a signed header')
    .option('--height <h>', 'read at this block height (default latest)')
    .action(async (who: string, opts: { height?: string }, cmd: Command) => {
      const cli = new Cli(cmd);
      const address = cli.resolveAddress(who);
      const height = opts.height === undefined ? undefined : parseHeight(opts.height);
      const client = cli.client();
      const [b, dcUsd] = await Promise.all([getCredits(client, { address, ...(height !== undefined ? { height } : {}) }), dcPrice(client)]);
      cli.out(`${formatDc(b.credits)} (${formatUsd(b.credits * dcUsd)}) held by ${b.address} at height ${b.height}, proof verified`, {
        address: b.address,
        credits: b.credits.toString(),
        usd: formatUsd(b.credits * dcUsd),
        height: b.height.toString(),
        verified: true,
      });
    });

  credits
    .command('epoch <n>')
    .description("an epoch's burn-and-mint totals: tokens burned, DC minted, DC spent (verified)")
    .action(async (n: string, _o: unknown, cmd: Command) => {
      const cli = new Cli(cmd);
      const epoch = parseHeight(n, 'epoch');
      const client = cli.client();
      const [t, dcUsd] = await Promise.all([getCreditTotals(client, { epoch }), dcPrice(client)]);
      totalsOut(cli, `epoch ${epoch}:`, t, dcUsd);
    });

  credits
    .command('totals')
    .description('burn-and-mint totals since genesis (verified)')
    .action(async (_o: unknown, cmd: Command) => {
      const cli = new Cli(cmd);
      const client = cli.client();
      const [t, dcUsd] = await Promise.all([getCreditTotals(client), dcPrice(client)]);
      totalsOut(cli, 'since genesis:', t, dcUsd);
    });
}

function parseHeight(v: string, what = '--height'): bigint {
  if (!/^[0-9]{1,19}$/.test(v)) throw new InvalidInputError('INVALID_ARGUMENT', `${what} must be a non-negative integer, got "${v}"`);
  return BigInt(v);
}
