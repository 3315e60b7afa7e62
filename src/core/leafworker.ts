/**
 * A LeafHasher (core/leafhash) that hashes on a second core. The caller writes its lines into
 * SharedArrayBuffers this hasher hands out and publishes only where each line ends (one Int32 in
 * a shared ring); a worker thread hashes the lines straight from those buffers while the caller
 * goes on building the next ones; finish() blocks (Atomics.wait) until the worker has caught up.
 * A caller that gets far ahead of the worker hashes lines itself, so the two share the hashing.
 * The chain's epoch close is synchronous code, so the hand-off is synchronous shared memory, not
 * messages (new buffers do travel over a MessagePort, read synchronously by the thread).
 * Protocol and memory model: leafworker-protocol.ts. Same leaves as inlineLeafHasher, byte for
 * byte (tests check).
 */
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import type { Bytes } from './bytes.js';
import { InvariantError } from './errors.js';
import type { LeafHasher, LeafJob } from './leafhash.js';
import { hashLineInto } from './leafline.js';
import { BUFFER, CTRL_WORDS, END, ERR, HASHED, HEAD, JOB, SLEEPING, TAIL, type BufferMessage, type JobMessage } from './leafworker-protocol.js';

/** Entries of the line ring (4 bytes each): far more lines than the worker ever lags behind. */
const RING_ENTRIES = 1 << 16;
/** Leaves the shared leaf buffer can grow to (its address space is reserved up front). */
export const MAX_WORKER_LINES = 1 << 26;
/** Lines between publishing HEAD (a few ms of the caller's work; the ring holds far more). */
const PUBLISH_EVERY = 1024;
/**
 * Entries the caller may get ahead of the thread before it hashes lines itself. The thread is
 * then never short of work, and when it is the slower one (hashing costs more per line than
 * building does, and the machine may be busy) the two share the hashing instead of the caller
 * waiting for room.
 */
const STEAL_LAG = 8192;


export interface WorkerLeafHasherOptions {
  /** Ring entries, a power of two (tests make it small so that it wraps). */
  readonly ringEntries?: number;
}

export class WorkerLeafHasher implements LeafHasher {
  private readonly ctrl = new Int32Array(new SharedArrayBuffer(CTRL_WORDS * 4));
  private readonly ring: Int32Array;
  private readonly mask: number;
  private readonly stealLag: number;
  private readonly leavesSab = new SharedArrayBuffer(32 * 65536, { maxByteLength: 32 * MAX_WORKER_LINES });
  private readonly port: MessagePort;
  private readonly worker: Worker;
  private head = 0;
  private tail = 0;
  private unpublished = 0;

  constructor(opts: WorkerLeafHasherOptions = {}) {
    const entries = opts.ringEntries ?? RING_ENTRIES;
    if (entries < 4 || (entries & (entries - 1)) !== 0) throw new InvariantError(`ring entries must be a power of two, not ${entries}`);
    this.ring = new Int32Array(new SharedArrayBuffer(entries * 4));
    this.mask = entries - 1;
    this.stealLag = Math.min(STEAL_LAG, entries >> 1);
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.worker = new Worker(new URL('./leafworker-thread.js', import.meta.url), {
      workerData: { ctrl: this.ctrl.buffer, ring: this.ring.buffer, leaves: this.leavesSab, port: port2 },
      transferList: [port2],
    });
    this.worker.unref();
    this.port.unref();
  }

  start(prefix: Bytes, headLen: number): LeafJob {
    // A job abandoned half way (its caller threw) is drained first; its leaves are dropped.
    this.publish();
    while (this.tail !== this.head) this.waitTail();
    const job: JobMessage = { prefix: Uint8Array.from(prefix), headLen };
    this.port.postMessage(job);
    this.push(JOB);
    let lines = 0;
    // What the caller needs to hash a line itself: the current buffer, where the next line
    // starts, a preimage buffer and a view of the leaves.
    let buf: Buffer = Buffer.alloc(0);
    let start = 0;
    const at = prefix.length;
    const pre = Buffer.alloc(at + 4 + headLen + 32);
    pre.set(prefix, 0);
    let leaves = Buffer.from(this.leavesSab);
    return {
      buffer: (bytes: number, from: number): Buffer => {
        const sab = new SharedArrayBuffer(bytes);
        const msg: BufferMessage = { buffer: sab, from };
        this.port.postMessage(msg);
        this.push(BUFFER);
        buf = Buffer.from(sab);
        start = from;
        return buf;
      },
      add: (end: number) => {
        const i = lines++;
        if (lines * 32 > this.leavesSab.byteLength) {
          if (lines > MAX_WORKER_LINES) throw new InvariantError(`a manifest of more than ${MAX_WORKER_LINES} lines`);
          this.leavesSab.grow(Math.min(32 * MAX_WORKER_LINES, this.leavesSab.byteLength * 2));
        }
        if (((this.head - this.tail) | 0) > this.stealLag && ((this.head - (this.tail = Atomics.load(this.ctrl, TAIL))) | 0) > this.stealLag) {
          if (leaves.length < lines * 32) leaves = Buffer.from(this.leavesSab);
          hashLineInto(buf, start, end, headLen, i, pre, at, leaves, i * 32);
          this.push(HASHED - end);
        } else this.push(end);
        start = end;
      },
      finish: () => {
        this.push(END);
        this.publish();
        while (this.tail !== this.head) this.waitTail();
        // The leaves stay in the shared buffer (valid until the next start): no copy.
        return Buffer.from(this.leavesSab, 0, lines * 32);
      },
    };
  }

  /** Appends one ring entry (waiting for room if the thread lags a whole ring behind). */
  private push(entry: number): void {
    if (((this.head - this.tail) | 0) === this.ring.length) {
      this.publish();
      while (((this.head - this.tail) | 0) === this.ring.length) this.waitTail();
    }
    this.ring[this.head & this.mask] = entry;
    this.head = (this.head + 1) | 0;
    if (++this.unpublished === PUBLISH_EVERY) this.publish();
  }

  private publish(): void {
    this.unpublished = 0;
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

let shared: WorkerLeafHasher | undefined;

/** The process's leaf-hashing thread (started on first use). */
export function workerLeafHasher(): WorkerLeafHasher {
  shared ??= new WorkerLeafHasher();
  return shared;
}
