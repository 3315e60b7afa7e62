import type { Command } from 'commander';
import { parseAmount } from '../../core/amount.js';
import { InvalidInputError } from '../../core/errors.js';
import { encodeAddress } from '../../core/keys.js';
import { formatUsd, parseUsd } from '../../core/usd.js';
import { getPrice } from '../../client/actions/getPrice.js';
import { reportPrice } from '../../client/actions/reportPrice.js';
import { Cli, readPassphrase } from '../context.js';

/** "$0.42/GW" */
export function perGw(microUsd: bigint): string {
  return `${formatUsd(microUsd)}/GW`;
}

export function oracleCommand(program: Command): void {
  const oracle = program.command('oracle').description('the token price oracle: reporters submit USD prices, the chain takes the median');

  oracle
    .command('report <from> <price>')
    .description('report the token price as an oracle reporter: <from> is a key name in oracle.reporters, <price> USD per GW like 0.42 or $0.42')
    .option('--fee <amount>', 'fee (default: the minimum for the tx size)')
    .option('--passphrase-file <file>', 'file holding the passphrase of <from>')
    .action(async (from: string, priceArg: string, opts: { fee?: string; passphraseFile?: string }, cmd: Command) => {
      const cli = new Cli(cmd);
      const price = parseUsd(priceArg);
      if (price === 0n) throw new InvalidInputError('INVALID_PRICE', 'the price must be greater than zero (at least $0.000001 per GW)');
      const fee = opts.fee === undefined ? undefined : parseAmount(opts.fee);
      const kr = cli.keyring();
      const passphrase = kr.needsPassphrase(from) ? await readPassphrase(opts, `Passphrase of "${from}":`) : undefined;
      const signer = kr.signer(from, passphrase);
      const t = await reportPrice(cli.client(), { signer, price, ...(fee !== undefined ? { fee } : {}) });
      cli.out([`Reported ${perGw(price)} (${price} micro-USD per GW)`, `  reporter ${encodeAddress(signer.address)}`, `  tx ${t.hash}, block ${t.height}`], {
        hash: t.hash,
        height: t.height,
        reporter: encodeAddress(signer.address),
        price: price.toString(),
        priceUsd: formatUsd(price),
        fee: t.fee.toString(),
      });
    });

  oracle
    .command('price')
    .description('the current price: median of fresh reports, moving average, the conservative price used to mint Data Credits, and every report with its age')
    .action(async (_o: unknown, cmd: Command) => {
      const cli = new Cli(cmd);
      const p = await getPrice(cli.client());
      const json = {
        height: p.height.toString(),
        ok: p.ok,
        ...(p.error !== undefined ? { error: p.error } : {}),
        ...(p.median !== undefined ? { median: p.median.toString(), medianUsd: formatUsd(p.median) } : {}),
        ...(p.ema !== undefined ? { ema: p.ema.toString(), emaUsd: formatUsd(p.ema) } : {}),
        ...(p.confidence !== undefined ? { confidence: p.confidence.toString() } : {}),
        ...(p.mintingPrice !== undefined ? { mintingPrice: p.mintingPrice.toString(), mintingPriceUsd: formatUsd(p.mintingPrice) } : {}),
        freshCount: p.freshCount,
        minReports: p.minReports,
        maxAgeBlocks: p.maxAgeBlocks.toString(),
        reporters: p.reporters,
        reports: p.reports.map((r) => ({ reporter: r.reporter, price: r.price.toString(), priceUsd: formatUsd(r.price), height: r.height.toString(), age: r.age.toString(), fresh: r.fresh })),
      };
      const head =
        p.ok && p.median !== undefined
          ? [
              `median:        ${perGw(p.median)} (${p.freshCount} fresh report(s), ${p.minReports} needed)`,
              `moving avg:    ${perGw(p.ema ?? 0n)}`,
              `confidence:    ±${formatUsd(p.confidence ?? 0n)} (mean deviation from the median)`,
              `minting price: ${p.mintingPrice ? perGw(p.mintingPrice) : 'none (the reports disagree too much)'} (used for Data Credits)`,
            ]
          : [
              p.error === 'NO_PRICE'
                ? `no price: ${p.reporters === 0 ? 'governance has not listed any reporter (oracle.reporters)' : 'no listed reporter has reported yet'}`
                : `price is stale: ${p.freshCount} fresh report(s), ${p.minReports} needed (reports count for ${p.maxAgeBlocks} blocks)`,
            ];
      const rows = p.reports.map((r) => `  ${r.reporter}  ${perGw(r.price).padStart(14)}  block ${r.height} (${r.age} blocks ago)${r.fresh ? '' : ', stale'}`);
      cli.out([...head, `as of block ${p.height}; reports (fresh for ${p.maxAgeBlocks} blocks):`, ...(rows.length ? rows : ['  none'])], json);
    });
}
