/**
 * Pricing strategies: what to bid on an order, per block per lease, in the base unit of the
 * order's denomination. A strategy only prices; the bidder enforces the order's maxPrice, the
 * kinds and denominations offered and eligibility, so every strategy gets the same guards.
 *
 * - fixed: one price for every order.
 * - scale: a price from the order's spec (Akash's "scale" pricing): each per-GiB part is rounded
 *   up (a provider never under-charges a partial GiB), then the sum is floored at `min`.
 * - script: an operator's program, run in a child process with the order JSON on stdin; it
 *   prints a price or "skip". It runs under a hard time limit: on expiry its whole process
 *   group gets SIGKILL and the order is skipped (SCRIPT_TIMEOUT) — a hung pricing script must
 *   never hang the agent.
 */
import { spawn } from 'node:child_process';
import { dirname } from 'node:path';
import type { PricingConfig } from './config.js';
import type { OrderView } from './views.js';

/** Why an order was not bid on: one reason code per decision (logged and counted). */
export type SkipReason =
  | 'KIND_NOT_OFFERED'
  | 'DENOM_NOT_ACCEPTED'
  | 'OWN_ORDER'
  | 'WINDOW_CLOSED'
  | 'ALREADY_BID'
  | 'NOT_REGISTERED'
  | 'INELIGIBLE'
  | 'DEVICE_NOT_CONFIGURED'
  | 'PRICE_ABOVE_MAX'
  | 'SCRIPT_TIMEOUT'
  | 'SCRIPT_ERROR'
  | 'SCRIPT_BAD_OUTPUT'
  | 'SCRIPT_SKIP'
  | 'BID_NOT_COMPETITIVE'
  | 'BID_REJECTED';

export type PriceDecision = { bid: true; price: bigint } | { bid: false; reason: SkipReason; detail: string };

export interface PricingContext {
  /** The operator's address. */
  provider: string;
  /** The chain height the decision is made at. */
  height: bigint;
}

export interface PricingStrategy {
  readonly name: 'fixed' | 'scale' | 'script';
  price(order: OrderView, ctx: PricingContext): Promise<PriceDecision>;
}

export const GIB = 1n << 30n;

/** ⌈a / b⌉ for a ≥ 0, b > 0. */
function ceilDiv(a: bigint, b: bigint): bigint {
  return (a + b - 1n) / b;
}

export function fixedPricing(price: bigint): PricingStrategy {
  return { name: 'fixed', price: async () => ({ bid: true, price }) };
}

export type ScaleRates = Omit<Extract<PricingConfig, { type: 'scale' }>, 'type'>;

/** The scale price of a spec (pure; bigint throughout, partial GiB rounded up, floored at min). */
export function scalePrice(spec: OrderView['spec'], r: ScaleRates): bigint {
  let p: bigint;
  switch (spec.type) {
    case 'storage':
      p = ceilDiv(BigInt(spec.value.bytes) * r.storagePerGiB, GIB);
      break;
    case 'compute':
      p = r.cpuPerCore * BigInt(spec.value.cpuCores) + ceilDiv(BigInt(spec.value.memoryBytes) * r.memoryPerGiB, GIB) + r.gpuPerUnit * BigInt(spec.value.gpuCount);
      break;
    case 'coverage':
      p = ceilDiv(BigInt(spec.value.volumeBytes) * r.coveragePerGiB, GIB);
      break;
  }
  return p < r.min ? r.min : p;
}

export function scalePricing(rates: ScaleRates): PricingStrategy {
  return { name: 'scale', price: async (order) => ({ bid: true, price: scalePrice(order.spec, rates) }) };
}

/** Most a script may print; more is a bad answer, not a memory problem for the agent. */
const MAX_OUTPUT = 64 * 1024;

/**
 * Runs `path` with `input` on stdin: `.js`/`.mjs`/`.cjs` with this Node, anything else as an
 * executable. Its own process group (detached), so a timeout kills whatever it started too.
 */
