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
