/**
 * CometLightClient against synthetic CometBFT chains (real header hashing and vote signing, a
 * test double for the RPC): set changes are followed, with bisection when the trusted set's
 * share is too small; forged sets, forged chains and bad signatures are refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toHex } from '../core/bytes.js';
import { addressFromPublicKey, type Ed25519Key } from '../core/keys.js';
import { testKey } from '../testkit/index.js';
import {
  CometLightClient,
  headerHash,
  precommitSignBytes,
  validatorSetHash,
  type CometSource,
  type CommitJson,
  type HeaderJson,
  type TrustedValidator,
  type ValidatorJson,
} from './cometbft.js';
import { VerificationError } from './errors.js';

interface Member {
  key: Ed25519Key;
  power: bigint;
}

const keys = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => testKey(`${prefix}${i}`));
const A = keys('A', 4);
const B = keys('B', 4);

function valJson(m: Member): ValidatorJson {
  return {
    address: toHex(addressFromPublicKey(m.key.publicKey)).toUpperCase(),
    pub_key: { type: 'tendermint/PubKeyEd25519', value: Buffer.from(m.key.publicKey).toString('base64') },
    voting_power: m.power.toString(),
  };
}

/** CometBFT's order: power descending, then address. */
function setJson(ms: readonly Member[]): ValidatorJson[] {
  return ms.map(valJson).sort((a, b) => (BigInt(a.voting_power) !== BigInt(b.voting_power) ? (BigInt(b.voting_power) > BigInt(a.voting_power) ? 1 : -1) : a.address < b.address ? -1 : 1));
}

/**
 * A chain whose validator set at each height is `setAt(h)`; `signersAt(h)` sign (default: all).
 * Counts the requests it answers.
 */
function fakeChain(o: { chainId?: string; setAt: (h: bigint) => Member[]; signersAt?: (h: bigint) => Member[]; tamper?: (h: bigint, v: ValidatorJson[]) => ValidatorJson[] }): CometSource & { calls: number } {
  const chainId = o.chainId ?? 'fake-chain';
  const headers = new Map<bigint, { header: HeaderJson; commit: CommitJson }>();
  const build = (h: bigint) => {
    const time = new Date(Date.UTC(2026, 0, 1) + Number(h) * 1000).toISOString().replace('Z', '000000Z');
    const vals = setJson(o.setAt(h));
    const header: HeaderJson = {
      version: { block: '11', app: '1' },
      chain_id: chainId,
      height: h.toString(),
      time,
      last_block_id: { hash: '', parts: { total: 0, hash: '' } },
      last_commit_hash: '',
      data_hash: '',
      validators_hash: toHex(validatorSetHash(vals)).toUpperCase(),
      next_validators_hash: toHex(validatorSetHash(setJson(o.setAt(h + 1n)))).toUpperCase(),
      consensus_hash: '',
      app_hash: toHex(new Uint8Array(32).fill(Number(h % 256n))).toUpperCase(),
      last_results_hash: '',
      evidence_hash: '',
      proposer_address: vals[0]?.address ?? '',
    };
    const commit: CommitJson = { height: h.toString(), round: 0, block_id: { hash: toHex(headerHash(header)).toUpperCase(), parts: { total: 1, hash: 'AB'.repeat(32) } }, signatures: [] };
    const signers = o.signersAt?.(h) ?? o.setAt(h);
    commit.signatures = signers.map((m) => ({
      block_id_flag: 2,
      validator_address: valJson(m).address,
      timestamp: time,
      signature: Buffer.from(m.key.sign(precommitSignBytes(chainId, commit, time))).toString('base64'),
    }));
    return { header, commit };
  };
  const src = {
    calls: 0,
    async signedHeader(h: bigint) {
      src.calls++;
      let x = headers.get(h);
      if (!x) headers.set(h, (x = build(h)));
      return structuredClone(x);
    },
    async validators(h: bigint) {
      src.calls++;
      const v = setJson(o.setAt(h));
      return o.tamper ? o.tamper(h, v) : v;
    },
  };
  return src;
}

const members = (ks: Ed25519Key[], power = 10n): Member[] => ks.map((key) => ({ key, power }));
const trustedOf = (ms: Member[]): TrustedValidator[] => ms.map((m) => ({ pubKey: m.key.publicKey, power: m.power }));

test('light client: a header far from genesis verifies in one step while the set is unchanged', async () => {
  const src = fakeChain({ setAt: () => members(A) });
  const lc = new CometLightClient(src, trustedOf(members(A)));
  const v = await lc.verify(50n);
  assert.equal(v.height, 50n);
  assert.equal(toHex(v.appHash), toHex(new Uint8Array(32).fill(50)));
  assert.deepEqual(lc.verifiedHeights, [50n]);
  const calls = src.calls;
  await lc.verify(50n);
  assert.equal(src.calls, calls, 'a verified header is remembered');
});

