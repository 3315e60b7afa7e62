#!/usr/bin/env node
// Installs the pinned CometBFT (consensus engine for multi-validator networks) from the Go
// module proxy with `go install`, into a per-user cache shared by every checkout:
//   ${GROUNDWORK_CACHE:-~/.cache/groundwork}/cometbft-v<version>/cometbft
// Skipped when that binary is present and reports the right version. Prints the binary's path
// on stdout. Needs Go >= 1.22.11 on PATH (or in /usr/local/go/bin).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const COMETBFT_VERSION = '0.38.25';

export function cometbftPath() {
  const cache = process.env.GROUNDWORK_CACHE ?? join(homedir(), '.cache', 'groundwork');
  return join(cache, `cometbft-v${COMETBFT_VERSION}`, 'cometbft');
}

function installedVersion(bin) {
  if (!existsSync(bin)) return undefined;
  const r = spawnSync(bin, ['version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

function findGo() {
  for (const d of [...(process.env.PATH ?? '').split(delimiter), '/usr/local/go/bin']) {
    if (d && existsSync(join(d, 'go'))) return join(d, 'go');
  }
  return undefined;
}

/** Ensures the pinned binary exists; returns its path. Throws with what to do when it cannot. */
export function ensureCometbft(log = (m) => process.stderr.write(`[cometbft] ${m}\n`)) {
  const bin = cometbftPath();
  if (installedVersion(bin) === COMETBFT_VERSION) return bin;
  const go = findGo();
  if (!go) throw new Error(`CometBFT v${COMETBFT_VERSION} is not installed and Go is not on PATH; install Go >= 1.22.11 (https://go.dev/dl) and run again`);
  // Build into a scratch directory and move into place, so an interrupted build never leaves a
  // half-written binary where the version check would find it.
  const tmp = `${dirname(bin)}.partial`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  log(`installing CometBFT v${COMETBFT_VERSION} with go install (about a minute, once)`);
  const r = spawnSync(go, ['install', `github.com/cometbft/cometbft/cmd/cometbft@v${COMETBFT_VERSION}`], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, GOBIN: tmp },
  });
  if (r.status !== 0) throw new Error(`go install of CometBFT v${COMETBFT_VERSION} failed (exit ${r.status ?? r.signal}); check network access to the Go module proxy (GOPROXY)`);
  rmSync(dirname(bin), { recursive: true, force: true });
  renameSync(tmp, dirname(bin));
  const v = installedVersion(bin);
  if (v !== COMETBFT_VERSION) throw new Error(`installed CometBFT reports version "${v}", expected ${COMETBFT_VERSION}`);
  return bin;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    process.stdout.write(`${ensureCometbft()}\n`);
  } catch (e) {
    process.stderr.write(`[cometbft] error: ${e.message}\n`);
    process.exit(1);
  }
}
