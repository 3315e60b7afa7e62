/**
 * `groundwork device ...` and `groundwork maker ...`: device keys, maker approvals (for
 * manufacturers, offline), onboarding, locations, transfers, retirement, and listings.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { getResolution, isValidCell, latLngToCell } from 'h3-js';
import { fromHex, toHex } from '../../core/bytes.js';
import { formatAmount } from '../../core/amount.js';
import { InvalidInputError } from '../../core/errors.js';
import { Ed25519Key, decodeAddress, encodeAddress, type Signer } from '../../core/keys.js';
import type { DecodedMsg } from '../../chain/tx.js';
import { CAPABILITY_BOUNDS, DEVICE_KINDS, NO_CAPABILITIES, capabilitiesProblem, isDeviceKind, type Capabilities, type Device, type DeviceKind } from '../../chain/modules/devices/types.js';
import { prepareTx } from '../../client/actions/signAndSend.js';
import { sendTx } from '../../client/actions/sendTx.js';
import { waitForTx } from '../../client/actions/getTx.js';
import { getDevice } from '../../client/actions/getDevice.js';
import { getAllDevices, getDevicesOf, type DeviceView } from '../../client/actions/getDevicesOf.js';
import { getMakers } from '../../client/actions/getMakers.js';
import { signMakerApproval } from '../../client/actions/signMakerApproval.js';
import { signDeviceConsent } from '../../client/actions/signDeviceConsent.js';
import { TxFailedError } from '../../client/errors.js';
import { parseAmount } from '../../core/amount.js';
import { homePaths } from '../../node/home.js';
import { Cli, parseBackend, parseIntArg, readPassphrase } from '../context.js';

// ---------------------------------------------------------------------------------------------
// Units

const BYTE_UNITS: Record<string, bigint> = {
  b: 1n,
  kb: 10n ** 3n,
  mb: 10n ** 6n,
  gb: 10n ** 9n,
  tb: 10n ** 12n,
  pb: 10n ** 15n,
  eb: 10n ** 18n,
  kib: 1n << 10n,
  mib: 1n << 20n,
  gib: 1n << 30n,
  tib: 1n << 40n,
  pib: 1n << 50n,
  eib: 1n << 60n,
};

/** "4TiB" → whole units times the multiplier; the result must be a whole number. */
function parseUnits(input: string, units: Record<string, bigint>, defaultUnit: string, what: string, examples: string): bigint {
  const m = /^\s*([0-9]+)(?:\.([0-9]+))?\s*([a-zA-Z/]*)\s*$/.exec(input);
  const unit = (m?.[3] || defaultUnit).toLowerCase();
  const mult = units[unit];
  if (!m || mult === undefined) throw new InvalidInputError('INVALID_ARGUMENT', `${what}: "${input}" is not understood; examples: ${examples}`);
  const frac = m[2] ?? '';
  const scale = 10n ** BigInt(frac.length);
  const num = (BigInt(m[1] as string) * scale + BigInt(frac || '0')) * mult;
  if (num % scale !== 0n) throw new InvalidInputError('INVALID_ARGUMENT', `${what}: "${input}" is not a whole number of ${defaultUnit}`);
  return num / scale;
}

/** A size in bytes: "4TiB", "16GiB", "500GB", "1.5TiB" or a plain byte count. */
export function parseBytes(input: string, what = 'size'): bigint {
  return parseUnits(input, BYTE_UNITS, 'b', what, '4TiB, 16GiB, 500GB, 1048576');
}

const CAPABILITY_FLAGS: Record<string, string> = {
  capacityBytes: '--capacity (bytes)',
  cpuCores: '--cpu',
  memoryBytes: '--memory (bytes)',
  gpuCount: '--gpu-count',
  gpuModel: '--gpu-model',
  bandwidthMbps: '--bandwidth (Mbps)',
};

/** The chain's capability message with field names replaced by the flags that set them. */
function flagNames(problem: string): string {
  return problem.replace(/\b(capacityBytes|cpuCores|memoryBytes|gpuCount|gpuModel|bandwidthMbps)\b/g, (f) => CAPABILITY_FLAGS[f] ?? f);
}

