/**
 * A storage network for end-to-end tests, all real processes on loopback: a node
 * (`groundwork node start`) whose genesis carries the test's module params, customers with funded
 * test-keyring keys, and provider agents (`groundwork provider start` with a `storage` section),
 * each its own process that a test may stop, kill (-9) and start again over the same home and
 * shard store. Every chain event (begin-block, tx and end-block, over the node's WebSocket) is
 * recorded from the start, so a test waits on what the chain did on its own (missed proofs are
 * end-block events) as well as on what txs did.
 *
 * Each provider i has a fixed bid price: the market fills an order with the cheapest bids, so the
 * prices choose which providers a deal lands on (the cheapest k + m).
 */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fromHex, toHex, utf8, type Bytes } from '../core/bytes.js';
import { decode } from '../core/codec.js';
import { sha256 } from '../core/hash.js';
import { decodeAddress, Ed25519Key } from '../core/keys.js';
import { NO_CAPABILITIES } from '../chain/modules/devices/types.js';
import { leaseKey, providerKey } from '../chain/modules/market/keys.js';
import { leaseRecordCodec, providerRecordCodec, type LeaseRecord, type ProviderRecord } from '../chain/modules/market/types.js';
import { createClient, type Client } from '../client/client.js';
import { Keyring } from '../client/keyring.js';
import { subscribeEvents, type ChainEvent, type EventSubscription } from '../client/events.js';
import { getState } from '../client/actions/getState.js';
import { getStatus } from '../client/actions/getStatus.js';
import { signAndSend } from '../client/actions/signAndSend.js';
import { signDeviceConsent } from '../client/actions/signDeviceConsent.js';
import { signMakerApproval } from '../client/actions/signMakerApproval.js';
import type { ProofAnswer } from '../client/actions/proveStorage.js';
import type { StorageChallenge } from '../client/storageViews.js';
import { initHome } from '../devnet/init.js';
import { homePaths } from '../node/home.js';
import { defaultConfigJSON } from '../provider/config.js';
import { ShardStore } from '../provider/storage/store.js';
import { encodeFile, type ShardSink } from '../storage/encode.js';
import type { Manifest } from '../storage/layout.js';
import { tempDir } from './index.js';
import { cliIn, freePort, spawnCli, startNode, type CliResult, type LiveProcess, type NodeProcess } from './proc.js';

// ---------------------------------------------------------------------------------------------
// Chain events

/** Every committed event since the subscription, in block order, with waits on them. */
export class EventLog {
  readonly events: ChainEvent[] = [];
  private readonly waiters = new Set<() => void>();
  private sub: EventSubscription | undefined;

  /** Subscribes to every event of the node at `url`; resolves once the node acknowledged it. */
  static async open(url: string): Promise<EventLog> {
    const log = new EventLog();
    log.sub = subscribeEvents(url, undefined, (e) => {
      log.events.push(e);
      for (const w of [...log.waiters]) w();
    });
    await log.sub.ready;
    return log;
  }

  /** Events of `type` (or of any of the types) whose attributes match every entry of `attrs` (and `pred`), from index `from` on. */
  filter(type: string | readonly string[], attrs: Record<string, string> = {}, from = 0, pred?: (e: ChainEvent) => boolean): ChainEvent[] {
    const types = typeof type === 'string' ? [type] : type;
    return this.events.slice(from).filter((e) => types.includes(e.event.type) && Object.entries(attrs).every(([k, v]) => e.event.attributes[k] === v) && (pred?.(e) ?? true));
  }

  /** The first such event; waits up to `timeoutMs` for it. */
  waitFor(type: string | readonly string[], attrs: Record<string, string> = {}, opts: { timeoutMs?: number; from?: number; pred?: (e: ChainEvent) => boolean } = {}): Promise<ChainEvent> {
    const timeoutMs = opts.timeoutMs ?? 30_000;
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const hit = this.filter(type, attrs, opts.from ?? 0, opts.pred)[0];
        if (!hit) return false;
        this.waiters.delete(onEvent);
        clearTimeout(t);
        resolve(hit);
        return true;
      };
      const onEvent = (): void => void check();
      const t = setTimeout(() => {
        this.waiters.delete(onEvent);
        const seen = this.filter(type).slice(-5);
        reject(new Error(`no ${type} ${JSON.stringify(attrs)} within ${timeoutMs} ms; the last ones seen: ${JSON.stringify(seen.map((e) => ({ h: String(e.height), ...e.event.attributes })))}`));
      }, timeoutMs);
      if (!check()) this.waiters.add(onEvent);
    });
  }

  /** Position of the next event (for `from`). */
  get mark(): number {
    return this.events.length;
  }

  close(): void {
    this.sub?.close();
  }
}

