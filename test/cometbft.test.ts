/**
 * A 4-validator CometBFT network on loopback (real CometBFT and app processes): txs sent to any
 * node commit; every node has the same app hash at every height; kill -9 of one validator's app
 * or of its CometBFT does not stop the chain and the validator catches up after a restart; with
 * 2 of 4 down the chain halts without forking and resumes when one returns; a tx accepted during
 * an outage is committed exactly once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { toHex } from '../src/core/bytes.js';
import { decode } from '../src/core/codec.js';
import { Ed25519Key, type Signer } from '../src/core/keys.js';
import { bankAccountKey } from '../src/chain/keys.js';
import { accountCodec } from '../src/chain/modules/bank/keeper.js';
import { standardRegistry } from '../src/chain/index.js';
import { buildTx, type MsgRegistry } from '../src/chain/tx.js';
import { Keyring } from '../src/client/keyring.js';
import { cometVerifiedQuery, verifyCometCommit, type CommitJson, type HeaderJson, type TrustedValidator, type ValidatorJson } from '../src/client/cometbft.js';
import { VerificationError } from '../src/client/errors.js';
import { fromHex } from '../src/core/bytes.js';
import { createTestnet, isAlive, startValidator, stopTestnet, testnetStatus, waitForHeight, type TestnetInfo, type TestnetValidator } from '../src/devnet/testnet.js';
import { tempDir } from '../src/testkit/index.js';

const registry: MsgRegistry = standardRegistry();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function rpc<T>(v: TestnetValidator, path: string): Promise<T> {
  const r = await fetch(`http://127.0.0.1:${v.ports.rpc}${path}`, { signal: AbortSignal.timeout(15_000) });
  const j = (await r.json()) as { result?: T; error?: unknown };
  if (!j.result) throw new Error(`${path}: ${JSON.stringify(j.error)}`);
  return j.result;
}

async function account(v: TestnetValidator, address: Uint8Array): Promise<{ sequence: bigint; balance: bigint }> {
  const r = await rpc<{ response: { value: string | null; info: string } }>(v, `/abci_query?path="/state"&data=0x${toHex(bankAccountKey(address))}`);
  return r.response.value ? decode(accountCodec, new Uint8Array(Buffer.from(r.response.value, 'base64'))) : { sequence: 0n, balance: 0n };
}

/** A node's view of the balance once it has committed the blocks others already have (nodes commit a moment apart). */
async function balanceOn(v: TestnetValidator, address: Uint8Array, expected: bigint, timeoutMs = 20_000): Promise<bigint> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const b = (await account(v, address)).balance;
    if (b === expected || Date.now() > end) return b;
    await new Promise((r) => setTimeout(r, 200));
  }
}

function pidOf(info: TestnetInfo, name: string): number {
  return (JSON.parse(readFileSync(join(info.dir, 'pids.json'), 'utf8')) as Record<string, number>)[name] as number;
}

function cometPid(v: TestnetValidator): number {
  return Number(execFileSync('pgrep', ['-f', `cometbft start --home ${join(v.home, 'cometbft')}`], { encoding: 'utf8' }).trim().split('\n')[0]);
}

/** Waits until `v`'s CometBFT process is gone (it stops once its app's ABCI connection drops). */
async function cometGone(v: TestnetValidator, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      cometPid(v);
    } catch {
      return; // pgrep found none
    }
    assert.ok(Date.now() < until, `${v.name}'s CometBFT still runs ${timeoutMs / 1000} s after its app was killed`);
    await sleep(200);
  }
}

async function heights(info: TestnetInfo, nodes: TestnetValidator[]): Promise<number[]> {
  const s = await testnetStatus(info);
  return nodes.map((v) => s.find((n) => n.name === v.name)?.height ?? -1);
}

/** App hash in the header of `height` on every given node must be identical. */
async function sameAppHashes(nodes: TestnetValidator[], upTo: number): Promise<void> {
  for (let h = 1; h <= upTo; h++) {
    const hashes = await Promise.all(nodes.map(async (v) => (await rpc<{ block: { header: { app_hash: string } } }>(v, `/block?height=${h}`)).block.header.app_hash));
    assert.equal(new Set(hashes).size, 1, `app hash at height ${h} differs across nodes: ${hashes.join(' ')}`);
  }
}

