import type { Command } from 'commander';
import { formatAmount, parseAmount } from '../../core/amount.js';
import { fromHex } from '../../core/bytes.js';
import { InvalidInputError } from '../../core/errors.js';
import { decodeAddress, encodeAddress } from '../../core/keys.js';
import { PROPOSAL_STATUSES, VOTE_OPTIONS, type ProposalContent, type ProposalStatus, type VoteOption } from '../../chain/modules/gov/types.js';
import { buildParamsChange } from '../../client/actions/buildParamsChange.js';
import { getProposal, type ProposalView } from '../../client/actions/getProposal.js';
import { getProposals } from '../../client/actions/getProposals.js';
import { getProposalVotes } from '../../client/actions/getProposalVotes.js';
import { getTreasury } from '../../client/actions/getTreasury.js';
import { submitProposal } from '../../client/actions/submitProposal.js';
import { voteProposal } from '../../client/actions/voteProposal.js';
import { Cli, readPassphrase } from '../context.js';

interface SubmitOpts {
  title: string;
  description: string;
  deposit?: string;
  set: string[];
  approveMaker?: string;
  makerPubkey?: string;
  revokeMaker?: string;
  treasurySpend?: string;
  amount?: string;
  reverseSlash?: string;
  text?: boolean;
  fee?: string;
  passphraseFile?: string;
}

const collect = (v: string, prev: string[]) => prev.concat(v);

function parseId(v: string, what = 'proposal id'): bigint {
  if (!/^[0-9]{1,19}$/.test(v) || BigInt(v) > (1n << 64n) - 1n) throw new InvalidInputError('INVALID_ARGUMENT', `${what} must be a non-negative integer, got "${v}"`);
  return BigInt(v);
}

/** "12.3%" of a / b, rounded down to one decimal (b = 0: "-"). */
function pct(a: bigint, b: bigint): string {
  if (b === 0n) return '-';
  const x = (a * 1000n) / b;
  return `${x / 10n}.${x % 10n}%`;
}

function bps(v: string): string {
  return pct(BigInt(v), 10_000n);
}

/** Parses `--set module.param=value` options: all for one module. */
function parseSets(sets: string[]): { module: string; set: Record<string, string> } {
  const set: Record<string, string> = {};
  let module: string | undefined;
  for (const s of sets) {
    const m = /^([a-z][a-z0-9_]*)\.([A-Za-z][A-Za-z0-9_]*)=(.*)$/s.exec(s);
    if (!m) throw new InvalidInputError('INVALID_ARGUMENT', `--set takes module.param=value (e.g. bank.sendEnabled=false), got "${s}"`);
    const [, mod = '', name = '', value = ''] = m;
    if (module !== undefined && module !== mod) {
      throw new InvalidInputError('INVALID_ARGUMENT', `a proposal changes the parameters of one module; got ${module} and ${mod}: submit one proposal per module`);
    }
    module = mod;
    set[name] = value;
  }
  return { module: module as string, set };
}

async function signer(cli: Cli, from: string, opts: { passphraseFile?: string }) {
  const kr = cli.keyring();
  const passphrase = kr.needsPassphrase(from) ? await readPassphrase(opts, `Passphrase of "${from}":`) : undefined;
  return kr.signer(from, passphrase);
}

function contentLines(v: ProposalView): string[] {
  const c = v.content as { type: string; value: Record<string, string> | null };
  switch (c.type) {
    case 'params':
      return [
        `changes:     ${c.value?.module} parameters`,
        ...(v.paramChanges ?? []).map((x) => `  ${x.key}: ${JSON.stringify(x.from)} → ${JSON.stringify(x.to)}`),
        ...(v.paramChanges && v.paramChanges.length === 0 ? ['  (none left: the parameters already have these values)'] : []),
      ];
    case 'maker-approve':
      return [`approves:    maker "${c.value?.name}" with key ${c.value?.pubKey}`];
    case 'maker-revoke':
      return [`revokes:     maker "${c.value?.name}"`];
    case 'treasury-spend':
      return [`spends:      ${formatAmount(BigInt(c.value?.amount ?? '0'))} from the treasury to ${c.value?.to}`];
    case 'slash-reverse':
      return [`reverses:    slash ${c.value?.id}`];
    default:
      return ['content:     text only (nothing executes)'];
  }
}

