/**
 * The native storage kernels (`@groundwork/kernels`, built from native/kernels at install: one
 * call per buffer over the OpenSSL Node.js links), or null where they did not load. The addon is
 * an optional dependency: storage/piecehash and storage/crypto fall back to node:crypto, which
 * gives the same bytes more slowly. GROUNDWORK_KERNELS=js turns the addon off.
 */
import { createRequire } from 'node:module';
import { errorMessage } from '../core/errors.js';

export interface NativeKernels {
  leafHashes(src: Uint8Array, offset: number, leaves: number, out: Uint8Array, outOffset: number): void;
  pieceRoots(src: Uint8Array, offset: number, pieceSize: number, count: number, out: Uint8Array, outOffset: number): void;
  foldSubtree(hashes: Uint8Array, offset: number, count: number): void;
  /** Encrypts `data` in place with AES-256-GCM and writes the 16-byte tag to `tag`. */
  gcmSeal(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, data: Uint8Array, tag: Uint8Array): void;
  /** Decrypts `parts`, in order, into `out`; whether `tag` authenticates them. */
  gcmOpen(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, parts: readonly Uint8Array[], out: Uint8Array, tag: Uint8Array): boolean;
}

function load(): { kernels: NativeKernels | null; problem: string } {
  if (process.env.GROUNDWORK_KERNELS === 'js') return { kernels: null, problem: 'GROUNDWORK_KERNELS=js' };
  try {
    return { kernels: createRequire(import.meta.url)('@groundwork/kernels') as NativeKernels, problem: '' };
  } catch (e) {
    return { kernels: null, problem: errorMessage(e) };
  }
}

const loaded = load();
export const nativeKernels: NativeKernels | null = loaded.kernels;
/** Why the addon did not load ('' when it did). */
export const nativeKernelsProblem: string = loaded.problem;
