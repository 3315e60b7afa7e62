/**
 * Events: what a tx or a block did, as typed key/value records (`bank.transfer` with sender,
 * recipient, amount...). They go into tx results, the event index and the WebSocket stream.
 */
import { list, string, struct, type Infer } from '../core/codec.js';

export const attributeCodec = struct('Attribute', { key: string(64), value: string(1024) });
export const eventCodec = struct('Event', { type: string(64), attributes: list(attributeCodec, 64) });
export type Event = Infer<typeof eventCodec>;
export type Attribute = Infer<typeof attributeCodec>;

/**
 * Builds an event. Events are values, never changed once made: an attribute equal to the last
 * one made with the same key (an order's id in each of its events, the escrow account as the
 * sender of every refund, an equal amount) is that same object. A block keeps every event until
 * it commits, and a matching block makes ~20 per order: sharing keeps a fifth less alive.
 */
export function event(type: string, attrs: Record<string, string | bigint | number>): Event {
  // Object.keys and a preallocated array: about twice as fast as for-in and push.
  const keys = Object.keys(attrs);
  const attributes = new Array<Attribute>(keys.length);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    const v = attrs[key] as string | bigint | number;
    const value = typeof v === 'string' ? v : typeof v === 'bigint' ? bigString(v) : String(v);
    let a = lastAttr.get(key);
    if (a === undefined || a.value !== value) {
      a = { key, value };
      if (lastAttr.size < 256 || lastAttr.has(key)) lastAttr.set(key, a);
    }
    attributes[i] = a;
  }
  return { type, attributes };
}

/** The last attribute made per key (a few dozen keys: event attribute names are fixed strings). */
const lastAttr = new Map<string, Attribute>();

/** String(v), the same string as last time for the same amount or id (see event). */
const lastBig: bigint[] = [-1n, -1n];
const lastStr: string[] = ['', ''];
let lastAt = 0;
function bigString(v: bigint): string {
  if (v === lastBig[0]) return lastStr[0] as string;
  if (v === lastBig[1]) return lastStr[1] as string;
  const s = String(v);
  lastBig[lastAt] = v;
  lastStr[lastAt] = s;
  lastAt ^= 1;
  return s;
}

export function attr(e: Event, key: string): string | undefined {
  return e.attributes.find((a) => a.key === key)?.value;
}
