/**
 * Keys on disk. Each key is a BIP-39 mnemonic (24 words by default) from which the Ed25519 key
 * is derived with SLIP-0010 at HD_PATH. One JSON file per key in the keyring directory:
 *
 * - backend "file" (default): the mnemonic is encrypted with the passphrase (scrypt N=2^15,
 *   r=8, p=1 → AES-256-GCM); a wrong passphrase fails the GCM tag check, never yields a key;
 * - backend "test": the mnemonic is stored in the clear (devnets, CI, the faucet key).
 *
 * Files are written atomically (temp file + rename) with mode 0600.
 */
import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateMnemonic, mnemonicToSeedSync, validateMnemonic } from '@scure/bip39';
import { wordlist } from '@scure/bip39/wordlists/english.js';
import { HDKey } from 'micro-key-producer/slip10.js';
import { fromHex, toHex } from '../core/bytes.js';
import { GroundworkError, InvalidInputError } from '../core/errors.js';
import { Ed25519Key, encodeAddress } from '../core/keys.js';

/** SLIP-0010 path (ed25519 allows hardened steps only). */
export const HD_PATH = "m/44'/9000'/0'/0'/0'";

export type KeyringBackend = 'file' | 'test';

export interface KeyInfo {
  name: string;
  address: string;
  publicKey: string;
  backend: KeyringBackend;
  hdPath: string;
  createdAt: string;
}

interface KeyFile extends KeyInfo {
  version: 1;
  mnemonic?: string;
  crypto?: { kdf: 'scrypt'; n: number; r: number; p: number; salt: string; cipher: 'aes-256-gcm'; iv: string; ciphertext: string; tag: string };
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const SCRYPT = { n: 1 << 15, r: 8, p: 1 };

export class KeyringError extends GroundworkError {
  override name = 'KeyringError';
}

export function keyFromMnemonic(mnemonic: string): Ed25519Key {
  const seed = mnemonicToSeedSync(mnemonic.trim());
  return Ed25519Key.fromSeed(HDKey.fromMasterSeed(seed).derive(HD_PATH).privateKey);
}

export function normalizeMnemonic(m: string): string {
  const words = m.trim().toLowerCase().split(/\s+/);
  const norm = words.join(' ');
  if (![12, 15, 18, 21, 24].includes(words.length)) {
    throw new InvalidInputError('INVALID_MNEMONIC', `a mnemonic has 12, 15, 18, 21 or 24 words, got ${words.length}`);
  }
  const unknown = words.find((w) => !wordlist.includes(w));
  if (unknown) throw new InvalidInputError('INVALID_MNEMONIC', `"${unknown}" is not a BIP-39 English word`);
  if (!validateMnemonic(norm, wordlist)) throw new InvalidInputError('INVALID_MNEMONIC', 'mnemonic checksum is wrong: a word is mistyped or out of order');
  return norm;
}

function scryptKey(passphrase: string, salt: Buffer, p: { n: number; r: number; p: number }): Buffer {
  return scryptSync(passphrase.normalize('NFKC'), salt, 32, { N: p.n, r: p.r, p: p.p, maxmem: 256 * p.n * p.r * 2 });
}

export class Keyring {
  constructor(readonly dir: string) {}

  private path(name: string): string {
    if (!NAME_RE.test(name)) {
      throw new InvalidInputError('INVALID_KEY_NAME', `key name "${name}" is invalid: use 1-64 letters, digits, ".", "_" or "-"`);
    }
    return join(this.dir, `${name}.json`);
  }

  private read(name: string): KeyFile {
    const p = this.path(name);
    if (!existsSync(p)) throw new KeyringError('KEY_NOT_FOUND', `no key named "${name}" in ${this.dir}; see "groundwork keys list"`);
    try {
      return JSON.parse(readFileSync(p, 'utf8')) as KeyFile;
    } catch (e) {
      throw new KeyringError('KEY_FILE_CORRUPT', `key file ${p} is not valid JSON`, { cause: e });
    }
  }

  has(name: string): boolean {
    return existsSync(this.path(name));
  }

  list(): KeyInfo[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir)
      .filter((f) => f.endsWith('.json'))
      .sort()
      .map((f) => info(JSON.parse(readFileSync(join(this.dir, f), 'utf8')) as KeyFile));
  }

  get(name: string): KeyInfo {
    return info(this.read(name));
  }

