import { readFileSync, existsSync } from 'node:fs';
import type { Command } from 'commander';
import { InvalidInputError } from '../../core/errors.js';
import { Cli, parseBackend, readPassphrase } from '../context.js';

async function readMnemonic(opts: { mnemonicFile?: string }): Promise<string> {
  if (opts.mnemonicFile) {
    if (!existsSync(opts.mnemonicFile)) throw new InvalidInputError('FILE_NOT_FOUND', `mnemonic file ${opts.mnemonicFile} does not exist`);
    return readFileSync(opts.mnemonicFile, 'utf8');
  }
  if (process.env.GROUNDWORK_MNEMONIC) return process.env.GROUNDWORK_MNEMONIC;
  if (!process.stdin.isTTY) {
    // Piped: read the mnemonic from stdin.
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }
  const { default: password } = await import('@inquirer/password');
  return password({ message: 'Mnemonic (24 words):', mask: '*' });
}

export function keysCommand(program: Command): void {
  const keys = program.command('keys').description('manage keys in the keyring (<home>/keyring)');

  keys
    .command('add <name>')
    .description('create a key (new 24-word mnemonic), or recover one with --recover')
    .option('--recover', 'recover from an existing mnemonic (asked for, or --mnemonic-file / stdin)')
    .option('--mnemonic-file <file>', 'file holding the mnemonic (with --recover)')
    .option('--keyring-backend <backend>', 'file (encrypted with a passphrase) or test (unencrypted, devnet only)', 'file')
    .option('--passphrase-file <file>', 'file holding the passphrase (file backend)')
    .action(async (name: string, opts: { recover?: boolean; mnemonicFile?: string; keyringBackend: string; passphraseFile?: string }, cmd: Command) => {
      const cli = new Cli(cmd);
      const backend = parseBackend(opts.keyringBackend);
      const kr = cli.keyring();
      if (kr.has(name)) throw new InvalidInputError('KEY_EXISTS', `a key named "${name}" already exists; pick another name`);
      const mnemonic = opts.recover ? await readMnemonic(opts) : undefined;
      const passphrase = backend === 'file' ? await readPassphrase(opts, `Passphrase to encrypt "${name}":`, true) : undefined;
      const { info, mnemonic: m } = kr.add(name, { backend, ...(passphrase ? { passphrase } : {}), ...(mnemonic ? { mnemonic } : {}) });
      cli.out(
        opts.recover
          ? [`Recovered key "${info.name}"`, `address: ${info.address}`]
          : [
              `Created key "${info.name}" (${backend} keyring)`,
              `address: ${info.address}`,
              '',
              'Write down this mnemonic and keep it safe; it is the only way to recover the key:',
              '',
              m,
            ],
        { ...info, ...(opts.recover ? {} : { mnemonic: m }) },
      );
    });

  keys
    .command('list')
    .description('list keys')
    .action((_o: unknown, cmd: Command) => {
      const cli = new Cli(cmd);
      const list = cli.keyring().list();
      cli.out(list.length ? list.map((k) => `${k.name.padEnd(20)} ${k.address}  (${k.backend})`) : 'no keys yet; create one with "groundwork keys add <name>"', list);
    });

  keys
    .command('show <name>')
    .description("show a key's address and public key")
    .option('-a, --address', 'print only the address')
    .action((name: string, opts: { address?: boolean }, cmd: Command) => {
      const cli = new Cli(cmd);
      const k = cli.keyring().get(name);
      if (opts.address && !cli.json) return cli.out(k.address, k.address);
      cli.out([`name:       ${k.name}`, `address:    ${k.address}`, `public key: ${k.publicKey}`, `backend:    ${k.backend}`, `hd path:    ${k.hdPath}`], k);
    });

  keys
    .command('export <name>')
    .description("print a key's mnemonic (anyone who sees it controls the key)")
    .option('--passphrase-file <file>', 'file holding the passphrase (file backend)')
    .action(async (name: string, opts: { passphraseFile?: string }, cmd: Command) => {
      const cli = new Cli(cmd);
      const kr = cli.keyring();
      const passphrase = kr.needsPassphrase(name) ? await readPassphrase(opts, `Passphrase of "${name}":`) : undefined;
      const m = kr.exportMnemonic(name, passphrase);
      cli.note('Warning: anyone who sees this mnemonic controls the key.');
      cli.out(m, { name, mnemonic: m });
    });

  keys
    .command('import <name>')
    .description('import a key from its mnemonic (asked for, or --mnemonic-file / stdin)')
    .option('--mnemonic-file <file>', 'file holding the mnemonic')
    .option('--keyring-backend <backend>', 'file or test', 'file')
    .option('--passphrase-file <file>', 'file holding the passphrase (file backend)')
    .action(async (name: string, opts: { mnemonicFile?: string; keyringBackend: string; passphraseFile?: string }, cmd: Command) => {
      const cli = new Cli(cmd);
      const backend = parseBackend(opts.keyringBackend);
      const kr = cli.keyring();
      if (kr.has(name)) throw new InvalidInputError('KEY_EXISTS', `a key named "${name}" already exists; pick another name`);
      const mnemonic = await readMnemonic(opts);
      const passphrase = backend === 'file' ? await readPassphrase(opts, `Passphrase to encrypt "${name}":`, true) : undefined;
      const { info } = kr.add(name, { backend, mnemonic, ...(passphrase ? { passphrase } : {}) });
      cli.out([`Imported key "${info.name}"`, `address: ${info.address}`], info);
    });

  keys
    .command('delete <name>')
    .description('delete a key from the keyring (export its mnemonic first!)')
    .option('-y, --yes', 'do not ask for confirmation')
    .action(async (name: string, opts: { yes?: boolean }, cmd: Command) => {
      const cli = new Cli(cmd);
      const kr = cli.keyring();
      const k = kr.get(name);
      if (!opts.yes) {
        if (!process.stdin.isTTY) throw new InvalidInputError('CONFIRMATION_REQUIRED', 'pass --yes to delete without a prompt');
        const { createInterface } = await import('node:readline/promises');
        const rl = createInterface({ input: process.stdin, output: process.stderr });
        const a = await rl.question(`Delete key "${name}" (${k.address})? Type the name to confirm: `);
        rl.close();
        if (a.trim() !== name) throw new InvalidInputError('NOT_CONFIRMED', 'not deleted');
      }
      kr.delete(name);
      cli.out(`Deleted key "${name}"`, { deleted: name });
    });
}
