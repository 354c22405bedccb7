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
  frameOffset,
  HASH_BYTES,
  type PartLayout,
  SHARD_FILE_VERSION,
  SHARD_HEADER_BYTES,
  shardHeaderProblem,
  shardHeaderVersion,
  shardMatches,
} from "./bitrot.ts";
import { coderFor, InsufficientShards } from "./encode.ts";

export interface ShardSource {
  readAt(offset: number, length: number): Promise<Uint8Array>;
  /**
   * Optional (FileReader.readInto): reads into the caller's buffer. With it a data shard's bytes
   * are read straight into their place in the block, with no frame buffer and no copy.
   */
  readInto?(offset: number, into: Uint8Array): Promise<number>;
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
  /** Shard index -> why its file's header was refused (named when too few shards are left). */
  readonly #refused = new Map<number, string>();
  constructor(readonly opts: DecodeOptions) {
    assert(opts.sources.length === opts.k + opts.m, "One source per shard is required");
    this.#dead = opts.sources.map((s) => s === undefined);
  }

  /**
   * The `s` shard bytes of shard `i` in block `b`, checked against their hash: in `into` when
   * given and the source can read into it (two reads, the header and hash then the bytes), else
   * in a new frame buffer.
   */
  async #readShard(
    i: number,
    b: number,
    s: number,
    into?: Uint8Array,
  ): Promise<Uint8Array | "io" | "bitrot"> {
    const src = this.opts.sources[i];
    if (src === undefined || this.#dead[i]) return "io";
    const l = this.opts.layout;
    const withHeader = b === 0;
    const offset = withHeader ? 0 : frameOffset(l, b);
    const head = (withHeader ? SHARD_HEADER_BYTES : 0) + HASH_BYTES;
    let hashed: Uint8Array;
    let shard: Uint8Array;
    try {
      if (into !== undefined && src.readInto !== undefined) {
        const h = new Uint8Array(head);
        // Both reads settle before anything else happens: a read still in flight after the
        // other failed could land in `into` after its bytes were reconstructed there.
        const [rh, rs] = await Promise.allSettled([
          src.readInto(offset, h),
          src.readInto(offset + head, into),
        ]);
        if (rh.status === "rejected") throw rh.reason;
        if (rs.status === "rejected") throw rs.reason;
        if (rh.value !== head || rs.value !== s) return "bitrot"; // a short file
        hashed = h;
        shard = into;
      } else {
        const frame = await src.readAt(offset, head + s);
        if (frame.length !== head + s) return "bitrot";
        hashed = frame.subarray(0, head);
        shard = frame.subarray(head);
      }
    } catch {
      this.#dead[i] = true;
      return "io";
    }
    if (withHeader && !checkShardHeader(hashed)) {
      const problem = shardHeaderProblem(hashed.subarray(0, SHARD_HEADER_BYTES))!;
      this.#refused.set(i, problem);
      // A version this build does not know may lay out its frames differently: none of them
      // is trusted, though each one's hash might match.
      if (shardHeaderVersion(hashed) !== SHARD_FILE_VERSION) this.#dead[i] = true;
      return "bitrot";
    }
    return shardMatches(hashed.subarray(head - HASH_BYTES), shard) ? shard : "bitrot";
  }

  /**
   * The data bytes of block `b`. Data shards are read into the block buffer in place; missing
   * or corrupt ones are reconstructed there from parity.
   */
  async readBlock(b: number): Promise<Uint8Array> {
    const { k, m, layout } = this.opts;
    assert(b >= 0 && b < layout.blocks, `Block ${b} out of range 0..${layout.blocks - 1}`);
    const s = blockShardBytes(layout, b);
    const want = blockDataBytes(layout, b);
    const out = new Uint8Array(k * s);
    const place = (i: number) => out.subarray(i * s, (i + 1) * s);
    const shards: Array<Uint8Array | undefined> = new Array(k + m).fill(undefined);
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
        const byReason = new Map<string, number[]>();
        for (const [i, why] of this.#refused) {
          byReason.set(why, [...byReason.get(why) ?? [], i + 1]);
        }
        const refused = [...byReason].map(([why, is]) => `shards ${is.join(", ")}: ${why}`);
        throw new InsufficientShards(
          `Only ${good} of ${k + m} shards of block ${b} are readable and intact, need ${k}` +
            (refused.length > 0 ? ` (${refused.join("; ")})` : ""),
          bitrot,
        );
      }
      const results = await Promise.all(
        wave.map((i) => this.#readShard(i, b, s, i < k ? place(i) : undefined)),
      );
      results.forEach((r, j) => {
        const i = wave[j]!;
        if (typeof r === "string") {
          if (r === "bitrot") bitrot = true;
          this.opts.onShardBad?.(i, b, r);
        } else {
          shards[i] = r;
          good++;
        }
      });
    }
    const present = shards.map((sh) => sh !== undefined);
    for (let i = 0; i < k; i++) {
      const sh = shards[i];
      if (sh !== undefined && sh.buffer !== out.buffer) out.set(sh, i * s);
    }
    if (present.slice(0, k).includes(false)) {
      // Missing data shards are written into their place in `out`.
      const all = shards.map((sh, i) => i < k ? place(i) : sh ?? new Uint8Array(s));
      coderFor(k, m).reconstruct(all, present, { dataOnly: true });
    }
    return want === out.length ? out : out.subarray(0, want);
  }
}
