/**
 * ABCI socket framing: each protobuf message is prefixed by its length as an unsigned varint
 * (LEB128). A TCP chunk may hold part of a frame or several frames; FrameReader buffers across
 * chunks and yields whole frames in order.
 */
import { InvariantError } from '../../core/errors.js';

/** Largest frame accepted (CometBFT's own limit for a single ABCI message is far below). */
export const MAX_FRAME_BYTES = 256 << 20;

export function encodeFrame(payload: Uint8Array): Buffer {
  const head: number[] = [];
  let n = payload.length;
  while (n >= 0x80) {
    head.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  head.push(n);
  const out = Buffer.allocUnsafe(head.length + payload.length);
  for (let i = 0; i < head.length; i++) out[i] = head[i] as number;
  out.set(payload, head.length);
  return out;
}

export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);

  /** Adds a chunk and returns every frame now complete (possibly none). */
  push(chunk: Buffer): Buffer[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const frames: Buffer[] = [];
    let o = 0;
    for (;;) {
      let len = 0;
      let shift = 1;
      let i = o;
      let done = false;
      while (i < this.buf.length) {
        const b = this.buf[i++] as number;
        len += (b & 0x7f) * shift;
        if (b < 0x80) {
          done = true;
          break;
        }
        shift *= 128;
        if (i - o > 5) throw new InvariantError('ABCI frame length varint longer than 5 bytes');
      }
      if (!done) break;
      if (len > MAX_FRAME_BYTES) throw new InvariantError(`ABCI frame of ${len} bytes exceeds ${MAX_FRAME_BYTES}`);
      if (i + len > this.buf.length) break;
      frames.push(this.buf.subarray(i, i + len));
      o = i + len;
    }
    this.buf = o === this.buf.length ? Buffer.alloc(0) : this.buf.subarray(o);
    return frames;
  }

  /** Bytes held of an incomplete frame. */
  get pending(): number {
    return this.buf.length;
  }
}