/** The flags a kind must be given (capabilities whose lower bound is above zero). */
export function requiredFlags(kind: DeviceKind): string {
  const b = CAPABILITY_BOUNDS[kind];
  const need = (Object.keys(b) as (keyof typeof b)[]).filter((f) => b[f][0] > 0).map((f) => (CAPABILITY_FLAGS[f] ?? f).split(' ')[0]);
  return need.length ? need.join(', ') : 'no capability flags';
}

/** A bandwidth in Mbps: "1000", "100Mbps", "2.5Gbps", "10Gbit". */
export function parseBandwidth(input: string): number {
  const units = { mbps: 1n, mbit: 1n, m: 1n, gbps: 1000n, gbit: 1000n, g: 1000n, tbps: 1_000_000n, tbit: 1_000_000n };
  const v = parseUnits(input, units, 'mbps', '--bandwidth', '1000, 100Mbps, 2.5Gbps');
  if (v > 0xffff_ffffn) throw new InvalidInputError('INVALID_ARGUMENT', `--bandwidth: "${input}" is too large`);
  return Number(v);
}

/** "4 TiB", "1.5 GiB", "0 B": binary units, at most two decimals (rounded down). */
export function formatBytes(v: bigint): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let i = 0;
  while (i < units.length - 1 && v >= 1n << BigInt(10 * (i + 1))) i++;
  const unit = 1n << BigInt(10 * i);
  const hundredths = (v * 100n) / unit; // rounds down
  const whole = hundredths / 100n;
  const frac = (hundredths % 100n).toString().padStart(2, '0').replace(/0+$/, '');
  return `${whole}${frac ? `.${frac}` : ''} ${units[i]}`;
}

function parseKind(k: string | undefined): DeviceKind {
  if (k === undefined) throw new InvalidInputError('INVALID_ARGUMENT', `--kind is required: one of ${DEVICE_KINDS.join(', ')}`);
  if (!isDeviceKind(k)) throw new InvalidInputError('INVALID_ARGUMENT', `--kind must be one of ${DEVICE_KINDS.join(', ')}, got "${k}"`);
  return k;
}

function parseDeviceId(s: string): string {
  const h = s.toLowerCase().replace(/^0x/, '');
  if (!/^[0-9a-f]{64}$/.test(h)) throw new InvalidInputError('INVALID_ARGUMENT', `a device id is its public key: 64 hex characters, got "${s}"`);
  return h;
}

function parseNumberArg(v: string, what: string): number {
  const n = Number(v);
  if (!/^-?[0-9]+(\.[0-9]+)?$/.test(v.trim()) || !Number.isFinite(n)) throw new InvalidInputError('INVALID_ARGUMENT', `${what} must be a number, got "${v}"`);
  return n;
}

// ---------------------------------------------------------------------------------------------
// Keys

interface DeviceKeyFile {
  type: 'groundwork-device-key';
  publicKey: string;
  seed: string;
}

/** A device key: a key file written by `device keygen --out`, or a key in the keyring. */
async function deviceSigner(cli: Cli, ref: string, opts: { passphraseFile?: string }): Promise<Signer> {
  if (existsSync(ref)) {
    let j: Partial<DeviceKeyFile>;
    try {
      j = JSON.parse(readFileSync(ref, 'utf8')) as Partial<DeviceKeyFile>;
    } catch (e) {
      throw new InvalidInputError('INVALID_KEY_FILE', `${ref} is not a device key file (JSON)`, { cause: e });
    }
    if (typeof j.seed !== 'string') throw new InvalidInputError('INVALID_KEY_FILE', `${ref}: missing "seed" (a device key file holds {type, publicKey, seed})`);
    return Ed25519Key.fromSeed(fromHex(j.seed, `${ref} seed`));
  }
  return keyringSigner(cli, ref, opts, 'device key');
}

async function keyringSigner(cli: Cli, name: string, opts: { passphraseFile?: string }, what: string): Promise<Signer> {
  const kr = cli.keyring();
  if (!kr.has(name)) throw new InvalidInputError('KEY_NOT_FOUND', `no ${what} "${name}": give a key name from "groundwork keys list" or a key file path`);
  const passphrase = kr.needsPassphrase(name) ? await readPassphrase(opts, `Passphrase of "${name}":`) : undefined;
  return kr.signer(name, passphrase);
}

