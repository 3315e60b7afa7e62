/**
 * Verified state queries against a CometBFT network (a light-client check, not trust in the
 * node answered by):
 *
 * 1. `abci_query` returns the value of a key at height H with a Groundwork Merkle proof;
 * 2. the app hash after block H is in the header of height H + 1: fetch that header and its
 *    commit (`/commit?height=H+1`) and its validator set (`/validators?height=H+1`);
 * 3. check the validator set hashes to the header's `validators_hash`, the header hashes to the
 *    commit's block id, and validators holding more than 2/3 of that set's power signed that
 *    block id (Ed25519 over CometBFT's canonical vote); and that the set is linked to the
 *    trusted genesis validators: CometLightClient follows validator set changes the way
 *    CometBFT's light client does (skipping verification with bisection, see below);
 * 4. check the proof against the header's app hash.
 *
 * CometBFT's hashing and sign bytes are protobuf encodings; the handful of messages involved are
 * encoded here directly (their layouts are fixed by CometBFT v0.38's .proto files, and a test
 * checks the result against real headers and signatures from a running network).
 */
import { fromHex, toHex, type Bytes } from '../core/bytes.js';
import { sha256 } from '../core/hash.js';
import { addressFromPublicKey, verifySignature } from '../core/keys.js';
import { checkProof, decodeProof } from '../state/proof.js';
import { GroundworkError } from '../core/errors.js';
import { NodeUnreachableError, VerificationError } from './errors.js';

// ---- minimal protobuf writer ------------------------------------------------------------------

