/**
 * Worker thread: verifies a packed batch of Ed25519 signatures and answers with one byte per
 * item (1 valid, 0 invalid). Packing: per item, pubkey (32) | signature (64) | u32 length | message.
 */
import { parentPort } from 'node:worker_threads';
import { verifySignature } from '../core/keys.js';

interface Job {
  id: number;
  buf: ArrayBuffer;
  count: number;
}

parentPort?.on('message', (job: Job) => {
  const b = new Uint8Array(job.buf);
  const dv = new DataView(job.buf);
  const out = new Uint8Array(job.count);
  let o = 0;
  for (let i = 0; i < job.count; i++) {
    const pub = b.subarray(o, o + 32);
    const sig = b.subarray(o + 32, o + 96);
    const len = dv.getUint32(o + 96);
    const msg = b.subarray(o + 100, o + 100 + len);
    out[i] = verifySignature(pub, msg, sig) ? 1 : 0;
    o += 100 + len;
  }
  parentPort?.postMessage({ id: job.id, result: out }, [out.buffer]);
});
