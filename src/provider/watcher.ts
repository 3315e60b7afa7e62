/**
 * The block watcher: a WebSocket to the node's /v1/ws, subscribed to the `blocks` channel. It
 * reports each new height; the agent reads that block's market events (tx events and the end
 * block's, where matching and overdraft closes happen) and catches up any heights it missed, so
 * a dropped message or a reconnect never loses an event.
 *
 * When the socket drops (node restart, network) it reconnects with exponential backoff and
 * jitter (0.5 s doubling to 30 s); each reconnect is reported so the agent reconciles. A socket
 * that stops answering pings is treated as dropped.
 */
import WebSocket from 'ws';
import type { Logger } from '../core/log.js';

export interface BlockWatcherOptions {
  /** Node API base URL (http://host:port); the socket is <url>/v1/ws. */
  url: string;
  log: Logger;
  onBlock(height: bigint): void;
  /** Called on every connection after the first (the agent reconciles). */
  onReconnect(): void;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  pingEveryMs?: number;
}

export interface BlockWatcher {
  start(): void;
  stop(): Promise<void>;
  readonly connected: boolean;
}

export function wsUrl(url: string): string {
  return `${url.replace(/^http/, 'ws').replace(/\/+$/, '')}/v1/ws`;
}

export function blockWatcher(o: BlockWatcherOptions): BlockWatcher {
  const minB = o.minBackoffMs ?? 500;
  const maxB = o.maxBackoffMs ?? 30_000;
  const pingEvery = o.pingEveryMs ?? 15_000;
  let ws: WebSocket | undefined;
  let stopped = false;
  let connected = false;
  let everConnected = false;
  let attempt = 0;
  let retry: NodeJS.Timeout | undefined;
  let ping: NodeJS.Timeout | undefined;

  const schedule = () => {
    if (stopped) return;
    const base = Math.min(maxB, minB * 2 ** Math.min(attempt, 16));
    const delay = Math.round(base / 2 + (Math.random() * base) / 2);
    attempt++;
    o.log.debug('websocket reconnect scheduled', { inMs: delay, attempt });
    retry = setTimeout(connect, delay);
  };

  function connect(): void {
    if (stopped) return;
    const sock = new WebSocket(wsUrl(o.url));
    ws = sock;
    let alive = true;
    sock.on('open', () => {
      connected = true;
      attempt = 0;
      sock.send(JSON.stringify({ op: 'subscribe', channel: 'blocks' }));
      o.log.info(everConnected ? 'ws-reconnected' : 'ws-connected', { url: wsUrl(o.url) });
      if (everConnected) o.onReconnect();
      everConnected = true;
      ping = setInterval(() => {
        if (!alive) {
          o.log.warn('ws-dropped', { reason: 'NO_PONG' });
          sock.terminate();
          return;
        }
        alive = false;
        sock.ping();
      }, pingEvery);
    });
    sock.on('pong', () => (alive = true));
    sock.on('message', (data) => {
      alive = true;
      let m: { channel?: string; block?: { height?: string }; error?: { code: string; message: string } };
      try {
        m = JSON.parse(data.toString()) as typeof m;
      } catch {
        return;
      }
      if (m.error) o.log.warn('ws-error', { code: m.error.code, message: m.error.message });
      if (m.channel === 'blocks' && typeof m.block?.height === 'string' && /^[0-9]+$/.test(m.block.height)) o.onBlock(BigInt(m.block.height));
    });
    sock.on('error', (e) => o.log.debug('websocket error', { error: e.message }));
    sock.on('close', (code) => {
      clearInterval(ping);
      const was = connected;
      connected = false;
      if (ws === sock) ws = undefined;
      if (stopped) return;
      if (was) o.log.warn('ws-dropped', { reason: 'CLOSED', code });
      schedule();
    });
  }

  return {
    start() {
      stopped = false;
      connect();
    },
    async stop() {
      stopped = true;
      clearTimeout(retry);
      clearInterval(ping);
      const s = ws;
      ws = undefined;
      if (!s || s.readyState === WebSocket.CLOSED) return;
      await new Promise<void>((r) => {
        s.once('close', () => r());
        s.terminate();
      });
    },
    get connected() {
      return connected;
    },
  };
}
