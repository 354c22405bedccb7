/**
 * Decoding one part: for each block read k shards (data shards first), verify each frame's
 * HighwayHash-256, read more shards when one is missing or corrupt, and reconstruct from parity.
 * Bad bytes are never returned: fewer than k good shards throws InsufficientShards.
 */
import { assert } from "../util/assert.ts";
import {
  blockDataBytes,
  blockShardBytes,
  checkShardHeader,
  frameIsValid,
  frameOffset,
  HASH_BYTES,
  type PartLayout,
  SHARD_HEADER_BYTES,
} from "./bitrot.ts";
import { coderFor, InsufficientShards } from "./encode.ts";

export interface ShardSource {
  readAt(offset: number, length: number): Promise<Uint8Array>;
}

export interface DecodeOptions {
  k: number;
  m: number;
  layout: PartLayout;
  /** One source per shard index (0-based); undefined when that drive has no good copy. */
  sources: Array<ShardSource | undefined>;
  /** Told about every shard found missing or corrupt (for heal and logs). */
  onShardBad?: (shardIndex: number, block: number, reason: "io" | "bitrot") => void;
}

export class PartDecoder {
  readonly #dead: boolean[];
  constructor(readonly opts: DecodeOptions) {
    assert(opts.sources.length === opts.k + opts.m, "One source per shard is required");
    this.#dead = opts.sources.map((s) => s === undefined);
  }

  async #readFrame(i: number, b: number, s: number): Promise<Uint8Array | "io" | "bitrot"> {
    const src = this.opts.sources[i];
    if (src === undefined || this.#dead[i]) return "io";
    const l = this.opts.layout;
    const withHeader = b === 0;
    const offset = withHeader ? 0 : frameOffset(l, b);
    const length = (withHeader ? SHARD_HEADER_BYTES : 0) + HASH_BYTES + s;
    let bytes: Uint8Array;
    try {
      bytes = await src.readAt(offset, length);
    } catch {
      this.#dead[i] = true;
      return "io";
    }
    if (withHeader) {
      if (!checkShardHeader(bytes)) return "bitrot";
      bytes = bytes.subarray(SHARD_HEADER_BYTES);
    }
    return frameIsValid(bytes, s) ? bytes : "bitrot";
  }

  /** The data bytes of block `b`. */
  async readBlock(b: number): Promise<Uint8Array> {
    const { k, m, layout } = this.opts;
    assert(b >= 0 && b < layout.blocks, `Block ${b} out of range 0..${layout.blocks - 1}`);
    const s = blockShardBytes(layout, b);
    const want = blockDataBytes(layout, b);
    const frames: Array<Uint8Array | undefined> = new Array(k + m).fill(undefined);
    let next = 0;
    let good = 0;
    let bitrot = false;
    while (good < k) {
      const wave: number[] = [];
      while (wave.length < k - good && next < k + m) {
        if (!this.#dead[next]) wave.push(next);
        next++;
      }
      if (wave.length === 0) {
        throw new InsufficientShards(
          `Only ${good} of ${k + m} shards of block ${b} are readable and intact, need ${k}`,
          bitrot,
        );
      }
      const results = await Promise.all(wave.map((i) => this.#readFrame(i, b, s)));
      results.forEach((r, j) => {
        const i = wave[j]!;
        if (typeof r === "string") {
          if (r === "bitrot") bitrot = true;
          this.opts.onShardBad?.(i, b, r);
        } else {
          frames[i] = r;
          good++;
        }
      });
    }
    const out = new Uint8Array(want);
    let allData = true;
    for (let i = 0; i < k; i++) if (frames[i] === undefined) allData = false;
    if (!allData) {
      const shards: Uint8Array[] = [];
      const present: boolean[] = [];
      for (let i = 0; i < k + m; i++) {
        const f = frames[i];
        present.push(f !== undefined);
        shards.push(f !== undefined ? f.subarray(HASH_BYTES) : new Uint8Array(s));
      }
      coderFor(k, m).reconstruct(shards, present, { dataOnly: true });
      for (let i = 0; i < k; i++) copyShard(out, shards[i]!, i * s);
      return out;
    }
    for (let i = 0; i < k; i++) copyShard(out, frames[i]!.subarray(HASH_BYTES), i * s);
    return out;
  }
}

function copyShard(out: Uint8Array, shard: Uint8Array, at: number): void {
  if (at >= out.length) return;
  out.set(shard.subarray(0, Math.min(shard.length, out.length - at)), at);
}
