/**
 * What a message handler or block hook sees: the block it runs in, the state layer it may read
 * and write, and an event sink. Time and height come only from here (never from the clock).
 */
import type { Bytes } from '../core/bytes.js';
import type { KVStore } from '../state/overlay.js';
import type { Event } from './events.js';

export interface BlockInfo {
  readonly chainId: string;
  readonly height: bigint;
  /** Block time, unix milliseconds, as the proposer put it in the header. */
  readonly time: bigint;
  /** Public key of the validator that proposed the block (zero bytes at genesis). */
  readonly proposer: Bytes;
}

export class Context {
  readonly events: Event[] = [];

  constructor(
    readonly block: BlockInfo,
    readonly store: KVStore,
    /** The tx signer's address, while a tx runs. */
    readonly sender: Bytes | undefined = undefined,
  ) {}

  emit(e: Event): void {
    this.events.push(e);
  }
}
