/**
 * consensus: block limits, as governable parameters. The embedded node reads them when it
 * builds a block; under CometBFT they mirror CometBFT's own block params.
 */
import { struct, u32, type Infer } from '../../../core/codec.js';
import { InvalidInputError } from '../../../core/errors.js';
import type { Module, ParamsDef } from '../../module.js';

export const consensusParamsCodec = struct('ConsensusParams', { maxBlockBytes: u32, maxBlockTxs: u32 });
export type ConsensusParams = Infer<typeof consensusParamsCodec>;

export const consensusParams: ParamsDef<ConsensusParams> = {
  codec: consensusParamsCodec,
  defaults: { maxBlockBytes: 32 << 20, maxBlockTxs: 50_000 },
  validate(p) {
    if (p.maxBlockBytes < 64 << 10) throw new InvalidInputError('INVALID_PARAM', 'consensus.maxBlockBytes must be at least 65536');
    if (p.maxBlockTxs < 1) throw new InvalidInputError('INVALID_PARAM', 'consensus.maxBlockTxs must be at least 1');
  },
};

export const consensusModule: Module<null, ConsensusParams> = { name: 'consensus', params: consensusParams };
