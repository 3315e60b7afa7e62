/**
 * The customer's side of the provider storage protocol (ARCHITECTURE.md, "Provider storage
 * service": the routes table), and the protocol's constants, which the provider's service
 * (src/provider/storage/service.ts) imports so both ends name the same headers and codes.
 *
 * Every answer is checked before it is returned: an upload's acknowledgment must be signed over
 * exactly the lease, root and size that were sent (and by the expected provider, when given);
 * a piece must hash to a piece root that its proof places at its index under the shard root; a
 * leaf must verify against the root and its retrieval receipt must be signed. A provider that
 * answers otherwise gets a ProviderHttpError BAD_RESPONSE, never a silently wrong value.
 *
 * Small requests use plain `fetch` (undici, bundled with Node), each with a timeout through an
 * AbortSignal. The two bulk paths use node:http directly: an upload writes its body chunk by
 * chunk with a Content-Length (no web-stream layer, and no copy: a chunk's memory goes back to
 * its source once the operating system has it), and a range read copies the socket's chunks
 * straight into the caller's buffer. An upload's timeout is an idle timeout (no byte sent and
 * no answer for that long), since a GiB shard over a slow link may rightly take an hour.
 */
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import { equals, fromBase64, fromHex, toHex, type Bytes } from '../core/bytes.js';
import { errorMessage, GroundworkError, type ErrorOptions } from '../core/errors.js';
import { addressFromPublicKey, encodeAddress, verifySignature, type Signer } from '../core/keys.js';
import { isPieceSize, LEAF_SIZE, leafHash, MAX_PIECE_SIZE, pieceRoot, shardRoot, verifyLeaf, verifyPiece } from '../core/shardtree.js';
import { retrievalReceiptSignBytes, shardAckSignBytes, uploadAuthSignBytes } from '../chain/modules/storage/signing.js';
import { getRange, type RangeOutcome } from './rangeclient.js';

// ---------------------------------------------------------------------------------------------
// The protocol: headers, codes, bodies

/** Request and response headers of the protocol (lowercase, as Node presents them). */
export const STORAGE_HEADERS = {
  root: 'x-gw-root',
  bytes: 'x-gw-bytes',
  pieceSize: 'x-gw-piece-size',
  expires: 'x-gw-expires',
  pubKey: 'x-gw-pubkey',
  signature: 'x-gw-signature',
  proof: 'x-gw-proof',
  pieces: 'x-gw-pieces',
} as const;

/**
 * The codes a provider answers with (body `{ code, message }`), with their HTTP status:
 * 400 INVALID_REQUEST, INVALID_SIZE, SIZE_MISMATCH; 401 BAD_SIGNATURE, AUTH_EXPIRED;
 * 403 NOT_OUR_LEASE, WRONG_CUSTOMER; 404 LEASE_NOT_FOUND, SHARD_NOT_FOUND, PIECE_NOT_FOUND,
 * LEAF_NOT_FOUND, NOT_FOUND; 409 LEASE_NOT_ACTIVE, NOT_A_STORAGE_LEASE; 413 INSUFFICIENT_CAPACITY;
 * 416 RANGE_NOT_SATISFIABLE; 422 ROOT_MISMATCH; 500 SHARD_CORRUPT, INTERNAL; 503 CHAIN_UNAVAILABLE.
 */
export type ProviderErrorCode =
  | 'INVALID_REQUEST'
  | 'INVALID_SIZE'
  | 'SIZE_MISMATCH'
  | 'BAD_SIGNATURE'
  | 'AUTH_EXPIRED'
  | 'NOT_OUR_LEASE'
  | 'WRONG_CUSTOMER'
  | 'LEASE_NOT_FOUND'
  | 'SHARD_NOT_FOUND'
  | 'PIECE_NOT_FOUND'
  | 'LEAF_NOT_FOUND'
  | 'NOT_FOUND'
  | 'LEASE_NOT_ACTIVE'
  | 'NOT_A_STORAGE_LEASE'
  | 'INSUFFICIENT_CAPACITY'
  | 'ROOT_MISMATCH'
  | 'SHARD_CORRUPT'
  | 'INTERNAL'
  | 'CHAIN_UNAVAILABLE'
  | 'RANGE_NOT_SATISFIABLE';

export const PROVIDER_ERROR_STATUS: Readonly<Record<ProviderErrorCode, number>> = {
  INVALID_REQUEST: 400,
  INVALID_SIZE: 400,
  SIZE_MISMATCH: 400,
  BAD_SIGNATURE: 401,
  AUTH_EXPIRED: 401,
  NOT_OUR_LEASE: 403,
  WRONG_CUSTOMER: 403,
  LEASE_NOT_FOUND: 404,
  SHARD_NOT_FOUND: 404,
  PIECE_NOT_FOUND: 404,
  LEAF_NOT_FOUND: 404,
  NOT_FOUND: 404,
  LEASE_NOT_ACTIVE: 409,
  NOT_A_STORAGE_LEASE: 409,
  INSUFFICIENT_CAPACITY: 413,
  ROOT_MISMATCH: 422,
  SHARD_CORRUPT: 500,
  INTERNAL: 500,
  CHAIN_UNAVAILABLE: 503,
  RANGE_NOT_SATISFIABLE: 416,
};

