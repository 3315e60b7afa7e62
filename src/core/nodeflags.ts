/**
 * The V8 flags every groundwork process runs with: bin/groundwork.js's shebang, `npm start` and
 * `npm run bench` pass them, and whatever spawns a groundwork process (devnet validators and
 * provider agents, test and benchmark harnesses) passes NODE_FLAGS (a test checks they agree).
 * - `--max-semi-space-size=64`: a 64 MiB young generation. A busy node allocates short-lived
 *   objects at ~200 MB/s; a larger nursery lets them die there instead of being copied into
 *   the old generation.
 * - `--initial-old-space-size=256`: while a heap is small V8 starts a full collection after
 *   every few MB of old-generation growth. A provider agent receiving a shard (64 KiB socket
 *   chunks at 40+ MiB/s) then ran a mark-compact every ~300 ms; with this the six agents of a
 *   1 GiB put used 6.2 core-seconds instead of 10.1. It sets where the first collections start,
 *   not a reservation: memory is taken only as the heap grows.
 */
export const NODE_FLAGS: readonly string[] = ['--max-semi-space-size=64', '--initial-old-space-size=256'];
