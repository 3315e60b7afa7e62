/**
 * testvertical state keys (see src/chain/keys.ts for the table).
 *
 * | prefix                                     | value                                           |
 * | ------------------------------------------ | ----------------------------------------------- |
 * | testvertical/seq/<device 32B>              | u64: the device's last accepted report seq      |
 * | testvertical/r/<device 32B><seq u64>       | 32B: SHA-256 of the accepted report's sign bytes |
 */
import { concat, u64be, utf8, type Bytes } from '../../../core/bytes.js';

export const LAST_SEQ_PREFIX = utf8('testvertical/seq/');
export const REPORT_PREFIX = utf8('testvertical/r/');

export function lastSeqKey(device: Bytes): Bytes {
  return concat(LAST_SEQ_PREFIX, device);
}

export function reportKey(device: Bytes, seq: bigint): Bytes {
  return concat(REPORT_PREFIX, device, u64be(seq));
}
