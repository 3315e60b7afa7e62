/**
 * `groundwork rewards ...`: epochs and their reward manifests, a recipient's line, the
 * explanation of a line recomputed from on-chain data (checked against the committed root),
 * claims, and what is left to claim. Every line shown is verified against the epoch root in
 * state (Merkle-proven), so a lying node is caught, not believed.
 */
import type { Command } from 'commander';
import { formatAmount, parseAmount } from '../../core/amount.js';
import { toHex } from '../../core/bytes.js';
import { InvalidInputError } from '../../core/errors.js';
import { encodeAddress } from '../../core/keys.js';
import { percent, type ItemExplanation } from '../../chain/modules/rewards/explain.js';
import { epochRecordJSON } from '../../chain/modules/rewards/index.js';
import { POOLS } from '../../chain/modules/rewards/params.js';
import { rewardItemJSON } from '../../chain/modules/rewards/view.js';
import type { Client } from '../../client/client.js';
import { ClientError } from '../../client/errors.js';
import { claimAllRewards } from '../../client/actions/claimAllRewards.js';
import { claimReward } from '../../client/actions/claimReward.js';
import { explainReward, type ExplainRewardReturnType } from '../../client/actions/explainReward.js';
import { getPendingRewards } from '../../client/actions/getPendingRewards.js';
import { getCurrentEpoch, requireRewardEpoch } from '../../client/actions/getRewardEpoch.js';
import { getRewardLine, isRewardClaimed, type RewardLineView } from '../../client/actions/getRewardLine.js';
import { moduleQuery } from '../../client/actions/moduleQuery.js';
import { Cli, readPassphrase } from '../context.js';

interface TxOpts {
  fee?: string;
  memo: string;
  passphraseFile?: string;
}

const DEVICE_RE = /^[0-9a-fA-F]{64}$/;
const EPOCH_RE = /^(0|[1-9][0-9]{0,18})$/;

function parseEpoch(v: string, what = '--epoch'): bigint {
  if (!EPOCH_RE.test(v)) throw new InvalidInputError('INVALID_ARGUMENT', `${what} must be an epoch number (0, 1, 2...), got "${v}"`);
  return BigInt(v);
}

/** --epoch, or the last closed epoch. */
async function epochOrLast(client: Client, v: string | undefined): Promise<bigint> {
  if (v !== undefined) return parseEpoch(v);
  const cur = await getCurrentEpoch(client);
  if (cur.epoch === 0n) {
    throw new ClientError('EPOCH_NOT_CLOSED', `no epoch has closed yet: epoch 0 closes at height ${cur.endHeight} (${cur.blocksLeft} blocks left)`);
  }
  return cur.epoch - 1n;
}

const short = (hex: string, n = 8): string => (hex.length > 2 * n ? `${hex.slice(0, n)}…${hex.slice(-4)}` : hex);
const group = (v: bigint): string => v.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
/** A share of a pool as a percentage: 4 decimals, or "<0.0001%" for a tiny non-zero share. */
const share = (part: bigint, whole: bigint): string => {
  const s = percent(part, whole, 4);
  return s === '0.0000%' && part > 0n && whole > 0n ? '<0.0001%' : s;
};
const mark = (ok: boolean | null): string => (ok === true ? '✓' : ok === false ? '✗' : '?');

function lineJSON(l: RewardLineView) {
  return {
    epoch: l.epoch.toString(),
    index: l.index,
    recipient: encodeAddress(l.recipient),
    amount: l.amount.toString(),
    items: l.items.map(rewardItemJSON),
    detailsHash: toHex(l.detailsHash),
    leaf: toHex(l.leaf),
    proof: l.proof.map(toHex),
  };
}

function itemJSON(i: ItemExplanation) {
  return {
    type: i.type,
    pool: i.pool,
    ...(i.device ? { device: toHex(i.device) } : {}),
    ...(i.reason !== undefined ? { reason: i.reason } : {}),
    ...(i.units !== undefined ? { units: i.units.toString(), weighted: (i.weighted as bigint).toString(), multiplierBps: (i.multiplierBps as bigint).toString() } : {}),
    ...(i.operator ? { operator: encodeAddress(i.operator), tokens: (i.tokens as bigint).toString() } : {}),
    poolAlloc: i.poolAlloc.toString(),
    poolUnits: i.poolUnits.toString(),
    share: share(i.type === 'work' ? (i.weighted as bigint) : (i.tokens as bigint), i.poolUnits),
    ugw: i.ugw.toString(),
    highlighted: i.highlighted,
    check: i.check,
  };
}

