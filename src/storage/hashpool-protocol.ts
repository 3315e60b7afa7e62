/**
 * The shared-memory protocol between storage/hashpool (the caller) and its hashing threads.
 *
 * ctrl (Int32Array): HEAD = jobs published, CLAIM = jobs claimed (both count up, wrapping at
 * 2^32; RING divides 2^32), SLEEPING = threads waiting for HEAD to move. Job n lives in ring slot
 * n mod RING: FIELDS Int32s (buffer id, byte offset, piece size, state). The caller writes a
 * slot's fields, stores its state PENDING, then stores HEAD (so a thread that loads HEAD sees
 * the fields and the stripe bytes written before). Any thread, the caller included, takes the
 * next job by a compare-and-swap of CLAIM from n to n + 1 while n < HEAD; it writes the piece's
 * root to results[32 slot, 32 slot + 32) and then stores state DONE. A thread then posts an empty
 * message so the caller settles finished jobs; the caller reuses a slot only after settling
 * its job. Buffers travel once over each thread's MessagePort ({register} before the HEAD store
 * of the first job on them, so the thread finds the message in its queue; {release} when done).
 * A thread about to wait increments SLEEPING and re-reads HEAD first, so a caller that stores
 * HEAD and then sees SLEEPING = 0 needs no notify (Atomics.notify is a syscall).
 */
import type { MessagePort } from 'node:worker_threads';

export const HEAD = 0;
export const CLAIM = 1;
export const SLEEPING = 2;
export const CTRL_WORDS = 4;

/** Ring slots: far more than the pieces of the few stripes an encoder keeps in flight. */
export const RING = 1024;
export const FIELDS = 4;
export const F_BUFFER = 0;
export const F_OFFSET = 1;
export const F_PIECE = 2;
export const F_STATE = 3;
export const PENDING = 1;
export const DONE = 2;

export interface ThreadData {
  readonly ctrl: SharedArrayBuffer;
  readonly jobs: SharedArrayBuffer;
  readonly results: SharedArrayBuffer;
  readonly port: MessagePort;
}

export type PoolMessage = { readonly register: number; readonly buffer: SharedArrayBuffer } | { readonly release: number };

/** Claims the next published job: its slot, or -1 when none is waiting. */
export function claimJob(ctrl: Int32Array): number {
  for (;;) {
    const n = Atomics.load(ctrl, CLAIM);
    if (n === Atomics.load(ctrl, HEAD)) return -1;
    if (Atomics.compareExchange(ctrl, CLAIM, n, (n + 1) | 0) === n) return (n >>> 0) % RING;
  }
}
