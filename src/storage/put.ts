/**
 * Storing a file on the network (`groundwork store put`): the customer's whole flow, from a path
 * on disk to a deal on chain.
 *
 *   1. A storage order for k + m leases of the layout's shard size (market/create-order), funded
 *      with `deposit` (default: every lease at the max price for the whole duration).
 *   2. While the providers bid, pass 1 reads the file once (streamed: a file larger than memory
 *      works) and computes the manifest — layout, shard roots, SHA-256 — under a fresh file key;
 *      nothing is uploaded yet (an upload authorization names the shard's root).
 *   3. Waits for the bid window to close and the market to match it. Fewer leases than shards is
 *      a failure: the order is closed (its escrow comes back) and the error says what to change.
 *   4. Shard j goes to the j-th lease in lease-id order (a choice both ends can recompute).
 *   5. Pass 2 re-encodes the file under the same key without hashing (storage/encode
 *      writeShards) and streams each shard's pieces straight into that lease's upload, all
 *      shards at once. Each shard has a one-piece hand-off (ShardBody): the encoder waits until
 *      the upload took the previous piece, so a slow provider slows reading instead of filling
 *      memory (about depth × (k + m) pieces in flight whatever the file's size).
 *      A provider whose upload fails (refused, unreachable, a bad acknowledgment) does not stop
 *      the others: its lease is closed and the shard goes to the order's best lost bid (the
 *      losing bids stay on the order; market/accept-bid takes one for an active order short of
 *      its leases), then only the replaced shards are encoded and sent again (up to 3 rounds).
 *   6. Every acknowledgment is verified (signed over lease, root and size by the lease's
 *      provider), then storage/create-deal records the roots and acks on chain.
 *
 * Any failure after the order exists closes it (escrow refunded) unless the deal was made; the
 * error says whether that worked. The manifest — it holds the file key — is returned for the
 * caller to keep (the CLI writes `<home>/store/<order>.json`, mode 0600).
 */
import { constants, createReadStream } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { formatAmount } from '../core/amount.js';
import { fromHex } from '../core/bytes.js';
import { errorMessage, GroundworkError, InvalidInputError } from '../core/errors.js';
import { encodeAddress, type Signer } from '../core/keys.js';
import type { Client } from '../client/client.js';
import { acceptBid } from '../client/actions/acceptBid.js';
import { closeLease } from '../client/actions/closeLease.js';
import { closeOrder } from '../client/actions/closeOrder.js';
import { createDeal } from '../client/actions/createDeal.js';
import { createOrder } from '../client/actions/createOrder.js';
import { getAccount } from '../client/actions/getAccount.js';
import { getBids } from '../client/actions/getBids.js';
import { getCredits } from '../client/actions/getCredits.js';
import { getDeal } from '../client/actions/getDeal.js';
import { getOrder } from '../client/actions/getOrder.js';
import { getParams } from '../client/actions/getParams.js';
import { getProvider } from '../client/actions/getProvider.js';
import { getStatus } from '../client/actions/getStatus.js';
import type { Denom } from '../chain/modules/market/types.js';
import type { MarketBid, MarketLease } from '../client/marketViews.js';
import { encodeFile, writeShards, type ShardSink } from './encode.js';
import { OrderFlowError } from './errors.js';
import { ProviderHttpError, uploadShard, type UploadShardReturnType } from './http.js';
import { DEFAULT_DATA_SHARDS, DEFAULT_PARITY_SHARDS, fileLayout, type Manifest } from './layout.js';

// ---------------------------------------------------------------------------------------------
// Errors

/**
 * What can go wrong storing a file, besides bad input (InvalidInputError: FILE_NOT_FOUND,
 * NOT_A_FILE, FILE_UNREADABLE, INVALID_ERASURE_CODE...) and the SDK's own errors:
 *   NO_BIDS            the bid window closed without an eligible bid (the chain refunded the escrow)
 *   NOT_ENOUGH_LEASES  fewer leases than shards were matched
 *   MATCH_TIMEOUT      the order was not matched in time, or the chain stopped making blocks
 *   PROVIDER_UNKNOWN   a lease's provider has no registration (so no host to upload to)
 *   FILE_CHANGED       the file changed between the two passes
 *   UPLOAD_FAILED      a shard's upload failed and no other bid could take it (the provider's code is in the message and cause)
 *   DEAL_FAILED        storage/create-deal failed
 * `order` is the order made, if any; `orderClosed` whether it was closed again (escrow back).
 */
