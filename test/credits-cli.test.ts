/**
 * Burn-and-mint through the real CLI and a real node: a reporter (listed in genesis) reports
 * "$0.42", the price query shows it, tokens are burned for Data Credits for another key, the
 * verified balance and epoch totals agree, and the refusals read well.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, startNode, tempDir } from '../src/testkit/index.js';

test('credits CLI: report a price, mint Data Credits, read the verified balance and the epoch totals', { timeout: 180_000 }, async () => {
  const dir = tempDir('gw-credits-');
  const home = dir.path;
  let node = undefined as Awaited<ReturnType<typeof startNode>> | undefined;
  try {
    const init = await cli(['init', '--chain-id', 'credits-chain', '--block-time', '200', '--json'], { home });
    assert.equal(init.code, 0, init.stderr);
    const faucet = JSON.parse(init.stdout).faucetAddress as string;
    // Governance's choice at genesis: the faucet key is the one oracle reporter.
    const gPath = join(home, 'genesis.json');
    const g = JSON.parse(readFileSync(gPath, 'utf8'));
    g.app = { ...g.app, oracle: { ...g.app?.oracle, params: { ...g.app?.oracle?.params, reporters: [faucet], minReports: 1 } } };
    writeFileSync(gPath, JSON.stringify(g, null, 2));

    node = await startNode(home);
    const n = ['--node', node.url];
    const alice = JSON.parse((await cli(['keys', 'add', 'alice', '--keyring-backend', 'test', '--json'], { home })).stdout).address as string;

    const none = await cli([...n, 'oracle', 'price', '--json'], { home });
    assert.equal(none.code, 0, none.stderr);
    assert.equal(JSON.parse(none.stdout).error, 'NO_PRICE');

    const early = await cli([...n, 'credits', 'mint', 'faucet', '1gw'], { home });
    assert.equal(early.code, 1);
    assert.match(early.stderr, /no price/);

    const rep = await cli([...n, 'oracle', 'report', 'faucet', '$0.42', '--json'], { home });
    assert.equal(rep.code, 0, rep.stderr);
    assert.equal(JSON.parse(rep.stdout).price, '420000');

    const price = await cli([...n, 'oracle', 'price'], { home });
    assert.equal(price.code, 0, price.stderr);
    assert.match(price.stdout, /median: +\$0\.42\/GW/);
    assert.match(price.stdout, /minting price: \$0\.42\/GW/);

    const mint = await cli([...n, 'credits', 'mint', 'faucet', '2.5gw', '--to', 'alice', '--json'], { home });
    assert.equal(mint.code, 0, mint.stderr);
    const m = JSON.parse(mint.stdout);
    assert.equal(m.dc, '105000'); // 2.5 GW × $0.42 = $1.05 = 105,000 DC
    assert.equal(m.price, '420000');
    assert.equal(m.recipient, alice);

    const human = await cli([...n, 'credits', 'balance', 'alice'], { home });
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /^105,000 DC \(\$1\.05\) held by gw1/);
    assert.match(human.stdout, /proof verified/);

    const ep = await cli([...n, 'credits', 'epoch', m.epoch, '--json'], { home });
    assert.equal(ep.code, 0, ep.stderr);
    const e = JSON.parse(ep.stdout);
    assert.equal(e.tokensBurned, '2500000');
    assert.equal(e.dcMinted, '105000');
    assert.equal(e.verified, true);

    const tiny = await cli([...n, 'credits', 'mint', 'faucet', '1ugw'], { home });
    assert.equal(tiny.code, 1);
    assert.match(tiny.stderr, /buys 0 DC.*burn at least 24ugw/);

    assert.equal((await cli([...n, 'bank', 'send', 'faucet', 'alice', '1gw'], { home })).code, 0);
    const notRep = await cli([...n, 'oracle', 'report', 'alice', '0.5'], { home });
    assert.equal(notRep.code, 1);
    assert.match(notRep.stderr, /not an oracle reporter/);

    const badPrice = await cli([...n, 'oracle', 'report', 'faucet', '0.0000001'], { home });
    assert.equal(badPrice.code, 1);
    assert.match(badPrice.stderr, /more than 6 decimals/);

    const help = await cli(['credits', '--help'], { home });
    assert.equal(help.code, 0);
    assert.match(help.stdout, /mint \[options\] <from> <amount>/);
  } finally {
    await node?.kill9();
    dir.cleanup();
  }
});