// ---------------------------------------------------------------------------------------------
// The network

export interface StorageNetOptions {
  chainId: string;
  /** Provider agents to start. */
  providers: number;
  /** Fixed bid price of provider i (0-based), ugw per block. Default 100 + 10 i. */
  price?: (i: number) => bigint;
  /** Customer keys (test keyring) funded at genesis; default ["cust"]. */
  customers?: string[];
  /** Each customer's genesis balance, ugw. Default 1,000,000 GW. */
  customerFunds?: bigint;
  /** Key name of provider i (0-based). Default `p${i}`. */
  providerName?: (i: number) => string;
  /** Genesis params per module (merged over the defaults). */
  params?: Record<string, Record<string, unknown>>;
  blockTimeMs?: number;
  /** Each provider's storage capacity (bytes), or provider i's (0-based). */
  capacityBytes?: number | ((i: number) => number);
  proverPollMs?: number;
  /** The agents' withdrawEveryBlocks (default the agent's: 100); 0: they never withdraw on their own. */
  withdrawEveryBlocks?: number;
}

export interface StorageProvider {
  readonly index: number;
  /** Key name in the network's keyring. */
  readonly name: string;
  readonly address: string;
  /** The account key (test keyring): what signs its txs. */
  readonly key: Ed25519Key;
  readonly device: Ed25519Key;
  readonly deviceHex: string;
  readonly home: string;
  readonly hostUri: string;
  /** The agent's shard store directory (shards/<root hex>/...). */
  readonly storageDir: string;
  /** The running agent, if any. */
  agent: LiveProcess | undefined;
  /** Spawns the agent and waits until it runs (storage served, prover started). */
  start(): Promise<void>;
  /** SIGTERM: a clean stop. */
  stop(): Promise<void>;
  /** kill -9. */
  kill9(): Promise<void>;
}

export interface StorageNet {
  /** The node's home, also the CLI's (`run`, `json`): the keyring with every key, and `store put` manifests under store/. */
  readonly home: string;
  readonly chainId: string;
  readonly node: NodeProcess;
  readonly client: Client;
  readonly keyring: Keyring;
  readonly customers: Map<string, { address: string; key: Ed25519Key }>;
  readonly providers: StorageProvider[];
  readonly events: EventLog;
  /** The CLI against this node: `run` asserts exit 0 (or 1 with ok = false), `json` adds --json. */
  run(args: string[], ok?: boolean): Promise<CliResult>;
  json<T = Record<string, unknown>>(args: string[]): Promise<T>;
  /** The provider with this address. */
  provider(address: string): StorageProvider;
  /** Latest height. */
  height(): Promise<bigint>;
  /** Waits until the chain reaches height `h`. */
  waitHeight(h: bigint, timeoutMs?: number): Promise<void>;
  /** Kills everything and deletes the home. */
  close(): Promise<void>;
}

const FUNDS = 1_000_000_000_000n; // 1,000,000 GW
const PROVIDER_FUNDS = 1_000_000_000n; // 1000 GW
const SELF_BOND = 150_000_000n; // market.minProviderStake

