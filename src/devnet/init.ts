/**
 * `groundwork init`: a ready-to-run home directory for a single-validator chain:
 * node config, validator key, a genesis that funds a `faucet` key (test keyring, so a new user
 * can transact at once), bonds the validator's stake (staking operator `validator-0`) and pays
 * fees to the validator.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { GroundworkError } from '../core/errors.js';
import { Ed25519Key, encodeAddress } from '../core/keys.js';
import { parseGenesis } from '../chain/genesis.js';
import { standardModules } from '../chain/index.js';
import { genesisOperatorCodec, genesisValidators, stakingParams } from '../chain/modules/staking/index.js';
import { validatorSetCodec } from '../chain/validators.js';
import { Keyring } from '../client/keyring.js';
import { DEFAULT_CONFIG, homePaths, writeConfig, writeValidatorKey, type NodeConfig } from '../node/home.js';

export interface InitOptions {
  home: string;
  chainId?: string;
  /** Faucet balance in ugw. */
  faucetAmount?: bigint;
  blockIntervalMs?: number;
  apiPort?: number;
  /** Replace an existing home (its chain data is deleted). */
  force?: boolean;
  /** Extra genesis balances (address → ugw), e.g. for benchmarks. */
  extraBalances?: ReadonlyArray<readonly [string, bigint]>;
  /** Genesis params per module (merged over defaults). */
  params?: Record<string, Record<string, unknown>>;
  /**
   * The devnet's market cast (`devnet start`): a maker approved in genesis and this many
   * provider keys holding Data Credits for their onboarding fee, all in the test keyring.
   * See DEVNET_MAKER and devnetProviderKey. 0 (the default, `groundwork init`): none.
   */
  devnetProviders?: number;
}

export interface InitResult {
  home: string;
  chainId: string;
  validatorAddress: string;
  faucetAddress: string;
  config: NodeConfig;
}

export const DEFAULT_CHAIN_ID = 'groundwork-devnet';
export const DEFAULT_FAUCET = 1_000_000_000n * 1_000_000n; // 1 billion GW

/**
 * The devnet validator's self-bond: twice all other genesis balances (at least 1,000 GW). The
 * embedded node signs every block with its one key, and clients trust that key only while it
 * holds more than 2/3 of the voting power: with this bond, other operators would need more
 * than half of it — more tokens than exist outside the validator at genesis — to get there.
 * (Tokens minted later, e.g. rewards, can change that; the node logs an error if it happens.)
 */
export function devnetSelfBond(otherBalances: bigint): bigint {
  const twice = 2n * otherBalances;
  const floor = 1_000n * 1_000_000n;
  return twice > floor ? twice : floor;
}

/** The devnet's device maker: a key in the test keyring, approved in the devnet genesis. */
export const DEVNET_MAKER = 'devnet-maker';
/** Data Credits each devnet provider key holds at genesis: its onboarding fee and some spare. */
export const DEVNET_PROVIDER_DC = 10_000_000n;
/** How many provider keys a devnet home gets at most. */
export const MAX_DEVNET_PROVIDERS = 9;

/** The test-keyring name of devnet provider `i` (1-based). */
export function devnetProviderKey(i: number): string {
  return `provider-${i}`;
}

