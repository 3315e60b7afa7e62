/**
 * The provider agent, wired: config → client, operator key, pricing, state store (locked to
 * this process), metrics endpoint, block watcher, agent, and — when provider.json has a
 * `storage` section — the shard store (locked too) and its HTTP service, with a periodic
 * garbage collection of shards whose leases all ended. `groundwork provider start` calls
 * runProvider and stops it on SIGINT/SIGTERM.
 */
import { createLogger, type Logger } from '../core/log.js';
import type { Signer } from '../core/keys.js';
import type { Client } from '../client/client.js';
import { ProviderAgent } from './agent.js';
import { clientMarketChain, type MarketChain } from './chain.js';
import type { ProviderConfig } from './config.js';
import { metricsServer, providerMetrics, storageMetrics, type ProviderMetrics } from './metrics.js';
import { parseListen, type StorageConfig } from './config.js';
import { ShardStore } from './storage/store.js';
import { StorageProver } from './prover.js';
import { getStorageChallenges } from '../client/actions/getStorageChallenges.js';
import { getRetrievalChecks } from '../client/actions/getRetrievalChecks.js';
import { storageChainOf, storageService, type StorageService } from './storage/service.js';
import { createPricing } from './pricing.js';
import { fileStateStore, lockStateDir } from './state.js';
import { blockWatcher } from './watcher.js';

export { ProviderAgent } from './agent.js';
export { loadConfig, validateConfig, defaultConfigJSON, configFieldsMarkdown, CONFIG_FIELDS, CONFIG_FILE, ProviderConfigError, type ProviderConfig } from './config.js';
export { reconcile, type ChainSnapshot, type ReconcileAction } from './reconcile.js';
export type { ProviderView, LeaseView, OrderView, BidView } from './views.js';
export { ShardStore, ShardStoreError, ShardUpload, type ShardMeta, type GcResult } from './storage/store.js';
export { storageService, storageChainOf, type StorageChain, type StorageLease, type StorageService, type StorageServiceOptions } from './storage/service.js';

export interface RunningProvider {
  agent: ProviderAgent;
  metrics: ProviderMetrics;
  /** URL of the metrics endpoint, when one is configured. */
  metricsUrl: string | undefined;
  chain: MarketChain;
  /** URL of the storage service and its store, when `storage` is configured. */
  storageUrl: string | undefined;
  store: ShardStore | undefined;
  /** Runs one storage garbage collection now (no-op without storage, or before the first reconciliation). */
  collectGarbage(): Promise<void>;
  stop(): Promise<void>;
}

/** How often the store is garbage-collected: a fraction of the grace period, from 1 s to 10 min. */
function gcEveryMs(c: StorageConfig): number {
  return Math.min(600_000, Math.max(1_000, Math.floor(c.gcGraceMs / 4)));
}

