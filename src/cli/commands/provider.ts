/**
 * `groundwork provider ...`: the provider agent (src/provider) — write its config, run it in the
 * foreground, see where the provider stands on chain, withdraw earnings by hand.
 *
 *   groundwork provider init                 writes <home>/provider.json (+ provider.README.md)
 *   groundwork provider start                runs the agent until SIGINT/SIGTERM
 *   groundwork provider status [address]     provider record, reputation, earnings, leases; agent up?
 *   groundwork provider withdraw <key>       market/withdraw now
 */
import { existsSync, readFileSync, writeFileSync, mkdirSync, renameSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { formatAmount } from '../../core/amount.js';
import { GroundworkError } from '../../core/errors.js';
import { createLogger, LOG_LEVELS, type LogLevel } from '../../core/log.js';
import { encodeAddress, type Signer } from '../../core/keys.js';
import { createClient, type Client } from '../../client/client.js';
import { Keyring } from '../../client/keyring.js';
import { moduleQuery } from '../../client/actions/moduleQuery.js';
import { signAndSend } from '../../client/actions/signAndSend.js';
import { ApiResponseError } from '../../client/errors.js';
import { CONFIG_FILE, configFieldsMarkdown, defaultConfigJSON, loadConfig, ProviderConfigError, type ProviderConfig } from '../../provider/config.js';
import { withdrawMsg } from '../../provider/chain.js';
import { runProvider } from '../../provider/index.js';
import type { LeaseView, ProviderView } from '../../provider/views.js';
import { homePaths } from '../../node/home.js';
import { Cli, readPassphrase } from '../context.js';

interface ConfigOpts {
  config?: string;
}

function configPath(cli: Cli, opts: ConfigOpts): string {
  return opts.config ? resolve(opts.config) : join(cli.home, CONFIG_FILE);
}

/** Writes provider.json (defaults, with the given overrides) and provider.README.md beside it. */
function writeConfig(path: string, overrides: Record<string, unknown>, force: boolean): Record<string, unknown> {
  if (existsSync(path) && !force) throw new GroundworkError('PROVIDER_CONFIG_EXISTS', `${path} already exists; edit it, or pass --force to overwrite it with the defaults`);
  const c = { ...defaultConfigJSON(), ...overrides };
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(c, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, path);
  writeFileSync(join(dirname(path), 'provider.README.md'), `# ${CONFIG_FILE}: the provider agent's configuration\n\n${configFieldsMarkdown()}\n`);
  return c;
}

/** The node URL: --node wins, then the config's. */
function nodeUrl(cmd: Command, config: ProviderConfig): string {
  return cmd.optsWithGlobals<{ node?: string }>().node ?? config.node;
}

/** A client that trusts the configured genesis hash, else <home>/genesis.json, else the node's own. */
function clientFor(cli: Cli, url: string, config: ProviderConfig | undefined): Client {
  if (config?.genesisHash) return createClient({ url, genesisHash: config.genesisHash });
  const g = homePaths(cli.home).genesis;
  return existsSync(g) ? createClient({ url, genesis: new Uint8Array(readFileSync(g)) }) : createClient({ url });
}

/** The operator key named in the config; the keyring backend must be the one the config says. */
async function operatorSigner(config: ProviderConfig): Promise<Signer> {
  const kr = new Keyring(config.keyringDir);
  if (!kr.has(config.key)) throw new ProviderConfigError('key', `names "${config.key}", which is not in the keyring ${config.keyringDir}; create it with "groundwork keys add ${config.key}"`);
  const actual = kr.needsPassphrase(config.key) ? 'file' : 'test';
  if (actual !== config.keyringBackend) throw new ProviderConfigError('keyringBackend', `is "${config.keyringBackend}" but key "${config.key}" is stored with the "${actual}" backend`);
  const passphrase = actual === 'file' ? await readPassphrase(config.passphraseFile ? { passphraseFile: config.passphraseFile } : {}, `Passphrase of "${config.key}":`) : undefined;
  return kr.signer(config.key, passphrase);
}

async function fetchMetrics(config: ProviderConfig | undefined): Promise<{ url: string; up: boolean; status?: unknown }> {
  if (!config?.metricsListen) return { url: '', up: false };
  const [host, port] = [config.metricsListen.slice(0, config.metricsListen.lastIndexOf(':')), config.metricsListen.slice(config.metricsListen.lastIndexOf(':') + 1)];
  const h = host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host;
  const url = `http://${h}:${port}`;
  try {
    const m = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(1500) });
    if (!m.ok) return { url, up: false };
    const s = await fetch(`${url}/status`, { signal: AbortSignal.timeout(1500) }).then((r) => (r.ok ? (r.json() as Promise<unknown>) : undefined)).catch(() => undefined);
    return { url, up: true, ...(s !== undefined ? { status: s } : {}) };
  } catch {
    return { url, up: false };
  }
}

