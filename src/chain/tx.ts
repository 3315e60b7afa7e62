/**
 * Transactions.
 *
 *   Tx     = TxBody || signature (64 bytes)
 *   TxBody = chainId, signer public key, sequence, fee, timeoutHeight, memo, msgs
 *   Msg    = type (e.g. "bank/send") and the message encoded by its module's codec
 *
 * Every field uses the canonical codec, and each message's bytes are decoded strictly by its
 * module's codec, so a transaction has exactly one byte string (tested with committed vectors).
 * The signature covers SIGN_DOMAIN || TxBody; the tx hash is SHA-256 of the whole tx.
 * Messages run with the signer as their sender, atomically: all of them or none.
 */
import { concat, toHex, toKeyString, utf8, type Bytes } from '../core/bytes.js';
import { bytes, decode, encode, list, string, struct, u128, u64, type Codec, type Infer } from '../core/codec.js';
import { CodecError, InvalidInputError } from '../core/errors.js';
import { sha256 } from '../core/hash.js';
import { addressFromPublicKey, pubKey, signature, SIGNATURE_LEN, type Signer } from '../core/keys.js';
import { MAX_VALUE_BYTES } from '../state/proof.js';

export const SIGN_DOMAIN = utf8('groundwork-tx-v1\n');
/** Hard cap for any tx (the `auth.maxTxBytes` param is the real, lower, limit). */
export const ABSOLUTE_MAX_TX_BYTES = 4 << 20;
export const MAX_MSGS = 256;

export const msgEnvelopeCodec = struct('Msg', { type: string(64, 'msg type'), value: bytes(MAX_VALUE_BYTES, 'msg value') });

export const txBodyCodec = struct('TxBody', {
  chainId: string(64, 'chain id'),
  signer: pubKey,
  sequence: u64,
  fee: u128,
  /** The tx is invalid in blocks above this height; 0 means no limit. */
  timeoutHeight: u64,
  memo: string(1024, 'memo'),
  msgs: list(msgEnvelopeCodec, MAX_MSGS, 'msgs'),
});

export const txCodec = struct('Tx', { body: txBodyCodec, signature });

export type TxBody = Infer<typeof txBodyCodec>;
export type Tx = Infer<typeof txCodec>;
export type MsgEnvelope = Infer<typeof msgEnvelopeCodec>;

/** A message type a module handles (the codec is all the tx layer needs). */
export interface MsgType<T = unknown> {
  readonly type: string;
  readonly codec: Codec<T, unknown>;
}

export interface MsgRegistry {
  msgType(type: string): MsgType | undefined;
}

export interface DecodedMsg {
  readonly type: string;
  readonly value: unknown;
}

/** A tx decoded and checked for well-formedness (not yet against state or signature). */
export interface DecodedTx {
  readonly bytes: Bytes;
  readonly hash: Bytes;
  readonly tx: Tx;
  readonly msgs: readonly DecodedMsg[];
  readonly signerAddress: Bytes;
  /** SIGN_DOMAIN || body bytes: what the signature covers. */
  readonly signBytes: Bytes;
}

export function txHash(txBytes: Bytes): Bytes {
  return sha256(txBytes);
}

export function txHashHex(txBytes: Bytes): string {
  return toHex(sha256(txBytes)).toUpperCase();
}

export function signBytesOf(txBytes: Bytes): Bytes {
  return concat(SIGN_DOMAIN, txBytes.subarray(0, txBytes.length - SIGNATURE_LEN));
}

// Signers send many txs: remember recent public key → address derivations (a pure function).
let addrYoung = new Map<string, Bytes>();
let addrOld = new Map<string, Bytes>();
function cachedAddress(pub: Bytes): Bytes {
  const k = toKeyString(pub);
  let a = addrYoung.get(k) ?? addrOld.get(k);
  if (!a) {
    a = Uint8Array.from(addressFromPublicKey(pub));
    addrYoung.set(k, a);
    if (addrYoung.size > 50_000) {
      addrOld = addrYoung;
      addrYoung = new Map();
    }
  }
  return a;
}

/**
 * Decodes tx bytes strictly. Throws CodecError (malformed bytes, unknown message type, a
 * message that does not decode canonically).
 */
export function decodeTx(txBytes: Bytes, registry: MsgRegistry): DecodedTx {
  const tx = decode(txCodec, txBytes);
  const msgs = tx.body.msgs.map((m, i) => {
    const def = registry.msgType(m.type);
    if (!def) throw new CodecError(`msgs[${i}]: unknown message type "${m.type}"`);
    try {
      return { type: m.type, value: decode(def.codec, m.value) };
    } catch (e) {
      throw new CodecError(`msgs[${i}] (${m.type}): ${(e as Error).message}`, { cause: e });
    }
  });
  return {
    bytes: txBytes,
    hash: sha256(txBytes),
    tx,
    msgs,
    signerAddress: cachedAddress(tx.body.signer),
    signBytes: signBytesOf(txBytes),
  };
}

export interface UnsignedTx {
  chainId: string;
  sequence: bigint;
  fee: bigint;
  timeoutHeight?: bigint;
  memo?: string;
  msgs: readonly DecodedMsg[];
}

/** Encodes the messages, signs the body and returns the tx bytes. */
export function buildTx(registry: MsgRegistry, signer: Signer, u: UnsignedTx): Bytes {
  const msgs = u.msgs.map((m) => {
    const def = registry.msgType(m.type);
    if (!def) throw new InvalidInputError('UNKNOWN_MSG', `unknown message type "${m.type}"`);
    return { type: m.type, value: encode(def.codec, m.value) };
  });
  const body: TxBody = {
    chainId: u.chainId,
    signer: signer.publicKey,
    sequence: u.sequence,
    fee: u.fee,
    timeoutHeight: u.timeoutHeight ?? 0n,
    memo: u.memo ?? '',
    msgs,
  };
  const bodyBytes = encode(txBodyCodec, body);
  const sig = signer.sign(concat(SIGN_DOMAIN, bodyBytes));
  return concat(bodyBytes, sig);
}

/** The JSON view of a decoded tx (API, CLI). */
export function txToJSON(d: DecodedTx, registry: MsgRegistry): Record<string, unknown> {
  const b = d.tx.body;
  return {
    hash: toHex(d.hash).toUpperCase(),
    chainId: b.chainId,
    signer: txBodyCodec.fields.signer.toJSON(b.signer),
    sequence: b.sequence.toString(),
    fee: b.fee.toString(),
    timeoutHeight: b.timeoutHeight.toString(),
    memo: b.memo,
    msgs: d.msgs.map((m) => ({ type: m.type, value: registry.msgType(m.type)?.codec.toJSON(m.value) })),
    signature: toHex(d.tx.signature),
  };
}