/** The chain id: --chain-id, else this home's genesis, else the node's. */
async function chainIdOf(cli: Cli, given: string | undefined): Promise<string> {
  if (given) return given;
  const g = homePaths(cli.home).genesis;
  if (existsSync(g)) {
    const id = (JSON.parse(readFileSync(g, 'utf8')) as { chainId?: unknown }).chainId;
    if (typeof id === 'string') return id;
  }
  return (await cli.client().trust()).genesis.chainId;
}

// ---------------------------------------------------------------------------------------------
// Sending

interface TxOpts {
  fee?: string;
  wait: boolean;
  passphraseFile?: string;
}

function addTxOptions(c: Command): Command {
  return c
    .option('--fee <amount>', 'tx fee (default: the minimum for the tx size)')
    .option('--no-wait', 'return once the mempool accepted the tx, without waiting for a block')
    .option('--passphrase-file <file>', "file holding the owner key's passphrase");
}

async function send(cli: Cli, signer: Signer, msgs: DecodedMsg[], opts: TxOpts, done: string[], extra: Record<string, unknown>): Promise<void> {
  const client = cli.client();
  const fee = opts.fee === undefined ? undefined : parseAmount(opts.fee);
  const prepared = await prepareTx(client, { signer, msgs, ...(fee !== undefined ? { fee } : {}) });
  const { hash } = await sendTx(client, { tx: prepared.tx });
  const summary = { hash, sender: encodeAddress(signer.address), fee: prepared.fee.toString(), ...extra };
  if (!opts.wait) return cli.out([`Submitted ${hash}`, `  check it with: groundwork query tx ${hash}`], { ...summary, status: 'pending' });
  cli.note(`Submitted ${hash}, waiting for a block...`);
  const t = await waitForTx(client, { hash, timeoutMs: 60_000 });
  if (t.code !== 0) throw new TxFailedError(t.hash, BigInt(t.height), t.codespace, t.code, t.error, t.log);
  cli.out([...done, `  tx ${hash}`, `  block ${t.height}, fee ${formatAmount(prepared.fee)}`], { ...summary, status: 'committed', height: t.height });
}

// ---------------------------------------------------------------------------------------------
// Printing

function capsLine(c: DeviceView['capabilities']): string {
  const parts: string[] = [];
  if (c.capacityBytes !== '0') parts.push(`capacity ${formatBytes(BigInt(c.capacityBytes))}`);
  if (c.cpuCores) parts.push(`${c.cpuCores} CPU cores`);
  if (c.memoryBytes !== '0') parts.push(`memory ${formatBytes(BigInt(c.memoryBytes))}`);
  if (c.gpuCount) parts.push(`${c.gpuCount}× ${c.gpuModel}`);
  if (c.bandwidthMbps) parts.push(`${c.bandwidthMbps} Mbps`);
  return parts.length ? parts.join(', ') : 'none declared';
}

function statusLine(d: DeviceView): string {
  if (d.status === 'jailed') return `jailed until height ${d.jailedUntil} (${d.statusReason}, at height ${d.statusHeight})`;
  return `${d.status} (${d.statusReason}, at height ${d.statusHeight})`;
}

function deviceView(d: Device): DeviceView {
  return {
    id: toHex(d.id),
    owner: encodeAddress(d.owner),
    kind: d.kind,
    maker: d.maker,
    capabilities: { ...d.capabilities, capacityBytes: d.capabilities.capacityBytes.toString(), memoryBytes: d.capabilities.memoryBytes.toString() },
    location: d.location,
    locationHeight: d.locationHeight.toString(),
    locationAssertions: d.locationAssertions,
    status: d.status,
    statusReason: d.statusReason,
    statusHeight: d.statusHeight.toString(),
    jailedUntil: d.jailedUntil.toString(),
    onboardedHeight: d.onboardedHeight.toString(),
  };
}