export type PutErrorCode = 'NO_BIDS' | 'NOT_ENOUGH_LEASES' | 'MATCH_TIMEOUT' | 'PROVIDER_UNKNOWN' | 'FILE_CHANGED' | 'UPLOAD_FAILED' | 'DEAL_FAILED';

export class PutError extends OrderFlowError<PutErrorCode> {
  override name = 'PutError';
}

export type PutFileErrorType = PutError | InvalidInputError | ProviderHttpError | GroundworkError;

// ---------------------------------------------------------------------------------------------
// Parameters

export interface PutProgress {
  /** 'hash': pass 1 (reading and hashing); 'upload': pass 2 (bytes handed to the connections). */
  phase: 'hash' | 'upload';
  /** Plaintext bytes for 'hash'; shard bytes sent, all shards together, for 'upload'. */
  done: number;
  total: number;
}

/** A lease the file went to: shard `shard` is on it (a repaired shard's new lease too; its root is unchanged). */
export interface PutLease {
  shard: number;
  lease: bigint;
  provider: string;
  hostUri: string;
  /** Per block, in ugw. */
  price: bigint;
  /** The shard's root (hex). */
  root: string;
}

/** What happens, in order, for a caller to report (the CLI prints these on stderr). */
export type PutStatus =
  | { type: 'hashed'; manifest: Manifest }
  | { type: 'order-created'; order: bigint; bidWindowEnd: bigint; deposit: bigint; hash: string; height: bigint; fee: bigint }
  | { type: 'bidding'; order: bigint; height: bigint; bidWindowEnd: bigint; bids: number }
  | { type: 'matched'; order: bigint; leases: PutLease[] }
  | { type: 'shard-uploaded'; shard: number; lease: bigint; provider: string }
  /** The upload to `from` failed (`reason`): its lease was closed and the shard goes to `to`, a lost bid taken instead. */
  | { type: 'shard-replaced'; shard: number; from: PutLease; to: PutLease; reason: string }
  | { type: 'deal-created'; order: bigint; hash: string; height: bigint; reserve: bigint }
  | { type: 'order-closed'; order: bigint; refunded: bigint };

/** Waiting, timeouts and reporting of the flows that buy an order and upload shards (put, repair). */
export interface OrderFlowOptions<Progress, Status> {
  /** Give up when the order is not matched this long after it was created (default 10 min). */
  matchTimeoutMs?: number;
  /** Give up when the chain's height does not move for this long while waiting (default 60 s). */
  stallTimeoutMs?: number;
  /** How often the order is polled while waiting (default: put 500 ms, repair 250 ms). */
  pollMs?: number;
  /** An upload is aborted when nothing moves for this long (default 120 s). */
  uploadIdleTimeoutMs?: number;
  /** How long each tx may take to be committed (default 60 s). */
  txTimeoutMs?: number;
  onProgress?: (p: Progress) => void;
  onStatus?: (s: Status) => void;
  signal?: AbortSignal;
}

export interface PutFileOptions extends OrderFlowOptions<PutProgress, PutStatus> {
  /** Data shards (default 4, at most 24). */
  k?: number;
  /** Parity shards (default 2, at most 6): the file survives this many providers lost. */
  m?: number;
  /** How long each lease runs, blocks. */
  durationBlocks: bigint;
  /** Highest price per block per lease, in `denom`. */
  maxPrice: bigint;
  /** What the leases are paid in (default ugw): tokens, or Data Credits (burned as the providers' storage work once their proofs verify). */
  denom?: Denom;
  /** Blocks the order takes bids (default 10). */
  bidWindowBlocks?: bigint;
  /** Escrow funded now, in `denom` (default: maxPrice × (k + m) × durationBlocks). */
  deposit?: bigint;
  /** Recorded in the manifest (default: the file's base name). */
  name?: string;
}

export interface PutFileReturnType {
  /** The order, which is also the deal's id. */
  order: bigint;
  /** Keep it: it holds the file key and the roots (the CLI saves it as <home>/store/<order>.json). */
  manifest: Manifest;
  /** One per shard, in shard order. */
  leases: PutLease[];
  /** The escrow funded, ugw. */
  deposit: bigint;
  deal: { hash: string; height: bigint; fee: bigint; reserve: bigint };
}