/** 200 of PUT /v1/leases/:lease/shard: the provider's signed acknowledgment (hex; bytes decimal). */
export interface ShardAckJSON {
  root: string;
  bytes: string;
  pubKey: string;
  signature: string;
}

/** 200 of GET /v1/shards/:root/leaves/:index. */
export interface LeafJSON {
  /** The leaf, base64 (LEAF_SIZE bytes). */
  data: string;
  /** Path hashes, hex, leaf to root. */
  proof: string[];
  leafCount: number;
  receipt: { pubKey: string; signature: string };
}

/** 200 of GET /v1/storage/status. Capacity counts shard data bytes (the leaf-hash files, 1/128 of that, come on top). */
export interface StorageStatusJSON {
  capacityBytes: number;
  usedBytes: number;
  shards: number;
}

export const uploadPath = (lease: bigint | string): string => `/v1/leases/${lease}/shard`;
export const piecePath = (root: string, index: number): string => `/v1/shards/${root}/pieces/${index}`;
/** Every piece root of a shard, 32 bytes each (binary). */
export const pieceRootsPath = (root: string): string => `/v1/shards/${root}/piece-roots`;
/** GET with `Range: bytes=<first>-<last>`: raw shard bytes (206), at most 16 MiB per request. */
export const dataPath = (root: string): string => `/v1/shards/${root}/data`;
export const leafPath = (root: string, index: number, nonce: string): string => `/v1/shards/${root}/leaves/${index}?nonce=${nonce}`;
export const STATUS_PATH = '/v1/storage/status';

// ---------------------------------------------------------------------------------------------
// Errors

/**
 * A storage request to a provider failed. `code` is the provider's own code (ProviderErrorCode)
 * when it answered with one, else PROVIDER_UNREACHABLE, PROVIDER_TIMEOUT, BAD_RESPONSE (the
 * answer failed verification or was malformed), ABORTED (the caller's signal) or
 * INVALID_ARGUMENT (a mistake in the call).
 * `provider` is the host URI asked; the message says what to do next.
 */
export class ProviderHttpError extends GroundworkError {
  override name = 'ProviderHttpError';
  constructor(
    code: string,
    message: string,
    readonly provider: string,
    readonly status: number | undefined = undefined,
    opts: ErrorOptions = {},
  ) {
    super(code, message, opts);
  }
}

export type ProviderHttpErrorType = ProviderHttpError;

/** What a customer can do about each refusal. */
const HINTS: Partial<Record<string, string>> = {
  BAD_SIGNATURE: 'the upload authorization did not verify: sign with the lease customer\'s key and the right chain id',
  AUTH_EXPIRED: 'the upload authorization expired before it arrived: check this machine\'s clock, or allow more time (expiresMs)',
  NOT_OUR_LEASE: 'the lease belongs to another provider: upload to the host URI of the lease\'s provider',
  WRONG_CUSTOMER: 'sign with the key of the account that owns the lease',
  LEASE_NOT_FOUND: 'the provider\'s node does not know the lease (yet): wait for the lease\'s block, or check the lease id',
  LEASE_NOT_ACTIVE: 'the lease is closed: order storage again',
  NOT_A_STORAGE_LEASE: 'the lease is for another kind of resource',
  INSUFFICIENT_CAPACITY: 'the provider is full: use another provider',
  ROOT_MISMATCH: 'the bytes sent do not hash to the root: re-encode the file and upload the shard again',
  SIZE_MISMATCH: 'the body was not exactly the declared number of bytes',
  INVALID_SIZE: 'a shard is a whole number of pieces, and the piece size a power of two from 4 KiB to 1 MiB',
  CHAIN_UNAVAILABLE: 'the provider cannot read the chain right now: retry later',
  SHARD_NOT_FOUND: 'the provider does not hold this shard: fetch it from another provider',
  PIECE_NOT_FOUND: 'the shard has fewer pieces than that',
  LEAF_NOT_FOUND: 'the shard has fewer leaves than that',
  SHARD_CORRUPT: 'the provider\'s copy is damaged: fetch from another provider, and report it',
  PROVIDER_UNREACHABLE: 'is the provider online, and is its registered host URI reachable from here?',
  PROVIDER_TIMEOUT: 'the provider stopped answering: retry, or use another provider',
  BAD_RESPONSE: 'the provider answered with data that does not verify: do not trust it; use another provider',
};

function fail(provider: string, what: string, code: string, detail: string, status?: number, cause?: unknown): ProviderHttpError {
  const hint = HINTS[code];
  return new ProviderHttpError(code, `${what} at ${provider} failed (${code}): ${detail}${hint ? `; ${hint}` : ''}`, provider, status, cause === undefined ? {} : { cause });
}

