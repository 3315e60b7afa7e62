/**
 * `groundwork penalties ...`: slashes (list, show), a device's fault window, fraud evidence and
 * disputes.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { formatAmount, parseAmount } from '../../core/amount.js';
import { fromHex, toHex, type Bytes } from '../../core/bytes.js';
import { InvalidInputError } from '../../core/errors.js';
import { sha256 } from '../../core/hash.js';
import { encodeAddress } from '../../core/keys.js';
import { MAX_EVIDENCE_BYTES, SLASH_STATUSES, slashJSON, type SlashStatus } from '../../chain/modules/penalties/types.js';
import { disputeSlash } from '../../client/actions/disputeSlash.js';
import { getDeviceFaults } from '../../client/actions/getDeviceFaults.js';
import { getSlash } from '../../client/actions/getSlash.js';
import { getSlashEscrow, getSlashes, type SlashView } from '../../client/actions/getSlashes.js';
import { submitEvidence } from '../../client/actions/submitEvidence.js';
import { Cli, parseIntArg, readPassphrase } from '../context.js';

function parseId(v: string, what = 'slash id'): bigint {
  if (!/^[0-9]{1,20}$/.test(v) || BigInt(v) > (1n << 64n) - 1n) throw new InvalidInputError('INVALID_ARGUMENT', `${what} must be a non-negative integer, got "${v}"`);
  return BigInt(v);
}

export function parseDeviceId(s: string): string {
  const h = s.toLowerCase().replace(/^0x/, '');
  if (!/^[0-9a-f]{64}$/.test(h)) throw new InvalidInputError('INVALID_ARGUMENT', `a device id is its public key: 64 hex characters, got "${s}"`);
  return h;
}

/**
 * Evidence from a file: hex text (as `testvertical report --double-sign` writes it) or raw
 * bytes. At most 8 KiB.
 */
export function readEvidenceFile(path: string, what = 'evidence'): Bytes {
  if (!existsSync(path)) throw new InvalidInputError('FILE_NOT_FOUND', `${what} file ${path} does not exist`);
  const raw = new Uint8Array(readFileSync(path));
  const text = Buffer.from(raw).toString('latin1').trim().replace(/^0x/i, '');
  const b = text.length > 0 && text.length % 2 === 0 && /^[0-9a-fA-F]+$/.test(text) ? fromHex(text, path) : raw;
  if (b.length === 0) throw new InvalidInputError('INVALID_ARGUMENT', `${what} file ${path} is empty`);
  if (b.length > MAX_EVIDENCE_BYTES) throw new InvalidInputError('INVALID_ARGUMENT', `${what} file ${path} holds ${b.length} bytes; at most ${MAX_EVIDENCE_BYTES} are accepted`);
  return b;
}

async function signer(cli: Cli, from: string, opts: { passphraseFile?: string }) {
  const kr = cli.keyring();
  const passphrase = kr.needsPassphrase(from) ? await readPassphrase(opts, `Passphrase of "${from}":`) : undefined;
  return kr.signer(from, passphrase);
}

function statusLine(s: SlashView): string {
  switch (s.status) {
    case 'pending':
      return `pending: burns at the end of block ${s.releaseHeight} unless disputed or reversed`;
    case 'disputed':
      return `disputed at height ${s.statusHeight}: burns at the end of block ${s.releaseHeight} unless governance reverses it (groundwork gov submit --reverse-slash ${s.id})`;
    case 'burned':
      return `burned at height ${s.statusHeight}`;
    case 'reversed':
      return `reversed by governance at height ${s.statusHeight} (tokens returned to the ${s.restoredToAccount ? "operator's account: its pool had no delegators left" : "operator's pool"})`;
  }
}

function slashRow(s: SlashView): string {
  return `${s.id.padStart(5)}  ${s.status.padEnd(8)} ${formatAmount(BigInt(s.amount)).padStart(16)}  ${s.kind.padEnd(22)} ${s.reason.padEnd(22)} ${s.operator}  release ${s.releaseHeight}`;
}

function slashLines(s: SlashView): string[] {
  return [
    `slash:        ${s.id}`,
    `operator:     ${s.operator}`,
    `device:       ${s.device}`,
    `amount:       ${formatAmount(BigInt(s.amount))} (held in the slash escrow until burned or reversed)`,
    `kind:         ${s.kind}${s.kind === 'fault' ? ' (operational faults beyond the free ones)' : ' (fraud evidence)'}`,
    `reason:       ${s.reason}`,
    `evidence:     ${s.evidenceBytes} bytes, sha256 ${s.evidenceHash}`,
    ...(s.reporter ? [`reported by:  ${s.reporter}`] : []),
    `height:       ${s.height}`,
    `status:       ${statusLine(s)}`,
    ...(s.counterEvidence !== null ? [`dispute:      ${s.counterEvidence.length / 2} bytes of counter-evidence${s.note ? `; note: ${s.note}` : ''}`] : s.note ? [`note:         ${s.note}`] : []),
  ];
}

