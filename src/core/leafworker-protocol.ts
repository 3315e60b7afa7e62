/**
 * The shared-memory protocol between core/leafworker (the caller) and its hashing thread.
 *
 * ctrl (Int32Array): HEAD = bytes the caller has published into the ring, TAIL = bytes the
 * thread has consumed (both count up, wrapping at 2^32; the ring's size divides 2^32), ERR = set
 * by a thread that failed, SLEEPING = the thread is about to wait or waits for HEAD to move (it
 * re-reads HEAD after setting it, so a caller that stores HEAD and then sees SLEEPING = 0 needs
 * no notify: no wake-up is lost). A record at ring offset p: u32 word, then its body:
 *   JOB              a new manifest: the line counter restarts at 0
 *   WRAP             (or fewer than 4 bytes left) the next record is at offset 0
 *   PREHASHED | 32   head (49 bytes) ‖ SHA-256(details), for details too large for the ring
 *   n                head (49 bytes) ‖ details (n bytes)
 * The thread writes line i's leaf at leaves[32i, 32i + 32) and only then advances TAIL, so a
 * caller that reads TAIL == HEAD sees every leaf (Atomics give the happens-before edge).
 */
export const HEAD = 0;
export const TAIL = 1;
export const ERR = 2;
/** 1 while the thread sleeps on HEAD: the caller then wakes it (Atomics.notify is a syscall). */
export const SLEEPING = 3;
export const CTRL_WORDS = 4;
export const JOB = 0xffff_fffe;
export const WRAP = 0xffff_ffff;
export const PREHASHED = 0x8000_0000;
export const HEAD_LEN = 49;