// ---------------------------------------------------------------------------------------------
// Requests

function url(hostUri: string, path: string): string {
  return `${hostUri.replace(/\/+$/, '')}${path}`;
}

/** One fetch; network failures and timeouts become ProviderHttpError. */
async function request(hostUri: string, what: string, path: string, init: RequestInit & { duplex?: 'half' }, timedOut: () => boolean): Promise<Response> {
  try {
    return await fetch(url(hostUri, path), init);
  } catch (e) {
    if (timedOut() || (e instanceof Error && e.name === 'TimeoutError')) throw fail(hostUri, what, 'PROVIDER_TIMEOUT', 'no answer in time', undefined, e);
    if (init.signal?.aborted) throw fail(hostUri, what, 'ABORTED', 'aborted by the caller', undefined, e);
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    throw fail(hostUri, what, 'PROVIDER_UNREACHABLE', cause?.message ?? (e instanceof Error ? e.message : String(e)), undefined, e);
  }
}

/** The error for a refusal: the provider's `{ code, message }` when the body is one, else BAD_RESPONSE. */
function refusal(status: number, text: string, hostUri: string, what: string): ProviderHttpError {
  let body: { code?: unknown; message?: unknown } | undefined;
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    // not JSON: reported below
  }
  if (status >= 400 && body && typeof body.code === 'string') return fail(hostUri, what, body.code, typeof body.message === 'string' ? body.message : `HTTP ${status}`, status);
  return fail(hostUri, what, 'BAD_RESPONSE', `HTTP ${status} without a {code, message} body: ${text.slice(0, 120)}`, status);
}

/** Throws the provider's `{ code, message }` (or a BAD_RESPONSE) for a non-2xx answer. */
async function throwIfError(res: Response, hostUri: string, what: string): Promise<void> {
  if (res.ok) return;
  throw refusal(res.status, Buffer.from(await readLimited(res, 64 << 10, hostUri, what)).toString('utf8'), hostUri, what);
}

/** The body of a response, refusing one longer than `max` bytes (a provider cannot make us buffer without bound). */
async function readLimited(res: Response, max: number, hostUri: string, what: string): Promise<Uint8Array> {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > max) {
    await res.body?.cancel();
    throw fail(hostUri, what, 'BAD_RESPONSE', `the answer is ${declared} bytes, at most ${max} expected`);
  }
  const out = new Uint8Array(Number.isSafeInteger(declared) && declared >= 0 ? declared : max);
  let n = 0;
  if (res.body) {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      if (n + chunk.length > out.length) {
        await res.body.cancel().catch(() => {});
        throw fail(hostUri, what, 'BAD_RESPONSE', `the answer is longer than ${out.length} bytes`);
      }
      out.set(chunk, n);
      n += chunk.length;
    }
  }
  return out.subarray(0, n);
}

async function readJson<T>(res: Response, max: number, hostUri: string, what: string): Promise<T> {
  const bytes = await readLimited(res, max, hostUri, what);
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8')) as T;
  } catch (e) {
    throw fail(hostUri, what, 'BAD_RESPONSE', 'the answer is not JSON', res.status, e);
  }
}

function hexField(v: unknown, len: number, field: string, hostUri: string, what: string): Bytes {
  if (typeof v !== 'string' || v.length !== len * 2 || !/^[0-9a-fA-F]*$/.test(v)) throw fail(hostUri, what, 'BAD_RESPONSE', `${field} is not ${len} bytes of hex`);
  return fromHex(v);
}

// ---------------------------------------------------------------------------------------------
// Upload

export interface UploadShardParameters {
  lease: bigint;
  /** The shard root (core/shardtree) the body must hash to. */
  root: Bytes;
  /** Exactly the body's length. */
  bytes: bigint | number;
  pieceSize: number;
  /** The lease customer's key: signs the upload authorization. */
  key: Signer;
  chainId: string;
  /**
   * The shard's bytes, streamed (never held whole in memory here). The next chunk is asked for
   * only once the previous one was handed to the operating system, so a source may reuse a
   * chunk's memory from then on (or once the iteration returns).
   */
  body: AsyncIterable<Uint8Array> | Readable;
  /** When given, the ack must be signed by this account (bech32): the lease's provider. */
  expectedProvider?: string;
  /** Unix ms the authorization stops being valid; default now + 1 hour. */
  expiresMs?: number;
  /** Abort when nothing was sent or received for this long; default 120 s. */
  idleTimeoutMs?: number;
  /** Called as bytes are handed to the connection. */
  onProgress?: (sentBytes: number, totalBytes: number) => void;
  signal?: AbortSignal;
}

export interface UploadShardReturnType {
  root: Bytes;
  bytes: bigint;
  /** The provider's account key and its address (bech32). */
  pubKey: Bytes;
  provider: string;
  /** Over shardAckSignBytes(chainId, lease, root, bytes): what the chain accepts as proof of custody. */
  signature: Bytes;
}

