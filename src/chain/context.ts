/**
 * What a message handler or block hook sees: the block it runs in, the state layer it may read
 * and write, and an event sink. Time and height come only from here (never from the clock).
 */
import type { Bytes } from '../core/bytes.js';
import type { KVStore } from '../state/overlay.js';
import { event, type Event } from './events.js';

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
    /** False when the events would be thrown away (CheckTx): attributes are then not even formatted. */
    readonly recordEvents = true,
  ) {}

  /** Records an event; `attrs` runs only when events are kept. */
  emit(type: string, attrs: () => Record<string, string | bigint | number>): void {
    if (this.recordEvents) this.events.push(event(type, attrs()));
  }
}
