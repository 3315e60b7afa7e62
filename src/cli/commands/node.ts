import type { Command } from 'commander';
import { toHex } from '../../core/bytes.js';
import { LOG_LEVELS, type LogLevel } from '../../core/log.js';
import { InvalidInputError } from '../../core/errors.js';
import { joinNetwork } from '../../devnet/join.js';
import { runCometbftValidator, runNode, stopOnSignals } from '../../devnet/run.js';
import { loadGenesis } from '../../node/home.js';
import { replayChain } from '../../node/replay.js';
import { Cli, parseIntArg, parsePortArg } from '../context.js';
import { progressBar } from '../progress.js';

export function nodeCommand(program: Command): void {
  const node = program.command('node').description('run and check the embedded node');

  node
    .command('start')
    .description('run the embedded single-validator node (blocks + REST/WebSocket API) until SIGINT/SIGTERM')
    .option('--block-time <ms>', 'time between blocks in milliseconds (config.json: blockIntervalMs)')
    .option('--api-host <host>', 'API listen address (config.json: api.host)')
    .option('--api-port <port>', 'API port (config.json: api.port)')
    .option('--log-level <level>', `one of ${LOG_LEVELS.join(', ')}`)
    .option('--log-json', 'log JSON lines')
    .option('--cometbft', 'run as one validator of a CometBFT network: ABCI server + CometBFT from <home>/cometbft')
    .option('--abci-port <port>', 'ABCI port with --cometbft (config.json: abci.port)')
    .action(async (opts: { blockTime?: string; apiHost?: string; apiPort?: string; logLevel?: string; logJson?: boolean; cometbft?: boolean; abciPort?: string }, cmd: Command) => {
      const cli = new Cli(cmd);
      if (opts.logLevel && !LOG_LEVELS.includes(opts.logLevel as LogLevel)) {
        throw new InvalidInputError('INVALID_ARGUMENT', `--log-level must be one of ${LOG_LEVELS.join(', ')}`);
      }
      if (opts.cometbft) {
        process.exitCode = await runCometbftValidator({
          home: cli.home,
          ...(opts.abciPort ? { abciPort: parseIntArg(opts.abciPort, '--abci-port', 0) } : {}),
          ...(opts.logLevel ? { logLevel: opts.logLevel as LogLevel } : {}),
          ...(opts.logJson ? { logJson: true } : {}),
        });
        return;
      }
      const r = await runNode({
        home: cli.home,
        ...(opts.blockTime ? { blockIntervalMs: parseIntArg(opts.blockTime, '--block-time', 10) } : {}),
        ...(opts.apiHost ? { apiHost: opts.apiHost } : {}),
        ...(opts.apiPort ? { apiPort: parseIntArg(opts.apiPort, '--api-port', 0) } : {}),
        ...(opts.logLevel ? { logLevel: opts.logLevel as LogLevel } : {}),
        ...(opts.logJson ? { logJson: true } : {}),
      });
      cli.note(`Groundwork node running: chain ${r.node.chainId}, height ${r.node.height}, API ${r.url} (Ctrl-C to stop)`);
      await stopOnSignals(r);
    });

  node
    .command('join')
    .description("create a home that follows a running CometBFT network: genesis and a peer from any node's RPC")
    .requiredOption('--from <rpc>', 'CometBFT RPC of a node of the network, e.g. http://203.0.113.7:26657')
    .option('--p2p-port <port>', 'p2p port (others connect here)', '26656')
    .option('--p2p-host <host>', 'address p2p listens on', '0.0.0.0')
    .option('--rpc-port <port>', 'CometBFT RPC port (loopback)', '26657')
    .option('--abci-port <port>', 'ABCI port between CometBFT and the app (loopback)', '26658')
    .option('--api-port <port>', 'REST API port (loopback)', '1317')
    .option('--moniker <name>', 'name shown to peers')
    .action(async (opts: { from: string; p2pPort: string; p2pHost: string; rpcPort: string; abciPort: string; apiPort: string; moniker?: string }, cmd: Command) => {
      const cli = new Cli(cmd);
      const ports = {
        p2p: parsePortArg(opts.p2pPort, '--p2p-port'),
        rpc: parsePortArg(opts.rpcPort, '--rpc-port'),
        abci: parsePortArg(opts.abciPort, '--abci-port'),
        api: parsePortArg(opts.apiPort, '--api-port'),
      };
      const r = await joinNetwork({ home: cli.home, from: opts.from, ports, p2pHost: opts.p2pHost, ...(opts.moniker ? { moniker: opts.moniker } : {}) });
      cli.out(
        [
          `Joined chain ${r.chainId} as node ${r.nodeId} (peer ${r.peer}); home ${r.home}`,
          `Start it with: groundwork node start --cometbft --home ${r.home}`,
        ],
        { ok: true, ...r },
      );
    });

  node
    .command('replay')
    .description('re-execute every stored block from genesis and check each app hash')
    .option('--to <height>', 'stop at this height')
    .action(async (opts: { to?: string }, cmd: Command) => {
      const cli = new Cli(cmd);
      const genesis = loadGenesis(cli.home);
      const bar = cli.json ? undefined : progressBar('replay', 'blocks');
      const res = await replayChain(cli.home, genesis, {
        ...(opts.to ? { toHeight: parseIntArg(opts.to, '--to', 0) } : {}),
        onProgress: (p) => bar?.update(p.height, p.target),
      });
      bar?.stop();
      cli.out(
        [`Replayed ${res.blocks} blocks (${res.txs} txs) in ${res.seconds.toFixed(1)} s: every app hash matches`, `app hash at ${res.blocks}: ${toHex(res.appHash).toUpperCase()}`],
        { ok: true, blocks: res.blocks, txs: res.txs, appHash: toHex(res.appHash).toUpperCase(), seconds: res.seconds },
      );
    });
}