export type UploadShardErrorType = ProviderHttpError;

/**
 * Streams one shard to a provider for a lease and returns its verified acknowledgment. The
 * provider checks the authorization, the lease and its capacity before reading the body, then
 * recomputes the root; a refusal is a ProviderHttpError with its code (ROOT_MISMATCH,
 * INSUFFICIENT_CAPACITY, ...).
 */
export async function uploadShard(hostUri: string, p: UploadShardParameters): Promise<UploadShardReturnType> {
  const what = `uploading the shard of lease ${p.lease}`;
  const total = BigInt(p.bytes);
  if (p.root.length !== 32) throw fail(hostUri, what, 'INVALID_ARGUMENT', `root is ${p.root.length} bytes, not 32`);
  if (!isPieceSize(p.pieceSize)) throw fail(hostUri, what, 'INVALID_ARGUMENT', `piece size ${p.pieceSize} is not a power of two from ${LEAF_SIZE} to ${MAX_PIECE_SIZE}`);
  if (total <= 0n || total % BigInt(p.pieceSize) !== 0n || total > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw fail(hostUri, what, 'INVALID_ARGUMENT', `bytes ${total} is not a positive multiple of the piece size ${p.pieceSize}`);
  }
  const totalN = Number(total);
  const expires = BigInt(p.expiresMs ?? Date.now() + 3_600_000);
  const signature = p.key.sign(uploadAuthSignBytes(p.chainId, p.lease, p.root, total, expires));

  let target: URL;
  try {
    target = new URL(url(hostUri, uploadPath(p.lease)));
  } catch (e) {
    throw fail(hostUri, what, 'PROVIDER_UNREACHABLE', `${hostUri} is not a URL`, undefined, e);
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') throw fail(hostUri, what, 'PROVIDER_UNREACHABLE', `${hostUri} is not an http(s) URL`);
  if (p.signal?.aborted) throw fail(hostUri, what, 'ABORTED', 'aborted by the caller');
  const idleMs = p.idleTimeoutMs ?? 120_000;
  const it = (p.body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
  const headers = {
    'content-type': 'application/octet-stream',
    'content-length': String(totalN),
    [STORAGE_HEADERS.root]: toHex(p.root),
    [STORAGE_HEADERS.bytes]: String(totalN),
    [STORAGE_HEADERS.pieceSize]: String(p.pieceSize),
    [STORAGE_HEADERS.expires]: expires.toString(),
    [STORAGE_HEADERS.pubKey]: toHex(p.key.publicKey),
    [STORAGE_HEADERS.signature]: toHex(signature),
  };

  return new Promise<UploadShardReturnType>((resolve, reject) => {
    let settled = false;
    let sent = 0;
    let answered = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (e: unknown, v?: UploadShardReturnType): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      p.signal?.removeEventListener('abort', onAbort);
      if (e !== undefined) req.destroy();
      // The source is done with: its last chunk is no longer in use (a no-op when it ended).
      void it.return?.()?.catch(() => {});
      if (e !== undefined) reject(e);
      else resolve(v as UploadShardReturnType);
    };
    const touch = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => finish(fail(hostUri, what, 'PROVIDER_TIMEOUT', `no answer for ${idleMs} ms`)), idleMs);
    };
    const onAbort = (): void => finish(fail(hostUri, what, 'ABORTED', 'aborted by the caller'));
    // One connection per upload: a refused upload's connection is closed by the provider.
    const req = (target.protocol === 'https:' ? httpsRequest : httpRequest)(target, { method: 'PUT', agent: false, headers }, (res) => {
      // The answer may come before the whole body went (a refusal): the body loop stops.
      answered = true;
      touch();
      const status = res.statusCode ?? 0;
      const parts: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        touch();
        size += c.length;
        if (size > 64 << 10) finish(fail(hostUri, what, 'BAD_RESPONSE', 'the answer is longer than 65536 bytes', status));
        else parts.push(c);
      });
      res.on('end', () => {
        const text = Buffer.concat(parts).toString('utf8');
        if (status < 200 || status > 299) return finish(refusal(status, text, hostUri, what));
        let j: Partial<ShardAckJSON>;
        try {
          j = JSON.parse(text) as Partial<ShardAckJSON>;
        } catch (e) {
          return finish(fail(hostUri, what, 'BAD_RESPONSE', 'the answer is not JSON', status, e));
        }
        try {
          finish(undefined, verifyAck(j, { hostUri, chainId: p.chainId, lease: p.lease, root: p.root, bytes: total, ...(p.expectedProvider !== undefined ? { expectedProvider: p.expectedProvider } : {}) }));
        } catch (e) {
          finish(e);
        }
      });
      res.on('error', (e) => finish(fail(hostUri, what, 'PROVIDER_UNREACHABLE', `the answer broke off: ${errorMessage(e)}`, status, e)));
      res.on('close', () => finish(fail(hostUri, what, 'PROVIDER_UNREACHABLE', 'the connection closed before the answer ended', status)));
    });
    req.on('error', (e) => {
      // After an answer began, its own end or error decides.
      if (answered) return;
      const detail = sent > 0 ? `the connection broke after ${sent} of ${totalN} bytes: ${errorMessage(e)}` : errorMessage(e);
      finish(fail(hostUri, what, 'PROVIDER_UNREACHABLE', detail, undefined, e));
    });
    p.signal?.addEventListener('abort', onAbort, { once: true });
    touch();

    // The body, one chunk at a time: the next is asked for only once the previous one is with
    // the operating system, so the source may reuse a chunk's memory then (no copy here).
    const written = (chunk: Uint8Array): Promise<void> => new Promise((done, broke) => req.write(chunk, (e) => (e ? broke(e) : done())));
    void (async () => {
      for (;;) {
        let r: IteratorResult<Uint8Array>;
        try {
          r = await it.next();
        } catch (e) {
          return finish(e);
        }
        if (settled || answered) return;
        if (r.done) {
          if (sent !== totalN) return finish(fail(hostUri, what, 'INVALID_ARGUMENT', `the body ended after ${sent} of the declared ${totalN} bytes`));
          req.end();
          return;
        }
        if (!(r.value instanceof Uint8Array)) return finish(fail(hostUri, what, 'INVALID_ARGUMENT', 'the body yielded something other than bytes'));
        if (sent + r.value.length > totalN) return finish(fail(hostUri, what, 'INVALID_ARGUMENT', `the body is longer than the declared ${totalN} bytes`));
        try {
          await written(r.value);
        } catch {
          return; // the request's 'error' (or the answer) settles the upload
        }
        sent += r.value.length;
        touch();
        p.onProgress?.(sent, totalN);
      }
    })();
  });
}

