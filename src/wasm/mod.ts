/**
 * The WebAssembly core: Reed-Solomon (klauspost/reedsolomon-identical parity) and HighwayHash.
 * See README.md for the builds, the kernels and the memory rules.
 */
import {
  bestCore,
  type HighwayHashState,
  loadVariant,
  type ReedSolomon,
  type WasmCore,
} from "./core.ts";

export type { ReedSolomon, ShardSet, WasmCore, WasmVariant } from "./core.ts";
export { availableVariants, loadVariant } from "./core.ts";

/** A Reed-Solomon coder with k data and m parity shards (k >= 1, m >= 0, k + m <= 256). */
export function createReedSolomon(dataShards: number, parityShards: number): ReedSolomon {
  return bestCore.createReedSolomon(dataShards, parityShards);
}

/** HighwayHash-64 of data under a 32-byte key: 8 bytes, as minio/highwayhash's Sum64 (LE). */
export function highwayHash64(key: Uint8Array, data: Uint8Array): Uint8Array {
  return bestCore.highwayHash64(key, data);
}

/** HighwayHash-128 of data under a 32-byte key: 16 bytes. */
export function highwayHash128(key: Uint8Array, data: Uint8Array): Uint8Array {
  return bestCore.highwayHash128(key, data);
}

/** HighwayHash-256 of data under a 32-byte key: 32 bytes (MinIO's bitrot hash). */
export function highwayHash256(key: Uint8Array, data: Uint8Array): Uint8Array {
  return bestCore.highwayHash256(key, data);
}

/**
 * Streaming HighwayHash. digest() does not end the stream: more update() calls may follow and
 * a later digest() covers everything written so far.
 */
export class HighwayHash {
  readonly #state: HighwayHashState;

  /** `core` picks a build (tests); by default the best one loaded. */
  constructor(key: Uint8Array, bits: 64 | 128 | 256, core: WasmCore = bestCore) {
    this.#state = core.newHighwayHash(key, bits);
  }

  update(data: Uint8Array): this {
    this.#state.update(data);
    return this;
  }

  digest(): Uint8Array {
    return this.#state.digest();
  }
}

/** Which build loaded: "relaxed-simd" | "simd128" | "scalar". */
export function wasmVariant(): string {
  return bestCore.variant;
}

/** The core of a named build, or the best one; for tests and benchmarks. */
export function wasmCore(variant?: Parameters<typeof loadVariant>[0]): WasmCore {
  return variant === undefined ? bestCore : loadVariant(variant);
}
