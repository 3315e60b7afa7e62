/**
 * Benchmarks: `npm run bench -- <name> [--json] [options]`. Each prints one JSON line of figures
 * with --json (progress goes to stderr). Figures are reported next to a limit measured in the
 * same run (this machine is shared and noisy), e.g. transfers/s ÷ raw Ed25519 verifications/s.
 */
import { clusterBench } from './cluster.js';
import { ledgerBench } from './ledger.js';
import { marketBench } from './market.js';
import { rewardsBench } from './rewards.js';
import { storageBench } from './storage.js';

const benches: Record<string, (args: string[]) => Promise<Record<string, unknown>>> = {
  ledger: ledgerBench,
  cluster: clusterBench,
  rewards: rewardsBench,
  market: marketBench,
  storage: storageBench,
};

const [name, ...args] = process.argv.slice(2);
if (!name || !benches[name]) {
  process.stderr.write(`usage: npm run bench -- <${Object.keys(benches).join('|')}> [--json] [options]\n`);
  process.exit(2);
}
const result = await (benches[name] as (a: string[]) => Promise<Record<string, unknown>>)(args);
if (args.includes('--json')) process.stdout.write(`${JSON.stringify(result)}\n`);
else for (const [k, v] of Object.entries(result)) process.stdout.write(`${k.padEnd(28)} ${String(v)}\n`);
process.exit(0);
