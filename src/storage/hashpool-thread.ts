/** A hashing thread of storage/hashpool (protocol: hashpool-protocol.ts). */
import { receiveMessageOnPort, workerData, parentPort } from 'node:worker_threads';
import { InvariantError } from '../core/errors.js';
import { CLAIM, DONE, F_BUFFER, F_OFFSET, F_PIECE, F_STATE, FIELDS, HEAD, SLEEPING, claimJob, type PoolMessage, type ThreadData } from './hashpool-protocol.js';
import { pieceRootsInto } from './piecehash.js';

const data = workerData as ThreadData;
const ctrl = new Int32Array(data.ctrl);
const jobs = new Int32Array(data.jobs);
const results = new Uint8Array(data.results);
const buffers = new Map<number, Uint8Array>();

/** Applies the buffer (un)registrations the caller posted. */
function drain(): void {
  for (let m = receiveMessageOnPort(data.port); m !== undefined; m = receiveMessageOnPort(data.port)) {
    const msg = m.message as PoolMessage;
    if ('register' in msg) buffers.set(msg.register, new Uint8Array(msg.buffer));
    else buffers.delete(msg.release);
  }
}

for (;;) {
  const slot = claimJob(ctrl);
  if (slot < 0) {
    drain(); // drop released buffers while idle
    Atomics.add(ctrl, SLEEPING, 1);
    const head = Atomics.load(ctrl, HEAD);
    if (head === Atomics.load(ctrl, CLAIM)) Atomics.wait(ctrl, HEAD, head, 1000);
    Atomics.sub(ctrl, SLEEPING, 1);
    continue;
  }
  const f = slot * FIELDS;
  let buf = buffers.get(jobs[f + F_BUFFER] as number);
  if (buf === undefined) {
    drain();
    buf = buffers.get(jobs[f + F_BUFFER] as number);
    if (buf === undefined) throw new InvariantError('hash pool thread: a job on an unknown buffer');
  }
  pieceRootsInto(buf, jobs[f + F_OFFSET] as number, jobs[f + F_PIECE] as number, 1, results, slot * 32);
  Atomics.store(jobs, f + F_STATE, DONE);
  parentPort?.postMessage(0);
}
