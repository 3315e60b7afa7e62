/**
 * The agent's local state: a cache of chain state, never the truth. It lets the agent log what
 * changed while it was down (a lease that closed, a bid that lost) and avoid re-deciding orders
 * it already passed on; the reconciler rebuilds it from the chain, so deleting the file is safe.
 *
 * One JSON file, `<stateDir>/state.json`, written atomically (temp file, fsync, rename): a crash
 * mid-write leaves the old file or the new one, never half of one.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { GroundworkError } from '../core/errors.js';
import type { Denom } from '../chain/modules/market/types.js';
import type { SkipReason } from './pricing.js';

export const STATE_VERSION = 1;

export interface LocalLease {
  id: string;
  order: string;
  device: string;
  customer: string;
  price: string;
  denom: Denom;
  startHeight: string;
  endHeight: string;
}

export interface LocalBid {
  order: string;
  device: string;
  price: string;
  height: string;
}

export interface LocalState {
  version: number;
  chainId: string;
  provider: string;
  /** Last height the agent looked at (events processed or reconciled). */
  height: string;
  /** Leases served now, by id. */
  leases: Record<string, LocalLease>;
  /** Bids standing now, by order id. */
  bids: Record<string, LocalBid>;
  /** Open orders passed on, by order id (forgotten once the order stops taking bids). */
  skipped: Record<string, SkipReason>;
  lastWithdrawHeight: string;
}

export function emptyState(chainId: string, provider: string): LocalState {
  return { version: STATE_VERSION, chainId, provider, height: '0', leases: {}, bids: {}, skipped: {}, lastWithdrawHeight: '0' };
}

export class StateFileError extends GroundworkError {
  override name = 'StateFileError';
}

export interface StateStore {
  /** The saved state, or undefined when there is none (or it belongs to another chain/operator). */
  load(chainId: string, provider: string): LocalState | undefined;
  save(s: LocalState): void;
}

/** The state file in `dir`. A file from another chain or operator is ignored (and replaced on the next save). */
export function fileStateStore(dir: string): StateStore & { readonly path: string } {
  const path = join(dir, 'state.json');
  return {
    path,
    load(chainId, provider) {
      if (!existsSync(path)) return undefined;
      let s: LocalState;
      try {
        s = JSON.parse(readFileSync(path, 'utf8')) as LocalState;
      } catch {
        // A cache that does not parse is rebuilt from the chain, not fatal.
        return undefined;
      }
      if (s.version !== STATE_VERSION || s.chainId !== chainId || s.provider !== provider) return undefined;
      return { ...emptyState(chainId, provider), ...s };
    },
    save(s) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const tmp = `${path}.tmp-${process.pid}`;
      const fd = openSync(tmp, 'w', 0o600);
      try {
        writeSync(fd, `${JSON.stringify(s, null, 2)}\n`);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, path);
    },
  };
}

/** An in-memory store (tests). */
export function memoryStateStore(initial?: LocalState): StateStore & { current: LocalState | undefined } {
  const st = {
    current: initial ? structuredClone(initial) : undefined,
    load: (chainId: string, provider: string) => (st.current && st.current.chainId === chainId && st.current.provider === provider ? structuredClone(st.current) : undefined),
    save: (s: LocalState) => {
      st.current = structuredClone(s);
    },
  };
  return st;
}

/**
 * One agent per state directory: a pid file. A stale one (its process is gone, e.g. after
 * SIGKILL) is taken over; a live one is an error, since two agents would bid twice.
 */
export function lockStateDir(dir: string): () => void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, 'agent.pid');
  if (existsSync(path)) {
    const pid = Number(readFileSync(path, 'utf8').trim());
    if (Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
      throw new StateFileError('AGENT_RUNNING', `another provider agent (pid ${pid}) is running with state directory ${dir}; stop it first`);
    }
  }
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', 0o600);
  writeSync(fd, `${process.pid}\n`);
  closeSync(fd);
  renameSync(tmp, path);
  return () => {
    try {
      if (Number(readFileSync(path, 'utf8').trim()) === process.pid) rmSync(path);
    } catch {
      // already gone
    }
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
