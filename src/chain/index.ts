/**
 * The standard Groundwork state machine: the modules in their execution order.
 */
import type { LeafHasher } from '../core/leafhash.js';
import type { StateStore } from '../state/store.js';
import { App } from './app.js';
import type { Module, ParamsDef } from './module.js';
import type { MsgRegistry, MsgType } from './tx.js';
import { authModule } from './modules/auth/index.js';
import { bankModule } from './modules/bank/index.js';
import { consensusModule } from './modules/consensus/index.js';
import { creditsModule } from './modules/credits/index.js';
import { burnEscrowedCredits, escrowCredits, releaseCredits, spendCredits } from './modules/credits/keeper.js';
import { devicesModule } from './modules/devices/index.js';
import { epochsModule } from './modules/epochs/index.js';
import { oracleModule } from './modules/oracle/index.js';
import { rewardsModule } from './modules/rewards/index.js';
import { stakingModule } from './modules/staking/index.js';
import { getOperator, isJailed, iterateDelegations, totalBonded, votingPowerOf } from './modules/staking/keeper.js';
import { approveMaker, devicesOf, getDevice, revokeMaker } from './modules/devices/keeper.js';
import { marketModule } from './modules/market/index.js';
import type { MarketDeps } from './modules/market/expected.js';
import { transfer, transferMany } from './modules/bank/keeper.js';
import { govModule } from './modules/gov/index.js';
import { penaltiesModule, refreshDevice, reportFault, reverseSlash } from './modules/penalties/index.js';
import { payWithTake, payWithTakeMany, recordContribution } from './modules/rewards/keeper.js';
import { testverticalModule, testverticalVerifiers } from './modules/testvertical/index.js';
import { storageModule } from './modules/storage/index.js';
import type { StorageDeps } from './modules/storage/expected.js';
import { closeLeaseFor, forfeitLease, gateLease, getLease, getOrder, releaseLease } from './modules/market/keeper.js';
import { punishFraud } from './modules/penalties/keeper.js';
import { ChainError } from '../core/errors.js';
import { validatorLookup } from './validators.js';

/**
 * Execution order matters for begin/end blocks and genesis: bank first (others move tokens at
 * genesis), epochs last (an epoch's last block runs entirely inside it before it closes).
 */
/** What the market module gets from the others (also used by the market benchmark). */
export const marketDeps: MarketDeps = {
  devices: { get: getDevice, of: (s, owner, limit) => devicesOf(s, owner, { limit }) },
  stake: {
    operator: (s, who) => {
      const o = getOperator(s, who);
      return o && { tokens: o.tokens, jailed: o.jailed };
    },
  },
  bank: { transfer, transferMany },
  credits: { escrowCredits, releaseCredits, burnEscrowedCredits },
  rewards: {
    payWithTake,
    payWithTakeMany,
    recordWork: (ctx, c) => {
      recordContribution(ctx, { statusOf: (s, id) => getDevice(s, id)?.status }, c);
    },
  },
};

/** What the storage module gets from the others. */
export const storageDeps: StorageDeps = {
  market: {
    getLease,
    getOrder,
    closeLease: (ctx, id, reason) => void closeLeaseFor(ctx, marketDeps, id, reason),
    gateLease: (ctx, id) => gateLease(ctx, marketDeps, id),
    releaseLease: (ctx, id) => releaseLease(ctx, marketDeps, id),
    forfeitLease: (ctx, id) => forfeitLease(ctx, marketDeps, id),
  },
  bank: { transfer },
  penalties: { reportFault, punishFraud },
  rewards: {
    recordWork: (ctx, c) => {
      try {
        recordContribution(ctx, { statusOf: (s, id) => getDevice(s, id)?.status }, c);
        return true;
      } catch (e) {
        // A warned-out (jailed, retired) device earns nothing; its proof still counts as kept.
        if (e instanceof ChainError && e.kind === 'DEVICE_INELIGIBLE') return false;
        throw e;
      }
    },
  },
};

export interface ModuleOptions {
  /**
   * Hashes reward-manifest leaves at an epoch close (default: on the calling thread). A node
   * passes core/leafworker's second-core hasher; the leaves, and so the state, are the same.
   */
  readonly leafHasher?: LeafHasher;
}

export function standardModules(opts: ModuleOptions = {}): Module[] {
  const rewards = rewardsModule({ stake: { iterateDelegations, isJailed }, devices: { statusOf: (s, id) => getDevice(s, id)?.status }, leafHasher: opts.leafHasher });
  // Every module's params definition, for governance's params proposals (filled below).
  const paramsDefs = new Map<string, ParamsDef<unknown>>();
  const modules = [
    consensusModule,
    authModule,
    bankModule({ validators: validatorLookup }),
    stakingModule,
    oracleModule,
    creditsModule(),
    devicesModule({ credits: { spendCredits }, stake: { stakeOf: votingPowerOf } }),
    // Verticals, then penalties (its end block burns the slashes due), before rewards and gov.
    testverticalModule({
      devices: { getDevice },
      rewards: { recordContribution: (ctx, c) => recordContribution(ctx, { statusOf: (s, id) => getDevice(s, id)?.status }, c) },
      penalties: { reportFault, refreshDevice },
    }),
    marketModule(marketDeps),
    storageModule(storageDeps),
    penaltiesModule({ verifiers: new Map([...testverticalVerifiers]) }),
    rewards,
    govModule({ params: paramsDefs, staking: { votingPowerOf, totalBonded }, devices: { approveMaker, revokeMaker }, penalties: { reverseSlash } }),
    epochsModule({ onEpochEnd: [rewards.onEpochEnd] }),
  ] as Module[];
  for (const m of modules) if (m.params) paramsDefs.set(m.name, m.params as ParamsDef<unknown>);
  return modules;
}

export function createApp(store: StateStore, opts: ModuleOptions = {}): App {
  return new App(store, standardModules(opts));
}

/** The message types of the standard modules, for building and decoding txs outside an App. */
export function standardRegistry(): MsgRegistry {
  const types = new Map<string, MsgType>();
  for (const m of standardModules()) for (const h of m.msgs ?? []) types.set(h.type, h);
  return { msgType: (t) => types.get(t) };
}
