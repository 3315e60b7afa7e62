/**
 * WebSocket stream at /v1/ws. A client sends JSON commands:
 *
 *   {"op": "subscribe", "channel": "blocks"}
 *   {"op": "subscribe", "channel": "txs", "filter": "bank.transfer.recipient=gw1..."}   (filter optional)
 *   {"op": "subscribe", "channel": "events", "filter": "market.lease.closed.provider=gw1..."}   (filter optional)
 *   {"op": "unsubscribe", "channel": "txs"}
 *
 * A filter is "type" (an event of that type) or "type.key=value" (an event of that type with that
 * attribute). A new subscribe to a channel replaces its filter. After each committed block the
 * client receives:
 *
 *   {"channel": "blocks", "block": {height, hash, time, txCount, appHash}}
 *   {"channel": "txs", "tx": {hash, height, index, code, codespace, error, events}}
 *       one per tx (failed ones too) with an event matching the filter
 *   {"channel": "events", "height", "source": "begin"|"tx"|"end", "txHash"?, "txIndex"?, "event": {type, attributes}}
 *       one per matching event, in block order: begin-block events, then the events of each
 *       successful tx (code 0; a failed tx's events were rolled back), then end-block events
 *       (e.g. the market's window-close matching and lease closes, which no tx carries)
 *
 * A bad command gets {"error": {code, message}} and the connection stays open. A client that
 * falls more than 16 MiB behind is disconnected (close code 1008) rather than buffered forever.
 */
