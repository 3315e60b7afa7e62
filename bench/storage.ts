/**
 * Storage benchmark: put and get of one file through the whole pipeline, on a real local
 * network.
 *
 * Setup (not timed): `groundwork devnet start --providers 6` in a temp home (the node and six
 * real provider agents with their storage services), a funded customer key, and a `--size`
 * (default 1 GiB) file of random bytes on disk.
 * - put (timed): `putFile` — pass 1 reads, encrypts, erasure-codes (4+2) and hashes the file
 *   into shard roots; the storage order is posted, bid on and matched; pass 2 streams the six
 *   shards to the six providers over HTTP (each recomputes the root, stores and acknowledges);
 *   the deal goes on chain. `put_mib_per_s` = file MiB ÷ the whole; `put_upload_s` is pass 2.
 * - get (timed): `getFile` — pieces fetched in parallel from the data shards' providers, each
 *   verified against its shard root, decoded, decrypted, written to a file as `store get -o`
 *   writes it (core/directio FileWriter); the SHA-256 of the result is checked. `get_mib_per_s`.
 * - `sha256_mib_per_s`: raw SHA-256 (node:crypto, 1 MiB updates) of the same bytes in this run;
 *   `put_ratio`, `get_ratio` against it (target ≥ 0.25).
 * - `disk_sync_mib_per_s`: this disk's durable write speed as the providers write (256 MiB of
 *   direct 1 MiB writes, then fsync): every provider makes its shard durable before
 *   acknowledging it, so a put moves (k + m) / k × the file through the disk;
 *   `put_disk_share` = that rate ÷ the disk's.
 * - `proofs_per_s`: the chain's check of a storage proof (core/shardtree verifyLeaf: the 4 KiB
 *   leaf hashed and its path to the root of a 1 GiB shard), on one core.
 * - `kernels`: 'native' when the storage kernels addon (native/kernels) did the leaf hashing and
 *   AES-GCM in this process, 'javascript' when node:crypto did (GROUNDWORK_KERNELS=js, or an
 *   addon that did not build).
 * Options: --size <MiB>, --k, --m, --parallel (segments fetched at once; default getFile's), --keep.
 */
import { createHash, randomFillSync } from 'node:crypto';
import { mkdtempSync, openSync, closeSync, writeSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alignedBuffer, FileWriter, openData, writeAllAt } from '../src/core/directio.js';
import { Ed25519Key, encodeAddress } from '../src/core/keys.js';
import { merkleProof, merkleRoot } from '../src/core/merkle.js';
import { LEAF_SIZE, leafHash, verifyLeaf } from '../src/core/shardtree.js';
import { createClient } from '../src/client/client.js';
import { putFile } from '../src/storage/put.js';
import { getFile } from '../src/storage/get.js';
import { nativeKernels } from '../src/storage/kernels.js';
import { cli, freePort, spawnCli, type LiveProcess } from '../src/testkit/proc.js';
import { numberOption } from './args.js';

const log = (m: string) => process.stderr.write(`[storage] ${m}\n`);
const MiB = 1 << 20;

function sha256Rate(buf: Uint8Array): number {
  const t = performance.now();
  const h = createHash('sha256');
  for (let o = 0; o < buf.length; o += MiB) h.update(buf.subarray(o, Math.min(buf.length, o + MiB)));
  h.digest();
  return buf.length / MiB / ((performance.now() - t) / 1000);
}

/**
 * Durable write speed of this machine's disk, where the providers keep their shards: `mib` MiB
 * of random bytes written as a provider writes an upload (1 MiB writes, direct where the file
 * system allows it: core/directio) to a fresh file in `dir`, then fsynced.
 */
async function diskSyncRate(dir: string, mib = 256): Promise<number> {
  const path = join(dir, 'disk-probe.bin');
  const buf = alignedBuffer(MiB);
  randomFillSync(buf);
  const t = performance.now();
  const { fh } = await openData(path, 'create', true);
  try {
    for (let i = 0; i < mib; i++) await writeAllAt(fh, buf, i * MiB);
    await fh.sync();
  } finally {
    await fh.close();
  }
  const rate = mib / ((performance.now() - t) / 1000);
  rmSync(path, { force: true });
  return rate;
}

/** verifyLeaf calls per second for leaves of a shard of `leaves` leaves (its tree and the paths built untimed). */
function proofRate(leaves: number, samples = 20_000): number {
  const dataOf = (i: number): Uint8Array => {
    const d = new Uint8Array(LEAF_SIZE);
    new DataView(d.buffer).setUint32(0, i);
    return d;
  };
  const hashes = Array.from({ length: leaves }, (_, i) => leafHash(dataOf(i)));
  const root = merkleRoot(hashes);
  const proofs = Array.from({ length: 64 }, (_, n) => {
    const i = (n * 2_654_435_761) % leaves;
    return { i, data: dataOf(i), path: merkleProof(hashes, i) };
  });
  const t = performance.now();
  let ok = 0;
  for (let s = 0; s < samples; s++) {
    const p = proofs[s % proofs.length] as { i: number; data: Uint8Array; path: Uint8Array[] };
    if (verifyLeaf(p.data, p.i, leaves, p.path, root)) ok++;
  }
  const rate = samples / ((performance.now() - t) / 1000);
  if (ok !== samples) throw new RangeError(`only ${ok} of ${samples} proofs verified`);
  return rate;
}

