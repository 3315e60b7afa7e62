/**
 * Verified state queries against a CometBFT network (a light-client check, not trust in the
 * node answered by):
 *
 * 1. `abci_query` returns the value of a key at height H with a Groundwork Merkle proof;
 * 2. the app hash after block H is in the header of height H + 1: fetch that header and its
 *    commit (`/commit?height=H+1`) and the validator set (`/validators?height=H+1`);
 * 3. check the validator set is the trusted one (from genesis) and hashes to the header's
 *    `validators_hash`, the header hashes to the commit's block id, and validators holding more
 *    than 2/3 of the voting power signed that block id (Ed25519 over CometBFT's canonical vote);
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

/**
 * Checks a signed header: the validator set is `trusted` and matches the header, the header
 * matches the commit, and more than 2/3 of the voting power signed it. Returns the header's
 * app hash (the state after the previous height).
 */
export function verifyCometCommit(header: HeaderJson, commit: CommitJson, validators: readonly ValidatorJson[], trusted: readonly TrustedValidator[]): { height: bigint; appHash: Bytes } {
  const key = (pub: Bytes, power: bigint) => `${toHex(pub)}:${power}`;
  const want = new Set(trusted.map((t) => key(t.pubKey, t.power)));
  const got = new Set(validators.map((v) => key(Buffer.from(v.pub_key.value, 'base64'), BigInt(v.voting_power))));
  if (want.size !== got.size || [...want].some((k) => !got.has(k))) throw new VerificationError('the validator set reported by the node is not the trusted one (genesis)');
  if (toHex(validatorSetHash(validators)) !== header.validators_hash.toLowerCase()) throw new VerificationError("the validator set does not hash to the header's validators_hash");
  if (toHex(headerHash(header)) !== commit.block_id.hash.toLowerCase()) throw new VerificationError('the header does not hash to the block id its commit signs');
  if (commit.height !== header.height) throw new VerificationError('the commit is for another height than the header');
  const byAddress = new Map(validators.map((v) => [v.address.toUpperCase(), v]));
  let total = 0n;
  for (const v of validators) total += BigInt(v.voting_power);
  let signed = 0n;
  const seen = new Set<string>();
  for (const s of commit.signatures) {
    if (s.block_id_flag !== 2 || !s.signature) continue; // only votes for this block count
    const v = byAddress.get(s.validator_address.toUpperCase());
    if (!v || seen.has(v.address)) continue;
    const pub = new Uint8Array(Buffer.from(v.pub_key.value, 'base64'));
    if (toHex(addressFromPublicKey(pub)).toUpperCase() !== v.address.toUpperCase()) continue;
    if (!verifySignature(pub, precommitSignBytes(header.chain_id, commit, s.timestamp), new Uint8Array(Buffer.from(s.signature, 'base64')))) {
      throw new VerificationError(`the commit carries an invalid signature of validator ${v.address}`);
    }
    seen.add(v.address);
    signed += BigInt(v.voting_power);
  }
  if (signed * 3n <= total * 2n) throw new VerificationError(`only ${signed} of ${total} voting power signed the header (more than 2/3 needed)`);
  return { height: BigInt(header.height), appHash: hexBytes(header.app_hash) };
}

// ---- the query --------------------------------------------------------------------------------

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

export interface CometQueryResult {
  /** null when the key is absent (proven absent). */
  readonly value: Bytes | null;
  /** Height whose state this is; its app hash is in the header of height + 1. */
  readonly height: bigint;
  readonly appHash: Bytes;
}

/** Reads `key` from a CometBFT node's `/state` query and verifies it (see the file comment). */
export async function cometVerifiedQuery(rpcUrl: string, key: Bytes, trusted: readonly TrustedValidator[], opts: { height?: bigint; waitMs?: number } = {}): Promise<CometQueryResult> {
  const q = await rpc<{ response: { code: number; log: string; value: string | null; height: string; proofOps?: { ops: Array<{ type: string; data: string }> } } }>(
    rpcUrl,
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
  let signed: { signed_header: { header: HeaderJson; commit: CommitJson } } | undefined;
  while (!signed) {
    try {
      signed = await rpc(rpcUrl, `/commit?height=${height + 1n}`);
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  const vals = await rpc<{ validators: ValidatorJson[] }>(rpcUrl, `/validators?height=${height + 1n}&per_page=100`);
  const { appHash } = verifyCometCommit(signed.signed_header.header, signed.signed_header.commit, vals.validators, trusted);
  const check = checkProof(appHash, key, value, decodeProof(new Uint8Array(Buffer.from(op.data, 'base64'))));
  if (!check.ok) throw new VerificationError(`the proof does not match the signed app hash: ${check.reason}`);
  return { value, height, appHash };
}
