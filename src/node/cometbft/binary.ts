/**
 * Where the pinned CometBFT binary is: `$GROUNDWORK_COMETBFT` if set, else what
 * scripts/cometbft.mjs installs (it installs on first use; the version is pinned there).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { GroundworkError } from '../../core/errors.js';

const SCRIPT = fileURLToPath(new URL('../../../../scripts/cometbft.mjs', import.meta.url));

export function cometbftBinary(): string {
  const own = process.env.GROUNDWORK_COMETBFT;
  if (own) {
    if (!existsSync(own)) throw new GroundworkError('COMETBFT_MISSING', `GROUNDWORK_COMETBFT points to ${own}, which does not exist`);
    return own;
  }
  const r = spawnSync(process.execPath, [SCRIPT], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const path = r.stdout.trim();
  if (r.status !== 0 || !path) throw new GroundworkError('COMETBFT_MISSING', 'CometBFT is not installed and could not be installed; run "node scripts/cometbft.mjs" to see why');
  return path;
}