import type { FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';
import type { Logger } from '../core/log.js';
import type { CommittedBlock } from '../node/node.js';
import type { NodeBackend } from './backend.js';
import { eventsJSON, hexU } from './views.js';

const MAX_BUFFERED = 16 << 20;

type ChainEvent = CommittedBlock['results']['beginEvents'][number];

interface Subscription {
  blocks: boolean;
  txs: boolean;
  events: boolean;
  /** The txs channel's filter: "type.key=value" or just "type"; undefined: every tx. */
  filter: string | undefined;
  /** The events channel's filter, same form; undefined: every event. */
  eventFilter: string | undefined;
}

/** Whether one event matches a filter ("type" or "type.key=value"; the key is after the last dot). */
function eventMatches(filter: string | undefined, e: ChainEvent): boolean {
  if (!filter) return true;
  const eq = filter.indexOf('=');
  if (eq < 0) return e.type === filter;
  const name = filter.slice(0, eq);
  const value = filter.slice(eq + 1);
  const dot = name.lastIndexOf('.');
  const type = name.slice(0, dot);
  const key = name.slice(dot + 1);
  return e.type === type && e.attributes.some((a) => a.key === key && a.value === value);
}

function matches(filter: string | undefined, events: readonly ChainEvent[]): boolean {
  return !filter || events.some((e) => eventMatches(filter, e));
}

/** The events channel's messages for one block: begin events, successful txs' events, end events. */
function eventMessages(b: CommittedBlock, filter: string | undefined): string[] {
  const out: string[] = [];
  const height = String(b.height);
  const push = (source: 'begin' | 'tx' | 'end', events: readonly ChainEvent[], tx?: { hash: string; index: number }) => {
    const picked = events.filter((e) => eventMatches(filter, e));
    if (picked.length === 0) return;
    eventsJSON(picked).forEach((event) => out.push(JSON.stringify({ channel: 'events', height, source, ...(tx ? { txHash: tx.hash, txIndex: tx.index } : {}), event })));
  };
  push('begin', b.results.beginEvents);
  b.results.txResults.forEach((r, i) => {
    if (r.code === 0) push('tx', r.events, { hash: hexU(b.txHashes[i] as Uint8Array), index: i });
  });
  push('end', b.results.endEvents);
  return out;
}

export function attachWebSocket(app: FastifyInstance, backend: NodeBackend, log: Logger): void {
  const clients = new Map<WebSocket, Subscription>();

  const unsubscribe = backend.onBlock((b) => {
    if (clients.size === 0) return;
    let blockMsg: string | undefined;
    // Every events subscriber with the same filter gets the same messages: build them once.
    const eventMsgs = new Map<string, string[]>();
    for (const [socket, sub] of clients) {
      if (socket.bufferedAmount > MAX_BUFFERED) {
        socket.close(1008, 'client too slow: more than 16 MiB unread');
        clients.delete(socket);
        continue;
      }
      if (sub.blocks) {
        blockMsg ??= JSON.stringify({
          channel: 'blocks',
          block: {
            height: String(b.height),
            hash: hexU(b.hash),
            time: new Date(Number(b.block.header.time)).toISOString(),
            txCount: b.block.txs.length,
            appHash: hexU(b.block.header.appHash),
          },
        });
        socket.send(blockMsg);
      }
      if (sub.txs) {
        b.results.txResults.forEach((r, i) => {
          if (!matches(sub.filter, r.events)) return;
          socket.send(
            JSON.stringify({
              channel: 'txs',
              tx: {
                hash: hexU(b.txHashes[i] as Uint8Array),
                height: String(b.height),
                index: i,
                code: r.code,
                codespace: r.codespace,
                error: r.error,
                events: eventsJSON(r.events),
              },
            }),
          );
        });
      }
      if (sub.events) {
        const key = sub.eventFilter ?? '';
        let m = eventMsgs.get(key);
        if (!m) eventMsgs.set(key, (m = eventMessages(b, sub.eventFilter)));
        for (const msg of m) socket.send(msg);
      }
    }
  });
  app.addHook('onClose', async () => {
    unsubscribe();
    for (const s of clients.keys()) s.terminate();
    clients.clear();
  });

  app.get('/v1/ws', { websocket: true, schema: { summary: 'WebSocket stream of blocks, txs and events', tags: ['stream'] } }, (socket) => {
    const sub: Subscription = { blocks: false, txs: false, events: false, filter: undefined, eventFilter: undefined };
    clients.set(socket, sub);
    const reply = (o: unknown) => socket.send(JSON.stringify(o));
    socket.on('message', (data) => {
      let cmd: { op?: unknown; channel?: unknown; filter?: unknown };
      try {
        cmd = JSON.parse(data.toString()) as typeof cmd;
      } catch {
        return reply({ error: { code: 'INVALID_JSON', message: 'commands are JSON, e.g. {"op":"subscribe","channel":"blocks"}' } });
      }
      if (typeof cmd !== 'object' || cmd === null) return reply({ error: { code: 'INVALID_COMMAND', message: 'expected a JSON object' } });
      if ((cmd.op !== 'subscribe' && cmd.op !== 'unsubscribe') || (cmd.channel !== 'blocks' && cmd.channel !== 'txs' && cmd.channel !== 'events')) {
        return reply({ error: { code: 'INVALID_COMMAND', message: 'op must be "subscribe" or "unsubscribe", channel "blocks", "txs" or "events"' } });
      }
      if (cmd.filter !== undefined && (typeof cmd.filter !== 'string' || cmd.filter.length > 512)) {
        return reply({ error: { code: 'INVALID_COMMAND', message: 'filter must be a string like "bank.transfer.recipient=gw1..." or an event type' } });
      }
      const on = cmd.op === 'subscribe';
      const filter = on && cmd.filter !== '' ? (cmd.filter as string | undefined) : undefined;
      if (cmd.channel === 'blocks') sub.blocks = on;
      else if (cmd.channel === 'txs') {
        sub.txs = on;
        sub.filter = filter;
      } else {
        sub.events = on;
        sub.eventFilter = filter;
      }
      return reply({ ok: true, op: cmd.op, subscription: cmd.channel });
    });
    socket.on('close', () => clients.delete(socket));
    socket.on('error', (e) => log.debug('websocket error', { error: e.message }));
  });
}