/** Checks an acknowledgment: same root and size, signature over shardAckSignBytes, the expected signer. */
export function verifyAck(
  j: Partial<ShardAckJSON>,
  want: { hostUri: string; chainId: string; lease: bigint; root: Bytes; bytes: bigint; expectedProvider?: string },
): UploadShardReturnType {
  const what = `uploading the shard of lease ${want.lease}`;
  const root = hexField(j.root, 32, 'ack.root', want.hostUri, what);
  const pubKey = hexField(j.pubKey, 32, 'ack.pubKey', want.hostUri, what);
  const signature = hexField(j.signature, 64, 'ack.signature', want.hostUri, what);
  if (typeof j.bytes !== 'string' || !/^[0-9]{1,20}$/.test(j.bytes)) throw fail(want.hostUri, what, 'BAD_RESPONSE', 'ack.bytes is not a decimal string');
  const bytes = BigInt(j.bytes);
  if (!equals(root, want.root) || bytes !== want.bytes) {
    throw fail(want.hostUri, what, 'BAD_RESPONSE', `the ack is for root ${toHex(root)} and ${bytes} bytes, not the ${toHex(want.root)} and ${want.bytes} sent`);
  }
  if (!verifySignature(pubKey, shardAckSignBytes(want.chainId, want.lease, root, bytes), signature)) {
    throw fail(want.hostUri, what, 'BAD_RESPONSE', `the ack's signature does not verify (chain ${want.chainId})`);
  }
  const provider = encodeAddress(addressFromPublicKey(pubKey));
  if (want.expectedProvider !== undefined && provider !== want.expectedProvider) {
    throw fail(want.hostUri, what, 'BAD_RESPONSE', `the ack is signed by ${provider}, not by the lease's provider ${want.expectedProvider}`);
  }
  return { root, bytes, pubKey, provider, signature };
}

// ---------------------------------------------------------------------------------------------
// Pieces

/** The root of a piece from its bytes (a whole number of leaves, a power of two of them). */
export function pieceRootOf(data: Bytes): Bytes {
  const hashes: Bytes[] = [];
  for (let o = 0; o < data.length; o += LEAF_SIZE) hashes.push(leafHash(data.subarray(o, o + LEAF_SIZE)));
  return pieceRoot(hashes);
}

/**
 * Whether `data` is piece `index` of a shard of `pieces` pieces with root `root`, by `proof`
 * (the path from the piece's root to the shard root). A piece is a valid piece size long.
 */
export function verifyPieceData(data: Bytes, index: number, pieces: number, proof: readonly Bytes[], root: Bytes): boolean {
  if (!isPieceSize(data.length)) return false;
  return verifyPiece(pieceRootOf(data), index, pieces, proof, root);
}

