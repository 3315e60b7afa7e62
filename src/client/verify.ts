/**
 * Client-side verification of what a node returns: a state value is accepted only if its
 * Merkle proof leads to the app hash of a header signed by a validator of the trusted chain.
 */
import { equals, fromBase64, fromHex, type Bytes } from '../core/bytes.js';
import { decode } from '../core/codec.js';
import { signedHeaderCodec, verifyHeaderSignature, type Header } from '../node/block.js';
import { checkProof, decodeProof } from '../state/proof.js';
import type { TrustAnchor } from './client.js';
import { VerificationError } from './errors.js';

/** The proof part of a state response (GET /v1/state/{key}, /v1/accounts/{address}). */
export interface ProofView {
  height: string;
  key: string;
  value: string | null;
  appHash: string;
  proof: string;
  header: string;
}

export interface VerifiedValue {
  readonly height: bigint;
  readonly value: Bytes | null;
  readonly header: Header;
}

/** Checks a signed header against the trusted chain; returns the header. */
export function verifySignedHeader(anchor: TrustAnchor, raw: Bytes): Header {
  let sh;
  try {
    sh = decode(signedHeaderCodec, raw);
  } catch (e) {
    throw new VerificationError(`header does not decode: ${(e as Error).message}`);
  }
  const h = sh.header;
  if (h.chainId !== anchor.genesis.chainId) throw new VerificationError(`header is for chain "${h.chainId}", trusted chain is "${anchor.genesis.chainId}"`);
  const signer = anchor.genesis.validators.find((v) => equals(v.pubKey, h.proposer));
  if (!signer) throw new VerificationError('header is signed by a key that is not a trusted validator');
  const total = anchor.genesis.validators.reduce((n, v) => n + v.power, 0n);
  if (signer.power * 3n <= total * 2n) {
    throw new VerificationError('header carries less than 2/3 of the trusted voting power; use a CometBFT commit (multi-validator chains)');
  }
  if (!verifyHeaderSignature(h, sh.signature)) throw new VerificationError('header signature does not verify');
  return h;
}

/** Verifies that `view` proves `key` → value at its height on the trusted chain. */
export function verifyStateProof(anchor: TrustAnchor, key: Bytes, view: ProofView): VerifiedValue {
  const header = verifySignedHeader(anchor, fromBase64(view.header, 'header'));
  if (String(header.height) !== view.height) throw new VerificationError(`header is for height ${header.height}, response claims ${view.height}`);
  if (!equals(fromHex(view.key, 'key'), key)) throw new VerificationError('proof is for another key');
  if (!equals(fromHex(view.appHash, 'appHash'), header.appHash)) throw new VerificationError('app hash differs from the signed header');
  const value = view.value === null ? null : fromHex(view.value, 'value');
  let proof;
  try {
    proof = decodeProof(fromBase64(view.proof, 'proof'));
  } catch (e) {
    throw new VerificationError(`proof does not decode: ${(e as Error).message}`);
  }
  const check = checkProof(header.appHash, key, value, proof);
  if (!check.ok) throw new VerificationError(check.reason);
  return { height: header.height, value, header };
}