export function providerCommand(program: Command): void {
  const provider = program
    .command('provider')
    .description('the provider agent: registers the operator, bids on orders, serves leases, withdraws earnings (config: <home>/provider.json)');

  provider
    .command('init')
    .description(`write ${CONFIG_FILE} with the documented defaults (and provider.README.md describing every field)`)
    .option('--config <file>', `config file to write (default: <home>/${CONFIG_FILE})`)
    .option('--key <name>', 'operator key name')
    .option('--keyring-backend <backend>', '"file" or "test"')
    .option('--host-uri <uri>', 'where customers reach this provider')
    .option('--metrics-listen <host:port>', 'metrics endpoint address ("" for none)')
    .option('--force', 'overwrite an existing config')
    .action((opts: ConfigOpts & { key?: string; keyringBackend?: string; hostUri?: string; metricsListen?: string; force?: boolean }, cmd: Command) => {
      const cli = new Cli(cmd);
      const path = configPath(cli, opts);
      const node = cmd.optsWithGlobals<{ node?: string }>().node;
      const over: Record<string, unknown> = {
        ...(node ? { node } : { node: cli.url }),
        ...(opts.key ? { key: opts.key } : {}),
        ...(opts.keyringBackend ? { keyringBackend: opts.keyringBackend } : {}),
        ...(opts.hostUri ? { hostUri: opts.hostUri } : {}),
        ...(opts.metricsListen !== undefined ? { metricsListen: opts.metricsListen } : {}),
      };
      const c = writeConfig(path, over, opts.force === true);
      // Validate what was written, so a bad flag is caught now rather than at start.
      loadConfig(cli.home, path);
      cli.out([`Wrote ${path} (fields: ${join(dirname(path), 'provider.README.md')})`, 'Edit it (devices, pricing, attributes), then run: groundwork provider start'], { path, config: c });
    });

  provider
    .command('start')
    .description('run the agent in the foreground until SIGINT/SIGTERM: reconcile with the chain, then watch blocks, bid, serve leases, withdraw')
    .option('--config <file>', `config file (default: <home>/${CONFIG_FILE})`)
    .option('--init', `write a default ${CONFIG_FILE} first if there is none`)
    .option('--json-logs', 'log JSON lines (config: jsonLogs)')
    .option('--log-level <level>', `one of ${LOG_LEVELS.join(', ')} (config: logLevel)`)
    .action(async (opts: ConfigOpts & { init?: boolean; jsonLogs?: boolean; logLevel?: string }, cmd: Command) => {
      const cli = new Cli(cmd);
      const path = configPath(cli, opts);
      if (opts.init && !existsSync(path)) {
        const node = cmd.optsWithGlobals<{ node?: string }>().node;
        writeConfig(path, { node: node ?? cli.url }, false);
        cli.note(`Wrote ${path} with the defaults`);
      }
      if (opts.logLevel && !(LOG_LEVELS as string[]).includes(opts.logLevel)) {
        throw new GroundworkError('INVALID_ARGUMENT', `--log-level must be one of ${LOG_LEVELS.join(', ')}`);
      }
      const file = loadConfig(cli.home, path);
      const config: ProviderConfig = {
        ...file,
        node: nodeUrl(cmd, file),
        ...(opts.jsonLogs ? { jsonLogs: true } : {}),
        ...(opts.logLevel ? { logLevel: opts.logLevel as LogLevel } : {}),
      };
      const signer = await operatorSigner(config);
      const log = createLogger({ level: config.logLevel, json: config.jsonLogs });
      const running = await runProvider(config, { client: clientFor(cli, config.node, config), signer, log });
      cli.note(`Provider agent running for ${encodeAddress(signer.address)} (node ${config.node}${running.metricsUrl ? `, metrics ${running.metricsUrl}/metrics` : ''}${running.storageUrl ? `, storage ${running.storageUrl}` : ''}); Ctrl-C to stop`);
      await new Promise<void>((done) => {
        let count = 0;
        const handler = (sig: NodeJS.Signals) => {
          if (++count > 1) process.exit(130);
          log.info('shutting down', { signal: sig });
          void running.stop().then(done, (e: unknown) => {
            log.error('shutdown failed', { error: e instanceof Error ? e.message : String(e) });
            process.exit(1);
          });
        };
        process.on('SIGINT', handler);
        process.on('SIGTERM', handler);
      });
    });

  provider
    .command('status [address]')
    .description("the provider's record from the chain (reputation, earnings, active leases) and whether the local agent's metrics endpoint answers; [address] defaults to the config's key")
    .option('--config <file>', `config file (default: <home>/${CONFIG_FILE})`)
    .action(async (addressArg: string | undefined, opts: ConfigOpts, cmd: Command) => {
      const cli = new Cli(cmd);
      const path = configPath(cli, opts);
      const config = existsSync(path) ? loadConfig(cli.home, path) : undefined;
      let address: string;
      if (addressArg) address = cli.resolveAddress(addressArg);
      else if (config) address = new Keyring(config.keyringDir).get(config.key).address;
      else throw new GroundworkError('INVALID_ARGUMENT', `give an address (or key name), or create ${path} with "groundwork provider init"`);
      const url = cmd.optsWithGlobals<{ node?: string }>().node ?? config?.node ?? cli.url;
      const client = clientFor(cli, url, config);
      let record: ProviderView | null = null;
      try {
        record = await moduleQuery<ProviderView>(client, 'market', 'provider', { address });
      } catch (e) {
        if (!(e instanceof ApiResponseError && (e.status === 404 || /NOT_FOUND$|NOT_REGISTERED$/.test(e.code))) || /no module|has no query/.test(e.message)) throw e;
      }
      const leases = record ? (await moduleQuery<{ leases: LeaseView[] }>(client, 'market', 'leases', { provider: address, status: 'active', limit: 100 })).leases : [];
      const agent = await fetchMetrics(config);
      const json = { address, registered: record !== null, provider: record, activeLeases: leases, agent };
      const lines = [`Provider ${address}`];
      if (!record) lines.push('  not registered (the agent registers it on start)');
      else {
        lines.push(
          `  host ${record.hostUri}${record.attributes.length ? `  attributes ${record.attributes.map((a) => `${a.key}=${a.value}`).join(', ')}` : ''}`,
          `  reputation ${record.reputation ?? `${record.reputationBps} bps`} (${record.successes}/${record.outcomes} successful outcomes${record.vetted ? ', vetted' : ', not vetted yet'})`,
          `  earnings ${formatAmount(BigInt(record.earnings))} to withdraw`,
          `  active leases ${record.activeLeases}`,
        );
        for (const l of leases) lines.push(`    lease ${l.id}  order ${l.order}  ${l.price} ${l.denom}/block  device ${l.device.slice(0, 12)}…  until block ${l.endHeight}  earned ${l.earned}`);
      }
      lines.push(agent.url ? `  agent ${agent.up ? 'running' : 'not answering'} (${agent.url}/metrics)` : '  agent: no metrics endpoint configured');
      cli.out(lines, json);
    });

  provider
    .command('withdraw <key>')
    .description("settle the provider's active leases and move its earnings (ugw) to its balance (market/withdraw)")
    .option('--passphrase-file <file>', 'file holding the passphrase of <key>')
    .action(async (key: string, opts: { passphraseFile?: string }, cmd: Command) => {
      const cli = new Cli(cmd);
      const kr = cli.keyring();
      const passphrase = kr.needsPassphrase(key) ? await readPassphrase(opts, `Passphrase of "${key}":`) : undefined;
      const signer = kr.signer(key, passphrase);
      const t = await signAndSend(cli.client(), { signer, msgs: [withdrawMsg], timeoutMs: 60_000 });
      const amount = t.events.filter((e) => e.type === 'market.withdraw').reduce((s, e) => s + BigInt(e.attributes.amount ?? '0'), 0n);
      cli.out([`Withdrew ${formatAmount(amount)} to ${encodeAddress(signer.address)}`, `  tx ${t.hash}, block ${t.height}, fee ${formatAmount(t.fee)}`], {
        address: encodeAddress(signer.address),
        amount: amount.toString(),
        hash: t.hash,
        height: t.height,
        fee: t.fee.toString(),
      });
    });
}