const DEFAULT_BID_WINDOW = 10n;

/** An amount in its denomination, for messages. */
const priceText = (v: bigint, denom: Denom = 'ugw'): string => (denom === 'dc' ? `${v} DC` : formatAmount(v));

// ---------------------------------------------------------------------------------------------
// The file

interface FileInfo {
  size: number;
  mtimeMs: number;
}

/** Checks `path` is a readable regular file (InvalidInputError FILE_NOT_FOUND / NOT_A_FILE / FILE_UNREADABLE). */
export async function statInput(path: string): Promise<FileInfo> {
  let st;
  try {
    st = await stat(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new InvalidInputError('FILE_NOT_FOUND', `${path} does not exist`, { cause: e });
    throw new InvalidInputError('FILE_UNREADABLE', `cannot read ${path}: ${errorMessage(e)}`, { cause: e });
  }
  if (!st.isFile()) throw new InvalidInputError('NOT_A_FILE', `${path} is not a regular file${st.isDirectory() ? ' (a directory: store an archive of it, e.g. tar czf dir.tgz dir)' : ''}`);
  try {
    await access(path, constants.R_OK);
  } catch (e) {
    throw new InvalidInputError('FILE_UNREADABLE', `cannot read ${path}: permission denied`, { cause: e });
  }
  return { size: st.size, mtimeMs: st.mtimeMs };
}

/** The file's bytes as a stream; a read error becomes FILE_UNREADABLE. */
async function* readFileChunks(path: string): AsyncIterable<Uint8Array> {
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) yield chunk as Buffer;
  } catch (e) {
    throw new InvalidInputError('FILE_UNREADABLE', `reading ${path} failed: ${errorMessage(e)}`, { cause: e });
  }
}

// ---------------------------------------------------------------------------------------------
// One shard's upload body: a one-piece hand-off between the encoder and the connection

/** The error a shard body fails with when its upload stopped reading (a secondary error). */
class BodyStopped extends GroundworkError {
  override name = 'BodyStopped';
  constructor(shard: number) {
    super('UPLOAD_STOPPED', `the upload of shard ${shard} stopped`);
  }
}

/**
 * An async iterable of one shard's pieces, without copying them: write() resolves once the
 * upload is done with the piece — when it asks for the next one, or stops — since uploadShard
 * asks for the next chunk only after the operating system took the previous one; the encoder
 * then reuses the piece's memory. At most one piece waits here and one is being sent, so the
 * encoder runs at the pace of the slowest upload. fail() ends both sides with an error.
 */
class ShardBody implements AsyncIterable<Uint8Array> {
  private pending: Handoff | undefined;
  /** The piece the upload is sending. */
  private lent: Handoff | undefined;
  private reader: { resolve: (r: IteratorResult<Uint8Array>) => void; reject: (e: unknown) => void } | undefined;
  private ended = false;
  private dropped = false;
  private error: unknown;

  constructor(private readonly shard: number) {}

  write(piece: Uint8Array): Promise<void> {
    if (this.error !== undefined) return Promise.reject(this.error);
    if (this.dropped) return Promise.resolve();
    return new Promise<void>((taken, refused) => {
      const h = { bytes: piece, taken, refused };
      if (this.reader) {
        const r = this.reader;
        this.reader = undefined;
        this.lent = h;
        r.resolve({ value: piece, done: false });
      } else this.pending = h;
    });
  }

  end(): void {
    this.ended = true;
    if (this.reader && !this.pending) {
      const r = this.reader;
      this.reader = undefined;
      r.resolve({ value: undefined, done: true });
    }
  }

  /** The upload is done with the piece it was sending. */
  private giveBack(): void {
    this.lent?.taken();
    this.lent = undefined;
  }

  /** Its upload stopped: the encoder's pieces for this shard go nowhere from now on (the others go on). */
  drop(): void {
    this.dropped = true;
    this.giveBack();
    this.pending?.taken();
    this.pending = undefined;
  }