export async function startStorageNet(o: StorageNetOptions): Promise<StorageNet> {
  const dir = tempDir('gw-storage-net-');
  const home = dir.path;
  let node: NodeProcess | undefined;
  let events: EventLog | undefined;
  const providers: StorageProvider[] = [];
  try {
    const keyring = new Keyring(homePaths(home).keyring);
    const customers = new Map<string, { address: string; key: Ed25519Key }>();
    for (const name of o.customers ?? ['cust']) {
      const address = keyring.add(name, { backend: 'test' }).info.address;
      customers.set(name, { address, key: keyring.signer(name) as Ed25519Key });
    }
    const maker = keyring.add('acme', { backend: 'test' });
    const cast = Array.from({ length: o.providers }, (_, i) => {
      const name = o.providerName?.(i) ?? `p${i}`;
      return { i, name, address: keyring.add(name, { backend: 'test' }).info.address, device: Ed25519Key.fromSeed(sha256(utf8(`${o.chainId}/device/${i}`))) };
    });
    initHome({
      home,
      chainId: o.chainId,
      blockIntervalMs: o.blockTimeMs ?? 250,
      apiPort: 0,
      force: false,
      extraBalances: [...[...customers.values()].map((c) => [c.address, o.customerFunds ?? FUNDS] as const), ...cast.map((p) => [p.address, PROVIDER_FUNDS] as const)],
      params: o.params ?? {},
    });
    const gPath = homePaths(home).genesis;
    const g = JSON.parse(readFileSync(gPath, 'utf8')) as { app: Record<string, unknown> };
    g.app.devices = { makers: [{ name: 'acme', pubKey: maker.info.publicKey }] };
    // Providers need DC to onboard devices; customers may pay storage in DC.
    g.app.credits = { balances: [...cast.map((p) => p.address), ...[...customers.values()].map((c) => c.address)].map((address) => ({ address, amount: '100000000' })) };
    writeFileSync(gPath, JSON.stringify(g, null, 2));
    node = await startNode(home);
    events = await EventLog.open(node.url);
    const genesisBytes = new Uint8Array(readFileSync(gPath));
    const client = createClient({ url: node.url, genesis: genesisBytes });

    // Each provider bonds market.minProviderStake and onboards one storage device, in one tx.
    await Promise.all(
      cast.map((p) =>
        signAndSend(client, {
          signer: keyring.signer(p.name),
          timeoutMs: 30_000,
          msgs: [
            { type: 'staking/delegate', value: { operator: decodeAddress(p.address), amount: SELF_BOND } },
            {
              type: 'devices/onboard',
              value: {
                kind: 'storage',
                deviceKey: p.device.publicKey,
                maker: 'acme',
                makerSignature: fromHex(signMakerApproval(keyring.signer('acme'), { chainId: o.chainId, kind: 'storage', deviceKey: toHex(p.device.publicKey) })),
                deviceSignature: fromHex(signDeviceConsent(p.device, { chainId: o.chainId, owner: p.address })),
                capabilities: { ...NO_CAPABILITIES, capacityBytes: 1n << 40n, bandwidthMbps: 1000 },
              },
            },
          ],
        }),
      ),
    );

    for (const p of cast) {
      const pHome = join(home, p.name);
      mkdirSync(pHome);
      const hostUri = `http://127.0.0.1:${await freePort()}`;
      const config = {
        ...defaultConfigJSON(),
        node: node.url,
        genesisHash: toHex(sha256(genesisBytes)),
        key: p.name,
        keyringBackend: 'test',
        keyringDir: homePaths(home).keyring,
        hostUri,
        devices: [toHex(p.device.publicKey)],
        kinds: ['storage'],
        pricing: { type: 'fixed', price: String(o.price?.(p.i) ?? 100n + 10n * BigInt(p.i)) },
        metricsListen: '',
        reconcileEveryBlocks: 5,
        ...(o.withdrawEveryBlocks !== undefined ? { withdrawEveryBlocks: o.withdrawEveryBlocks } : {}),
        storage: { capacityBytes: (typeof o.capacityBytes === 'function' ? o.capacityBytes(p.i) : o.capacityBytes) ?? 2 ** 31, proverPollMs: o.proverPollMs ?? 250 },
      };
      writeFileSync(join(pHome, 'provider.json'), JSON.stringify(config, null, 2));
      const prov: StorageProvider = {
        index: p.i,
        name: p.name,
        address: p.address,
        key: keyring.signer(p.name) as Ed25519Key,
        device: p.device,
        deviceHex: toHex(p.device.publicKey),
        home: pHome,
        hostUri,
        storageDir: join(pHome, 'storage'),
        agent: undefined,
        async start() {
          const a = spawnCli(['--home', pHome, 'provider', 'start']);
          prov.agent = a;
          await a.waitFor(/provider-agent-running/, 60_000);
        },
        async stop() {
          await prov.agent?.stop();
        },
        async kill9() {
          await prov.agent?.kill9();
        },
      };
      providers.push(prov);
    }
    await Promise.all(providers.map((p) => p.start()));
    // Registered (the agent does it at start) before any order is made, so every one bids.
    await Promise.all(providers.map((p) => p.agent!.waitFor(/reconciled why=start/, 60_000)));

    const { run, json } = cliIn(home);
    const n = ['--node', node.url];
    const nodeRef = node;
    const eventsRef = events;
    const height = async () => BigInt((await getStatus(client)).height);
    return {
      home,
      chainId: o.chainId,
      node,
      client,
      keyring,
      customers,
      providers,
      events,
      run: (args, ok) => run([...n, ...args], ok),
      json: (args) => json([...n, ...args]),
      provider(address) {
        const p = providers.find((x) => x.address === address);
        if (!p) throw new Error(`${address} is not one of the network's providers`);
        return p;
      },
      height,
      async waitHeight(h, timeoutMs = 60_000) {
        const until = Date.now() + timeoutMs;
        while ((await height()) < h) {
          if (Date.now() > until) throw new Error(`the chain did not reach height ${h} within ${timeoutMs} ms`);
          await new Promise((r) => setTimeout(r, 100));
        }
      },
      async close() {
        eventsRef.close();
        await Promise.all(providers.map((p) => p.kill9()));
        await nodeRef.kill9();
        dir.cleanup();
      },
    };
  } catch (e) {
    events?.close();
    await Promise.all(providers.map((p) => p.kill9()));
    await node?.kill9();
    dir.cleanup();
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------
// Proven reads at a height

/** The provider's market record at height `height` (latest when omitted), read with a Merkle proof. */
export async function providerAt(client: Client, address: string, height?: bigint): Promise<ProviderRecord> {
  const v = await getState(client, { key: providerKey(decodeAddress(address)), ...(height !== undefined ? { height } : {}) });
  if (!v.value) throw new Error(`${address} is not a registered provider at height ${height ?? 'latest'}`);
  return decode(providerRecordCodec, v.value);
}

/** A lease's record at height `height` (latest when omitted), read with a Merkle proof. */
export async function leaseAt(client: Client, id: bigint, height?: bigint): Promise<LeaseRecord> {
  const v = await getState(client, { key: leaseKey(id), ...(height !== undefined ? { height } : {}) });
  if (!v.value) throw new Error(`no lease ${id} at height ${height ?? 'latest'}`);
  return decode(leaseRecordCodec, v.value);
}

// ---------------------------------------------------------------------------------------------
// Answering challenges from a shard directory (as a provider would, without its agent)

/**
 * The answers to `challenges` read from the shard store at `storageDir` (the provider's agent
 * must not be running: opening a store clears its tmp/). `tamper` changes the answer of the
 * given challenge index: its first leaf gets one byte flipped (the path stays the honest one),
 * which is what a provider that no longer holds the data but wants to look as if it did would
 * have to send.
 */
export async function answersFromStore(storageDir: string, challenges: StorageChallenge[], opts: { tamper?: number } = {}): Promise<ProofAnswer[]> {
  const store = await ShardStore.open({ dir: storageDir, capacityBytes: Number.MAX_SAFE_INTEGER, noSync: true });
  const out: ProofAnswer[] = [];
  for (const [n, c] of challenges.entries()) {
    const leaves: Array<{ data: Bytes; path: Bytes[] }> = [];
    for (const i of c.leaves) {
      const p = await store.proveLeaf(c.root, i);
      leaves.push({ data: Uint8Array.from(p.data), path: p.proof });
    }
    if (opts.tamper === n) (leaves[0] as { data: Bytes }).data[0]! ^= 0xff;
    out.push({ order: c.order, shard: c.shard, leaves });
  }
  return out;
}

/** Encodes `data` (storage/encode) and keeps every piece in memory: pieces[shard][segment]. */
export async function storedInMemory(data: Uint8Array, opts: { k?: number; m?: number } = {}): Promise<{ man: Manifest; pieces: Uint8Array[][] }> {
  const pieces: Uint8Array[][] = [];
  const sink: ShardSink = {
    async write(j, piece) {
      (pieces[j] ??= []).push(Uint8Array.from(piece));
    },
  };
  return { man: await encodeFile(data, data.length, opts, sink), pieces };
}
