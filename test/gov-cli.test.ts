/**
 * Governance through the real CLI and a real node: the faucet bonds stake, proposes to turn
 * off transfers and to pay from the treasury, votes, and after the voting period the parameter
 * has changed and the treasury has paid; bad input reads well.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeAddress, encodeAddress, moduleAddress } from '../src/core/keys.js';
import { createClient } from '../src/client/client.js';
import { Keyring } from '../src/client/keyring.js';
import { signAndSend } from '../src/client/actions/signAndSend.js';
import { homePaths } from '../src/node/home.js';
import { cli, startNode, tempDir } from '../src/testkit/index.js';

test('gov CLI: submit, vote, show, list, treasury; a passed params proposal changes the chain', { timeout: 240_000 }, async () => {
  const dir = tempDir('gw-gov-');
  const home = dir.path;
  let node = undefined as Awaited<ReturnType<typeof startNode>> | undefined;
  try {
    const init = await cli(['init', '--chain-id', 'gov-chain', '--block-time', '200', '--json'], { home });
    assert.equal(init.code, 0, init.stderr);
    const faucet = JSON.parse(init.stdout).faucetAddress as string;
    // A short voting period, a 10% quorum (the validator, which holds 2/3 of the stake, never
    // votes here) and a funded treasury.
    const gPath = join(home, 'genesis.json');
    const g = JSON.parse(readFileSync(gPath, 'utf8'));
    g.app = { ...g.app, gov: { params: { votingPeriod: '200', quorumBps: '1000' } } };
    g.app.bank.balances.push({ address: encodeAddress(moduleAddress('treasury')), amount: '50000000' });
    writeFileSync(gPath, JSON.stringify(g, null, 2));

    node = await startNode(home);
    const n = ['--node', node.url];
    const alice = JSON.parse((await cli(['keys', 'add', 'alice', '--keyring-backend', 'test', '--json'], { home })).stdout).address as string;

    // Voting power: the faucet delegates 500,000,000 GW to the validator (self-bond 2e9 GW): 20%.
    const operator = decodeAddress(g.app.staking.operators[0].address as string);
    const client = createClient({ url: node.url, genesis: new Uint8Array(readFileSync(gPath)) });
    const signer = new Keyring(homePaths(home).keyring).signer('faucet');
    await signAndSend(client, { signer, msgs: [{ type: 'staking/delegate', value: { operator, amount: 500_000_000n * 1_000_000n } }] });
    assert.equal((await cli([...n, 'bank', 'send', 'faucet', 'alice', '1gw'], { home })).code, 0);

    const unknown = await cli([...n, 'gov', 'submit', 'faucet', '--title', 'x', '--set', 'bank.sendEnable=false'], { home });
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /unknown parameter "bank\.sendEnable"; bank's parameters: sendEnabled/);
    const badModule = await cli([...n, 'gov', 'submit', 'faucet', '--title', 'x', '--set', 'nosuch.a=1'], { home });
    assert.equal(badModule.code, 1);
    assert.match(badModule.stderr, /modules with parameters: .*bank.*gov/);
    const badValue = await cli([...n, 'gov', 'submit', 'faucet', '--title', 'x', '--set', 'gov.thresholdBps=10'], { home });
    assert.equal(badValue.code, 1);
    assert.match(badValue.stderr, /gov\.thresholdBps must be between 5000 and 9999/);
    const two = await cli([...n, 'gov', 'submit', 'faucet', '--title', 'x', '--text', '--revoke-maker', 'a'], { home });
    assert.equal(two.code, 1);
    assert.match(two.stderr, /exactly one of/);
    const low = await cli([...n, 'gov', 'submit', 'faucet', '--title', 'x', '--text', '--deposit', '1gw'], { home });
    assert.equal(low.code, 1);
    assert.match(low.stderr, /gov\.minDeposit is 100 GW/);

    const sub = await cli([...n, 'gov', 'submit', 'faucet', '--title', 'Stop transfers', '--description', 'a test', '--set', 'bank.sendEnabled=false', '--json'], { home });
    assert.equal(sub.code, 0, sub.stderr);
    const id = JSON.parse(sub.stdout).id as string;
    assert.equal(JSON.parse(sub.stdout).deposit, '100000000', 'gov.minDeposit by default');
    const spend = await cli([...n, 'gov', 'submit', 'faucet', '--title', 'Pay alice', '--treasury-spend', 'alice', '--amount', '10gw', '--deposit', '100gw'], { home });
    assert.equal(spend.code, 0, spend.stderr);
    assert.match(spend.stdout, /Proposal 2 submitted: "Pay alice"\n  pay 10 GW from the treasury to gw1/);

    const vote = await cli([...n, 'gov', 'vote', 'faucet', id, 'yes'], { home });
    assert.equal(vote.code, 0, vote.stderr);
    assert.match(vote.stdout, /Voted yes on proposal 1/);
    assert.equal((await cli([...n, 'gov', 'vote', 'faucet', '2', 'yes'], { home })).code, 0);
    const noPower = await cli([...n, 'gov', 'vote', 'alice', id, 'no'], { home });
    assert.equal(noPower.code, 1);
    assert.match(noPower.stderr, /no bonded stake/);
    const badOption = await cli([...n, 'gov', 'vote', 'faucet', id, 'maybe'], { home });
    assert.equal(badOption.code, 1);
    assert.match(badOption.stderr, /vote must be one of yes, no, abstain, veto/);

    const show = await cli([...n, 'gov', 'show', id], { home });
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /status: +voting, \d+ blocks left \(ends at height \d+; if it ended now: passed\)/);
    assert.match(show.stdout, /bank\.sendEnabled: true → false/);
    assert.match(show.stdout, /yes +500,000,000 GW \(100\.0% of yes\+no\+veto; needs more than 50\.0%\)/);
    assert.match(show.stdout, /turnout +500,000,000 GW of 2,500,000,000 GW bonded \(20\.0%; quorum 10\.0%\)/);

    const list = await cli([...n, 'gov', 'list'], { home });
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /#1  voting +params +Stop transfers/);
    assert.match(list.stdout, /#2  voting +treasury-spend +Pay alice/);

    // Wait for the tally.
    const deadline = Date.now() + 120_000;
    let done: { status: string; reason: string } | undefined;
    while (Date.now() < deadline) {
      const s = JSON.parse((await cli([...n, 'gov', 'show', '2', '--json'], { home })).stdout) as { status: string; reason: string };
      if (s.status !== 'voting') {
        done = s;
        break;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.equal(done?.status, 'passed');
    const after = JSON.parse((await cli([...n, 'gov', 'show', id, '--json'], { home })).stdout);
    assert.equal(after.status, 'passed');
    assert.equal(after.depositState, 'refunded');

    const send = await cli([...n, 'bank', 'send', 'faucet', 'alice', '1gw'], { home });
    assert.equal(send.code, 1);
    assert.match(send.stderr, /transfers are disabled by governance/);
    const tr = await cli([...n, 'gov', 'treasury'], { home });
    assert.equal(tr.code, 0, tr.stderr);
    // (The rewards module also mints the treasury pool into it each epoch.)
    assert.match(tr.stdout, /balance [0-9,.]+ GW \([0-9]+ ugw\) at height [0-9]+, proof verified/);
    const bal = JSON.parse((await cli([...n, 'query', 'balance', alice, '--json'], { home })).stdout);
    assert.equal(bal.balance, '11000000', 'alice: 1 GW sent, 10 GW from the treasury (her refused vote paid no fee)');
    const closedVote = await cli([...n, 'gov', 'vote', 'faucet', id, 'no'], { home });
    assert.equal(closedVote.code, 1);
    assert.match(closedVote.stderr, /proposal 1 is passed: voting ended/);

    const votes = await cli([...n, 'gov', 'votes', id], { home });
    assert.match(votes.stdout, new RegExp(`${faucet}  yes +500,000,000 GW`));
    const help = await cli(['gov', 'submit', '--help'], { home });
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--treasury-spend <address>/);
  } finally {
    await node?.stop();
    dir.cleanup();
  }
});