test('cometbft: a 4-validator network commits, agrees, survives kill -9 and halts safely without quorum', { timeout: 300_000 }, async () => {
  const dir = tempDir('gw-testnet-');
  // Below the ephemeral port range (32768+), where outgoing connections could take our ports.
  const basePort = 20_000 + Math.floor(Math.random() * 120) * 100;
  const info = createTestnet({ dir: dir.path, validators: 4, basePort, timeoutCommit: '300ms' });
  const [v0, v1, v2, v3] = info.validators as [TestnetValidator, TestnetValidator, TestnetValidator, TestnetValidator];
  const faucet: Signer = new Keyring(join(dir.path, 'keyring')).signer('faucet');
  const dest = Ed25519Key.generate();
  let seq = 0n;
  const send = async (via: TestnetValidator, amount: bigint): Promise<{ hash: string; code: number }> => {
    const tx = buildTx(registry, faucet, { chainId: info.chainId, sequence: seq, fee: 10_000n, msgs: [{ type: 'bank/send', value: { to: dest.address, amount } }] });
    const r = await rpc<{ code: number; hash: string; log: string }>(via, `/broadcast_tx_sync?tx=0x${toHex(tx)}`);
    if (r.code === 0) seq++;
    return { hash: r.hash, code: r.code };
  };
  const waitCommitted = async (hash: string, via: TestnetValidator, timeoutMs = 90_000): Promise<number> => {
    // Generous: on a loaded 2-core machine a restarted validator may take a while to rejoin.
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      try {
        const r = await rpc<{ height: string; tx_result: { code: number } }>(via, `/tx?hash=0x${hash}`);
        assert.equal(r.tx_result.code, 0, `tx ${hash} failed in its block`);
        return Number(r.height);
      } catch (e) {
        if (e instanceof assert.AssertionError) throw e;
        await sleep(200);
      }
    }
    // Say why: which validators run, at what height, and the end of their logs.
    const status = await testnetStatus(info).catch(() => []);
    const tail = (f: string): string => {
      try {
        return readFileSync(f, 'utf8').split('\n').slice(-12).join('\n    ');
      } catch {
        return '(no log)';
      }
    };
    const logs = info.validators.map((v) => `${v.name}: ${JSON.stringify(status.find((n) => n.name === v.name) ?? null)}\n  app.log:\n    ${tail(join(v.home, 'app.log'))}\n  cometbft.log:\n    ${tail(join(v.home, 'cometbft.log'))}`);
    throw new Error(`tx ${hash} was not committed within ${timeoutMs / 1000} s\n${logs.join('\n')}`);
  };
  try {
    for (const v of info.validators) startValidator(info, v);
    await waitForHeight(info, 2, 90_000);

    // Txs sent to each node commit, and every node sees the same balances.
    let total = 0n;
    for (const [i, v] of info.validators.entries()) {
      const r = await send(v, BigInt(100 + i));
      assert.equal(r.code, 0);
      total += BigInt(100 + i);
      await waitCommitted(r.hash, v3);
    }
    for (const v of info.validators) assert.equal(await balanceOn(v, dest.address, total), total);
    // A replayed tx is refused by every node's CheckTx (sequence already used).
    seq--;
    assert.equal((await send(v1, 1n)).code, 5, 'SEQUENCE_REUSED');
    seq++;

    // kill -9 of one validator's app: the other three go on; a tx sent meanwhile commits once.
    process.kill(pidOf(info, v2.name), 'SIGKILL');
    const [h0] = await heights(info, [v0]);
    const during = await send(v0, 7n);
    assert.equal(during.code, 0);
    total += 7n;
    const committedAt = await waitCommitted(during.hash, v1);
    // Rounds whose proposer is the dead validator wait for timeout_propose, so give it time.
    let h1 = h0 as number;
    for (let i = 0; i < 200 && h1 < (h0 as number) + 3; i++) {
      await sleep(200);
      [h1] = (await heights(info, [v0])) as [number];
    }
    assert.ok(h1 >= (h0 as number) + 3, `the chain went on without validator-2 (${h0} → ${h1})`);
    assert.ok(!isAlive(pidOf(info, v2.name)));

    // Restart: it catches up and agrees.
    await cometGone(v2);
    startValidator(info, v2);
    await waitForHeight(info, h1 + 1, 60_000);
    assert.equal((await account(v2, dest.address)).balance, total, 'validator-2 caught up, including the tx sent while it was down');
    const txOnce = await rpc<{ total_count: string }>(v2, `/tx_search?query="tx.height=${committedAt}"`);
    assert.ok(Number(txOnce.total_count) >= 1);

    // kill -9 of one validator's CometBFT: its app stops too; restart brings both back in step.
    process.kill(cometPid(v3), 'SIGKILL');
    for (let i = 0; i < 50 && isAlive(pidOf(info, v3.name)); i++) await sleep(200);
    assert.ok(!isAlive(pidOf(info, v3.name)), 'the app stops when its CometBFT dies');
    const r2 = await send(v1, 11n);
    total += 11n;
    await waitCommitted(r2.hash, v0);
    startValidator(info, v3);
    const [top] = await heights(info, [v0]);
    await waitForHeight(info, (top as number) + 1, 60_000);
    assert.equal(await balanceOn(v3, dest.address, total), total);

    // 2 of 4 down: no quorum (2/3 of the power needs 3 validators), the chain halts, no fork.
    process.kill(pidOf(info, v2.name), 'SIGKILL');
    process.kill(pidOf(info, v3.name), 'SIGKILL');
    await sleep(1500);
    const [a0, a1] = await heights(info, [v0, v1]);
    await sleep(3000);
    const [b0, b1] = await heights(info, [v0, v1]);
    assert.ok((b0 as number) <= (a0 as number) + 1 && (b1 as number) <= (a1 as number) + 1, `halted without quorum (${a0},${a1} → ${b0},${b1})`);
    // A tx accepted into the mempool during the halt...
    const pending = await send(v0, 13n);
    assert.equal(pending.code, 0);
    total += 13n;
    // ...is committed, exactly once, when a third validator returns.
    await cometGone(v2);
    await cometGone(v3);
    startValidator(info, v2);
    await waitCommitted(pending.hash, v0);
    await sleep(1000);
    assert.equal(await balanceOn(v0, dest.address, total), total);
    assert.equal(await balanceOn(v1, dest.address, total), total);
    startValidator(info, v3);
    const [now] = await heights(info, [v0]);
    await waitForHeight(info, (now as number) + 1, 60_000);

    // Same app hash at every height on all four nodes.
    // Up to the lowest node's height: the others may already be a block or two further.
    const end = Math.min(...(await heights(info, info.validators)));
    await sameAppHashes(info.validators, end - 1);
    assert.equal((await account(v3, dest.address)).sequence, 0n);
    assert.equal((await account(v3, faucet.address)).sequence, seq);

    // Light-client check: the value is proven against an app hash signed by > 2/3 of the power.
    const genesis = JSON.parse(readFileSync(join(v0.home, 'genesis.json'), 'utf8')) as { validators: Array<{ pubKey: string; power: string }> };
    const trusted: TrustedValidator[] = genesis.validators.map((v) => ({ pubKey: fromHex(v.pubKey), power: BigInt(v.power) }));
    const q = await cometVerifiedQuery(`http://127.0.0.1:${v1.ports.rpc}`, bankAccountKey(dest.address), trusted);
    assert.equal(decode(accountCodec, q.value as Uint8Array).balance, total);
    const absent = await cometVerifiedQuery(`http://127.0.0.1:${v2.ports.rpc}`, bankAccountKey(Ed25519Key.generate().address), trusted);
    assert.equal(absent.value, null, 'absence is proven too');
    // Whatever a lying node alters, the check fails.
    const h = q.height + 1n;
    const sh = (await rpc<{ signed_header: { header: HeaderJson; commit: CommitJson } }>(v0, `/commit?height=${h}`)).signed_header;
    const vals = (await rpc<{ validators: ValidatorJson[] }>(v0, `/validators?height=${h}`)).validators;
    assert.deepEqual(verifyCometCommit(sh.header, sh.commit, vals, trusted).appHash, fromHex(sh.header.app_hash));
    const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;
    const badHash = clone(sh.header);
    badHash.app_hash = toHex(new Uint8Array(32).fill(7)).toUpperCase();
    assert.throws(() => verifyCometCommit(badHash, sh.commit, vals, trusted), VerificationError, 'a changed app hash no longer matches the signed block id');
    const badSig = clone(sh.commit);
    const sig0 = badSig.signatures.find((x) => x.block_id_flag === 2 && x.signature) as { signature: string };
    const raw = Buffer.from(sig0.signature, 'base64');
    raw[5] = (raw[5] as number) ^ 1;
    sig0.signature = raw.toString('base64');
    assert.throws(() => verifyCometCommit(sh.header, badSig, vals, trusted), VerificationError, 'a forged signature is caught');
    const fewSigs = clone(sh.commit);
    fewSigs.signatures = fewSigs.signatures.map((x, i) => (i < 2 ? { ...x, block_id_flag: 1, signature: null } : x));
    assert.throws(() => verifyCometCommit(sh.header, fewSigs, vals, trusted), /more than 2\/3/, 'half the power is not enough');
    const impostors = trusted.map((t, i) => (i === 0 ? { pubKey: Ed25519Key.generate().publicKey, power: t.power } : t));
    assert.throws(() => verifyCometCommit(sh.header, sh.commit, vals, impostors), /not the trusted one/, 'a validator set other than genesis is refused');
  } finally {
    await stopTestnet(info);
    dir.cleanup();
  }
});
