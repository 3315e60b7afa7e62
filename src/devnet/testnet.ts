/**
 * Homes for validators that run under CometBFT. A validator home is a normal Groundwork home
 * (genesis.json, config.json, data/) plus `cometbft/` (CometBFT's home: config.toml, its
 * genesis.json with the Groundwork genesis as app_state, keys). `createTestnet` writes N of them
 * for one loopback network, each with its own ports.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { toHex } from '../core/bytes.js';
import { GroundworkError } from '../core/errors.js';
import { addressFromPublicKey, encodeAddress } from '../core/keys.js';
import { parseGenesis } from '../chain/genesis.js';
import { standardModules } from '../chain/index.js';
import { genesisOperatorCodec, genesisValidators, stakingParams } from '../chain/modules/staking/index.js';
import { validatorSetCodec } from '../chain/validators.js';
import { Keyring } from '../client/keyring.js';
import { DEFAULT_CONFIG, writeConfig, type NodeConfig } from '../node/home.js';
import { cometbftBinary } from '../node/cometbft/binary.js';
import { NODE_FLAGS } from '../core/nodeflags.js';

export interface ValidatorPorts {
  readonly p2p: number;
  readonly rpc: number;
  readonly abci: number;
  readonly api: number;
}

export interface TestnetValidator {
  readonly name: string;
  readonly home: string;
  readonly nodeId: string;
  readonly ports: ValidatorPorts;
  readonly address: string;
}

export interface TestnetInfo {
  readonly chainId: string;
  readonly dir: string;
  readonly faucetAddress: string;
  readonly validators: TestnetValidator[];
}

export interface TestnetOptions {
  dir: string;
  validators: number;
  chainId?: string;
  /** First port; validator i uses basePort + 10 i + {0: p2p, 1: rpc, 2: abci, 3: api}. */
  basePort?: number;
  /** CometBFT's timeout_commit (time between blocks), e.g. "1s". */
  timeoutCommit?: string;
  faucetAmount?: bigint;
  extraBalances?: ReadonlyArray<readonly [string, bigint]>;
  /** Each validator's genesis self-bond in ugw (default DEFAULT_TESTNET_SELF_BOND). */
  selfBond?: bigint;
}

/** 1,000,000 GW per validator: voting power 1,000,000 each. */
export const DEFAULT_TESTNET_SELF_BOND = 1_000_000n * 1_000_000n;

/** Sets `key = value` in `section` ('' for the top level) of a TOML text with one key per line. */
export function setToml(text: string, section: string, key: string, value: string | number | boolean): string {
  const lines = text.split('\n');
  let inSection = section === '';
  const rendered = typeof value === 'string' ? JSON.stringify(value) : String(value);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const header = /^\[([^\]]+)\]\s*$/.exec(line);
    if (header) {
      if (inSection) break;
      inSection = header[1] === section;
      continue;
    }
    if (inSection && new RegExp(`^${key}\\s*=`).test(line)) {
      lines[i] = `${key} = ${rendered}`;
      return lines.join('\n');
    }
  }
  throw new GroundworkError('COMETBFT_CONFIG', `config.toml has no "${key}" in [${section || 'top level'}]`);
}

/** Runs the pinned CometBFT binary to completion and returns its output. */
export function cometbft(args: string[]): string {
  const r = spawnSync(cometbftBinary(), args, { encoding: 'utf8' });
  if (r.status !== 0) throw new GroundworkError('COMETBFT_FAILED', `cometbft ${args.join(' ')} failed: ${r.stderr || r.stdout}`);
  return r.stdout.trim();
}

export function testnetInfoPath(dir: string): string {
  return join(dir, 'testnet.json');
}

export function readTestnet(dir: string): TestnetInfo {
  try {
    return JSON.parse(readFileSync(testnetInfoPath(dir), 'utf8')) as TestnetInfo;
  } catch {
    throw new GroundworkError('TESTNET_NOT_FOUND', `no testnet in ${dir}; create one with "groundwork testnet start --dir ${dir}"`);
  }
}