export function penaltiesCommand(program: Command): void {
  const pen = program.command('penalties').description('penalties: slashes, fault windows, fraud evidence and disputes');

  pen
    .command('list')
    .description('slashes by id: all, or one operator\'s')
    .option('--operator <address|key>', 'only the slashes of this operator')
    .option('--status <status>', `only slashes in this status: ${SLASH_STATUSES.join(', ')}`)
    .option('--limit <n>', 'slashes per page (1-1000)', '100')
    .option('--after <id>', 'continue after this slash id (the previous page\'s "next")')
    .action(async (opts: { operator?: string; status?: string; limit: string; after?: string }, cmd: Command) => {
      const cli = new Cli(cmd);
      if (opts.status !== undefined && !(SLASH_STATUSES as readonly string[]).includes(opts.status)) {
        throw new InvalidInputError('INVALID_ARGUMENT', `--status must be one of ${SLASH_STATUSES.join(', ')}, got "${opts.status}"`);
      }
      const limit = parseIntArg(opts.limit, '--limit', 1);
      const page = await getSlashes(cli.client(), {
        limit,
        ...(opts.operator ? { operator: cli.resolveAddress(opts.operator) } : {}),
        ...(opts.status ? { status: opts.status as SlashStatus } : {}),
        ...(opts.after !== undefined ? { after: parseId(opts.after, '--after') } : {}),
      });
      const lines = page.slashes.length ? page.slashes.map(slashRow) : [opts.operator ? 'this operator has no slashes' : 'no slashes yet'];
      if (page.next) lines.push(`more: --after ${page.next}`);
      cli.out(lines, page);
    });

  pen
    .command('show <id>')
    .description('a slash (proof-verified): operator, device, amount, reason, evidence, status, dispute')
    .option('--height <h>', 'read at this block height (default latest)')
    .option('--evidence', 'also print the evidence (and counter-evidence) hex')
    .action(async (idArg: string, opts: { height?: string; evidence?: boolean }, cmd: Command) => {
      const cli = new Cli(cmd);
      const id = parseId(idArg);
      const height = opts.height === undefined ? undefined : parseIntArg(opts.height, '--height', 1);
      const r = await getSlash(cli.client(), { id, ...(height !== undefined ? { height } : {}) });
      if (!r.slash) throw new InvalidInputError('NOT_FOUND', `no slash ${id} at height ${r.height} (proven absent); see "groundwork penalties list"`);
      const v = slashJSON(r.slash) as unknown as SlashView;
      const extra = opts.evidence ? [`evidence hex: ${v.evidence}`, ...(v.counterEvidence !== null ? [`counter hex:  ${v.counterEvidence}`] : [])] : [];
      cli.out([...slashLines(v), ...extra, `verified:     Merkle proof checked at height ${r.height}`], { ...v, height: r.height.toString(), verified: true });
    });

  pen
    .command('faults <device>')
    .description("a device's fault window: faults counted, free faults left, when the window ends")
    .action(async (deviceArg: string, _o: unknown, cmd: Command) => {
      const cli = new Cli(cmd);
      const f = await getDeviceFaults(cli.client(), { device: parseDeviceId(deviceArg) });
      const window =
        f.count > 0 && f.windowEnd !== null
          ? `${f.count} fault(s) since height ${f.windowStart}; the window ends at height ${f.windowEnd}`
          : f.windowOver
            ? 'the last window is over: it resets (and a warned device goes back to active) when the device is next seen'
            : 'no faults in a current window';
      cli.out(
        [
          `device:       ${f.device}`,
          `owner:        ${f.owner}`,
          `status:       ${f.status} (${f.statusReason})`,
          `window:       ${window}`,
          `free faults:  ${f.freeLeft} of ${f.freeFaults} left (warnings only); beyond them each fault is a small slash, and fault ${f.jailFaults} jails the device`,
          `total:        ${f.total} fault(s) ever${f.lastReason ? `, last ${f.lastReason} at height ${f.lastHeight}` : ''}`,
        ],
        f,
      );
    });

  pen
    .command('escrow')
    .description('the slash escrow: tokens held for slashes in their dispute window, and the evidence kinds this chain verifies')
    .action(async (_o: unknown, cmd: Command) => {
      const cli = new Cli(cmd);
      const e = await getSlashEscrow(cli.client());
      cli.out(
        [
          `escrow:       ${e.address}`,
          `holds:        ${formatAmount(BigInt(e.balance))} (slashes pending or disputed: burned at their release height unless reversed)`,
          `evidence:     ${e.evidenceKinds.length ? e.evidenceKinds.join(', ') : 'no kinds (no vertical registered a verifier)'}`,
        ],
        e,
      );
    });

  pen
    .command('evidence <from>')
    .description('submit fraud evidence (anyone may): the device owner\'s operator stake is slashed into escrow and the device jailed')
    .requiredOption('--kind <kind>', 'evidence kind, e.g. double-signed-report')
    .requiredOption('--file <file>', 'the evidence: hex text or raw bytes, at most 8 KiB (e.g. from "groundwork testvertical report --double-sign")')
    .option('--fee <amount>', 'fee (default: the minimum for the tx size)')
    .option('--passphrase-file <file>', 'file holding the passphrase of <from>')
    .action(async (from: string, opts: { kind: string; file: string; fee?: string; passphraseFile?: string }, cmd: Command) => {
      const cli = new Cli(cmd);
      const evidence = readEvidenceFile(opts.file);
      const s = await signer(cli, from, opts);
      const r = await submitEvidence(cli.client(), { signer: s, kind: opts.kind, evidence, ...(opts.fee !== undefined ? { fee: parseAmount(opts.fee) } : {}), timeoutMs: 60_000 });
      cli.out(
        [
          `Slash ${r.slashId}: ${formatAmount(r.amount)} taken into the slash escrow (${opts.kind})`,
          `  the operator may dispute it until height ${r.releaseHeight - 1n}; it burns at the end of block ${r.releaseHeight} unless reversed`,
          `  tx ${r.hash} (block ${r.height}, fee ${formatAmount(r.fee)})`,
          `  see it with: groundwork penalties show ${r.slashId}`,
        ],
        { slashId: r.slashId.toString(), amount: r.amount.toString(), releaseHeight: r.releaseHeight.toString(), kind: opts.kind, evidenceHash: toHex(sha256(evidence)), sender: encodeAddress(s.address), hash: r.hash, height: r.height },
      );
    });

  pen
    .command('dispute <from> <id>')
    .description('dispute a slash of your stake before its release height: extends the escrow so governance can vote to reverse it')
    .option('--file <file>', 'counter-evidence from a file: hex text or raw bytes, at most 8 KiB')
    .option('--counter-evidence <text>', 'or: counter-evidence given as text')
    .option('--note <text>', 'a short explanation for governance (at most 256 bytes)', '')
    .option('--fee <amount>', 'fee (default: the minimum for the tx size)')
    .option('--passphrase-file <file>', 'file holding the passphrase of <from>')
    .action(async (from: string, idArg: string, opts: { file?: string; counterEvidence?: string; note: string; fee?: string; passphraseFile?: string }, cmd: Command) => {
      const cli = new Cli(cmd);
      const id = parseId(idArg);
      if ((opts.file === undefined) === (opts.counterEvidence === undefined)) {
        throw new InvalidInputError('INVALID_ARGUMENT', 'give the counter-evidence with exactly one of --file <file> or --counter-evidence <text>');
      }
      const counterEvidence = opts.file !== undefined ? readEvidenceFile(opts.file, 'counter-evidence') : new TextEncoder().encode(opts.counterEvidence);
      if (counterEvidence.length === 0 || counterEvidence.length > MAX_EVIDENCE_BYTES) {
        throw new InvalidInputError('INVALID_ARGUMENT', `--counter-evidence must be 1 to ${MAX_EVIDENCE_BYTES} bytes, got ${counterEvidence.length}`);
      }
      if (Buffer.byteLength(opts.note) > 256) throw new InvalidInputError('INVALID_ARGUMENT', `--note is ${Buffer.byteLength(opts.note)} bytes; at most 256`);
      const s = await signer(cli, from, opts);
      const r = await disputeSlash(cli.client(), { signer: s, id, counterEvidence, note: opts.note, ...(opts.fee !== undefined ? { fee: parseAmount(opts.fee) } : {}), timeoutMs: 60_000 });
      cli.out(
        [
          `Slash ${id} disputed: it now burns at the end of block ${r.releaseHeight} unless governance reverses it`,
          `  propose the reversal with: groundwork gov submit <key> --title "Reverse slash ${id}" --reverse-slash ${id} (its vote must end before height ${r.releaseHeight})`,
          `  tx ${r.hash} (block ${r.height}, fee ${formatAmount(r.fee)})`,
        ],
        { id: id.toString(), releaseHeight: r.releaseHeight.toString(), operator: encodeAddress(s.address), hash: r.hash, height: r.height },
      );
    });
}
