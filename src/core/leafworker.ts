/**
 * A LeafHasher (core/leafhash) that hashes on a second core: the caller copies each line into
 * a shared ring buffer and goes on building the next one while a worker thread hashes; finish()
 * blocks (Atomics.wait) until the worker has caught up. The chain's epoch close is synchronous
 * code, so the hand-off is synchronous shared memory, not messages. Protocol and memory model:
 * leafworker-protocol.ts. Same leaves as inlineLeafHasher, byte for byte (tests check).
 */
import { Worker } from 'node:worker_threads';
import type { Bytes } from './bytes.js';
import { InvariantError } from './errors.js';
import { sha256Into } from './hash.js';
import type { LeafHasher, LeafJob } from './leafhash.js';
import { CTRL_WORDS, ERR, HEAD, HEAD_LEN, JOB, PREHASHED, SLEEPING, TAIL, WRAP } from './leafworker-protocol.js';

const RING_BYTES = 1 << 24;
/** Lines whose record exceeds this go with their details already hashed. */
const MAX_RECORD = RING_BYTES >> 2;
/** Leaves the shared leaf buffer can grow to (its address space is reserved up front). */
export const MAX_WORKER_LINES = 1 << 26;
/** Lines between publishing HEAD (a few ms of the caller's work; the ring holds far more). */
const PUBLISH_EVERY = 1024;

export class WorkerLeafHasher implements LeafHasher {
  private readonly ctrl = new Int32Array(new SharedArrayBuffer(CTRL_WORDS * 4));
  private readonly ringSab = new SharedArrayBuffer(RING_BYTES);
  private readonly ring = Buffer.from(this.ringSab);
  private readonly leavesSab = new SharedArrayBuffer(32 * 65536, { maxByteLength: 32 * MAX_WORKER_LINES });
  private readonly worker: Worker;
  private head = 0;
  private tail = 0;

  constructor() {
    this.worker = new Worker(new URL('./leafworker-thread.js', import.meta.url), {
      workerData: { ctrl: this.ctrl.buffer, ring: this.ringSab, leaves: this.leavesSab },
    });
    this.worker.unref();
  }

  start(): LeafJob {
    // A job abandoned half way (its caller threw) is drained first; its leaves are dropped.
    this.publish();
    while (this.tail !== this.head) this.waitTail();
    this.reserve(4).writeUInt32LE(JOB, this.advance(4));
    let lines = 0;
    let unpublished = 0;
    const dh = Buffer.alloc(32);
    return {
      add: (head: Bytes, details: Bytes, detailsLen: number) => {
        const prehashed = 4 + HEAD_LEN + detailsLen > MAX_RECORD;
        const n = prehashed ? 32 : detailsLen;
        const ring = this.reserve(4 + HEAD_LEN + n);
        const p = this.advance(4 + HEAD_LEN + n);
        ring.writeUInt32LE(prehashed ? (PREHASHED | 32) >>> 0 : n, p);
        copy(head, ring, p + 4, HEAD_LEN);
        const body = p + 4 + HEAD_LEN;
        if (prehashed) {
          sha256Into(details.subarray(0, detailsLen), dh, 0);
          dh.copy(ring, body);
        } else copy(details, ring, body, n);
        lines++;
        if (lines * 32 > this.leavesSab.byteLength) {
          if (lines > MAX_WORKER_LINES) throw new InvariantError(`a manifest of more than ${MAX_WORKER_LINES} lines`);
          this.leavesSab.grow(Math.min(32 * MAX_WORKER_LINES, this.leavesSab.byteLength * 2));
        }
        if (++unpublished === PUBLISH_EVERY) {
          unpublished = 0;
          this.publish();
        }
      },
      finish: () => {
        this.publish();
        while (this.tail !== this.head) this.waitTail();
        return Buffer.from(new Uint8Array(this.leavesSab, 0, lines * 32));
      },
    };
  }

  /** Room for a record of `n` bytes at the ring's current position (wrapping first if needed). */
  private reserve(n: number): Buffer {
    const p = this.head & (RING_BYTES - 1);
    const skip = RING_BYTES - p < n ? RING_BYTES - p : 0;
    while (RING_BYTES - ((this.head - this.tail) >>> 0) < skip + n) {
      this.publish();
      this.waitTail();
    }
    if (skip > 0) {
      if (skip >= 4) this.ring.writeUInt32LE(WRAP, p);
      this.head = (this.head + skip) | 0;
    }
    return this.ring;
  }

  /** Claims `n` bytes at the current position; returns their offset. */
  private advance(n: number): number {
    const p = this.head & (RING_BYTES - 1);
    this.head = (this.head + n) | 0;
    return p;
  }

  private publish(): void {
    Atomics.store(this.ctrl, HEAD, this.head);
    if (Atomics.load(this.ctrl, SLEEPING) === 1) Atomics.notify(this.ctrl, HEAD);
  }

  private waitTail(): void {
    const t = Atomics.load(this.ctrl, TAIL);
    if (t === this.tail) {
      if (Atomics.load(this.ctrl, ERR) !== 0) throw new InvariantError('the leaf-hashing thread failed');
      Atomics.wait(this.ctrl, TAIL, t, 1000);
    }
    this.tail = Atomics.load(this.ctrl, TAIL);
  }
}

/** src[0, n) into dst at `at`: short copies byte by byte (cheaper than a view plus a native call). */
function copy(src: Bytes, dst: Buffer, at: number, n: number): void {
  if (n <= 160) for (let i = 0; i < n; i++) dst[at + i] = src[i] as number;
  else dst.set(src.subarray(0, n), at);
}

let shared: WorkerLeafHasher | undefined;

/** The process's leaf-hashing thread (started on first use). */
export function workerLeafHasher(): WorkerLeafHasher {
  shared ??= new WorkerLeafHasher();
  return shared;
}