export async function runProvider(config: ProviderConfig, deps: { client: Client; signer: Signer; log?: Logger }): Promise<RunningProvider> {
  const log = deps.log ?? createLogger({ level: config.logLevel, json: config.jsonLogs });
  const unlock = lockStateDir(config.stateDir);
  const metrics = providerMetrics();
  const chain = clientMarketChain(deps.client, deps.signer);
  const pricing = createPricing(config.pricing);
  const agent = new ProviderAgent(
    {
      desired: { hostUri: config.hostUri, attributes: config.attributes },
      kinds: config.kinds,
      denoms: config.denoms,
      devices: config.devices,
      withdrawEveryBlocks: config.withdrawEveryBlocks,
      reconcileEveryBlocks: config.reconcileEveryBlocks,
    },
    {
      chain,
      pricing,
      store: fileStateStore(config.stateDir),
      log,
      metrics,
      watcher: (h) => blockWatcher({ url: config.node, log, onBlock: h.onBlock, onReconnect: h.onReconnect }),
    },
  );
  let server: ReturnType<typeof metricsServer> | undefined;
  let metricsUrl: string | undefined;
  let storage: { store: ShardStore; service: StorageService; url: string; unlock: () => void; prover: StorageProver } | undefined;
  let gcTimer: NodeJS.Timeout | undefined;
  let gcRunning: Promise<void> | undefined;
  const sm = config.storage ? storageMetrics(metrics.registry) : undefined;

  /** GC against the agent's active leases; only once it has reconciled (before, it knows none). */
  const collectGarbage = async (): Promise<void> => {
    const c = config.storage;
    if (!storage || !c) return;
    const st = agent.status();
    if (st.lastReconcileHeight === '0') return;
    const active = new Set(Object.keys(st.leases));
    try {
      const r = await storage.store.gc({ isActive: (l) => active.has(l), graceMs: c.gcGraceMs });
      for (const root of r.deleted) log.info('shard-deleted', { root, reason: 'NO_ACTIVE_LEASE' });
      if (r.deleted.length > 0) {
        sm?.gcDeleted.inc({}, BigInt(r.deleted.length));
        sm?.usedBytes.set(BigInt(storage.store.usedBytes));
        sm?.shards.set(BigInt(storage.store.shardCount));
      }
    } catch (e) {
      metrics.errors.inc({ kind: 'storage-gc' });
      log.warn('storage-gc-failed', { error: e instanceof Error ? e.message : String(e) });
    }
  };

  const stopStorage = async () => {
    clearInterval(gcTimer);
    await gcRunning;
    if (!storage) return;
    await storage.prover.stop();
    await storage.service.stop();
    storage.unlock();
  };

  try {
    if (config.metricsListen) {
      const { host, port } = parseListen(config.metricsListen);
      server = metricsServer({ host, port, registry: metrics.registry, log, status: () => agent.status() });
      metricsUrl = await server.start();
    }
    if (config.storage) {
      const c = config.storage;
      const unlockStore = c.dir === config.stateDir ? () => {} : lockStateDir(c.dir);
      try {
        const store = await ShardStore.open({ dir: c.dir, capacityBytes: c.capacityBytes });
        for (const p of store.problems) log.warn('storage-shard-skipped', { path: p.path, reason: p.reason });
        const { host, port } = parseListen(c.listen, 'storage.listen');
        const service = storageService({ store, chain: storageChainOf(chain), operator: deps.signer, host, port, log, ...(sm ? { metrics: sm } : {}) });
        const prover = new StorageProver({
          address: chain.address,
          store,
          log,
          pollMs: c.proverPollMs,
          chain: {
            chainId: () => chain.chainId(),
            challenges: (provider) => getStorageChallenges(deps.client, { provider }),
            retrievals: (checker) => getRetrievalChecks(deps.client, { checker }),
            hostOf: async (provider) => (await chain.provider(provider))?.hostUri ?? null,
            send: (msgs) => agent.exclusive(() => chain.send(msgs)),
          },
          onProved: (_period, n) => sm?.proofs.inc({}, BigInt(n)),
        });
        storage = { store, service, url: await service.start(), unlock: unlockStore, prover };
      } catch (e) {
        unlockStore();
        throw e;
      }
      gcTimer = setInterval(() => {
        if (gcRunning) return;
        gcRunning = collectGarbage().finally(() => (gcRunning = undefined));
      }, gcEveryMs(c));
      gcTimer.unref();
    }
    log.info('provider-agent-starting', {
      address: chain.address,
      node: config.node,
      strategy: pricing.name,
      metrics: metricsUrl ?? 'off',
      storage: storage ? `${storage.url} (${storage.store.shardCount} shards, ${storage.store.usedBytes}/${storage.store.capacityBytes} bytes, dir ${config.storage?.dir})` : 'off',
      stateDir: config.stateDir,
    });
    await agent.start();
    storage?.prover.start();
  } catch (e) {
    await stopStorage();
    await server?.stop();
    unlock();
    throw e;
  }
  log.info('provider-agent-running', { address: chain.address, metrics: metricsUrl ?? 'off', storage: storage?.url ?? 'off' });
  return {
    agent,
    metrics,
    metricsUrl,
    chain,
    storageUrl: storage?.url,
    store: storage?.store,
    collectGarbage,
    async stop() {
      await stopStorage();
      await agent.stop();
      await server?.stop();
      unlock();
      log.info('provider-agent-stopped', { address: chain.address });
    },
  };
}
