/**
 * Staking on the embedded devnet through the CLI (real processes): the devnet genesis bonds the
 * validator's stake; a new account self-bonds, declares a consensus key and becomes a (small)
 * validator, undelegates and leaves; the embedded validator keeps more than 2/3 of the power;
 * bad input gets one clear line and a non-zero exit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ed25519Key, encodeAddress } from '../src/core/keys.js';
import { cli, startNode, tempDir } from '../src/testkit/index.js';

test('staking CLI on the devnet: self-bond, set-validator, operators, show, delegations, undelegate, errors', { timeout: 120_000 }, async () => {
  const dir = tempDir('gw-staking-cli-');
  const home = dir.path;
  let node: Awaited<ReturnType<typeof startNode>> | undefined;
  try {
    assert.equal((await cli(['init', '--chain-id', 'staking-cli', '--block-time', '200'], { home })).code, 0);
    const genesis = JSON.parse(readFileSync(join(home, 'genesis.json'), 'utf8')) as { validators: Array<{ power: string }>; app: { staking: { operators: unknown[] } } };
    assert.equal(genesis.app.staking.operators.length, 1);
    assert.equal(genesis.validators.length, 1);
    // Twice every other genesis balance (the 1e9 GW faucet): 2e9 GW, power 2e9.
    assert.equal(genesis.validators[0]?.power, '2000000000');
    node = await startNode(home);
    const n = ['--node', node.url];
    const run = async (args: string[]) => cli([...n, ...args], { home });
    const json = async <T>(args: string[]): Promise<T> => {
      const r = await run([...args, '--json']);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      return JSON.parse(r.stdout) as T;
    };
    assert.equal((await cli(['keys', 'add', 'alice', '--keyring-backend', 'test'], { home })).code, 0);
    const alice = (await json<{ address: string }>(['keys', 'show', 'alice'])).address;
    await json(['bank', 'send', 'faucet', 'alice', '1000gw']);

    const bond = await json<{ status: string; events: Array<{ type: string }> }>(['staking', 'delegate', 'alice', 'self', '100gw']);
    assert.equal(bond.status, 'committed');
    assert.ok(bond.events.some((e) => e.type === 'staking.delegate'));
    const cons = Ed25519Key.generate();
    const keyFile = join(home, 'priv_validator_key.json');
    writeFileSync(keyFile, JSON.stringify({ pub_key: { type: 'tendermint/PubKeyEd25519', value: Buffer.from(cons.publicKey).toString('base64') } }));
    await json(['staking', 'set-validator', 'alice', '--key-file', keyFile, '--moniker', 'alice-node']);

    const show = await json<{ tokens: string; selfBond: string; validatorPubKey: string; power: string; verified: boolean }>(['staking', 'show', 'alice']);
    assert.deepEqual([show.tokens, show.selfBond, show.power, show.verified], ['100000000', '100000000', '100', true]);
    assert.equal(show.validatorPubKey, Buffer.from(cons.publicKey).toString('hex'));
    const human = await run(['staking', 'show', 'alice']);
    assert.match(human.stdout, /bonded: +100 GW/);
    assert.match(human.stdout, /validator: +yes, voting power 100/);
    const ops = await json<{ operators: Array<{ moniker: string; power: string }> }>(['staking', 'operators']);
    assert.deepEqual(ops.operators.map((o) => o.moniker).sort(), ['alice-node', 'validator-0']);
    const list = await run(['staking', 'operators']);
    assert.match(list.stdout, /alice-node .* 100 GW +power +100/);
    const vals = (await (await fetch(`${node.url}/v1/validators`)).json()) as Array<{ name: string; power: string }>;
    assert.deepEqual(vals.map((v) => v.name), ['validator-0', 'alice-node'], 'the new validator joined, the devnet validator keeps > 2/3');

    // Bad input: one line, exit 1 (or 2 for usage).
    const bad: Array<[string[], RegExp]> = [
      [['staking', 'delegate', 'alice', 'self', '0gw'], /amount must be greater than zero/],
      [['staking', 'delegate', 'alice', 'self', '5'], /has no unit/],
      [['staking', 'undelegate', 'alice', 'self', '5000gw'], /worth 100000000ugw, less than 5000000000ugw/],
      [['staking', 'delegate', 'alice', encodeAddress(Ed25519Key.generate().address), '1gw'], /is not an operator; an operator is created when an account delegates to itself/],
      [['staking', 'delegate', 'alice', 'nobody', '1gw'], /not a valid address/],
      [['staking', 'set-validator', 'alice'], /exactly one of --pubkey/],
      [['staking', 'set-validator', 'alice', '--pubkey', 'ff'.repeat(32)], /not an Ed25519 public key/],
      [['staking', 'set-validator', 'alice', '--pubkey', 'abcd'], /must be 32 bytes/],
      [['staking', 'unjail', 'alice'], /not jailed/],
      [['staking', 'show', 'faucet'], /is not an operator/],
    ];
    for (const [args, re] of bad) {
      const r = await run(args);
      assert.notEqual(r.code, 0, `${args.join(' ')} should fail`);
      assert.match(r.stderr, re, args.join(' '));
      assert.ok(!/at .*\.js:\d+/.test(r.stderr), 'no stack trace');
    }
    const help = await cli(['staking', 'delegate', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /self-bond/);

    // Undelegate everything: out of the set at once, tokens unbonding.
    const un = await json<{ events: Array<{ type: string; attributes: Record<string, string> }> }>(['staking', 'undelegate', 'alice', 'self', 'all']);
    const ev = un.events.find((e) => e.type === 'staking.undelegate');
    assert.equal(ev?.attributes.amount, '100000000');
    const d = await json<{ delegations: unknown[]; unbonding: Array<{ amount: string; completionHeight: string }> }>(['staking', 'delegations', 'alice']);
    assert.deepEqual(d.delegations, []);
    assert.equal(d.unbonding[0]?.amount, '100000000');
    assert.match((await run(['staking', 'delegations', 'alice'])).stdout, /unbonding +100 GW +from gw1.*back at block \d+/);
    const after = (await (await fetch(`${node.url}/v1/validators`)).json()) as Array<{ name: string }>;
    assert.deepEqual(after.map((v) => v.name), ['validator-0']);
    // The devnet keeps producing blocks that verify.
    const bal = await json<{ verified: boolean }>(['query', 'balance', alice]);
    assert.equal(bal.verified, true);
    assert.doesNotMatch(node.log(), /no longer gives this node's key more than 2\/3/);
  } finally {
    await node?.stop();
    dir.cleanup();
  }
});
