/**
 * The network's economics end to end, with real processes: one embedded devnet node and the
 * `groundwork` CLI (--json), driven as a user following the README would.
 *
 *  1. keys (faucet, reporter, auditor, maker, owner, customer), funded with bank send;
 *  2. an oracle price; the customer burns tokens for Data Credits (DC = tokens × price, supply
 *     drops by the tokens burned);
 *  3. governance approves the maker (the faucet bonds stake to vote);
 *  4. the owner self-bonds, buys DC, creates a device key, gets the maker's signature, onboards
 *     the device (the DC fee is burned) and asserts its location (the first one is free);
 *  5. the device reports work through the test vertical; its epoch closes (root and lines);
 *  6. `rewards explain` (by owner and by device) passes every check with the reason code;
 *     `rewards claim` pays exactly the line; a second claim is ALREADY_CLAIMED;
 *  7. honest faults up to the free limit only warn; one more takes a small slash that nobody
 *     disputes: it burns at its release height (supply drops by exactly that amount);
 *  8. a double-signed report is fraud: evidence → slash (reason code, evidence), bonded tokens
 *     drop, device jailed; the owner disputes; governance reverses it → tokens restored;
 *  9. supply accounting throughout, and at the end: genesis supply + emission − tokens burned
 *     for DC − slashes burned = supply (verified state reads at one height).
 *
 * Supply is read through the CLI (`query supply --height`); a few other totals with the SDK's
 * verified state reads (getState). Everything a user does goes through the CLI.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decode, u128 } from '../src/core/codec.js';
import { encodeAddress, moduleAddress } from '../src/core/keys.js';
import { EMITTED_KEY } from '../src/chain/modules/rewards/keys.js';
import { CREDITS_TOTAL_KEY } from '../src/chain/modules/credits/keys.js';
import { creditTotalsCodec } from '../src/chain/modules/credits/keeper.js';
import { createClient, type Client } from '../src/client/client.js';
import { getState } from '../src/client/actions/getState.js';
import { cli, startNode, tempDir, type CliResult } from '../src/testkit/index.js';

type J = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const BLOCK_MS = 200;
const BLOCKS_PER_EPOCH = 10n;
const VOTING_PERIOD = 40n;
const DISPUTE_BLOCKS = 40n;
const DISPUTE_EXTENSION = 80n;
const GW = 1_000_000n;
const PRICE = 500_000n; // $0.50 per GW, in micro-USD
const DC_MICRO_USD = 10n; // 1 DC = $0.00001

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('economics end to end: credits, governance, devices, work, rewards, faults, fraud, disputes, supply', { timeout: 300_000 }, async (t) => {
  const started = Date.now();
  const dir = tempDir('gw-econ-');
  const home = dir.path;
  let node: Awaited<ReturnType<typeof startNode>> | undefined;
  const log = (s: string) => t.diagnostic(`[${((Date.now() - started) / 1000).toFixed(1)}s] ${s}`);
  let nodeArgs: string[] = [];
  const show = (args: string[], r: CliResult) => `groundwork ${args.join(' ')}\n  exit ${r.code}\n  stdout: ${r.stdout.trim()}\n  stderr: ${r.stderr.trim()}`;
  /** A CLI call that must succeed; returns its parsed --json output. */
  const ok = async (args: string[]): Promise<J> => {
    const full = [...nodeArgs, ...args, '--json'];
    const r = await cli(full, { home });
    if (r.code !== 0) assert.fail(`step failed:\n${show(full, r)}${node ? `\n--- node log tail ---\n${node.log().slice(-2000)}` : ''}`);
    try {
      return JSON.parse(r.stdout) as J;
    } catch {
      return assert.fail(`not JSON:\n${show(full, r)}`);
    }
  };
  /** A CLI call that must fail with exit 1 and the given error code (from --json's stderr). */
  const fails = async (args: string[], code: string, message?: RegExp): Promise<J> => {
    const full = [...nodeArgs, ...args, '--json'];
    const r = await cli(full, { home });
    assert.equal(r.code, 1, `should fail with ${code}:\n${show(full, r)}`);
    let e: J;
    try {
      e = (JSON.parse(r.stderr) as J).error as J;
    } catch {
      return assert.fail(`stderr is not a JSON error:\n${show(full, r)}`);
    }
    assert.match(e.code as string, new RegExp(`(^|\\.)${code}$`), show(full, r));
    if (message) assert.match(e.message as string, message, show(full, r));
    return e;
  };
  const waitFor = async <T>(what: string, f: () => Promise<T | undefined>, timeoutMs = 30_000, everyMs = 300): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await f();
      if (v !== undefined) return v;
      if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await sleep(everyMs);
    }
  };

  try {
    // ---------------------------------------------------------------------------------------
    // 0. A devnet home with fast epochs, governance, disputes; keys made before the node starts
    //    so genesis can name the oracle reporter and the test vertical's fault authority.
    const init = await ok(['init', '--chain-id', 'econ-e2e', '--block-time', String(BLOCK_MS)]);
    const faucet = init.faucetAddress as string;
    const addKey = async (name: string) => (await ok(['keys', 'add', name, '--keyring-backend', 'test'])) as { address: string; publicKey: string };
    const [reporter, auditor, maker, owner, customer] = await Promise.all(['reporter', 'auditor', 'acme', 'owner', 'customer'].map(addKey)) as Array<{ address: string; publicKey: string }>;
    assert.ok(reporter && auditor && maker && owner && customer);

    const gPath = join(home, 'genesis.json');
    const g = JSON.parse(readFileSync(gPath, 'utf8')) as J;
    const params = (m: string, p: J) => {
      g.app[m] = { ...(g.app[m] as J | undefined), params: { ...((g.app[m] as J | undefined)?.params as J | undefined), ...p } };
    };
    params('epochs', { blocksPerEpoch: String(BLOCKS_PER_EPOCH) });
    // The devnet validator holds 2/3 of the stake and never votes: a 5% quorum lets the faucet's
    // delegation carry a proposal.
    params('gov', { votingPeriod: String(VOTING_PERIOD), quorumBps: '500' });
    params('oracle', { reporters: [reporter.address], minReports: 1 });
    params('penalties', { disputeBlocks: String(DISPUTE_BLOCKS), disputeExtensionBlocks: String(DISPUTE_EXTENSION) });
    params('testvertical', { authority: auditor.address });
    writeFileSync(gPath, JSON.stringify(g, null, 2));
    const genesisSupply = (g.app.bank.balances as Array<{ amount: string }>).reduce((n, b) => n + BigInt(b.amount), 0n);
    const validatorOperator = g.app.staking.operators[0].address as string;

    node = await startNode(home);
    nodeArgs = ['--node', node.url];
    const client: Client = createClient({ url: node.url, genesis: new Uint8Array(readFileSync(gPath)) });
    const nodeUrl = node.url;
    /** Waits (cheaply: the node's /v1/status, no CLI process) until height h is committed. */
    const waitHeight = async (h: bigint | string | number) => {
      const deadline = Date.now() + 60_000;
      while (BigInt(((await (await fetch(`${nodeUrl}/v1/status`)).json()) as { height: string }).height) < BigInt(h)) {
        if (Date.now() > deadline) assert.fail(`height ${h} not reached within 60 s`);
        await sleep(100);
      }
    };
    log(`node up at ${node.url}`);

    /** Verified u128 state value at a height. */
    const u128At = async (key: Uint8Array, height: bigint): Promise<bigint> => {
      const v = await getState(client, { key, height });
      return v.value ? decode(u128, v.value) : 0n;
    };
    const supplyAt = async (h: bigint): Promise<bigint> => BigInt((await ok(['query', 'supply', '--height', String(h)])).supply as string);
    /** Tokens the rewards module minted at height h (an epoch closes at every multiple of blocksPerEpoch). */
    const emittedAt = async (h: bigint): Promise<bigint> => {
      if (h % BLOCKS_PER_EPOCH !== 0n) return 0n;
      const e = await ok(['rewards', 'epoch', String(h / BLOCKS_PER_EPOCH - 1n)]);
      assert.equal(e.closedHeight, String(h));
      return BigInt(e.minted as string) + BigInt(e.treasury as string);
    };
    /** supply(h) − supply(h−1), less what rewards emitted in block h: what was burned (negative) in block h. */
    const supplyChangeAt = async (h: bigint): Promise<bigint> => (await supplyAt(h)) - (await supplyAt(h - 1n)) - (await emittedAt(h));
    const credits = async (who: string): Promise<bigint> => BigInt((await ok(['credits', 'balance', who])).credits as string);
    const bonded = async (operator: string): Promise<bigint> => BigInt((await ok(['staking', 'show', operator])).tokens as string);
    const dcFor = (ugw: bigint) => (ugw * PRICE) / 1_000_000n / DC_MICRO_USD; // ugw × µUSD/GW ÷ 1e6 ÷ µUSD per DC, rounded down

    /** A promise resolved from outside: lanes running in parallel wait on each other's milestones. */
    const milestone = () => {
      let done!: () => void;
      const p = new Promise<void>((r) => (done = r));
      return Object.assign(p, { done });
    };
    const funded = { reporter: milestone(), owner: milestone(), customer: milestone() };
    const customerMintChecked = milestone();
    const priceReported = milestone();

    // ---------------------------------------------------------------------------------------
    // 1-4a. Three lanes at once (different signers, so no sequence clashes):
    //   faucet:   funds the keys (bank send), bonds stake, proposes and votes to approve the maker;
    //   customer: the reporter's price, then Data Credits for the customer;
    //   owner:    device key and maker signature (offline), self-bond, Data Credits.
    const [{ id: makerProposal, end: makerVoteEnd }, , ownerReady, allParams] = await Promise.all([
      (async () => {
        for (const [to, amount] of [
          ['reporter', '1gw'],
          ['owner', '2000gw'],
          ['customer', '100gw'],
        ] as const) {
          const sent = await ok(['bank', 'send', 'faucet', to, amount]);
          assert.equal(sent.status, 'committed');
          assert.equal(sent.amount, (BigInt(amount.replace('gw', '')) * GW).toString());
          funded[to].done();
        }
        // 3. Governance: votes weigh bonded stake, so the faucet delegates to the validator first.
        const del = await ok(['staking', 'delegate', 'faucet', validatorOperator, '200000000gw']);
        assert.equal(del.status, 'committed');
        const prop = await ok(['gov', 'submit', 'faucet', '--title', 'Approve Acme devices', '--approve-maker', 'acme', '--maker-pubkey', maker.publicKey]);
        const id = prop.id as string;
        await priceReported; // (the reporter sends nothing else: no sequence race)
        await Promise.all([ok(['gov', 'vote', 'faucet', id, 'yes']), fails(['gov', 'vote', 'reporter', id, 'yes'], 'NO_VOTING_POWER')]);
        await ok(['bank', 'send', 'faucet', 'auditor', '1gw']);
        return { id, end: prop.votingEndHeight as string };
      })(),
      // 2. A price, then Data Credits for the customer: DC = tokens × price; the tokens burn.
      (async () => {
        await funded.reporter;
        const rep = await ok(['oracle', 'report', 'reporter', '$0.50']);
        assert.equal(rep.price, PRICE.toString());
        priceReported.done();
        await funded.customer;
        await fails(['oracle', 'report', 'customer', '0.5'], 'NOT_REPORTER');
        const mint = await ok(['credits', 'mint', 'customer', '10gw']);
        assert.equal(mint.price, PRICE.toString());
        assert.equal(mint.dc, dcFor(10n * GW).toString(), 'DC = tokens × price ÷ DC price');
        assert.equal(mint.dc, '500000'); // 10 GW × $0.50 = $5 = 500,000 DC of $0.00001
        assert.equal(mint.burned, (10n * GW).toString());
        const [dc, change, cEpoch] = await Promise.all([credits('customer'), supplyChangeAt(BigInt(mint.height as number)), ok(['credits', 'epoch', mint.epoch as string])]);
        assert.equal(dc, 500_000n);
        assert.equal(change, -10n * GW, 'the burned tokens left the supply');
        assert.equal(cEpoch.tokensBurned, (10n * GW).toString());
        assert.equal(cEpoch.dcMinted, '500000');
        customerMintChecked.done(); // (the owner's mint waited, so that block held only the customer's burn)
        log(`credits minted: ${mint.dc} DC for 10 GW`);
      })(),
      // 4a. The owner gets ready.
      (async () => {
        const dev = await ok(['device', 'keygen', 'sensor-1', '--keyring-backend', 'test']);
        const deviceId = dev.publicKey as string;
        const makerSig = (await ok(['maker', 'sign', 'acme', deviceId, '--kind', 'storage'])).makerSignature as string;
        await funded.owner;
        const selfBond = await ok(['staking', 'delegate', 'owner', 'self', '1000gw']);
        assert.equal(selfBond.status, 'committed');
        await customerMintChecked;
        const ownerMint = await ok(['credits', 'mint', 'owner', '100gw']);
        assert.equal(ownerMint.dc, dcFor(100n * GW).toString());
        return { deviceId, makerSig, dc: BigInt(ownerMint.dc as string) };
      })(),
      ok(['query', 'params']),
    ]);
    const { deviceId, makerSig } = ownerReady;
    await waitHeight(makerVoteEnd);
    const passed = await waitFor('the maker proposal to pass', async () => {
      const p = await ok(['gov', 'show', makerProposal]);
      return p.status === 'voting' ? undefined : p;
    });
    assert.equal(passed.status, 'passed', JSON.stringify(passed));
    assert.equal(passed.proposer, faucet);
    const makers = (await ok(['maker', 'list'])) as unknown as Array<{ name: string; pubKey: string }>;
    assert.deepEqual(
      makers.map((m) => [m.name, m.pubKey]),
      [['acme', maker.publicKey]],
    );
    log(`maker approved by proposal ${makerProposal}`);

    // ---------------------------------------------------------------------------------------
    // 4b. Onboard the device (the DC fee is burned) and assert its location (the first is free).
    const onboard = await ok(['device', 'onboard', 'owner', '--device-key', 'sensor-1', '--maker', 'acme', '--maker-signature', makerSig, '--kind', 'storage', '--capacity', '4TiB', '--bandwidth', '1Gbps']);
    assert.equal(onboard.status, 'committed');
    await ok(['device', 'assert-location', 'owner', deviceId, '--lat', '48.8566', '--lng', '2.3522', '--res', '10']);
    const onboardFee = BigInt(allParams.devices.onboardFeeDc.storage as string);
    const [dcLeft, shown, ownerBond] = await Promise.all([credits('owner'), ok(['device', 'show', deviceId]), bonded('owner')]);
    assert.equal(dcLeft, ownerReady.dc - onboardFee, 'the storage onboarding fee was burned in DC; the first location assertion is free');
    assert.equal(shown.owner, owner.address);
    assert.equal(shown.status, 'active');
    assert.equal(shown.maker, 'acme');
    assert.match(shown.location as string, /^8a/);
    assert.equal(ownerBond, 1000n * GW);
    log('device onboarded');

    // ---------------------------------------------------------------------------------------
    // 5. Work through the test vertical: signed reports with increasing seqs.
    const reported = new Map<string, bigint>(); // epoch → units
    let seq = 0;
    /** Epoch e runs from height e×B+1 to (e+1)×B. */
    const epochOf = (h: bigint | number) => ((BigInt(h) - 1n) / BLOCKS_PER_EPOCH).toString();
    const reportArgs = (n: number, units: bigint, payer = 'owner') => ['testvertical', 'report', payer, '--device-key', 'sensor-1', '--seq', String(n), '--pool', 'storage', '--units', String(units), '--reason', 'test-work'];
    const report = async (units: bigint, extra: string[] = []): Promise<J> => {
      seq++;
      const r = await ok([...reportArgs(seq, units), ...extra]);
      assert.equal(r.owner, owner.address);
      assert.equal(r.seq, String(seq));
      assert.equal(r.epoch, epochOf(r.height as number), 'the epoch of the report\'s block');
      return r;
    };
    let lastReport: J = {};
    for (const units of [100n, 200n, 300n]) {
      lastReport = await report(units);
      assert.equal(lastReport.weighted, units.toString(), 'an active device earns its full units');
      const ep = String(lastReport.epoch);
      reported.set(ep, (reported.get(ep) ?? 0n) + units);
    }
    const workEpoch = String(lastReport.epoch);
    const [replay, epochRec] = await Promise.all([
      fails(reportArgs(seq, 5n), 'REPLAYED'),
      waitHeight((BigInt(workEpoch) + 1n) * BLOCKS_PER_EPOCH).then(() => waitFor(`epoch ${workEpoch} to close`, async () => {
        const r = await cli([...nodeArgs, 'rewards', 'epoch', workEpoch, '--json'], { home });
        return r.code === 0 ? (JSON.parse(r.stdout) as J) : undefined;
      })),
    ]);
    assert.match(replay.message as string, /replay/);
    assert.equal(epochRec.status, 'closed');
    assert.match(epochRec.root as string, /^[0-9a-f]{64}$/);
    assert.equal(epochRec.lines, 3, 'three lines: the owner (work + stake), the faucet and the validator (stake)');
    const storagePool = (epochRec.pools as J[]).find((p) => p.pool === 'storage') as J;
    assert.equal(storagePool.units, String(reported.get(workEpoch)), 'the epoch counted exactly the reported units');
    log(`epoch ${workEpoch} closed: ${epochRec.lines} lines, root ${String(epochRec.root).slice(0, 16)}…`);

    // ---------------------------------------------------------------------------------------
    // 6. Explain the owner's line, by owner and by device; claim it once. (At the same time, step
    //    7's first faults: other signers, and the explanation reads state at the epoch's close.)
    const pp = allParams.penalties as J;
    const freeFaults = Number(pp.freeFaults);
    const faultSlash = BigInt(pp.faultSlash as string);
    const warnedBps = BigInt(allParams.rewards.warnedMultiplierBps as string);
    const warnings = Promise.all([
      (async () => {
        for (let i = 1; i <= freeFaults; i++) {
          const f = await ok(['testvertical', 'fault', 'auditor', deviceId, '--reason', 'missed-challenge']);
          assert.deepEqual([f.action, f.count, f.slashed, f.slashId], ['warning', i, '0', null]);
        }
      })(),
      fails(['testvertical', 'fault', 'customer', deviceId, '--reason', 'missed-challenge'], 'NOT_AUTHORITY'),
    ]);
    const [x, byDevice, human, notClosed, nothing] = await Promise.all([
      ok(['rewards', 'explain', 'owner', '--epoch', workEpoch]),
      ok(['rewards', 'explain', deviceId, '--epoch', workEpoch]),
      cli([...nodeArgs, 'rewards', 'explain', 'owner', '--epoch', workEpoch], { home }),
      fails(['rewards', 'explain', 'owner', '--epoch', '1000000'], 'EPOCH_NOT_CLOSED'),
      fails(['rewards', 'claim', 'customer', '--epoch', workEpoch], 'NO_REWARD_LINE'),
    ]);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /storage +device [0-9a-f]{8}…[0-9a-f]{4} +test-work/);
    assert.match(human.stdout, /✓ matches the committed root/);
    assert.match(notClosed.message as string, /has not closed yet/);
    assert.match(nothing.message as string, /no reward line|earned nothing/);
    assert.equal(x.ok, true, JSON.stringify(x.checks));
    for (const c of x.checks as J[]) assert.equal(c.ok, true, `check ${c.id}: ${c.detail}`);
    assert.deepEqual((x.checks as J[]).map((c) => c.id).sort(), ['amount', 'details', 'root', 'stake', 'work']);
    const work = (x.items as J[]).filter((i) => i.type === 'work');
    assert.deepEqual(
      work.map((i) => [i.pool, i.device, i.reason, i.units, i.multiplierBps]),
      [['storage', deviceId, 'test-work', String(reported.get(workEpoch)), '10000']],
    );
    const stake = (x.items as J[]).filter((i) => i.type === 'stake');
    assert.deepEqual(
      stake.map((i) => [i.operator, i.tokens]),
      [[owner.address, (1000n * GW).toString()]],
    );
    assert.equal(x.recomputed, x.amount);
    assert.equal(x.claimed, false);
    assert.equal(byDevice.ok, true);
    assert.equal(byDevice.address, owner.address);
    assert.equal(byDevice.amount, x.amount);
    assert.deepEqual(
      (byDevice.items as J[]).filter((i) => i.highlighted).map((i) => i.reason),
      ['test-work'],
    );
    const lineAmount = BigInt(x.amount as string);
    const claim = await ok(['rewards', 'claim', 'owner', '--epoch', workEpoch]);
    assert.equal(claim.amount, lineAmount.toString());
    const claimHeight = BigInt(claim.height as number);
    const [before, after, again] = await Promise.all([
      ok(['query', 'balance', 'owner', '--height', String(claimHeight - 1n)]),
      ok(['query', 'balance', 'owner', '--height', String(claimHeight)]),
      fails(['rewards', 'claim', 'owner', '--epoch', workEpoch], 'ALREADY_CLAIMED'),
    ]);
    assert.equal(BigInt(after.balance as string) - BigInt(before.balance as string), lineAmount - BigInt(claim.fee as string), 'the claim paid exactly the line (less the claim tx fee)');
    assert.match(again.message as string, /already claimed/);
    log(`claimed ${lineAmount} ugw for epoch ${workEpoch}`);

    // ---------------------------------------------------------------------------------------
    // 7. Honest faults: the free ones only warn; the next takes a small slash that burns.
    await warnings;
    const [faults, warnedDevice, bondAfterWarnings, noSlashes] = await Promise.all([
      ok(['penalties', 'faults', deviceId]),
      ok(['device', 'show', deviceId]),
      bonded('owner'),
      ok(['penalties', 'list', '--operator', 'owner']),
    ]);
    assert.deepEqual([faults.count, faults.freeLeft, faults.status], [freeFaults, 0, 'warned']);
    assert.equal(warnedDevice.status, 'warned');
    assert.equal(bondAfterWarnings, 1000n * GW, 'free faults take nothing');
    assert.deepEqual(noSlashes.slashes, []);
    // A warned device still earns, at rewards.warnedMultiplierBps; one fault too many takes
    // penalties.faultSlash into escrow (nobody disputes it: it will burn).
    const [warnedReport, penalty] = await Promise.all([report(1000n), ok(['testvertical', 'fault', 'auditor', deviceId, '--reason', 'missed-challenge'])]);
    assert.equal(warnedReport.weighted, ((1000n * warnedBps) / 10_000n).toString());
    const warnedEpoch = String(warnedReport.epoch);
    assert.deepEqual([penalty.action, penalty.count, penalty.slashed], ['penalty', freeFaults + 1, faultSlash.toString()]);
    const faultSlashId = String(penalty.slashId);
    const [faultSlashRec, bondAfterPenalty, stillWarned] = await Promise.all([ok(['penalties', 'show', faultSlashId]), bonded('owner'), ok(['device', 'show', deviceId])]);
    assert.deepEqual(
      [faultSlashRec.kind, faultSlashRec.reason, faultSlashRec.amount, faultSlashRec.status, faultSlashRec.operator, faultSlashRec.device, faultSlashRec.reporter],
      ['fault', 'missed-challenge', faultSlash.toString(), 'pending', owner.address, deviceId, null],
    );
    assert.equal(bondAfterPenalty, 1000n * GW - faultSlash);
    assert.equal(stillWarned.status, 'warned', `jailed only at penalties.jailFaults (${pp.jailFaults})`);
    log(`fault slash ${faultSlashId} pending until height ${faultSlashRec.releaseHeight}`);

    // ---------------------------------------------------------------------------------------
    // 8. Fraud: a double-signed report. Evidence → slash + jail; the owner disputes at once
    //    (within penalties.disputeBlocks); governance reverses it.
    const evidenceFile = join(home, 'double-sign.evidence');
    await report(50n, ['--double-sign', evidenceFile]);
    const bondedBeforeFraud = bondAfterPenalty;
    const expectedFraud = (bondedBeforeFraud * BigInt(pp.fraudSlashBps as string)) / 10_000n; // rounds down, as the chain
    const ev = await ok(['penalties', 'evidence', 'customer', '--kind', 'double-signed-report', '--file', evidenceFile]);
    const fraudId = String(ev.slashId);
    assert.equal(ev.amount, expectedFraud.toString());
    const counterFile = join(home, 'counter-evidence.txt');
    writeFileSync(counterFile, 'the second report was forged by a compromised relay: relay logs attached\n');
    // Before governance acts (each of these signs with another key, or only reads).
    const [disp, , bondAfterFraud, jailed] = await Promise.all([
      ok(['penalties', 'dispute', 'owner', fraudId, '--file', counterFile, '--note', 'firmware 1.2 bug']),
      fails(['penalties', 'dispute', 'customer', fraudId, '--file', counterFile], 'NOT_OPERATOR'),
      bonded('owner'),
      ok(['device', 'show', deviceId]),
      fails(reportArgs(seq + 1, 5n, 'reporter'), 'DEVICE_NOT_ACTIVE'),
    ]);
    assert.equal(bondAfterFraud, bondedBeforeFraud - expectedFraud, 'the fraud slash took fraudSlashBps of the pool');
    assert.equal(jailed.status, 'jailed');
    // Governance (faucet) ‖ the checks (at fixed heights) ‖ the undisputed fault slash burning.
    const [reversed] = await Promise.all([
      (async () => {
        const rev = await ok(['gov', 'submit', 'faucet', '--title', `Reverse slash ${fraudId}`, '--description', 'the owner showed the relay logs', '--reverse-slash', fraudId]);
        await ok(['gov', 'vote', 'faucet', rev.id as string, 'yes']);
        assert.ok(BigInt(rev.votingEndHeight as string) < BigInt(disp.releaseHeight as string), 'the vote ends before the disputed slash would burn');
        await waitHeight(rev.votingEndHeight as string);
        return waitFor('the reverse-slash proposal', async () => {
          const p = await ok(['gov', 'show', rev.id as string]);
          return p.status === 'voting' ? undefined : p;
        });
      })(),
      (async () => {
        const [fraud, disputed, change] = await Promise.all([
          ok(['penalties', 'show', fraudId, '--height', String(ev.height)]), // as recorded, before the dispute
          ok(['penalties', 'show', fraudId, '--height', String(disp.height)]),
          supplyChangeAt(BigInt(ev.height as number)),
          fails(['penalties', 'evidence', 'customer', '--kind', 'double-signed-report', '--file', evidenceFile], 'EVIDENCE_USED'),
        ]);
        assert.deepEqual(
          [fraud.kind, fraud.reason, fraud.operator, fraud.device, fraud.amount, fraud.reporter, fraud.status],
          ['double-signed-report', 'double-signed-report', owner.address, deviceId, expectedFraud.toString(), customer.address, 'pending'],
        );
        assert.ok(Number(fraud.evidenceBytes) > 0);
        assert.equal(fraud.evidenceHash, ev.evidenceHash);
        assert.equal(fraud.releaseHeight, ev.releaseHeight);
        assert.equal(BigInt(fraud.releaseHeight as string), BigInt(ev.height as number) + DISPUTE_BLOCKS);
        assert.equal(disputed.status, 'disputed');
        assert.equal(BigInt(disputed.releaseHeight as string), BigInt(fraud.releaseHeight as string) + DISPUTE_EXTENSION);
        assert.equal(disp.releaseHeight, disputed.releaseHeight);
        assert.equal(disputed.note, 'firmware 1.2 bug');
        assert.ok(disputed.counterEvidence);
        assert.equal(change, 0n, 'a slash moves tokens to escrow: nothing burned yet');
      })(),
      (async () => {
        await waitHeight(faultSlashRec.releaseHeight as string);
        const burned = await waitFor('the fault slash to burn', async () => {
          const b = await ok(['penalties', 'show', faultSlashId]);
          return b.status === 'burned' ? b : undefined;
        }, 30_000, 600);
        assert.equal(burned.statusHeight, faultSlashRec.releaseHeight);
        assert.equal(await supplyChangeAt(BigInt(burned.statusHeight as string)), -faultSlash, 'the burn took exactly the slashed amount out of the supply');
        log(`fault slash ${faultSlashId} burned at height ${burned.statusHeight}`);
      })(),
    ]);
    assert.equal(reversed.status, 'passed', JSON.stringify(reversed));
    const [fraudAfter, bondRestored, freed, closed] = await Promise.all([
      ok(['penalties', 'show', fraudId]),
      bonded('owner'),
      ok(['device', 'show', deviceId]),
      fails(['penalties', 'dispute', 'owner', fraudId, '--file', counterFile], 'DISPUTE_CLOSED'),
    ]);
    assert.equal(fraudAfter.status, 'reversed');
    assert.equal(fraudAfter.restoredToAccount, false);
    assert.equal(bondRestored, bondedBeforeFraud, 'the reversed slash went back to the pool');
    assert.equal(freed.status, 'active', 'a reversed fraud finding frees the device');
    assert.match(closed.message as string, /reversed/);
    log(`fraud slash ${fraudId} reversed by governance`);

    // ---------------------------------------------------------------------------------------
    // 9. The warned report's epoch: explained at the warned multiplier. Then supply accounting at
    //    one height: genesis + emission − tokens burned for DC − burned slashes = supply.
    await waitHeight((BigInt(warnedEpoch) + 1n) * BLOCKS_PER_EPOCH);
    const [wx, status, burnedList, escrow] = await Promise.all([
      ok(['rewards', 'explain', deviceId, '--epoch', warnedEpoch]),
      ok(['query', 'status']),
      ok(['penalties', 'list', '--status', 'burned']),
      ok(['query', 'balance', encodeAddress(moduleAddress('slash_escrow'))]),
    ]);
    assert.equal(wx.ok, true, JSON.stringify(wx.checks));
    const warnedItem = (wx.items as J[]).find((i) => i.type === 'work' && i.highlighted) as J;
    assert.equal(warnedItem.multiplierBps, warnedBps.toString(), JSON.stringify(wx.items));
    assert.equal(BigInt(warnedItem.weighted as string), (BigInt(warnedItem.units as string) * warnedBps) / 10_000n);
    const h = BigInt(status.height as string);
    const [supply, emitted, ct] = await Promise.all([supplyAt(h), u128At(EMITTED_KEY, h), getState(client, { key: CREDITS_TOTAL_KEY, height: h })]);
    const tokensBurned = ct.value ? decode(creditTotalsCodec, ct.value).tokensBurned : 0n;
    const slashesBurned = (burnedList.slashes as J[]).filter((b) => BigInt(b.statusHeight as string) <= h).reduce((n, b) => n + BigInt(b.amount as string), 0n);
    assert.equal(tokensBurned, 110n * GW, 'the customer burned 10 GW, the owner 100 GW');
    assert.equal(slashesBurned, faultSlash);
    assert.equal(supply, genesisSupply + emitted - tokensBurned - slashesBurned, 'supply = genesis + emission − burns');
    assert.equal(escrow.balance, '0', 'nothing left in escrow: one slash burned, one reversed');
    log(`supply ${supply} = ${genesisSupply} + ${emitted} − ${tokensBurned} − ${slashesBurned}`);
    log(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } finally {
    await node?.stop();
    dir.cleanup();
  }
});