export interface CometSettings {
  readonly moniker: string;
  readonly ports: ValidatorPorts;
  /** Comma-separated `<node id>@<host>:<port>`. */
  readonly peers: string;
  /** Where p2p listens (default 127.0.0.1); RPC always listens on loopback. */
  readonly p2pHost?: string;
  /** Time between blocks (CometBFT's timeout_commit), default "1s". */
  readonly timeoutCommit?: string;
}

/** Edits `<cometHome>/config/config.toml` for a Groundwork node: ports, peers, limits. */
export function configureComet(cometHome: string, c: CometSettings): void {
  const file = join(cometHome, 'config', 'config.toml');
  let t = readFileSync(file, 'utf8');
  t = setToml(t, '', 'moniker', c.moniker);
  t = setToml(t, '', 'proxy_app', `tcp://127.0.0.1:${c.ports.abci}`);
  t = setToml(t, 'rpc', 'laddr', `tcp://127.0.0.1:${c.ports.rpc}`);
  // Clients submit txs in JSON-RPC batches (CometBFT's default allows 10 per batch).
  t = setToml(t, 'rpc', 'max_request_batch_size', 1000);
  t = setToml(t, 'rpc', 'max_body_bytes', 8_000_000);
  // Diagnostics: GROUNDWORK_PPROF=1 opens CometBFT's Go profiler on RPC port + 5.
  if (process.env.GROUNDWORK_PPROF) t = setToml(t, 'rpc', 'pprof_laddr', `127.0.0.1:${c.ports.rpc + 5}`);
  t = setToml(t, 'p2p', 'laddr', `tcp://${c.p2pHost ?? '127.0.0.1'}:${c.ports.p2p}`);
  t = setToml(t, 'p2p', 'persistent_peers', c.peers);
  // Several nodes on one host (a loopback network, or a node joining one) must be allowed.
  t = setToml(t, 'p2p', 'addr_book_strict', false);
  t = setToml(t, 'p2p', 'allow_duplicate_ip', true);
  t = setToml(t, 'consensus', 'timeout_commit', c.timeoutCommit ?? '1s');
  t = setToml(t, 'instrumentation', 'prometheus_listen_addr', '');
  // A tx arrives from every peer; a seen-tx cache smaller than the txs in flight lets the
  // duplicates through to CheckTx again.
  t = setToml(t, 'mempool', 'size', 50_000);
  t = setToml(t, 'mempool', 'cache_size', 200_000);
  writeFileSync(file, t);
}

