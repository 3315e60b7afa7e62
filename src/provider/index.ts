/**
 * The provider agent, wired: config → client, operator key, pricing, state store (locked to
 * this process), metrics endpoint, block watcher, agent. `groundwork provider start` calls
 * runProvider and stops it on SIGINT/SIGTERM.
 */
import { createLogger, type Logger } from '../core/log.js';
import type { Signer } from '../core/keys.js';
import type { Client } from '../client/client.js';
import { ProviderAgent } from './agent.js';
import { clientMarketChain, type MarketChain } from './chain.js';
import type { ProviderConfig } from './config.js';
import { metricsServer, providerMetrics, type ProviderMetrics } from './metrics.js';
import { parseListen } from './config.js';
import { createPricing } from './pricing.js';
import { fileStateStore, lockStateDir } from './state.js';
import { blockWatcher } from './watcher.js';

export { ProviderAgent } from './agent.js';
export { loadConfig, validateConfig, defaultConfigJSON, configFieldsMarkdown, CONFIG_FIELDS, CONFIG_FILE, ProviderConfigError, type ProviderConfig } from './config.js';
export { reconcile, type ChainSnapshot, type ReconcileAction } from './reconcile.js';
export type { ProviderView, LeaseView, OrderView, BidView } from './views.js';

export interface RunningProvider {
  agent: ProviderAgent;
  metrics: ProviderMetrics;
  /** URL of the metrics endpoint, when one is configured. */
  metricsUrl: string | undefined;
  chain: MarketChain;
  stop(): Promise<void>;
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
  try {
    if (config.metricsListen) {
      const { host, port } = parseListen(config.metricsListen);
      server = metricsServer({ host, port, registry: metrics.registry, log, status: () => agent.status() });
      metricsUrl = await server.start();
    }
    log.info('provider-agent-starting', { address: chain.address, node: config.node, strategy: pricing.name, metrics: metricsUrl ?? 'off', stateDir: config.stateDir });
    await agent.start();
  } catch (e) {
    await server?.stop();
    unlock();
    throw e;
  }
  log.info('provider-agent-running', { address: chain.address, metrics: metricsUrl ?? 'off' });
  return {
    agent,
    metrics,
    metricsUrl,
    chain,
    async stop() {
      await agent.stop();
      await server?.stop();
      unlock();
      log.info('provider-agent-stopped', { address: chain.address });
    },
  };
}