export function runPriceScript(path: string, input: string, timeoutMs: number, env: Record<string, string> = {}): Promise<PriceDecision> {
  const isJs = /\.(c|m)?js$/.test(path);
  const cmd = isJs ? process.execPath : path;
  const args = isJs ? [path] : [];
  return new Promise((resolve) => {
    let done = false;
    const finish = (d: PriceDecision) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(d);
    };
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(cmd, args, { cwd: dirname(path), stdio: ['pipe', 'pipe', 'pipe'], detached: true, env: { ...process.env, ...env } });
    } catch (e) {
      resolve({ bid: false, reason: 'SCRIPT_ERROR', detail: `cannot start ${path}: ${(e as Error).message}` });
      return;
    }
    const killGroup = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL'); // the group is gone already, or not ours: the child at least
      }
    };
    const timer = setTimeout(() => {
      killGroup();
      finish({ bid: false, reason: 'SCRIPT_TIMEOUT', detail: `${path} did not answer within ${timeoutMs} ms (killed)` });
    }, timeoutMs);
    let out = '';
    let err = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.length > MAX_OUTPUT) {
        killGroup();
        finish({ bid: false, reason: 'SCRIPT_BAD_OUTPUT', detail: `${path} printed more than ${MAX_OUTPUT} bytes` });
      }
    });
    child.stderr?.on('data', (d: Buffer) => {
      if (err.length < 4096) err += d.toString();
    });
    child.on('error', (e) => finish({ bid: false, reason: 'SCRIPT_ERROR', detail: `cannot run ${path}: ${e.message}` }));
    child.on('close', (code, signal) => {
      if (code !== 0) {
        const why = signal ? `was killed by ${signal}` : `exited with ${code}`;
        const tail = err.trim().split('\n').slice(-3).join(' | ');
        return finish({ bid: false, reason: 'SCRIPT_ERROR', detail: `${path} ${why}${tail ? `: ${tail}` : ''}` });
      }
      finish(parseScriptOutput(out));
    });
    // A script that does not read stdin closes it early: EPIPE is not an error of ours.
    child.stdin?.on('error', () => {});
    child.stdin?.end(input);
  });
}

/** A script's answer: the first non-empty line, a positive decimal integer or "skip [why]". */
export function parseScriptOutput(out: string): PriceDecision {
  const line = out.split('\n').map((l) => l.trim()).find((l) => l !== '') ?? '';
  if (/^[0-9]{1,39}$/.test(line)) {
    const price = BigInt(line);
    if (price === 0n) return { bid: false, reason: 'SCRIPT_BAD_OUTPUT', detail: 'the script priced the order at 0 (print "skip" to pass on an order)' };
    if (price >= 1n << 128n) return { bid: false, reason: 'SCRIPT_BAD_OUTPUT', detail: 'the price exceeds 2^128-1' };
    return { bid: true, price };
  }
  const skip = /^skip(?:\s+(.*))?$/i.exec(line);
  if (skip) return { bid: false, reason: 'SCRIPT_SKIP', detail: skip[1] ?? 'the script skipped the order' };
  return { bid: false, reason: 'SCRIPT_BAD_OUTPUT', detail: `expected a price (decimal integer) or "skip", got ${JSON.stringify(line.slice(0, 80))}` };
}

export function scriptPricing(path: string, timeoutMs: number): PricingStrategy {
  return {
    name: 'script',
    // stdin: the order exactly as the node's API shows it (OrderView JSON); the context in env.
    price: (order, ctx) => runPriceScript(path, `${JSON.stringify(order)}\n`, timeoutMs, { GW_PROVIDER: ctx.provider, GW_HEIGHT: ctx.height.toString() }),
  };
}

export function createPricing(c: PricingConfig): PricingStrategy {
  switch (c.type) {
    case 'fixed':
      return fixedPricing(c.price);
    case 'scale':
      return scalePricing(c);
    case 'script':
      return scriptPricing(c.path, c.timeoutMs);
  }
}
