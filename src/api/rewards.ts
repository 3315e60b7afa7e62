/**
 * Reward manifest lines with their inclusion proofs (GET /v1/rewards/...). The lines are the
 * node's block artifacts (written when the epoch closed); only the root, the count and the
 * totals are in state. A client verifies what it gets here against the epoch record it reads
 * with a Merkle proof, so these routes need no trust (see src/client/actions/getRewardLine.ts).
 */
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { toHex, type Bytes } from '../core/bytes.js';
import { decode } from '../core/codec.js';
import { decodeAddress, encodeAddress } from '../core/keys.js';
import { epochEndHeight, getEpochState } from '../chain/modules/epochs/index.js';
import { contributionCodec, getEpochRecord, isClaimed, type EpochRecord } from '../chain/modules/rewards/keeper.js';
import { contribRecipientPrefix, manifestChunkKey, manifestMetaKey } from '../chain/modules/rewards/keys.js';
import { Manifest, detailsHash, manifestMetaCodec, type StoredLine } from '../chain/modules/rewards/manifest.js';
import { rewardItemJSON, rewardLineJSON } from '../chain/modules/rewards/view.js';
import { prefixEnd } from '../chain/keys.js';
import type { FastifyReply } from 'fastify';
import type { NodeBackend } from './backend.js';

/** An error answer (server.ts's ApiError cannot be imported here: server.ts imports this file). */
class RouteError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

async function answer<T>(reply: FastifyReply, f: () => T): Promise<T | FastifyReply> {
  try {
    return f();
  } catch (e) {
    if (e instanceof RouteError) return reply.status(e.status).send({ error: { code: e.code, message: e.message, ...e.extra } });
    throw e;
  }
}

/**
 * Manifests kept in memory, most recent first. Building one decodes every line, hashes every
 * leaf and builds the tree: about a second or two for a 1,000,000-line epoch, so the two most
 * recently asked-for epochs (typically the one just closed and the one before) stay built.
 * Artifacts never change once committed, so a cached manifest never goes stale.
 */
const CACHED_MANIFESTS = 2;

const EpochParam = Type.String({ pattern: '^(0|[1-9][0-9]{0,18})$', description: 'an epoch number' });
const ItemView = Type.Object(
  {
    type: Type.Union([Type.Literal('work'), Type.Literal('stake')]),
    pool: Type.String({ description: 'storage, compute, coverage (work) or stakers (stake)' }),
    device: Type.Optional(Type.String({ description: 'work: device public key, hex (64 zeros: none)' })),
    reason: Type.Optional(Type.String({ description: 'work: reason code' })),
    units: Type.Optional(Type.String({ description: 'work: units reported' })),
    weighted: Type.Optional(Type.String({ description: 'work: units after the device-status multiplier' })),
    operator: Type.Optional(Type.String({ description: 'stake: operator address' })),
    tokens: Type.Optional(Type.String({ description: 'stake: what the delegation was worth at the close, ugw' })),
  },
  { additionalProperties: false },
);
const LineView = Type.Object({
  epoch: Type.String(),
  index: Type.Integer(),
  recipient: Type.String(),
  amount: Type.String({ description: 'ugw' }),
  items: Type.Array(ItemView),
  detailsHash: Type.String({ description: 'SHA-256 of the canonical items, hex' }),
  leaf: Type.String({ description: 'SHA-256(0x00 || canonical line), hex' }),
  proof: Type.Array(Type.String(), { description: 'sibling hashes, leaf to root (hex); check with verifyManifestProof' }),
  claimed: Type.Boolean({ description: "the node's word; verify with the claimed-bits state key" }),
});

