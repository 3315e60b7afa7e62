import type { Client } from '../client.js';
import { moduleQuery } from './moduleQuery.js';

export interface MakerView {
  name: string;
  /** Ed25519 public key, hex. */
  pubKey: string;
  approvedHeight: string;
  /** Set when governance revoked the maker (its devices stay; it onboards no new ones). */
  revokedHeight: string | null;
  /** Devices onboarded with this maker's signature. */
  devices: string;
}

export type GetMakersReturnType = MakerView[];

/** Every maker governance ever approved (the node's answer, not proven). */
export async function getMakers(client: Client): Promise<GetMakersReturnType> {
  return (await moduleQuery<{ makers: MakerView[] }>(client, 'devices', 'makers')).makers;
}