test('light client: a small set change (new validator < 1/3) verifies by skipping', async () => {
  const newcomer = testKey('newcomer');
  const src = fakeChain({ setAt: (h) => (h >= 20n ? [...members(A), { key: newcomer, power: 5n }] : members(A)) });
  const lc = new CometLightClient(src, trustedOf(members(A)));
  await lc.verify(30n);
  assert.deepEqual(lc.verifiedHeights, [30n], 'genesis validators signed > 1/3 of the new set: no bisection');
  // ... and from there on, the new set is the trusted one.
  await lc.verify(40n);
});

test('light client: a complete change of validators is followed by bisection through the adjacent headers', async () => {
  // A signs up to height 4; header 4 announces B, which signs from height 5 on.
  const src = fakeChain({ setAt: (h) => (h >= 5n ? members(B) : members(A)) });
  const lc = new CometLightClient(src, trustedOf(members(A)));
  const v = await lc.verify(10n);
  assert.equal(v.height, 10n);
  const hs = lc.verifiedHeights;
  assert.ok(hs.includes(4n) && hs.includes(5n) && hs.includes(10n), `bisected through the change: ${hs.join(',')}`);
  // A client that takes B for the genesis validators cannot link A's headers to them.
  const wrong = new CometLightClient(src, trustedOf(members(B)));
  await assert.rejects(wrong.verify(3n), (e: unknown) => e instanceof VerificationError && /does not link to the trusted validators/.test(e.message));
});

test('light client: a set change in steps (one validator replaced every 3 heights) verifies', async () => {
  const src = fakeChain({ setAt: (h) => [...B.slice(0, Math.min(4, Number(h / 3n))), ...A.slice(Math.min(4, Number(h / 3n)))].map((key) => ({ key, power: 10n })) });
  const lc = new CometLightClient(src, trustedOf(members(A)));
  await lc.verify(40n);
  assert.ok(lc.verifiedHeights.length > 1);
});

test('light client: a forged chain signed by a set the client cannot link to is rejected', async () => {
  const C = keys('C', 4);
  // Every header signed by C (consistent hashes, valid signatures): nothing links it to A.
  const forged = fakeChain({ setAt: () => members(C) });
  const lc = new CometLightClient(forged, trustedOf(members(A)));
  await assert.rejects(lc.verify(25n), (e: unknown) => e instanceof VerificationError && /does not link to the trusted validators/.test(e.message));
  // A's real chain up to 10, then a takeover by C that no header of A announced.
  const fork = fakeChain({ setAt: (h) => (h > 10n ? members(C) : members(A)) });
  // (fakeChain announces the next set honestly; an attacker cannot make A's header 10 announce C
  // without A's signatures, so build the fork with headers that do not announce it.)
  const lying: CometSource = {
    async signedHeader(h) {
      if (h <= 10n) {
        const honest = fakeChain({ setAt: () => members(A) });
        return honest.signedHeader(h);
      }
      return fork.signedHeader(h);
    },
    validators: (h) => fork.validators(h),
  };
  await assert.rejects(new CometLightClient(lying, trustedOf(members(A))).verify(30n), (e: unknown) => e instanceof VerificationError && /did not announce/.test(e.message));
});

test('light client: a forged validator list, a bad signature, too little power, another chain id are refused', async () => {
  const tampered = fakeChain({
    setAt: () => members(A),
    tamper: (_h, v) => v.map((x, i) => (i === 0 ? { ...x, voting_power: '1000' } : x)),
  });
  await assert.rejects(new CometLightClient(tampered, trustedOf(members(A))).verify(5n), (e: unknown) => e instanceof VerificationError && /does not hash to the header's validators_hash/.test(e.message));

  const few = fakeChain({ setAt: () => members(A), signersAt: () => members(A.slice(0, 2)) });
  await assert.rejects(new CometLightClient(few, trustedOf(members(A))).verify(1n), /only 20 of 40 voting power signed header 1/);

  const src = fakeChain({ setAt: () => members(A) });
  const badSig: CometSource = {
    async signedHeader(h) {
      const x = await src.signedHeader(h);
      const s = x.commit.signatures[1] as { signature: string };
      const raw = Buffer.from(s.signature, 'base64');
      raw[3] = (raw[3] as number) ^ 1;
      s.signature = raw.toString('base64');
      return x;
    },
    validators: (h) => src.validators(h),
  };
  await assert.rejects(new CometLightClient(badSig, trustedOf(members(A))).verify(3n), /invalid signature/);
  await assert.rejects(new CometLightClient(src, trustedOf(members(A)), { chainId: 'other' }).verify(3n), /is for chain "fake-chain", not "other"/);
});
