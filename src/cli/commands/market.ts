/**
 * `groundwork market ...` (orders, bids, providers) and `groundwork lease ...` (leases, their
 * payment, top-ups): the customer's and the provider's side of the resource market.
 *
 * Prices are per block per lease, in the order's denomination: tokens (`--max-price 0.01gw` or
 * `10000ugw`) or Data Credits (`--denom dc --max-price 5`, a whole number). Before a tx is sent
 * the CLI checks what it can read (the order exists, is open, the price is within its maximum,
 * the lease is still active), so a plain mistake costs no fee; the chain checks everything again.
 */
import type { Command } from 'commander';
import { isValidCell } from 'h3-js';
import { formatAmount, parseAmount } from '../../core/amount.js';
import { U128_MAX, U64_MAX } from '../../core/codec.js';
import { InvalidInputError } from '../../core/errors.js';
import { encodeAddress } from '../../core/keys.js';
import { formatDc } from '../../core/usd.js';
import {
  CLOSE_REASONS,
  DENOMS,
  LEASE_STATUSES,
  ORDER_STATUSES,
  PROVIDER_CLOSE_REASONS,
  RESOURCE_KINDS,
  type Attribute,
  type CloseReason,
  type Denom,
  type LeaseStatus,
  type OrderStatus,
  type ResourceKind,
  type ResourceSpec,
} from '../../chain/modules/market/types.js';
import { percent } from '../../chain/modules/rewards/explain.js';
import { acceptBid } from '../../client/actions/acceptBid.js';
import { cancelBid } from '../../client/actions/cancelBid.js';
import { closeLease } from '../../client/actions/closeLease.js';
import { closeOrder } from '../../client/actions/closeOrder.js';
import { createOrder } from '../../client/actions/createOrder.js';
import { explainOrder, type ProviderEligibility } from '../../client/actions/explainOrder.js';
import { getBids } from '../../client/actions/getBids.js';
import { getLease } from '../../client/actions/getLease.js';
import { getLeases } from '../../client/actions/getLeases.js';
import { getOrder, type GetOrderReturnType } from '../../client/actions/getOrder.js';
import { getOrders } from '../../client/actions/getOrders.js';
import { getProvider } from '../../client/actions/getProvider.js';
import { getProviders } from '../../client/actions/getProviders.js';
import { getStatus } from '../../client/actions/getStatus.js';
import { placeBid } from '../../client/actions/placeBid.js';
import { previewSettlement, type PreviewSettlementReturnType } from '../../client/actions/previewSettlement.js';
import { registerProvider } from '../../client/actions/registerProvider.js';
import { topupOrder } from '../../client/actions/topupOrder.js';
import { withdrawEarnings } from '../../client/actions/withdrawEarnings.js';
import type { Client } from '../../client/client.js';
import { ClientError, TxFailedError, TxRejectedError } from '../../client/errors.js';
import type { MarketBid, MarketLease, MarketOrder, MarketProvider } from '../../client/marketViews.js';
import { Cli, parseIntArg, readPassphrase } from '../context.js';
import { formatBytes, parseBytes } from './device.js';
import { parseDeviceId } from './penalties.js';

// ---------------------------------------------------------------------------------------------
// Parsing (exported for the unit tests)

const collect = (v: string, prev: string[]) => prev.concat(v);

/** An order or lease id: a u64 ≥ 1. */
export function parseId(v: string, what: string): bigint {
  if (!/^[0-9]{1,20}$/.test(v) || BigInt(v) < 1n || BigInt(v) > U64_MAX) throw new InvalidInputError('INVALID_ARGUMENT', `${what} must be a positive integer, got "${v}"`);
  return BigInt(v);
}

/** A block count (u64 ≥ min). */
export function parseBlocks(v: string, what: string, min = 1n): bigint {
  if (!/^[0-9]{1,20}$/.test(v.trim()) || BigInt(v.trim()) < min || BigInt(v.trim()) > U64_MAX) {
    throw new InvalidInputError('INVALID_ARGUMENT', `${what} must be a whole number of blocks ≥ ${min}, got "${v}"`);
  }
  return BigInt(v.trim());
}

export function parseDenom(v: string): Denom {
  const d = v.toLowerCase();
  if (!(DENOMS as readonly string[]).includes(d)) throw new InvalidInputError('INVALID_ARGUMENT', `--denom must be one of ${DENOMS.join(', ')}, got "${v}"`);
  return d as Denom;
}

/**
 * An amount in a denomination: for `ugw` a token amount with its unit (0.01gw, 10000ugw); for
 * `dc` a whole number of Data Credits ("500" or "500dc"). `positive`: zero is refused.
 */
export function parseDenomAmount(input: string, denom: Denom, what: string, positive = true): bigint {
  let v: bigint;
  if (denom === 'dc') {
    const m = /^\s*([0-9]+)\s*(dc)?\s*$/i.exec(input);
    if (!m) {
      const hint = /gw/i.test(input) ? ': this is a Data Credit amount (the order is paid in DC), a whole number like 500' : '; a whole number of Data Credits, like 500';
      throw new InvalidInputError('INVALID_AMOUNT', `${what}: "${input}" is not a DC amount${hint}`);
    }
    v = BigInt(m[1] as string);
    if (v > U128_MAX) throw new InvalidInputError('AMOUNT_OVERFLOW', `${what}: "${input}" is too large`);
  } else {
    if (/^\s*-/.test(input)) throw new InvalidInputError('INVALID_AMOUNT', `${what} must be positive, got "${input}"`);
    try {
      v = parseAmount(input);
    } catch (e) {
      throw new InvalidInputError((e as InvalidInputError).code, `${what}: ${(e as Error).message}`, { cause: e });
    }
  }
  if (positive && v === 0n) throw new InvalidInputError('INVALID_AMOUNT', `${what} must be greater than zero`);
  return v;
}

/** A price: > 0, in the order's denomination; the error names the chain's code. */
export function parsePrice(input: string, denom: Denom, what: string): bigint {
  if (/^\s*-/.test(input) || /^\s*0+(\.0*)?\s*[a-z]*\s*$/i.test(input)) {
    throw new InvalidInputError('INVALID_PRICE', `${what} must be greater than zero (a price per block per lease), got "${input}"`);
  }
  return parseDenomAmount(input, denom, what);
}