  fail(e: unknown): void {
    if (this.error !== undefined) return;
    this.error = e;
    this.lent?.refused(e);
    this.lent = undefined;
    this.pending?.refused(e);
    this.pending = undefined;
    this.reader?.reject(e);
    this.reader = undefined;
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return {
      next: () => {
        this.giveBack();
        if (this.pending) {
          const p = this.pending;
          this.pending = undefined;
          this.lent = p;
          return Promise.resolve({ value: p.bytes, done: false });
        }
        if (this.error !== undefined) return Promise.reject(this.error);
        if (this.ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise<IteratorResult<Uint8Array>>((resolve, reject) => {
          this.reader = { resolve, reject };
        });
      },
      return: () => {
        // The upload stopped reading (done, or refused early): a waiting write must not hang,
        // and the other shards go on (the upload's own result says whether this one failed).
        this.giveBack();
        if (!this.ended || this.pending) this.drop();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}

interface Handoff {
  bytes: Uint8Array;
  taken: () => void;
  refused: (e: unknown) => void;
}

// ---------------------------------------------------------------------------------------------
// Steps

/** Waits `ms`; rejects with the signal's reason if it aborts first. */
export const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/**
 * The deadline and stall checks while waiting for order `order` to be matched (put and repair):
 * call the result with each height seen; it throws `fail(message)` once the chain has not moved
 * for `stallTimeoutMs`, or the order is not matched `matchTimeoutMs` after this call.
 */
export function matchDeadline(order: bigint, bidWindowEnd: bigint, opts: { matchTimeoutMs?: number; stallTimeoutMs?: number }, fail: (message: string) => Error): (height: bigint) => void {
  const started = Date.now();
  const matchTimeoutMs = opts.matchTimeoutMs ?? 600_000;
  const stallTimeoutMs = opts.stallTimeoutMs ?? 60_000;
  let lastHeight = -1n;
  let lastMove = Date.now();
  return (height) => {
    if (height !== lastHeight) {
      lastHeight = height;
      lastMove = Date.now();
    } else if (Date.now() - lastMove > stallTimeoutMs) {
      throw fail(`the chain has been at height ${height} for ${Math.round(stallTimeoutMs / 1000)} s while order ${order} waits for the end of its bid window (block ${bidWindowEnd}): is the node producing blocks?`);
    }
    if (Date.now() - started > matchTimeoutMs) {
      throw fail(`order ${order} was not matched within ${Math.round(matchTimeoutMs / 1000)} s (chain at height ${height}, bid window ends at ${bidWindowEnd})`);
    }
  };
}

/** Polls the order until the market has matched it (or closed it), with a deadline and a stall check. */
async function waitForMatch(client: Client, order: bigint, bidWindowEnd: bigint, opts: PutFileOptions, signal?: AbortSignal): Promise<NonNullable<Awaited<ReturnType<typeof getOrder>>>> {
  const check = matchDeadline(order, bidWindowEnd, opts, (message) => new PutError('MATCH_TIMEOUT', message, { order }));
  for (;;) {
    const r = await getOrder(client, { id: order });
    if (!r) throw new PutError('MATCH_TIMEOUT', `order ${order} disappeared from the node at ${client.url}`, { order });
    if (r.order.status !== 'open') return r;
    const height = BigInt((await getStatus(client)).height);
    opts.onStatus?.({ type: 'bidding', order, height, bidWindowEnd, bids: r.bids.length });
    check(height);
    await sleep(opts.pollMs ?? 500, signal);
  }
}

/**
 * Closes an order that will not be used, so its escrow comes back (put and repair on failure);
 * a sentence for the error either way. `what` names it ("order", "repair order").
 */
export async function abandonOrder(
  client: Client,
  signer: Signer,
  order: bigint,
  o: { txTimeoutMs?: number; what?: string; onClosed?: (refunded: bigint) => void } = {},
): Promise<{ closed: boolean; text: string }> {
  const what = o.what ?? 'order';
  try {
    const r = await getOrder(client, { id: order });
    if (r?.order.status === 'closed') return { closed: true, text: `${what} ${order} is closed (${r.order.closeReason ?? 'closed'}) and its escrow was refunded` };
    const c = await closeOrder(client, { signer, order, timeoutMs: o.txTimeoutMs ?? 60_000 });
    o.onClosed?.(c.refunded);
    return { closed: true, text: `${what} ${order} was closed and ${priceText(c.refunded, r?.order.denom)} refunded` };
  } catch (e) {
    return { closed: false, text: `closing ${what} ${order} failed (${errorMessage(e)}): close it with "groundwork market order close <key> ${order}" to get its escrow back` };
  }
}

/** Is `e` only a consequence of another failure (our own abort, a body stopped because its upload ended)? */
function secondary(e: unknown): boolean {
  return e instanceof BodyStopped || (e instanceof ProviderHttpError && e.code === 'ABORTED');
}

/** One shard's upload: the provider's verified acknowledgment, or why it failed. */
type UploadOutcome = { ok: true; ack: UploadShardReturnType } | { ok: false; error: unknown };

/**
 * Pass 2 for `targets` (one lease per shard; all shards, or the ones being placed again):
 * re-encodes the file and streams each target's shard into its lease's upload, all at once; the
 * pieces of other shards go nowhere. A failed upload does not stop the others (its pieces go
 * nowhere from then on). Resolves with each target's outcome, by shard; throws only when the
 * file cannot be read or the caller aborts (every upload is then aborted).
 */
async function uploadShards(path: string, manifest: Manifest, targets: readonly PutLease[], signer: Signer, chainId: string, opts: PutFileOptions): Promise<Map<number, UploadOutcome>> {
  const ctl = new AbortController();
  const onAbort = () => ctl.abort(opts.signal?.reason);
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const bodies = new Map(targets.map((l) => [l.shard, new ShardBody(l.shard)]));
  const sent = new Map<number, number>();
  const total = manifest.shardBytes * targets.length;
  const outcomes = new Map<number, UploadOutcome>();
  let failed = 0;
  const uploads = targets.map(async (l) => {
    const body = bodies.get(l.shard) as ShardBody;
    try {
      const ack = await uploadShard(l.hostUri, {
        lease: l.lease,
        root: fromHex(l.root, `shard ${l.shard} root`),
        bytes: manifest.shardBytes,
        pieceSize: manifest.pieceSize,
        key: signer,
        chainId,
        body,
        expectedProvider: l.provider,
        idleTimeoutMs: opts.uploadIdleTimeoutMs ?? 120_000,
        signal: ctl.signal,
        onProgress: (bytes) => {
          sent.set(l.shard, bytes);
          let done = 0;
          for (const v of sent.values()) done += v;
          opts.onProgress?.({ phase: 'upload', done, total });
        },
      });
      outcomes.set(l.shard, { ok: true, ack });
      opts.onStatus?.({ type: 'shard-uploaded', shard: l.shard, lease: l.lease, provider: l.provider });
    } catch (e) {
      outcomes.set(l.shard, { ok: false, error: e });
      body.drop();
      // Nobody left to send to: stop reading the file.
      if (++failed === targets.length) ctl.abort(new BodyStopped(l.shard));
    }
  });
  const sink: ShardSink = { write: (j, piece) => bodies.get(j)?.write(piece) ?? Promise.resolve() };
  let readError: unknown;
  const writing = writeShards(readFileChunks(path), manifest, sink, { signal: ctl.signal }).then(
    () => {
      for (const b of bodies.values()) b.end();
    },
    (e: unknown) => {
      if (failed === targets.length) return; // stopped because every upload failed
      readError = e;
      for (const b of bodies.values()) b.fail(e);
      ctl.abort(e);
    },
  );
  await Promise.all([writing, ...uploads]);
  opts.signal?.removeEventListener('abort', onAbort);
  if (opts.signal?.aborted) throw opts.signal.reason;
  if (readError !== undefined) throw readError;
  return outcomes;
}

/** UPLOAD_FAILED for shard `l.shard`, with why. */
function uploadFailed(l: PutLease, error: unknown, more = ''): PutError {
  return new PutError('UPLOAD_FAILED', `uploading shard ${l.shard} to ${l.provider} (lease ${l.lease}) failed: ${errorMessage(error)}${more}`, { cause: error });
}

/**
 * The bids an order can still take, best first: none from `exclude` (providers that hold or held
 * one of its leases); providers in `last` after all others; then cheapest, earliest, lowest
 * address. Put uses it to replace a provider whose upload failed, repair to choose new holders.
 */
export function rankBids(bids: readonly MarketBid[], exclude: ReadonlySet<string>, last: ReadonlySet<string> = new Set()): MarketBid[] {
  return bids
    .filter((b) => !exclude.has(b.provider))
    .sort((a, b) => {
      const la = last.has(a.provider);
      const lb = last.has(b.provider);
      if (la !== lb) return la ? 1 : -1;
      if (a.price !== b.price) return a.price < b.price ? -1 : 1;
      if (a.height !== b.height) return a.height < b.height ? -1 : 1;
      return a.provider < b.provider ? -1 : a.provider > b.provider ? 1 : 0;
    });
}

/**
 * A shard whose upload failed moves to the order's best lost bid: its lease is closed (the
 * order is then short of a lease) and the bid accepted, which starts a lease on the new
 * provider. Resolves with the new lease, or undefined when no bid is left to take.
 */
async function replaceLease(client: Client, signer: Signer, order: bigint, failed: PutLease, tried: Set<string>, opts: PutFileOptions): Promise<PutLease | undefined> {
  const timeoutMs = opts.txTimeoutMs ?? 60_000;
  await closeLease(client, { signer, lease: failed.lease, timeoutMs });
  const { bids } = await getBids(client, { order });
  for (const b of rankBids(bids, tried)) {
    tried.add(b.provider);
    let lease: bigint;
    try {
      lease = (await acceptBid(client, { signer, order, provider: b.provider, timeoutMs })).leaseId;
    } catch (e) {
      // Taken back by its provider, or no longer eligible: the next one.
      if (e instanceof GroundworkError && /BID_NOT_FOUND|INELIGIBLE/.test(e.code)) continue;
      throw e;
    }
    const rec = await getProvider(client, { address: b.provider });
    if (!rec) continue;
    return { shard: failed.shard, lease, provider: b.provider, hostUri: rec.hostUri, price: b.price, root: failed.root };
  }
  return undefined;
}

/** Rounds of replacements before a put gives up on a shard (each takes another bid). */
const MAX_REPLACEMENT_ROUNDS = 3;

/**
 * Uploads every shard (pass 2); a shard whose provider refuses or fails is placed again on the
 * order's best lost bid (replaceLease) and uploaded again, up to MAX_REPLACEMENT_ROUNDS, while
 * at least one upload succeeded (closing every lease would close the order). `leases` is
 * updated in place. Resolves with the acks by shard; UPLOAD_FAILED when a shard found no home.
 */
async function uploadWithReplacements(
  client: Client,
  signer: Signer,
  order: bigint,
  path: string,
  info: FileInfo,
  manifest: Manifest,
  leases: PutLease[],
  chainId: string,
  opts: PutFileOptions,
): Promise<Map<number, UploadShardReturnType>> {
  const acks = new Map<number, UploadShardReturnType>();
  const tried = new Set(leases.map((l) => l.provider));
  let targets: PutLease[] = leases;
  for (let round = 0; ; round++) {
    const outcomes = await uploadShards(path, manifest, targets, signer, chainId, opts);
    const failed: Array<{ lease: PutLease; error: unknown }> = [];
    for (const l of targets) {
      const o = outcomes.get(l.shard) as UploadOutcome;
      if (o.ok) acks.set(l.shard, o.ack);
      else failed.push({ lease: l, error: o.error });
    }
    if (failed.length === 0) return acks;
    const first = failed.find((f) => !secondary(f.error)) ?? (failed[0] as (typeof failed)[number]);
    if (acks.size === 0) throw uploadFailed(first.lease, first.error);
    if (round === MAX_REPLACEMENT_ROUNDS) throw uploadFailed(first.lease, first.error, ` (${round} replacements tried)`);
    targets = [];
    for (const f of failed) {
      opts.signal?.throwIfAborted();
      const next = await replaceLease(client, signer, order, f.lease, tried, opts);
      if (!next) throw uploadFailed(f.lease, f.error, '; no other bid on the order was left to take its place');
      opts.onStatus?.({ type: 'shard-replaced', shard: f.lease.shard, from: f.lease, to: next, reason: errorMessage(f.error) });
      leases[f.lease.shard] = next;
      targets.push(next);
    }
    const now = await statInput(path);
    if (now.size !== info.size || now.mtimeMs !== info.mtimeMs) {
      throw new PutError('FILE_CHANGED', `${path} changed while it was being stored (${info.size} → ${now.size} bytes); store it again once nothing writes to it`, { order });
    }
  }
}

// ---------------------------------------------------------------------------------------------
// putFile

/**
 * Stores the file at `path`: order, match, upload, deal (see the file comment). `signer` pays
 * and owns the deal. Resolves once the deal is on chain.
 */
export async function putFile(client: Client, signer: Signer, path: string, opts: PutFileOptions): Promise<PutFileReturnType> {
  const k = opts.k ?? DEFAULT_DATA_SHARDS;
  const m = opts.m ?? DEFAULT_PARITY_SHARDS;
  const info = await statInput(path);
  // Checks k and m (and the size) before anything is read.
  const layout = fileLayout(info.size, k, m);
  const n = layout.n;
  if (opts.durationBlocks < 1n) throw new InvalidInputError('INVALID_ARGUMENT', 'durationBlocks must be at least 1');
  if (opts.maxPrice < 1n) throw new InvalidInputError('INVALID_PRICE', 'maxPrice must be greater than zero');
  const deposit = opts.deposit ?? opts.maxPrice * BigInt(n) * opts.durationBlocks;
  const txTimeoutMs = opts.txTimeoutMs ?? 60_000;
  const chainId = (await client.trust()).genesis.chainId;
  // Before the file is read (minutes, for a big one): the node answers and the account can pay
  // the escrow and the deal's repair reserve.
  const customer = encodeAddress(signer.address);
  const denom = opts.denom ?? 'ugw';
  const [account, params, credits] = await Promise.all([
    getAccount(client, { address: customer }),
    getParams(client),
    denom === 'dc' ? getCredits(client, { address: customer }) : undefined,
  ]);
  const repairFee = BigInt(String((params.storage as { repairFee?: unknown } | undefined)?.repairFee ?? '0'));
  const reserve = repairFee * BigInt(m);
  const needed = (denom === 'ugw' ? deposit : 0n) + reserve;
  if (account.balance < needed) {
    throw new InvalidInputError(
      'INSUFFICIENT_FUNDS',
      `${customer} holds ${formatAmount(account.balance)} but storing this file needs ${formatAmount(needed)} plus fees (${denom === 'ugw' ? `escrow ${formatAmount(deposit)}` : 'the escrow is in DC'}${m > 0 ? ` + repair reserve ${formatAmount(repairFee)} × ${m}` : ''}): fund it, or lower the max price, duration or deposit`,
    );
  }
  if (credits && credits.credits < deposit) {
    throw new InvalidInputError(
      'INSUFFICIENT_CREDITS',
      `${customer} holds ${credits.credits} DC but the escrow needs ${deposit} DC: buy more (groundwork credits mint), or lower the max price, duration or deposit`,
    );
  }

  // 1. The order: its size is the layout's, known before a byte is read.
  opts.signal?.throwIfAborted();
  const created = await createOrder(client, {
    signer,
    spec: { type: 'storage', value: { bytes: BigInt(layout.shardBytes), durationBlocks: opts.durationBlocks } },
    replicas: n,
    maxPrice: opts.maxPrice,
    denom,
    deposit,
    bidWindowBlocks: opts.bidWindowBlocks ?? DEFAULT_BID_WINDOW,
    timeoutMs: txTimeoutMs,
  });
  const order = created.orderId;
  opts.onStatus?.({ type: 'order-created', order, bidWindowEnd: created.bidWindowEnd, deposit, hash: created.hash, height: BigInt(created.height), fee: created.fee });

  // Either step failing stops the other.
  const phase = new AbortController();
  const onAbort = () => phase.abort(opts.signal?.reason);
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    // 2 and 3 at once: pass 1 (roots and manifest) while the providers bid.
    const [manifest, matched] = await Promise.all([
      encodeFile(readFileChunks(path), info.size, {
        k,
        m,
        name: opts.name ?? basename(path),
        onProgress: (done) => opts.onProgress?.({ phase: 'hash', done, total: info.size }),
        signal: phase.signal,
      }).then(
        (man) => {
          opts.onStatus?.({ type: 'hashed', manifest: man });
          return man;
        },
        (e: unknown) => {
          phase.abort(e);
          throw e;
        },
      ),
      waitForMatch(client, order, created.bidWindowEnd, opts, phase.signal).catch((e: unknown) => {
        phase.abort(e);
        throw e;
      }),
    ]).catch((e: unknown) => {
      // The first failure, not the abort it caused in the other step.
      throw phase.signal.reason ?? e;
    });
    if (matched.order.status === 'closed') {
      const e = new PutError(
        'NO_BIDS',
        `no provider took order ${order} (${matched.order.closeReason ?? 'closed'}): nobody bid at most ${priceText(opts.maxPrice, opts.denom)} per block for ${n} × ${manifest.shardBytes} bytes; raise the max price, or see who could serve such an order with "groundwork market order explain ${order}"; the escrow was refunded`,
        { order },
      );
      e.orderClosed = true;
      throw e;
    }
    const active = matched.leases.filter((l: MarketLease) => l.status === 'active').sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    if (active.length < n) {
      throw new PutError(
        'NOT_ENOUGH_LEASES',
        `only ${active.length} of the ${n} providers needed took order ${order}: a ${k}+${m} code puts each of its ${n} shards on its own provider; lower k + m to at most ${active.length} or raise the max price (${priceText(opts.maxPrice, opts.denom)} per block now)`,
        { order },
      );
    }

    // 4. Shard j → the j-th lease; each provider's host.
    const hosts = new Map<string, string>();
    for (const p of new Set(active.map((l) => l.provider))) {
      const rec = await getProvider(client, { address: p });
      if (!rec) throw new PutError('PROVIDER_UNKNOWN', `provider ${p} of order ${order} is not registered: no host to upload to`, { order });
      hosts.set(p, rec.hostUri);
    }
    const leases: PutLease[] = active.slice(0, n).map((l, j) => ({ shard: j, lease: l.id, provider: l.provider, hostUri: hosts.get(l.provider) as string, price: l.price, root: manifest.roots[j] as string }));
    opts.onStatus?.({ type: 'matched', order, leases });

    // 5. Pass 2, if the file is still the one hashed.
    const now = await statInput(path);
    if (now.size !== info.size || now.mtimeMs !== info.mtimeMs) {
      throw new PutError('FILE_CHANGED', `${path} changed while it was being stored (${info.size} → ${now.size} bytes); store it again once nothing writes to it`, { order });
    }
    opts.signal?.throwIfAborted();
    const acks = await uploadWithReplacements(client, signer, order, path, info, manifest, leases, chainId, opts);

    // 6. The deal.
    let deal;
    try {
      deal = await createDeal(client, {
        signer,
        order,
        size: BigInt(manifest.size),
        k,
        m,
        pieceSize: manifest.pieceSize,
        segments: BigInt(manifest.segments),
        shards: leases.map((l, j) => ({ lease: l.lease, root: l.root, ack: { pubKey: (acks.get(j) as UploadShardReturnType).pubKey, signature: (acks.get(j) as UploadShardReturnType).signature } })),
        timeoutMs: txTimeoutMs,
      });
    } catch (e) {
      // A timeout may hide a deal that was made after all.
      const made = await getDeal(client, { order }).catch(() => null);
      if (made === null) throw new PutError('DEAL_FAILED', `recording the deal failed: ${errorMessage(e)}`, { cause: e, order });
      opts.onStatus?.({ type: 'deal-created', order, hash: '', height: made.createdHeight, reserve: made.reserve });
      return { order, manifest, leases, deposit, deal: { hash: '', height: made.createdHeight, fee: 0n, reserve: made.reserve } };
    }
    opts.onStatus?.({ type: 'deal-created', order, hash: deal.hash, height: BigInt(deal.height), reserve: deal.reserve });
    return { order, manifest, leases, deposit, deal: { hash: deal.hash, height: BigInt(deal.height), fee: deal.fee, reserve: deal.reserve } };
  } catch (caught) {
    // No deal: the order goes (its escrow back), and the error says so. The error keeps its own
    // class and code (a provider's refusal, a changed file, a failed tx); after an abort it is
    // the abort's reason, not the uploads' ABORTED that followed from it.
    const e: unknown = opts.signal?.aborted ? (opts.signal.reason ?? caught) : caught;
    if (e instanceof PutError) e.order = order;
    if (e instanceof PutError && e.orderClosed) throw e;
    const a = await abandonOrder(client, signer, order, {
      ...(opts.txTimeoutMs !== undefined ? { txTimeoutMs: opts.txTimeoutMs } : {}),
      onClosed: (refunded) => opts.onStatus?.({ type: 'order-closed', order, refunded }),
    });
    if (e instanceof PutError) e.orderClosed = a.closed;
    if (e instanceof GroundworkError) e.message = `${e.message}; ${a.text}`;
    throw e;
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
}
