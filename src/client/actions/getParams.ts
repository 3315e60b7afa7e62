import type { Client } from '../client.js';

export type ParamsView = Record<string, Record<string, unknown>>;

/** Current parameters of every module (JSON form: amounts as decimal strings). */
export function getParams(client: Client): Promise<ParamsView> {
  return client.request<ParamsView>('GET', '/v1/params');
}
