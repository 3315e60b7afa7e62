/**
 * Joining a running CometBFT network from another machine: `groundwork node join --from <rpc>`
 * asks any node's CometBFT RPC for the network's genesis and its own p2p address, and writes a
 * home that `groundwork node start --cometbft` runs (Groundwork genesis and config, a fresh
 * CometBFT home with the network's genesis, that node as a persistent peer). The new node
 * follows the chain as a full node and verifies every block itself; it signs blocks once the
 * validator set includes its key.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GroundworkError, InvalidInputError } from '../core/errors.js';
import { parseGenesis } from '../chain/genesis.js';
import { standardModules } from '../chain/index.js';
import { DEFAULT_CONFIG, writeConfig } from '../node/home.js';
import { cometbft, configureComet, type ValidatorPorts } from './testnet.js';

export interface JoinOptions {
  /** Home directory to create. */
  readonly home: string;
  /** CometBFT RPC of any node of the network, e.g. http://203.0.113.7:26657. */
  readonly from: string;
  /** Ports for this node (p2p, rpc, abci, api). */
  readonly ports: ValidatorPorts;
  /** Address the p2p and RPC listeners bind (default 0.0.0.0 for p2p, 127.0.0.1 for RPC). */
  readonly p2pHost?: string;
  readonly moniker?: string;
}

export interface JoinResult {
  readonly chainId: string;
  readonly nodeId: string;
  readonly peer: string;
  readonly home: string;
}

async function rpcGet<T>(base: string, path: string): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(15_000) });
  } catch (e) {
    throw new GroundworkError('NODE_UNREACHABLE', `cannot reach the CometBFT RPC at ${base} (${(e as Error).message}); check the address and that the node is running`);
  }
  const body = (await res.json().catch(() => ({}))) as { result?: T; error?: unknown };
  if (!body.result) throw new GroundworkError('NODE_UNREACHABLE', `${base}${path} did not answer like a CometBFT RPC: ${JSON.stringify(body.error ?? body).slice(0, 200)}`);
  return body.result;
}

/** The `<id>@<host>:<port>` of the node behind `rpc`, with the RPC's host if it listens on all addresses. */
function peerAddress(rpc: URL, id: string, listenAddr: string): string {
  const m = /^(?:tcp:\/\/)?([^:]*):(\d+)$/.exec(listenAddr);
  if (!m) throw new GroundworkError('NODE_UNREACHABLE', `unexpected p2p listen address "${listenAddr}" from ${rpc.origin}`);
  const host = !m[1] || m[1] === '0.0.0.0' || m[1] === '::' ? rpc.hostname : m[1];
  return `${id}@${host}:${m[2]}`;
}

export async function joinNetwork(o: JoinOptions): Promise<JoinResult> {
  let url: URL;
  try {
    url = new URL(o.from);
  } catch {
    throw new InvalidInputError('INVALID_ARGUMENT', `--from must be a CometBFT RPC URL such as http://host:26657, got "${o.from}"`);
  }
  const cometHome = join(o.home, 'cometbft');
  if (existsSync(join(o.home, 'genesis.json')) || existsSync(join(cometHome, 'config', 'genesis.json'))) {
    throw new InvalidInputError('HOME_EXISTS', `${o.home} already holds a node; join with a new --home`);
  }
  const base = url.origin;
  const { genesis } = await rpcGet<{ genesis: { chain_id: string; app_state?: unknown } }>(base, '/genesis');
  const status = await rpcGet<{ node_info: { id: string; listen_addr: string; network: string } }>(base, '/status');
  if (!genesis.app_state) throw new GroundworkError('NOT_GROUNDWORK', `the network at ${base} has no app_state in its genesis: not a Groundwork network`);
  const appGenesis = parseGenesis(genesis.app_state, standardModules());
  if (appGenesis.chainId !== genesis.chain_id) throw new GroundworkError('NOT_GROUNDWORK', `app_state is for chain "${appGenesis.chainId}" but the network is "${genesis.chain_id}"`);
  const peer = peerAddress(url, status.node_info.id, status.node_info.listen_addr);

  mkdirSync(o.home, { recursive: true });
  cometbft(['init', '--home', cometHome]);
  writeFileSync(join(cometHome, 'config', 'genesis.json'), `${JSON.stringify(genesis, null, 2)}\n`);
  writeFileSync(join(o.home, 'genesis.json'), `${JSON.stringify(genesis.app_state, null, 2)}\n`);
  writeConfig(o.home, { ...DEFAULT_CONFIG, api: { host: '127.0.0.1', port: o.ports.api }, abci: { port: o.ports.abci } });
  configureComet(cometHome, { moniker: o.moniker ?? `node-${o.ports.p2p}`, ports: o.ports, peers: peer, p2pHost: o.p2pHost ?? '0.0.0.0' });
  return { chainId: genesis.chain_id, nodeId: cometbft(['show-node-id', '--home', cometHome]), peer, home: o.home };
}
