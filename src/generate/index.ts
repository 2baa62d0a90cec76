// Generation: the KV-cache decoder, decoding strategies and ALMA translation.
export { Decoder, type DecoderCapacity } from './decoder.ts';
export { generate, reserveFor, type GenerateOptions, type Generated, type StopReason } from './generate.ts';
export { beamSearch, beamSearchAll } from './beam.ts';
export { argmax, logSumExp, sampleToken, tokenLogp, topK, type SamplingOptions } from './sampling.ts';
export { checkedLanguage, completePrompts, eosIds, generatedText, newlinePredicate, promptIds, translate, type TranslateOptions } from './translate.ts';
export { translateWithAdapter, withDecoder, type StoredAdapter } from './with-adapter.ts';
