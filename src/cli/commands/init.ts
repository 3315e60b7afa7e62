import type { Command } from 'commander';
import { formatAmount, parseAmount } from '../../core/amount.js';
import { initHome } from '../../devnet/init.js';
import { Cli, parseIntArg } from '../context.js';

export function initCommand(program: Command): void {
  program
    .command('init')
    .description('create a home directory: genesis, node config, validator key, funded "faucet" key (test keyring)')
    .option('--chain-id <id>', 'chain id', 'groundwork-devnet')
    .option('--faucet-amount <amount>', 'genesis balance of the faucet key', '1000000000gw')
    .option('--block-time <ms>', 'time between blocks in milliseconds', '1000')
    .option('--api-port <port>', 'API port', '1317')
    .option('--force', 'replace an existing home (deletes its chain data and keys)')
    .action((opts: { chainId: string; faucetAmount: string; blockTime: string; apiPort: string; force?: boolean }, cmd: Command) => {
      const cli = new Cli(cmd);
      const faucetAmount = parseAmount(opts.faucetAmount);
      const r = initHome({
        home: cli.home,
        chainId: opts.chainId,
        faucetAmount,
        blockIntervalMs: parseIntArg(opts.blockTime, '--block-time', 10),
        apiPort: parseIntArg(opts.apiPort, '--api-port', 1),
        force: opts.force === true,
      });
      cli.out(
        [
          `Initialized ${r.home}`,
          `  chain id:  ${r.chainId}`,
          `  validator: ${r.validatorAddress}`,
          `  faucet:    ${r.faucetAddress} (${formatAmount(faucetAmount)}, key "faucet" in the test keyring)`,
          '',
          'Next: groundwork node start' + (cli.home === undefined ? '' : ` --home ${r.home}`),
        ],
        { ...r, faucetAmount: faucetAmount.toString() },
      );
    });
}
