/**
 * Ed25519 keys (node:crypto / OpenSSL) and bech32 addresses.
 *
 * An address is the first 20 bytes of SHA-256(public key), written in bech32 with the prefix
 * `gw` (the Cosmos convention for ed25519 accounts). Public keys are imported through JWK:
 * OpenSSL's DER decoder costs as much as a verification, the JWK path about 7% of one.
 */
import { createPrivateKey, createPublicKey, randomBytes, sign as edSign, verify as edVerify, type KeyObject } from 'node:crypto';
import { bech32 } from '@scure/base';
import { decode20, encode20 } from './bech32.js';
import { concat, toKeyString, type Bytes } from './bytes.js';
import { fixedBytes, refine, type Codec } from './codec.js';
import { InvalidInputError } from './errors.js';
import { sha256 } from './hash.js';

export const PUBKEY_LEN = 32;
export const SIGNATURE_LEN = 64;
export const ADDRESS_LEN = 20;
export const ADDRESS_PREFIX = 'gw';

const PKCS8_PREFIX = Uint8Array.from([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20]);

export interface Signer {
  readonly publicKey: Bytes;
  readonly address: Bytes;
  sign(message: Bytes): Bytes;
}

/** An Ed25519 key pair held in memory. */
export class Ed25519Key implements Signer {
  readonly publicKey: Bytes;
  readonly address: Bytes;
  private readonly key: KeyObject;

  private constructor(readonly seed: Bytes) {
    this.key = importSeed(seed);
    const jwk = createPublicKey(this.key).export({ format: 'jwk' });
    this.publicKey = new Uint8Array(Buffer.from(jwk.x as string, 'base64url'));
    this.address = addressFromPublicKey(this.publicKey);
  }

  /** From the 32-byte private seed (RFC 8032 "private key"). */
  static fromSeed(seed: Bytes): Ed25519Key {
    if (seed.length !== 32) throw new InvalidInputError('INVALID_KEY', `an Ed25519 seed is 32 bytes, got ${seed.length}`);
    return new Ed25519Key(Uint8Array.from(seed));
  }

  static generate(): Ed25519Key {
    return new Ed25519Key(new Uint8Array(randomBytes(32)));
  }

  sign(message: Bytes): Bytes {
    return new Uint8Array(edSign(null, message, this.key));
  }
}

const ZERO_X = Buffer.alloc(32).toString('base64url');

/**
 * Imports a 32-byte Ed25519 seed. OpenSSL's PKCS#8 decoder takes ~430 µs; the JWK path ~40 µs.
 * JWK wants the public key too, but OpenSSL derives the key from `d` alone, so a placeholder
 * `x` is fine: the public key is always re-derived from the private key below. Should a Node
 * version start checking `x`, the import throws and the DER path is used instead.
 */
function importSeed(seed: Bytes): KeyObject {
  try {
    return createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d: Buffer.from(seed).toString('base64url'), x: ZERO_X }, format: 'jwk' });
  } catch {
    return createPrivateKey({ key: Buffer.from(concat(PKCS8_PREFIX, seed)), format: 'der', type: 'pkcs8' });
  }
}

export function publicKeyObject(publicKey: Bytes): KeyObject {
  return createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(publicKey.buffer, publicKey.byteOffset, publicKey.byteLength).toString('base64url') },
    format: 'jwk',
  });
}

/** Verifies an Ed25519 signature; false (never a throw) for malformed keys or signatures. */
export function verifySignature(publicKey: Bytes, message: Bytes, signature: Bytes): boolean {
  if (publicKey.length !== PUBKEY_LEN || signature.length !== SIGNATURE_LEN) return false;
  try {
    return edVerify(null, message, publicKeyObject(publicKey), signature);
  } catch {
    return false; // not a valid curve point
  }
}

export function addressFromPublicKey(publicKey: Bytes): Bytes {
  return sha256(publicKey).subarray(0, ADDRESS_LEN);
}

/**
 * Recently encoded 20-byte addresses (a block's events name the same accounts many times; a
 * bech32 encoding costs ~1.1 µs, a lookup ~0.2 µs). Bounded: cleared when full.
 */
const encoded = new Map<string, string>();
const ENCODED_MAX = 16_384;

export function encodeAddress(address: Bytes, prefix = ADDRESS_PREFIX): string {
  if (address.length !== ADDRESS_LEN) return bech32.encode(prefix, bech32.toWords(address));
  if (prefix !== ADDRESS_PREFIX) return encode20(prefix, address);
  const k = toKeyString(address);
  let s = encoded.get(k);
  if (s === undefined) {
    s = encode20(prefix, address);
    if (encoded.size >= ENCODED_MAX) encoded.clear();
    encoded.set(k, s);
  }
  return s;
}

/** Parses a bech32 address; the error says exactly what is wrong with it. */
export function decodeAddress(s: string, prefix = ADDRESS_PREFIX): Bytes {
  if (typeof s !== 'string' || s.length === 0) throw new InvalidInputError('INVALID_ADDRESS', 'address is empty');
  const fast = decode20(prefix, s);
  if (fast) return fast;
  let decoded: { prefix: string; words: number[] };
  try {
    decoded = bech32.decode(s as `${string}1${string}`, 90);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new InvalidInputError('INVALID_ADDRESS', `"${s}" is not a valid address (${why})`);
  }
  if (decoded.prefix !== prefix) {
    throw new InvalidInputError('INVALID_ADDRESS', `"${s}" has prefix "${decoded.prefix}", expected "${prefix}"`);
  }
  let data: Uint8Array;
  try {
    data = bech32.fromWords(decoded.words);
  } catch {
    throw new InvalidInputError('INVALID_ADDRESS', `"${s}" does not encode whole bytes`);
  }
  if (data.length !== ADDRESS_LEN) {
    throw new InvalidInputError('INVALID_ADDRESS', `"${s}" holds ${data.length} bytes, an address holds ${ADDRESS_LEN}`);
  }
  return data;
}

export function isAddress(s: string): boolean {
  try {
    decodeAddress(s);
    return true;
  } catch {
    return false;
  }
}

/** The address of a module-owned account (fee collector, escrow, ...): no key can sign for it. */
export function moduleAddress(name: string): Bytes {
  return sha256(new TextEncoder().encode(`groundwork/module/${name}`)).subarray(0, ADDRESS_LEN);
}

/** 20 raw bytes in binary, a bech32 string in JSON. */
export const address: Codec<Bytes, string> = refine(
  fixedBytes(ADDRESS_LEN),
  'address',
  (v) => encodeAddress(v),
  (j, path) => {
    if (typeof j !== 'string') throw new InvalidInputError('INVALID_FIELD', `${path || 'address'}: expected a bech32 address string`);
    try {
      return decodeAddress(j);
    } catch (e) {
      throw new InvalidInputError('INVALID_FIELD', `${path || 'address'}: ${(e as Error).message}`);
    }
  },
);

export const pubKey = fixedBytes(PUBKEY_LEN, 'pubkey');
export const signature = fixedBytes(SIGNATURE_LEN, 'signature');
