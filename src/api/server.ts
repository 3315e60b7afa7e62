/**
 * The node's REST API (JSON) and WebSocket stream, on Fastify. Every route has a JSON schema:
 * requests are validated before any handler runs, and the same schemas produce the OpenAPI
 * document at /openapi.json.
 *
 * Errors are JSON `{ "error": { "code": "...", "message": "..." } }` with a 4xx status for
 * anything the caller can fix (400 bad request, 404 unknown, 413 too large, 415 wrong content
 * type, 422 tx rejected); 5xx only for faults of the node.
 */
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import websocket from '@fastify/websocket';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { fromBase64, fromHex, toBase64, toHex, type Bytes } from '../core/bytes.js';
import { ChainError, GroundworkError, InvalidInputError, allErrorKinds } from '../core/errors.js';
import { addressFromPublicKey, decodeAddress, encodeAddress } from '../core/keys.js';
import type { Logger } from '../core/log.js';
import { silentLogger } from '../core/log.js';
import { decode } from '../core/codec.js';
import { sha256 } from '../core/hash.js';
import { bankAccountKey } from '../chain/keys.js';
import { accountCodec } from '../chain/modules/bank/keeper.js';
import { getParams } from '../chain/module.js';
import { encodeProof } from '../state/proof.js';
import type { NodeBackend } from './backend.js';
import { blockJSON, eventsJSON, headerJSON, hexU, signedHeaderRaw, storedTxJSON } from './views.js';
import { attachWebSocket } from './ws.js';
import { registerRewardRoutes } from './rewards.js';
import { VERSION } from '../version.js';

export class ApiError extends GroundworkError {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    code: string,
    message: string,
  ) {
    super(code, message);
  }
}

export interface ApiServerOptions {
  logger?: Logger;
  /** Largest request body (a batch of txs), bytes. */
  bodyLimit?: number;
}

const ErrorBody = Type.Object({ error: Type.Object({ code: Type.String(), message: Type.String() }, { additionalProperties: true }) }, { $id: 'Error' });
const HexHash = Type.String({ pattern: '^[0-9a-fA-F]{64}$', description: 'a 32-byte hash as hex' });
const Height = Type.String({ pattern: '^(0|[1-9][0-9]{0,15})$', description: 'a block height' });
const SubmitResult = Type.Object({
  hash: Type.String({ description: 'tx hash (upper-case hex); empty when the bytes did not decode' }),
  code: Type.Integer({ description: '0 when accepted into the mempool' }),
  codespace: Type.String(),
  error: Type.String({ description: 'error kind, e.g. SEQUENCE_REUSED' }),
  log: Type.String({ description: 'what went wrong, for people' }),
});
const HeaderView = Type.Object({
  chainId: Type.String(),
  height: Type.String(),
  time: Type.String(),
  lastBlockHash: Type.String(),
  txsHash: Type.String(),
  resultsHash: Type.String(),
  appHash: Type.String(),
  validatorsHash: Type.String(),
  proposer: Type.String(),
  proposerPubKey: Type.String(),
});
const EventView = Type.Object({ type: Type.String(), attributes: Type.Record(Type.String(), Type.String()) });
const TxView = Type.Object({
  hash: Type.String(),
  height: Type.String(),
  index: Type.Integer(),
  code: Type.Integer(),
  codespace: Type.String(),
  error: Type.String(),
  log: Type.String(),
  events: Type.Array(EventView),
  tx: Type.Union([Type.Object({}, { additionalProperties: true }), Type.Null()]),
  raw: Type.String({ description: 'tx bytes, base64' }),
});
const ProofView = Type.Object(
  {
    height: Type.String(),
    key: Type.String({ description: 'state key, hex' }),
    value: Type.Union([Type.String({ description: 'value, hex' }), Type.Null()]),
    appHash: Type.String(),
    proof: Type.String({ description: 'Merkle proof (canonical encoding), base64' }),
    header: Type.String({ description: 'signed header of `height` (canonical encoding), base64; its appHash is the proof root' }),
  },
  { description: 'verify with checkProof(appHash, key, value, proof) and the header signature' },
);