/** A reputation threshold: "90%", "99.5%" (two decimals at most), "9000bps" → basis points. */
export function parseBps(input: string, what: string): number {
  const s = input.trim().toLowerCase();
  const bps = /^([0-9]{1,5})\s*bps$/.exec(s);
  const pct = /^([0-9]{1,3})(?:\.([0-9]{1,2}))?\s*%$/.exec(s);
  let v: number;
  if (bps) v = Number(bps[1]);
  else if (pct) v = Number(pct[1]) * 100 + Number((pct[2] ?? '').padEnd(2, '0'));
  else throw new InvalidInputError('INVALID_ARGUMENT', `${what} is a percentage like 90% (or 9000bps), got "${input}"`);
  if (v > 10_000) throw new InvalidInputError('INVALID_ARGUMENT', `${what} is at most 100%, got "${input}"`);
  return v;
}

/** `--attr key=value` options; keys distinct, ≤ 32 bytes, values ≤ 64 bytes. */
export function parseAttributes(list: readonly string[], max: number): Attribute[] {
  const out: Attribute[] = [];
  for (const a of list) {
    const eq = a.indexOf('=');
    const key = eq < 0 ? '' : a.slice(0, eq).trim();
    const value = eq < 0 ? '' : a.slice(eq + 1).trim();
    if (!key || !value) throw new InvalidInputError('INVALID_ARGUMENT', `--attr takes key=value (e.g. tier=datacenter), got "${a}"`);
    if (Buffer.byteLength(key) > 32 || Buffer.byteLength(value) > 64) throw new InvalidInputError('INVALID_ARGUMENT', `--attr "${a}": a key is at most 32 bytes and a value at most 64`);
    if (out.some((x) => x.key === key)) throw new InvalidInputError('INVALID_ARGUMENT', `--attr ${key} is given twice`);
    out.push({ key, value });
  }
  if (out.length > max) throw new InvalidInputError('INVALID_ARGUMENT', `at most ${max} --attr, got ${out.length}`);
  return out;
}

/** `--region <h3 cell>` options: valid H3 cells of any resolution, at most 64. */
export function parseRegion(list: readonly string[]): string[] {
  const out: string[] = [];
  for (const c of list) {
    const cell = c.trim().toLowerCase();
    if (!isValidCell(cell)) throw new InvalidInputError('INVALID_ARGUMENT', `--region "${c}" is not a valid H3 cell (e.g. 851fb467fffffff; "groundwork device assert-location" prints a device's)`);
    if (!out.includes(cell)) out.push(cell);
  }
  if (out.length > 64) throw new InvalidInputError('INVALID_ARGUMENT', `at most 64 --region cells, got ${out.length}`);
  return out;
}

export interface ResourceFlags {
  kind?: string;
  size?: string;
  duration?: string;
  cpu?: string;
  memory?: string;
  gpuModel?: string;
  gpuCount?: string;
  volume?: string;
}

const KIND_FLAGS: Record<ResourceKind, Array<keyof ResourceFlags>> = {
  storage: ['size'],
  compute: ['cpu', 'memory', 'gpuModel', 'gpuCount'],
  coverage: ['volume'],
};
const FLAG_NAMES: Record<string, string> = { size: '--size', cpu: '--cpu', memory: '--memory', gpuModel: '--gpu-model', gpuCount: '--gpu-count', volume: '--volume' };

/** The order's resource spec from the flags of its kind (flags of another kind are refused). */
export function parseSpec(f: ResourceFlags): ResourceSpec {
  if (f.kind === undefined || !(RESOURCE_KINDS as readonly string[]).includes(f.kind)) {
    throw new InvalidInputError('INVALID_ARGUMENT', `--kind must be one of ${RESOURCE_KINDS.join(', ')}${f.kind === undefined ? '' : `, got "${f.kind}"`}`);
  }
  const kind = f.kind as ResourceKind;
  for (const k of RESOURCE_KINDS) {
    if (k === kind) continue;
    for (const flag of KIND_FLAGS[k]) {
      if (f[flag] !== undefined && !KIND_FLAGS[kind].includes(flag)) throw new InvalidInputError('INVALID_ARGUMENT', `${FLAG_NAMES[flag]} applies to ${k} orders, not ${kind}`);
    }
  }
  const need = (flag: keyof ResourceFlags): string => {
    const v = f[flag];
    if (v === undefined) throw new InvalidInputError('INVALID_ARGUMENT', `a ${kind} order needs ${FLAG_NAMES[flag] ?? `--${flag}`} (${kindHelp(kind)})`);
    return v;
  };
  if (f.duration === undefined) throw new InvalidInputError('INVALID_ARGUMENT', `--duration <blocks> is required: how long each lease runs (${kindHelp(kind)})`);
  const durationBlocks = parseBlocks(f.duration, '--duration');
  const positiveBytes = (flag: keyof ResourceFlags) => {
    const v = parseBytes(need(flag), FLAG_NAMES[flag]);
    if (v === 0n || v > U64_MAX) throw new InvalidInputError('INVALID_ARGUMENT', `${FLAG_NAMES[flag]} must be more than 0 bytes and fit in 64 bits, got "${f[flag]}"`);
    return v;
  };
  switch (kind) {
    case 'storage':
      return { type: 'storage', value: { bytes: positiveBytes('size'), durationBlocks } };
    case 'coverage':
      return { type: 'coverage', value: { volumeBytes: positiveBytes('volume'), durationBlocks } };
    case 'compute': {
      const cpuCores = parseIntArg(need('cpu'), '--cpu', 1);
      const gpuCount = f.gpuCount === undefined ? (f.gpuModel ? 1 : 0) : parseIntArg(f.gpuCount, '--gpu-count', 0);
      const gpuModel = f.gpuModel ?? '';
      if (gpuCount > 0 && !gpuModel) throw new InvalidInputError('INVALID_ARGUMENT', '--gpu-count needs --gpu-model (e.g. --gpu-model a100)');
      if (Buffer.byteLength(gpuModel) > 64) throw new InvalidInputError('INVALID_ARGUMENT', '--gpu-model is at most 64 bytes');
      if (cpuCores > 0xffff_ffff || gpuCount > 0xffff_ffff) throw new InvalidInputError('INVALID_ARGUMENT', '--cpu and --gpu-count must fit in 32 bits');
      return { type: 'compute', value: { cpuCores, memoryBytes: positiveBytes('memory'), gpuModel, gpuCount, durationBlocks } };
    }
  }
}

function kindHelp(kind: ResourceKind): string {
  switch (kind) {
    case 'storage':
      return 'storage: --size 10GiB --duration 1000';
    case 'compute':
      return 'compute: --cpu 4 --memory 8GiB [--gpu-model a100 --gpu-count 1] --duration 1000';
    case 'coverage':
      return 'coverage: --volume 5GiB --duration 1000';
  }
}

// ---------------------------------------------------------------------------------------------
// Formatting

/** A price or escrow amount in its denomination: "0.01 GW" or "500 DC". */
export function formatIn(v: bigint, denom: Denom): string {
  return denom === 'dc' ? formatDc(v) : formatAmount(v);
}

