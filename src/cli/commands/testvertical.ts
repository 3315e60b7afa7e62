/**
 * `groundwork testvertical ...`: the test vertical — signed device reports credited through
 * rewards, a double-signed report for the fraud-evidence demo, and test faults (authority only).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { formatAmount, parseAmount } from '../../core/amount.js';
import { fromHex, toHex } from '../../core/bytes.js';
import { InvalidInputError } from '../../core/errors.js';
import { Ed25519Key, encodeAddress, type Signer } from '../../core/keys.js';
import { DOUBLE_SIGN_KIND, REPORT_POOLS, encodeDoubleSignEvidence, isReportPool } from '../../chain/modules/testvertical/types.js';
import type { Client } from '../../client/client.js';
import { getDevice } from '../../client/actions/getDevice.js';
import { reportTestFault } from '../../client/actions/reportTestFault.js';
import { signTestReport } from '../../client/actions/signTestReport.js';
import { submitTestReport } from '../../client/actions/submitTestReport.js';
import { Cli, readPassphrase } from '../context.js';
import { parseDeviceId } from './penalties.js';

const REASON_RE = /^[a-z0-9][a-z0-9_-]{0,31}$/;

async function keySigner(cli: Cli, name: string, opts: { passphraseFile?: string }, what: string): Promise<Signer> {
  const kr = cli.keyring();
  if (!kr.has(name)) throw new InvalidInputError('KEY_NOT_FOUND', `no ${what} "${name}": give a key name from "groundwork keys list"${what === 'device key' ? ' or a device key file path' : ''}`);
  const passphrase = kr.needsPassphrase(name) ? await readPassphrase(opts, `Passphrase of "${name}":`) : undefined;
  return kr.signer(name, passphrase);
}

/** A device key: a key file written by `device keygen --out`, or a key in the keyring. */
async function deviceSigner(cli: Cli, ref: string, opts: { devicePassphraseFile?: string }): Promise<Signer> {
  if (existsSync(ref)) {
    let j: { seed?: unknown };
    try {
      j = JSON.parse(readFileSync(ref, 'utf8')) as { seed?: unknown };
    } catch (e) {
      throw new InvalidInputError('INVALID_KEY_FILE', `${ref} is not a device key file (JSON)`, { cause: e });
    }
    if (typeof j.seed !== 'string') throw new InvalidInputError('INVALID_KEY_FILE', `${ref}: missing "seed" (a device key file holds {type, publicKey, seed})`);
    return Ed25519Key.fromSeed(fromHex(j.seed, `${ref} seed`));
  }
  return keySigner(cli, ref, opts.devicePassphraseFile ? { passphraseFile: opts.devicePassphraseFile } : {}, 'device key');
}

/**
 * Who pays for a report signed by `device` when no separate signer was named: the device
 * owner's key if this keyring holds it (read from the chain, proof-verified), else the device
 * key's own account.
 */
async function payerFor(cli: Cli, client: Client, device: Signer, opts: { passphraseFile?: string }): Promise<Signer> {
  const { device: d } = await getDevice(client, { id: toHex(device.publicKey) });
  if (d) {
    const owner = encodeAddress(d.owner);
    const key = cli.keyring().list().find((k) => k.address === owner);
    if (key) return keySigner(cli, key.name, opts, 'key');
  }
  return device;
}

function parseUint(v: string | undefined, what: string, min = 0n): bigint {
  if (v === undefined) throw new InvalidInputError('INVALID_ARGUMENT', `${what} is required`);
  if (!/^[0-9]{1,39}$/.test(v) || BigInt(v) < min) throw new InvalidInputError('INVALID_ARGUMENT', `${what} must be an integer ≥ ${min}, got "${v}"`);
  return BigInt(v);
}

interface ReportOpts {
  deviceKey?: string;
  seq?: string;
  pool?: string;
  units?: string;
  reason: string;
  doubleSign?: string;
  fee?: string;
  passphraseFile?: string;
  devicePassphraseFile?: string;
}