/** Writes the homes of a new N-validator loopback network under `dir`. */
export function createTestnet(o: TestnetOptions): TestnetInfo {
  if (!Number.isInteger(o.validators) || o.validators < 1 || o.validators > 50) throw new GroundworkError('INVALID_ARGUMENT', '--validators must be between 1 and 50');
  const chainId = o.chainId ?? 'groundwork-testnet';
  const base = o.basePort ?? 26600;
  mkdirSync(o.dir, { recursive: true });
  const nodes: Array<TestnetValidator & { pubKey: Uint8Array; cometHome: string }> = [];
  for (let i = 0; i < o.validators; i++) {
    const home = join(o.dir, `node${i}`);
    const cometHome = join(home, 'cometbft');
    cometbft(['init', '--home', cometHome]);
    const key = JSON.parse(readFileSync(join(cometHome, 'config', 'priv_validator_key.json'), 'utf8')) as { pub_key: { value: string } };
    const pubKey = new Uint8Array(Buffer.from(key.pub_key.value, 'base64'));
    const nodeId = cometbft(['show-node-id', '--home', cometHome]);
    const ports = { p2p: base + 10 * i, rpc: base + 10 * i + 1, abci: base + 10 * i + 2, api: base + 10 * i + 3 };
    nodes.push({ name: `validator-${i}`, home, cometHome, nodeId, ports, pubKey, address: encodeAddress(addressFromPublicKey(pubKey)) });
  }

  // One faucet for the whole network, in a test keyring beside the nodes.
  const faucet = new Keyring(join(o.dir, 'keyring')).add('faucet', { backend: 'test', overwrite: true });
  const balances: Array<{ address: string; amount: string }> = [{ address: faucet.info.address, amount: String(o.faucetAmount ?? 1_000_000_000n * 1_000_000n) }];
  for (const [address, amount] of o.extraBalances ?? []) balances.push({ address, amount: String(amount) });
  // Each validator is a staking operator whose account is its consensus key's address (the
  // priv_validator_key.json key signs its txs too); its genesis balance is its self-bond, which
  // staking's genesis moves into the bonded pool. Equal bonds: N equal validators.
  const selfBond = o.selfBond ?? DEFAULT_TESTNET_SELF_BOND;
  const operators = nodes.map((n) => ({ address: addressFromPublicKey(n.pubKey), pubKey: n.pubKey, moniker: n.name, selfBond }));
  for (const n of nodes) balances.push({ address: n.address, amount: String(selfBond) });
  const validators = genesisValidators(operators);
  if (validators.length !== nodes.length) throw new GroundworkError('INVALID_ARGUMENT', `--self-bond must be at least staking.minValidatorBond (${stakingParams.defaults.minValidatorBond} ugw)`);
  const genesisTime = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const genesis = {
    chainId,
    genesisTime,
    validators: validatorSetCodec.toJSON(validators),
    app: { bank: { balances }, staking: { operators: operators.map((x) => genesisOperatorCodec.toJSON(x)) } },
  };
  parseGenesis(genesis, standardModules());
  const cometGenesis = JSON.parse(readFileSync(join((nodes[0] as { cometHome: string }).cometHome, 'config', 'genesis.json'), 'utf8')) as Record<string, unknown>;
  cometGenesis.chain_id = chainId;
  cometGenesis.genesis_time = genesisTime;
  cometGenesis.validators = validators.map((v) => ({
    address: toHex(addressFromPublicKey(v.pubKey)).toUpperCase(),
    pub_key: { type: 'tendermint/PubKeyEd25519', value: Buffer.from(v.pubKey).toString('base64') },
    power: v.power.toString(),
    name: v.name,
  }));
  cometGenesis.app_state = genesis;

  for (const n of nodes) {
    writeFileSync(join(n.home, 'genesis.json'), `${JSON.stringify(genesis, null, 2)}\n`);
    writeFileSync(join(n.cometHome, 'config', 'genesis.json'), `${JSON.stringify(cometGenesis, null, 2)}\n`);
    const config: NodeConfig = { ...DEFAULT_CONFIG, api: { host: '127.0.0.1', port: n.ports.api }, abci: { port: n.ports.abci } };
    writeConfig(n.home, config);
    const peers = nodes
      .filter((p) => p !== n)
      .map((p) => `${p.nodeId}@127.0.0.1:${p.ports.p2p}`)
      .join(',');
    configureComet(n.cometHome, { moniker: n.name, ports: n.ports, peers, ...(o.timeoutCommit ? { timeoutCommit: o.timeoutCommit } : {}) });
  }
  const info: TestnetInfo = {
    chainId,
    dir: o.dir,
    faucetAddress: faucet.info.address,
    validators: nodes.map(({ name, home, nodeId, ports, address }) => ({ name, home, nodeId, ports, address })),
  };
  writeFileSync(testnetInfoPath(o.dir), `${JSON.stringify(info, null, 2)}\n`);
  return info;
}

// ---- running a testnet: one detached `groundwork node start --cometbft` per validator --------

const BIN = fileURLToPath(new URL('../../../bin/groundwork.js', import.meta.url));

interface Pids {
  [name: string]: number;
}

function pidsPath(dir: string): string {
  return join(dir, 'pids.json');
}

function readPids(dir: string): Pids {
  return existsSync(pidsPath(dir)) ? (JSON.parse(readFileSync(pidsPath(dir), 'utf8')) as Pids) : {};
}

