/**
 * Piece-root hashing spread over threads. Hashing leaves is most of an encode's work (every
 * byte of all k + m shards: 1.5× the file for 4+2, against 1× for the file's SHA-256 and 1× for
 * AES-GCM), so the encoder hands it to worker threads while it reads and encrypts the next
 * segment, and hashes queued pieces itself whenever it would otherwise wait.
 *
 * Jobs (one piece each) sit in a ring in shared memory that every thread claims from with a
 * compare-and-swap, so a worker goes from one piece to the next without waiting for the main
 * thread to read a message (a busy main thread would otherwise starve it: measured, a worker fed
 * by messages idled 40% of an encode). Stripes live in SharedArrayBuffers, sent to the threads
 * once each; a job is four Int32s. Protocol and memory model: hashpool-protocol.ts. Same
 * roots as piecehash on the calling thread (tests check).
 */
import { availableParallelism } from 'node:os';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { InvariantError } from '../core/errors.js';
import { CTRL_WORDS, DONE, F_BUFFER, F_OFFSET, F_PIECE, F_STATE, FIELDS, HEAD, PENDING, RING, SLEEPING, claimJob, type PoolMessage, type ThreadData } from './hashpool-protocol.js';
import { pieceRootsInto } from './piecehash.js';

export interface PieceHasher {
  /** Writes the roots of `count` pieces of `pieceSize` bytes from `offset` of `buf` to out[outOffset + 32 i]. */
  roots(buf: Uint8Array, offset: number, pieceSize: number, count: number, out: Uint8Array, outOffset: number): Promise<void>;
  /** Hashes one queued piece on the calling thread if there is one; whether it did. */
  helpOne(): boolean;
  /** Says that `buf` will not be hashed again (threads may drop their reference to it). */
  release?(buf: Uint8Array): void;
}

/** Hashes on the calling thread. */
export const inlinePieceHasher: PieceHasher = {
  roots(buf, offset, pieceSize, count, out, outOffset) {
    try {
      pieceRootsInto(buf, offset, pieceSize, count, out, outOffset);
      return Promise.resolve();
    } catch (e) {
      return Promise.reject(e as Error);
    }
  },
  helpOne: () => false,
};

interface Job {
  readonly out: Uint8Array;
  readonly outOffset: number;
  done(): void;
}

export class ThreadPieceHasher implements PieceHasher {
  private readonly ctrl = new Int32Array(new SharedArrayBuffer(CTRL_WORDS * 4));
  private readonly jobs = new Int32Array(new SharedArrayBuffer(RING * FIELDS * 4));
  private readonly results = Buffer.from(new SharedArrayBuffer(RING * 32));
  private readonly workers: Worker[] = [];
  private readonly ports: MessagePort[] = [];
  /** Jobs published and not yet settled, by ring slot. */
  private readonly pending = new Map<number, Job>();
  /** Jobs waiting for a free slot (only if more than RING pieces are in flight). */
  private readonly overflow: (() => void)[] = [];
  /** Shared buffers the threads know, and the id each was sent under. */
  private readonly bufferIds = new WeakMap<SharedArrayBuffer, number>();
  private readonly buffers = new Map<number, SharedArrayBuffer>();
  private nextBufferId = 0;
  private head = 0;
  /** Whether the threads keep the process alive (only while jobs are pending). */
  private refd = false;
  private failed: Error | undefined;

  constructor(threads: number) {
    for (let i = 0; i < threads; i++) {
      const { port1, port2 } = new MessageChannel();
      const data: ThreadData = { ctrl: this.ctrl.buffer as SharedArrayBuffer, jobs: this.jobs.buffer as SharedArrayBuffer, results: this.results.buffer as SharedArrayBuffer, port: port2 };
      const worker = new Worker(new URL('./hashpool-thread.js', import.meta.url), { workerData: data, transferList: [port2] });
      worker.on('message', () => this.collect());
      worker.on('error', (e) => this.fail(e));
      worker.unref();
      this.workers.push(worker);
      this.ports.push(port1);
      port1.unref();
    }
  }

  roots(buf: Uint8Array, offset: number, pieceSize: number, count: number, out: Uint8Array, outOffset: number): Promise<void> {
    // Memory the threads cannot see, or a pool that lost a thread: hash here.
    // (Job fields are Int32: a stripe past 2 GiB is hashed here too.)
    if (!(buf.buffer instanceof SharedArrayBuffer) || buf.buffer.byteLength > 0x7fffffff || this.failed !== undefined || this.workers.length === 0) {
      return inlinePieceHasher.roots(buf, offset, pieceSize, count, out, outOffset);
    }
    if (offset < 0 || pieceSize <= 0 || offset + count * pieceSize > buf.length) return Promise.reject(new RangeError(`${count} pieces of ${pieceSize} bytes at ${offset} overrun a buffer of ${buf.length}`));
    const id = this.bufferId(buf.buffer);
    const pieces: Promise<void>[] = [];
    for (let i = 0; i < count; i++) {
      pieces.push(new Promise<void>((resolve) => this.publish(id, buf.byteOffset + offset + i * pieceSize, pieceSize, { out, outOffset: outOffset + 32 * i, done: resolve })));
    }
    return Promise.all(pieces).then(() => undefined);
  }

