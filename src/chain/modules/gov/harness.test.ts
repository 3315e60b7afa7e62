/**
 * Test harness for gov (no tests of its own): a real App on a temp LMDB store with consensus,
 * auth, bank, gov and epochs, and small doubles for the interfaces gov needs from staking,
 * devices and penalties (other modules' interfaces, see expected.ts).
 */
import { toHex, utf8, type Bytes } from '../../../core/bytes.js';
import { encode } from '../../../core/codec.js';
import { defineErrors } from '../../../core/errors.js';
import type { Ed25519Key } from '../../../core/keys.js';
import { Database } from '../../../state/db.js';
import { StateStore } from '../../../state/store.js';
import { tempDir, testGenesis, testKey } from '../../../testkit/index.js';
import { App, type BlockResult } from '../../app.js';
import { attr, type Event } from '../../events.js';
import { parseGenesis } from '../../genesis.js';
import { getParams, type Module, type ParamsDef } from '../../module.js';
import { buildTx, type DecodedMsg } from '../../tx.js';
import { validatorLookup } from '../../validators.js';
import { authModule } from '../auth/index.js';
import { bankModule } from '../bank/index.js';
import { consensusModule } from '../consensus/index.js';
import { epochsModule } from '../epochs/index.js';
import type { GovDeps, MakerRegistry, SlashReversal, StakingVotes } from './expected.js';
import { govModule, type ProposalContent, type VoteOption } from './index.js';

export const TestErrors = defineErrors('govtest', {
  MAKER_EXISTS: [1, 'maker exists'],
  MAKER_NOT_FOUND: [2, 'maker not found'],
  NOT_REVERSIBLE: [3, 'slash not reversible'],
});

export const validator = testKey('validator');
export const FEE = 10_000n;
export const GW = 1_000_000n;

/** Voting power set by the test (as a staking module would compute it). */
export class FakeStaking implements StakingVotes {
  readonly powers = new Map<string, bigint>();
  /** Overrides the sum of powers as total bonded (stake of addresses that do not vote). */
  extraBonded = 0n;
  set(k: Ed25519Key | Bytes, power: bigint): void {
    this.powers.set(toHex(k instanceof Uint8Array ? k : k.address), power);
  }
  votingPowerOf(_store: unknown, a: Bytes): bigint {
    return this.powers.get(toHex(a)) ?? 0n;
  }
  totalBonded(): bigint {
    let t = this.extraBonded;
    for (const v of this.powers.values()) t += v;
    return t;
  }
}

/** A maker registry in state under testdev/maker/<name>. */
export const fakeDevices: MakerRegistry = {
  approveMaker(ctx, m) {
    const k = utf8(`testdev/maker/${m.name}`);
    if (ctx.store.get(k)) throw TestErrors.MAKER_EXISTS(`maker ${m.name} exists`);
    ctx.store.set(k, m.pubKey);
    ctx.emit('testdev.approve', () => ({ name: m.name }));
  },
  revokeMaker(ctx, name) {
    const k = utf8(`testdev/maker/${name}`);
    if (!ctx.store.get(k)) throw TestErrors.MAKER_NOT_FOUND(`no maker ${name}`);
    ctx.store.delete(k);
  },
};

/** Writes testpen/reversed/<id>, then refuses odd ids: a failure after a partial write. */
export const fakePenalties: SlashReversal = {
  reverseSlash(ctx, id) {
    ctx.store.set(utf8(`testpen/reversed/${id}`), Uint8Array.of(1));
    ctx.emit('testpen.reversed', () => ({ id }));
    if (id % 2n === 1n) throw TestErrors.NOT_REVERSIBLE(`slash ${id} is final`);
  },
};

