/**
 * The devnet's providers: `groundwork devnet start` runs N provider agents beside the node so a
 * newcomer can post an order and watch it being bid on, leased and paid.
 *
 * Each provider has a home under the devnet home (`<home>/providers/p<i>`) holding its
 * provider.json, device key, agent state and log; its operator key is `provider-<i>` in the
 * devnet's test keyring (made with the genesis, which gives it Data Credits for the onboarding
 * fee and approves the devnet's maker). Once the node runs, setupDevnetProviders brings each
 * one on chain with real signed txs — funds from the faucet, then self-bonded stake, its device
 * onboarded (signed by the maker) and located, in one tx — skipping whatever the chain already
 * has, so a restart sends nothing. Then each agent runs as a `groundwork provider start --home
 * <p>` child process, exactly what an operator would run, and stops when the devnet stops.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { latLngToCell } from 'h3-js';
import { fromHex, toHex } from '../core/bytes.js';
import { GroundworkError } from '../core/errors.js';
import { sha256 } from '../core/hash.js';
import { decodeAddress, Ed25519Key } from '../core/keys.js';
import type { Logger } from '../core/log.js';
import { freePort, portFree } from './ports.js';
import { createClient, type Client } from '../client/client.js';
import { Keyring } from '../client/keyring.js';
import { getAccount } from '../client/actions/getAccount.js';
import { getDevicesOf } from '../client/actions/getDevicesOf.js';
import { getMakers } from '../client/actions/getMakers.js';
import { getOperator } from '../client/actions/getOperator.js';
import { getParams } from '../client/actions/getParams.js';
import { signAndSend } from '../client/actions/signAndSend.js';
import { signDeviceConsent } from '../client/actions/signDeviceConsent.js';
import { signMakerApproval } from '../client/actions/signMakerApproval.js';
import { NO_CAPABILITIES, cellCodec } from '../chain/modules/devices/types.js';
import type { DecodedMsg } from '../chain/tx.js';
import { CONFIG_FILE, configFieldsMarkdown, defaultConfigJSON } from '../provider/config.js';
import { homePaths } from '../node/home.js';
import { DEVNET_MAKER, devnetProviderKey } from './init.js';
import { isAlive } from './testnet.js';
import { NODE_FLAGS } from '../core/nodeflags.js';

const BIN = fileURLToPath(new URL('../../../bin/groundwork.js', import.meta.url));

/** What every devnet provider gets: tokens from the faucet, a self-bond (≥ market.minProviderStake), a 4 TiB storage device. */
const FUNDS = 1_000n * 1_000_000n;
const LOW_BALANCE = 100n * 1_000_000n;
const SELF_BOND = 150n * 1_000_000n;
const CAPACITY = 4n << 40n;
const BANDWIDTH_MBPS = 1000;
const FIRST_METRICS_PORT = 9464;
/** Each devnet provider stores shards in `<p>/storage`, up to this many bytes of real disk, served on its hostUri's port. */
const STORAGE = { capacityBytes: String(16n << 30n), dir: 'storage' };

/** Where the devnet's providers stand (one per provider, in order). */
const CITIES: ReadonlyArray<readonly [string, number, number]> = [
  ['Paris', 48.8566, 2.3522],
  ['Frankfurt', 50.1109, 8.6821],
  ['London', 51.5072, -0.1276],
  ['Amsterdam', 52.3676, 4.9041],
  ['Madrid', 40.4168, -3.7038],
  ['Milan', 45.4642, 9.19],
  ['Stockholm', 59.3293, 18.0686],
  ['Warsaw', 52.2297, 21.0122],
  ['Dublin', 53.3498, -6.2603],
];

/** Provider i's fixed price: p1 900 ugw per block, p2 800, … (the later, the cheaper). */
export function devnetProviderPrice(i: number): bigint {
  return BigInt(Math.max(1000 - 100 * i, 50));
}

