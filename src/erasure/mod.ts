export * from "./geometry.ts";
export * from "./bitrot.ts";
export { BlockEncoder, encodeStream, InsufficientShards } from "./encode.ts";
export type { EncodeOptions, EncodeResult, ShardSink } from "./encode.ts";
export { PartDecoder } from "./decode.ts";
export type { DecodeOptions, ShardSource } from "./decode.ts";
