/**
 * One validator under CometBFT, from a home directory: the Groundwork app as an ABCI server on
 * `config.abci.port`, and CometBFT (`<home>/cometbft`, its log in `<home>/cometbft.log`) as a
 * child process connected to it. If either side ends, the other is stopped too, so a
 * supervisor (or the user) restarts the pair; CometBFT's handshake then brings the app back in
 * step (it replays the blocks the app lacks).
 */
import { workerLeafHasher } from '../../core/leafworker.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { GroundworkError } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import { App } from '../../chain/app.js';
import { standardModules } from '../../chain/index.js';
import { Database } from '../../state/db.js';
import { StateStore } from '../../state/store.js';
import { homePaths, type NodeConfig } from '../home.js';
import { SignaturePool } from '../sigpool.js';
import { AbciApp } from './abci-app.js';
import { AbciServer } from './abci-server.js';
import { cometbftBinary } from './binary.js';

export interface CometbftNode {
  readonly abciPort: number;
  readonly app: App;
  /** Resolves when the pair has stopped (after stop(), or when either side ended). */
  readonly done: Promise<void>;
  stop(): Promise<void>;
}

export function cometbftHome(home: string): string {
  return join(home, 'cometbft');
}

export async function startCometbftNode(o: { home: string; config: NodeConfig; logger: Logger }): Promise<CometbftNode> {
  const cometHome = cometbftHome(o.home);
  if (!existsSync(join(cometHome, 'config', 'config.toml'))) {
    throw new GroundworkError('COMETBFT_HOME_MISSING', `${cometHome} has no CometBFT configuration; create a network with "groundwork testnet start", or set up this validator's CometBFT home (see README, "Joining a network")`);
  }
  const bin = cometbftBinary();
  const dataDir = homePaths(o.home).data;
  mkdirSync(dataDir, { recursive: true });
  const db = new Database(dataDir);
  const store = new StateStore(db, { nodeCacheSize: o.config.cache.treeNodes });
  store.warmCache();
  const app = new App(store, standardModules({ leafHasher: workerLeafHasher() }));
  app.onInternalError = (e, where) => o.logger.error('internal error in tx execution (a bug)', { where, error: e instanceof Error ? e.stack : String(e) });
  const verifier = new SignaturePool();
  const server = new AbciServer(new AbciApp({ app, store, verifier, logger: o.logger }), o.logger);
  let abciPort: number;
  try {
    abciPort = await server.listen(o.config.abci.port);
  } catch (e) {
    await verifier.close();
    await db.close();
    if ((e as { code?: string }).code === 'EADDRINUSE') throw new GroundworkError('PORT_IN_USE', `ABCI port ${o.config.abci.port} is in use (is this validator already running?)`);
    throw e;
  }
  o.logger.info('ABCI server listening', { port: abciPort, height: store.version });

  const logFile = createWriteStream(join(o.home, 'cometbft.log'), { flags: 'a' });
  const child: ChildProcess = spawn(bin, ['start', '--home', cometHome, '--proxy_app', `tcp://127.0.0.1:${abciPort}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pipe(logFile);
  child.stderr?.pipe(logFile);
  o.logger.info('CometBFT started', { pid: child.pid, home: cometHome });

  let stopping: Promise<void> | undefined;
  const shutdown = (why: string): Promise<void> => {
    stopping ??= (async () => {
      o.logger.info('stopping validator', { why });
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await new Promise<void>((r) => {
          const t = setTimeout(() => {
            child.kill('SIGKILL');
            r();
          }, 10_000);
          child.once('exit', () => {
            clearTimeout(t);
            r();
          });
        });
      }
      await server.close();
      await verifier.close();
      await db.close();
      logFile.end();
    })();
    return stopping;
  };
  const done = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      if (!stopping) o.logger.error('CometBFT exited; stopping the app too', { code, signal, log: join(o.home, 'cometbft.log') });
      void shutdown('CometBFT exited').then(resolve);
    });
  });
  return { abciPort, app, done, stop: () => shutdown('stop requested').then(() => done) };
}