export function specText(spec: ResourceSpec): string {
  switch (spec.type) {
    case 'storage':
      return `storage ${formatBytes(spec.value.bytes)} for ${spec.value.durationBlocks} blocks`;
    case 'coverage':
      return `coverage ${formatBytes(spec.value.volumeBytes)} for ${spec.value.durationBlocks} blocks`;
    case 'compute': {
      const v = spec.value;
      const gpu = v.gpuCount > 0 ? `, ${v.gpuCount}× ${v.gpuModel}` : '';
      return `compute ${v.cpuCores} CPU, ${formatBytes(v.memoryBytes)} memory${gpu} for ${v.durationBlocks} blocks`;
    }
  }
}

const short = (s: string, n = 8) => (s.length > 2 * n + 1 ? `${s.slice(0, n)}…${s.slice(-n)}` : s);
const bpsText = (v: number) => percent(BigInt(v), 10_000n, v % 100 === 0 ? 0 : 2);

function orderRow(o: MarketOrder): string {
  return `${String(o.id).padStart(5)}  ${o.status.padEnd(6)} ${specText(o.spec).padEnd(40)} ×${String(o.replicas).padEnd(3)} max ${formatIn(o.maxPrice, o.denom).padStart(14)}/block  escrow ${formatIn(o.escrow, o.denom).padStart(16)}  leases ${o.activeLeases}/${o.leaseCount}  ${o.customer}`;
}

function orderLines(o: MarketOrder): string[] {
  const status =
    o.status === 'open'
      ? `open: takes bids until the end of block ${o.bidWindowEnd}, then the cheapest eligible bids win`
      : o.status === 'active'
        ? `active: ${o.activeLeases} lease(s) running, paying ${formatIn(o.rate, o.denom)} per block`
        : `closed at height ${o.closedHeight} (${o.closeReason ?? 'unknown reason'})`;
  return [
    `order:        ${o.id}`,
    `customer:     ${o.customer}`,
    `wants:        ${specText(o.spec)}, ${o.replicas} replica(s)`,
    `max price:    ${formatIn(o.maxPrice, o.denom)} per block per lease`,
    `region:       ${o.region.length ? o.region.join(', ') : 'anywhere'}`,
    `requires:     ${[...o.attributes.map((a) => `${a.key}=${a.value}`), ...(o.minReputationBps > 0 ? [`reputation ≥ ${bpsText(o.minReputationBps)}`] : [])].join(', ') || 'nothing more'}`,
    `status:       ${status}`,
    `escrow:       ${formatIn(o.escrow, o.denom)} left (deposited ${formatIn(o.deposited, o.denom)}, paid ${formatIn(o.paid, o.denom)}, refunded ${formatIn(o.refunded, o.denom)}; settled to height ${o.settledHeight})`,
    `created:      height ${o.createdHeight}`,
  ];
}

function bidRow(b: MarketBid, denom: Denom): string {
  return `  ${b.provider}  device ${short(b.device)}  ${formatIn(b.price, denom).padStart(14)}/block  (deposit ${formatAmount(b.deposit)}, height ${b.height})${lostText(b)}`;
}

/** "  lost" and, for a lost bid, from which block its deposit can be taken back (before, it is the order's standby). */
function lostText(b: MarketBid): string {
  return b.status === 'lost' ? `  lost${b.reclaimableFrom === undefined ? '' : `, standby until block ${b.reclaimableFrom - 1n}`}` : '';
}

function leaseRow(l: MarketLease): string {
  const end = l.status === 'active' ? `runs to ${l.endHeight}` : `closed ${l.closedHeight} (${l.closeReason ?? '?'})`;
  return `${String(l.id).padStart(5)}  ${l.status.padEnd(6)} order ${String(l.order).padEnd(5)} ${l.provider}  ${formatIn(l.price, l.denom).padStart(14)}/block  paid ${formatIn(l.paid, l.denom).padStart(14)}  ${end}`;
}

function providerLines(p: MarketProvider): string[] {
  return [
    `provider:     ${p.address}`,
    `host:         ${p.hostUri}`,
    `attributes:   ${p.attributes.length ? p.attributes.map((a) => `${a.key}=${a.value}`).join(', ') : 'none'}`,
    `reputation:   ${bpsText(p.reputationBps)} (${p.successes} of ${p.outcomes} outcomes successful${p.vetted ? '' : '; not yet vetted: wins a limited share of orders until enough successes'})`,
    `leases:       ${p.activeLeases} active`,
    `earnings:     ${formatAmount(p.earnings)} not yet withdrawn (groundwork market provider withdraw <key>)`,
    `registered:   height ${p.registeredHeight}`,
  ];
}

function previewLines(p: PreviewSettlementReturnType, denom: Denom): string[] {
  const dry =
    p.dryHeight === null
      ? 'never at the current rate (no active lease)'
      : p.dryHeight <= p.height
        ? `now (height ${p.dryHeight}): the leases close for insufficient funds unless topped up`
        : `at height ${p.dryHeight}, in ${p.dryHeight - p.height} blocks (top up with "groundwork lease topup")`;
  return [`owed now:     ${formatIn(p.owed, denom)} accrued since the last settlement, at height ${p.height} (escrow ${formatIn(p.escrow, denom)})`, `escrow dry:   ${dry}`];
}

function previewJSON(p: PreviewSettlementReturnType) {
  return { height: p.height, owed: p.owed, escrow: p.escrow, dryHeight: p.dryHeight };
}

// ---------------------------------------------------------------------------------------------
// Helpers

interface TxOpts {
  fee?: string;
  passphraseFile?: string;
}

async function signer(cli: Cli, from: string, opts: TxOpts) {
  const kr = cli.keyring();
  const passphrase = kr.needsPassphrase(from) ? await readPassphrase(opts, `Passphrase of "${from}":`) : undefined;
  return kr.signer(from, passphrase);
}

function txParams(opts: TxOpts) {
  return { ...(opts.fee !== undefined ? { fee: parseAmount(opts.fee) } : {}), timeoutMs: 60_000 };
}

function withTxOptions(c: Command, key: string): Command {
  return c.option('--fee <amount>', 'fee (default: the minimum for the tx size)').option('--passphrase-file <file>', `file holding the passphrase of ${key}`);
}

/** What to do next after a chain error the user can act on. */
const HINTS: Record<string, (ctx: { order?: bigint }) => string> = {
  'market.INELIGIBLE': (c) => `see why with: groundwork market order explain ${c.order ?? '<order>'}`,
  'market.INSUFFICIENT_STAKE': () => 'a provider needs bonded stake of at least market.minProviderStake: groundwork staking delegate <key> <key> <amount>',
  'market.PROVIDER_NOT_REGISTERED': () => 'register first: groundwork market provider register <key> --host-uri <url>',
  'market.BID_NOT_COMPETITIVE': (c) => `the order has its maximum number of bids: bid below the highest (groundwork market bid list ${c.order ?? '<order>'})`,
  'market.INSUFFICIENT_DEPOSIT': () => '--deposit must cover at least one block of every lease: max price × replicas',
};

