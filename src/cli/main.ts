/**
 * The `groundwork` command. Commands are thin: they parse arguments, call the SDK or the node,
 * and print. Every error a user can cause prints one line and exits 1; a bug prints
 * "internal error" and the stack only with GROUNDWORK_DEBUG=1.
 */
import { Command, CommanderError } from 'commander';
import { GroundworkError } from '../core/errors.js';
import { VERSION } from '../version.js';
import { bankCommand } from './commands/bank.js';
import { creditsCommand } from './commands/credits.js';
import { devnetCommand } from './commands/devnet.js';
import { govCommand } from './commands/gov.js';
import { deviceCommand, makerCommand } from './commands/device.js';
import { initCommand } from './commands/init.js';
import { keysCommand } from './commands/keys.js';
import { leaseCommand, marketCommand } from './commands/market.js';
import { nodeCommand } from './commands/node.js';
import { oracleCommand } from './commands/oracle.js';
import { penaltiesCommand } from './commands/penalties.js';
import { providerCommand } from './commands/provider.js';
import { queryCommand } from './commands/query.js';
import { rewardsCommand } from './commands/rewards.js';
import { stakingCommand } from './commands/staking.js';
import { storeCommand } from './commands/store.js';
import { testnetCommand } from './commands/testnet.js';
import { testverticalCommand } from './commands/testvertical.js';

export function buildProgram(): Command {
  const program = new Command('groundwork')
    .description('Groundwork: an open protocol stack for decentralized physical infrastructure networks')
    .version(VERSION, '-v, --version')
    .option('--home <dir>', 'home directory (default: $GROUNDWORK_HOME or ~/.groundwork)')
    .option('--node <url>', 'node API URL (default: from <home>/config.json, or $GROUNDWORK_NODE)')
    .option('--json', 'print machine-readable JSON')
    .showHelpAfterError('(add --help for usage)')
    .configureHelp({ showGlobalOptions: true })
    .exitOverride();
  initCommand(program);
  nodeCommand(program);
  devnetCommand(program);
  testnetCommand(program);
  keysCommand(program);
  bankCommand(program);
  stakingCommand(program);
  deviceCommand(program);
  makerCommand(program);
  oracleCommand(program);
  creditsCommand(program);
  govCommand(program);
  rewardsCommand(program);
  penaltiesCommand(program);
  providerCommand(program);
  marketCommand(program);
  leaseCommand(program);
  storeCommand(program);
  testverticalCommand(program);
  queryCommand(program);
  for (const c of program.commands) {
    c.exitOverride();
    for (const sub of c.commands) sub.exitOverride();
  }
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  const json = argv.includes('--json');
  try {
    await program.parseAsync(argv);
    // A service command may end with a status of its own (e.g. a validator whose CometBFT died).
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version "fail" with code 0; usage errors were already printed by commander.
      return e.exitCode === 0 ? 0 : 2;
    }
    if (e instanceof GroundworkError) {
      if (json) process.stderr.write(`${JSON.stringify({ error: { code: e.code, message: e.message } })}\n`);
      else process.stderr.write(`error: ${e.message}\n`);
      if (process.env.GROUNDWORK_DEBUG) process.stderr.write(`${e.stack ?? ''}\n`);
      return 1;
    }
    const msg = e instanceof Error ? e.message : String(e);
    process.stderr.write(`internal error: ${msg}\n`);
    process.stderr.write(process.env.GROUNDWORK_DEBUG ? `${(e as Error).stack ?? ''}\n` : 'run with GROUNDWORK_DEBUG=1 to see the stack trace, and please report it\n');
    return 1;
  }
}