export function govTestModules(staking: StakingVotes, o: { devices?: boolean; penalties?: boolean } = {}): Module[] {
  const params = new Map<string, ParamsDef<unknown>>();
  const deps: GovDeps = {
    params,
    staking,
    ...(o.devices === false ? {} : { devices: fakeDevices }),
    ...(o.penalties === false ? {} : { penalties: fakePenalties }),
  };
  const modules = [consensusModule, authModule, bankModule({ validators: validatorLookup }), govModule(deps), epochsModule({ onEpochEnd: [] })] as Module[];
  for (const m of modules) if (m.params) params.set(m.name, m.params as ParamsDef<unknown>);
  return modules;
}

export interface GovChainOpts {
  balances: Array<[Ed25519Key | Bytes, bigint]>;
  gov?: Record<string, unknown>;
  devices?: boolean;
  penalties?: boolean;
}

export async function govChain(o: GovChainOpts) {
  const dir = tempDir();
  const db = new Database(dir.path, { noSync: true });
  const staking = new FakeStaking();
  const modules = govTestModules(staking, o);
  const app = new App(new StateStore(db), modules);
  await app.initChain(parseGenesis(testGenesis({ validator, balances: o.balances, app: { gov: { params: { votingPeriod: '3', ...o.gov } } } }), modules));
  let time = 1_767_225_600_000n;
  const seq = new Map<string, bigint>();
  const c = {
    app,
    modules,
    staking,
    tx(from: Ed25519Key, msgs: DecodedMsg[], fee = FEE): Bytes {
      const k = toHex(from.address);
      const s = seq.get(k) ?? 0n;
      seq.set(k, s + 1n);
      return buildTx(app, from, { chainId: 'test-chain', sequence: s, fee, msgs });
    },
    /** Forgets a sequence taken by a tx that was never included. */
    unuse(from: Ed25519Key): void {
      const k = toHex(from.address);
      seq.set(k, (seq.get(k) ?? 1n) - 1n);
    },
    submit(from: Ed25519Key, content: ProposalContent, deposit = 100n * GW, title = 'a proposal'): Bytes {
      return c.tx(from, [{ type: 'gov/submit', value: { title, description: 'why', content, deposit } }]);
    },
    vote(from: Ed25519Key, id: bigint, option: VoteOption): Bytes {
      return c.tx(from, [{ type: 'gov/vote', value: { id, option } }]);
    },
    async block(txs: Bytes[] = []): Promise<BlockResult> {
      time += 1000n;
      const r = app.finalizeBlock({ chainId: 'test-chain', height: BigInt(app.height + 1), time, proposer: validator.publicKey }, txs.map((bytes) => ({ bytes })));
      await app.commit();
      app.resetCheckState();
      return r;
    },
    /** Runs empty blocks through `height` (inclusive); returns all their end events. */
    async until(height: number): Promise<Event[]> {
      const ev: Event[] = [];
      while (app.height < height) ev.push(...(await c.block()).endEvents);
      return ev;
    },
    /** Paramsbytes: a module's current params with `patch` applied, encoded. */
    paramsBytes(module: string, patch: Record<string, unknown>): Bytes {
      const m = modules.find((x) => x.name === module);
      if (!m?.params) throw new TypeError(`no params for ${module}`);
      const cur = getParams(app.state, module, m.params) as Record<string, unknown>;
      return encode(m.params.codec, { ...cur, ...patch });
    },
    query(name: string, args: Record<string, string> = {}): unknown {
      const q = modules.find((m) => m.name === 'gov')?.queries?.[name];
      if (!q) throw new TypeError(`no query ${name}`);
      return q(app.state, args);
    },
    async close() {
      await db.close();
      dir.cleanup();
    },
  };
  return c;
}

/** The proposal id from a block's gov.submit event. */
export function submittedId(r: BlockResult, i = 0): bigint {
  const e = r.txResults[i]?.events.find((x) => x.type === 'gov.submit');
  const id = e ? attr(e, 'id') : undefined;
  if (id === undefined) throw new TypeError(`tx ${i} submitted no proposal: ${r.txResults[i]?.error} ${r.txResults[i]?.log}`);
  return BigInt(id);
}
