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
  /**
   * The app hash of the last committed block, set by the App: randomness nobody could know
   * before that block was committed (storage challenges are drawn from it). Absent at genesis.
   */
  readonly seed?: Bytes;
}

/**
 * Data a block produces besides state: derived, deterministic, too large to keep in state (a
 * reward manifest's lines), written by the node with the block's commit into its `artifacts`
 * table and served by the API. Never read back by the state machine.
 */
export interface Artifact {
  readonly key: Bytes;
  readonly value: Bytes;
}

export class Context {
  readonly events: Event[] = [];
  readonly artifacts: Artifact[] = [];
  /** Whether the height, time or proposer were read (admission results then expire with the block). */
  usedBlock = false;

  constructor(
    private readonly info: BlockInfo,
    readonly store: KVStore,
    /** The tx signer's address, while a tx runs. */
    readonly sender: Bytes | undefined = undefined,
    /**
     * Admission (CheckTx): only what decides whether later txs are admissible is recorded (no
     * events, no credits to third parties such as the fee collector).
     */
    readonly checkOnly = false,
  ) {}

  /** The block this runs in (reading it marks the result as block-dependent). */
  get block(): BlockInfo {
    this.usedBlock = true;
    return this.info;
  }

  /** The chain id (constant: reading it does not make a result block-dependent). */
  get chainId(): string {
    return this.info.chainId;
  }

  /** Records an artifact (see Artifact); dropped in CheckTx. */
  putArtifact(key: Bytes, value: Bytes): void {
    if (!this.checkOnly) this.artifacts.push({ key, value });
  }

  /** Records an event; `attrs` runs only when events are kept (not in CheckTx). */
  emit(type: string, attrs: () => Record<string, string | bigint | number>): void {
    if (!this.checkOnly) this.events.push(event(type, attrs()));
  }
}