function parseHeight(q: string | undefined, latest: number): number {
  if (q === undefined || q === 'latest') return latest;
  const h = Number(q);
  if (!Number.isSafeInteger(h) || h < 0) throw new ApiError(400, 'INVALID_HEIGHT', `height must be a non-negative integer or "latest", got "${q}"`);
  if (h > latest) throw new ApiError(404, 'HEIGHT_NOT_REACHED', `height ${h} is above the latest block ${latest}`);
  return h;
}

function parseHash(s: string, what = 'hash'): Bytes {
  const b = fromHex(s, what);
  if (b.length !== 32) throw new ApiError(400, 'INVALID_HASH', `${what} must be 32 bytes of hex`);
  return b;
}

/** Encodes txs as an application/octet-stream batch: repeated (u32 BE length, tx bytes). */
export function encodeTxBatch(txs: readonly Bytes[]): Buffer {
  const body = Buffer.allocUnsafe(txs.reduce((n, t) => n + 4 + t.length, 0));
  let o = 0;
  for (const t of txs) {
    body.writeUInt32BE(t.length, o);
    body.set(t, o + 4);
    o += 4 + t.length;
  }
  return body;
}

/** Splits an application/octet-stream batch: repeated (u32 BE length, tx bytes). */
export function splitTxBatch(body: Bytes): Bytes[] {
  const out: Bytes[] = [];
  let o = 0;
  while (o < body.length) {
    if (o + 4 > body.length) throw new ApiError(400, 'INVALID_BATCH', `truncated length prefix at byte ${o}`);
    const n = ((body[o] as number) * 0x1000000) + (((body[o + 1] as number) << 16) | ((body[o + 2] as number) << 8) | (body[o + 3] as number));
    o += 4;
    if (o + n > body.length) throw new ApiError(400, 'INVALID_BATCH', `tx at byte ${o} claims ${n} bytes, only ${body.length - o} left`);
    out.push(body.subarray(o, o + n));
    o += n;
  }
  return out;
}