/** Runs a tx; a chain error keeps its code and gets a hint when there is one. */
async function tx<T>(run: Promise<T>, ctx: { order?: bigint } = {}): Promise<T> {
  try {
    return await run;
  } catch (e) {
    if ((e instanceof TxFailedError || e instanceof TxRejectedError) && HINTS[e.code]) {
      throw new ClientError(e.code, `${e.message}\n  ${(HINTS[e.code] as (c: { order?: bigint }) => string)(ctx)}`, { cause: e });
    }
    throw e;
  }
}

async function requireOrder(client: Client, id: bigint): Promise<GetOrderReturnType> {
  const o = await getOrder(client, { id });
  if (!o) throw new InvalidInputError('market.ORDER_NOT_FOUND', `no order ${id}; see "groundwork market order list"`);
  return o;
}

async function requireLease(client: Client, id: bigint): Promise<MarketLease> {
  const l = await getLease(client, { id });
  if (!l) throw new InvalidInputError('market.LEASE_NOT_FOUND', `no lease ${id}; see "groundwork lease list"`);
  return l;
}

function requireOpen(o: MarketOrder, height: bigint | undefined, action: string): void {
  if (o.status !== 'open' || (height !== undefined && height >= o.bidWindowEnd)) {
    const why = o.status === 'closed' ? `it is closed (${o.closeReason ?? 'closed'} at height ${o.closedHeight})` : o.status === 'active' ? 'its bid window has closed and its leases are running' : `its bid window ends at height ${o.bidWindowEnd} (the chain is at ${height})`;
    throw new InvalidInputError(o.status === 'closed' ? 'market.ORDER_CLOSED' : 'market.ORDER_NOT_OPEN', `cannot ${action} order ${o.id}: ${why}`);
  }
}

async function chainHeight(client: Client): Promise<bigint> {
  return BigInt((await getStatus(client)).height);
}

function oneOf<T extends string>(v: string | undefined, values: readonly T[], what: string): T | undefined {
  if (v === undefined) return undefined;
  if (!(values as readonly string[]).includes(v)) throw new InvalidInputError('INVALID_ARGUMENT', `${what} must be one of ${values.join(', ')}, got "${v}"`);
  return v as T;
}

// ---------------------------------------------------------------------------------------------
// market

interface CreateOpts extends ResourceFlags, TxOpts {
  replicas: string;
  region: string[];
  attr: string[];
  minReputation?: string;
  maxPrice?: string;
  denom: string;
  deposit?: string;
  bidWindow: string;
}

