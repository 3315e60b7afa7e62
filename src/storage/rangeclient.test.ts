// fetchRange over plain HTTP (./rangeclient.ts) against a raw TCP server that answers exactly
// what each test scripts: keep-alive reuse, a server that closed an idle connection, every
// malformed answer, timeouts and aborts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { fetchRange, ProviderHttpError } from './http.js';

const ROOT = new Uint8Array(32).fill(7);
const DATA = randomBytes(300_000);
const REFUSAL = '{"code":"SHARD_NOT_FOUND","message":"gone"}';

interface Req {
  range: [number, number];
  socket: Socket;
}

/** A server that calls `answer` for each request head it reads (several per connection). */
async function rawServer(answer: (r: Req, n: number) => void): Promise<{ url: string; server: Server; connections: () => number }> {
  let n = 0;
  let connections = 0;
  const open = new Set<Socket>();
  const server = createServer((socket) => {
    connections++;
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    let buf = '';
    socket.on('data', (d) => {
      buf += d.toString('latin1');
      for (let at = buf.indexOf('\r\n\r\n'); at >= 0; at = buf.indexOf('\r\n\r\n')) {
        const head = buf.slice(0, at);
        buf = buf.slice(at + 4);
        const m = /range: bytes=([0-9]+)-([0-9]+)/i.exec(head);
        answer({ range: [Number(m?.[1]), Number(m?.[2])], socket }, n++);
      }
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  // close() also drops the connections the client keeps alive.
  const close = server.close.bind(server);
  server.close = (cb?: (err?: Error) => void) => {
    for (const s of open) s.destroy();
    return close(cb);
  };
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, server, connections: () => connections };
}

function partial(r: Req, opts: { extraHeaders?: string; body?: Buffer; split?: boolean } = {}): void {
  const [a, b] = r.range;
  const body = opts.body ?? DATA.subarray(a, b + 1);
  const head = `HTTP/1.1 206 Partial Content\r\ncontent-range: bytes ${a}-${b}/${DATA.length}\r\ncontent-length: ${body.length}\r\n${opts.extraHeaders ?? ''}\r\n`;
  if (opts.split) {
    // The head in two writes, the body in small pieces.
    r.socket.write(head.slice(0, 20));
    setTimeout(() => {
      r.socket.write(head.slice(20));
      for (let o = 0; o < body.length; o += 1000) r.socket.write(body.subarray(o, o + 1000));
    }, 5);
  } else r.socket.write(Buffer.concat([Buffer.from(head, 'latin1'), body]));
}

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ProviderHttpError, String(e));
    return e.code;
  }
  return 'resolved';
}

test('plain range reads: bytes land in place, one kept-alive connection serves many, a split answer is reassembled', async () => {
  const s = await rawServer((r, n) => partial(r, { split: n % 2 === 1 }));
  try {
    const into = Buffer.alloc(200_000);
    for (const [a, len] of [
      [0, 100_000],
      [5, 1],
      [123_456, 150_000],
      [299_999, 1],
    ] as const) {
      const got = await fetchRange(s.url, ROOT, a, len, { into });
      assert.ok(Buffer.from(got).equals(DATA.subarray(a, a + len)), `range ${a}+${len}`);
      assert.equal(got.buffer, into.buffer, 'read into the caller\'s buffer');
    }
    // Four sequential reads, one connection.
    assert.equal(s.connections(), 1);
    // Concurrent reads open more connections, each correct.
    const all = await Promise.all([0, 1, 2, 3].map((i) => fetchRange(s.url, ROOT, i * 1000, 50_000)));
    all.forEach((g, i) => assert.ok(Buffer.from(g).equals(DATA.subarray(i * 1000, i * 1000 + 50_000))));
  } finally {
    s.server.close();
  }
});

test('plain range reads: a kept-alive connection the server closed is retried once on a new one', async () => {
  const s = await rawServer((r, n) => {
    if (n === 1) r.socket.destroy(); // the second request meets a connection closing under it
    else partial(r);
  });
  try {
    assert.ok(Buffer.from(await fetchRange(s.url, ROOT, 0, 10)).equals(DATA.subarray(0, 10)));
    assert.ok(Buffer.from(await fetchRange(s.url, ROOT, 10, 10)).equals(DATA.subarray(10, 20)));
    assert.equal(s.connections(), 2);
  } finally {
    s.server.close();
  }
});

