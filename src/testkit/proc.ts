/**
 * Real processes for integration tests: the `groundwork` CLI and a running node, on loopback
 * with a free port, stopped (or killed) by the test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (dist/src/testkit → ../../..). */
export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const BIN = join(REPO, 'bin', 'groundwork.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI to completion. */
export function cli(args: string[], opts: { home?: string; input?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const argv = [BIN, ...(opts.home ? ['--home', opts.home] : []), ...args];
    const p = spawn(process.execPath, argv, { env: { ...process.env, GROUNDWORK_HOME: '', GROUNDWORK_NODE: '', ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const t = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`groundwork ${args.join(' ')} timed out\n${stderr}`));
    }, opts.timeoutMs ?? 60_000);
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(t);
      resolve({ code: code ?? -1, stdout, stderr });
    });
    p.stdin.end(opts.input ?? '');
  });
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
export function startNode(home: string, opts: { blockTimeMs?: number; extraArgs?: string[]; timeoutMs?: number } = {}): Promise<NodeProcess> {
  return new Promise((resolve, reject) => {
    const args = ['--max-semi-space-size=64', BIN, '--home', home, 'node', 'start', '--api-port', '0', '--log-level', 'info'];
    if (opts.blockTimeMs) args.push('--block-time', String(opts.blockTimeMs));
    args.push(...(opts.extraArgs ?? []));
    const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, GROUNDWORK_HOME: '' } });
    let out = '';
    let settled = false;
    const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /node running .*api=(http:\/\/[0-9.]+:[0-9]+)/.exec(out);
      if (m && !settled) {
        settled = true;
        clearTimeout(timer);
        const url = m[1] as string;
        resolve({
          proc,
          url,
          log: () => out,
          async stop() {
            if (proc.exitCode !== null) return proc.exitCode;
            proc.kill('SIGTERM');
            return exited;
          },
          async kill9() {
            if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
            await exited;
          },
        });
      }
    };
    proc.stdout?.on('data', onData);
    proc.stderr?.on('data', onData);
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      proc.kill('SIGKILL');
      reject(new Error(`node did not start within ${opts.timeoutMs ?? 30_000} ms:\n${out}`));
    }, opts.timeoutMs ?? 30_000);
    proc.on('exit', (code) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(new Error(`node exited with ${code} before starting:\n${out}`));
    });
  });
}