function deviceLines(d: DeviceView): string[] {
  return [
    `device:       ${d.id}`,
    `owner:        ${d.owner}`,
    `kind:         ${d.kind} (maker ${d.maker})`,
    `status:       ${statusLine(d)}`,
    `location:     ${d.location ? `${d.location} (resolution ${getResolution(d.location)}, asserted at height ${d.locationHeight})` : 'not asserted yet (groundwork device assert-location)'}`,
    `capabilities: ${capsLine(d.capabilities)}`,
    `onboarded:    height ${d.onboardedHeight}`,
  ];
}

function deviceRow(d: DeviceView): string {
  return `${d.id}  ${d.kind.padEnd(8)} ${d.status.padEnd(8)} ${(d.location ?? '-').padEnd(16)} ${d.owner}`;
}

// ---------------------------------------------------------------------------------------------
// Commands

interface OnboardOpts extends TxOpts {
  deviceKey?: string;
  devicePubkey?: string;
  deviceSignature?: string;
  maker?: string;
  makerSignature?: string;
  kind?: string;
  capacity?: string;
  cpu?: string;
  memory?: string;
  gpuModel?: string;
  gpuCount?: string;
  bandwidth?: string;
}

function capabilitiesOf(o: OnboardOpts): Capabilities {
  const gpuModel = o.gpuModel ?? '';
  return {
    ...NO_CAPABILITIES,
    ...(o.capacity !== undefined ? { capacityBytes: parseBytes(o.capacity, '--capacity') } : {}),
    ...(o.cpu !== undefined ? { cpuCores: parseIntArg(o.cpu, '--cpu') } : {}),
    ...(o.memory !== undefined ? { memoryBytes: parseBytes(o.memory, '--memory') } : {}),
    gpuModel,
    gpuCount: o.gpuCount !== undefined ? parseIntArg(o.gpuCount, '--gpu-count') : gpuModel ? 1 : 0,
    ...(o.bandwidth !== undefined ? { bandwidthMbps: parseBandwidth(o.bandwidth) } : {}),
  };
}