export interface FetchPieceOptions {
  /** The piece count the caller knows (the manifest's segments); the provider's claim must match. */
  pieces?: number;
  /** The piece size the caller knows (the manifest's pieceSize). */
  pieceSize?: number;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface FetchPieceReturnType {
  data: Bytes;
  proof: Bytes[];
  pieces: number;
}

/** Fetches piece `index` of the shard `root` and verifies it against the root (BAD_RESPONSE when it does not). */
export async function fetchPiece(hostUri: string, root: Bytes, index: number, opts: FetchPieceOptions = {}): Promise<FetchPieceReturnType> {
  const rootHex = toHex(root);
  const what = `fetching piece ${index} of shard ${rootHex.slice(0, 16)}…`;
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const signal = opts.signal ? AbortSignal.any([opts.signal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs);
  const res = await request(hostUri, what, piecePath(rootHex, index), { signal }, () => false);
  await throwIfError(res, hostUri, what);
  const piecesHeader = res.headers.get(STORAGE_HEADERS.pieces) ?? '';
  const proofHeader = res.headers.get(STORAGE_HEADERS.proof) ?? '';
  const data = await readLimited(res, opts.pieceSize ?? MAX_PIECE_SIZE, hostUri, what);
  if (!/^[0-9]{1,10}$/.test(piecesHeader)) throw fail(hostUri, what, 'BAD_RESPONSE', `${STORAGE_HEADERS.pieces} is missing or not a count`);
  const pieces = Number(piecesHeader);
  if (opts.pieces !== undefined && pieces !== opts.pieces) throw fail(hostUri, what, 'BAD_RESPONSE', `the provider says the shard has ${pieces} pieces, the manifest ${opts.pieces}`);
  if (proofHeader.length % 64 !== 0 || !/^[0-9a-fA-F]*$/.test(proofHeader)) throw fail(hostUri, what, 'BAD_RESPONSE', `${STORAGE_HEADERS.proof} is not a list of 32-byte hex hashes`);
  const flat = fromHex(proofHeader);
  const proof: Bytes[] = [];
  for (let o = 0; o < flat.length; o += 32) proof.push(flat.subarray(o, o + 32));
  if (opts.pieceSize !== undefined && data.length !== opts.pieceSize) throw fail(hostUri, what, 'BAD_RESPONSE', `the piece is ${data.length} bytes, not ${opts.pieceSize}`);
  if (!verifyPieceData(data, index, pieces, proof, root)) throw fail(hostUri, what, 'BAD_RESPONSE', 'the piece does not verify against the shard root');
  return { data, proof, pieces };
}

/**
 * Every piece root of shard `root` (GET /v1/shards/:root/piece-roots), checked: `pieces` of them
 * (the manifest's count) whose Merkle root is the shard root, so each piece read in a range can
 * then be checked against its own root. BAD_RESPONSE otherwise.
 */
export async function fetchPieceRoots(hostUri: string, root: Bytes, pieces: number, opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<Bytes[]> {
  const rootHex = toHex(root);
  const what = `fetching the piece roots of shard ${rootHex.slice(0, 16)}…`;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const signal = opts.signal ? AbortSignal.any([opts.signal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs);
  const res = await request(hostUri, what, pieceRootsPath(rootHex), { signal }, () => false);
  await throwIfError(res, hostUri, what);
  const body = await readLimited(res, pieces * 32, hostUri, what);
  if (body.length !== pieces * 32) throw fail(hostUri, what, 'BAD_RESPONSE', `${body.length / 32} piece roots, the manifest says ${pieces} pieces`);
  const roots: Bytes[] = [];
  for (let o = 0; o < body.length; o += 32) roots.push(body.subarray(o, o + 32));
  if (!equals(shardRoot(roots), root)) throw fail(hostUri, what, 'BAD_RESPONSE', 'the piece roots do not hash to the shard root');
  return roots;
}

export interface FetchRangeOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Where to put the bytes (at least `length` long; default a new buffer). */
  into?: Uint8Array;
}

/** Keep-alive connections for range reads (one per shard reader is the common case). */
const rangeAgents = { 'http:': new HttpAgent({ keepAlive: true, maxSockets: 8 }), 'https:': new HttpsAgent({ keepAlive: true, maxSockets: 8 }) };

/**
 * `length` bytes of shard `root` from byte `start` (GET /v1/shards/:root/data with a Range; at
 * most 16 MiB), exactly as the provider has them: NOT verified here — the caller checks them
 * (storage/get checks each piece's root against the piece roots from fetchPieceRoots).
 * BAD_RESPONSE when the answer is not exactly that range.
 *
 * The hot path of retrieval, so it uses node:http directly rather than fetch: the body is copied
 * from the socket's chunks straight into one buffer (no web-stream layer, no per-chunk promise).
 */
export function fetchRange(hostUri: string, root: Bytes, start: number, length: number, opts: FetchRangeOptions = {}): Promise<Uint8Array> {
  const rootHex = toHex(root);
  const what = `fetching bytes ${start}–${start + length - 1} of shard ${rootHex.slice(0, 16)}…`;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(length) || start < 0 || length < 1) {
    return Promise.reject(fail(hostUri, what, 'INVALID_ARGUMENT', 'start and length must be non-negative integers, length at least 1'));
  }
  let target: URL;
  try {
    target = new URL(url(hostUri, dataPath(rootHex)));
  } catch (e) {
    return Promise.reject(fail(hostUri, what, 'PROVIDER_UNREACHABLE', `${hostUri} is not a URL`, undefined, e));
  }
  const agent = rangeAgents[target.protocol as keyof typeof rangeAgents];
  if (!agent) return Promise.reject(fail(hostUri, what, 'PROVIDER_UNREACHABLE', `${hostUri} is not an http(s) URL`));
  const timeoutMs = opts.timeoutMs ?? 60_000;
  if (target.protocol === 'http:') return fetchRangePlain(target, hostUri, what, start, length, timeoutMs, opts);
  return new Promise<Uint8Array>((resolve, reject) => {
    let settled = false;
    const finish = (e: ProviderHttpError | undefined, v?: Uint8Array): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      if (e) {
        req.destroy();
        reject(e);
      } else resolve(v as Uint8Array);
    };
    const onAbort = (): void => finish(fail(hostUri, what, 'ABORTED', 'aborted by the caller'));
    const timer = setTimeout(() => finish(fail(hostUri, what, 'PROVIDER_TIMEOUT', `no complete answer in ${timeoutMs} ms`)), timeoutMs);
    const req = (target.protocol === 'https:' ? httpsRequest : httpRequest)(target, { agent, headers: { range: `bytes=${start}-${start + length - 1}` } }, (res) => {
      const status = res.statusCode ?? 0;
      if (status !== 206) {
        // An error answer: its { code, message } (small), or a BAD_RESPONSE.
        const parts: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size <= 64 << 10) parts.push(c);
        });
        res.on('end', () => finish(refusal(status, Buffer.concat(parts).toString('utf8'), hostUri, what)));
        res.on('error', (e) => finish(fail(hostUri, what, 'PROVIDER_UNREACHABLE', errorMessage(e), status, e)));
        return;
      }
      const range = /^bytes ([0-9]+)-([0-9]+)\/[0-9]+$/.exec(res.headers['content-range'] ?? '');
      if (!range || Number(range[1]) !== start || Number(range[2]) !== start + length - 1 || Number(res.headers['content-length'] ?? length) !== length) {
        finish(fail(hostUri, what, 'BAD_RESPONSE', `expected Content-Range bytes ${start}-${start + length - 1} and ${length} bytes, got ${res.headers['content-range'] ?? '(none)'}, ${res.headers['content-length'] ?? '?'} bytes`, status));
        return;
      }
      const out = opts.into && opts.into.length >= length ? opts.into.subarray(0, length) : Buffer.allocUnsafeSlow(length);
      let n = 0;
      res.on('data', (c: Buffer) => {
        if (n + c.length > length) return finish(fail(hostUri, what, 'BAD_RESPONSE', `the answer is longer than ${length} bytes`, status));
        out.set(c, n);
        n += c.length;
      });
      res.on('end', () => (n === length ? finish(undefined, out) : finish(fail(hostUri, what, 'BAD_RESPONSE', `the answer is ${n} bytes, not ${length}`, status))));
      res.on('error', (e) => finish(fail(hostUri, what, 'PROVIDER_UNREACHABLE', `the answer broke off after ${n} bytes: ${errorMessage(e)}`, status, e)));
    });
    req.on('error', (e) => finish(fail(hostUri, what, 'PROVIDER_UNREACHABLE', (e as { message?: string }).message ?? String(e), undefined, e)));
    if (opts.signal?.aborted) onAbort();
    else opts.signal?.addEventListener('abort', onAbort, { once: true });
    req.end();
  });
}