export function registerRewardRoutes(server: FastifyInstance, backend: NodeBackend): void {
  const app = server.withTypeProvider<TypeBoxTypeProvider>();
  const cache: { epoch: bigint; manifest: Manifest }[] = [];
  const err4xx = { 400: Type.Ref('Error'), 404: Type.Ref('Error') };

  const record = (epoch: bigint): EpochRecord => {
    const state = backend.app.state;
    const r = getEpochRecord(state, epoch);
    if (r) return r;
    const s = getEpochState(state);
    if (epoch >= s.epoch) {
      const end = epochEndHeight(state);
      const left = end - BigInt(backend.height);
      throw new RouteError(
        404,
        'EPOCH_NOT_CLOSED',
        `epoch ${epoch} has not closed yet: the current epoch is ${s.epoch}, it closes at height ${end} (${left > 0n ? left : 0n} blocks left)`,
      );
    }
    throw new RouteError(404, 'NOT_FOUND', `epoch ${epoch} has no reward record`);
  };

  const manifestOf = (epoch: bigint, rec: EpochRecord): Manifest => {
    const i = cache.findIndex((c) => c.epoch === epoch);
    if (i >= 0) {
      const [hit] = cache.splice(i, 1);
      cache.unshift(hit as { epoch: bigint; manifest: Manifest });
      return (hit as { manifest: Manifest }).manifest;
    }
    const metaBytes = backend.app.artifact(manifestMetaKey(epoch));
    if (!metaBytes) {
      throw new RouteError(
        404,
        'MANIFEST_UNAVAILABLE',
        `this node has no manifest for epoch ${epoch} (it did not execute the block that closed it, e.g. it started from a snapshot); ask a node that did`,
      );
    }
    const manifest = Manifest.fromArtifacts(epoch, (c) => backend.app.artifact(manifestChunkKey(epoch, c)), decode(manifestMetaCodec, metaBytes));
    if (manifest.lines.length !== rec.count || Buffer.compare(Buffer.from(manifest.root), Buffer.from(rec.root)) !== 0) {
      throw new RouteError(500, 'MANIFEST_MISMATCH', `this node's manifest artifacts for epoch ${epoch} do not match the committed root; the node's artifact store is damaged`);
    }
    cache.unshift({ epoch, manifest });
    if (cache.length > CACHED_MANIFESTS) cache.pop();
    return manifest;
  };

  /** A line's leaf fields and proof, without its items (for proofs of absence). */
  const leafView = (m: Manifest, epoch: bigint, index: number) => {
    const l = m.lines[index] as StoredLine;
    return { index, recipient: encodeAddress(l.recipient), amount: l.amount.toString(), detailsHash: toHex(detailsHash(l.items)), proof: m.proof(index).map(toHex), epoch: epoch.toString() };
  };

  app.get(
    '/v1/rewards/:epoch/lines/:address',
    {
      schema: {
        summary: "A recipient's reward line in a closed epoch, with its inclusion proof",
        description:
          'The line (amount, the items behind it, detailsHash, leaf) and its proof against the root in the epoch record (state key rewards/e/<epoch>). ' +
          '404 EPOCH_NOT_CLOSED while the epoch runs; 404 NO_REWARD_LINE when the address earned nothing: the body then carries `hasContributions` ' +
          '(contributions that rounded to 0 ugw) and `absence`, the two neighbouring lines with proofs, which show the address is not in the manifest.',
        tags: ['rewards'],
        params: Type.Object({ epoch: EpochParam, address: Type.String({ maxLength: 128 }) }),
        response: {
          200: Type.Object({ epoch: Type.String(), closedHeight: Type.String(), root: Type.String(), count: Type.Integer(), lines: Type.Array(LineView) }),
          ...err4xx,
        },
      },
    },
    async (req, reply) =>
      answer(reply, () => {
        const epoch = BigInt(req.params.epoch);
        const recipient = decodeAddress(req.params.address);
        const rec = record(epoch);
        const m = manifestOf(epoch, rec);
        const found = m.find(recipient);
        if (found.length === 0) {
          // Lines are sorted by recipient: the address would sit between lines lo-1 and lo.
          let lo = 0;
          let hi = m.lines.length;
          while (lo < hi) {
            const mid = (lo + hi) >> 1;
            if (Buffer.compare((m.lines[mid] as StoredLine).recipient, recipient) < 0) lo = mid + 1;
            else hi = mid;
          }
          const contrib = contributionsOf(backend, epoch, recipient);
          const who = encodeAddress(recipient);
          const message =
            contrib.entries > 0
              ? `${who} has no reward line in epoch ${epoch}: its ${contrib.entries} contribution(s) (${contrib.weighted} weighted units) rounded to 0 ugw`
              : `${who} has no reward line in epoch ${epoch}: no contributions and no eligible stake at the close`;
          throw new RouteError(404, 'NO_REWARD_LINE', message, {
            hasContributions: contrib.entries > 0,
            absence: { before: lo > 0 ? leafView(m, epoch, lo - 1) : null, after: lo < m.lines.length ? leafView(m, epoch, lo) : null },
          });
        }
        return {
          epoch: epoch.toString(),
          closedHeight: rec.closedHeight.toString(),
          root: toHex(rec.root),
          count: rec.count,
          lines: found.map((i) => ({ ...rewardLineJSON(epoch, i, m.lines[i] as StoredLine, m.proof(i)), claimed: isClaimed(backend.app.state, epoch, i) })),
        };
      }),
  );

  app.get(
    '/v1/rewards/:epoch/lines',
    {
      schema: {
        summary: "A closed epoch's reward lines, in recipient order (paged; for explorers)",
        description: 'Lines with index > `after` (default: from the first), at most `limit` (default 100, at most 1000). `next` is the `after` of the next page, null at the end.',
        tags: ['rewards'],
        params: Type.Object({ epoch: EpochParam }),
        querystring: Type.Object({
          after: Type.Optional(Type.Integer({ minimum: -1, description: 'last index of the previous page' })),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
        }),
        response: {
          200: Type.Object({
            epoch: Type.String(),
            closedHeight: Type.String(),
            root: Type.String(),
            count: Type.Integer(),
            lines: Type.Array(
              Type.Object({ index: Type.Integer(), recipient: Type.String(), amount: Type.String(), detailsHash: Type.String(), items: Type.Array(ItemView), claimed: Type.Boolean() }),
            ),
            next: Type.Union([Type.String(), Type.Null()]),
          }),
          ...err4xx,
        },
      },
    },
    async (req, reply) =>
      answer(reply, () => {
        const epoch = BigInt(req.params.epoch);
        const rec = record(epoch);
        const m = manifestOf(epoch, rec);
        const start = (req.query.after ?? -1) + 1;
        const limit = req.query.limit ?? 100;
        const end = Math.min(m.lines.length, start + limit);
        const lines = [];
        for (let i = start; i < end; i++) {
          const l = m.lines[i] as StoredLine;
          lines.push({
            index: i,
            recipient: encodeAddress(l.recipient),
            amount: l.amount.toString(),
            detailsHash: toHex(detailsHash(l.items)),
            items: l.items.map(rewardItemJSON),
            claimed: isClaimed(backend.app.state, epoch, i),
          });
        }
        return {
          epoch: epoch.toString(),
          closedHeight: rec.closedHeight.toString(),
          root: toHex(rec.root),
          count: rec.count,
          lines,
          next: end < m.lines.length ? String(end - 1) : null,
        };
      }),
  );
}

/** The recipient's contribution entries still in state for the epoch (pruned after keepEpochs). */
function contributionsOf(backend: NodeBackend, epoch: bigint, recipient: Bytes): { entries: number; weighted: bigint } {
  const state = backend.app.state;
  const prefix = contribRecipientPrefix(epoch, recipient);
  let entries = 0;
  let weighted = 0n;
  for (const [, v] of state.iterate(prefix, prefixEnd(prefix))) {
    entries++;
    weighted += decode(contributionCodec, v).weighted;
    if (entries >= 10_000) break;
  }
  return { entries, weighted };
}