export function testverticalCommand(program: Command): void {
  const tv = program.command('testvertical').description('the test vertical: signed device reports credited through rewards, fraud and fault demos');

  tv.command('report <from>')
    .description(
      'sign a report of work with the device key and submit it; the device owner earns. <from> signs and pays for the tx; without --device-key, <from> is the device key (name or file) and the tx is paid by the device owner\'s key when this keyring holds it, else by the device key\'s own account',
    )
    .option('--device-key <name|file>', 'the device key: keyring name or key file (from "groundwork device keygen")')
    .option('--seq <n>', "report sequence number: greater than the device's last accepted one")
    .option('--pool <pool>', `work pool: ${REPORT_POOLS.join(', ')}`)
    .option('--units <n>', 'units of work (a positive integer)')
    .option('--reason <code>', 'reason code of the reward line', 'test-work')
    .option('--double-sign <file>', 'also sign a conflicting report with the same seq and write the double-sign evidence (hex) to this file, for "penalties evidence"')
    .option('--fee <amount>', 'fee (default: the minimum for the tx size)')
    .option('--passphrase-file <file>', 'file holding the passphrase of <from>')
    .option('--device-passphrase-file <file>', 'file holding the passphrase of a keyring device key')
    .action(async (from: string, opts: ReportOpts, cmd: Command) => {
      const cli = new Cli(cmd);
      const seq = parseUint(opts.seq, '--seq');
      if (opts.pool === undefined || !isReportPool(opts.pool)) throw new InvalidInputError('INVALID_ARGUMENT', `--pool must be one of ${REPORT_POOLS.join(', ')}, got ${opts.pool === undefined ? 'nothing' : `"${opts.pool}"`}`);
      const pool = opts.pool;
      const units = parseUint(opts.units, '--units', 1n);
      if (!REASON_RE.test(opts.reason)) throw new InvalidInputError('INVALID_ARGUMENT', `--reason must be 1-32 characters of a-z, 0-9, "_" or "-", got "${opts.reason}"`);
      if (opts.doubleSign !== undefined && existsSync(opts.doubleSign)) throw new InvalidInputError('FILE_EXISTS', `${opts.doubleSign} already exists; pick another path`);
      const client = cli.client();
      const device = await deviceSigner(cli, opts.deviceKey ?? from, opts);
      const s = opts.deviceKey ? await keySigner(cli, from, opts, 'key') : await payerFor(cli, client, device, opts);
      const { chainId } = (await client.trust()).genesis;
      const report = signTestReport(device, { chainId, seq, pool, units, reason: opts.reason });
      let evidenceFile: string | undefined;
      if (opts.doubleSign !== undefined) {
        // The same seq with other content, signed by the same key: what a cheating device does.
        const conflicting = signTestReport(device, { chainId, seq, pool, units: units + 1n, reason: opts.reason });
        mkdirSync(dirname(opts.doubleSign), { recursive: true });
        writeFileSync(opts.doubleSign, `${toHex(encodeDoubleSignEvidence(report, conflicting))}\n`, { flag: 'wx' });
        evidenceFile = opts.doubleSign;
      }
      const r = await submitTestReport(client, { signer: s, report, ...(opts.fee !== undefined ? { fee: parseAmount(opts.fee) } : {}), timeoutMs: 60_000 });
      const ev = r.events.find((e) => e.type === 'testvertical.report')?.attributes ?? {};
      const epoch = r.events.find((e) => e.type === 'rewards.contribution')?.attributes.epoch;
      const id = toHex(device.publicKey);
      cli.out(
        [
          `Report ${seq} of device ${id} accepted: ${units} ${pool} unit(s) (${r.weighted} after status weighting) credited to ${ev.owner ?? 'its owner'}`,
          `  epoch ${epoch ?? '?'}; tx ${r.hash} (block ${r.height}, fee ${formatAmount(r.fee)} paid by ${encodeAddress(s.address)})`,
          ...(evidenceFile
            ? [`  wrote double-sign evidence (seq ${seq} signed twice) to ${evidenceFile}`, `  submit it with: groundwork penalties evidence <key> --kind ${DOUBLE_SIGN_KIND} --file ${evidenceFile}`]
            : []),
        ],
        {
          device: id,
          owner: ev.owner,
          seq: seq.toString(),
          pool,
          units: units.toString(),
          weighted: r.weighted.toString(),
          reason: opts.reason,
          reportHash: ev.hash,
          epoch,
          hash: r.hash,
          height: r.height,
          sender: encodeAddress(s.address),
          ...(evidenceFile ? { evidenceFile } : {}),
        },
      );
    });

  tv.command('fault <authority> <device>')
    .description('report an operational fault of a device (test only: signed by testvertical.authority; real verticals detect faults from their challenges)')
    .option('--reason <code>', 'reason code', 'missed-challenge')
    .option('--fee <amount>', 'fee (default: the minimum for the tx size)')
    .option('--passphrase-file <file>', 'file holding the passphrase of <authority>')
    .action(async (authority: string, deviceArg: string, opts: { reason: string; fee?: string; passphraseFile?: string }, cmd: Command) => {
      const cli = new Cli(cmd);
      const device = parseDeviceId(deviceArg);
      if (!REASON_RE.test(opts.reason)) throw new InvalidInputError('INVALID_ARGUMENT', `--reason must be 1-32 characters of a-z, 0-9, "_" or "-", got "${opts.reason}"`);
      const s = await keySigner(cli, authority, opts, 'key');
      const r = await reportTestFault(cli.client(), { signer: s, device, reason: opts.reason, ...(opts.fee !== undefined ? { fee: parseAmount(opts.fee) } : {}), timeoutMs: 60_000 });
      const what = {
        warning: `warning ${r.count}: the device is warned (see "groundwork penalties faults ${device}")`,
        penalty: `fault ${r.count} is beyond the free ones: ${formatAmount(r.slashed)} slashed into escrow${r.slashId !== null ? ` (slash ${r.slashId})` : ' (the owner has no operator stake)'}`,
        jail: `fault ${r.count}: ${formatAmount(r.slashed)} slashed${r.slashId !== null ? ` (slash ${r.slashId})` : ''} and the device is jailed`,
        ignored: 'the device is jailed or retired: the fault was not counted',
      }[r.action];
      cli.out([`Fault ${opts.reason} reported for ${device}: ${what}`, `  tx ${r.hash} (block ${r.height}, fee ${formatAmount(r.fee)})`], {
        device,
        reason: opts.reason,
        action: r.action,
        count: r.count,
        slashed: r.slashed.toString(),
        slashId: r.slashId === null ? null : r.slashId.toString(),
        hash: r.hash,
        height: r.height,
      });
    });
}
