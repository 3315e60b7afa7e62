/**
 * The SDK client: a node URL plus a trust anchor. Actions (./actions) are plain functions
 * `(client, params)`; every state read is verified against a header signed by a validator of
 * the trusted chain, so a lying node is caught, not believed.
 *
 *   const client = createClient({ url: 'http://127.0.0.1:1317', genesis: genesisJson });
 *   const { balance } = await getAccount(client, { address: 'gw1...' });
 *
 * Trust anchor: the chain's genesis (its SHA-256 and validator set). Pass the genesis document
 * (or just its hash) you got out of band; without one, the client fetches /v1/genesis from the
 * node on first use and trusts it (trust on first use), which `client.trustedOnFirstUse` reports.
 */
import { equals, fromHex, toHex, type Bytes } from '../core/bytes.js';
import { sha256 } from '../core/hash.js';
import { parseGenesis, type Genesis } from '../chain/genesis.js';
import { standardModules } from '../chain/index.js';
import type { MsgRegistry, MsgType } from '../chain/tx.js';
import { ApiResponseError, NodeUnreachableError, TimeoutError, VerificationError } from './errors.js';

export interface ClientConfig {
  /** Node API base URL, e.g. http://127.0.0.1:1317 */
  url: string;
  /** The trusted genesis document (parsed JSON or its exact file bytes). */
  genesis?: unknown;
  /** Or only the SHA-256 of the genesis file, hex: the client fetches the document and checks it. */
  genesisHash?: string;
  /** Per-request timeout. */
  timeoutMs?: number;
}

export interface TrustAnchor {
  readonly genesis: Genesis;
  /** SHA-256 of the genesis file, when the client saw the exact bytes. */
  readonly genesisHash: Bytes | undefined;
}

const registry: MsgRegistry = (() => {
  const types = new Map<string, MsgType>();
  for (const m of standardModules()) for (const h of m.msgs ?? []) types.set(h.type, h);
  return { msgType: (t: string) => types.get(t) };
})();

export class Client {
  readonly url: string;
  readonly timeoutMs: number;
  readonly registry: MsgRegistry = registry;
  private anchor: Promise<TrustAnchor> | undefined;
  private _tofu = false;

  constructor(private readonly config: ClientConfig) {
    this.url = config.url.replace(/\/+$/, '');
    this.timeoutMs = config.timeoutMs ?? 30_000;
  }

  /** True when the trust anchor was taken from the node itself (no genesis was configured). */
  get trustedOnFirstUse(): boolean {
    return this._tofu;
  }

  /** The trusted chain (resolved once). */
  trust(): Promise<TrustAnchor> {
    this.anchor ??= this.resolveTrust();
    return this.anchor;
  }

  private async resolveTrust(): Promise<TrustAnchor> {
    const { genesis, genesisHash } = this.config;
    if (genesis !== undefined) {
      if (genesis instanceof Uint8Array) {
        return { genesis: parseGenesis(JSON.parse(new TextDecoder().decode(genesis)), standardModules()), genesisHash: sha256(genesis) };
      }
      return { genesis: parseGenesis(genesis, standardModules()), genesisHash: undefined };
    }
    // The node serves its genesis file byte for byte, so its hash can be checked.
    const bytes = await this.requestBytes('/v1/genesis');
    const hash = sha256(bytes);
    if (genesisHash !== undefined) {
      if (!equals(hash, fromHex(genesisHash, 'genesis hash'))) {
        throw new VerificationError(`the node serves genesis ${toHex(hash)}, expected ${genesisHash.toLowerCase()}`);
      }
    } else {
      this._tofu = true;
    }
    return { genesis: parseGenesis(JSON.parse(new TextDecoder().decode(bytes)), standardModules()), genesisHash: hash };
  }

  private async requestBytes(path: string): Promise<Uint8Array> {
    let res: Response;
    try {
      res = await fetch(`${this.url}${path}`, { signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (e) {
      throw new NodeUnreachableError(this.url, { cause: e });
    }
    if (!res.ok) throw new ApiResponseError(res.status, `HTTP_${res.status}`, `HTTP ${res.status} from GET ${path}`, null);
    return new Uint8Array(await res.arrayBuffer());
  }

  /** One HTTP request to the node; API errors become ApiResponseError with the node's code. */
  async request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.url}${path}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? null : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (e) {
      if (e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError')) {
        throw new TimeoutError(`the node at ${this.url} did not answer ${method} ${path} within ${this.timeoutMs} ms`);
      }
      throw new NodeUnreachableError(this.url, { cause: e });
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      throw new ApiResponseError(res.status, 'INVALID_RESPONSE', `the node answered ${method} ${path} with non-JSON (HTTP ${res.status})`, text);
    }
    if (!res.ok && !(res.status === 422 && path === '/v1/txs')) {
      const err = (json as { error?: { code?: string; message?: string } } | null)?.error;
      throw new ApiResponseError(res.status, err?.code ?? `HTTP_${res.status}`, err?.message ?? `HTTP ${res.status} from ${method} ${path}`, json);
    }
    return json as T;
  }
}

export function createClient(config: ClientConfig): Client {
  return new Client(config);
}

/**
 * Runs a proven query; a chain that has not produced its first block yet (no signed header to
 * prove against) is given a few seconds.
 */
export async function withFirstBlock<T>(query: () => Promise<T>, waitMs = 10_000): Promise<T> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      return await query();
    } catch (e) {
      if (!(e instanceof ApiResponseError && e.code === 'NO_BLOCK_YET') || Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
