/**
 * The provider's storage service: the HTTP routes of the storage protocol
 * (ARCHITECTURE.md, "Provider storage service": routes, headers, codes; constants in src/storage/http.ts) over a ShardStore.
 *
 *   PUT /v1/leases/:lease/shard           a customer uploads a lease's shard (streamed)
 *   GET /v1/shards/:root/pieces/:index    a piece with its proof (anyone: the data is encrypted)
 *   GET /v1/shards/:root/piece-roots      every piece root, 32 bytes each (to check ranges of pieces)
 *   GET /v1/shards/:root/data             a byte range (Range: bytes=a-b, ≤ 16 MiB)
 *   GET /v1/shards/:root/leaves/:index    a leaf with its proof and a signed retrieval receipt
 *   GET /v1/storage/status                capacity, bytes used, shard count
 *
 * An upload is refused before its body is read when anything but the bytes is wrong — headers,
 * the customer's signature, its expiry, the lease (read from the chain through StorageChain: it
 * must be active, this operator's, of the signing customer), the capacity — and the connection is
 * then closed rather than drained, so a refused GiB costs the provider nothing. Otherwise the
 * body streams to disk through a ShardUpload that hashes it on the way; only a body of exactly
 * the declared size whose root matches is kept, and acknowledged with the operator's signature.
 *
 * A js-libp2p style component: built by a factory from its dependencies as interfaces (the store,
 * the chain read, the signer), start()/stop()-able; tests pass a fake StorageChain.
 */
import Fastify, { type FastifyError, type FastifyInstance, type FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fromHex, toBase64, toHex, type Bytes } from '../../core/bytes.js';
import { errorMessage, GroundworkError } from '../../core/errors.js';
import { addressFromPublicKey, encodeAddress, verifySignature, type Signer } from '../../core/keys.js';
import type { Logger } from '../../core/log.js';
import { leafHash } from '../../core/shardtree.js';
import { retrievalReceiptSignBytes, shardAckSignBytes, uploadAuthSignBytes } from '../../chain/modules/storage/signing.js';
import { PROVIDER_ERROR_STATUS, STORAGE_HEADERS as H, type LeafJSON, type ProviderErrorCode, type ShardAckJSON, type StorageStatusJSON } from '../../storage/http.js';
import type { MarketChain } from '../chain.js';
import type { StorageMetrics } from '../metrics.js';
import { MAX_RANGE, ShardStoreError, type ShardStore, type ShardUpload } from './store.js';
import { alignedBuffer } from '../../core/directio.js';

/** What the service needs to know about a lease. */
export interface StorageLease {
  /** Bech32 addresses. */
  provider: string;
  customer: string;
  /** 'active' is the only status that accepts uploads. */
  status: string;
  /** When known: only 'storage' leases accept uploads. */
  kind?: string;
}

/** What the service reads from the chain (the agent's MarketChain in production, a fake in tests). */
export interface StorageChain {
  chainId(): Promise<string>;
  /** The lease, or undefined when the chain has none with this id; throws when the chain cannot be read. */
  leaseOf(id: string): Promise<StorageLease | undefined>;
}

/** StorageChain over the agent's chain client. */
export function storageChainOf(chain: Pick<MarketChain, 'chainId' | 'lease'>): StorageChain {
  return {
    chainId: () => chain.chainId(),
    async leaseOf(id) {
      const l = await chain.lease(id);
      return l ? { provider: l.provider, customer: l.customer, status: l.status, kind: String(l.kind) } : undefined;
    },
  };
}

export interface StorageServiceOptions {
  store: ShardStore;
  chain: StorageChain;
  /** The operator key: its address must be the lease's provider; it signs acks and receipts. */
  operator: Signer;
  host: string;
  port: number;
  log: Logger;
  metrics?: StorageMetrics;
  /** Unix ms (tests move it). */
  now?: () => number;
  /** A connection silent this long is closed (a stalled upload frees its reservation); default 120 s. */
  idleTimeoutMs?: number;
}

/** A refusal: the code and message the client gets as `{ code, message }`. */
class Refusal extends GroundworkError {
  override name = 'StorageRefusal';
  declare readonly code: ProviderErrorCode;
  constructor(code: ProviderErrorCode, message: string) {
    super(code, message);
  }
}

const U64_MAX = (1n << 64n) - 1n;
const DEC_RE = /^[0-9]{1,20}$/;

function header(req: FastifyRequest, name: string): string {
  const v = req.headers[name];
  if (typeof v !== 'string' || v === '') throw new Refusal('INVALID_REQUEST', `header ${name} is required`);
  return v;
}