export interface DevnetProvider {
  /** p1, p2, … */
  readonly name: string;
  /** Its key in the devnet's test keyring. */
  readonly key: string;
  readonly address: string;
  readonly home: string;
  /** The fixed price in provider.json when the devnet wrote it (an operator may have changed it since). */
  readonly price: string;
  readonly device: string;
  readonly city: string;
  readonly metricsUrl: string;
  /** Where its storage service listens (its hostUri), '' when storage is off. */
  readonly storageUrl: string;
  readonly logFile: string;
  /** The exact command that runs this agent by hand. */
  readonly startCommand: string;
  /** The agent's process id, once started (or found running). */
  pid: number | undefined;
  /** running, or why not. */
  state: string;
}

export interface DevnetProvidersResult {
  readonly providers: DevnetProvider[];
  /** Why some or all were not set up (printed by the caller). */
  readonly skipped: string[];
}

interface DeviceKeyFile {
  type: 'groundwork-device-key';
  publicKey: string;
  seed: string;
}

function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:@=+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

function writeJsonAtomic(path: string, value: unknown, mode = 0o644): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`, { mode });
  renameSync(tmp, path);
}

/** The device key in `<p>/device.json` (the format of "groundwork device keygen --out"), made on first use. */
function deviceKey(pHome: string): Ed25519Key {
  const file = join(pHome, 'device.json');
  if (existsSync(file)) {
    const f = JSON.parse(readFileSync(file, 'utf8')) as DeviceKeyFile;
    return Ed25519Key.fromSeed(fromHex(f.seed, 'device key seed'));
  }
  const key = Ed25519Key.generate();
  const f: DeviceKeyFile = { type: 'groundwork-device-key', publicKey: toHex(key.publicKey), seed: toHex(key.seed) };
  writeFileSync(file, `${JSON.stringify(f, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  return key;
}

/** `first` for p1, `first` + 1 for p2, … or a free port when that one is taken (e.g. tests side by side). */
async function portFor(first: number, i: number, taken: Set<number>): Promise<number> {
  const preferred = first + i - 1;
  if (!taken.has(preferred) && (await portFree(preferred))) return preferred;
  for (;;) {
    const p = await freePort();
    if (!taken.has(p)) return p;
  }
}

/**
 * Writes `<p>/provider.json` the first time (and provider.README.md); later, only points it at
 * the node's current URL and genesis, keeping whatever the operator edited.
 */
async function writeProviderConfig(pHome: string, i: number, o: { url: string; genesisHash: string; device: string; taken: Set<number> }): Promise<Record<string, unknown>> {
  const path = join(pHome, CONFIG_FILE);
  if (existsSync(path)) {
    const c = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    // A home written before providers stored files gets the storage service (null: the operator turned it off).
    const storage = c.storage === undefined ? { storage: STORAGE } : {};
    if (c.node !== o.url || c.genesisHash !== o.genesisHash || c.storage === undefined) writeJsonAtomic(path, { ...c, node: o.url, genesisHash: o.genesisHash, ...storage }, 0o600);
    return { ...c, ...storage, node: o.url };
  }
  const port = await portFor(FIRST_METRICS_PORT, i, o.taken);
  o.taken.add(port);
  // The provider's public address: its storage service listens there.
  const hostPort = await portFor(8701, i, o.taken);
  o.taken.add(hostPort);
  const c = {
    ...defaultConfigJSON(),
    node: o.url,
    genesisHash: o.genesisHash,
    key: devnetProviderKey(i),
    keyringBackend: 'test',
    // The devnet's keyring, so "groundwork market provider show provider-1" works from the devnet home.
    keyringDir: '../../keyring',
    hostUri: `http://127.0.0.1:${hostPort}`,
    devices: [o.device],
    pricing: { type: 'fixed', price: String(devnetProviderPrice(i)) },
    // Withdraw often, so a walk-through sees the lease's `paid` move.
    withdrawEveryBlocks: 10,
    metricsListen: `127.0.0.1:${port}`,
    storage: STORAGE,
  };
  writeJsonAtomic(path, c, 0o600);
  writeFileSync(join(pHome, 'provider.README.md'), `# ${CONFIG_FILE}: the provider agent's configuration\n\n${configFieldsMarkdown()}\n`);
  return c;
}

/** The msgs that bring provider i on chain, less what the chain already has. */
async function onChainMsgs(client: Client, o: { address: string; device: Ed25519Key; maker: ReturnType<Keyring['signer']>; chainId: string; minStake: bigint; cell: string }): Promise<DecodedMsg[]> {
  const msgs: DecodedMsg[] = [];
  const op = await getOperator(client, { address: o.address });
  const bonded = op?.selfBond ?? 0n;
  if (bonded < o.minStake) {
    const want = SELF_BOND > o.minStake ? SELF_BOND : o.minStake;
    msgs.push({ type: 'staking/delegate', value: { operator: decodeAddress(o.address), amount: want - bonded } });
  }
  const id = toHex(o.device.publicKey);
  const devices = await getDevicesOf(client, { owner: o.address, limit: 1000 });
  const d = devices.devices.find((x) => x.id === id);
  if (!d) {
    msgs.push({
      type: 'devices/onboard',
      value: {
        kind: 'storage',
        deviceKey: o.device.publicKey,
        maker: DEVNET_MAKER,
        makerSignature: fromHex(signMakerApproval(o.maker, { chainId: o.chainId, kind: 'storage', deviceKey: id })),
        deviceSignature: fromHex(signDeviceConsent(o.device, { chainId: o.chainId, owner: o.address })),
        capabilities: { ...NO_CAPABILITIES, capacityBytes: CAPACITY, bandwidthMbps: BANDWIDTH_MBPS },
      },
    });
  }
  if (!d?.location) msgs.push({ type: 'devices/assert-location', value: { device: o.device.publicKey, cell: cellCodec.fromJSON(o.cell, 'cell') } });
  return msgs;
}

/**
 * Brings up to `count` devnet providers on chain (idempotent) and writes their homes. Needs the
 * devnet's maker and provider keys, made by `devnet start` on a new home: an older home has none
 * and gets none (`skipped` says how to re-initialize).
 */
export async function setupDevnetProviders(o: { home: string; url: string; count: number; log: Logger }): Promise<DevnetProvidersResult> {
  const skipped: string[] = [];
  const providers: DevnetProvider[] = [];
  if (o.count <= 0) return { providers, skipped };
  const paths = homePaths(o.home);
  const keyring = new Keyring(paths.keyring);
  const genesisBytes = new Uint8Array(readFileSync(paths.genesis));
  const client = createClient({ url: o.url, genesis: genesisBytes });
  const reinit = `stop the network, move ${o.home} away (or delete it: that deletes its chain) and run "npm start" (or "groundwork devnet start") again`;
  const makers = await getMakers(client);
  if (!keyring.has(DEVNET_MAKER) || !makers.some((m) => m.name === DEVNET_MAKER && m.revokedHeight === null)) {
    skipped.push(`none: this home was not made by "devnet start" with providers (its genesis approves no "${DEVNET_MAKER}" maker); to get them, ${reinit}`);
    return { providers, skipped };
  }
  const available: number[] = [];
  for (let i = 1; i <= o.count; i++) {
    if (keyring.has(devnetProviderKey(i))) available.push(i);
    else skipped.push(`no p${i}: this home was made with keys for ${i - 1} provider(s); to run ${o.count}, ${reinit} with --providers ${o.count}`);
  }
  if (available.length === 0) return { providers, skipped };

  const { chainId } = (await client.trust()).genesis;
  const genesisHash = toHex(sha256(genesisBytes));
  const params = await getParams(client);
  const minStake = BigInt((params.market as { minProviderStake: string }).minProviderStake);
  const maker = keyring.signer(DEVNET_MAKER);
  const faucet = keyring.signer('faucet');

  // Funds first, for all of them in one faucet tx (one signer: one tx avoids sequence races).
  const low: string[] = [];
  for (const i of available) {
    const address = keyring.get(devnetProviderKey(i)).address;
    if ((await getAccount(client, { address })).balance < LOW_BALANCE) low.push(address);
  }
  if (low.length) {
    const t = await signAndSend(client, { signer: faucet, msgs: low.map((a) => ({ type: 'bank/send', value: { to: decodeAddress(a), amount: FUNDS } })), timeoutMs: 60_000 });
    o.log.info('devnet-providers-funded', { providers: low.length, each: `${FUNDS / 1_000_000n}gw`, height: t.height });
  }

  const taken = new Set<number>();
  // Then each provider's own tx (stake, device, location), side by side: different signers.
  const made = await Promise.all(
    available.map(async (i) => {
      const name = `p${i}`;
      const key = devnetProviderKey(i);
      const signer = keyring.signer(key);
      const address = keyring.get(key).address;
      const pHome = join(o.home, 'providers', name);
      mkdirSync(pHome, { recursive: true });
      const device = deviceKey(pHome);
      const [city, lat, lng] = CITIES[(i - 1) % CITIES.length] as readonly [string, number, number];
      const msgs = await onChainMsgs(client, { address, device, maker, chainId, minStake, cell: latLngToCell(lat, lng, 10) });
      if (msgs.length) {
        const t = await signAndSend(client, { signer, msgs, timeoutMs: 60_000 });
        o.log.info('devnet-provider-on-chain', { provider: name, address, msgs: msgs.map((m) => m.type).join(','), height: t.height });
      }
      return { i, name, key, address, pHome, device: toHex(device.publicKey), city };
    }),
  );
  // Configs one after another, so two providers never pick the same free metrics port.
  for (const m of made) {
    const c = await writeProviderConfig(m.pHome, m.i, { url: o.url, genesisHash, device: m.device, taken });
    const pricing = c.pricing as { type?: string; price?: string } | undefined;
    const listen = typeof c.metricsListen === 'string' ? c.metricsListen : '';
    providers.push({
      name: m.name,
      key: m.key,
      address: m.address,
      home: m.pHome,
      price: pricing?.type === 'fixed' && pricing.price ? pricing.price : String(pricing?.type ?? '?'),
      device: m.device,
      city: m.city,
      metricsUrl: listen ? `http://${listen}` : '',
      storageUrl: c.storage && typeof c.hostUri === 'string' ? c.hostUri : '',
      logFile: join(m.pHome, 'agent.log'),
      startCommand: `npx groundwork provider start --home ${shellQuote(m.pHome)}`,
      pid: undefined,
      state: 'not started',
    });
  }
  return { providers, skipped };
}


/** The pid of an agent already running for this provider home (its state directory's lock), if any. */
function runningAgent(pHome: string): number | undefined {
  let stateDir = 'provider-state';
  try {
    const c = JSON.parse(readFileSync(join(pHome, CONFIG_FILE), 'utf8')) as { stateDir?: unknown };
    if (typeof c.stateDir === 'string' && c.stateDir) stateDir = c.stateDir;
  } catch {
    // no readable config: the default state directory
  }
  const lock = join(pHome, stateDir, 'agent.pid');
  if (!existsSync(lock)) return undefined;
  const pid = Number(readFileSync(lock, 'utf8').trim());
  return Number.isSafeInteger(pid) && pid > 0 && isAlive(pid) ? pid : undefined;
}

export interface ProviderFleet {
  readonly providers: DevnetProvider[];
  /** SIGTERM every agent this devnet started or found running; SIGKILL those still up after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Starts `groundwork provider start --home <p>` for each provider (its output appended to
 * `<p>/agent.log`), in its own process group so a Ctrl-C in the devnet's terminal reaches only
 * the devnet, which then stops them. An agent already running for a home (left by a devnet that
 * was killed, or started by hand) is left running and stopped with the devnet. Waits up to
 * `waitMs` for each to log provider-agent-running.
 */
export async function startProviderAgents(providers: DevnetProvider[], o: { waitMs?: number; log: Logger }): Promise<ProviderFleet> {
  let stopping = false;
  await Promise.all(
    providers.map(async (p) => {
      const running = runningAgent(p.home);
      if (running) {
        p.pid = running;
        p.state = `already running (pid ${running})`;
        return;
      }
      const offset = existsSync(p.logFile) ? statSync(p.logFile).size : 0;
      const fd = openSync(p.logFile, 'a');
      const env = { ...process.env, GROUNDWORK_HOME: '', GROUNDWORK_NODE: '' };
      // NODE_FLAGS as bin/groundwork.js's shebang; GROUNDWORK_NODE_FLAGS: extra Node.js flags
      // (e.g. --cpu-prof), as for testnet validators.
      const flags = process.env.GROUNDWORK_NODE_FLAGS ? process.env.GROUNDWORK_NODE_FLAGS.split(' ').filter(Boolean) : [];
      const child = spawn(process.execPath, [...NODE_FLAGS, ...flags, BIN, '--home', p.home, 'provider', 'start'], { detached: true, stdio: ['ignore', fd, fd], env });
      closeSync(fd);
      p.pid = child.pid;
      child.on('exit', (code, signal) => {
        if (stopping) return;
        p.state = 'exited';
        o.log.warn('devnet-provider-exited', { provider: p.name, pid: child.pid, code, signal, log: p.logFile, restart: p.startCommand });
      });
      const deadline = Date.now() + (o.waitMs ?? 30_000);
      for (;;) {
        if (child.exitCode !== null || child.signalCode !== null) {
          p.state = `exited (${child.exitCode ?? child.signalCode}); see ${p.logFile}`;
          return;
        }
        const text = readFileSync(p.logFile, 'utf8').slice(offset);
        if (/provider-agent-running/.test(text)) {
          p.state = 'running';
          return;
        }
        if (Date.now() > deadline) {
          p.state = `starting (see ${p.logFile})`;
          return;
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    }),
  );
  for (const p of providers) o.log.info('devnet-provider', { provider: p.name, address: p.address, price: p.price, state: p.state, pid: p.pid, log: p.logFile });
  return {
    providers,
    async stop(graceMs = 10_000) {
      stopping = true;
      const pids = providers.map((p) => p.pid).filter((pid): pid is number => isAlive(pid));
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          // gone meanwhile
        }
      }
      const deadline = Date.now() + graceMs;
      while (pids.some(isAlive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      for (const pid of pids.filter(isAlive)) {
        o.log.warn('devnet-provider-killed', { pid, reason: `did not stop within ${graceMs} ms` });
        process.kill(pid, 'SIGKILL');
      }
    },
  };
}

/** The "Providers:" block `devnet start` prints. */
export function providersBlock(providers: readonly DevnetProvider[], skipped: readonly string[]): string[] {
  const lines: string[] = [];
  if (providers.length) {
    lines.push('', `Providers (${providers.length} agents bidding on every order and storing files; storage devices, 150 GW self-bonded each):`);
    for (const p of providers) {
      lines.push(`  ${p.name}  ${p.address}  key ${p.key}  fixed ${p.price} ugw/block  ${p.city}  ${p.state}${p.pid && p.state === 'running' ? ` (pid ${p.pid})` : ''}`);
      lines.push(`      log ${p.logFile}${p.metricsUrl ? `   metrics ${p.metricsUrl}/metrics` : ''}${p.storageUrl ? `   storage ${p.storageUrl}` : ''}`);
    }
    const last = providers[providers.length - 1] as DevnetProvider;
    lines.push(`  Kill one (kill -9 <pid>) and run it again by hand, e.g.: ${last.startCommand}`);
    lines.push('  It finds its leases on chain again; "npx groundwork provider status --home <its home>" shows them.');
  }
  for (const s of skipped) lines.push('', `Providers: ${s}`);
  return lines;
}

/** For errors while setting up (the network keeps running without providers). */
export function providersFailed(e: unknown): string {
  return e instanceof GroundworkError ? `${e.code}: ${e.message}` : e instanceof Error ? e.message : String(e);
}
