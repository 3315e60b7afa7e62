/**
 * Wires a runnable node from a home directory: the embedded node, its API server, and graceful
 * shutdown on SIGINT/SIGTERM (stop taking requests, let the block in flight commit, close the
 * database).
 */
import type { FastifyInstance } from 'fastify';
import { GroundworkError } from '../core/errors.js';
import { createLogger, type Logger, type LogLevel } from '../core/log.js';
import { createApiServer } from '../api/server.js';
import { embeddedBackend } from '../api/embedded.js';
import { loadConfig, loadGenesis, loadValidatorKey, type NodeConfig } from '../node/home.js';
import { EmbeddedNode } from '../node/node.js';
import { startCometbftNode } from '../node/cometbft/run.js';

export interface RunningNode {
  readonly node: EmbeddedNode;
  readonly api: FastifyInstance;
  readonly url: string;
  readonly config: NodeConfig;
  readonly logger: Logger;
  stop(): Promise<void>;
}

export interface RunOptions {
  home: string;
  /** Overrides of config.json. */
  blockIntervalMs?: number;
  apiHost?: string;
  apiPort?: number;
  logLevel?: LogLevel;
  logJson?: boolean;
}

export async function runNode(o: RunOptions): Promise<RunningNode> {
  const file = loadConfig(o.home);
  const config: NodeConfig = {
    ...file,
    blockIntervalMs: o.blockIntervalMs ?? file.blockIntervalMs,
    api: { host: o.apiHost ?? file.api.host, port: o.apiPort ?? file.api.port },
    log: { level: o.logLevel ?? file.log.level, json: o.logJson ?? file.log.json },
  };
  const logger = createLogger({ level: config.log.level as LogLevel, json: config.log.json });
  const genesis = loadGenesis(o.home);
  const node = await EmbeddedNode.open({ home: o.home, config, genesis, validatorKey: loadValidatorKey(o.home), logger });
  let api: FastifyInstance;
  try {
    api = await createApiServer(embeddedBackend(node), { logger });
    await api.listen({ host: config.api.host, port: config.api.port });
  } catch (e) {
    await node.stop();
    const code = (e as { code?: string }).code;
    if (code === 'EADDRINUSE') {
      throw new GroundworkError('PORT_IN_USE', `API port ${config.api.port} is already in use (another node running?); pass --api-port or stop the other process`);
    }
    throw e;
  }
  const addr = api.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.api.port;
  const host = config.api.host === '0.0.0.0' || config.api.host === '::' ? '127.0.0.1' : config.api.host;
  const url = `http://${host}:${port}`;
  node.start();
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await api.close();
      await node.stop();
    })();
    return stopping;
  };
  node.on('fatal', () => void stop().finally(() => process.exit(1)));
  logger.info('node running', { chainId: node.chainId, height: node.height, api: url });
  return { node, api, url, config, logger, stop };
}

/**
 * Stops the node on SIGINT/SIGTERM, after `before` (e.g. the devnet's provider agents); a second
 * signal exits at once.
 */
export function stopOnSignals(r: RunningNode, before?: () => Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    let count = 0;
    const handler = (sig: NodeJS.Signals) => {
      if (++count > 1) process.exit(130);
      r.logger.info('shutting down', { signal: sig });
      const first = before ? before().catch((e: unknown) => r.logger.error('shutdown step failed', { error: e instanceof Error ? e.message : String(e) })) : Promise.resolve();
      void first.then(() => r.stop()).then(resolve, (e: unknown) => {
        r.logger.error('shutdown failed', { error: e instanceof Error ? e.message : String(e) });
        process.exit(1);
      });
    };
    process.on('SIGINT', handler);
    process.on('SIGTERM', handler);
  });
}

/**
 * Runs this home's validator under CometBFT until SIGINT/SIGTERM (stops both processes) or
 * until CometBFT exits (then exits non-zero, so a supervisor restarts the pair).
 */
export async function runCometbftValidator(o: { home: string; logLevel?: LogLevel; logJson?: boolean; abciPort?: number }): Promise<number> {
  const file = loadConfig(o.home);
  const config: NodeConfig = { ...file, abci: { port: o.abciPort ?? file.abci.port }, log: { level: o.logLevel ?? file.log.level, json: o.logJson ?? file.log.json } };
  const logger = createLogger({ level: config.log.level as LogLevel, json: config.log.json });
  const v = await startCometbftNode({ home: o.home, config, logger });
  let requested = false;
  const handler = (sig: NodeJS.Signals) => {
    if (requested) process.exit(130);
    requested = true;
    logger.info('shutting down', { signal: sig });
    void v.stop();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  await v.done;
  return requested ? 0 : 1;
}