function hexHeader(req: FastifyRequest, name: string, len: number): Bytes {
  const v = header(req, name);
  if (v.length !== len * 2 || !/^[0-9a-fA-F]+$/.test(v)) throw new Refusal('INVALID_REQUEST', `header ${name} must be ${len} bytes of hex`);
  return fromHex(v);
}

function u64Header(req: FastifyRequest, name: string): bigint {
  const v = header(req, name);
  if (!DEC_RE.test(v) || BigInt(v) > U64_MAX) throw new Refusal('INVALID_REQUEST', `header ${name} must be a decimal integer, got "${v.slice(0, 24)}"`);
  return BigInt(v);
}

function rootParam(s: string): string {
  if (!/^[0-9a-fA-F]{64}$/.test(s)) throw new Refusal('INVALID_REQUEST', 'the root in the path must be 64 hex digits');
  return s.toLowerCase();
}

function indexParam(s: string, what: string): number {
  if (!/^[0-9]{1,15}$/.test(s)) throw new Refusal('INVALID_REQUEST', `the ${what} index must be a decimal integer`);
  return Number(s);
}

/** The HTTP answer for a store error. */
/**
 * Reused buffers for range answers, by power-of-two size: a fresh multi-MiB buffer per request
 * made garbage collection most of a serving agent's work (external memory drives V8's GC).
 */
class BufferPool {
  private readonly free = new Map<number, Buffer[]>();
  constructor(private readonly keepPerSize: number) {}

  take(length: number): Buffer {
    let size = 1 << 16;
    while (size < length) size *= 2;
    // Aligned, so the store may read a shard's bytes into it direct (core/directio.ts).
    return this.free.get(size)?.pop() ?? alignedBuffer(size);
  }

  give(buf: Buffer): void {
    const list = this.free.get(buf.length) ?? [];
    if (list.length < this.keepPerSize) list.push(buf);
    this.free.set(buf.length, list);
  }
}

function fromStore(e: ShardStoreError): Refusal {
  const code: ProviderErrorCode = e.code === 'UPLOAD_CLOSED' ? 'INTERNAL' : e.code;
  return new Refusal(code, e.message);
}

export interface StorageService {
  /** Listens; resolves with the bound URL (http://host:port). */
  start(): Promise<string>;
  stop(): Promise<void>;
  /** The fastify instance (for inject() in tests). */
  readonly app: FastifyInstance;
}

/** Refused bodies up to this size are read to their end before the answer (see the error handler). */
const DRAIN_LIMIT = 4 << 20;

/** Reads and drops the rest of a request body, for at most `ms`. */
function drain(req: IncomingMessage, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(t);
      req.off('end', done).off('error', done).off('close', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    req.on('end', done).on('error', done).on('close', done);
    req.resume();
  });
}

