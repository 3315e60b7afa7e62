/**
 * Real processes for integration tests: the `groundwork` CLI and a running node, on loopback
 * with a free port, stopped (or killed) by the test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NODE_FLAGS } from '../core/nodeflags.js';

/** Repository root (dist/src/testkit → ../../..). */
export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const BIN = join(REPO, 'bin', 'groundwork.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** With `peakRss` (Linux): the process's peak resident memory (VmHWM) as last read, in bytes; 0 if never read. */
  peakRssBytes?: number;
}

/** The peak resident set (VmHWM) of process `pid` in bytes, or undefined (gone, or no /proc). */
function peakRss(pid: number): number | undefined {
  try {
    const m = /^VmHWM:\s+([0-9]+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Runs the CLI to completion; `peakRss`: read its peak resident memory every 50 ms meanwhile. */
export function cli(args: string[], opts: { home?: string; input?: string; env?: Record<string, string>; timeoutMs?: number; peakRss?: boolean } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const argv = [...NODE_FLAGS, BIN, ...(opts.home ? ['--home', opts.home] : []), ...args];
    const p = spawn(process.execPath, argv, { env: { ...process.env, GROUNDWORK_HOME: '', GROUNDWORK_NODE: '', ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let peak = 0;
    const sampler = opts.peakRss && p.pid !== undefined ? setInterval(() => (peak = peakRss(p.pid as number) ?? peak), 50) : undefined;
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const t = setTimeout(() => {
      clearInterval(sampler);
      p.kill('SIGKILL');
      reject(new Error(`groundwork ${args.join(' ')} timed out\n${stderr}`));
    }, opts.timeoutMs ?? 60_000);
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(t);
      clearInterval(sampler);
      resolve({ code: code ?? -1, stdout, stderr, ...(opts.peakRss ? { peakRssBytes: peak } : {}) });
    });
    p.stdin.end(opts.input ?? '');
  });
}

/**
 * The CLI bound to one home, for tests that run many commands: `run` asserts exit 0 (or, with
 * ok = false, exit 1) and returns the result; `json` adds --json and parses stdout.
 */
export function cliIn(home: string): {
  run(args: string[], ok?: boolean): Promise<CliResult>;
  json<T = Record<string, unknown>>(args: string[]): Promise<T>;
} {
  const run = async (args: string[], ok = true): Promise<CliResult> => {
    const r = await cli(args, { home });
    if (ok && r.code !== 0) throw new Error(`groundwork ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    if (!ok && r.code !== 1) throw new Error(`groundwork ${args.join(' ')} should fail with exit 1 (got ${r.code}): ${r.stdout}${r.stderr}`);
    return r;
  };
  return { run, json: async <T = Record<string, unknown>>(args: string[]) => JSON.parse((await run([...args, '--json'])).stdout) as T };
}

export { freePort } from '../devnet/ports.js';

/** A long-running `groundwork` process whose output a test waits on. */
export interface LiveProcess {
  readonly proc: ChildProcess;
  /** Everything it printed so far (stdout and stderr). */
  out(): string;
  /** Resolves with the first match of `re` in the output from offset `from` on; rejects after `timeoutMs`. */
  waitFor(re: RegExp, timeoutMs?: number, from?: number): Promise<RegExpExecArray>;
  readonly exited: Promise<number | null>;
  /** SIGTERM and wait for the exit; resolves with the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL (kill -9) and wait for the process to be gone. */
  kill9(): Promise<void>;
}

/** Spawns `node [nodeArgs] bin/groundwork.js args` with GROUNDWORK_HOME/NODE cleared (nodeArgs default: NODE_FLAGS, as the shebang). */
export function spawnCli(args: string[], opts: { nodeArgs?: string[] } = {}): LiveProcess {
  const proc = spawn(process.execPath, [...(opts.nodeArgs ?? NODE_FLAGS), BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, GROUNDWORK_HOME: '', GROUNDWORK_NODE: '' } });
  let out = '';
  const waiters = new Set<() => void>();
  const onData = (d: Buffer) => {
    out += d.toString();
    for (const w of [...waiters]) w();
  };
  proc.stdout?.on('data', onData);
  proc.stderr?.on('data', onData);
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  // An exit also wakes the waiters, so one waiting for output that will never come fails at once.
  void exited.then(() => {
    for (const w of [...waiters]) w();
  });
  const waitFor = (re: RegExp, timeoutMs = 30_000, from = 0) =>
    new Promise<RegExpExecArray>((resolve, reject) => {
      const done = (): void => {
        waiters.delete(check);
        clearTimeout(t);
      };
      const check = (): void => {
        const m = re.exec(out.slice(from));
        if (m) {
          done();
          resolve(m);
        } else if (proc.exitCode !== null || proc.signalCode !== null) {
          done();
          reject(new Error(`groundwork ${args.join(' ')} exited (${proc.exitCode ?? proc.signalCode}) before printing ${re}:\n${out}`));
        }
      };
      const t = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no ${re} within ${timeoutMs} ms from groundwork ${args.join(' ')}:\n${out}`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  return {
    proc,
    out: () => out,
    waitFor,
    exited,
    async stop() {
      if (proc.exitCode !== null) return proc.exitCode;
      proc.kill('SIGTERM');
      return exited;
    },
    async kill9() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited;
    },
  };
}

export interface NodeProcess {
  readonly proc: ChildProcess;
  readonly url: string;
  /** Everything the node logged so far. */
  log(): string;
  /** SIGTERM and wait for a clean exit; resolves with the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL (kill -9) and wait for the process to be gone. */
  kill9(): Promise<void>;
}

/** Starts `groundwork node start` on a free port and waits until its API answers. */
export async function startNode(home: string, opts: { blockTimeMs?: number; extraArgs?: string[]; timeoutMs?: number } = {}): Promise<NodeProcess> {
  const args = ['--home', home, 'node', 'start', '--api-port', '0', '--log-level', 'info'];
  if (opts.blockTimeMs) args.push('--block-time', String(opts.blockTimeMs));
  args.push(...(opts.extraArgs ?? []));
  const p = spawnCli(args);
  try {
    const m = await p.waitFor(/node running .*api=(http:\/\/[0-9.]+:[0-9]+)/, opts.timeoutMs ?? 30_000);
    return { proc: p.proc, url: m[1] as string, log: p.out, stop: p.stop, kill9: p.kill9 };
  } catch (e) {
    await p.kill9();
    throw e;
  }
}

/**
 * A one-validator chain set up through the CLI in `home`: keys `owner`, `other` and the maker
 * `acme` (test keyring; the genesis approves the maker and gives the owner Data Credits for
 * device onboarding fees), the node started, owner and other funded with `funds` each.
 */
export async function startMakerChain(
  home: string,
  o: { chainId: string; owner: string; other: string; funds: string },
): Promise<{ node: NodeProcess; n: string[]; owner: string; genesisPath: string }> {
  const { run, json } = cliIn(home);
  await run(['init', '--chain-id', o.chainId, '--block-time', '200']);
  const owner = (await json(['keys', 'add', o.owner, '--keyring-backend', 'test'])).address as string;
  await run(['keys', 'add', o.other, '--keyring-backend', 'test']);
  const acme = (await json(['keys', 'add', 'acme', '--keyring-backend', 'test'])).publicKey as string;
  const genesisPath = join(home, 'genesis.json');
  const g = JSON.parse(readFileSync(genesisPath, 'utf8')) as { app: Record<string, unknown> };
  g.app.devices = { makers: [{ name: 'acme', pubKey: acme }] };
  g.app.credits = { balances: [{ address: owner, amount: '10000000' }] };
  writeFileSync(genesisPath, JSON.stringify(g, null, 2));
  const node = await startNode(home);
  const n = ['--node', node.url];
  try {
    await run([...n, 'bank', 'send', 'faucet', o.owner, o.funds]);
    await run([...n, 'bank', 'send', 'faucet', o.other, o.funds]);
  } catch (e) {
    await node.stop();
    throw e;
  }
  return { node, n, owner, genesisPath };
}

/**
 * A one-validator chain and a provider operator set up the way an operator does it, through the
 * CLI in `home` (startMakerChain with owner `prov`, other `cust`, 1000 GW each), prov
 * self-bonded (150 GW), a storage device onboarded, and `provider init` then `provider.json`
 * edited with `config` (node URL and device filled in).
 */
export async function setupOperator(
  home: string,
  o: { chainId: string; hostUri: string; metricsListen: string; config: Record<string, unknown> },
): Promise<{ node: NodeProcess; n: string[]; prov: string; device: string; genesisPath: string }> {
  const { run, json } = cliIn(home);
  const { node, n, owner: prov, genesisPath } = await startMakerChain(home, { chainId: o.chainId, owner: 'prov', other: 'cust', funds: '1000gw' });
  // market.minProviderStake: 100 GW bonded by the operator.
  await run([...n, 'staking', 'delegate', 'prov', 'self', '150gw']);
  const keyFile = join(home, 'device.json');
  const device = (await json(['device', 'keygen', 'd1', '--out', keyFile])).publicKey as string;
  const sig = (await run(['maker', 'sign', 'acme', device, '--kind', 'storage'])).stdout.trim();
  await run([...n, 'device', 'onboard', 'prov', '--device-key', keyFile, '--maker', 'acme', '--maker-signature', sig, '--kind', 'storage', '--capacity', '4TiB', '--bandwidth', '1Gbps']);
  // The agent's config, from `provider init` then edited like an operator would.
  await run([...n, 'provider', 'init', '--key', 'prov', '--keyring-backend', 'test', '--host-uri', o.hostUri, '--metrics-listen', o.metricsListen]);
  const cPath = join(home, 'provider.json');
  const c = JSON.parse(readFileSync(cPath, 'utf8')) as Record<string, unknown>;
  writeFileSync(cPath, JSON.stringify({ ...c, node: node.url, devices: [device], ...o.config }, null, 2));
  return { node, n, prov, device, genesisPath };
}
