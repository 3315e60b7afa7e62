/**
 * The market through the CLI on a real node: a provider (self-bonded stake, an onboarded and
 * located storage device, registered) and a customer. Order → explain (who can win it and why
 * not) → bid → the window closes → lease → payment accrues → close and refund; an early accept
 * and a lease closed by hand; and the mistakes a user makes on the way, each a clear error, exit
 * code 1 and no change of state.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cellToParent, latLngToCell } from 'h3-js';
import { createClient } from '../src/client/client.js';
import { getAccount } from '../src/client/actions/getAccount.js';
import { cliIn, startNode, tempDir } from '../src/testkit/index.js';

type J = Record<string, unknown>;

test('market CLI: order, explain, bid, window close, lease, payment, close and refund; bad input refused', { timeout: 300_000 }, async () => {
  const dir = tempDir('gw-market-');
  const home = dir.path;
  let node = undefined as Awaited<ReturnType<typeof startNode>> | undefined;
  const { run, json } = cliIn(home);
  /** A command that must fail: exit 1, one JSON error line with this code, nothing on stdout. */
  const fails = async (args: string[], code: string | RegExp, message?: RegExp) => {
    const r = await run([...args, '--json'], false);
    assert.equal(r.stdout, '', args.join(' '));
    const e = (JSON.parse(r.stderr.trim().split('\n').at(-1) as string) as { error: { code: string; message: string } }).error;
    if (typeof code === 'string') assert.equal(e.code, code, `${args.join(' ')}: ${e.message}`);
    else assert.match(e.code, code, `${args.join(' ')}: ${e.message}`);
    if (message) assert.match(e.message, message, args.join(' '));
    return e;
  };
  try {
    await run(['init', '--chain-id', 'market-e2e', '--block-time', '200']);
    const addKey = async (name: string) => json<{ address: string; publicKey: string }>(['keys', 'add', name, '--keyring-backend', 'test']);
    const customer = (await addKey('customer')).address;
    const prov = (await addKey('prov')).address;
    const prov2 = (await addKey('prov2')).address;
    const acme = (await addKey('acme')).publicKey;
    const gPath = join(home, 'genesis.json');
    const g = JSON.parse(readFileSync(gPath, 'utf8')) as { app: Record<string, unknown> };
    g.app.devices = { makers: [{ name: 'acme', pubKey: acme }] };
    g.app.credits = { balances: [{ address: prov, amount: '10000000' }] };
    writeFileSync(gPath, JSON.stringify(g, null, 2));
    node = await startNode(home);
    const n = ['--node', node.url];
    const client = createClient({ url: node.url, genesis: new Uint8Array(readFileSync(gPath)) });
    const balance = async (a: string) => (await getAccount(client, { address: a })).balance;
    await run([...n, 'bank', 'send', 'faucet', 'customer', '1000gw']);
    await run([...n, 'bank', 'send', 'faucet', 'prov', '300gw']);
    await run([...n, 'bank', 'send', 'faucet', 'prov2', '10gw']);

    // The provider: stake, a located storage device, registration. prov2 registers only.
    await run([...n, 'staking', 'delegate', 'prov', 'self', '100gw']);
    const keyFile = join(home, 'device.json');
    const device = (await json<{ publicKey: string }>(['device', 'keygen', 'd1', '--out', keyFile])).publicKey;
    const sig = (await run(['maker', 'sign', 'acme', device, '--kind', 'storage'])).stdout.trim();
    await run([...n, 'device', 'onboard', 'prov', '--device-key', keyFile, '--maker', 'acme', '--maker-signature', sig, '--kind', 'storage', '--capacity', '1TiB', '--bandwidth', '1Gbps']);
    await run([...n, 'device', 'assert-location', 'prov', device, '--lat', '48.8566', '--lng', '2.3522', '--res', '10']);
    const paris = cellToParent(latLngToCell(48.8566, 2.3522, 10), 5);
    const tokyo = latLngToCell(35.6762, 139.6503, 5);

    await fails([...n, 'market', 'provider', 'register', 'prov', '--host-uri', 'ftp://x'], 'INVALID_ARGUMENT', /http/);
    const reg = await json([...n, 'market', 'provider', 'register', 'prov', '--host-uri', 'http://127.0.0.1:8700', '--attr', 'tier=datacenter']);
    assert.equal(reg.provider, prov);
    await run([...n, 'market', 'provider', 'register', 'prov2', '--host-uri', 'http://127.0.0.1:8701']);
    const shown = await json([...n, 'market', 'provider', 'show', 'prov']);
    assert.equal(shown.hostUri, 'http://127.0.0.1:8700');
    assert.deepEqual(shown.attributes, [{ key: 'tier', value: 'datacenter' }]);
    assert.equal(shown.activeLeases, 0);
    const providers = await json<{ providers: Array<{ address: string }> }>([...n, 'market', 'provider', 'list']);
    assert.deepEqual(providers.providers.map((p) => p.address).sort(), [prov, prov2].sort());
    await fails([...n, 'market', 'provider', 'show', 'customer'], 'market.PROVIDER_NOT_REGISTERED');

    // An order the provider's device is outside of: explain says so.
    const far = await json([...n, 'market', 'order', 'create', 'customer', '--kind', 'storage', '--size', '10GiB', '--duration', '1000', '--max-price', '0.001gw', '--region', tokyo, '--bid-window', '600']);
    const farId = String(far.order);
    const farX = await json<{ eligible: number; providers: Array<{ provider: string; eligible: boolean; reasons: Array<{ code: string }> }> }>([...n, 'market', 'order', 'explain', farId]);
    assert.equal(farX.eligible, 0);
    const provFar = farX.providers.find((p) => p.provider === prov);
    assert.deepEqual(provFar?.reasons.map((r) => r.code), ['OUTSIDE_REGION']);
    assert.match((await run([...n, 'market', 'order', 'explain', farId])).stdout, /0 of 2 registered provider\(s\) can win it[\s\S]*OUTSIDE_REGION[\s\S]*no provider can serve this order/);
    const customerBefore = await balance(customer);
    const closedFar = await json([...n, 'market', 'order', 'close', 'customer', farId]);
    assert.equal(closedFar.refunded, String(1000n * 1000n)); // the default deposit: max price × duration, all back
    assert.equal(customerBefore + 1_000_000n - (await balance(customer)) < 10_000n, true, 'refunded, less the fee');

    // The main order: 10 GiB near Paris for 1000 blocks, at most 0.001 GW per block.
    const created = await json([
      ...n, 'market', 'order', 'create', 'customer', '--kind', 'storage', '--size', '10GiB', '--duration', '1000', '--max-price', '0.001gw',
      '--deposit', '0.5gw', '--region', paris, '--attr', 'tier=datacenter', '--min-reputation', '0%', '--bid-window', '150',
    ]);
    const orderId = String(created.order);
    const human = (await run([...n, 'market', 'order', 'show', orderId])).stdout;
    assert.match(human, /wants: +storage 10 GiB for 1000 blocks, 1 replica/);
    assert.match(human, /no bids yet/);

    const x = await json<{ status: string; eligible: number; providers: Array<{ provider: string; eligible: boolean; device: string | null; reasons: Array<{ code: string }> }> }>([...n, 'market', 'order', 'explain', orderId]);
    assert.equal(x.status, 'open');
    assert.equal(x.eligible, 1);
    const byAddr = new Map(x.providers.map((p) => [p.provider, p]));
    assert.equal(byAddr.get(prov)?.eligible, true);
    assert.equal(byAddr.get(prov)?.device, device);
    assert.equal(byAddr.get(prov2)?.eligible, false);
    const codes2 = byAddr.get(prov2)?.reasons.map((r) => r.code) ?? [];
    for (const c of ['INSUFFICIENT_STAKE', 'MISSING_ATTRIBUTE', 'NO_DEVICE']) assert.ok(codes2.includes(c), `prov2 reasons ${codes2.join(',')} lack ${c}`);
    const xHuman = (await run([...n, 'market', 'order', 'explain', orderId])).stdout;
    assert.match(xHuman, /1 of 2 registered provider\(s\) can win it/);
    assert.match(xHuman, /why not:[\s\S]*INSUFFICIENT_STAKE/);
    // One provider only (what its agent asks): the same verdict, by key name or address.
    const one = await json<{ providers: Array<{ provider: string; eligible: boolean; device: string | null }> }>([...n, 'market', 'order', 'explain', orderId, '--provider', 'prov']);
    assert.deepEqual(one.providers.map((p) => [p.provider, p.eligible, p.device]), [[prov, true, device]]);

    // Bids that must be refused before anything is sent: state (and balances) unchanged.
    const provBalance = await balance(prov);
    const bid = [...n, 'market', 'bid', 'place', 'prov', orderId, '--device', device];
    await fails([...bid, '--price', '0.002gw'], 'market.PRICE_ABOVE_MAX', /above order \d+'s max price of 0.001 GW/);
    await fails([...bid, '--price', '0gw'], 'INVALID_PRICE', /greater than zero/);
    await fails([...bid, '--price', '-1gw'], 'INVALID_PRICE');
    await fails([...bid, '--price', '5'], 'INVALID_AMOUNT', /no unit/);
    await fails([...n, 'market', 'bid', 'place', 'prov', orderId, '--device', 'abc', '--price', '1ugw'], 'INVALID_ARGUMENT', /64 hex/);
    await fails([...n, 'market', 'bid', 'place', 'prov', '999', '--device', device, '--price', '1ugw'], 'market.ORDER_NOT_FOUND', /no order 999/);
    assert.equal(await balance(prov), provBalance, 'no fee spent on refused bids');

    const placed = await json([...bid, '--price', '0.0008gw']);
    assert.equal(placed.price, '800');
    // A second bid is the chain's to refuse (DUPLICATE_BID, already at the mempool's check).
    const withBid = await balance(prov);
    const e = await fails([...bid, '--price', '0.0007gw'], 'market.DUPLICATE_BID');
    assert.match(e.message, /already bid on order/);
    assert.equal(await balance(prov), withBid, 'a tx refused by the mempool costs nothing');
    const bids = await json<{ bids: Array<{ provider: string; price: string }> }>([...n, 'market', 'bid', 'list', orderId]);
    assert.deepEqual(bids.bids.map((b) => [b.provider, b.price]), [[prov, '800']]);

    // The window closes: the bid becomes a lease.
    let order: J = {};
    const deadline = Date.now() + 60_000;
    for (;;) {
      order = await json([...n, 'market', 'order', 'show', orderId]);
      if ((order.order as J).status !== 'open' || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.equal((order.order as J).status, 'active', JSON.stringify(order));
    const leases = order.leases as Array<{ id: string; provider: string; status: string; price: string }>;
    assert.equal(leases.length, 1);
    const leaseId = (leases[0] as { id: string }).id;
    assert.deepEqual([leases[0]?.provider, leases[0]?.status, leases[0]?.price], [prov, 'active', '800']);
    const listed = await json<{ leases: Array<{ id: string }> }>([...n, 'lease', 'list', '--provider', 'prov', '--status', 'active']);
    assert.deepEqual(listed.leases.map((l) => l.id), [leaseId]);
    await fails([...n, 'lease', 'list'], 'INVALID_ARGUMENT', /--provider, --customer or --order/);

    // Payment accrues block by block.
    const s1 = await json<{ settlement: { owed: string; height: string; dryHeight: string | null } }>([...n, 'lease', 'show', leaseId]);
    await new Promise((r) => setTimeout(r, 1200));
    const s2 = await json<{ settlement: { owed: string; height: string; dryHeight: string | null }; status: string }>([...n, 'lease', 'show', leaseId]);
    assert.equal(s2.status, 'active');
    assert.ok(BigInt(s2.settlement.height) > BigInt(s1.settlement.height));
    assert.ok(BigInt(s2.settlement.owed) > BigInt(s1.settlement.owed), `owed grows: ${s1.settlement.owed} → ${s2.settlement.owed}`);
    assert.ok(s2.settlement.dryHeight !== null && BigInt(s2.settlement.dryHeight) > BigInt(s2.settlement.height));
    assert.match((await run([...n, 'lease', 'show', leaseId])).stdout, /owed now: +0\.\d+ GW accrued[\s\S]*escrow dry: +at height \d+, in \d+ blocks/);

    // Too late to bid now; a top-up extends the escrow.
    await fails([...bid, '--price', '0.0005gw'], 'market.ORDER_NOT_OPEN', /bid window has closed/);
    const dryBefore = BigInt(s2.settlement.dryHeight);
    const top = await json<{ settlement: { dryHeight: string } }>([...n, 'lease', 'topup', 'customer', orderId, '0.1gw']);
    assert.ok(BigInt(top.settlement.dryHeight) > dryBefore + 100n, 'a top-up of 0.1 GW buys 125 more blocks at 0.0008 GW');
    await fails([...n, 'lease', 'topup', 'customer', orderId, '0gw'], 'INVALID_AMOUNT');

    // The provider may not close with the customer's reason; a stranger may not close at all.
    await fails([...n, 'lease', 'close', 'prov', leaseId], 'market.INVALID_REASON');
    await fails([...n, 'lease', 'close', 'prov2', leaseId], 'market.NOT_CUSTOMER');
    await fails([...n, 'lease', 'close', 'customer', leaseId, '--reason', 'expired'], 'market.INVALID_REASON');

    // The customer closes the order: the lease ends paid up to now, the rest is refunded.
    const before = await balance(customer);
    const closed = await json<{ refunded: string; leasesClosed: string[] }>([...n, 'market', 'order', 'close', 'customer', orderId]);
    assert.deepEqual(closed.leasesClosed, [leaseId]);
    const refunded = BigInt(closed.refunded);
    assert.ok(refunded > 0n && refunded < 600_000n, `refunded ${refunded}`);
    assert.ok((await balance(customer)) > before, 'the refund outweighs the fee');
    const after = await json<{ order: J; leases: Array<{ status: string; closeReason: string; paid: string }> }>([...n, 'market', 'order', 'show', orderId]);
    assert.equal(after.order.status, 'closed');
    assert.equal(after.order.closeReason, 'customer');
    assert.equal(after.leases[0]?.status, 'closed');
    assert.ok(BigInt(after.leases[0]?.paid ?? '0') > 0n);
    assert.equal(BigInt(after.order.deposited as string), BigInt(after.order.paid as string) + BigInt(after.order.refunded as string) + BigInt(after.order.escrow as string));
    assert.equal(after.order.escrow, '0');

    // Closed: no bids, no second close of the order or of its lease, no top-up.
    await fails([...bid, '--price', '0.0005gw'], 'market.ORDER_CLOSED', /closed/);
    await fails([...n, 'market', 'order', 'close', 'customer', orderId], 'market.ORDER_CLOSED', /already closed/);
    await fails([...n, 'lease', 'close', 'customer', leaseId], 'market.LEASE_CLOSED', /already closed/);
    await fails([...n, 'lease', 'topup', 'customer', orderId, '0.1gw'], 'market.ORDER_CLOSED');
    await fails([...n, 'market', 'order', 'show', '999'], 'market.ORDER_NOT_FOUND');
    await fails([...n, 'lease', 'show', '999'], 'market.LEASE_NOT_FOUND');
    await fails([...n, 'market', 'order', 'explain', '999'], 'market.ORDER_NOT_FOUND');
    await fails([...n, 'market', 'order', 'explain', orderId, '--provider', customer], /NOT_FOUND/, /is not a registered provider/);

    // Early accept: the customer takes the bid at once; closing the lease closes the order.
    const o2 = String((await json([...n, 'market', 'order', 'create', 'customer', '--kind', 'storage', '--size', '1GiB', '--duration', '500', '--max-price', '100ugw', '--bid-window', '600'])).order);
    await fails([...n, 'market', 'order', 'accept', 'customer', o2, 'prov'], 'market.BID_NOT_FOUND');
    await run([...n, 'market', 'bid', 'place', 'prov', o2, '--device', device, '--price', '90ugw']);
    await fails([...n, 'market', 'order', 'accept', 'prov', o2, 'prov'], /market\.NOT_CUSTOMER/);
    const acc = await json<{ lease: string }>([...n, 'market', 'order', 'accept', 'customer', o2, 'prov']);
    const l2 = acc.lease;
    await new Promise((r) => setTimeout(r, 600));
    const c2 = await json<{ paid: string; orderClosed: boolean; refunded: string }>([...n, 'lease', 'close', 'customer', l2]);
    assert.equal(c2.orderClosed, true);
    assert.ok(BigInt(c2.paid) > 0n);
    assert.equal((await json<{ order: J }>([...n, 'market', 'order', 'show', o2])).order.status, 'closed');
    await fails([...n, 'lease', 'close', 'customer', l2], 'market.LEASE_CLOSED');

    // Order input mistakes never reach the chain.
    const create = [...n, 'market', 'order', 'create', 'customer', '--kind', 'storage', '--size', '1GiB', '--duration', '10'];
    const customerNow = await balance(customer);
    await fails([...create, '--max-price', '0gw'], 'INVALID_PRICE');
    await fails([...create, '--max-price', '1gw', '--deposit', '0.5gw'], 'market.INSUFFICIENT_DEPOSIT', /at least 1 GW/);
    await fails([...create, '--max-price', '1gw', '--region', 'nowhere'], 'INVALID_ARGUMENT', /H3 cell/);
    await fails([...create, '--max-price', '1gw', '--min-reputation', '90'], 'INVALID_ARGUMENT', /90%/);
    await fails([...create, '--max-price', '1gw', '--denom', 'eur'], 'INVALID_ARGUMENT', /ugw, dc/);
    await fails([...create, '--max-price', '1gw', '--denom', 'dc'], 'INVALID_AMOUNT', /Data Credit/);
    await fails([...create, '--max-price', '1gw', '--cpu', '2'], 'INVALID_ARGUMENT', /--cpu applies to compute orders/);
    assert.equal(await balance(customer), customerNow);
    // The chain's own check: the bid window bounds (market.maxBidWindow).
    await fails([...create, '--max-price', '1ugw', '--bid-window', '100000'], 'market.INVALID_ORDER');

    // The provider takes its earnings.
    const w = await json<{ amount: string }>([...n, 'market', 'provider', 'withdraw', 'prov']);
    assert.ok(BigInt(w.amount) > 0n);
    await fails([...n, 'market', 'provider', 'withdraw', 'prov'], 'market.NOTHING_TO_WITHDRAW');
  } finally {
    await node?.kill9();
    dir.cleanup();
  }
});