test('plain range reads: every malformed answer is BAD_RESPONSE, a refusal carries its code, a dead server is unreachable', async () => {
  const cases: Array<[string, (r: Req) => void, string]> = [
    ['wrong range', (r) => r.socket.write(`HTTP/1.1 206 OK\r\ncontent-range: bytes 1-10/99\r\ncontent-length: 10\r\n\r\n0123456789`), 'BAD_RESPONSE'],
    ['wrong length', (r) => r.socket.write(`HTTP/1.1 206 OK\r\ncontent-range: bytes ${r.range[0]}-${r.range[1]}/99\r\ncontent-length: 3\r\n\r\nabc`), 'BAD_RESPONSE'],
    ['longer body than declared', (r) => partial(r, { body: Buffer.concat([DATA.subarray(r.range[0], r.range[1] + 1), Buffer.from('extra')]), extraHeaders: '' }), 'BAD_RESPONSE'],
    ['200 instead of 206', (r) => r.socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nhi'), 'BAD_RESPONSE'],
    ['not HTTP', (r) => r.socket.end('SSH-2.0-OpenSSH\r\n\r\n'), 'BAD_RESPONSE'],
    ['head too long', (r) => r.socket.write(`HTTP/1.1 206 OK\r\nx: ${'a'.repeat(20_000)}\r\n\r\n`), 'BAD_RESPONSE'],
    ['huge error body', (r) => r.socket.write('HTTP/1.1 500 Oops\r\ncontent-length: 1000000\r\n\r\n'), 'BAD_RESPONSE'],
    ['refusal with a code', (r) => r.socket.write(`HTTP/1.1 404 Not Found\r\ncontent-length: ${REFUSAL.length}\r\n\r\n${REFUSAL}`), 'SHARD_NOT_FOUND'],
    ['refusal read to the close', (r) => r.socket.end('HTTP/1.1 416 No\r\nconnection: close\r\n\r\n{"code":"RANGE_NOT_SATISFIABLE","message":"x"}'), 'RANGE_NOT_SATISFIABLE'],
    ['broken off mid-body', (r) => r.socket.end(`HTTP/1.1 206 OK\r\ncontent-range: bytes ${r.range[0]}-${r.range[1]}/99\r\ncontent-length: ${r.range[1] - r.range[0] + 1}\r\n\r\nabc`), 'PROVIDER_UNREACHABLE'],
  ];
  for (const [what, answer, want] of cases) {
    const s = await rawServer(answer);
    try {
      assert.equal(await code(fetchRange(s.url, ROOT, 0, 100)), want, what);
    } finally {
      s.server.close();
    }
  }
  const s = await rawServer(() => {});
  const port = (s.server.address() as { port: number }).port;
  await new Promise<void>((r) => s.server.close(() => r()));
  assert.equal(await code(fetchRange(`http://127.0.0.1:${port}`, ROOT, 0, 1)), 'PROVIDER_UNREACHABLE');
});

test('plain range reads: a silent server times out, an abort stops the read, and neither spoils the next read', async () => {
  let silent = true;
  const s = await rawServer((r) => {
    if (!silent) partial(r);
  });
  try {
    assert.equal(await code(fetchRange(s.url, ROOT, 0, 10, { timeoutMs: 100 })), 'PROVIDER_TIMEOUT');
    const ctl = new AbortController();
    setTimeout(() => ctl.abort(), 50);
    assert.equal(await code(fetchRange(s.url, ROOT, 0, 10, { signal: ctl.signal })), 'ABORTED');
    assert.equal(await code(fetchRange(s.url, ROOT, 0, 10, { signal: AbortSignal.abort() })), 'ABORTED');
    silent = false;
    assert.ok(Buffer.from(await fetchRange(s.url, ROOT, 3, 7)).equals(DATA.subarray(3, 10)));
  } finally {
    s.server.close();
  }
});