/** fetchRange over plain HTTP: the body read straight into the buffer (./rangeclient.ts). */
async function fetchRangePlain(target: URL, hostUri: string, what: string, start: number, length: number, timeoutMs: number, opts: FetchRangeOptions): Promise<Uint8Array> {
  if (opts.signal?.aborted) throw fail(hostUri, what, 'ABORTED', 'aborted by the caller');
  const out = opts.into && opts.into.length >= length ? opts.into : Buffer.allocUnsafeSlow(length);
  const host = target.hostname.replace(/^\[|\]$/g, '');
  const port = Number(target.port || 80);
  // getRange hands over its cancel function before it sends anything.
  let stop: ((o: RangeOutcome) => void) | undefined;
  let timedOut = false;
  let aborted = false;
  const timer = setTimeout(() => {
    timedOut = true;
    stop?.({ kind: 'unreachable', detail: 'timeout' });
  }, timeoutMs);
  const onAbort = (): void => {
    aborted = true;
    stop?.({ kind: 'unreachable', detail: 'aborted' });
  };
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  let o: RangeOutcome;
  try {
    o = await getRange(host, port, target.host, target.pathname + target.search, start, length, out, (fn) => (stop = fn));
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
  }
  if (o.kind === 'ok') return o.data;
  if (aborted) throw fail(hostUri, what, 'ABORTED', 'aborted by the caller');
  if (timedOut) throw fail(hostUri, what, 'PROVIDER_TIMEOUT', `no complete answer in ${timeoutMs} ms`);
  if (o.kind === 'refused') throw refusal(o.status, o.body, hostUri, what);
  if (o.kind === 'bad') throw fail(hostUri, what, 'BAD_RESPONSE', o.detail, o.status);
  throw fail(hostUri, what, 'PROVIDER_UNREACHABLE', o.detail, undefined, o.cause);
}

