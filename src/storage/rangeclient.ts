/**
 * The range reads of a get over plain HTTP/1.1, with the body read by the kernel straight into
 * the caller's buffer (net.Socket `onread` with a buffer chosen per read): no 64 KiB chunk
 * allocated per read, no copy out of it, no garbage for the collector. A get moves every byte of
 * the file this way, and those copies and allocations were a fifth of its client's CPU.
 *
 * Deliberately narrow: GET with one Range, answered 206 with exactly that Content-Range and
 * Content-Length (anything else is BAD_RESPONSE), or an error status with a small body (the
 * provider's `{ code, message }`). Connections are kept alive per host, a few idle at most, and a
 * reused connection that the server had closed is retried once on a fresh one. https goes
 * through node:https instead (storage/http.ts fetchRange): TLS sockets take no `onread`.
 */
import { connect, type Socket } from 'node:net';

/** Largest response head accepted. */
const HEAD_MAX = 16 << 10;
/** Largest error body accepted. */
const ERROR_BODY_MAX = 64 << 10;
/** Idle connections kept per host. */
const IDLE_PER_HOST = 8;

export type RangeOutcome =
  | { kind: 'ok'; data: Uint8Array }
  /** An answer other than 206: its status and body (the provider's `{ code, message }`, usually). */
  | { kind: 'refused'; status: number; body: string }
  /** The answer broke a rule (wrong range, length, status line, head too long): BAD_RESPONSE. */
  | { kind: 'bad'; status?: number; detail: string }
  /** No answer, or it broke off: PROVIDER_UNREACHABLE. */
  | { kind: 'unreachable'; detail: string; cause?: unknown };

interface Exchange {
  start: number;
  length: number;
  out: Uint8Array;
  /** Bytes of the head read so far (in conn.head), then -1 once it is parsed. */
  headBytes: number;
  /** Body bytes in place. */
  got: number;
  status: number;
  /** For an error answer: its body and its declared length (-1: until the connection closes). */
  errorBody?: Buffer;
  errorLength: number;
  keepAlive: boolean;
  done(o: RangeOutcome): void;
}

class Conn {
  readonly socket: Socket;
  readonly head = Buffer.allocUnsafe(HEAD_MAX);
  ex: Exchange | undefined;
  /** Exchanges this connection has served (a reused one may have been closed by the server meanwhile). */
  served = 0;
  /** Bytes received for the current exchange. */
  received = 0;
  closed = false;

  constructor(
    readonly key: string,
    host: string,
    port: number,
    private readonly pool: Map<string, Conn[]>,
  ) {
    this.socket = connect({ host, port, noDelay: true, onread: { buffer: () => this.dest(), callback: (n, buf) => this.onRead(n, buf) } });
    this.socket.on('error', (e) => this.end({ kind: 'unreachable', detail: e.message, cause: e }));
    this.socket.on('close', () => this.end({ kind: 'unreachable', detail: this.received > 0 ? `the answer broke off after ${this.received} bytes` : 'the connection closed without an answer' }));
  }

  /** Where the next read lands. */
  private dest(): Uint8Array {
    const ex = this.ex;
    if (!ex || ex.headBytes >= 0) return this.head.subarray(ex ? ex.headBytes : 0);
    if (ex.status === 206) return ex.got < ex.length ? ex.out.subarray(ex.got, ex.length) : this.head;
    const body = ex.errorBody as Buffer;
    return ex.got < body.length ? body.subarray(ex.got) : this.head;
  }

  private onRead(n: number, buf: Uint8Array): boolean {
    const ex = this.ex;
    if (!ex) {
      // Bytes nobody asked for: the connection is unusable.
      this.socket.destroy();
      return false;
    }
    this.received += n;
    if (ex.headBytes >= 0) {
      ex.headBytes += n;
      this.parseHead(ex);
      return true;
    }
    if (buf === this.head) return this.finish({ kind: 'bad', status: ex.status, detail: `the answer is longer than its ${ex.status === 206 ? ex.length : ex.errorLength} bytes` }), false;
    ex.got += n;
    this.maybeDone(ex);
    return true;
  }