  helpOne(): boolean {
    const slot = claimJob(this.ctrl);
    if (slot < 0) return false;
    this.run(slot);
    this.collect();
    return true;
  }

  /** Stops the threads; queued pieces are hashed on the calling thread first. */
  async close(): Promise<void> {
    while (this.helpOne());
    this.collect();
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers.length = 0;
  }

  /**
   * Forgets the shared buffers sent to the threads (they keep them alive until told): call when
   * no stripe of a finished encode will be hashed again.
   */
  release(buf: Uint8Array): void {
    if (!(buf.buffer instanceof SharedArrayBuffer)) return;
    const id = this.bufferIds.get(buf.buffer);
    if (id === undefined) return;
    this.bufferIds.delete(buf.buffer);
    this.buffers.delete(id);
    const msg: PoolMessage = { release: id };
    for (const p of this.ports) p.postMessage(msg);
  }

  private bufferId(sab: SharedArrayBuffer): number {
    let id = this.bufferIds.get(sab);
    if (id === undefined) {
      id = this.nextBufferId++;
      this.bufferIds.set(sab, id);
      this.buffers.set(id, sab);
      const msg: PoolMessage = { register: id, buffer: sab };
      // Posted before the HEAD store that publishes a job on it: the thread finds it in its queue.
      for (const p of this.ports) p.postMessage(msg);
    }
    return id;
  }

  private publish(bufferId: number, offset: number, pieceSize: number, job: Job): void {
    const slot = (this.head >>> 0) % RING;
    if (this.pending.has(slot)) {
      this.overflow.push(() => this.publish(bufferId, offset, pieceSize, job));
      return;
    }
    const f = slot * FIELDS;
    this.jobs[f + F_BUFFER] = bufferId;
    this.jobs[f + F_OFFSET] = offset;
    this.jobs[f + F_PIECE] = pieceSize;
    Atomics.store(this.jobs, f + F_STATE, PENDING);
    this.pending.set(slot, job);
    if (!this.refd) {
      this.refd = true;
      for (const w of this.workers) w.ref();
    }
    this.head = (this.head + 1) | 0;
    Atomics.store(this.ctrl, HEAD, this.head);
    if (Atomics.load(this.ctrl, SLEEPING) > 0) Atomics.notify(this.ctrl, HEAD);
  }

  /** Hashes the piece of a claimed slot on this thread. */
  private run(slot: number): void {
    const f = slot * FIELDS;
    const sab = this.buffers.get(this.jobs[f + F_BUFFER] as number);
    if (sab === undefined) throw new InvariantError('hash pool: a job on an unknown buffer');
    pieceRootsInto(new Uint8Array(sab), this.jobs[f + F_OFFSET] as number, this.jobs[f + F_PIECE] as number, 1, this.results, slot * 32);
    Atomics.store(this.jobs, f + F_STATE, DONE);
  }

  /** Settles every finished job (a thread posts after each one it finishes). */
  private collect(): void {
    for (const [slot, job] of this.pending) {
      if (Atomics.load(this.jobs, slot * FIELDS + F_STATE) !== DONE) continue;
      this.pending.delete(slot);
      job.out.set(this.results.subarray(slot * 32, slot * 32 + 32), job.outOffset);
      job.done();
    }
    while (this.overflow.length > 0 && !this.pending.has((this.head >>> 0) % RING)) (this.overflow.shift() as () => void)();
    // Threads with work keep the process alive; an idle pool does not.
    if (this.refd && this.pending.size === 0) {
      this.refd = false;
      for (const w of this.workers) w.unref();
    }
  }

  /** A thread died: hash everything still pending here, and from now on every piece. */
  private fail(e: Error): void {
    this.failed ??= e;
    while (this.helpOne());
    for (const [slot] of this.pending) {
      // Claimed by the dead thread and never finished: hash it again here.
      if (Atomics.load(this.jobs, slot * FIELDS + F_STATE) !== DONE) this.run(slot);
    }
    this.collect();
  }
}

let shared: ThreadPieceHasher | undefined;

/** Threads the shared pool starts: every core but the caller's, at most 4 (AES and the file hash keep the caller busy). */
export function defaultHashThreads(): number {
  return Math.max(1, Math.min(4, availableParallelism() - 1));
}

/** The process's hashing pool (started on first use; idle threads do not keep the process alive). */
export function sharedPieceHasher(): ThreadPieceHasher {
  shared ??= new ThreadPieceHasher(defaultHashThreads());
  return shared;
}