// ---------------------------------------------------------------------------------------------
// Leaves (retrieval checks)

export interface FetchLeafOptions {
  /** The chain the receipt is for (part of what the provider signs). */
  chainId: string;
  /** When given, the receipt must be signed by this account (bech32). */
  expectedProvider?: string;
  /** The leaf count the caller knows (shardBytes / LEAF_SIZE); the provider's claim must match. */
  leafCount?: number;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface FetchLeafReturnType {
  data: Bytes;
  proof: Bytes[];
  leafCount: number;
  /** The provider's retrieval receipt: over retrievalReceiptSignBytes(chainId, root, leaf, leafHash(data), nonce). */
  receipt: { pubKey: Bytes; signature: Bytes };
  /** The receipt signer's address (bech32). */
  provider: string;
}

/** Fetches leaf `leaf` of shard `root` for the checker's 32-byte nonce; verifies the leaf and the receipt. */
export async function fetchLeaf(hostUri: string, root: Bytes, leaf: number, nonce: Bytes, opts: FetchLeafOptions): Promise<FetchLeafReturnType> {
  const rootHex = toHex(root);
  const what = `fetching leaf ${leaf} of shard ${rootHex.slice(0, 16)}…`;
  if (nonce.length !== 32) throw fail(hostUri, what, 'INVALID_ARGUMENT', `the nonce is ${nonce.length} bytes, not 32`);
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const signal = opts.signal ? AbortSignal.any([opts.signal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs);
  const res = await request(hostUri, what, leafPath(rootHex, leaf, toHex(nonce)), { signal }, () => false);
  await throwIfError(res, hostUri, what);
  const j = await readJson<Partial<LeafJSON>>(res, 64 << 10, hostUri, what);
  let data: Bytes;
  try {
    data = fromBase64(typeof j.data === 'string' ? j.data : '');
  } catch (e) {
    throw fail(hostUri, what, 'BAD_RESPONSE', 'data is not base64', res.status, e);
  }
  if (!Array.isArray(j.proof) || typeof j.leafCount !== 'number' || !Number.isSafeInteger(j.leafCount) || typeof j.receipt !== 'object' || j.receipt === null) {
    throw fail(hostUri, what, 'BAD_RESPONSE', 'the answer lacks proof, leafCount or receipt');
  }
  const proof = j.proof.map((h, i) => hexField(h, 32, `proof[${i}]`, hostUri, what));
  const leafCount = j.leafCount;
  if (opts.leafCount !== undefined && leafCount !== opts.leafCount) throw fail(hostUri, what, 'BAD_RESPONSE', `the provider says the shard has ${leafCount} leaves, the caller ${opts.leafCount}`);
  if (!verifyLeaf(data, leaf, leafCount, proof, root)) throw fail(hostUri, what, 'BAD_RESPONSE', 'the leaf does not verify against the shard root');
  const pubKey = hexField(j.receipt.pubKey, 32, 'receipt.pubKey', hostUri, what);
  const signature = hexField(j.receipt.signature, 64, 'receipt.signature', hostUri, what);
  if (!verifySignature(pubKey, retrievalReceiptSignBytes(opts.chainId, root, leaf, leafHash(data), nonce), signature)) {
    throw fail(hostUri, what, 'BAD_RESPONSE', `the retrieval receipt's signature does not verify (chain ${opts.chainId})`);
  }
  const provider = encodeAddress(addressFromPublicKey(pubKey));
  if (opts.expectedProvider !== undefined && provider !== opts.expectedProvider) {
    throw fail(hostUri, what, 'BAD_RESPONSE', `the receipt is signed by ${provider}, not by ${opts.expectedProvider}`);
  }
  return { data, proof, leafCount, receipt: { pubKey, signature }, provider };
}

// ---------------------------------------------------------------------------------------------
// Status

export type StorageStatusReturnType = StorageStatusJSON;

/** The provider's capacity, bytes used and shard count. */
export async function storageStatus(hostUri: string, opts: { timeoutMs?: number } = {}): Promise<StorageStatusReturnType> {
  const what = 'reading the storage status';
  const res = await request(hostUri, what, STATUS_PATH, { signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000) }, () => false);
  await throwIfError(res, hostUri, what);
  const j = await readJson<Partial<StorageStatusJSON>>(res, 64 << 10, hostUri, what);
  const n = (v: unknown, f: string) => {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw fail(hostUri, what, 'BAD_RESPONSE', `${f} is not a non-negative integer`);
    return v;
  };
  return { capacityBytes: n(j.capacityBytes, 'capacityBytes'), usedBytes: n(j.usedBytes, 'usedBytes'), shards: n(j.shards, 'shards') };
}