  private parseHead(ex: Exchange): void {
    const at = this.head.subarray(0, ex.headBytes).indexOf('\r\n\r\n');
    if (at < 0) {
      if (ex.headBytes >= HEAD_MAX) this.finish({ kind: 'bad', detail: `the answer's head is longer than ${HEAD_MAX} bytes` });
      return;
    }
    const lines = this.head.toString('latin1', 0, at).split('\r\n');
    const statusLine = /^HTTP\/1\.[01] ([0-9]{3})/.exec(lines[0] ?? '');
    if (!statusLine) return this.finish({ kind: 'bad', detail: `not an HTTP/1.1 answer: ${(lines[0] ?? '').slice(0, 80)}` });
    const status = Number(statusLine[1]);
    const headers = new Map<string, string>();
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    ex.status = status;
    ex.keepAlive = !/\bclose\b/i.test(headers.get('connection') ?? '') && !headers.has('transfer-encoding');
    const declared = headers.has('content-length') ? Number(headers.get('content-length')) : -1;
    const extra = this.head.subarray(at + 4, ex.headBytes);
    ex.headBytes = -1;
    if (status === 206) {
      const range = /^bytes ([0-9]+)-([0-9]+)\/[0-9]+$/.exec(headers.get('content-range') ?? '');
      const last = ex.start + ex.length - 1;
      if (!range || Number(range[1]) !== ex.start || Number(range[2]) !== last || declared !== ex.length || headers.has('transfer-encoding')) {
        return this.finish({
          kind: 'bad',
          status,
          detail: `expected Content-Range bytes ${ex.start}-${last} and ${ex.length} bytes, got ${headers.get('content-range') ?? '(none)'}, ${declared >= 0 ? declared : '?'} bytes`,
        });
      }
      if (extra.length > ex.length) return this.finish({ kind: 'bad', status, detail: `the answer is longer than ${ex.length} bytes` });
      ex.out.set(extra, 0);
      ex.got = extra.length;
    } else {
      if (declared > ERROR_BODY_MAX) return this.finish({ kind: 'bad', status, detail: `an error answer of ${declared} bytes (at most ${ERROR_BODY_MAX})` });
      ex.errorLength = declared;
      ex.errorBody = Buffer.allocUnsafe(declared >= 0 ? declared : ERROR_BODY_MAX);
      const take = extra.subarray(0, ex.errorBody.length);
      ex.errorBody.set(take, 0);
      ex.got = take.length;
      if (declared < 0) ex.keepAlive = false;
    }
    this.maybeDone(ex);
  }

  private maybeDone(ex: Exchange): void {
    if (ex.status === 206) {
      if (ex.got === ex.length) this.finish({ kind: 'ok', data: ex.out.subarray(0, ex.length) });
    } else if (ex.errorLength >= 0 && ex.got === ex.errorLength) {
      this.finish({ kind: 'refused', status: ex.status, body: (ex.errorBody as Buffer).toString('utf8', 0, ex.got) });
    } else if (ex.errorLength < 0 && ex.got === (ex.errorBody as Buffer).length) {
      this.finish({ kind: 'bad', status: ex.status, detail: `an error answer longer than ${ERROR_BODY_MAX} bytes` });
    }
  }

  /** The connection ended: an error answer read to the close is complete, anything else failed. */
  private end(o: RangeOutcome): void {
    this.closed = true;
    const ex = this.ex;
    if (ex && ex.headBytes < 0 && ex.status !== 206 && ex.errorLength < 0) {
      return this.finish({ kind: 'refused', status: ex.status, body: (ex.errorBody as Buffer).toString('utf8', 0, ex.got) });
    }
    this.finish(o);
  }

  /** Ends the current exchange; the connection goes back to the pool when it can serve another. */
  finish(o: RangeOutcome): void {
    const ex = this.ex;
    if (!ex) return;
    this.ex = undefined;
    const reusable = !this.closed && (o.kind === 'ok' || o.kind === 'refused') && ex.keepAlive;
    if (reusable) {
      this.served++;
      this.socket.unref();
      const idle = this.pool.get(this.key) ?? [];
      if (idle.length < IDLE_PER_HOST) {
        idle.push(this);
        this.pool.set(this.key, idle);
      } else this.socket.destroy();
    } else {
      this.closed = true;
      this.socket.destroy();
      const idle = this.pool.get(this.key);
      if (idle) this.pool.set(this.key, idle.filter((c) => c !== this));
    }
    ex.done(o);
  }

  /** Sends the request of `ex` (the connection must be idle). */
  send(ex: Exchange, host: string, path: string): void {
    this.ex = ex;
    this.received = 0;
    this.socket.ref();
    this.socket.write(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\nRange: bytes=${ex.start}-${ex.start + ex.length - 1}\r\nConnection: keep-alive\r\n\r\n`);
  }
}

const pool = new Map<string, Conn[]>();

function take(host: string, port: number): Conn {
  const key = `${host}:${port}`;
  const idle = pool.get(key);
  for (let c = idle?.pop(); c; c = idle?.pop()) if (!c.closed) return c;
  return new Conn(key, host, port, pool);
}

/**
 * GET `path` with `Range: bytes=<start>-<start+length-1>` from http://host:port, the body read
 * into `out` (at least `length` bytes). Never rejects: the outcome says what happened. `cancel`
 * receives a function that ends the exchange (on a timeout or an abort), destroying its
 * connection.
 */
export function getRange(host: string, port: number, hostHeader: string, path: string, start: number, length: number, out: Uint8Array, cancel: (stop: (o: RangeOutcome) => void) => void): Promise<RangeOutcome> {
  return new Promise<RangeOutcome>((resolve) => {
    const attempt = (retry: boolean): void => {
      const conn = take(host, port);
      const reused = conn.served > 0;
      const ex: Exchange = {
        start,
        length,
        out,
        headBytes: 0,
        got: 0,
        status: 0,
        errorLength: -1,
        keepAlive: false,
        done: (o) => {
          // A kept-alive connection the server closed while idle: once more on a fresh one.
          if (o.kind === 'unreachable' && reused && retry && conn.received === 0) return attempt(false);
          resolve(o);
        },
      };
      cancel((o) => {
        if (conn.ex === ex) conn.closed = true;
        if (conn.ex === ex) conn.finish(o);
      });
      conn.send(ex, hostHeader, path);
    };
    attempt(true);
  });
}
