/**
 * What every CLI command shares: global options (--home, --node, --json), output in human or
 * JSON form, the client for the node, the keyring, passphrases.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { GroundworkError, InvalidInputError } from '../core/errors.js';
import { decodeAddress, isAddress } from '../core/keys.js';
import { createClient, type Client } from '../client/client.js';
import { Keyring, type KeyringBackend } from '../client/keyring.js';
import { defaultHome, homePaths, loadConfig } from '../node/home.js';

export interface GlobalOptions {
  home?: string;
  node?: string;
  json?: boolean;
}

export class Cli {
  readonly home: string;
  readonly json: boolean;
  private readonly nodeUrl: string | undefined;

  constructor(cmd: Command) {
    const o = cmd.optsWithGlobals<GlobalOptions>();
    this.home = o.home ?? defaultHome();
    this.json = o.json === true;
    this.nodeUrl = o.node ?? process.env.GROUNDWORK_NODE;
  }

  /** Prints `json` with --json, else the human lines. */
  out(human: string | string[], json: unknown): void {
    if (this.json) process.stdout.write(`${JSON.stringify(json, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`);
    else process.stdout.write(`${Array.isArray(human) ? human.join('\n') : human}\n`);
  }

  /** Progress and hints go to stderr so --json output stays clean. */
  note(line: string): void {
    if (!this.json) process.stderr.write(`${line}\n`);
  }

  get url(): string {
    if (this.nodeUrl) return this.nodeUrl;
    if (existsSync(homePaths(this.home).config)) {
      const c = loadConfig(this.home);
      const host = c.api.host === '0.0.0.0' || c.api.host === '::' ? '127.0.0.1' : c.api.host;
      return `http://${host}:${c.api.port}`;
    }
    return 'http://127.0.0.1:1317';
  }

  /** A client that trusts the genesis in the home directory (or, without one, the node's own). */
  client(): Client {
    const g = homePaths(this.home).genesis;
    const genesis = existsSync(g) ? new Uint8Array(readFileSync(g)) : undefined;
    return createClient(genesis ? { url: this.url, genesis } : { url: this.url });
  }

  keyring(): Keyring {
    return new Keyring(homePaths(this.home).keyring);
  }

  /** An address argument: a bech32 address, or the name of a key in the keyring. */
  resolveAddress(arg: string): string {
    if (isAddress(arg)) return arg;
    const kr = this.keyring();
    try {
      if (kr.has(arg)) return kr.get(arg).address;
    } catch {
      // not a valid key name either; fall through to the address error
    }
    decodeAddress(arg); // throws a precise INVALID_ADDRESS
    return arg;
  }
}

/**
 * A passphrase from --passphrase-file, $GROUNDWORK_PASSPHRASE, or an interactive prompt (only
 * when stdin is a terminal).
 */
export async function readPassphrase(opts: { passphraseFile?: string }, prompt: string, confirm = false): Promise<string> {
  if (opts.passphraseFile) {
    if (!existsSync(opts.passphraseFile)) throw new InvalidInputError('FILE_NOT_FOUND', `passphrase file ${opts.passphraseFile} does not exist`);
    return readFileSync(opts.passphraseFile, 'utf8').replace(/\r?\n$/, '');
  }
  if (process.env.GROUNDWORK_PASSPHRASE) return process.env.GROUNDWORK_PASSPHRASE;
  if (!process.stdin.isTTY) {
    throw new GroundworkError('PASSPHRASE_REQUIRED', 'a passphrase is needed: pass --passphrase-file, set GROUNDWORK_PASSPHRASE, or run in a terminal');
  }
  const { default: password } = await import('@inquirer/password');
  const p = await password({ message: prompt, mask: '*' });
  if (confirm) {
    const again = await password({ message: 'Repeat the passphrase:', mask: '*' });
    if (again !== p) throw new InvalidInputError('PASSPHRASE_MISMATCH', 'the passphrases do not match');
  }
  return p;
}

export function parseBackend(v: string): KeyringBackend {
  if (v !== 'file' && v !== 'test') throw new InvalidInputError('INVALID_BACKEND', `--keyring-backend must be "file" or "test", got "${v}"`);
  return v;
}

/** A TCP port from an option (1–65535). */
export function parsePortArg(v: string, what: string): number {
  const n = parseIntArg(v, what, 1);
  if (n > 65535) throw new InvalidInputError('INVALID_ARGUMENT', `${what} must be a port (1–65535), got "${v}"`);
  return n;
}

export function parseIntArg(v: string, what: string, min = 0): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min) throw new InvalidInputError('INVALID_ARGUMENT', `${what} must be an integer ≥ ${min}, got "${v}"`);
  return n;
}