export async function createApiServer(backend: NodeBackend, opts: ApiServerOptions = {}): Promise<FastifyInstance> {
  const log = opts.logger ?? silentLogger;
  // maxParamLength: a state key (up to 1024 bytes) in hex is a path parameter of /v1/state/:key.
  const app = Fastify({ bodyLimit: opts.bodyLimit ?? 32 << 20, logger: false, return503OnClosing: true, forceCloseConnections: true, routerOptions: { maxParamLength: 2 * 1024 + 2 } }).withTypeProvider<TypeBoxTypeProvider>();

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Groundwork node API',
        version: VERSION,
        description:
          'REST and WebSocket API of a Groundwork node. State queries return Merkle proofs against the app hash in a signed header; ' +
          'clients verify them instead of trusting the node. Errors are {"error":{"code","message"}}.',
      },
    },
  });
  await app.register(websocket, { options: { maxPayload: 64 << 10 } });

  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  app.addSchema(ErrorBody);

  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err instanceof ApiError) return reply.status(err.status).send({ error: { code: err.code, message: err.message } });
    if (err instanceof InvalidInputError) return reply.status(400).send({ error: { code: err.code, message: err.message } });
    if (err instanceof ChainError) {
      return reply.status(422).send({ error: { code: err.code, message: err.message, codespace: err.codespace, abciCode: err.abciCode } });
    }
    if (err.validation) {
      return reply.status(400).send({ error: { code: 'INVALID_REQUEST', message: `${err.validationContext ?? 'request'} ${err.message}` } });
    }
    switch (err.code) {
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
        return reply.status(400).send({ error: { code: 'INVALID_JSON', message: `request body is not valid JSON: ${err.message}` } });
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return reply.status(413).send({ error: { code: 'BODY_TOO_LARGE', message: err.message } });
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return reply.status(415).send({ error: { code: 'UNSUPPORTED_MEDIA_TYPE', message: `${err.message}; send application/json or application/octet-stream` } });
    }
    if (err instanceof SyntaxError || (err.statusCode && err.statusCode >= 400 && err.statusCode < 500)) {
      return reply.status(err.statusCode ?? 400).send({ error: { code: 'BAD_REQUEST', message: err.message } });
    }
    log.error('API handler failed', { method: req.method, url: req.url, error: err.stack ?? err.message });
    return reply.status(500).send({ error: { code: 'INTERNAL', message: 'internal error; see the node log' } });
  });
  app.setNotFoundHandler((req, reply) => {
    reply.status(404).send({ error: { code: 'NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0]}; see /openapi.json` } });
  });

  const err4xx = { 400: Type.Ref('Error'), 404: Type.Ref('Error') };

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  app.get('/health', { schema: { summary: 'Liveness', tags: ['node'], response: { 200: Type.Object({ ok: Type.Boolean() }) } } }, async () => ({ ok: true }));

  app.get(
    '/v1/status',
    {
      schema: {
        summary: 'Chain id, latest height and app hash, mempool size',
        tags: ['node'],
        response: {
          200: Type.Object({
            chainId: Type.String(),
            genesisHash: Type.String(),
            height: Type.String(),
            appHash: Type.String(),
            latestBlockHash: Type.String(),
            latestBlockTime: Type.Union([Type.String(), Type.Null()]),
            mempool: Type.Object({ txs: Type.Integer(), bytes: Type.Integer() }),
            version: Type.String(),
          }),
        },
      },
    },
    async () => {
      const h = backend.height;
      const sh = h > 0 ? backend.signedHeader(h) : undefined;
      const appHash = sh ? sh.header.appHash : (backend.proveState(new Uint8Array(0), 0)?.rootHash ?? new Uint8Array(32));
      return {
        chainId: backend.chainId,
        genesisHash: hexU(backend.genesisHash),
        height: String(h),
        appHash: hexU(appHash),
        latestBlockHash: hexU(backend.lastBlockHash),
        latestBlockTime: sh ? new Date(Number(sh.header.time)).toISOString() : null,
        mempool: { txs: backend.mempoolSize, bytes: backend.mempoolBytes },
        version: VERSION,
      };
    },
  );

  app.get('/v1/genesis', { schema: { summary: 'The genesis file, byte for byte (its SHA-256 is the genesis hash)', tags: ['node'] } }, async (_req, reply) =>
    reply.type('application/json').send(Buffer.from(backend.genesisBytes)),
  );

  app.get(
    '/v1/validators',
    {
      schema: {
        summary: 'The validator set',
        tags: ['node'],
        response: {
          200: Type.Array(Type.Object({ name: Type.String(), pubKey: Type.String(), address: Type.String(), power: Type.String(), rewardAddress: Type.String() })),
        },
      },
    },
    async () =>
      backend.app.validators().map((v) => ({
        name: v.name,
        pubKey: toHex(v.pubKey),
        address: encodeAddress(addressFromPublicKey(v.pubKey)),
        power: v.power.toString(),
        rewardAddress: encodeAddress(v.rewardAddress),
      })),
  );

  app.get('/v1/params', { schema: { summary: 'Parameters of every module', tags: ['node'] } }, async () => {
    const out: Record<string, unknown> = {};
    for (const m of backend.app.modules) if (m.params) out[m.name] = m.params.codec.toJSON(getParams(backend.app.state, m.name, m.params));
    return out;
  });

  app.get<{ Params: { module: string; query: string }; Querystring: Record<string, string> }>(
    '/v1/q/:module/:query',
    { schema: { summary: "A module's read-only query (unverified; see each module's queries)", tags: ['modules'], response: err4xx } },
    async (req) => {
      const m = backend.app.modules.find((x) => x.name === req.params.module);
      if (!m) throw new ApiError(404, 'NOT_FOUND', `no module "${req.params.module}" (modules: ${backend.app.modules.map((x) => x.name).join(', ')})`);
      const q = m.queries && Object.hasOwn(m.queries, req.params.query) ? m.queries[req.params.query] : undefined;
      if (!q) throw new ApiError(404, 'NOT_FOUND', `module ${m.name} has no query "${req.params.query}" (queries: ${Object.keys(m.queries ?? {}).join(', ') || 'none'})`);
      try {
        return q(backend.app.state, req.query);
      } catch (e) {
        if (e instanceof InvalidInputError && e.code === 'NOT_FOUND') throw new ApiError(404, 'NOT_FOUND', e.message);
        throw e;
      }
    },
  );

  app.get(
    '/v1/errors',
    {
      schema: {
        summary: 'Every chain error code',
        tags: ['node'],
        response: { 200: Type.Array(Type.Object({ codespace: Type.String(), code: Type.Integer(), kind: Type.String(), summary: Type.String() })) },
      },
    },
    async () => allErrorKinds().map((k) => ({ codespace: k.codespace, code: k.code, kind: k.kind, summary: k.summary })),
  );

  app.post(
    '/v1/txs',
    {
      schema: {
        summary: 'Submit signed txs',
        description:
          'JSON: {"tx": base64} for one tx (202 when accepted, 422 with the reason when not) or {"txs": [base64...]} for a batch ' +
          '(200 with one result per tx). application/octet-stream: a batch as repeated (u32 big-endian length, tx bytes), ' +
          'answered with {"accepted": n, "rejected": [{index, hash, code, codespace, error, log}]}. ' +
          'Acceptance means the tx entered the mempool; poll GET /v1/txs/{hash}?waitMs=... or subscribe on /v1/ws for inclusion.',
        tags: ['txs'],
        body: {
          content: {
            'application/json': {
              schema: Type.Union([
                Type.Object({ tx: Type.String({ maxLength: 8 << 20 }) }, { additionalProperties: false }),
                Type.Object({ txs: Type.Array(Type.String({ maxLength: 8 << 20 }), { maxItems: 100_000 }) }, { additionalProperties: false }),
              ]),
            },
            'application/octet-stream': { schema: Type.Unknown({ description: 'repeated (u32 big-endian length, tx bytes)' }) },
          },
        },
        response: {
          200: Type.Union([
            Type.Object({ results: Type.Array(SubmitResult) }, { description: 'JSON batch: one result per tx' }),
            Type.Object(
              { accepted: Type.Integer(), rejected: Type.Array(Type.Intersect([Type.Object({ index: Type.Integer() }), SubmitResult])) },
              { description: 'binary batch: the count accepted and each rejected tx with its index' },
            ),
          ]),
          202: SubmitResult,
          422: Type.Object({ error: Type.Object({ code: Type.String(), message: Type.String(), hash: Type.String(), codespace: Type.String(), abciCode: Type.Integer() }) }),
          ...err4xx,
        },
      },
    },
    async (req, reply) => {
      const body = req.body as { tx?: string; txs?: string[] } | Buffer;
      if (Buffer.isBuffer(body)) {
        // Binary batches are for high-volume clients: answer with the count and the failures
        // only (a client can hash its own txs), which keeps the response small.
        const results = await backend.submit(splitTxBatch(body));
        const rejected = [];
        for (let i = 0; i < results.length; i++) {
          const r = results[i] as (typeof results)[number];
          if (r.code !== 0) rejected.push({ index: i, ...r });
        }
        return reply.status(200).send({ accepted: results.length - rejected.length, rejected });
      }
      if (body.tx !== undefined) {
        const [r] = await backend.submit([fromBase64(body.tx, 'tx')]);
        if (!r) throw new ApiError(500, 'INTERNAL', 'no result');
        if (r.code === 0) return reply.status(202).send(r);
        return reply.status(422).send({ error: { code: `${r.codespace}.${r.error}`, message: r.log, hash: r.hash, codespace: r.codespace, abciCode: r.code } });
      }
      const txs = (body.txs ?? []).map((t, i) => fromBase64(t, `txs[${i}]`));
      return reply.status(200).send({ results: await backend.submit(txs) });
    },
  );

  app.get(
    '/v1/txs/:hash',
    {
      schema: {
        summary: 'A committed tx with its result',
        tags: ['txs'],
        params: Type.Object({ hash: HexHash }),
        querystring: Type.Object({ waitMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 60_000, description: 'wait up to this long for the tx to be committed' })) }),
        response: { 200: TxView, ...err4xx },
      },
    },
    async (req) => {
      const hash = parseHash(req.params.hash, 'tx hash');
      const t = await backend.waitForTx(hash, req.query.waitMs ?? 0);
      if (!t) {
        throw new ApiError(404, 'TX_NOT_FOUND', `tx ${req.params.hash.toUpperCase()} is not in any block${req.query.waitMs ? ` (waited ${req.query.waitMs} ms)` : ''}`);
      }
      return storedTxJSON(t, backend.app);
    },
  );

  app.get(
    '/v1/txs',
    {
      schema: {
        summary: 'Search committed txs by event attribute, newest first',
        tags: ['txs'],
        querystring: Type.Object({
          event: Type.String({ description: 'an indexed attribute as type.key=value, e.g. bank.transfer.recipient=gw1...', pattern: '^[^=]+\\.[^=]+=.+$' }),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
          before: Type.Optional(Type.String({ pattern: '^[0-9]+:[0-9]+$', description: 'cursor "height:index" from the previous page' })),
        }),
        response: { 200: Type.Object({ txs: Type.Array(TxView), next: Type.Union([Type.String(), Type.Null()]) }), ...err4xx },
      },
    },
    async (req) => {
      const limit = req.query.limit ?? 20;
      const before = req.query.before?.split(':').map(Number) as [number, number] | undefined;
      const refs = backend.searchTxs(req.query.event, limit, before ? { height: before[0], index: before[1] } : undefined);
      const txs = refs.map((r) => backend.tx(r.hash)).filter((t) => t !== undefined);
      const last = refs[refs.length - 1];
      return { txs: txs.map((t) => storedTxJSON(t, backend.app)), next: refs.length === limit && last ? `${last.height}:${last.index}` : null };
    },
  );

  const blockRoute = (height: number) => {
    const b = backend.block(height);
    if (!b) throw new ApiError(404, 'BLOCK_NOT_FOUND', height === 0 ? 'height 0 is the genesis state; blocks start at 1' : `no block at height ${height}`);
    const results = backend.blockResults(height);
    const hashes = b.txs.map((t) => sha256(t));
    return { ...blockJSON(b, hashes), results: results ? results.txResults.map((r) => ({ code: r.code, codespace: r.codespace, error: r.error })) : [] };
  };
  const BlockView = Type.Object({
    hash: Type.String(),
    header: HeaderView,
    signature: Type.String(),
    txCount: Type.Integer(),
    txs: Type.Array(Type.String()),
    results: Type.Array(Type.Object({ code: Type.Integer(), codespace: Type.String(), error: Type.String() })),
  });

  app.get('/v1/blocks/latest', { schema: { summary: 'The latest block', tags: ['blocks'], response: { 200: BlockView, ...err4xx } } }, async () => {
    if (backend.height < 1) throw new ApiError(404, 'BLOCK_NOT_FOUND', 'no block yet');
    return blockRoute(backend.height);
  });

  app.get(
    '/v1/blocks/:height',
    { schema: { summary: 'A block by height', tags: ['blocks'], params: Type.Object({ height: Height }), response: { 200: BlockView, ...err4xx } } },
    async (req) => blockRoute(parseHeight(req.params.height, backend.height)),
  );

  app.get(
    '/v1/blocks/:height/results',
    {
      schema: {
        summary: "A block's tx results and block events",
        tags: ['blocks'],
        params: Type.Object({ height: Height }),
        response: {
          200: Type.Object({
            height: Type.String(),
            txResults: Type.Array(Type.Object({ code: Type.Integer(), codespace: Type.String(), error: Type.String(), log: Type.String(), events: Type.Array(EventView) })),
            beginEvents: Type.Array(EventView),
            endEvents: Type.Array(EventView),
          }),
          ...err4xx,
        },
      },
    },
    async (req) => {
      const h = parseHeight(req.params.height, backend.height);
      const r = backend.blockResults(h);
      if (!r) throw new ApiError(404, 'BLOCK_NOT_FOUND', `no block at height ${h}`);
      return {
        height: String(h),
        txResults: r.txResults.map((x) => ({ code: x.code, codespace: x.codespace, error: x.error, log: x.log, events: eventsJSON(x.events) })),
        beginEvents: eventsJSON(r.beginEvents),
        endEvents: eventsJSON(r.endEvents),
      };
    },
  );

  app.get(
    '/v1/headers/:height',
    {
      schema: {
        summary: 'A signed header (for light-client verification)',
        tags: ['blocks'],
        params: Type.Object({ height: Height }),
        response: { 200: Type.Object({ header: HeaderView, signature: Type.String(), raw: Type.String() }), ...err4xx },
      },
    },
    async (req) => {
      const h = parseHeight(req.params.height, backend.height);
      const sh = backend.signedHeader(h);
      if (!sh) throw new ApiError(404, 'BLOCK_NOT_FOUND', `no block at height ${h}`);
      return { header: headerJSON(sh.header), signature: toHex(sh.signature), raw: signedHeaderRaw(sh) };
    },
  );

  const prove = (key: Bytes, heightQ: string | undefined) => {
    const height = parseHeight(heightQ, backend.height);
    if (height < 1) {
      if (heightQ === undefined || heightQ === 'latest') throw new ApiError(404, 'NO_BLOCK_YET', 'the chain has no block yet (proofs need a signed header); retry in a moment');
      throw new ApiError(400, 'INVALID_HEIGHT', 'proofs are against signed block headers: height must be at least 1');
    }
    const p = backend.proveState(key, height);
    const sh = backend.signedHeader(height);
    if (!p || !sh) throw new ApiError(404, 'HEIGHT_PRUNED', `state at height ${height} is no longer retained by this node (pruned)`);
    return {
      value: p.value,
      view: {
        height: String(height),
        key: toHex(key),
        value: p.value ? toHex(p.value) : null,
        appHash: hexU(p.rootHash),
        proof: toBase64(encodeProof(p.proof)),
        header: signedHeaderRaw(sh),
      },
    };
  };

  app.get(
    '/v1/state/:key',
    {
      schema: {
        summary: 'Any state key with a Merkle proof',
        tags: ['state'],
        params: Type.Object({ key: Type.String({ pattern: '^([0-9a-fA-F]{2}){1,512}$', description: 'state key, hex' }) }),
        querystring: Type.Object({ height: Type.Optional(Type.String({ pattern: '^(latest|[0-9]+)$' })) }),
        response: { 200: ProofView, ...err4xx },
      },
    },
    async (req) => prove(fromHex(req.params.key), req.query.height).view,
  );

  app.get(
    '/v1/accounts/:address',
    {
      schema: {
        summary: 'An account (sequence and balance) with a Merkle proof',
        tags: ['state'],
        params: Type.Object({ address: Type.String({ maxLength: 128 }) }),
        querystring: Type.Object({ height: Type.Optional(Type.String({ pattern: '^(latest|[0-9]+)$' })) }),
        response: {
          200: Type.Object({
            address: Type.String(),
            sequence: Type.String(),
            balance: Type.String({ description: 'ugw' }),
            exists: Type.Boolean(),
            proof: ProofView,
          }),
          ...err4xx,
        },
      },
    },
    async (req) => {
      const addr = decodeAddress(req.params.address);
      const { value, view } = prove(bankAccountKey(addr), req.query.height);
      const acct = value ? decode(accountCodec, value) : { sequence: 0n, balance: 0n };
      return { address: encodeAddress(addr), sequence: acct.sequence.toString(), balance: acct.balance.toString(), exists: value !== null, proof: view };
    },
  );

  registerRewardRoutes(app, backend);
  attachWebSocket(app, backend, log);
  return app;
}