  /**
   * Creates a key (a new 24-word mnemonic, or `mnemonic` to recover one). The passphrase is
   * required for the file backend.
   */
  add(name: string, opts: { backend: KeyringBackend; passphrase?: string; mnemonic?: string; overwrite?: boolean }): { info: KeyInfo; mnemonic: string } {
    const p = this.path(name);
    if (existsSync(p) && !opts.overwrite) throw new KeyringError('KEY_EXISTS', `a key named "${name}" already exists; pick another name or delete it first`);
    const mnemonic = opts.mnemonic ? normalizeMnemonic(opts.mnemonic) : generateMnemonic(wordlist, 256);
    const key = keyFromMnemonic(mnemonic);
    const file: KeyFile = {
      version: 1,
      name,
      address: encodeAddress(key.address),
      publicKey: toHex(key.publicKey),
      backend: opts.backend,
      hdPath: HD_PATH,
      createdAt: new Date().toISOString(),
    };
    if (opts.backend === 'test') {
      file.mnemonic = mnemonic;
    } else {
      if (!opts.passphrase) throw new InvalidInputError('PASSPHRASE_REQUIRED', 'the file keyring needs a passphrase (or use --keyring-backend test for devnet keys)');
      if (opts.passphrase.length < 8) throw new InvalidInputError('WEAK_PASSPHRASE', 'passphrase must be at least 8 characters');
      const salt = randomBytes(16);
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', scryptKey(opts.passphrase, salt, SCRYPT), iv);
      const ciphertext = Buffer.concat([cipher.update(JSON.stringify({ mnemonic }), 'utf8'), cipher.final()]);
      file.crypto = {
        kdf: 'scrypt',
        ...SCRYPT,
        salt: salt.toString('hex'),
        cipher: 'aes-256-gcm',
        iv: iv.toString('hex'),
        ciphertext: ciphertext.toString('hex'),
        tag: cipher.getAuthTag().toString('hex'),
      };
    }
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const tmp = `${p}.tmp-${process.pid}`;
    writeFileSync(tmp, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, p);
    return { info: info(file), mnemonic };
  }

  /** Whether using this key needs a passphrase. */
  needsPassphrase(name: string): boolean {
    return this.read(name).backend === 'file';
  }

  exportMnemonic(name: string, passphrase?: string): string {
    const f = this.read(name);
    if (f.backend === 'test') {
      if (!f.mnemonic) throw new KeyringError('KEY_FILE_CORRUPT', `key file for "${name}" has no mnemonic`);
      return f.mnemonic;
    }
    const c = f.crypto;
    if (!c) throw new KeyringError('KEY_FILE_CORRUPT', `key file for "${name}" has no encrypted mnemonic`);
    if (!passphrase) throw new InvalidInputError('PASSPHRASE_REQUIRED', `key "${name}" is encrypted: a passphrase is required`);
    try {
      const d = createDecipheriv('aes-256-gcm', scryptKey(passphrase, Buffer.from(fromHex(c.salt)), c), Buffer.from(fromHex(c.iv)));
      d.setAuthTag(Buffer.from(fromHex(c.tag)));
      const plain = Buffer.concat([d.update(Buffer.from(fromHex(c.ciphertext))), d.final()]).toString('utf8');
      return (JSON.parse(plain) as { mnemonic: string }).mnemonic;
    } catch {
      throw new KeyringError('WRONG_PASSPHRASE', `wrong passphrase for key "${name}"`);
    }
  }

  signer(name: string, passphrase?: string): Ed25519Key {
    const f = this.read(name);
    const key = keyFromMnemonic(this.exportMnemonic(name, passphrase));
    if (encodeAddress(key.address) !== f.address) {
      throw new KeyringError('KEY_FILE_CORRUPT', `key file for "${name}" derives ${encodeAddress(key.address)}, but records ${f.address}`);
    }
    return key;
  }

  delete(name: string): void {
    const p = this.path(name);
    if (!existsSync(p)) throw new KeyringError('KEY_NOT_FOUND', `no key named "${name}" in ${this.dir}`);
    rmSync(p);
  }
}

function info(f: KeyFile): KeyInfo {
  return { name: f.name, address: f.address, publicKey: f.publicKey, backend: f.backend, hdPath: f.hdPath, createdAt: f.createdAt };
}
