/**
 * Worker thread: verifies a packed batch of Ed25519 signatures and answers with one byte per
 * item (1 valid, 0 invalid). Packing: per item, pubkey (32) | signature (64) | u32 length | message.
 */
import { verify, type KeyObject } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import { publicKeyObject } from '../core/keys.js';

// Importing a public key costs ~7% of a verification; accounts send many txs, so keep recent
// keys (two generations, bounded).
let young = new Map<string, KeyObject>();
let old = new Map<string, KeyObject>();
function keyOf(pub: Uint8Array): KeyObject | undefined {
  const k = Buffer.from(pub.buffer, pub.byteOffset, pub.byteLength).toString('latin1');
  let ko = young.get(k) ?? old.get(k);
  if (!ko) {
    try {
      ko = publicKeyObject(pub);
    } catch {
      return undefined; // not a valid curve point
    }
    young.set(k, ko);
    if (young.size > 50_000) {
      old = young;
      young = new Map();
    }
  }
  return ko;
}

function check(pub: Uint8Array, msg: Uint8Array, sig: Uint8Array): boolean {
  const ko = keyOf(pub);
  if (!ko) return false;
  try {
    return verify(null, msg, ko, sig);
  } catch {
    return false;
  }
}

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
    out[i] = check(pub, msg, sig) ? 1 : 0;
    o += 100 + len;
  }
  parentPort?.postMessage({ id: job.id, result: out }, [out.buffer]);
});
