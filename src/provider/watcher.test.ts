import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { silentLogger } from '../core/log.js';
import { blockWatcher, wsUrl } from './watcher.js';
import { Registry, providerMetrics } from './metrics.js';

test('watcher: subscribes to blocks, reports heights, reconnects with backoff after a drop', async () => {
  const http = createServer();
  const wss = new WebSocketServer({ server: http, path: '/v1/ws' });
  const sockets: WebSocket[] = [];
  const commands: string[] = [];
  wss.on('connection', (s) => {
    sockets.push(s);
    s.on('message', (d) => {
      commands.push(d.toString());
      s.send(JSON.stringify({ ok: true }));
      s.send(JSON.stringify({ channel: 'blocks', block: { height: String(10 * sockets.length) } }));
    });
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const heights: bigint[] = [];
  let reconnects = 0;
  const w = blockWatcher({ url, log: silentLogger, onBlock: (h) => heights.push(h), onReconnect: () => reconnects++, minBackoffMs: 20, maxBackoffMs: 50 });
  const until = async (f: () => boolean) => {
    for (let i = 0; i < 200 && !f(); i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(f());
  };
  try {
    w.start();
    await until(() => heights.length === 1);
    assert.deepEqual(heights, [10n]);
    assert.deepEqual(JSON.parse(commands[0] as string), { op: 'subscribe', channel: 'blocks' });
    assert.equal(reconnects, 0);
    assert.equal(w.connected, true);
    sockets[0]?.terminate(); // the node drops the connection
    await until(() => heights.length === 2);
    assert.deepEqual(heights, [10n, 20n]);
    assert.equal(reconnects, 1);
  } finally {
    await w.stop();
    for (const s of sockets) s.terminate();
    wss.close();
    await new Promise((r) => http.close(r));
  }
  assert.equal(wsUrl('https://n.example:1317/'), 'wss://n.example:1317/v1/ws');
});

test('metrics: Prometheus text format 0.0.4 (HELP/TYPE, labels escaped, label-less counters at 0)', () => {
  const m = providerMetrics(new Registry());
  m.bids.inc();
  m.bids.inc();
  m.skipped.inc({ reason: 'PRICE_ABOVE_MAX' });
  m.leasesClosed.inc({ reason: 'say "hi"\\\n' });
  m.chainHeight.set(42n);
  const text = m.registry.render();
  assert.match(text, /^# HELP groundwork_provider_orders_seen_total .+\n# TYPE groundwork_provider_orders_seen_total counter\ngroundwork_provider_orders_seen_total 0\n/);
  assert.match(text, /\ngroundwork_provider_bids_total 2\n/);
  assert.match(text, /\ngroundwork_provider_skipped_total\{reason="PRICE_ABOVE_MAX"\} 1\n/);
  assert.match(text, /\ngroundwork_provider_leases_closed_total\{reason="say \\"hi\\"\\\\\\n"\} 1\n/);
  assert.match(text, /# TYPE groundwork_provider_chain_height gauge\ngroundwork_provider_chain_height 42\n/);
  assert.ok(text.endsWith('\n'));
});