class Pb {
  private parts: number[] = [];
  private varint(v: bigint): void {
    let x = BigInt.asUintN(64, v);
    while (x >= 0x80n) {
      this.parts.push(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    this.parts.push(Number(x));
  }
  /** varint field, omitted when zero (proto3). */
  uint(field: number, v: bigint | number): this {
    if (BigInt(v) === 0n) return this;
    this.varint(BigInt((field << 3) | 0));
    this.varint(BigInt(v));
    return this;
  }
  /** sfixed64 field, omitted when zero. */
  sfixed64(field: number, v: bigint): this {
    if (v === 0n) return this;
    this.varint(BigInt((field << 3) | 1));
    let x = BigInt.asUintN(64, v);
    for (let i = 0; i < 8; i++) {
      this.parts.push(Number(x & 0xffn));
      x >>= 8n;
    }
    return this;
  }
  /** length-delimited field; `always` emits it even when empty (non-nullable messages). */
  bytes(field: number, b: Bytes, always = false): this {
    if (b.length === 0 && !always) return this;
    this.varint(BigInt((field << 3) | 2));
    this.varint(BigInt(b.length));
    for (const x of b) this.parts.push(x);
    return this;
  }
  string(field: number, s: string): this {
    return this.bytes(field, Buffer.from(s, 'utf8'));
  }
  finish(): Bytes {
    return Uint8Array.from(this.parts);
  }
}

function delimited(b: Bytes): Bytes {
  const head: number[] = [];
  let n = b.length;
  while (n >= 0x80) {
    head.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  head.push(n);
  return Uint8Array.from([...head, ...b]);
}

/** CometBFT's merkle.HashFromByteSlices (RFC 6962 style: 0x00 leaves, 0x01 inner nodes). */
export function cometMerkleRoot(items: readonly Bytes[]): Bytes {
  if (items.length === 0) return sha256(new Uint8Array(0));
  if (items.length === 1) return sha256(Uint8Array.from([0, ...(items[0] as Bytes)]));
  let k = 1;
  while (k * 2 < items.length) k *= 2;
  const l = cometMerkleRoot(items.slice(0, k));
  const r = cometMerkleRoot(items.slice(k));
  return sha256(Uint8Array.from([1, ...l, ...r]));
}

// ---- JSON shapes of CometBFT's RPC ------------------------------------------------------------

interface BlockIdJson {
  hash: string;
  parts: { total: number; hash: string };
}

export interface HeaderJson {
  version: { block: string; app?: string };
  chain_id: string;
  height: string;
  time: string;
  last_block_id: BlockIdJson;
  last_commit_hash: string;
  data_hash: string;
  validators_hash: string;
  next_validators_hash: string;
  consensus_hash: string;
  app_hash: string;
  last_results_hash: string;
  evidence_hash: string;
  proposer_address: string;
}

export interface CommitJson {
  height: string;
  round: number;
  block_id: BlockIdJson;
  signatures: Array<{ block_id_flag: number; validator_address: string; timestamp: string; signature: string | null }>;
}

export interface ValidatorJson {
  address: string;
  pub_key: { type: string; value: string };
  voting_power: string;
}

/** RFC 3339 with up to nanosecond precision → protobuf Timestamp bytes. */
function timestamp(t: string): Bytes {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?Z$/.exec(t);
  if (!m) throw new VerificationError(`unexpected time format "${t}" in a CometBFT header`);
  const seconds = BigInt(Date.parse(`${m[1]}Z`) / 1000);
  const nanos = m[2] ? Number(m[2].padEnd(9, '0')) : 0;
  return new Pb().uint(1, seconds).uint(2, nanos).finish();
}

const hexBytes = (h: string): Bytes => (h ? fromHex(h) : new Uint8Array(0));

function blockId(b: BlockIdJson): Bytes {
  const psh = new Pb().uint(1, b.parts.total).bytes(2, hexBytes(b.parts.hash)).finish();
  return new Pb().bytes(1, hexBytes(b.hash)).bytes(2, psh, true).finish();
}

/** Header.Hash() of CometBFT v0.38. */
export function headerHash(h: HeaderJson): Bytes {
  const bytesValue = (x: string) => new Pb().bytes(1, hexBytes(x)).finish();
  return cometMerkleRoot([
    new Pb().uint(1, BigInt(h.version.block)).uint(2, BigInt(h.version.app ?? '0')).finish(),
    new Pb().string(1, h.chain_id).finish(),
    new Pb().uint(1, BigInt(h.height)).finish(),
    timestamp(h.time),
    blockId(h.last_block_id),
    bytesValue(h.last_commit_hash),
    bytesValue(h.data_hash),
    bytesValue(h.validators_hash),
    bytesValue(h.next_validators_hash),
    bytesValue(h.consensus_hash),
    bytesValue(h.app_hash),
    bytesValue(h.last_results_hash),
    bytesValue(h.evidence_hash),
    bytesValue(h.proposer_address),
  ]);
}

/** Bytes a validator signs for a precommit (CanonicalVote, length-delimited). */
export function precommitSignBytes(chainId: string, c: CommitJson, time: string): Bytes {
  const psh = new Pb().uint(1, c.block_id.parts.total).bytes(2, hexBytes(c.block_id.parts.hash)).finish();
  const bid = new Pb().bytes(1, hexBytes(c.block_id.hash)).bytes(2, psh, true).finish();
  const vote = new Pb()
    .uint(1, 2) // SIGNED_MSG_TYPE_PRECOMMIT
    .sfixed64(2, BigInt(c.height))
    .sfixed64(3, BigInt(c.round))
    .bytes(4, bid, true)
    .bytes(5, timestamp(time), true)
    .string(6, chainId)
    .finish();
  return delimited(vote);
}

export function validatorSetHash(vals: readonly ValidatorJson[]): Bytes {
  return cometMerkleRoot(
    vals.map((v) => {
      const pk = new Pb().bytes(1, Buffer.from(v.pub_key.value, 'base64')).finish();
      return new Pb().bytes(1, pk, true).uint(2, BigInt(v.voting_power)).finish();
    }),
  );
}

export interface TrustedValidator {
  readonly pubKey: Bytes;
  readonly power: bigint;
}

interface SignedPower {
  signed: bigint;
  total: bigint;
}

const pubKeyOf = (v: ValidatorJson): Bytes => new Uint8Array(Buffer.from(v.pub_key.value, 'base64'));

/** The header hashes to the commit's block id, for the same height. */
function checkHeaderMatchesCommit(header: HeaderJson, commit: CommitJson): void {
  if (commit.height !== header.height) throw new VerificationError(`the commit is for height ${commit.height}, the header for ${header.height}`);
  if (toHex(headerHash(header)) !== commit.block_id.hash.toLowerCase()) throw new VerificationError('the header does not hash to the block id its commit signs');
}

/** The node's validator list is the one the header commits to (hash) and each address is its key's. */
function checkValidatorSet(header: HeaderJson, validators: readonly ValidatorJson[]): void {
  if (toHex(validatorSetHash(validators)) !== header.validators_hash.toLowerCase()) {
    throw new VerificationError(`the validator set the node reported for height ${header.height} does not hash to the header's validators_hash (a forged or incomplete set)`);
  }
  for (const v of validators) {
    if (toHex(addressFromPublicKey(pubKeyOf(v))).toUpperCase() !== v.address.toUpperCase()) throw new VerificationError(`validator ${v.address} does not match its public key`);
  }
}

/**
 * The voting power of `vals` (keys and powers; addresses derived from the keys) whose valid
 * signatures for this block are in the commit. A signature that names a validator of `vals` but
 * does not verify is an error, not a vote that is ignored.
 */
function signedPower(header: HeaderJson, commit: CommitJson, vals: readonly TrustedValidator[]): SignedPower {
  const byAddress = new Map(vals.map((v) => [toHex(addressFromPublicKey(v.pubKey)).toUpperCase(), v]));
  let total = 0n;
  for (const v of vals) total += v.power;
  let signed = 0n;
  const seen = new Set<string>();
  for (const s of commit.signatures) {
    if (s.block_id_flag !== 2 || !s.signature) continue; // only votes for this block count
    const addr = s.validator_address.toUpperCase();
    const v = byAddress.get(addr);
    if (!v || seen.has(addr)) continue;
    if (!verifySignature(v.pubKey, precommitSignBytes(header.chain_id, commit, s.timestamp), new Uint8Array(Buffer.from(s.signature, 'base64')))) {
      throw new VerificationError(`the commit for height ${header.height} carries an invalid signature of validator ${addr}`);
    }
    seen.add(addr);
    signed += v.power;
  }
  return { signed, total };
}

const asTrusted = (vals: readonly ValidatorJson[]): TrustedValidator[] => vals.map((v) => ({ pubKey: pubKeyOf(v), power: BigInt(v.voting_power) }));

function sameSet(a: readonly TrustedValidator[], b: readonly TrustedValidator[]): boolean {
  const key = (v: TrustedValidator) => `${toHex(v.pubKey)}:${v.power}`;
  const want = new Set(a.map(key));
  const got = new Set(b.map(key));
  return want.size === got.size && [...want].every((k) => got.has(k));
}

/**
 * Checks a signed header against a validator set the caller trusts as the set of that very
 * height: the node's set equals `trusted` and matches the header, the header matches the
 * commit, and more than 2/3 of the voting power signed it. Returns the header's app hash (the
 * state after the previous height). To follow validator set changes use CometLightClient.
 */
export function verifyCometCommit(header: HeaderJson, commit: CommitJson, validators: readonly ValidatorJson[], trusted: readonly TrustedValidator[]): { height: bigint; appHash: Bytes } {
  if (!sameSet(trusted, asTrusted(validators))) throw new VerificationError('the validator set reported by the node is not the trusted one (genesis)');
  checkValidatorSet(header, validators);
  checkHeaderMatchesCommit(header, commit);
  const { signed, total } = signedPower(header, commit, asTrusted(validators));
  if (signed * 3n <= total * 2n) throw new VerificationError(`only ${signed} of ${total} voting power signed the header (more than 2/3 needed)`);
  return { height: BigInt(header.height), appHash: hexBytes(header.app_hash) };
}

// ---- the light client: following validator set changes ---------------------------------------

/** Where the light client reads headers, commits and validator sets (a CometBFT RPC, or a test double). */
export interface CometSource {
  signedHeader(height: bigint): Promise<{ header: HeaderJson; commit: CommitJson }>;
  /** The whole validator set of `height`, in CometBFT's order (all pages). */
  validators(height: bigint): Promise<ValidatorJson[]>;
}

async function rpc<T>(url: string, path: string): Promise<T> {
  let r: Response;
  try {
    r = await fetch(`${url}${path}`, { signal: AbortSignal.timeout(15_000) });
  } catch (e) {
    throw new NodeUnreachableError(url, { cause: e });
  }
  const j = (await r.json().catch(() => ({}))) as { result?: T; error?: { message?: string; data?: string } };
  if (!j.result) throw new VerificationError(`${path}: ${j.error?.data ?? j.error?.message ?? 'no result'}`);
  return j.result;
}

/** A CometBFT node's RPC as a CometSource. */
export function cometRpcSource(rpcUrl: string): CometSource {
  const url = rpcUrl.replace(/\/+$/, '');
  return {
    async signedHeader(height) {
      const r = await rpc<{ signed_header: { header: HeaderJson; commit: CommitJson } }>(url, `/commit?height=${height}`);
      return r.signed_header;
    },
    async validators(height) {
      const out: ValidatorJson[] = [];
      for (let page = 1; ; page++) {
        const r = await rpc<{ validators: ValidatorJson[]; total: string }>(url, `/validators?height=${height}&page=${page}&per_page=100`);
        out.push(...r.validators);
        if (out.length >= Number(r.total) || r.validators.length === 0) return out;
      }
    },
  };
}

/** A header the light client has verified, with what it needs to verify later ones from it. */
interface TrustedState {
  readonly height: bigint;
  /** The set that signs height + 1 (genesis: the genesis validators for height 1). */
  nextValidators: readonly TrustedValidator[] | undefined;
  /** The header's next_validators_hash (undefined for the genesis anchor). */
  readonly nextValidatorsHash: string | undefined;
  readonly header: HeaderJson | undefined;
}

export interface VerifiedHeader {
  readonly height: bigint;
  readonly header: HeaderJson;
  /** The header's app hash: the state after height - 1. */
  readonly appHash: Bytes;
}

/** The trusted set signed too little of a far header: verify one in between first (bisection). */
class NotEnoughTrust extends GroundworkError {
  constructor() {
    super('NOT_ENOUGH_TRUST', 'the trusted validators signed less than 1/3 of the power');
  }
}

/**
 * A CometBFT light client (the skipping verification of CometBFT's light package, trust level
 * 1/3), anchored at the genesis validator set:
 *
 * - a header next to a trusted one (height + 1) is accepted when its validators_hash equals the
 *   trusted header's next_validators_hash (for height 1: its set is the genesis set) and more
 *   than 2/3 of its own set signed it;
 * - a header further on is accepted when validators holding more than 1/3 of the trusted
 *   header's next validator set's power signed it (at least one of them is honest, so the new
 *   set is the real one), and more than 2/3 of its own set did;
 * - otherwise (the set changed too much in between) a header halfway is verified first, and
 *   then the target from there (bisection), down to adjacent headers if need be.
 *
 * Each header's validator set is fetched from the node and must hash to the header's
 * validators_hash: a forged set is refused, as is a header no chain of signatures links to the
 * genesis validators. Verified headers are remembered, so later queries start from the nearest
 * one. Not implemented: a trusting period (CometBFT drops trust in a header older than the
 * unbonding period, after which its validators could sign a fork at no cost).
 */
export class CometLightClient {
  readonly source: CometSource;
  private readonly trusted: TrustedState[];
  private chainId: string | undefined;

  constructor(source: CometSource | string, genesisValidators: readonly TrustedValidator[], opts: { chainId?: string } = {}) {
    this.source = typeof source === 'string' ? cometRpcSource(source) : source;
    this.trusted = [{ height: 0n, nextValidators: genesisValidators, nextValidatorsHash: undefined, header: undefined }];
    this.chainId = opts.chainId;
  }

  /** Heights of the headers verified so far (for diagnostics and tests). */
  get verifiedHeights(): bigint[] {
    return this.trusted.filter((t) => t.header).map((t) => t.height);
  }

  /** Verifies the header of `height` (fetching what it needs); throws VerificationError. */
  async verify(height: bigint): Promise<VerifiedHeader> {
    if (height < 1n) throw new VerificationError(`height must be at least 1, got ${height}`);
    const known = this.trusted.find((t) => t.height === height);
    if (known?.header) return { height, header: known.header, appHash: hexBytes(known.header.app_hash) };
    let base = this.nearestBelow(height);
    const targets = [height];
    const fetched = new Map<bigint, [{ header: HeaderJson; commit: CommitJson }, ValidatorJson[]]>();
    while (targets.length > 0) {
      const u = targets[targets.length - 1] as bigint;
      let f = fetched.get(u);
      if (!f) {
        f = await Promise.all([this.source.signedHeader(u), this.source.validators(u)]);
        fetched.set(u, f);
      }
      const [{ header, commit }, validators] = f;
      try {
        await this.verifyFrom(base, u, header, commit, validators);
      } catch (e) {
        if (!(e instanceof NotEnoughTrust)) throw e;
        targets.push(base.height + (u - base.height) / 2n); // u > base.height + 1 here, so the pivot is strictly between
        continue;
      }
      base = this.remember({ height: u, nextValidators: undefined, nextValidatorsHash: header.next_validators_hash.toLowerCase(), header });
      targets.pop();
    }
    const h = base.header as HeaderJson;
    return { height, header: h, appHash: hexBytes(h.app_hash) };
  }

  private nearestBelow(height: bigint): TrustedState {
    let best = this.trusted[0] as TrustedState;
    for (const t of this.trusted) if (t.height < height && t.height > best.height) best = t;
    return best;
  }

  private remember(t: TrustedState): TrustedState {
    this.trusted.push(t);
    this.trusted.sort((a, b) => (a.height < b.height ? -1 : a.height > b.height ? 1 : 0));
    // Keep the genesis anchor and the most recent headers.
    if (this.trusted.length > 64) this.trusted.splice(1, 1);
    return t;
  }

  /** The set that signs base.height + 1, fetched once and checked against base's header. */
  private async nextValidatorsOf(base: TrustedState): Promise<readonly TrustedValidator[]> {
    if (base.nextValidators) return base.nextValidators;
    const vals = await this.source.validators(base.height + 1n);
    if (toHex(validatorSetHash(vals)) !== base.nextValidatorsHash) {
      throw new VerificationError(`the validator set the node reported for height ${base.height + 1n} does not hash to next_validators_hash of header ${base.height} (a forged or incomplete set)`);
    }
    base.nextValidators = asTrusted(vals);
    return base.nextValidators;
  }

  private async verifyFrom(base: TrustedState, height: bigint, header: HeaderJson, commit: CommitJson, validators: readonly ValidatorJson[]): Promise<void> {
    if (header.height !== String(height)) throw new VerificationError(`asked for header ${height}, the node sent ${header.height}`);
    this.chainId ??= header.chain_id;
    if (header.chain_id !== this.chainId) throw new VerificationError(`header ${height} is for chain "${header.chain_id}", not "${this.chainId}"`);
    checkValidatorSet(header, validators);
    checkHeaderMatchesCommit(header, commit);
    const own = asTrusted(validators);
    if (height === base.height + 1n) {
      // Adjacent: the set must be the one the trusted header announced.
      const linked = base.nextValidatorsHash !== undefined ? header.validators_hash.toLowerCase() === base.nextValidatorsHash : sameSet(own, base.nextValidators ?? []);
      if (!linked) {
        throw new VerificationError(
          base.header
            ? `header ${height} is signed by a validator set that header ${base.height} did not announce: it does not link to the trusted validators`
            : `header ${height} is signed by a validator set other than the genesis validators: it does not link to the trusted validators`,
        );
      }
    } else {
      const t = signedPower(header, commit, await this.nextValidatorsOf(base));
      if (t.signed * 3n <= t.total) throw new NotEnoughTrust();
    }
    const s = signedPower(header, commit, own);
    if (s.signed * 3n <= s.total * 2n) throw new VerificationError(`only ${s.signed} of ${s.total} voting power signed header ${height} (more than 2/3 needed)`);
  }
}

// ---- the query --------------------------------------------------------------------------------

export interface CometQueryResult {
  /** null when the key is absent (proven absent). */
  readonly value: Bytes | null;
  /** Height whose state this is; its app hash is in the header of height + 1. */
  readonly height: bigint;
  readonly appHash: Bytes;
}

/**
 * Reads `key` from a CometBFT node's `/state` query and verifies it (see the file comment).
 * `trusted`: the genesis validators (a fresh light client each call), or a CometLightClient to
 * reuse what it verified before.
 */
export async function cometVerifiedQuery(
  rpcUrl: string,
  key: Bytes,
  trusted: readonly TrustedValidator[] | CometLightClient,
  opts: { height?: bigint; waitMs?: number } = {},
): Promise<CometQueryResult> {
  const url = rpcUrl.replace(/\/+$/, '');
  const client = trusted instanceof CometLightClient ? trusted : new CometLightClient(url, trusted);
  const q = await rpc<{ response: { code: number; log: string; value: string | null; height: string; proofOps?: { ops: Array<{ type: string; data: string }> } } }>(
    url,
    `/abci_query?path="/state"&data=0x${toHex(key)}${opts.height ? `&height=${opts.height}` : ''}`,
  );
  const res = q.response;
  if (res.code !== 0) throw new VerificationError(`query failed: ${res.log}`);
  const op = res.proofOps?.ops.find((o) => o.type === 'groundwork/jmt');
  if (!op) throw new VerificationError('the node returned no groundwork/jmt proof');
  const height = BigInt(res.height);
  const value = res.value ? new Uint8Array(Buffer.from(res.value, 'base64')) : null;
  // The header that commits to this state is the next one; wait for it briefly if needed.
  const deadline = Date.now() + (opts.waitMs ?? 10_000);
  for (;;) {
    try {
      await client.source.signedHeader(height + 1n);
      break;
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  const { appHash } = await client.verify(height + 1n);
  const check = checkProof(appHash, key, value, decodeProof(new Uint8Array(Buffer.from(op.data, 'base64'))));
  if (!check.ok) throw new VerificationError(`the proof does not match the signed app hash: ${check.reason}`);
  return { value, height, appHash };
}
