/**
 * ABCI socket server: CometBFT opens four connections (consensus, mempool, query, snapshot) to
 * `proxy_app`; each carries varint-framed protobuf Requests and expects the Responses strictly
 * in request order. Handlers may be async: a request's handler starts as soon as its frame
 * arrives (so CheckTx signature checks overlap), its response is written after every earlier
 * response on that connection.
 *
 * A handler that throws answers with a Response.exception, which makes CometBFT stop: that is
 * right for bugs and I/O failures (never for an invalid tx, which is a normal CheckTx answer).
 */
import { createServer, type Server, type Socket } from 'node:net';
import { Request, Response } from 'cosmjs-types/tendermint/abci/types';
import type { Logger } from '../../core/log.js';
import { CHECK_TX_OK, type AbciApp } from './abci-app.js';
import { FrameReader, encodeFrame } from './framing.js';

type Reply = Response | Promise<Response>;

// Most CheckTx answers are "accepted": encode that response once.
const CHECK_TX_OK_RESPONSE: Response = { checkTx: CHECK_TX_OK };
const CHECK_TX_OK_FRAME = encodeFrame(Response.encode(CHECK_TX_OK_RESPONSE).finish());

function dispatch(app: AbciApp, req: Request): Reply {
  if (req.echo) return { echo: { message: req.echo.message } };
  if (req.flush) return { flush: {} };
  if (req.info) return { info: app.info(req.info) };
  if (req.checkTx) return app.checkTx(req.checkTx).then((checkTx) => (checkTx === CHECK_TX_OK ? CHECK_TX_OK_RESPONSE : { checkTx }));
  if (req.query) return { query: app.query(req.query) };
  if (req.initChain) return app.initChain(req.initChain).then((initChain) => ({ initChain }));
  if (req.prepareProposal) return { prepareProposal: app.prepareProposal(req.prepareProposal) };
  if (req.processProposal) return { processProposal: app.processProposal(req.processProposal) };
  if (req.finalizeBlock) return app.finalizeBlock(req.finalizeBlock).then((finalizeBlock) => ({ finalizeBlock }));
  if (req.commit) return app.commit().then((commit) => ({ commit }));
  if (req.extendVote) return { extendVote: { voteExtension: new Uint8Array(0) } };
  if (req.verifyVoteExtension) return { verifyVoteExtension: { status: 1 /* ACCEPT */ } };
  if (req.listSnapshots) return { listSnapshots: { snapshots: [] } };
  if (req.offerSnapshot) return { offerSnapshot: { result: 4 /* REJECT */ } };
  if (req.loadSnapshotChunk) return { loadSnapshotChunk: { chunk: new Uint8Array(0) } };
  if (req.applySnapshotChunk) return { applySnapshotChunk: { result: 3 /* ABORT */, refetchChunks: [], rejectSenders: [] } };
  return { exception: { error: 'unknown ABCI request' } };
}

export class AbciServer {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  /** Requests served, by type (logged at shutdown). */
  private readonly counts = new Map<string, number>();

  constructor(
    private readonly app: AbciApp,
    private readonly log: Logger,
  ) {
    this.server = createServer((s) => this.serve(s));
  }

  /** Listens on host:port (port 0: any free port); resolves with the bound port. */
  listen(port: number, host = '127.0.0.1'): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        const a = this.server.address();
        resolve(typeof a === 'object' && a ? a.port : port);
      });
    });
  }

  private serve(socket: Socket): void {
    this.sockets.add(socket);
    socket.setNoDelay(true);
    const reader = new FrameReader();
    let tail: Promise<void> = Promise.resolve();
    // Responses ready in the same turn go out in one write (CometBFT pipelines CheckTx).
    let out: Buffer[] = [];
    const send = (frame: Buffer): void => {
      if (out.length === 0) {
        setImmediate(() => {
          const chunk = out.length === 1 ? (out[0] as Buffer) : Buffer.concat(out);
          out = [];
          if (!socket.destroyed) socket.write(chunk);
        });
      }
      out.push(frame);
    };
    socket.on('data', (chunk: Buffer) => {
      let frames: Buffer[];
      try {
        frames = reader.push(chunk);
      } catch (e) {
        this.log.error('bad ABCI frame; closing the connection', { error: (e as Error).message });
        socket.destroy();
        return;
      }
      for (const f of frames) {
        let reply: Promise<Response>;
        try {
          const req = Request.decode(f);
          const kind = Object.keys(req).find((k) => (req as Record<string, unknown>)[k] !== undefined) ?? 'unknown';
          this.counts.set(kind, (this.counts.get(kind) ?? 0) + 1);
          reply = Promise.resolve(dispatch(this.app, req));
        } catch (e) {
          reply = Promise.reject(e);
        }
        tail = tail.then(async () => {
          let res: Response;
          try {
            res = await reply;
          } catch (e) {
            this.log.error('ABCI handler failed; CometBFT will stop', { error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
            res = { exception: { error: e instanceof Error ? e.message : String(e) } };
          }
          send(res === CHECK_TX_OK_RESPONSE ? CHECK_TX_OK_FRAME : encodeFrame(Response.encode(res).finish()));
        });
      }
    });
    socket.on('error', (e) => this.log.debug('ABCI connection error', { error: e.message }));
    socket.on('close', () => this.sockets.delete(socket));
  }

  async close(): Promise<void> {
    this.log.info('ABCI requests served', Object.fromEntries(this.counts));
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
