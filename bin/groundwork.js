#!/usr/bin/env -S node --max-semi-space-size=64
// Entry point of the `groundwork` command (built TypeScript lives in dist/). The shebang gives
// V8 a 64 MiB young generation: a busy node allocates short-lived objects at ~200 MB/s, and a
// larger nursery lets them die there instead of being copied into the old generation.
import { main } from '../dist/src/cli/main.js';

const code = await main(process.argv);
// Commands that run services (node start) resolve only after a clean shutdown.
process.exit(code);
