import { existsSync, readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { formatAmount } from '../../core/amount.js';
import { InvalidInputError } from '../../core/errors.js';
import { initHome, MAX_DEVNET_PROVIDERS } from '../../devnet/init.js';
import { providersBlock, providersFailed, setupDevnetProviders, startProviderAgents, type ProviderFleet } from '../../devnet/providers.js';
import { runNode, stopOnSignals } from '../../devnet/run.js';
import { homePaths } from '../../node/home.js';
import { getAccount } from '../../client/actions/getAccount.js';
import { createClient } from '../../client/client.js';
import { Cli, parseIntArg, parsePortArg } from '../context.js';

/** Provider keys a new devnet home gets even when fewer providers run now (a later start may run them). */
const DEFAULT_PROVIDERS = 6;

export function devnetCommand(program: Command): void {
  const devnet = program.command('devnet').description('the local network (what "npm start" runs)');
  devnet
    .command('start')
    .description('initialize the home directory if needed, then run the local network: the node and its provider agents')
    .option('--providers <n>', `provider agents to run beside the node (0-${MAX_DEVNET_PROVIDERS}; 0: none)`, String(DEFAULT_PROVIDERS))
    .option('--block-time <ms>', 'time between blocks in milliseconds (default: the home\'s config, 1000 for a new one)')
    .option('--api-port <port>', 'API port (default: the home\'s config, 1317 for a new one)')
    .action(async (opts: { providers: string; blockTime?: string; apiPort?: string }, cmd: Command) => {
      const cli = new Cli(cmd);
      const count = parseIntArg(opts.providers, '--providers');
      if (count > MAX_DEVNET_PROVIDERS) throw new InvalidInputError('INVALID_ARGUMENT', `--providers must be at most ${MAX_DEVNET_PROVIDERS}, got ${count}`);
      const blockIntervalMs = opts.blockTime === undefined ? undefined : parseIntArg(opts.blockTime, '--block-time', 10);
      const apiPort = opts.apiPort === undefined ? undefined : parsePortArg(opts.apiPort, '--api-port');
      if (!existsSync(homePaths(cli.home).genesis)) {
        const r = initHome({
          home: cli.home,
          devnetProviders: Math.max(count, DEFAULT_PROVIDERS),
          ...(blockIntervalMs !== undefined ? { blockIntervalMs } : {}),
          ...(apiPort !== undefined ? { apiPort } : {}),
        });
        cli.note(`Initialized ${r.home} (chain ${r.chainId})`);
      }
      const r = await runNode({ home: cli.home, ...(blockIntervalMs !== undefined ? { blockIntervalMs } : {}), ...(apiPort !== undefined ? { apiPort } : {}) });
      // From here a Ctrl-C stops the agents (those started so far), then the node.
      let fleet: ProviderFleet | undefined;
      let stopping = false;
      const stopped = stopOnSignals(r, async () => {
        stopping = true;
        await fleet?.stop();
      });
      let provLines: string[] = [];
      if (count > 0) {
        try {
          const set = await setupDevnetProviders({ home: cli.home, url: r.url, count, log: r.logger });
          for (const s of set.skipped) r.logger.warn('devnet-providers-skipped', { why: s });
          if (!stopping) fleet = await startProviderAgents(set.providers, { log: r.logger });
          provLines = providersBlock(set.providers, set.skipped);
        } catch (e) {
          r.logger.error('devnet-providers-failed', { error: providersFailed(e) });
          provLines = ['', `Providers: not started (${providersFailed(e)}); the node runs without them`];
        }
      }
      const faucet = cli.keyring().get('faucet');
      // The node's actual URL (--api-port may differ from the config).
      const client = createClient({ url: r.url, genesis: new Uint8Array(readFileSync(homePaths(cli.home).genesis)) });
      const bal = await getAccount(client, { address: faucet.address }).catch(() => undefined);
      const h = cli.home;
      if (!stopping) {
        cli.note(
          [
            '',
            `Groundwork local network is running (chain ${r.node.chainId}).`,
            `  API:       ${r.url}   (OpenAPI: ${r.url}/openapi.json, WebSocket: ${r.url.replace('http', 'ws')}/v1/ws)`,
            `  home:      ${h}`,
            `  faucet:    ${faucet.address}${bal ? ` holding ${formatAmount(bal.balance)}` : ''}`,
            ...provLines,
            '',
            'Try, in another terminal:',
            '  npx groundwork keys add alice --keyring-backend test',
            '  npx groundwork bank send faucet alice 100gw',
            '  npx groundwork query balance alice',
            '',
            `Ctrl-C stops the network${fleet?.providers.length ? ' and its providers' : ''}; its state is kept in the home directory.`,
          ].join('\n'),
        );
      }
      await stopped;
    });
}