function tallyLines(v: ProposalView): string[] {
  if (!v.tally) return [];
  const t = v.tally;
  const [yes, no, abstain, veto, bonded] = [t.yes, t.no, t.abstain, t.veto, t.totalBonded].map(BigInt) as [bigint, bigint, bigint, bigint, bigint];
  const voted = yes + no + abstain + veto;
  const decisive = yes + no + veto;
  return [
    `tally:       ${v.tallyFinal ? 'final' : 'so far, with voting power as of now'}`,
    `  yes      ${formatAmount(yes)} (${pct(yes, decisive)} of yes+no+veto; needs more than ${bps(v.params.thresholdBps)})`,
    `  no       ${formatAmount(no)}`,
    `  veto     ${formatAmount(veto)} (${pct(veto, voted)} of votes; ${bps(v.params.vetoBps)} rejects and burns the deposit)`,
    `  abstain  ${formatAmount(abstain)}`,
    `  turnout  ${formatAmount(voted)} of ${formatAmount(bonded)} bonded (${pct(voted, bonded)}; quorum ${bps(v.params.quorumBps)})`,
  ];
}

export function govCommand(program: Command): void {
  const gov = program.command('gov').description('governance proposals, votes and the treasury');

  gov
    .command('submit <from>')
    .description('submit a proposal: exactly one of --set (repeatable), --approve-maker, --revoke-maker, --treasury-spend, --reverse-slash, --text')
    .requiredOption('--title <text>', 'short title (1-140 bytes)')
    .option('--description <text>', 'what and why', '')
    .option('--deposit <amount>', 'deposit put in escrow, e.g. 100gw (default: gov.minDeposit)')
    .option('--set <module.param=value>', 'change a parameter, e.g. bank.sendEnabled=false (repeat for more of the same module)', collect, [])
    .option('--approve-maker <name>', 'approve a device maker (with --maker-pubkey)')
    .option('--maker-pubkey <hex>', "the maker's Ed25519 public key (32 bytes hex)")
    .option('--revoke-maker <name>', 'revoke a device maker')
    .option('--treasury-spend <address>', 'pay from the treasury to this address (with --amount)')
    .option('--amount <amount>', 'amount of a treasury spend, e.g. 50gw')
    .option('--reverse-slash <id>', 'reverse a slash during its dispute window')
    .option('--text', 'a text proposal (a signal; nothing executes)')
    .option('--fee <amount>', 'fee (default: the minimum for the tx size)')
    .option('--passphrase-file <file>', 'file holding the passphrase of <from>')
    .action(async (from: string, opts: SubmitOpts, cmd: Command) => {
      const cli = new Cli(cmd);
      const kinds = [opts.set.length > 0, opts.approveMaker !== undefined, opts.revokeMaker !== undefined, opts.treasurySpend !== undefined, opts.reverseSlash !== undefined, opts.text === true].filter(Boolean).length;
      if (kinds !== 1) {
        throw new InvalidInputError('INVALID_ARGUMENT', `give exactly one of --set, --approve-maker, --revoke-maker, --treasury-spend, --reverse-slash, --text (got ${kinds})`);
      }
      const client = cli.client();
      let content: ProposalContent;
      let what: string[];
      if (opts.set.length > 0) {
        const { module, set } = parseSets(opts.set);
        const built = await buildParamsChange(client, { module, set });
        content = built.content;
        what = built.changes.map((x) => `  ${x.key}: ${JSON.stringify(x.from)} → ${JSON.stringify(x.to)}`);
      } else if (opts.approveMaker !== undefined) {
        if (opts.makerPubkey === undefined) throw new InvalidInputError('INVALID_ARGUMENT', '--approve-maker needs --maker-pubkey <hex> (the maker\'s 32-byte Ed25519 public key)');
        const pubKey = fromHex(opts.makerPubkey, '--maker-pubkey');
        if (pubKey.length !== 32) throw new InvalidInputError('INVALID_ARGUMENT', `--maker-pubkey must be 32 bytes (64 hex characters), got ${pubKey.length} bytes`);
        content = { type: 'maker-approve', value: { name: opts.approveMaker, pubKey } };
        what = [`  approve maker "${opts.approveMaker}"`];
      } else if (opts.revokeMaker !== undefined) {
        content = { type: 'maker-revoke', value: { name: opts.revokeMaker } };
        what = [`  revoke maker "${opts.revokeMaker}"`];
      } else if (opts.treasurySpend !== undefined) {
        if (opts.amount === undefined) throw new InvalidInputError('INVALID_ARGUMENT', '--treasury-spend needs --amount (e.g. 50gw)');
        const to = cli.resolveAddress(opts.treasurySpend);
        const amount = parseAmount(opts.amount);
        content = { type: 'treasury-spend', value: { to: decodeAddress(to), amount } };
        what = [`  pay ${formatAmount(amount)} from the treasury to ${to}`];
      } else if (opts.reverseSlash !== undefined) {
        content = { type: 'slash-reverse', value: { id: parseId(opts.reverseSlash, '--reverse-slash') } };
        what = [`  reverse slash ${opts.reverseSlash}`];
      } else {
        content = { type: 'text', value: null };
        what = ['  text only (nothing executes)'];
      }
      const s = await signer(cli, from, opts);
      const r = await submitProposal(client, {
        signer: s,
        title: opts.title,
        description: opts.description,
        content,
        ...(opts.deposit !== undefined ? { deposit: parseAmount(opts.deposit) } : {}),
        ...(opts.fee !== undefined ? { fee: parseAmount(opts.fee) } : {}),
        timeoutMs: 60_000,
      });
      cli.out(
        [
          `Proposal ${r.proposalId} submitted: "${opts.title}"`,
          ...what,
          `  deposit ${formatAmount(r.deposit)} in escrow; voting ends at height ${r.votingEndHeight}`,
          `  tx ${r.hash} (block ${r.height}, fee ${formatAmount(r.fee)})`,
          `  vote with: groundwork gov vote <key> ${r.proposalId} yes|no|abstain|veto`,
        ],
        { id: r.proposalId.toString(), hash: r.hash, height: r.height, proposer: encodeAddress(s.address), kind: content.type, deposit: r.deposit.toString(), votingEndHeight: r.votingEndHeight.toString(), fee: r.fee.toString() },
      );
    });

  gov
    .command('vote <from> <id> <option>')
    .description('vote on a proposal: yes, no, abstain or veto (voting again replaces the vote; it weighs your bonded stake when voting ends)')
    .option('--fee <amount>', 'fee (default: the minimum for the tx size)')
    .option('--passphrase-file <file>', 'file holding the passphrase of <from>')
    .action(async (from: string, idArg: string, option: string, opts: { fee?: string; passphraseFile?: string }, cmd: Command) => {
      const cli = new Cli(cmd);
      const id = parseId(idArg);
      if (!(VOTE_OPTIONS as readonly string[]).includes(option)) throw new InvalidInputError('INVALID_ARGUMENT', `vote must be one of ${VOTE_OPTIONS.join(', ')}, got "${option}"`);
      const s = await signer(cli, from, opts);
      const r = await voteProposal(cli.client(), { signer: s, id, option: option as VoteOption, ...(opts.fee !== undefined ? { fee: parseAmount(opts.fee) } : {}), timeoutMs: 60_000 });
      cli.out([`Voted ${option} on proposal ${id}`, `  tx ${r.hash} (block ${r.height}, fee ${formatAmount(r.fee)})`], { id: id.toString(), voter: encodeAddress(s.address), option, hash: r.hash, height: r.height });
    });

  gov
    .command('list')
    .description('proposals, oldest first')
    .option('--status <status>', `only ${PROPOSAL_STATUSES.join(', ')}`)
    .option('--from <id>', 'first id to list', '1')
    .option('--limit <n>', 'at most this many (up to 1000)', '100')
    .action(async (opts: { status?: string; from: string; limit: string }, cmd: Command) => {
      const cli = new Cli(cmd);
      if (opts.status !== undefined && !(PROPOSAL_STATUSES as readonly string[]).includes(opts.status)) {
        throw new InvalidInputError('INVALID_ARGUMENT', `--status must be one of ${PROPOSAL_STATUSES.join(', ')}, got "${opts.status}"`);
      }
      const limit = Number(parseId(opts.limit, '--limit'));
      const r = await getProposals(cli.client(), { ...(opts.status ? { status: opts.status as ProposalStatus } : {}), from: parseId(opts.from, '--from'), limit });
      const height = r.height === undefined ? undefined : BigInt(r.height);
      const when = (p: (typeof r.proposals)[number]) =>
        p.status === 'voting' ? `ends at ${p.votingEndHeight}${height !== undefined ? ` (${BigInt(p.votingEndHeight) - height} blocks left)` : ''}` : `${p.reason}, ended at ${p.votingEndHeight}`;
      cli.out(r.proposals.length === 0 ? 'no proposals' : r.proposals.map((p) => `#${p.id}  ${p.status.padEnd(8)} ${p.kind.padEnd(14)} ${p.title}  [${when(p)}]`), r);
    });

  gov
    .command('show <id>')
    .description('a proposal: content, tally (in GW), time left')
    .action(async (idArg: string, _o: unknown, cmd: Command) => {
      const cli = new Cli(cmd);
      const v = await getProposal(cli.client(), { id: parseId(idArg) });
      const status =
        v.status === 'voting'
          ? `voting, ${v.blocksLeft ?? '?'} blocks left (ends at height ${v.votingEndHeight}; if it ended now: ${v.outcomeIfEndedNow})`
          : `${v.status} (${v.reason}) at height ${v.votingEndHeight}`;
      cli.out(
        [
          `proposal ${v.id}: ${v.title}`,
          `kind:        ${v.kind}`,
          `proposer:    ${v.proposer}`,
          `status:      ${status}`,
          ...(v.error ? [`error:       ${v.error}`] : []),
          `deposit:     ${formatAmount(BigInt(v.deposit))} (${v.depositState})`,
          `submitted:   height ${v.submitHeight}`,
          ...contentLines(v),
          ...tallyLines(v),
          ...(v.description ? ['', v.description] : []),
        ],
        v,
      );
    });

  gov
    .command('votes <id>')
    .description('the votes cast on a proposal')
    .action(async (idArg: string, _o: unknown, cmd: Command) => {
      const cli = new Cli(cmd);
      const r = await getProposalVotes(cli.client(), { id: parseId(idArg) });
      cli.out(
        r.votes.length === 0 ? `no votes on proposal ${r.id}` : r.votes.map((x) => `${x.voter}  ${x.option.padEnd(7)} ${formatAmount(BigInt(x.weight))}${x.final ? '' : ' (power now)'}`),
        r,
      );
    });

  gov
    .command('treasury')
    .description("the treasury's balance (verified); it pays out only through passed treasury-spend proposals")
    .action(async (_o: unknown, cmd: Command) => {
      const cli = new Cli(cmd);
      const t = await getTreasury(cli.client());
      cli.out([`treasury ${t.address}`, `  balance ${formatAmount(t.balance)} (${t.balance} ugw) at height ${t.height}, proof verified`], {
        address: t.address,
        balance: t.balance.toString(),
        height: t.height.toString(),
        verified: true,
      });
    });
}
