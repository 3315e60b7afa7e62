/** The hashing thread of core/leafworker (protocol: leafworker-protocol.ts). */
import { receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { hashLineInto } from './leafline.js';
import { BUFFER, END, ERR, HEAD, HASHED, JOB, SLEEPING, TAIL, type BufferMessage, type JobMessage } from './leafworker-protocol.js';

const data = workerData as { ctrl: SharedArrayBuffer; ring: SharedArrayBuffer; leaves: SharedArrayBuffer; port: MessagePort };
const ctrl = new Int32Array(data.ctrl);
const ring = new Int32Array(data.ring);
const mask = ring.length - 1;
const port = data.port;
let leaves = Buffer.from(data.leaves);
let tail = 0;

// The current job: its preimage buffer (prefix ‖ index ‖ head ‖ details hash), line counter,
// the buffer lines come from and where the next line starts.
let pre = Buffer.alloc(0);
let at = 0;
let headLen = 0;
let lines = 0;
let buf: Buffer = Buffer.alloc(0);
let start = 0;

/** The message the caller posted before publishing the entry that announces it. */
function message<T>(): T {
  const m = receiveMessageOnPort(port);
  if (m === undefined) throw new RangeError('leaf worker: an announced message is missing');
  return m.message as T;
}

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
      const entry = ring[tail & mask] as number;
      tail = (tail + 1) | 0;
      if (entry >= 0) {
        if ((lines + 1) * 32 > leaves.length) leaves = Buffer.from(data.leaves); // the caller grew it
        hashLineInto(buf, start, entry, headLen, lines, pre, at, leaves, lines * 32);
        lines++;
        start = entry;
        if (++sincePublish === 1024) {
          sincePublish = 0;
          Atomics.store(ctrl, TAIL, tail);
          Atomics.notify(ctrl, TAIL);
        }
      } else if (entry <= HASHED) {
        // The caller hashed this line itself (it was ahead): only move past it.
        lines++;
        start = HASHED - entry;
      } else if (entry === BUFFER) {
        const m = message<BufferMessage>();
        buf = Buffer.from(m.buffer);
        start = m.from;
      } else if (entry === JOB) {
        const m = message<JobMessage>();
        at = m.prefix.length;
        headLen = m.headLen;
        pre = Buffer.alloc(at + 4 + headLen + 32);
        pre.set(m.prefix, 0);
        lines = 0;
      } else if (entry === END) {
        buf = Buffer.alloc(0);
      } else throw new RangeError(`leaf worker: bad ring entry ${entry}`);
    }
    Atomics.store(ctrl, TAIL, tail);
    Atomics.notify(ctrl, TAIL);
  }
} catch (e) {
  Atomics.store(ctrl, ERR, 1);
  Atomics.notify(ctrl, TAIL);
  throw e;
}
