/**
 * Test harness for penalties and the test vertical (no tests of its own): the standard App on
 * a temp LMDB store, a maker at genesis, zero onboarding fees, testvertical.authority set, and
 * helpers to onboard devices, bond stake, sign reports and run governance.
 */
import assert from 'node:assert/strict';
import { toHex, type Bytes } from '../../../core/bytes.js';
import { encodeAddress, type Ed25519Key } from '../../../core/keys.js';
import type { KVReader } from '../../../state/overlay.js';
import { testKey } from '../../../testkit/index.js';
import { testChain } from '../../../testkit/chain.js';
import type { TxResult } from '../../app.js';
import type { Event } from '../../events.js';
import { standardModules } from '../../index.js';
import type { Module } from '../../module.js';
import { getAccount } from '../bank/keeper.js';
import { NO_CAPABILITIES, deviceSignBytes, makerSignBytes } from '../devices/types.js';
import { getProposal } from '../gov/keeper.js';
import { signTestReport, type ReportPool, type TestReport } from '../testvertical/types.js';

export const CHAIN = 'test-chain';
export const GW = 1_000_000n;
export const FEE = 20_000n;
export const validator = testKey('validator');
export const alice = testKey('alice');
export const bob = testKey('bob');
export const carol = testKey('carol');
export const authority = testKey('tv-authority');
export const acme = testKey('maker-acme');
export const dev = (n: number): Ed25519Key => testKey(`pen-device-${n}`);

export interface PenChainOpts {
  penalties?: Record<string, unknown>;
  gov?: Record<string, unknown>;
  authority?: Ed25519Key | null;
  epochs?: Record<string, unknown>;
  /** Test modules, run just before epochs (e.g. a governance stand-in). */
  extra?: Module[];
}

/** An event's attributes as an object. */
export function attrs(e: Event | undefined): Record<string, string> {
  assert.ok(e, 'event present');
  return Object.fromEntries(e.attributes.map((a) => [a.key, a.value]));
}

/** Every key and value under the given prefixes: what a refused tx must leave as it was. */
export function snapshot(s: KVReader, prefixes: string[] = ['penalties/', 'staking/', 'devices/', 'testvertical/']): string {
  const parts: string[] = [];
  for (const p of prefixes) {
    const start = Buffer.from(p);
    const end = Buffer.from(p.slice(0, -1) + String.fromCharCode(p.charCodeAt(p.length - 1) + 1));
    for (const [k, v] of s.iterate(start, end)) parts.push(`${toHex(k)}=${toHex(v)}`);
  }
  return parts.join(',');
}

export async function penChain(o: PenChainOpts = {}) {
  const modules = standardModules();
  if (o.extra) modules.splice(modules.length - 1, 0, ...o.extra);
  const auth = o.authority === undefined ? authority : o.authority;
  const base = await testChain({
    modules,
    validator,
    fee: FEE,
    snapshot: (st) => snapshot(st),
    balances: [alice, bob, carol, authority, validator].map((k) => [k, 100_000n * GW]),
    app: {
      devices: {
        makers: [{ name: 'acme', pubKey: toHex(acme.publicKey) }],
        params: { onboardFeeDc: { storage: '0', compute: '0', hotspot: '0', sensor: '0' } },
      },
      penalties: { params: { disputeBlocks: '20', disputeExtensionBlocks: '10', ...o.penalties } },
      testvertical: { params: { authority: auth ? encodeAddress(auth.address) : null } },
      gov: { params: { votingPeriod: '3', ...o.gov } },
      ...(o.epochs ? { epochs: { params: o.epochs } } : {}),
    },
  });
  const app = base.app;
  const c = Object.assign(base, {
    async onboard(owner: Ed25519Key, device: Ed25519Key): Promise<void> {
      await c.ok(owner, 'devices/onboard', {
        kind: 'hotspot',
        deviceKey: device.publicKey,
        maker: 'acme',
        makerSignature: acme.sign(makerSignBytes(CHAIN, 'hotspot', device.publicKey)),
        deviceSignature: device.sign(deviceSignBytes(CHAIN, owner.address)),
        capabilities: { ...NO_CAPABILITIES, bandwidthMbps: 100 },
      });
    },
    async delegate(from: Ed25519Key, operator: Ed25519Key, amount: bigint): Promise<void> {
      await c.ok(from, 'staking/delegate', { operator: operator.address, amount });
    },
    report(device: Ed25519Key, r: { seq: bigint; pool?: ReportPool; units?: bigint; reason?: string }, chainId = CHAIN): TestReport {
      return signTestReport(device, chainId, { seq: r.seq, pool: r.pool ?? 'coverage', units: r.units ?? 100n, reason: r.reason ?? 'test-work' });
    },
    fault(device: Ed25519Key, reason = 'missed-challenge'): Promise<TxResult> {
      return c.ok(authority, 'testvertical/fault', { device: device.publicKey, reason });
    },
    balance(a: Ed25519Key | Bytes): bigint {
      return getAccount(app.state, a instanceof Uint8Array ? a : a.address).balance;
    },
    /** Submits a proposal, has `voters` vote yes, runs to its end; returns its id. */
    async propose(from: Ed25519Key, content: unknown, voters: Ed25519Key[]): Promise<bigint> {
      const r = await c.ok(from, 'gov/submit', { title: 'a proposal', description: 'why', content, deposit: 100n * GW });
      const id = BigInt(attrs(r.events.find((e) => e.type === 'gov.submit')).id as string);
      await c.block(voters.map((v) => c.tx(v, [{ type: 'gov/vote', value: { id, option: 'yes' } }])));
      await c.until(getProposal(app.state, id)!.votingEndHeight);
      return id;
    },
  });
  return c;
}
