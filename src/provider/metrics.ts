/**
 * The agent's metrics and the /metrics endpoint, in the Prometheus text exposition format 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/). Counters count since the
 * agent process started (Prometheus handles restarts with rate()); gauges mirror the chain.
 *
 * A plain node:http server: one read-only route does not need a framework.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../core/log.js';

type Labels = Record<string, string>;

interface Family {
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  values: Map<string, { labels: Labels; value: bigint }>;
}

const labelKey = (l: Labels) =>
  Object.keys(l)
    .sort()
    .map((k) => `${k}=${l[k]}`)
    .join(',');

/** Label values escaped as the format requires (backslash, quote, newline). */
const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

export class Registry {
  private readonly families = new Map<string, Family>();

  private family(name: string, help: string, type: Family['type']): Family {
    let f = this.families.get(name);
    if (!f) {
      f = { name, help, type, values: new Map() };
      this.families.set(name, f);
    }
    return f;
  }

  counter(name: string, help: string): { inc(labels?: Labels, by?: bigint): void; get(labels?: Labels): bigint } {
    const f = this.family(name, help, 'counter');
    return {
      inc: (labels = {}, by = 1n) => {
        const k = labelKey(labels);
        const v = f.values.get(k);
        if (v) v.value += by;
        else f.values.set(k, { labels, value: by });
      },
      get: (labels = {}) => f.values.get(labelKey(labels))?.value ?? 0n,
    };
  }

  gauge(name: string, help: string): { set(value: bigint, labels?: Labels): void; get(labels?: Labels): bigint } {
    const f = this.family(name, help, 'gauge');
    return {
      set: (value, labels = {}) => void f.values.set(labelKey(labels), { labels, value }),
      get: (labels = {}) => f.values.get(labelKey(labels))?.value ?? 0n,
    };
  }

  /** The text format: HELP and TYPE lines, then one sample per label set (label-less counters start at 0). */
  render(): string {
    const lines: string[] = [];
    for (const f of this.families.values()) {
      lines.push(`# HELP ${f.name} ${f.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`);
      lines.push(`# TYPE ${f.name} ${f.type}`);
      if (f.values.size === 0 && f.type === 'counter') lines.push(`${f.name} 0`);
      for (const { labels, value } of f.values.values()) {
        const ls = Object.entries(labels)
          .map(([k, v]) => `${k}="${esc(v)}"`)
          .join(',');
        lines.push(`${f.name}${ls ? `{${ls}}` : ''} ${value}`);
      }
    }
    return `${lines.join('\n')}\n`;
  }
}

/** The agent's metrics (names in the README's "Running a provider"). */
export function providerMetrics(r = new Registry()) {
  const p = 'groundwork_provider_';
  return {
    registry: r,
    ordersSeen: r.counter(`${p}orders_seen_total`, 'Orders the agent looked at (new orders and open orders found by reconciliation).'),
    bids: r.counter(`${p}bids_total`, 'Bids sent and committed.'),
    skipped: r.counter(`${p}skipped_total`, 'Orders passed on, by reason code.'),
    leasesActive: r.gauge(`${p}leases_active`, 'Leases this provider serves now (chain state).'),
    leasesAdopted: r.counter(`${p}leases_adopted_total`, 'Leases taken into local state (new leases, or found by reconciliation).'),
    leasesClosed: r.counter(`${p}leases_closed_total`, 'Leases released, by close reason.'),
    earningsWithdrawn: r.counter(`${p}earnings_withdrawn_ugw_total`, 'Earnings withdrawn to the operator balance, in ugw.'),
    chainHeight: r.gauge(`${p}chain_height`, 'Latest chain height the agent has seen.'),
    reconciles: r.counter(`${p}reconcile_total`, 'Reconciliations with chain state.'),
    wsReconnects: r.counter(`${p}ws_reconnects_total`, 'WebSocket reconnections to the node.'),
    errors: r.counter(`${p}errors_total`, 'Failed operations, by kind (logged with the error).'),
  };
}
export type ProviderMetrics = ReturnType<typeof providerMetrics>;

/** The storage service's metrics, registered only when the agent serves storage. */
export function storageMetrics(r: Registry) {
  const p = 'groundwork_provider_storage_';
  return {
    uploads: r.counter(`${p}uploads_total`, 'Shard uploads, by result: ok, or the refusal code (BROKEN: the client went away mid-body).'),
    uploadBytes: r.counter(`${p}upload_bytes_total`, 'Shard bytes received and stored (uploads of a shard already held are not counted).'),
    downloads: r.counter(`${p}downloads_total`, 'Pieces, byte ranges and leaves served, by kind (piece, range, leaf).'),
    downloadBytes: r.counter(`${p}download_bytes_total`, 'Bytes of pieces and leaves served.'),
    usedBytes: r.gauge(`${p}used_bytes`, 'Bytes of the shards stored.'),
    capacityBytes: r.gauge(`${p}capacity_bytes`, 'Configured storage capacity, in bytes.'),
    shards: r.gauge(`${p}shards`, 'Shards stored.'),
    proofs: r.counter(`${p}proofs_total`, 'Storage challenges answered (shards proved).'),
    gcDeleted: r.counter(`${p}gc_deleted_total`, 'Shards deleted because none of their leases was active any more for the grace period.'),
  };
}
export type StorageMetrics = ReturnType<typeof storageMetrics>;

/**
 * Serves GET /metrics, GET /status (the agent's local view, JSON) and GET /healthz; start()
 * resolves with the bound URL.
 */
export function metricsServer(opts: { host: string; port: number; registry: Registry; log: Logger; status?: () => unknown }) {
  let server: Server | undefined;
  return {
    async start(): Promise<string> {
      const s = createServer((req, res) => {
        const path = (req.url ?? '/').split('?')[0];
        if (req.method !== 'GET' && req.method !== 'HEAD') {
          res.writeHead(405, { allow: 'GET, HEAD' }).end();
        } else if (path === '/metrics') {
          res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(opts.registry.render());
        } else if (path === '/status' && opts.status) {
          const body = JSON.stringify(opts.status(), (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
          res.writeHead(200, { 'content-type': 'application/json' }).end(`${body}\n`);
        } else if (path === '/healthz') {
          res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
        } else {
          res.writeHead(404, { 'content-type': 'text/plain' }).end('groundwork provider agent: see /metrics\n');
        }
      });
      s.on('clientError', (e) => opts.log.debug('metrics client error', { error: e.message }));
      server = s;
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(opts.port, opts.host, () => {
          s.off('error', reject);
          resolve();
        });
      });
      const a = s.address() as AddressInfo;
      const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
      return `http://${host}:${a.port}`;
    },
    async stop(): Promise<void> {
      const s = server;
      server = undefined;
      if (!s) return;
      s.closeAllConnections();
      await new Promise<void>((r) => s.close(() => r()));
    },
  };
}