export function storageService(opts: StorageServiceOptions): StorageService {
  const { store, chain, operator, log, metrics } = opts;
  const now = opts.now ?? Date.now;
  const me = encodeAddress(operator.address);
  const app = Fastify({
    logger: false,
    forceCloseConnections: true,
    return503OnClosing: true,
    connectionTimeout: opts.idleTimeoutMs ?? 120_000,
    keepAliveTimeout: 10_000,
  });
  let chainIdP: Promise<string> | undefined;
  const chainId = async (): Promise<string> => {
    chainIdP ??= chain.chainId();
    try {
      return await chainIdP;
    } catch (e) {
      chainIdP = undefined;
      throw new Refusal('CHAIN_UNAVAILABLE', `cannot read the chain id from the node: ${errorMessage(e)}`);
    }
  };
  const gauges = () => {
    metrics?.usedBytes.set(BigInt(store.usedBytes));
    metrics?.shards.set(BigInt(store.shardCount));
    metrics?.capacityBytes.set(BigInt(store.capacityBytes));
  };
  gauges();

  // Upload bodies are read by the route itself, as a stream; nothing is parsed or buffered here.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_req, _payload, done) => done(null));

  app.setErrorHandler(async (err: FastifyError | Refusal, req, reply) => {
    let code: ProviderErrorCode;
    let message: string;
    if (err instanceof Refusal) ({ code, message } = err);
    else if (err instanceof ShardStoreError) ({ code, message } = fromStore(err));
    else {
      log.error('storage-request-failed', { method: req.method, url: req.url, error: err.stack ?? err.message });
      code = 'INTERNAL';
      message = 'internal error; see the provider log';
    }
    // A small body not read yet is drained, so the client (still sending) surely reads the
    // answer; a larger one is not: the connection closes after this answer, and a refused GiB
    // costs the provider nothing (that client may only see the connection end).
    if (!req.raw.complete && !req.raw.destroyed && Number(req.headers['content-length'] ?? Infinity) <= DRAIN_LIMIT) await drain(req.raw, 2_000);
    if (!req.raw.complete) void reply.header('connection', 'close');
    return reply.status(PROVIDER_ERROR_STATUS[code]).send({ code, message });
  });
  app.setNotFoundHandler((req, reply) => reply.status(404).send({ code: 'NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0]}` }));

  // -------------------------------------------------------------------------------------------
  // Upload

  /** Everything but the body; the refusal names what is wrong. */
  async function authorize(req: FastifyRequest<{ Params: { lease: string } }>) {
    const leaseId = req.params.lease;
    if (!DEC_RE.test(leaseId) || BigInt(leaseId) > U64_MAX) throw new Refusal('INVALID_REQUEST', 'the lease in the path must be a decimal id');
    const lease = BigInt(leaseId);
    const root = hexHeader(req, H.root, 32);
    const bytes = u64Header(req, H.bytes);
    const pieceSize = u64Header(req, H.pieceSize);
    const expires = u64Header(req, H.expires);
    const pubKey = hexHeader(req, H.pubKey, 32);
    const signature = hexHeader(req, H.signature, 64);
    const length = req.headers['content-length'];
    if (length !== undefined && length !== bytes.toString()) {
      throw new Refusal('SIZE_MISMATCH', `Content-Length ${length} differs from ${H.bytes} ${bytes}`);
    }
    if (bytes > BigInt(Number.MAX_SAFE_INTEGER) || pieceSize > 1n << 30n) throw new Refusal('INVALID_SIZE', `a shard of ${bytes} bytes in ${pieceSize}-byte pieces is out of range`);
    if (!verifySignature(pubKey, uploadAuthSignBytes(await chainId(), lease, root, bytes, expires), signature)) {
      throw new Refusal('BAD_SIGNATURE', `the upload authorization is not signed by ${toHex(pubKey)} over this lease, root, size and expiry on chain ${await chainId()}`);
    }
    if (expires <= BigInt(now())) throw new Refusal('AUTH_EXPIRED', `the upload authorization expired at ${new Date(Number(expires)).toISOString()} (provider clock ${new Date(now()).toISOString()})`);
    let l: StorageLease | undefined;
    try {
      l = await chain.leaseOf(leaseId);
    } catch (e) {
      throw new Refusal('CHAIN_UNAVAILABLE', `cannot read lease ${leaseId} from the chain: ${errorMessage(e)}`);
    }
    if (!l) throw new Refusal('LEASE_NOT_FOUND', `the chain has no lease ${leaseId}`);
    if (l.provider !== me) throw new Refusal('NOT_OUR_LEASE', `lease ${leaseId} is served by ${l.provider}, not by this provider (${me})`);
    if (l.kind !== undefined && l.kind !== 'storage') throw new Refusal('NOT_A_STORAGE_LEASE', `lease ${leaseId} is a ${l.kind} lease`);
    if (l.status !== 'active') throw new Refusal('LEASE_NOT_ACTIVE', `lease ${leaseId} is ${l.status}`);
    const customer = encodeAddress(addressFromPublicKey(pubKey));
    if (l.customer !== customer) throw new Refusal('WRONG_CUSTOMER', `lease ${leaseId} belongs to ${l.customer}; the upload is signed by ${customer}`);
    return { leaseId, lease, root, bytes: Number(bytes), pieceSize: Number(pieceSize) };
  }

  app.put<{ Params: { lease: string } }>('/v1/leases/:lease/shard', async (req, reply) => {
    const started = now();
    let upload: ShardUpload | undefined;
    try {
      const a = await authorize(req);
      upload = await store.beginUpload({ root: a.root, bytes: a.bytes, pieceSize: a.pieceSize, lease: a.leaseId });
      const body = (req.raw as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
      for (;;) {
        let r: IteratorResult<Buffer>;
        try {
          r = await body.next();
        } catch (e) {
          // The client went away mid-body: there is nobody to answer.
          log.info('upload-broken', { lease: a.leaseId, root: toHex(a.root), received: upload.receivedBytes, bytes: a.bytes, error: errorMessage(e) });
          metrics?.uploads.inc({ result: 'BROKEN' });
          await upload.abort();
          req.raw.destroy();
          return reply.hijack();
        }
        if (r.done) break;
        await upload.write(r.value);
      }
      const meta = await upload.commit();
      const bytes = BigInt(a.bytes);
      const ack: ShardAckJSON = {
        root: meta.root,
        bytes: bytes.toString(),
        pubKey: toHex(operator.publicKey),
        signature: toHex(operator.sign(shardAckSignBytes(await chainId(), a.lease, a.root, bytes))),
      };
      metrics?.uploads.inc({ result: 'ok' });
      if (!upload.duplicate) metrics?.uploadBytes.inc({}, bytes);
      gauges();
      log.info('shard-stored', { lease: a.leaseId, root: meta.root, bytes: a.bytes, duplicate: upload.duplicate, ms: now() - started });
      return ack;
    } catch (e) {
      await upload?.abort();
      const r = e instanceof ShardStoreError ? fromStore(e) : e;
      if (r instanceof Refusal) {
        metrics?.uploads.inc({ result: r.code });
        log.info('upload-refused', { lease: req.params.lease, code: r.code, detail: r.message });
      }
      throw r;
    }
  });

  // -------------------------------------------------------------------------------------------
  // Reads

  const read = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof ShardStoreError) {
        if (e.code === 'SHARD_CORRUPT') log.error('shard-corrupt', { error: e.message });
        throw fromStore(e);
      }
      throw e;
    }
  };

  app.get<{ Params: { root: string; index: string } }>('/v1/shards/:root/pieces/:index', async (req, reply) => {
    const root = rootParam(req.params.root);
    const index = indexParam(req.params.index, 'piece');
    const p = await read(() => store.readPiece(root, index));
    metrics?.downloads.inc({ kind: 'piece' });
    metrics?.downloadBytes.inc({}, BigInt(p.data.length));
    return reply
      .header('content-type', 'application/octet-stream')
      .header(H.proof, p.proof.map((h) => toHex(h)).join(''))
      .header(H.pieces, String(p.pieces))
      .send(Buffer.from(p.data.buffer, p.data.byteOffset, p.data.byteLength));
  });

  app.get<{ Params: { root: string } }>('/v1/shards/:root/piece-roots', async (req, reply) => {
    const root = rootParam(req.params.root);
    const roots = await read(() => store.pieceRootsOf(root));
    return reply.header('content-type', 'application/octet-stream').header(H.pieces, String(roots.length)).send(Buffer.concat(roots));
  });

  const rangeBuffers = new BufferPool(4);
  app.get<{ Params: { root: string } }>('/v1/shards/:root/data', async (req, reply) => {
    const root = rootParam(req.params.root);
    const m = /^bytes=([0-9]{1,15})-([0-9]{1,15})$/.exec(req.headers.range ?? '');
    if (!m) throw new Refusal('INVALID_REQUEST', 'send a Range header: bytes=<first>-<last> (one range, both ends given)');
    const start = Number(m[1]);
    const end = Number(m[2]);
    if (end < start) throw new Refusal('RANGE_NOT_SATISFIABLE', `the range ends (${end}) before it starts (${start})`);
    const length = end - start + 1;
    const buf = length <= MAX_RANGE ? rangeBuffers.take(length) : undefined;
    let r;
    try {
      r = await read(() => store.readRange(root, start, length, buf));
    } catch (e) {
      if (buf) rangeBuffers.give(buf);
      throw e;
    }
    // Back to the pool once the answer is written out (or the connection is gone).
    if (buf) reply.raw.once('close', () => rangeBuffers.give(buf));
    metrics?.downloads.inc({ kind: 'range' });
    metrics?.downloadBytes.inc({}, BigInt(r.data.length));
    return reply.status(206).header('content-type', 'application/octet-stream').header('content-range', `bytes ${start}-${end}/${r.total}`).send(r.data);
  });

  app.get<{ Params: { root: string; index: string }; Querystring: { nonce?: string } }>('/v1/shards/:root/leaves/:index', async (req) => {
    const root = rootParam(req.params.root);
    const index = indexParam(req.params.index, 'leaf');
    const nonceHex = req.query.nonce ?? '';
    if (!/^[0-9a-fA-F]{64}$/.test(nonceHex)) throw new Refusal('INVALID_REQUEST', 'query parameter nonce must be 32 bytes of hex');
    const cid = await chainId();
    const p = await read(() => store.proveLeaf(root, index));
    const signature = operator.sign(retrievalReceiptSignBytes(cid, fromHex(root), index, leafHash(p.data), fromHex(nonceHex)));
    metrics?.downloads.inc({ kind: 'leaf' });
    metrics?.downloadBytes.inc({}, BigInt(p.data.length));
    const out: LeafJSON = {
      data: toBase64(p.data),
      proof: p.proof.map((h) => toHex(h)),
      leafCount: p.leafCount,
      receipt: { pubKey: toHex(operator.publicKey), signature: toHex(signature) },
    };
    return out;
  });

  app.get('/v1/storage/status', async () => {
    const out: StorageStatusJSON = { capacityBytes: store.capacityBytes, usedBytes: store.usedBytes, shards: store.shardCount };
    return out;
  });

  return {
    app,
    async start() {
      await app.listen({ host: opts.host, port: opts.port });
      const a = app.server.address() as AddressInfo;
      const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
      return `http://${host}:${a.port}`;
    },
    async stop() {
      await app.close();
    },
  };
}
