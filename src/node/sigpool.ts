/**
 * Verifies Ed25519 signatures on worker threads, one per core, so that signature checks (the
 * dominant cost of admitting a transfer) use every core while the main thread runs the state
 * machine. Large batches are split evenly across workers; results come back in input order.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Bytes } from '../core/bytes.js';
import { InvariantError } from '../core/errors.js';
import { verifySignature } from '../core/keys.js';

export interface SigItem {
  readonly publicKey: Bytes;
  readonly message: Bytes;
  readonly signature: Bytes;
}

export interface SignatureVerifier {
  verify(items: readonly SigItem[]): Promise<boolean[]>;
  close(): Promise<void>;
}

interface Pending {
  resolve: (r: Uint8Array) => void;
  reject: (e: unknown) => void;
}

function pack(items: readonly SigItem[], from: number, to: number): ArrayBuffer {
  let n = 0;
  for (let i = from; i < to; i++) n += 100 + (items[i] as SigItem).message.length;
  const buf = new ArrayBuffer(n);
  const b = new Uint8Array(buf);
  const dv = new DataView(buf);
  let o = 0;
  for (let i = from; i < to; i++) {
    const it = items[i] as SigItem;
    if (it.publicKey.length !== 32 || it.signature.length !== 64) throw new InvariantError('bad key or signature length');
    b.set(it.publicKey, o);
    b.set(it.signature, o + 32);
    dv.setUint32(o + 96, it.message.length);
    b.set(it.message, o + 100);
    o += 100 + it.message.length;
  }
  return buf;
}

export class SignaturePool implements SignatureVerifier {
  private readonly workers: Worker[] = [];
  private readonly load: number[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;

  constructor(size = availableParallelism()) {
    for (let i = 0; i < Math.max(1, size); i++) {
      const w = new Worker(new URL('./sig-worker.js', import.meta.url));
      w.unref();
      w.on('message', (m: { id: number; result: Uint8Array }) => {
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        p?.resolve(m.result);
      });
      w.on('error', (e) => {
        for (const p of this.pending.values()) p.reject(e);
        this.pending.clear();
      });
      this.workers.push(w);
      this.load.push(0);
    }
  }

  private run(worker: number, items: readonly SigItem[], from: number, to: number): Promise<Uint8Array> {
    const id = this.nextId++;
    const buf = pack(items, from, to);
    this.load[worker] = (this.load[worker] as number) + (to - from);
    return new Promise<Uint8Array>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      (this.workers[worker] as Worker).postMessage({ id, buf, count: to - from }, [buf]);
    }).finally(() => {
      this.load[worker] = (this.load[worker] as number) - (to - from);
    });
  }

  async verify(items: readonly SigItem[]): Promise<boolean[]> {
    if (this.closed) throw new InvariantError('signature pool is closed');
    if (items.length === 0) return [];
    // Small batches go whole to the least-loaded worker; large ones are split across all.
    const parts = items.length < 64 ? 1 : this.workers.length;
    const jobs: Promise<Uint8Array>[] = [];
    const order = this.load.map((l, i) => [l, i] as const).sort((a, b) => a[0] - b[0]);
    const per = Math.ceil(items.length / parts);
    for (let p = 0; p < parts; p++) {
      const from = p * per;
      const to = Math.min(items.length, from + per);
      if (from >= to) break;
      jobs.push(this.run((order[p] as readonly [number, number])[1], items, from, to));
    }
    const results = await Promise.all(jobs);
    const out: boolean[] = [];
    for (const r of results) for (const v of r) out.push(v === 1);
    return out;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** Verifies on the calling thread (tools, tests, one-off checks). */
export const inlineVerifier: SignatureVerifier = {
  async verify(items) {
    return items.map((i) => verifySignature(i.publicKey, i.message, i.signature));
  },
  async close() {},
};
