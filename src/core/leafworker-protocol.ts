/**
 * The shared-memory protocol between core/leafworker (the caller) and its hashing thread.
 *
 * The lines themselves are never copied: they sit in SharedArrayBuffers the caller writes into
 * (one per manifest chunk), sent to the thread once each over a MessagePort. What the caller
 * publishes per line is one Int32 in a ring of entries (`ring`):
 *   n >= 0      a line ending at offset n of the current buffer (it starts where the previous
 *               line ended, or at the buffer's `from`)
 *   BUFFER      the next message on the port is {buffer, from}: lines now come from that buffer
 *   JOB         the next message on the port is {prefix, headLen}: a new manifest, the line
 *               counter restarts at 0
 *   END         the job is over: the thread drops its buffer reference
 *   HASHED - n  a line ending at offset n that the caller hashed itself (it had got more than
 *               STEAL_LAG entries ahead of the thread): its leaf is already in `leaves`
 * ctrl (Int32Array): HEAD = entries the caller has published, TAIL = entries the thread has
 * consumed (both count up, wrapping at 2^32; the ring's size divides 2^32), ERR = set by a thread
 * that failed, SLEEPING = the thread is about to wait or waits for HEAD to move (it re-reads
 * HEAD after setting it, so a caller that stores HEAD and then sees SLEEPING = 0 needs no
 * notify: no wake-up is lost). The caller posts a message before it stores the HEAD that
 * covers the entry announcing it, and a posted message is in the port's queue when postMessage
 * returns, so the thread's receiveMessageOnPort finds it. The thread writes line i's leaf at
 * leaves[32i, 32i + 32) and only then advances TAIL, so a caller that reads TAIL == HEAD sees
 * every leaf (Atomics give the happens-before edge); bytes of a buffer written before the HEAD
 * store that publishes a line are visible to the thread that loads that HEAD.
 */
export const HEAD = 0;
export const TAIL = 1;
export const ERR = 2;
/** 1 while the thread sleeps on HEAD: the caller then wakes it (Atomics.notify is a syscall). */
export const SLEEPING = 3;
export const CTRL_WORDS = 4;
export const BUFFER = -1;
export const JOB = -2;
export const END = -3;
export const HASHED = -4;

export interface BufferMessage {
  readonly buffer: SharedArrayBuffer;
  readonly from: number;
}
export interface JobMessage {
  readonly prefix: Uint8Array;
  readonly headLen: number;
}