export async function storageBench(args: string[]): Promise<Record<string, unknown>> {
  const sizeMiB = numberOption(args, 'size', 1024);
  const k = numberOption(args, 'k', 4);
  const m = numberOption(args, 'm', 2);
  const parallel = numberOption(args, 'parallel', 0);
  const dir = mkdtempSync(join(tmpdir(), 'gw-bench-storage-'));
  const home = join(dir, 'devnet');
  let devnet: LiveProcess | undefined;
  try {
    // The file: random bytes, written in 64 MiB chunks; the same bytes give the SHA-256 reference.
    const file = join(dir, 'input.bin');
    const chunk = new Uint8Array(64 * MiB);
    let shaRate = 0;
    const fd = openSync(file, 'w');
    for (let done = 0; done < sizeMiB; done += 64) {
      const n = Math.min(64, sizeMiB - done) * MiB;
      randomFillSync(chunk, 0, n);
      writeSync(fd, chunk, 0, n);
    }
    closeSync(fd);
    for (let r = 0; r < 3; r++) shaRate = Math.max(shaRate, sha256Rate(chunk));
    const diskRate = await diskSyncRate(dir);
    log(`${sizeMiB} MiB input written; raw SHA-256 ${shaRate.toFixed(0)} MiB/s; disk (write + fsync) ${diskRate.toFixed(0)} MiB/s`);

    const port = await freePort();
    devnet = spawnCli(['--home', home, 'devnet', 'start', '--providers', String(k + m), '--block-time', '250', '--api-port', String(port)]);
    await devnet.waitFor(/Ctrl-C stops the network and its providers/, 120_000);
    const url = `http://127.0.0.1:${port}`;
    const customer = Ed25519Key.generate();
    const sent = await cli(['--home', home, '--node', url, 'bank', 'send', 'faucet', encodeAddress(customer.address), '10000gw']);
    if (sent.code !== 0) throw new RangeError(`funding the customer failed: ${sent.stderr}`);
    const client = createClient({ url });
    log(`devnet with ${k + m} providers at ${url}`);

    let uploadStart = 0;
    const t0 = performance.now();
    const put = await putFile(client, customer, file, {
      k,
      m,
      durationBlocks: 10_000n,
      maxPrice: 1_000n,
      bidWindowBlocks: 4n,
      onStatus: (s) => {
        if (s.type === 'matched') uploadStart = performance.now();
        log(s.type);
      },
    });
    const putS = (performance.now() - t0) / 1000;
    const uploadS = (performance.now() - uploadStart) / 1000;
    log(`put ${sizeMiB} MiB in ${putS.toFixed(2)} s (upload and deal ${uploadS.toFixed(2)} s), order ${put.order}`);

    const outPath = join(dir, 'output.bin');
    const t1 = performance.now();
    // As `store get -o <file>` writes it.
    const out = await FileWriter.open(outPath);
    await getFile(client, put.manifest, put.order, (c) => out.write(c), parallel > 0 ? { parallel } : {});
    await out.end();
    const getS = (performance.now() - t1) / 1000;
    if (statSync(outPath).size !== sizeMiB * MiB) throw new RangeError('the file read back has the wrong size');
    log(`get in ${getS.toFixed(2)} s`);

    const leaves = Math.max(1, Number(BigInt(put.manifest.shardBytes) / BigInt(LEAF_SIZE)));
    const proofsPerS = proofRate(leaves);
    const putRate = sizeMiB / putS;
    const getRate = sizeMiB / getS;
    return {
      size_mib: sizeMiB,
      k,
      m,
      put_s: +putS.toFixed(3),
      put_upload_s: +uploadS.toFixed(3),
      put_mib_per_s: +putRate.toFixed(1),
      get_s: +getS.toFixed(3),
      get_mib_per_s: +getRate.toFixed(1),
      sha256_mib_per_s: +shaRate.toFixed(1),
      put_ratio: +(putRate / shaRate).toFixed(3),
      get_ratio: +(getRate / shaRate).toFixed(3),
      disk_sync_mib_per_s: +diskRate.toFixed(1),
      // Shard bytes written per second during the put, as a share of what the disk can make
      // durable: the providers must fsync (k + m) / k times the file before the deal.
      put_disk_share: +((putRate * ((k + m) / k)) / diskRate).toFixed(3),
      proofs_per_s: Math.round(proofsPerS),
      target_ratio: 0.25,
      // Which storage kernels hashed and encrypted (native/kernels, or the node:crypto fallback).
      kernels: nativeKernels ? 'native' : 'javascript',
    };
  } finally {
    await devnet?.stop();
    if (!args.includes('--keep')) rmSync(dir, { recursive: true, force: true });
  }
}
