/**
 * Chain events as they are committed, over the node's WebSocket (`/v1/ws`, channel `events`):
 * begin-block events, the events of successful txs, and end-block events — the only way to see
 * what the chain does on its own (the market's window-close matching, a lease closed when its
 * escrow runs dry), since no tx carries those.
 *
 *   const sub = subscribeEvents(client, 'market.lease.created.provider=gw1...', (e) => {
 *     console.log(e.height, e.source, e.event.type, e.event.attributes.lease);
 *   });
 *   await sub.ready;   // subscribed (rejects when the node cannot be reached)
 *   ...
 *   sub.close();
 *
 * A stream is not proof and not a log: events of blocks committed while the connection was down
 * are not replayed. The subscription reconnects by itself (options.reconnectMs) and calls
 * `onOpen` after every (re)subscription, where a caller reconciles with queries.
 */
import WebSocket from 'ws';
import type { Client } from './client.js';
import { ApiResponseError, ClientError, NodeUnreachableError } from './errors.js';

/** One committed event, as the events channel delivers it. */
export interface ChainEvent {
  height: bigint;
  /** Where in the block: begin-block, a successful tx, or end-block. */
  source: 'begin' | 'tx' | 'end';
  /** The tx's hash (upper-case hex) and index in the block, for source "tx". */
  txHash?: string;
  txIndex?: number;
  event: { type: string; attributes: Record<string, string> };
}

export interface SubscribeEventsOptions {
  /** Called after every successful (re)subscription: reconcile here, events in a gap are lost. */
  onOpen?: () => void;
  /** Connection or server errors after the first subscription (the first one rejects `ready`). */
  onError?: (e: ClientError) => void;
  /** Wait this long before reconnecting after a lost connection; 0: do not reconnect. Default 1000. */
  reconnectMs?: number;
}

export interface EventSubscription {
  /** Resolves once the node acknowledged the subscription; rejects if the first attempt fails. */
  readonly ready: Promise<void>;
  /** Stops the stream (and any reconnecting). */
  close(): void;
}

/** NodeUnreachableError (no connection), ApiResponseError (the node refused the subscription). */
export type SubscribeEventsErrorType = ClientError;

/** The node's WebSocket URL from an API URL or a client: http(s)://host → ws(s)://host/v1/ws. */
export function wsUrl(target: Client | string): string {
  const base = (typeof target === 'string' ? target : target.url).replace(/\/+$/, '');
  return `${base.replace(/^http/i, 'ws')}/v1/ws`;
}

interface WireEvent {
  channel?: string;
  height?: string;
  source?: ChainEvent['source'];
  txHash?: string;
  txIndex?: number;
  event?: ChainEvent['event'];
  ok?: boolean;
  error?: { code: string; message: string };
}

/**
 * Subscribes to committed events matching `filter` ("type", e.g. "market.lease.created", or
 * "type.key=value", e.g. "market.bid.removed.provider=gw1..."; undefined or "": every event).
 * `onEvent` is called once per event, in block order.
 */
export function subscribeEvents(target: Client | string, filter: string | undefined, onEvent: (e: ChainEvent) => void, options: SubscribeEventsOptions = {}): EventSubscription {
  const url = wsUrl(target);
  const reconnectMs = options.reconnectMs ?? 1000;
  let socket: WebSocket | undefined;
  let closed = false;
  let first = true;
  let timer: NodeJS.Timeout | undefined;
  let resolveReady!: () => void;
  let rejectReady!: (e: unknown) => void;
  const ready = new Promise<void>((res, rej) => {
    resolveReady = res;
    rejectReady = rej;
  });
  // A caller that never awaits `ready` must not get an unhandled rejection.
  ready.catch(() => undefined);

  const fail = (e: ClientError) => {
    if (first) {
      first = false;
      closed = true;
      rejectReady(e);
      socket?.terminate();
    } else options.onError?.(e);
  };

  const connect = () => {
    const ws = new WebSocket(url);
    socket = ws;
    ws.on('open', () => ws.send(JSON.stringify({ op: 'subscribe', channel: 'events', ...(filter ? { filter } : {}) })));
    ws.on('message', (data) => {
      let m: WireEvent;
      try {
        m = JSON.parse(data.toString()) as WireEvent;
      } catch (e) {
        return options.onError?.(new ClientError('INVALID_RESPONSE', `the node sent a non-JSON WebSocket message`, { cause: e }));
      }
      if (m.error) return fail(new ApiResponseError(0, m.error.code, `the node refused the events subscription: ${m.error.message}`, m));
      if (m.ok) {
        if (first) {
          first = false;
          resolveReady();
        }
        options.onOpen?.();
        return;
      }
      if (m.channel !== 'events' || !m.event || m.height === undefined || !m.source) return;
      onEvent({
        height: BigInt(m.height),
        source: m.source,
        ...(m.txHash !== undefined ? { txHash: m.txHash } : {}),
        ...(m.txIndex !== undefined ? { txIndex: m.txIndex } : {}),
        event: m.event,
      });
    });
    ws.on('error', (e) => {
      // 'close' follows; report the cause here.
      if (first) fail(new NodeUnreachableError(url, { cause: e }));
      else options.onError?.(new NodeUnreachableError(url, { cause: e }));
    });
    ws.on('close', () => {
      if (closed || reconnectMs <= 0) {
        closed = true;
        return;
      }
      timer = setTimeout(connect, reconnectMs);
    });
  };
  connect();

  return {
    ready,
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      socket?.close();
    },
  };
}
