/**
 * WebSocket stream at /v1/ws. A client sends JSON commands:
 *
 *   {"op": "subscribe", "channel": "blocks"}
 *   {"op": "subscribe", "channel": "txs", "filter": "bank.transfer.recipient=gw1..."}   (filter optional)
 *   {"op": "unsubscribe", "channel": "txs"}
 *
 * and receives, after each committed block:
 *
 *   {"channel": "blocks", "block": {height, hash, time, txCount, appHash}}
 *   {"channel": "txs", "tx": {hash, height, index, code, codespace, error, events}}
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

interface Subscription {
  blocks: boolean;
  txs: boolean;
  /** "type.key=value" or just "type"; undefined: every tx. */
  filter: string | undefined;
}

function matches(filter: string | undefined, events: CommittedBlock['results']['txResults'][number]['events']): boolean {
  if (!filter) return true;
  const eq = filter.indexOf('=');
  if (eq < 0) return events.some((e) => e.type === filter);
  const name = filter.slice(0, eq);
  const value = filter.slice(eq + 1);
  const dot = name.lastIndexOf('.');
  const type = name.slice(0, dot);
  const key = name.slice(dot + 1);
  return events.some((e) => e.type === type && e.attributes.some((a) => a.key === key && a.value === value));
}

export function attachWebSocket(app: FastifyInstance, backend: NodeBackend, log: Logger): void {
  const clients = new Map<WebSocket, Subscription>();

  const unsubscribe = backend.onBlock((b) => {
    if (clients.size === 0) return;
    let blockMsg: string | undefined;
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
    }
  });
  app.addHook('onClose', async () => {
    unsubscribe();
    for (const s of clients.keys()) s.terminate();
    clients.clear();
  });

  app.get('/v1/ws', { websocket: true, schema: { summary: 'WebSocket stream of blocks and txs', tags: ['stream'] } }, (socket) => {
    const sub: Subscription = { blocks: false, txs: false, filter: undefined };
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
      if ((cmd.op !== 'subscribe' && cmd.op !== 'unsubscribe') || (cmd.channel !== 'blocks' && cmd.channel !== 'txs')) {
        return reply({ error: { code: 'INVALID_COMMAND', message: 'op must be "subscribe" or "unsubscribe", channel "blocks" or "txs"' } });
      }
      if (cmd.filter !== undefined && (typeof cmd.filter !== 'string' || cmd.filter.length > 512)) {
        return reply({ error: { code: 'INVALID_COMMAND', message: 'filter must be a string like "bank.transfer.recipient=gw1..."' } });
      }
      const on = cmd.op === 'subscribe';
      if (cmd.channel === 'blocks') sub.blocks = on;
      else {
        sub.txs = on;
        sub.filter = on ? (cmd.filter as string | undefined) : undefined;
      }
      return reply({ ok: true, op: cmd.op, subscription: cmd.channel });
    });
    socket.on('close', () => clients.delete(socket));
    socket.on('error', (e) => log.debug('websocket error', { error: e.message }));
  });
}
