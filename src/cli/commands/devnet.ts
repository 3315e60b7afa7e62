import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { formatAmount } from '../../core/amount.js';
import { initHome } from '../../devnet/init.js';
import { runNode, stopOnSignals } from '../../devnet/run.js';
import { homePaths } from '../../node/home.js';
import { getAccount } from '../../client/actions/getAccount.js';
import { Cli } from '../context.js';

export function devnetCommand(program: Command): void {
  const devnet = program.command('devnet').description('the local network (what "npm start" runs)');
  devnet
    .command('start')
    .description('initialize the home directory if needed, then run the local network')
    .action(async (_o: unknown, cmd: Command) => {
      const cli = new Cli(cmd);
      if (!existsSync(homePaths(cli.home).genesis)) {
        const r = initHome({ home: cli.home });
        cli.note(`Initialized ${r.home} (chain ${r.chainId})`);
      }
      const r = await runNode({ home: cli.home });
      const faucet = cli.keyring().get('faucet');
      const bal = await getAccount(cli.client(), { address: faucet.address }).catch(() => undefined);
      const h = cli.home;
      cli.note(
        [
          '',
          `Groundwork local network is running (chain ${r.node.chainId}).`,
          `  API:       ${r.url}   (OpenAPI: ${r.url}/openapi.json, WebSocket: ${r.url.replace('http', 'ws')}/v1/ws)`,
          `  home:      ${h}`,
          `  faucet:    ${faucet.address}${bal ? ` holding ${formatAmount(bal.balance)}` : ''}`,
          '',
          'Try, in another terminal:',
          '  npx groundwork keys add alice --keyring-backend test',
          '  npx groundwork bank send faucet alice 100gw',
          '  npx groundwork query balance alice',
          '',
          'Ctrl-C stops the network; its state is kept in the home directory.',
        ].join('\n'),
      );
      await stopOnSignals(r);
    });
}