export function deviceCommand(program: Command): void {
  const device = program.command('device').description('devices: keys, onboarding, location, transfer, retirement');

  device
    .command('keygen <name>')
    .description('create a device key (an Ed25519 key; its public key is the device id): in the keyring, or in a file with --out')
    .option('--out <file>', 'write the key to this file (mode 0600) instead of the keyring, e.g. for the device itself')
    .option('--keyring-backend <backend>', 'file (encrypted) or test (unencrypted, devnet only)', 'file')
    .option('--passphrase-file <file>', 'file holding the passphrase (file backend)')
    .action(async (name: string, opts: { out?: string; keyringBackend: string; passphraseFile?: string }, cmd: Command) => {
      const cli = new Cli(cmd);
      if (opts.out) {
        if (existsSync(opts.out)) throw new InvalidInputError('FILE_EXISTS', `${opts.out} already exists; pick another path (a key file is never overwritten)`);
        const key = Ed25519Key.generate();
        const file: DeviceKeyFile = { type: 'groundwork-device-key', publicKey: toHex(key.publicKey), seed: toHex(key.seed) };
        mkdirSync(dirname(opts.out), { recursive: true });
        writeFileSync(opts.out, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
        return cli.out([`Created device key "${name}" in ${opts.out}`, `device id (public key): ${file.publicKey}`], { name, file: opts.out, publicKey: file.publicKey });
      }
      const backend = parseBackend(opts.keyringBackend);
      const passphrase = backend === 'file' ? await readPassphrase(opts, `Passphrase to encrypt "${name}":`, true) : undefined;
      const { info, mnemonic } = cli.keyring().add(name, { backend, ...(passphrase ? { passphrase } : {}) });
      cli.out(
        [`Created device key "${name}" (${backend} keyring)`, `device id (public key): ${info.publicKey}`, '', 'Mnemonic (the only way to recover the key):', '', mnemonic],
        { name, publicKey: info.publicKey, address: info.address, backend, mnemonic },
      );
    });

  device
    .command('consent <device-key> <owner>')
    .description("sign the device's consent to be onboarded by <owner> (run where the device key lives; prints the signature hex)")
    .option('--chain-id <id>', 'the chain (default: this home\'s genesis, else the node\'s)')
    .option('--passphrase-file <file>', 'file holding the passphrase of a keyring device key')
    .action(async (ref: string, owner: string, opts: { chainId?: string; passphraseFile?: string }, cmd: Command) => {
      const cli = new Cli(cmd);
      const signer = await deviceSigner(cli, ref, opts);
      const ownerAddr = cli.resolveAddress(owner);
      const chainId = await chainIdOf(cli, opts.chainId);
      const sig = signDeviceConsent(signer, { chainId, owner: ownerAddr });
      cli.out(sig, { device: toHex(signer.publicKey), owner: ownerAddr, chainId, deviceSignature: sig });
    });

  addTxOptions(
    device
      .command('onboard <owner>')
      .description('onboard a device owned by <owner> (a key name): burns the onboarding fee of its kind in Data Credits')
      .option('--device-key <name|file>', 'the device key (keyring name or key file): signs the consent here')
      .option('--device-pubkey <hex>', 'or: the device public key, with --device-signature from "device consent"')
      .option('--device-signature <hex>', 'the consent the device signed elsewhere')
      .option('--maker <name>', 'the approved maker of the device (see "groundwork maker list")')
      .option('--maker-signature <hex>', 'the maker\'s approval of this device and kind ("groundwork maker sign")')
      .option('--kind <kind>', `device kind: ${DEVICE_KINDS.map((k) => `${k} (needs ${requiredFlags(k)})`).join(', ')}`)
      .option('--capacity <size>', 'storage capacity, e.g. 4TiB')
      .option('--cpu <n>', 'CPU cores')
      .option('--memory <size>', 'memory, e.g. 16GiB')
      .option('--gpu-model <model>', 'GPU model, e.g. "NVIDIA H200"')
      .option('--gpu-count <n>', 'number of GPUs (default 1 with --gpu-model)')
      .option('--bandwidth <rate>', 'bandwidth, e.g. 1000 (Mbps) or 10Gbps'),
  ).action(async (owner: string, opts: OnboardOpts, cmd: Command) => {
    const cli = new Cli(cmd);
    const kind = parseKind(opts.kind);
    if (!opts.maker) throw new InvalidInputError('INVALID_ARGUMENT', '--maker is required (see "groundwork maker list")');
    if (!opts.makerSignature) throw new InvalidInputError('INVALID_ARGUMENT', '--maker-signature is required: the maker signs the device key with "groundwork maker sign"');
    const capabilities = capabilitiesOf(opts);
    const problem = capabilitiesProblem(kind, capabilities);
    if (problem) throw new InvalidInputError('INVALID_ARGUMENT', `${flagNames(problem)} (a ${kind} device needs: ${requiredFlags(kind)})`);
    const signer = await keyringSigner(cli, owner, opts, 'owner key');
    let deviceKey: Uint8Array;
    let deviceSignature: Uint8Array;
    if (opts.deviceKey) {
      const d = await deviceSigner(cli, opts.deviceKey, {});
      const chainId = (await cli.client().trust()).genesis.chainId;
      deviceKey = d.publicKey;
      deviceSignature = fromHex(signDeviceConsent(d, { chainId, owner: encodeAddress(signer.address) }));
    } else if (opts.devicePubkey && opts.deviceSignature) {
      deviceKey = fromHex(parseDeviceId(opts.devicePubkey));
      deviceSignature = fromHex(opts.deviceSignature, '--device-signature');
    } else {
      throw new InvalidInputError('INVALID_ARGUMENT', 'give --device-key <name|file>, or --device-pubkey with --device-signature (from "groundwork device consent")');
    }
    const makerSignature = fromHex(opts.makerSignature, '--maker-signature');
    if (makerSignature.length !== 64) throw new InvalidInputError('INVALID_ARGUMENT', `--maker-signature must be 64 bytes (128 hex characters), got ${makerSignature.length}`);
    if (deviceSignature.length !== 64) throw new InvalidInputError('INVALID_ARGUMENT', `--device-signature must be 64 bytes (128 hex characters), got ${deviceSignature.length}`);
    const id = toHex(deviceKey);
    await send(
      cli,
      signer,
      [{ type: 'devices/onboard', value: { kind, deviceKey, maker: opts.maker, makerSignature, deviceSignature, capabilities } }],
      opts,
      [`Onboarded ${kind} ${id}`, `  owner ${encodeAddress(signer.address)}, maker ${opts.maker}`, `  next: groundwork device assert-location ${owner} ${id} <h3-cell>`],
      { device: id, kind, maker: opts.maker },
    );
  });

  device
    .command('show <id>')
    .description('a device (proof-verified): owner, kind, status, location, capabilities')
    .option('--height <h>', 'read at this block height (default latest)')
    .action(async (idArg: string, opts: { height?: string }, cmd: Command) => {
      const cli = new Cli(cmd);
      const id = parseDeviceId(idArg);
      const height = opts.height === undefined ? undefined : parseIntArg(opts.height, '--height', 1);
      const r = await getDevice(cli.client(), { id, ...(height !== undefined ? { height } : {}) });
      if (!r.device) throw new InvalidInputError('NOT_FOUND', `no device ${id} at height ${r.height} (proven absent)`);
      const v = deviceView(r.device);
      cli.out([...deviceLines(v), `verified:     Merkle proof checked at height ${r.height}`], { ...v, height: r.height.toString(), verified: true });
    });

  device
    .command('list')
    .description("list devices: an owner's (--owner), or all")
    .option('--owner <address|key>', 'only the devices of this owner')
    .option('--limit <n>', 'devices per page (1-1000)', '100')
    .option('--after <id>', 'continue after this device id (the previous page\'s "next")')
    .action(async (opts: { owner?: string; limit: string; after?: string }, cmd: Command) => {
      const cli = new Cli(cmd);
      const limit = parseIntArg(opts.limit, '--limit', 1);
      const after = opts.after === undefined ? undefined : parseDeviceId(opts.after);
      const page = opts.owner
        ? await getDevicesOf(cli.client(), { owner: cli.resolveAddress(opts.owner), limit, ...(after ? { after } : {}) })
        : await getAllDevices(cli.client(), { limit, ...(after ? { after } : {}) });
      const lines = page.devices.length ? page.devices.map(deviceRow) : [opts.owner ? 'this owner has no devices' : 'no devices yet'];
      if ('count' in page) lines.push(`${page.count} device(s) not retired`);
      if (page.next) lines.push(`more: --after ${page.next}`);
      cli.out(lines, page);
    });

  addTxOptions(
    device
      .command('assert-location <owner> <device> [h3cell]')
      .description('assert where a device is: an H3 cell index, or --lat/--lng (converted with H3 at --res)')
      .option('--lat <deg>', 'latitude in degrees')
      .option('--lng <deg>', 'longitude in degrees')
      .option('--res <r>', 'H3 resolution for --lat/--lng', '10'),
  ).action(async (owner: string, deviceArg: string, cellArg: string | undefined, opts: TxOpts & { lat?: string; lng?: string; res: string }, cmd: Command) => {
    const cli = new Cli(cmd);
    const id = parseDeviceId(deviceArg);
    let cell: string;
    if (cellArg !== undefined) {
      if (opts.lat !== undefined || opts.lng !== undefined) throw new InvalidInputError('INVALID_ARGUMENT', 'give an H3 cell or --lat/--lng, not both');
      cell = cellArg.toLowerCase();
    } else {
      if (opts.lat === undefined || opts.lng === undefined) throw new InvalidInputError('INVALID_ARGUMENT', 'give an H3 cell index (e.g. 8a1fb46622dffff), or both --lat and --lng');
      const lat = parseNumberArg(opts.lat, '--lat');
      const lng = parseNumberArg(opts.lng, '--lng');
      if (lat < -90 || lat > 90) throw new InvalidInputError('INVALID_ARGUMENT', `--lat must be between -90 and 90, got ${opts.lat}`);
      if (lng < -180 || lng > 180) throw new InvalidInputError('INVALID_ARGUMENT', `--lng must be between -180 and 180, got ${opts.lng}`);
      const res = parseIntArg(opts.res, '--res');
      if (res > 15) throw new InvalidInputError('INVALID_ARGUMENT', `--res must be 0-15, got ${res}`);
      cell = latLngToCell(lat, lng, res);
    }
    if (!isValidCell(cell)) throw new InvalidInputError('INVALID_ARGUMENT', `"${cell}" is not a valid H3 cell index`);
    const signer = await keyringSigner(cli, owner, opts, 'owner key');
    await send(cli, signer, [{ type: 'devices/assert-location', value: { device: fromHex(id), cell } }], opts, [`Asserted ${id} at ${cell} (resolution ${getResolution(cell)})`], {
      device: id,
      cell,
    });
  });

  addTxOptions(device.command('transfer <owner> <device> <new-owner>').description('hand a device (with its status and location) to a new owner')).action(
    async (owner: string, deviceArg: string, to: string, opts: TxOpts, cmd: Command) => {
      const cli = new Cli(cmd);
      const id = parseDeviceId(deviceArg);
      const newOwner = cli.resolveAddress(to);
      const signer = await keyringSigner(cli, owner, opts, 'owner key');
      await send(cli, signer, [{ type: 'devices/transfer', value: { device: fromHex(id), newOwner: decodeAddress(newOwner) } }], opts, [`Transferred ${id} to ${newOwner}`], {
        device: id,
        newOwner,
      });
    },
  );

  addTxOptions(device.command('retire <owner> <device>').description('retire a device for good (no more status, location or owner changes)')).action(
    async (owner: string, deviceArg: string, opts: TxOpts, cmd: Command) => {
      const cli = new Cli(cmd);
      const id = parseDeviceId(deviceArg);
      const signer = await keyringSigner(cli, owner, opts, 'owner key');
      await send(cli, signer, [{ type: 'devices/retire', value: { device: fromHex(id) } }], opts, [`Retired ${id}`], { device: id });
    },
  );

  addTxOptions(device.command('unjail <owner> <device>').description('take a jailed device back to active once devices.jailBlocks have passed')).action(
    async (owner: string, deviceArg: string, opts: TxOpts, cmd: Command) => {
      const cli = new Cli(cmd);
      const id = parseDeviceId(deviceArg);
      const signer = await keyringSigner(cli, owner, opts, 'owner key');
      await send(cli, signer, [{ type: 'devices/unjail', value: { device: fromHex(id) } }], opts, [`Unjailed ${id}: active again`], { device: id });
    },
  );
}

export function makerCommand(program: Command): void {
  const maker = program.command('maker').description('device makers (manufacturers approved by governance)');

  maker
    .command('sign <maker-key> <device-pubkey>')
    .description("sign a maker's approval of a device (offline, for manufacturers): prints the signature hex for \"device onboard --maker-signature\"")
    .option('--kind <kind>', `device kind: ${DEVICE_KINDS.join(', ')}`)
    .option('--chain-id <id>', 'the chain the device will join (default: this home\'s genesis, else the node\'s)')
    .option('--passphrase-file <file>', 'file holding the passphrase of the maker key')
    .action(async (makerKey: string, devicePubkey: string, opts: { kind?: string; chainId?: string; passphraseFile?: string }, cmd: Command) => {
      const cli = new Cli(cmd);
      const kind = parseKind(opts.kind);
      const deviceKey = parseDeviceId(devicePubkey);
      const signer = await keyringSigner(cli, makerKey, opts, 'maker key');
      const chainId = await chainIdOf(cli, opts.chainId);
      const sig = signMakerApproval(signer, { chainId, kind, deviceKey });
      cli.out(sig, { makerKey: toHex(signer.publicKey), device: deviceKey, kind, chainId, makerSignature: sig });
    });

  maker
    .command('list')
    .description('makers approved by governance (revoked ones marked)')
    .action(async (_o: unknown, cmd: Command) => {
      const cli = new Cli(cmd);
      const makers = await getMakers(cli.client());
      cli.out(
        makers.length
          ? makers.map((m) => `${m.name.padEnd(24)} ${m.pubKey}  ${m.devices} device(s)${m.revokedHeight !== null ? `  REVOKED at height ${m.revokedHeight}` : ''}`)
          : 'no makers yet: governance approves them (or the genesis devices.makers section)',
        makers,
      );
    });
}
