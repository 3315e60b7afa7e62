#!/usr/bin/env node
// Entry point of the `groundwork` command (built TypeScript lives in dist/).
import { main } from '../dist/src/cli/main.js';

const code = await main(process.argv);
// Commands that run services (node start) resolve only after a clean shutdown.
process.exit(code);