export function marketCommand(program: Command): void {
  const market = program.command('market').description('the resource market: customers post orders, providers bid with their devices, winning bids become paid leases');
  const order = market.command('order').description('orders: create, list, show, explain who can serve one, accept a bid, close');

  withTxOptions(
    order
      .command('create <customer-key>')
      .description('post an order and fund its escrow; prints the order id and what happens next')
      .option('--kind <kind>', `what to lease: ${RESOURCE_KINDS.join(', ')}`)
      .option('--size <bytes>', 'storage: bytes per lease, e.g. 10GiB')
      .option('--duration <blocks>', 'how long each lease runs, in blocks')
      .option('--cpu <cores>', 'compute: CPU cores')
      .option('--memory <bytes>', 'compute: memory, e.g. 4GiB')
      .option('--gpu-model <model>', 'compute: GPU model, e.g. a100')
      .option('--gpu-count <n>', 'compute: GPUs (default 1 with --gpu-model)')
      .option('--volume <bytes>', 'coverage: data volume, e.g. 5GiB')
      .option('--replicas <n>', 'leases wanted, each on a different provider', '1')
      .option('--region <h3-cell>', 'devices must be inside this H3 cell (repeatable; default anywhere)', collect, [])
      .option('--attr <key=value>', 'a provider attribute required (repeatable)', collect, [])
      .option('--min-reputation <percent>', 'minimum provider reputation, e.g. 90%')
      .option('--max-price <amount>', 'highest price per block per lease: 0.01gw / 10000ugw, or whole DC with --denom dc')
      .option('--denom <denom>', 'pay in ugw (tokens) or dc (Data Credits)', 'ugw')
      .option('--deposit <amount>', 'escrow funded now (default: the whole duration at the max price for every replica)')
      .option('--bid-window <blocks>', 'blocks the order takes bids', '10'),
    '<customer-key>',
  ).action(async (from: string, opts: CreateOpts, cmd: Command) => {
    const cli = new Cli(cmd);
    const spec = parseSpec(opts);
    const denom = parseDenom(opts.denom);
    if (opts.maxPrice === undefined) throw new InvalidInputError('INVALID_ARGUMENT', `--max-price is required: the most you pay per block per lease (${denom === 'dc' ? 'whole DC, e.g. 5' : 'e.g. 0.001gw'})`);
    const maxPrice = parsePrice(opts.maxPrice, denom, '--max-price');
    const replicas = parseIntArg(opts.replicas, '--replicas', 1);
    if (replicas > 0xffff) throw new InvalidInputError('INVALID_ARGUMENT', `--replicas is at most 65535, got ${replicas}`);
    const bidWindowBlocks = parseBlocks(opts.bidWindow, '--bid-window');
    const region = parseRegion(opts.region);
    const attributes = parseAttributes(opts.attr, 16);
    const minReputationBps = opts.minReputation === undefined ? 0 : parseBps(opts.minReputation, '--min-reputation');
    const deposit = opts.deposit === undefined ? maxPrice * BigInt(replicas) * spec.value.durationBlocks : parseDenomAmount(opts.deposit, denom, '--deposit');
    if (deposit < maxPrice * BigInt(replicas)) {
      throw new InvalidInputError('market.INSUFFICIENT_DEPOSIT', `--deposit ${formatIn(deposit, denom)} does not cover one block of every lease: at least ${formatIn(maxPrice * BigInt(replicas), denom)} (max price × replicas)`);
    }
    const s = await signer(cli, from, opts);
    const r = await tx(createOrder(cli.client(), { signer: s, spec, replicas, region, attributes, minReputationBps, maxPrice, denom, deposit, bidWindowBlocks, ...txParams(opts) }));
    cli.out(
      [
        `Order ${r.orderId} created: ${specText(spec)}, ${replicas} replica(s), at most ${formatIn(maxPrice, denom)} per block per lease`,
        `  escrow funded with ${formatIn(deposit, denom)}; bids are taken until the end of block ${r.bidWindowEnd}`,
        `  tx ${r.hash} (block ${r.height}, fee ${formatAmount(r.fee)})`,
        'next:',
        `  groundwork market order explain ${r.orderId}   which providers can serve it, and why not`,
        `  groundwork market order show ${r.orderId}      bids now, leases once the window closes`,
        `  groundwork market order close ${from} ${r.orderId}   cancel it (the escrow is refunded)`,
      ],
      { order: r.orderId, bidWindowEnd: r.bidWindowEnd, customer: encodeAddress(s.address), spec, replicas, maxPrice, denom, deposit, hash: r.hash, height: r.height, fee: r.fee },
    );
  });

  order
    .command('list')
    .description('orders by id: all, or one customer\'s, optionally of one status')
    .option('--customer <key|address>', "only this customer's orders")
    .option('--status <status>', `only orders in this status: ${ORDER_STATUSES.join(', ')}`)
    .option('--limit <n>', 'orders per page (1-100)', '100')
    .option('--after <id>', 'continue after this order id (the previous page\'s "next")')
    .action(async (opts: { customer?: string; status?: string; limit: string; after?: string }, cmd: Command) => {
      const cli = new Cli(cmd);
      const status = oneOf<OrderStatus>(opts.status, ORDER_STATUSES, '--status');
      const limit = parseIntArg(opts.limit, '--limit', 1);
      const page = await getOrders(cli.client(), {
        limit,
        ...(opts.customer ? { customer: cli.resolveAddress(opts.customer) } : {}),
        ...(status ? { status } : {}),
        ...(opts.after !== undefined ? { after: parseId(opts.after, '--after') } : {}),
      });
      const lines = page.orders.length ? page.orders.map(orderRow) : ['no orders'];
      if (page.next) lines.push(`more: --after ${page.next}`);
      cli.out(lines, page);
    });

  order
    .command('show <id>')
    .description('an order with its bids and leases (and, while leases run, what is owed now and when the escrow runs dry)')
    .action(async (idArg: string, _o: unknown, cmd: Command) => {
      const cli = new Cli(cmd);
      const client = cli.client();
      const { order: o, bids, leases } = await requireOrder(client, parseId(idArg, 'order id'));
      const preview = o.status === 'active' ? await previewSettlement(client, { order: o.id }) : undefined;
      const lines = orderLines(o);
      if (preview) lines.push(...previewLines(preview, o.denom));
      lines.push('', bids.length ? `bids (${bids.length}):` : o.status === 'open' ? `no bids yet (see who can bid: groundwork market order explain ${o.id})` : 'no bids standing');
      lines.push(...bids.map((b) => bidRow(b, o.denom)));
      if (leases.length) lines.push('', `leases (${leases.length}):`, ...leases.map(leaseRow));
      cli.out(lines, { order: o, bids, leases, ...(preview ? { settlement: previewJSON(preview) } : {}) });
    });

  order
    .command('explain <id>')
    .description('for every registered provider (or one: --provider): can it win this order, and if not, why (reason codes)')
    .option('--limit <n>', 'providers per request (1-100)', '100')
    .option('--provider <address|key>', 'only this provider, judged on every device it owns (the list judges each provider\'s first 64)')
    .action(async (idArg: string, opts: { limit: string; provider?: string }, cmd: Command) => {
      const cli = new Cli(cmd);
      const client = cli.client();
      const id = parseId(idArg, 'order id');
      const limit = parseIntArg(opts.limit, '--limit', 1);
      const only = opts.provider === undefined ? undefined : cli.resolveAddress(opts.provider);
      const { order: o } = await requireOrder(client, id);
      const rows: ProviderEligibility[] = [];
      let after: string | undefined;
      let status = o.status;
      let bidWindowEnd = o.bidWindowEnd;
      for (let page = 0; page < 1000; page++) {
        const x = await explainOrder(client, { order: id, limit, ...(after !== undefined ? { after } : {}), ...(only !== undefined ? { provider: only } : {}) });
        rows.push(...x.providers);
        status = x.status;
        bidWindowEnd = x.bidWindowEnd;
        if (x.next === null) break;
        after = x.next;
      }
      const eligible = rows.filter((r) => r.eligible);
      const lines = [
        `order ${id}: ${specText(o.spec)}, ${o.replicas} replica(s), at most ${formatIn(o.maxPrice, o.denom)}/block; ${status === 'open' ? `bids until the end of block ${bidWindowEnd}` : status}`,
        rows.length === 0 ? 'no providers are registered yet' : `${eligible.length} of ${rows.length} registered provider(s) can win it`,
      ];
      if (rows.length) {
        lines.push('', `  ${'provider'.padEnd(44)} ${'eligible'.padEnd(8)}  ${'device'.padEnd(17)}  ${'bid'.padEnd(16)}  reasons`);
        for (const r of rows) {
          const bid = r.bid ? `${formatIn(r.bid.price, o.denom)}` : '-';
          lines.push(`  ${r.provider.padEnd(44)} ${(r.eligible ? 'yes' : 'no').padEnd(8)}  ${(r.device ? short(r.device) : '-').padEnd(17)}  ${bid.padEnd(16)}  ${r.reasons.map((x) => x.code).join(', ') || '-'}`);
        }
        const why = rows.filter((r) => r.reasons.length);
        if (why.length) {
          lines.push('', 'why not:');
          for (const r of why) for (const x of r.reasons) lines.push(`  ${short(r.provider, 10)}  ${x.code}: ${x.message}`);
        }
      }
      if (status === 'open' && eligible.length === 0) lines.push('', 'no provider can serve this order as it stands: relax its requirements (region, attributes, reputation, size) or wait for providers');
      else if (status === 'open' && eligible.some((r) => !r.bid)) lines.push('', `eligible providers without a bid can still bid until the end of block ${bidWindowEnd}`);
      cli.out(lines, { order: id, status, bidWindowEnd, eligible: eligible.length, providers: rows });
    });

  withTxOptions(order.command('close <customer-key> <id>').description('close your order: an open one is cancelled, an active one ends every lease; the rest of the escrow is refunded'), '<customer-key>').action(
    async (from: string, idArg: string, opts: TxOpts, cmd: Command) => {
      const cli = new Cli(cmd);
      const client = cli.client();
      const id = parseId(idArg, 'order id');
      const { order: o } = await requireOrder(client, id);
      if (o.status === 'closed') throw new InvalidInputError('market.ORDER_CLOSED', `order ${id} is already closed (${o.closeReason ?? 'closed'} at height ${o.closedHeight})`);
      const s = await signer(cli, from, opts);
      if (encodeAddress(s.address) !== o.customer) throw new InvalidInputError('market.NOT_CUSTOMER', `order ${id} belongs to ${o.customer}, not to "${from}"`);
      const r = await tx(closeOrder(client, { signer: s, order: id, ...txParams(opts) }), { order: id });
      cli.out(
        [
          `Order ${id} closed: ${formatIn(r.refunded, o.denom)} refunded to ${o.customer}${r.leasesClosed.length ? `; lease(s) ${r.leasesClosed.join(', ')} closed and paid up to now` : ''}`,
          `  tx ${r.hash} (block ${r.height}, fee ${formatAmount(r.fee)})`,
        ],
        { order: id, refunded: r.refunded, denom: o.denom, leasesClosed: r.leasesClosed, hash: r.hash, height: r.height, fee: r.fee },
      );
    },
  );

  withTxOptions(order.command('accept <customer-key> <id> <provider>').description("take a provider's bid before the window closes: its lease starts now"), '<customer-key>').action(
    async (from: string, idArg: string, providerArg: string, opts: TxOpts, cmd: Command) => {
      const cli = new Cli(cmd);
      const client = cli.client();
      const id = parseId(idArg, 'order id');
      const provider = cli.resolveAddress(providerArg);
      const [{ order: o, bids }, height] = await Promise.all([requireOrder(client, id), chainHeight(client)]);
      requireOpen(o, height, 'accept a bid on');
      if (!bids.some((b) => b.provider === provider)) throw new InvalidInputError('market.BID_NOT_FOUND', `${provider} has no bid on order ${id}; see "groundwork market bid list ${id}"`);
      const s = await signer(cli, from, opts);
      const r = await tx(acceptBid(client, { signer: s, order: id, provider, ...txParams(opts) }), { order: id });
      cli.out(
        [`Bid of ${provider} accepted: lease ${r.leaseId} started (order ${id})`, `  tx ${r.hash} (block ${r.height}, fee ${formatAmount(r.fee)})`, `  see it with: groundwork lease show ${r.leaseId}`],
        { order: id, provider, lease: r.leaseId, hash: r.hash, height: r.height, fee: r.fee },
      );
    },
  );

  // --- bids
  const bid = market.command('bid').description('bids: list an order\'s, place one with a device, cancel yours');

  bid
    .command('list [order]')
    .description("an order's bids (standing while it takes bids, then lost: the order's standbys for market.standbyBlocks), or with --provider a provider's bids on every order")
    .option('--provider <address|key>', "list this provider's bids instead: lost ones hold deposits a withdraw takes back once their standby time is over")
    .option('--after <order>', 'with --provider: the page after this order id')
    .action(async (idArg: string | undefined, opts: { provider?: string; after?: string }, cmd: Command) => {
      const cli = new Cli(cmd);
      const client = cli.client();
      if (opts.provider !== undefined) {
        if (idArg !== undefined) throw new InvalidInputError('INVALID_ARGUMENT', 'give an order or --provider, not both');
        const who = cli.resolveAddress(opts.provider);
        const page = await getBids(client, { provider: who, ...(opts.after === undefined ? {} : { after: parseId(opts.after, '--after') }) });
        const lost = page.bids.filter((b) => b.status === 'lost');
        const lines = page.bids.length
          ? [
              `${who}: ${page.bids.length} bid(s)${lost.length ? `, ${lost.length} lost (deposits back on withdraw once their standby time is over: groundwork market provider withdraw <key>)` : ''}`,
              ...page.bids.map((b) => `  order ${String(b.order).padEnd(6)} ${b.status.padEnd(8)} price ${b.price}/block  (deposit ${formatAmount(b.deposit)}, height ${b.height})${b.reclaimableFrom === undefined ? '' : `  standby until block ${b.reclaimableFrom - 1n}`}`),
            ]
          : [`${who} has no bids`];
        if (page.next) lines.push(`more: --after ${page.next}`);
        cli.out(lines, page);
        return;
      }
      if (idArg === undefined) throw new InvalidInputError('INVALID_ARGUMENT', 'give an order id, or --provider <address> for a provider\'s bids');
      const id = parseId(idArg, 'order id');
      const { order: o } = await requireOrder(client, id);
      const { bids } = await getBids(client, { order: id });
      const sorted = [...bids].sort((a, b) => (a.price < b.price ? -1 : a.price > b.price ? 1 : 0));
      cli.out(sorted.length ? [`order ${id} (${o.status}): ${sorted.length} bid(s), cheapest first`, ...sorted.map((b) => bidRow(b, o.denom))] : `order ${id} (${o.status}) has no bids`, { order: id, denom: o.denom, bids: sorted });
    });

  withTxOptions(
    bid
      .command('place <provider-key> <order>')
      .description('bid on an open order with one of your devices (locks the bid deposit until the bid is removed or its lease ends)')
      .option('--device <id>', 'the device that would serve the lease (64 hex characters)')
      .option('--price <amount>', "per block per lease, in the order's denomination (≤ its max price)"),
    '<provider-key>',
  ).action(async (from: string, idArg: string, opts: TxOpts & { device?: string; price?: string }, cmd: Command) => {
    const cli = new Cli(cmd);
    const client = cli.client();
    const id = parseId(idArg, 'order id');
    if (opts.device === undefined) throw new InvalidInputError('INVALID_ARGUMENT', '--device <id> is required: the device that would serve the lease');
    if (opts.price === undefined) throw new InvalidInputError('INVALID_ARGUMENT', '--price <amount> is required: per block per lease');
    const device = parseDeviceId(opts.device);
    const [{ order: o }, height] = await Promise.all([requireOrder(client, id), chainHeight(client)]);
    const price = parsePrice(opts.price, o.denom, '--price');
    requireOpen(o, height, 'bid on');
    if (price > o.maxPrice) throw new InvalidInputError('market.PRICE_ABOVE_MAX', `--price ${formatIn(price, o.denom)} is above order ${id}'s max price of ${formatIn(o.maxPrice, o.denom)} per block`);
    const s = await signer(cli, from, opts);
    const r = await tx(placeBid(client, { signer: s, order: id, device, price, ...txParams(opts) }), { order: id });
    cli.out(
      [
        `Bid placed on order ${id}: ${formatIn(price, o.denom)} per block with device ${short(device)}`,
        `  the window closes at the end of block ${o.bidWindowEnd}; the cheapest eligible bids win`,
        `  tx ${r.hash} (block ${r.height}, fee ${formatAmount(r.fee)})`,
      ],
      { order: id, provider: encodeAddress(s.address), device, price, denom: o.denom, bidWindowEnd: o.bidWindowEnd, hash: r.hash, height: r.height, fee: r.fee },
    );
  });

  withTxOptions(bid.command('cancel <provider-key> <order>').description('withdraw your bid while the window is open (the deposit comes back)'), '<provider-key>').action(
    async (from: string, idArg: string, opts: TxOpts, cmd: Command) => {
      const cli = new Cli(cmd);
      const client = cli.client();
      const id = parseId(idArg, 'order id');
      const [{ order: o, bids }, height] = await Promise.all([requireOrder(client, id), chainHeight(client)]);
      requireOpen(o, height, 'cancel a bid on');
      const s = await signer(cli, from, opts);
      const me = encodeAddress(s.address);
      if (!bids.some((b) => b.provider === me)) throw new InvalidInputError('market.BID_NOT_FOUND', `${me} has no bid on order ${id}`);
      const r = await tx(cancelBid(client, { signer: s, order: id, ...txParams(opts) }), { order: id });
      cli.out([`Bid on order ${id} cancelled; the deposit is back`, `  tx ${r.hash} (block ${r.height}, fee ${formatAmount(r.fee)})`], { order: id, provider: me, hash: r.hash, height: r.height, fee: r.fee });
    },
  );

  // --- providers
  const provider = market.command('provider').description('providers: register (the provider agent does this too), show, list, withdraw earnings');

  withTxOptions(
    provider
      .command('register <key>')
      .description('register (or update) <key> as a market provider: where it is reached and its attributes')
      .option('--host-uri <url>', 'where customers and agents reach it, e.g. http://203.0.113.5:8700')
      .option('--attr <key=value>', 'an attribute orders may require, e.g. tier=datacenter (repeatable)', collect, []),
    '<key>',
  ).action(async (from: string, opts: TxOpts & { hostUri?: string; attr: string[] }, cmd: Command) => {
    const cli = new Cli(cmd);
    if (opts.hostUri === undefined) throw new InvalidInputError('INVALID_ARGUMENT', '--host-uri <url> is required: where customers and agents reach the provider');
    let url: URL;
    try {
      url = new URL(opts.hostUri);
    } catch (e) {
      throw new InvalidInputError('INVALID_ARGUMENT', `--host-uri "${opts.hostUri}" is not a URL (e.g. http://203.0.113.5:8700)`, { cause: e });
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidInputError('INVALID_ARGUMENT', `--host-uri must be an http:// or https:// URL, got "${opts.hostUri}"`);
    if (Buffer.byteLength(opts.hostUri) > 256) throw new InvalidInputError('INVALID_ARGUMENT', '--host-uri is at most 256 bytes');
    const attributes = parseAttributes(opts.attr, 32);
    const s = await signer(cli, from, opts);
    const r = await tx(registerProvider(cli.client(), { signer: s, hostUri: opts.hostUri, attributes, ...txParams(opts) }));
    const address = encodeAddress(s.address);
    cli.out(
      [
        `Provider ${address} registered at ${opts.hostUri}${attributes.length ? ` (${attributes.map((a) => `${a.key}=${a.value}`).join(', ')})` : ''}`,
        `  tx ${r.hash} (block ${r.height}, fee ${formatAmount(r.fee)})`,
        '  to win orders it also needs bonded stake (market.minProviderStake) and an active, located device of the order\'s kind',
        '  see open orders and why you can or cannot serve one: groundwork market order explain <order>',
      ],
      { provider: address, hostUri: opts.hostUri, attributes, hash: r.hash, height: r.height, fee: r.fee },
    );
  });

  provider
    .command('show <provider>')
    .description('a provider (key name or address): host, attributes, reputation, active leases, earnings')
    .action(async (who: string, _o: unknown, cmd: Command) => {
      const cli = new Cli(cmd);
      const address = cli.resolveAddress(who);
      const p = await getProvider(cli.client(), { address });
      if (!p) throw new InvalidInputError('market.PROVIDER_NOT_REGISTERED', `${address} is not a registered provider (groundwork market provider register <key> --host-uri <url>)`);
      cli.out(providerLines(p), p);
    });

  provider
    .command('list')
    .description('registered providers in address order')
    .option('--limit <n>', 'providers per page (1-100)', '100')
    .option('--after <address>', 'continue after this address (the previous page\'s "next")')
    .action(async (opts: { limit: string; after?: string }, cmd: Command) => {
      const cli = new Cli(cmd);
      const page = await getProviders(cli.client(), { limit: parseIntArg(opts.limit, '--limit', 1), ...(opts.after ? { after: cli.resolveAddress(opts.after) } : {}) });
      const lines = page.providers.length
        ? page.providers.map((p) => `${p.address}  rep ${bpsText(p.reputationBps).padStart(4)}${p.vetted ? '' : ' (unvetted)'}  ${String(p.activeLeases).padStart(3)} lease(s)  ${p.hostUri}`)
        : ['no providers registered'];
      if (page.next) lines.push(`more: --after ${page.next}`);
      cli.out(lines, page);
    });

  withTxOptions(
    provider.command('withdraw <key>').description('settle your active leases, take your earnings to your balance and take back the deposits of your lost bids whose standby time is over'),
    '<key>',
  ).action(async (from: string, opts: TxOpts, cmd: Command) => {
    const cli = new Cli(cmd);
    const s = await signer(cli, from, opts);
    const r = await tx(withdrawEarnings(cli.client(), { signer: s, ...txParams(opts) }));
    const me = encodeAddress(s.address);
    cli.out(
      [
        `Withdrew ${formatAmount(r.amount)} of earnings to ${me}`,
        ...(r.lostBids > 0 ? [`  and ${formatAmount(r.deposits)} of deposits from ${r.lostBids} lost bid(s)${r.more ? ' (more wait: withdraw again)' : ''}`] : []),
        `  tx ${r.hash} (block ${r.height}, fee ${formatAmount(r.fee)})`,
      ],
      { provider: me, amount: r.amount, deposits: r.deposits, lostBids: r.lostBids, more: r.more, hash: r.hash, height: r.height, fee: r.fee },
    );
  });
}

// ---------------------------------------------------------------------------------------------
// lease

export function leaseCommand(program: Command): void {
  const lease = program.command('lease').description('leases: list, show (payment accrued, when the escrow runs dry), close, top up');

  lease
    .command('list')
    .description('leases by id: one provider\'s, customer\'s or order\'s')
    .option('--provider <key|address>', "only this provider's leases")
    .option('--customer <key|address>', "only this customer's leases")
    .option('--order <id>', "only this order's leases")
    .option('--status <status>', `only leases in this status: ${LEASE_STATUSES.join(', ')}`)
    .option('--limit <n>', 'leases per page (1-100)', '100')
    .option('--after <id>', 'continue after this lease id (the previous page\'s "next")')
    .action(async (opts: { provider?: string; customer?: string; order?: string; status?: string; limit: string; after?: string }, cmd: Command) => {
      const cli = new Cli(cmd);
      const status = oneOf<LeaseStatus>(opts.status, LEASE_STATUSES, '--status');
      if (opts.provider === undefined && opts.customer === undefined && opts.order === undefined) {
        throw new InvalidInputError('INVALID_ARGUMENT', 'give one of --provider, --customer or --order (e.g. groundwork lease list --customer <key>)');
      }
      const page = await getLeases(cli.client(), {
        limit: parseIntArg(opts.limit, '--limit', 1),
        ...(opts.provider ? { provider: cli.resolveAddress(opts.provider) } : {}),
        ...(opts.customer ? { customer: cli.resolveAddress(opts.customer) } : {}),
        ...(opts.order !== undefined ? { order: parseId(opts.order, '--order') } : {}),
        ...(status ? { status } : {}),
        ...(opts.after !== undefined ? { after: parseId(opts.after, '--after') } : {}),
      });
      const lines = page.leases.length ? page.leases.map(leaseRow) : ['no leases'];
      if (page.next) lines.push(`more: --after ${page.next}`);
      cli.out(lines, page);
    });

  lease
    .command('show <id>')
    .description('a lease, and for an active one what its order owes now and when the escrow runs dry')
    .action(async (idArg: string, _o: unknown, cmd: Command) => {
      const cli = new Cli(cmd);
      const client = cli.client();
      const l = await requireLease(client, parseId(idArg, 'lease id'));
      const preview = l.status === 'active' ? await previewSettlement(client, { order: l.order }) : undefined;
      const lines = [
        `lease:        ${l.id} (order ${l.order}, ${typeof l.kind === 'string' ? l.kind : `kind ${l.kind}`})`,
        `provider:     ${l.provider}`,
        `customer:     ${l.customer}`,
        `device:       ${l.device}`,
        `price:        ${formatIn(l.price, l.denom)} per block`,
        `runs:         heights ${l.startHeight}–${l.endHeight}`,
        `status:       ${l.status === 'active' ? 'active' : `closed at height ${l.closedHeight} (${l.closeReason ?? '?'})`}`,
        `paid:         ${formatIn(l.paid, l.denom)} so far (the provider's share ${formatIn(l.earned, l.denom)}), as of the order's last settlement`,
        `bid deposit:  ${formatAmount(l.deposit)}${l.status === 'active' ? ' (returned when the lease ends)' : ''}`,
      ];
      if (preview) lines.push(...previewLines(preview, l.denom));
      cli.out(lines, { ...l, ...(preview ? { settlement: previewJSON(preview) } : {}) });
    });

  withTxOptions(
    lease
      .command('close <key> <id>')
      .description('close one lease: the customer without a reason, the provider with --reason; it is paid up to now')
      .option('--reason <reason>', `the provider's reason: ${PROVIDER_CLOSE_REASONS.join(', ')} (the customer's is "customer")`),
    '<key>',
  ).action(async (from: string, idArg: string, opts: TxOpts & { reason?: string }, cmd: Command) => {
    const cli = new Cli(cmd);
    const client = cli.client();
    const id = parseId(idArg, 'lease id');
    const allowed: readonly CloseReason[] = ['customer', ...PROVIDER_CLOSE_REASONS];
    const reason = oneOf<CloseReason>(opts.reason, CLOSE_REASONS, '--reason');
    if (reason !== undefined && !allowed.includes(reason)) throw new InvalidInputError('market.INVALID_REASON', `--reason ${reason} is the chain's to give; by hand: ${allowed.join(', ')}`);
    const l = await requireLease(client, id);
    if (l.status === 'closed') throw new InvalidInputError('market.LEASE_CLOSED', `lease ${id} is already closed (${l.closeReason ?? 'closed'} at height ${l.closedHeight})`);
    const s = await signer(cli, from, opts);
    const me = encodeAddress(s.address);
    if (me !== l.customer && me !== l.provider) throw new InvalidInputError('market.NOT_CUSTOMER', `lease ${id} is between ${l.customer} (customer) and ${l.provider} (provider); "${from}" is neither`);
    if (me === l.provider && me !== l.customer && (reason === undefined || reason === 'customer')) {
      throw new InvalidInputError('market.INVALID_REASON', `a provider closing its lease gives --reason ${PROVIDER_CLOSE_REASONS.join(' or ')}`);
    }
    const r = await tx(closeLease(client, { signer: s, lease: id, reason: reason ?? null, ...txParams(opts) }), { order: l.order });
    cli.out(
      [
        `Lease ${id} closed${reason ? ` (${reason})` : ''}: paid ${formatIn(r.paid, l.denom)} over its life`,
        ...(r.orderClosed ? [`  it was order ${l.order}'s last lease: the order closed and ${formatIn(r.refunded, l.denom)} was refunded`] : []),
        `  tx ${r.hash} (block ${r.height}, fee ${formatAmount(r.fee)})`,
      ],
      { lease: id, order: l.order, reason: reason ?? null, paid: r.paid, orderClosed: r.orderClosed, refunded: r.refunded, denom: l.denom, hash: r.hash, height: r.height, fee: r.fee },
    );
  });

  withTxOptions(lease.command('topup <customer-key> <order> <amount>').description("add to an order's escrow so its leases keep running (in the order's denomination)"), '<customer-key>').action(
    async (from: string, idArg: string, amountArg: string, opts: TxOpts, cmd: Command) => {
      const cli = new Cli(cmd);
      const client = cli.client();
      const id = parseId(idArg, 'order id');
      const { order: o } = await requireOrder(client, id);
      const amount = parseDenomAmount(amountArg, o.denom, '<amount>');
      if (o.status === 'closed') throw new InvalidInputError('market.ORDER_CLOSED', `order ${id} is closed (${o.closeReason ?? 'closed'} at height ${o.closedHeight}); its escrow was refunded`);
      const s = await signer(cli, from, opts);
      const r = await tx(topupOrder(client, { signer: s, order: id, amount, ...txParams(opts) }), { order: id });
      const after = o.status === 'active' ? await previewSettlement(client, { order: id }) : undefined;
      cli.out(
        [
          `Order ${id}: escrow topped up by ${formatIn(amount, o.denom)}`,
          ...(after ? previewLines(after, o.denom).map((x) => `  ${x}`) : []),
          `  tx ${r.hash} (block ${r.height}, fee ${formatAmount(r.fee)})`,
        ],
        { order: id, amount, denom: o.denom, ...(after ? { settlement: previewJSON(after) } : {}), hash: r.hash, height: r.height, fee: r.fee },
      );
    },
  );
}
