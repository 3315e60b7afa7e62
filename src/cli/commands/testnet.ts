import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { createTestnet, readTestnet, startValidator, stopTestnet, testnetInfoPath, testnetStatus, waitForHeight, type NodeStatus } from '../../devnet/testnet.js';
import { Cli, parseIntArg } from '../context.js';

const DEFAULT_DIR = join(homedir(), '.groundwork-testnet');

function dirOf(opts: { dir?: string }): string {
  return resolve(opts.dir ?? process.env.GROUNDWORK_TESTNET ?? DEFAULT_DIR);
}

function table(s: NodeStatus[]): string[] {
  return s.map(
    (n) =>
      `  ${n.name.padEnd(12)} ${n.running ? 'running' : 'stopped'}  height ${String(n.height ?? '-').padStart(6)}  app hash ${(n.appHash ?? '-').slice(0, 16)}…  peers ${n.peers ?? '-'}  rpc ${n.rpc}`,
  );
}

export function testnetCommand(program: Command): void {
  const t = program.command('testnet').description('a local multi-validator network under CometBFT (every validator on this machine, on loopback)');
  t.command('start')
    .description('create the network on first use, then start every validator that is not running')
    .option('--validators <n>', 'number of validators (when creating)', '4')
    .option('--dir <dir>', `where the network lives (default: $GROUNDWORK_TESTNET or ${DEFAULT_DIR})`)
    .option('--base-port <port>', 'first port; validator i uses base + 10i .. base + 10i + 3 (when creating)', '26600')
    .option('--block-time <duration>', 'CometBFT timeout_commit, e.g. 1s or 500ms (when creating)', '1s')
    .action(async (opts: { validators: string; dir?: string; basePort: string; blockTime: string }, cmd: Command) => {
      const cli = new Cli(cmd);
      const dir = dirOf(opts);
      const created = !existsSync(testnetInfoPath(dir));
      const info = created
        ? createTestnet({ dir, validators: parseIntArg(opts.validators, '--validators', 1), basePort: parseIntArg(opts.basePort, '--base-port', 1024), timeoutCommit: opts.blockTime })
        : readTestnet(dir);
      const started = info.validators.filter((v) => startValidator(info, v)).length;
      const s = await waitForHeight(info, 1, 90_000);
      cli.out(
        [
          `${created ? 'Created and started' : `Started ${started} of`} ${info.validators.length} validators of chain ${info.chainId} in ${dir}${created || started === info.validators.length ? '' : ` (${info.validators.length - started} already running)`}`,
          ...table(s),
          `faucet: ${info.faucetAddress} (key "faucet" in ${join(dir, 'keyring')}, test backend)`,
          `Next: groundwork testnet status --dir ${dir}   |   groundwork testnet stop --dir ${dir}`,
        ],
        { created, started, dir, chainId: info.chainId, faucet: info.faucetAddress, nodes: s },
      );
    });
  t.command('status')
    .description('height, app hash and peers of every validator')
    .option('--dir <dir>', `the network (default: $GROUNDWORK_TESTNET or ${DEFAULT_DIR})`)
    .action(async (opts: { dir?: string }, cmd: Command) => {
      const cli = new Cli(cmd);
      const info = readTestnet(dirOf(opts));
      const s = await testnetStatus(info);
      cli.out([`chain ${info.chainId} (${info.dir})`, ...table(s)], { chainId: info.chainId, dir: info.dir, nodes: s });
    });
  t.command('stop')
    .description('stop every validator (state is kept; "testnet start" resumes)')
    .option('--dir <dir>', `the network (default: $GROUNDWORK_TESTNET or ${DEFAULT_DIR})`)
    .action(async (opts: { dir?: string }, cmd: Command) => {
      const cli = new Cli(cmd);
      const info = readTestnet(dirOf(opts));
      const n = await stopTestnet(info);
      cli.out(`Stopped ${n} validator${n === 1 ? '' : 's'} of ${info.chainId}`, { stopped: n });
    });
}
