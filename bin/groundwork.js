#!/usr/bin/env -S node --max-semi-space-size=64 --initial-old-space-size=256
// Entry point of the `groundwork` command (built TypeScript lives in dist/). The shebang passes
// the V8 flags every groundwork process runs with (src/core/nodeflags.ts says why).
import { main } from '../dist/src/cli/main.js';

const code = await main(process.argv);
// Commands that run services (node start) resolve only after a clean shutdown.
process.exit(code);
