/**
 * Helpers for tests: throwaway directories, keys from fixed seeds, genesis documents.
 * Nothing here is used by production code.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256 } from '../core/hash.js';
import { Ed25519Key, encodeAddress } from '../core/keys.js';
import { compare, utf8, type Bytes } from '../core/bytes.js';
import { EMPTY_ROOT, internalHash, leafHash, nibble } from '../state/jmt.js';

export function tempDir(prefix = 'gw-test-'): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/** A key derived from a label, so tests are reproducible. */
export function testKey(label: string): Ed25519Key {
  return Ed25519Key.fromSeed(sha256(utf8(`groundwork-test-key/${label}`)));
}

export interface GenesisOpts {
  chainId?: string;
  validator?: Ed25519Key;
  balances?: Array<[Ed25519Key | Uint8Array, bigint]>;
  app?: Record<string, unknown>;
}

export function testGenesis(o: GenesisOpts = {}): Record<string, unknown> {
  const v = o.validator ?? testKey('validator');
  return {
    chainId: o.chainId ?? 'test-chain',
    genesisTime: '2026-01-01T00:00:00Z',
    validators: [{ name: 'v0', pubKey: Buffer.from(v.publicKey).toString('hex'), power: '1', rewardAddress: encodeAddress(v.address) }],
    app: {
      ...o.app,
      bank: {
        balances: (o.balances ?? []).map(([k, amount]) => ({
          address: encodeAddress(k instanceof Ed25519Key ? k.address : k),
          amount: amount.toString(),
        })),
      },
    },
  };
}
export * from './proc.js';

/**
 * The Merkle root of a key set by the tree's definition, computed from scratch (independent of
 * updateTree and the store): tests compare what the real code produced against it.
 */
export function referenceTreeRoot(entries: Iterable<readonly [Bytes, Bytes]>): Bytes {
  const items = [...entries].map(([k, v]) => ({ kh: sha256(k), v })).sort((a, b) => compare(a.kh, b.kh));
  const h = (xs: typeof items, depth: number): Bytes | null => {
    if (xs.length === 0) return null;
    if (xs.length === 1) return leafHash((xs[0] as (typeof items)[number]).kh, (xs[0] as (typeof items)[number]).v);
    let bitmap = 0;
    const hashes: Bytes[] = [];
    for (let n = 0; n < 16; n++) {
      const c = h(
        xs.filter((x) => nibble(x.kh, depth) === n),
        depth + 1,
      );
      if (c) {
        bitmap |= 1 << (15 - n);
        hashes.push(c);
      }
    }
    return internalHash(bitmap, hashes);
  };
  return h(items, 0) ?? EMPTY_ROOT;
}