export function initHome(o: InitOptions): InitResult {
  const paths = homePaths(o.home);
  if (existsSync(paths.genesis) && !o.force) {
    throw new GroundworkError('HOME_EXISTS', `${o.home} is already initialized; use --force to replace it (this deletes its chain data) or --home for another directory`);
  }
  if (o.force) {
    rmSync(paths.data, { recursive: true, force: true });
    rmSync(paths.keyring, { recursive: true, force: true });
  }
  mkdirSync(o.home, { recursive: true });
  const chainId = o.chainId ?? DEFAULT_CHAIN_ID;
  const validator = Ed25519Key.generate();
  writeValidatorKey(o.home, validator);
  const keyring = new Keyring(paths.keyring);
  const faucet = keyring.add('faucet', { backend: 'test' });
  const balances: Array<{ address: string; amount: string }> = [{ address: faucet.info.address, amount: String(o.faucetAmount ?? DEFAULT_FAUCET) }];
  for (const [address, amount] of o.extraBalances ?? []) balances.push({ address, amount: String(amount) });
  // The validator self-bonds twice every other genesis balance together (the bond is taken from
  // its genesis balance): whatever the other accounts stake, its key keeps more than 2/3 of the
  // voting power, as the embedded node (one signer) needs. See devnetSelfBond.
  const selfBond = devnetSelfBond(balances.reduce((n, b) => n + BigInt(b.amount), 0n));
  balances.push({ address: encodeAddress(validator.address), amount: String(selfBond) });
  const operators = [{ address: validator.address, pubKey: validator.publicKey, moniker: 'validator-0', selfBond }];
  const app: Record<string, Record<string, unknown>> = {
    bank: { balances },
    staking: { operators: operators.map((x) => genesisOperatorCodec.toJSON(x)) },
    // The faucet key may report test faults (testvertical/fault), for the penalties walk-through.
    testvertical: { params: { authority: faucet.info.address } },
    // A devnet the README can walk through alone: the faucet reports the oracle price, and a
    // proposal passes with the faucet's stake (it can bond at most a third of the devnet's stake,
    // below the production quorum of 33.4%) within a 20-block vote.
    oracle: { params: { reporters: [faucet.info.address], minReports: 1 } },
    gov: { params: { quorumBps: '1000', votingPeriod: '20' } },
  };
  const providers = o.devnetProviders ?? 0;
  if (!Number.isInteger(providers) || providers < 0 || providers > MAX_DEVNET_PROVIDERS) {
    throw new GroundworkError('INVALID_ARGUMENT', `the devnet runs 0 to ${MAX_DEVNET_PROVIDERS} providers, got ${providers}`);
  }
  if (providers > 0) {
    // The devnet's market cast (src/devnet/providers.ts sets them up once the node runs): the
    // maker approves their devices; their Data Credits pay the onboarding fee, since minting
    // DC needs an oracle price the devnet does not report by itself.
    const maker = keyring.add(DEVNET_MAKER, { backend: 'test' });
    app.devices = { makers: [{ name: DEVNET_MAKER, pubKey: maker.info.publicKey }] };
    const credits: Array<{ address: string; amount: string }> = [];
    for (let i = 1; i <= providers; i++) credits.push({ address: keyring.add(devnetProviderKey(i), { backend: 'test' }).info.address, amount: String(DEVNET_PROVIDER_DC) });
    app.credits = { balances: credits };
  }
  for (const [m, p] of Object.entries(o.params ?? {})) app[m] = { ...(app[m] ?? {}), params: p };
  const stakingParamsGiven = stakingParams.codec.fromJSON({ ...(stakingParams.codec.toJSON(stakingParams.defaults) as object), ...(o.params?.staking ?? {}) }, 'params.staking');
  const genesis = {
    chainId,
    genesisTime: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    validators: validatorSetCodec.toJSON(genesisValidators(operators, stakingParamsGiven)),
    app,
  };
  parseGenesis(genesis, standardModules()); // refuse to write a genesis the node would reject
  writeFileSync(paths.genesis, `${JSON.stringify(genesis, null, 2)}\n`);
  const config: NodeConfig = {
    ...DEFAULT_CONFIG,
    blockIntervalMs: o.blockIntervalMs ?? DEFAULT_CONFIG.blockIntervalMs,
    api: { ...DEFAULT_CONFIG.api, port: o.apiPort ?? DEFAULT_CONFIG.api.port },
  };
  writeConfig(o.home, config);
  return { home: o.home, chainId, validatorAddress: encodeAddress(validator.address), faucetAddress: faucet.info.address, config };
}
