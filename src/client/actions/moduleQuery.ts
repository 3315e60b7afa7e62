import { ApiResponseError, ClientError } from '../errors.js';
import type { Client } from '../client.js';

/**
 * Runs a module's read-only query on the node (`GET /v1/q/<module>/<query>`). The answer is
 * the node's word, not proven: for values that must be verified, read the state key with
 * getState (Merkle proof) instead.
 */
export function moduleQuery<T = unknown>(client: Client, module: string, query: string, args: Record<string, string | bigint | number | undefined> = {}): Promise<T> {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(args)) if (v !== undefined) qs.set(k, String(v));
  const q = qs.size ? `?${qs.toString()}` : '';
  return client.request<T>('GET', `/v1/q/${encodeURIComponent(module)}/${encodeURIComponent(query)}${q}`);
}

/**
 * A vertical's query (market, storage…): a node without the module, or without this query, is a
 * clear error (`<MODULE>_UNAVAILABLE`), not a 404 that reads like a missing record; `notFound`
 * turns the query's own NOT_FOUND (or a `<module>.*_NOT_FOUND` chain error) into a value.
 */
export async function verticalQuery<T>(client: Client, module: string, query: string, args: Record<string, string | bigint | number | undefined>, notFound?: () => T): Promise<T> {
  const unavailable = `${module.toUpperCase()}_UNAVAILABLE`;
  try {
    return await moduleQuery<T>(client, module, query, args);
  } catch (e) {
    if (e instanceof ApiResponseError && e.status === 404) {
      if (e.message.startsWith(`no module "${module}"`)) {
        throw new ClientError(unavailable, `the node at ${client.url} has no ${module} module (is it running an older version?)`, { cause: e });
      }
      if (/has no query/.test(e.message)) throw new ClientError(unavailable, `the node's ${module} module has no "${query}" query (a different version?)`, { cause: e });
    }
    if (notFound && e instanceof ApiResponseError && (e.status === 404 || /_NOT_FOUND$/.test(e.code))) return notFound();
    throw e;
  }
}
