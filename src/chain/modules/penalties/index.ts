/**
 * penalties: fair penalties for devices and their operators (see keeper.ts for the rules).
 *
 *   penalties/evidence {kind, evidence}            anyone: fraud evidence, checked by the
 *                                                  verifier a vertical registered for `kind`
 *   penalties/dispute {id, counterEvidence, note}  the slashed operator, before the release height
 *
 * Verticals report honest operational faults with reportFault and call refreshDevice when they
 * see a device (keeper.ts); governance reverses slashes with reverseSlash (a slash-reverse
 * proposal). At the end of every block the slashes due are burned from the escrow.
 */
import { fromHex, toHex } from '../../../core/bytes.js';
import { parseBigUint, U64_MAX } from '../../../core/codec.js';
import { InvalidInputError } from '../../../core/errors.js';
import { decodeAddress, encodeAddress } from '../../../core/keys.js';
import type { KVReader } from '../../../state/overlay.js';
import { msg, type Module } from '../../module.js';
import { getAccount } from '../bank/keeper.js';
import { getDevice } from '../devices/keeper.js';
import type { EvidenceVerifiers } from './expected.js';
import { SLASH_ESCROW, disputeSlash, getFaultRecord, getSlash, listSlashes, penaltiesParamsOf, releaseDue, submitEvidence, windowEnd } from './keeper.js';
import { SLASH_STATUSES, disputeMsgCodec, evidenceMsgCodec, penaltiesParams, slashJSON, type PenaltiesParams, type SlashStatus } from './types.js';

export * from './types.js';
export { PenaltiesErrors } from './errors.js';
export { SLASH_ESCROW, reportFault, refreshDevice, reverseSlash } from './keeper.js';
export type { EvidenceVerifier, EvidenceVerifiers, EvidenceVerdict } from './expected.js';

export interface PenaltiesDeps {
  /** Fraud evidence verifiers by kind, registered by the verticals. */
  readonly verifiers: EvidenceVerifiers;
}

function badArg(m: string): InvalidInputError {
  return new InvalidInputError('INVALID_ARGUMENT', m);
}

/** Last committed height, when the store knows it (the API passes the committed StateStore). */
function committedHeight(store: KVReader): bigint | undefined {
  const v = (store as { version?: unknown }).version;
  return typeof v === 'number' && v >= 0 ? BigInt(v) : undefined;
}

function deviceArg(args: Readonly<Record<string, string>>): Uint8Array {
  const s = args.device;
  if (s === undefined) throw badArg('missing ?device=<device public key, 64 hex characters>');
  const b = fromHex(s, 'device');
  if (b.length !== 32) throw badArg(`device must be a 32-byte device public key (64 hex characters), got ${b.length} bytes`);
  return b;
}

export function penaltiesModule(deps: PenaltiesDeps): Module<null, PenaltiesParams> {
  return {
    name: 'penalties',
    params: penaltiesParams,
    indexedAttributes: ['penalties.slash.operator', 'penalties.slash.device', 'penalties.warning.device', 'penalties.penalty.device'],
    msgs: [
      msg('penalties/evidence', evidenceMsgCodec, (ctx, m) => {
        submitEvidence(ctx, deps.verifiers, ctx.sender ?? null, m.kind, m.evidence);
      }),
      msg('penalties/dispute', disputeMsgCodec, (ctx, m) => {
        disputeSlash(ctx, ctx.sender as Uint8Array, m.id, m.counterEvidence, m.note);
      }),
    ],
    endBlock(ctx) {
      releaseDue(ctx);
    },
    queries: {
      /** [?operator=<address>][&status=pending|disputed|burned|reversed][&after=<id>][&limit=1..1000]: slashes by id. */
      slashes(store, args) {
        const operator = args.operator === undefined ? undefined : decodeAddress(args.operator);
        const status = args.status;
        if (status !== undefined && !(SLASH_STATUSES as readonly string[]).includes(status)) {
          throw badArg(`status must be one of ${SLASH_STATUSES.join(', ')}, got "${status}"`);
        }
        const limit = args.limit === undefined ? 100 : Number(parseBigUint(args.limit, 1000n, 'limit'));
        if (limit < 1) throw badArg('limit must be from 1 to 1000');
        const after = args.after === undefined ? 0n : parseBigUint(args.after, U64_MAX - 1n, 'after');
        const page = listSlashes(store, { limit: limit + 1, after, ...(operator ? { operator } : {}), ...(status ? { status: status as SlashStatus } : {}) });
        const slashes = page.slice(0, limit);
        const last = slashes[slashes.length - 1];
        const height = committedHeight(store);
        return {
          slashes: slashes.map(slashJSON),
          next: page.length > limit && last ? last.id.toString() : null,
          ...(height !== undefined ? { height: height.toString() } : {}),
        };
      },
      /** ?id=<slash id>: one slash with its evidence. */
      slash(store, args) {
        if (args.id === undefined) throw badArg('give the slash id (?id=)');
        const id = parseBigUint(args.id, U64_MAX, 'id');
        const s = getSlash(store, id);
        if (!s) throw new InvalidInputError('NOT_FOUND', `no slash ${id}`);
        const height = committedHeight(store);
        return { ...slashJSON(s), ...(height !== undefined ? { height: height.toString() } : {}) };
      },
      /** ?device=<hex>: the device's fault window (as stored; `windowOver` when it has ended). */
      faults(store, args) {
        const device = deviceArg(args);
        const d = getDevice(store, device);
        if (!d) throw new InvalidInputError('NOT_FOUND', `no device ${toHex(device)}`);
        const p = penaltiesParamsOf(store);
        const r = getFaultRecord(store, device);
        const height = committedHeight(store);
        const end = r && r.count > 0 ? windowEnd(r, p) : null;
        const over = end !== null && height !== undefined && height >= end;
        const count = r && !over ? r.count : 0;
        return {
          device: toHex(device),
          owner: encodeAddress(d.owner),
          status: d.status,
          statusReason: d.statusReason,
          count,
          freeFaults: p.freeFaults,
          freeLeft: Math.max(0, p.freeFaults - count),
          jailFaults: p.jailFaults,
          windowStart: r && count > 0 ? r.windowStart.toString() : null,
          windowEnd: end !== null && !over ? end.toString() : null,
          windowOver: over,
          total: (r?.total ?? 0n).toString(),
          lastReason: r?.lastReason ?? null,
          lastHeight: r ? r.lastHeight.toString() : null,
          ...(height !== undefined ? { height: height.toString() } : {}),
        };
      },
      /** The slash escrow: its address, the tokens it holds, the evidence kinds this chain verifies. */
      escrow(store) {
        return { address: encodeAddress(SLASH_ESCROW), balance: getAccount(store, SLASH_ESCROW).balance.toString(), evidenceKinds: [...deps.verifiers.keys()].sort() };
      },
      params(store) {
        return penaltiesParams.codec.toJSON(penaltiesParamsOf(store));
      },
    },
  };
}