export function isAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts validator `v` as a detached process logging to <home>/app.log; false when it was
 * running already.
 */
export function startValidator(info: TestnetInfo, v: TestnetValidator): boolean {
  const pids = readPids(info.dir);
  const running = pids[v.name];
  if (running !== undefined && isAlive(running)) return false;
  const log = openSync(join(v.home, 'app.log'), 'a');
  // GROUNDWORK_NODE_FLAGS: extra Node.js flags for the validator processes (e.g. --cpu-prof).
  const flags = process.env.GROUNDWORK_NODE_FLAGS ? process.env.GROUNDWORK_NODE_FLAGS.split(' ').filter(Boolean) : [];
  const child = spawn(process.execPath, [...NODE_FLAGS, ...flags, BIN, '--home', v.home, 'node', 'start', '--cometbft'], { detached: true, stdio: ['ignore', log, log] });
  closeSync(log);
  child.unref();
  pids[v.name] = child.pid as number;
  writeFileSync(pidsPath(info.dir), `${JSON.stringify(pids, null, 2)}\n`);
  return true;
}

export interface NodeStatus {
  readonly name: string;
  readonly pid: number | undefined;
  readonly running: boolean;
  readonly rpc: string;
  readonly height: number | undefined;
  readonly appHash: string | undefined;
  readonly peers: number | undefined;
  readonly catchingUp: boolean | undefined;
}

async function rpcGet<T>(url: string): Promise<T | undefined> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
    const j = (await r.json()) as { result?: T };
    return j.result;
  } catch {
    return undefined;
  }
}

export async function testnetStatus(info: TestnetInfo): Promise<NodeStatus[]> {
  const pids = readPids(info.dir);
  return Promise.all(
    info.validators.map(async (v) => {
      const rpc = `http://127.0.0.1:${v.ports.rpc}`;
      const st = await rpcGet<{ sync_info: { latest_block_height: string; latest_app_hash: string; catching_up: boolean } }>(`${rpc}/status`);
      const net = await rpcGet<{ n_peers: string }>(`${rpc}/net_info`);
      const pid = pids[v.name];
      return {
        name: v.name,
        pid,
        running: isAlive(pid),
        rpc,
        height: st ? Number(st.sync_info.latest_block_height) : undefined,
        appHash: st?.sync_info.latest_app_hash,
        peers: net ? Number(net.n_peers) : undefined,
        catchingUp: st?.sync_info.catching_up,
      };
    }),
  );
}

/** Waits until every validator answers and has committed at least `height`. */
export async function waitForHeight(info: TestnetInfo, height: number, timeoutMs = 60_000): Promise<NodeStatus[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await testnetStatus(info);
    if (s.every((n) => (n.height ?? -1) >= height)) return s;
    if (Date.now() > deadline) {
      const late = s.filter((n) => (n.height ?? -1) < height).map((n) => `${n.name} (${n.running ? `height ${n.height ?? 'unknown'}` : 'not running'}; see ${join(info.dir, n.name.replace('validator-', 'node'), 'app.log')} and cometbft.log)`);
      throw new GroundworkError('TESTNET_STALLED', `not every validator reached height ${height}: ${late.join(', ')}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Stops validator `name` (SIGTERM, then SIGKILL after `graceMs`). */
export async function stopValidator(info: TestnetInfo, name: string, graceMs = 15_000): Promise<boolean> {
  const pids = readPids(info.dir);
  const pid = pids[name];
  if (!isAlive(pid)) return false;
  process.kill(pid as number, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (isAlive(pid)) process.kill(pid as number, 'SIGKILL');
  delete pids[name];
  writeFileSync(pidsPath(info.dir), `${JSON.stringify(pids, null, 2)}\n`);
  return true;
}

export async function stopTestnet(info: TestnetInfo): Promise<number> {
  const stopped = await Promise.all(info.validators.map((v) => stopValidator(info, v.name)));
  return stopped.filter(Boolean).length;
}
