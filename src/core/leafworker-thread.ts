/** The hashing thread of core/leafworker (protocol: leafworker-protocol.ts). */
import { hash } from 'node:crypto';
import { workerData } from 'node:worker_threads';
import { ERR, HEAD, HEAD_LEN, JOB, PREHASHED, SLEEPING, TAIL, WRAP } from './leafworker-protocol.js';

const data = workerData as { ctrl: SharedArrayBuffer; ring: SharedArrayBuffer; leaves: SharedArrayBuffer };
const ctrl = new Int32Array(data.ctrl);
const ring = Buffer.from(data.ring);
const mask = ring.length - 1;
let leaves = Buffer.from(data.leaves);
const pre = Buffer.alloc(HEAD_LEN + 32);
let tail = 0;
let lines = 0;

try {
  for (;;) {
    let head = Atomics.load(ctrl, HEAD);
    while (head === tail) {
      Atomics.store(ctrl, SLEEPING, 1);
      head = Atomics.load(ctrl, HEAD);
      if (head === tail) Atomics.wait(ctrl, HEAD, head);
      Atomics.store(ctrl, SLEEPING, 0);
      head = Atomics.load(ctrl, HEAD);
    }
    let sincePublish = 0;
    while (tail !== head) {
      const p = tail & mask;
      const left = ring.length - p;
      const word = left < 4 ? WRAP : ring.readUInt32LE(p);
      if (word === WRAP) {
        tail = (tail + left) | 0;
        continue;
      }
      if (word === JOB) {
        lines = 0;
        tail = (tail + 4) | 0;
        continue;
      }
      const body = p + 4 + HEAD_LEN;
      ring.copy(pre, 0, p + 4, body);
      let n: number;
      if (word & PREHASHED) {
        n = 32;
        ring.copy(pre, HEAD_LEN, body, body + 32);
      } else {
        n = word;
        pre.write(hash('sha256', ring.subarray(body, body + n), 'binary'), HEAD_LEN, 'latin1');
      }
      if ((lines + 1) * 32 > leaves.length) leaves = Buffer.from(data.leaves); // the caller grew it
      leaves.write(hash('sha256', pre, 'binary'), lines * 32, 'latin1');
      lines++;
      tail = (tail + 4 + HEAD_LEN + n) | 0;
      if (++sincePublish === 1024) {
        sincePublish = 0;
        Atomics.store(ctrl, TAIL, tail);
        Atomics.notify(ctrl, TAIL);
      }
    }
    Atomics.store(ctrl, TAIL, tail);
    Atomics.notify(ctrl, TAIL);
  }
} catch (e) {
  Atomics.store(ctrl, ERR, 1);
  Atomics.notify(ctrl, TAIL);
  throw e;
}
