/**
 * The standard Groundwork state machine: the modules in their execution order.
 */
import type { StateStore } from '../state/store.js';
import { App } from './app.js';
import type { Module } from './module.js';
import type { MsgRegistry, MsgType } from './tx.js';
import { authModule } from './modules/auth/index.js';
import { bankModule } from './modules/bank/index.js';
import { consensusModule } from './modules/consensus/index.js';
import { validatorLookup } from './validators.js';

export function standardModules(): Module[] {
  return [consensusModule, authModule, bankModule({ validators: validatorLookup })] as Module[];
}

export function createApp(store: StateStore): App {
  return new App(store, standardModules());
}

/** The message types of the standard modules, for building and decoding txs outside an App. */
export function standardRegistry(): MsgRegistry {
  const types = new Map<string, MsgType>();
  for (const m of standardModules()) for (const h of m.msgs ?? []) types.set(h.type, h);
  return { msgType: (t) => types.get(t) };
}
