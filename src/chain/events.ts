/**
 * Events: what a tx or a block did, as typed key/value records (`bank.transfer` with sender,
 * recipient, amount...). They go into tx results, the event index and the WebSocket stream.
 */
import { list, string, struct, type Infer } from '../core/codec.js';

export const attributeCodec = struct('Attribute', { key: string(64), value: string(1024) });
export const eventCodec = struct('Event', { type: string(64), attributes: list(attributeCodec, 64) });
export type Event = Infer<typeof eventCodec>;
export type Attribute = Infer<typeof attributeCodec>;

export function event(type: string, attrs: Record<string, string | bigint | number>): Event {
  const attributes: Attribute[] = [];
  for (const key in attrs) attributes.push({ key, value: String(attrs[key]) });
  return { type, attributes };
}

export function attr(e: Event, key: string): string | undefined {
  return e.attributes.find((a) => a.key === key)?.value;
}