export function explanationJSON(x: ExplainRewardReturnType) {
  return {
    epoch: x.epoch.toString(),
    closedHeight: x.closedHeight.toString(),
    address: x.address,
    ...(x.device ? { device: x.device } : {}),
    index: x.index,
    amount: x.amount.toString(),
    recomputed: x.recomputed.toString(),
    claimed: x.claimed,
    items: x.items.map(itemJSON),
    pools: x.pools.map((p) => ({ pool: p.pool, alloc: p.alloc.toString(), poolUnits: p.poolUnits.toString(), lineUnits: p.lineUnits.toString(), ugw: p.ugw.toString(), roundingGain: p.roundingGain.toString() })),
    checks: x.checks,
    ok: x.ok,
    root: toHex(x.root),
    count: x.count,
    rounding: x.rounding,
    warnedMultiplierBps: x.warnedMultiplierBps?.toString() ?? null,
  };
}

/** The human form of an explanation (a table of items, the arithmetic per pool, the checks). */
export function explanationLines(x: ExplainRewardReturnType): string[] {
  const out: string[] = [];
  out.push(`Reward of ${x.address} in epoch ${x.epoch}: line ${x.index} of ${x.count} (epoch closed at height ${x.closedHeight})`);
  if (x.device) {
    out.push(
      x.device.items > 0
        ? `  device ${x.device.id}: ${x.device.items} item(s), marked ▶ below`
        : `  device ${x.device.id} earned nothing in this line (its owner ${x.device.owner} earned from other items)`,
    );
  }
  out.push(`  amount:  ${formatAmount(x.amount)} (${x.amount} ugw)    claimed: ${x.claimed === undefined ? 'unknown' : x.claimed ? 'yes' : 'no'}`);
  out.push('');
  const rows: string[][] = [['', '#', 'pool', 'source', 'reason', 'units', 'multiplier', 'weighted', 'share of pool', 'earns', 'on chain']];
  x.items.forEach((i, n) => {
    const work = i.type === 'work';
    rows.push([
      i.highlighted ? '▶' : '',
      String(n + 1),
      i.pool,
      work ? `device ${short(toHex(i.device as Uint8Array))}` : `operator ${short(encodeAddress(i.operator as Uint8Array), 10)}`,
      work ? (i.reason as string) : 'stake',
      work ? group(i.units as bigint) : formatAmount(i.tokens as bigint),
      work ? percent(i.multiplierBps as bigint, 10_000n, 0) : '-',
      work ? group(i.weighted as bigint) : '-',
      share(work ? (i.weighted as bigint) : (i.tokens as bigint), i.poolUnits),
      formatAmount(i.ugw),
      mark(i.check.ok),
    ]);
  });
  const widths = (rows[0] as string[]).map((_, c) => Math.max(...rows.map((r) => [...(r[c] as string)].length)));
  for (const r of rows) out.push(`  ${r.map((cell, c) => cell.padEnd(widths[c] as number)).join('  ').trimEnd()}`);
  const warnedItems = x.items.filter((i) => i.type === 'work' && (i.multiplierBps as bigint) < 10_000n);
  if (warnedItems.length > 0) {
    out.push(
      `  a multiplier below 100%: the device was warned when it reported (warned devices earn ${x.warnedMultiplierBps !== undefined ? percent(x.warnedMultiplierBps, 10_000n, 0) : 'rewards.warnedMultiplierBps'} of their units)`,
    );
  }
  const failedItems = x.items.map((i, n) => ({ i, n })).filter(({ i }) => i.check.ok !== true);
  for (const { i, n } of failedItems) out.push(`  item ${n + 1}: ${i.check.detail}`);
  out.push('');
  out.push('  arithmetic (every division rounds down):');
  for (const p of x.pools) {
    const unit = p.pool === 'stakers' ? (v: bigint) => formatAmount(v) : (v: bigint) => `${group(v)} units`;
    out.push(`    ${p.pool.padEnd(9)} floor(${formatAmount(p.alloc)} × ${unit(p.lineUnits)} ÷ ${unit(p.poolUnits)}) = ${formatAmount(p.ugw)}${p.roundingGain > 0n ? `  (items' own floors add up to ${p.roundingGain} ugw less)` : ''}`);
  }
  if (x.pools.length > 1) out.push(`    total     ${x.pools.map((p) => formatAmount(p.ugw)).join(' + ')} = ${formatAmount(x.recomputed)}`);
  out.push(`  rounding: ${x.rounding}`);
  out.push('');
  out.push('  checks:');
  for (const c of x.checks) out.push(`    ${mark(c.ok)} ${c.id.padEnd(8)} ${c.detail}`);
  out.push('');
  out.push(x.ok ? `✓ matches the committed root (${short(toHex(x.root), 16)}, ${x.count} lines)` : '✗ does NOT match the chain: see the failed checks above');
  return out;
}

async function signer(cli: Cli, from: string, opts: { passphraseFile?: string }) {
  const kr = cli.keyring();
  const passphrase = kr.needsPassphrase(from) ? await readPassphrase(opts, `Passphrase of "${from}":`) : undefined;
  return kr.signer(from, passphrase);
}

export function rewardsCommand(program: Command): void {
  const rewards = program.command('rewards').description('epochs, reward lines verified against the committed root, explanations, claims');

  rewards
    .command('epoch [epoch]')
    .description('a closed epoch: manifest root, lines, emission and each pool (verified); without [epoch], the running epoch: blocks left, expected emission, work so far')
    .action(async (epochArg: string | undefined, _o: unknown, cmd: Command) => {
      const cli = new Cli(cmd);
      const client = cli.client();
      if (epochArg === undefined) {
        const [cur, q] = await Promise.all([
          getCurrentEpoch(client),
          moduleQuery<{ epoch: string; expectedEmission: string; workUnits: Record<string, string>; emittedTotal: string; rewardsPool: string; treasury: string }>(client, 'rewards', 'current'),
        ]);
        const units = Object.entries(q.workUnits).map(([pool, u]) => `${pool} ${group(BigInt(u))}`);
        return cli.out(
          [
            `epoch ${cur.epoch} (running): heights ${cur.startHeight}–${cur.endHeight}, ${cur.blocksLeft} blocks left (node at height ${cur.height})`,
            `  expected emission:  ${formatAmount(BigInt(q.expectedEmission))}`,
            `  work units so far:  ${units.join(', ')} (weighted)`,
            `  emitted in all:     ${formatAmount(BigInt(q.emittedTotal))}`,
            `  unclaimed rewards:  ${formatAmount(BigInt(q.rewardsPool))} in the rewards pool; treasury ${formatAmount(BigInt(q.treasury))}`,
            ...(cur.epoch > 0n ? [`  last closed: epoch ${cur.epoch - 1n} (groundwork rewards epoch ${cur.epoch - 1n})`] : []),
          ],
          { status: 'running', ...q, epoch: cur.epoch.toString(), startHeight: cur.startHeight.toString(), endHeight: cur.endHeight.toString(), height: cur.height.toString(), blocksLeft: cur.blocksLeft.toString() },
        );
      }
      const r = await requireRewardEpoch(client, parseEpoch(epochArg, '[epoch]'));
      const poolRows = r.pools.map((p, i) => {
        const name = POOLS[i] as string;
        if (name === 'treasury') return `    ${name.padEnd(9)} alloc ${formatAmount(p.alloc).padStart(20)}`;
        const units = name === 'stakers' ? `stake ${formatAmount(p.units)}` : `units ${group(p.units)}`;
        return `    ${name.padEnd(9)} alloc ${formatAmount(p.alloc).padStart(20)}   ${units.padEnd(28)} paid ${formatAmount(p.paid)}${p.units === 0n ? ' (nobody earned: not issued)' : ''}`;
      });
      cli.out(
        [
          `epoch ${r.epoch} (closed at height ${r.closedHeight})`,
          `  root:      ${toHex(r.root)}`,
          `  lines:     ${r.count}`,
          `  emission:  ${formatAmount(r.emission)}`,
          '  pools:',
          ...poolRows,
          `  minted:    ${formatAmount(r.minted)} into the rewards pool (the lines' total, paid out by claims)`,
          `  treasury:  ${formatAmount(r.treasury)} (its pool and every rounding remainder)`,
          `  unissued:  ${formatAmount(r.unissued)} (pools nobody earned from)`,
          `  verified:  Merkle proof of the epoch record at height ${r.height}`,
        ],
        { status: 'closed', ...epochRecordJSON(r), height: r.height.toString(), verified: true },
      );
    });

  rewards
    .command('show <address>')
    .description("a recipient's reward line (address or key name): amount, items, claimed; verified against the committed root")
    .option('--epoch <n>', 'the epoch (default: the last closed one)')
    .action(async (who: string, opts: { epoch?: string }, cmd: Command) => {
      const cli = new Cli(cmd);
      const client = cli.client();
      const address = cli.resolveAddress(who);
      const epoch = await epochOrLast(client, opts.epoch);
      const got = await getRewardLine(client, { epoch, address });
      if (!got.line) throw new ClientError('NO_REWARD_LINE', got.reason ?? `${address} has no reward line in epoch ${epoch}`);
      const l = got.line;
      const claimed = await isRewardClaimed(client, { epoch, index: l.index });
      const items = l.items.map((it) =>
        it.type === 'work'
          ? `    ${(POOLS[it.value.pool] as string).padEnd(9)} device ${short(toHex(it.value.device))}  ${it.value.reason.padEnd(20)} ${group(it.value.units)} units (${group(it.value.weighted)} weighted)`
          : `    stakers   operator ${encodeAddress(it.value.operator)}  ${formatAmount(it.value.tokens)} bonded`,
      );
      cli.out(
        [
          `${address}, epoch ${epoch}: ${formatAmount(l.amount)} (${l.amount} ugw)`,
          `  line:      ${l.index} of ${got.record.count}`,
          `  claimed:   ${claimed ? 'yes' : `no (claim it with: groundwork rewards claim <key> --epoch ${epoch})`}`,
          '  items:',
          ...items,
          `  verified:  ✓ the line proves into the committed root ${short(toHex(got.record.root), 16)}`,
          `  why this amount: groundwork rewards explain ${address} --epoch ${epoch}`,
        ],
        { ...lineJSON(l), claimed, root: toHex(got.record.root), count: got.record.count, verified: true },
      );
    });

  rewards
    .command('explain <who>')
    .description(
      'recompute a reward line from on-chain data: <who> is a device id (64 hex characters: its owner\'s line, with its items marked), an address or a key name. ' +
        'Shows each item\'s reason code, multiplier and share of its pool, the arithmetic, and checks everything against state at the close and the committed root; exits 1 if any check fails',
    )
    .option('--epoch <n>', 'the epoch (default: the last closed one)')
    .action(async (who: string, opts: { epoch?: string }, cmd: Command) => {
      const cli = new Cli(cmd);
      const client = cli.client();
      const epoch = await epochOrLast(client, opts.epoch);
      const x = DEVICE_RE.test(who) ? await explainReward(client, { epoch, device: who }) : await explainReward(client, { epoch, address: cli.resolveAddress(who) });
      cli.out(explanationLines(x), explanationJSON(x));
      if (!x.ok) process.exitCode = 1;
    });

  rewards
    .command('claim <from>')
    .description('claim a reward line and wait for the block: <from> is the key that signs (and, without --for, whose line it is)')
    .option('--epoch <n>', 'the epoch (default: the last closed one)')
    .option('--all', 'claim every closed epoch not yet claimed (within --from-epoch/--to-epoch; default the last 100)')
    .option('--from-epoch <n>', 'with --all: the first epoch')
    .option('--to-epoch <n>', 'with --all: the last epoch')
    .option('--for <address>', "claim someone else's line (the tokens always go to the line's recipient)")
    .option('--fee <amount>', 'fee (default: the minimum for the tx size)')
    .option('--memo <text>', 'memo attached to the tx', '')
    .option('--passphrase-file <file>', 'file holding the passphrase of <from>')
    .action(async (from: string, opts: TxOpts & { epoch?: string; all?: boolean; fromEpoch?: string; toEpoch?: string; for?: string }, cmd: Command) => {
      const cli = new Cli(cmd);
      const client = cli.client();
      if (opts.all && opts.epoch !== undefined) throw new InvalidInputError('INVALID_ARGUMENT', 'give either --epoch <n> or --all, not both');
      if (!opts.all && (opts.fromEpoch !== undefined || opts.toEpoch !== undefined)) throw new InvalidInputError('INVALID_ARGUMENT', '--from-epoch and --to-epoch go with --all');
      const s = await signer(cli, from, opts);
      const recipient = opts.for !== undefined ? cli.resolveAddress(opts.for) : encodeAddress(s.address);
      const fee = opts.fee === undefined ? undefined : parseAmount(opts.fee);
      const tx = { signer: s, memo: opts.memo, ...(fee !== undefined ? { fee } : {}), timeoutMs: 60_000 };
      if (opts.all) {
        cli.note(`Looking for unclaimed rewards of ${recipient}...`);
        const r = await claimAllRewards(client, {
          ...tx,
          recipient,
          ...(opts.fromEpoch !== undefined ? { fromEpoch: parseEpoch(opts.fromEpoch, '--from-epoch') } : {}),
          ...(opts.toEpoch !== undefined ? { toEpoch: parseEpoch(opts.toEpoch, '--to-epoch') } : {}),
        });
        const json = {
          recipient,
          fromEpoch: r.fromEpoch.toString(),
          toEpoch: r.toEpoch.toString(),
          claimed: r.claimed.map((c) => ({ ...c, epoch: c.epoch.toString(), amount: c.amount.toString() })),
          total: r.total.toString(),
          fees: r.fees.toString(),
          alreadyClaimed: r.alreadyClaimed.map(String),
          status: 'committed',
        };
        if (r.claimed.length === 0) return cli.out(`nothing to claim for ${recipient} in epochs ${r.fromEpoch}–${r.toEpoch}`, json);
        return cli.out(
          [
            `Claimed ${formatAmount(r.total)} for ${recipient} from ${r.claimed.length} epoch(s) (${r.fromEpoch}–${r.toEpoch}), fees ${formatAmount(r.fees)}`,
            ...r.claimed.map((c) => `  epoch ${c.epoch}: ${formatAmount(c.amount)}  (line ${c.index}, tx ${c.hash}, block ${c.height})`),
          ],
          json,
        );
      }
      const epoch = await epochOrLast(client, opts.epoch);
      const t = await claimReward(client, { ...tx, epoch, recipient });
      cli.out(
        [`Claimed ${formatAmount(t.amount)} for ${recipient} (epoch ${epoch}, line ${t.index})`, `  tx ${t.hash}, block ${t.height}, fee ${formatAmount(t.fee)}`],
        { hash: t.hash, height: t.height, epoch: epoch.toString(), index: t.index, recipient, amount: t.amount.toString(), fee: t.fee.toString(), status: 'committed' },
      );
    });

  rewards
    .command('pending <address>')
    .description('closed epochs where an address (or key name) has a reward line not yet claimed (verified)')
    .option('--from-epoch <n>', 'the first epoch to look at (default: 100 before the last closed one)')
    .option('--to-epoch <n>', 'the last epoch to look at (default: the last closed one)')
    .action(async (who: string, opts: { fromEpoch?: string; toEpoch?: string }, cmd: Command) => {
      const cli = new Cli(cmd);
      const client = cli.client();
      const address = cli.resolveAddress(who);
      const cur = await getCurrentEpoch(client);
      if (cur.epoch === 0n) throw new ClientError('EPOCH_NOT_CLOSED', `no epoch has closed yet: epoch 0 closes at height ${cur.endHeight} (${cur.blocksLeft} blocks left)`);
      const r = await getPendingRewards(client, {
        address,
        ...(opts.fromEpoch !== undefined ? { fromEpoch: parseEpoch(opts.fromEpoch, '--from-epoch') } : {}),
        ...(opts.toEpoch !== undefined ? { toEpoch: parseEpoch(opts.toEpoch, '--to-epoch') } : {}),
      });
      const json = {
        address,
        fromEpoch: r.fromEpoch.toString(),
        toEpoch: r.toEpoch.toString(),
        pending: r.pending.map((x) => ({ epoch: x.epoch.toString(), index: x.index, amount: x.amount.toString() })),
        total: r.total.toString(),
        claimed: r.claimed.map(String),
        verified: true,
      };
      if (r.pending.length === 0) return cli.out(`${address} has nothing to claim in epochs ${r.fromEpoch}–${r.toEpoch}`, json);
      cli.out(
        [
          `${address}: ${formatAmount(r.total)} to claim from ${r.pending.length} epoch(s) (${r.fromEpoch}–${r.toEpoch})`,
          ...r.pending.map((x) => `  epoch ${String(x.epoch).padEnd(6)} ${formatAmount(x.amount).padStart(22)}  (line ${x.index})`),
          `claim them with: groundwork rewards claim <key> --all`,
        ],
        json,
      );
    });
}
