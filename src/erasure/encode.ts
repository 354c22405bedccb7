/**
 * Encoding: a body is cut into erasure blocks; each block becomes k data + m parity shards, each
 * framed with its HighwayHash-256, written to k+m sinks in parallel. A sink that fails is dropped;
 * fewer live sinks than the write quorum ends the write with InsufficientShards.
 * Memory: one block buffer plus k+m frame buffers, whatever the body size.
 */
import { WRITE_BEHIND_BLOCKS_MAX } from "../config/limits.ts";
import { assert } from "../util/assert.ts";
import { createReedSolomon, type ReedSolomon } from "../wasm/mod.ts";
import { HASH_BYTES, hashShard, SHARD_HEADER } from "./bitrot.ts";

/** Too few shards could be written or read. `bitrot`: some shards were present but corrupt. */
export class InsufficientShards extends Error {
  constructor(message: string, readonly bitrot: boolean) {
    super(message);
    this.name = "InsufficientShards";
  }
}

const coders = new Map<string, ReedSolomon>();
export function coderFor(k: number, m: number): ReedSolomon {
  const id = `${k}+${m}`;
  let rs = coders.get(id);
  if (rs === undefined) coders.set(id, rs = createReedSolomon(k, m));
  return rs;
}

/** Encodes blocks into reusable frames; frames stay valid until the next call. */
export class BlockEncoder {
  #frames: Uint8Array[] = [];
  readonly #rs: ReedSolomon | undefined;
  constructor(readonly k: number, readonly m: number, readonly blockBytes: number) {
    this.#rs = m > 0 ? coderFor(k, m) : undefined;
  }

  /** k+m frames `hash(32) shard` for a block of at most blockBytes (> 0) bytes. */
  encode(block: Uint8Array): Uint8Array[] {
    assert(block.length > 0 && block.length <= this.blockBytes, `Bad block size ${block.length}`);
    const { k, m } = this;
    const s = Math.ceil(block.length / k);
    // Frames are sized by the first block (small objects stay small) and grown once if needed.
    if ((this.#frames[0]?.length ?? 0) < HASH_BYTES + s) {
      this.#frames = Array.from({ length: k + m }, () => new Uint8Array(HASH_BYTES + s));
    }
    const out = this.#frames.map((f) => f.subarray(0, HASH_BYTES + s));
    if (this.#rs === undefined) {
      // No parity: the shards are the block itself.
      for (let i = 0; i < k; i++) fillShard(out[i]!.subarray(HASH_BYTES), block, i * s);
      for (let i = 0; i < k; i++) out[i]!.set(hashShard(out[i]!.subarray(HASH_BYTES)), 0);
      return out;
    }
    // Encode and hash inside WASM memory (no staging copies), then copy each shard out once into
    // a frame the drives can write asynchronously. encode() is synchronous, so one shard set is
    // in use at a time and the pool hands the same memory back every call.
    const set = this.#rs.allocShards(s);
    try {
      const shards = set.shards;
      for (let i = 0; i < k; i++) fillShard(shards[i]!, block, i * s);
      this.#rs.encode(shards);
      for (let i = 0; i < k + m; i++) {
        const shard = shards[i]!;
        out[i]!.set(hashShard(shard), 0);
        out[i]!.set(shard, HASH_BYTES);
      }
    } finally {
      set.release();
    }
    return out;
  }
}

/** Copies block[from, from + shard.length) into shard, zero-padding past the block's end. */
function fillShard(shard: Uint8Array, block: Uint8Array, from: number): void {
  const part = block.subarray(
    Math.min(from, block.length),
    Math.min(from + shard.length, block.length),
  );
  shard.set(part);
  if (part.length < shard.length) shard.fill(0, part.length);
}

export interface ShardSink {
  write(chunk: Uint8Array): Promise<void>;
}

export interface EncodeOptions {
  k: number;
  m: number;
  blockBytes: number;
  /** One sink per shard index (0-based); undefined for a drive that is already offline. */
  sinks: Array<ShardSink | undefined>;
  writeQuorum: number;
  /** Expected body size when known (-1 otherwise): small bodies get small buffers. */
  sizeHint?: number;
  /** Called once for a sink that failed (it receives nothing more). */
  onSinkFailed?: (shardIndex: number, error: unknown) => void;
}

export interface EncodeResult {
  size: number;
  /** alive[i]: sink i received every frame. */
  alive: boolean[];
}

/**
 * Writes the shard-file header and every block of `chunks` to the sinks. The next block is read
 * from the body while the current one is being written.
 */
export async function encodeStream(
  chunks: AsyncIterable<Uint8Array>,
  opts: EncodeOptions,
): Promise<EncodeResult> {
  const { k, m, blockBytes, sinks, writeQuorum } = opts;
  assert(sinks.length === k + m, `Expected ${k + m} sinks, got ${sinks.length}`);
  const alive = sinks.map((s) => s !== undefined);
  // Up to WRITE_BEHIND_BLOCKS_MAX blocks are in flight, each with its own frames; writes to one
  // sink stay in order through a per-sink chain.
  const encoders = Array.from(
    { length: WRITE_BEHIND_BLOCKS_MAX },
    () => new BlockEncoder(k, m, blockBytes),
  );
  const inflight: Array<Promise<void>> = encoders.map(() => Promise.resolve());
  const tails: Array<Promise<void>> = sinks.map(() => Promise.resolve());
  const checkQuorum = () => {
    const n = alive.filter(Boolean).length;
    if (n < writeQuorum) {
      throw new InsufficientShards(
        `Only ${n} of ${k + m} shards could be written, write quorum is ${writeQuorum}`,
        false,
      );
    }
  };
  const writeAll = async (frames: Uint8Array[]) => {
    await Promise.all(sinks.map((sink, i) => {
      if (sink === undefined) return tails[i];
      const p = tails[i]!.then(async () => {
        if (!alive[i]) return;
        try {
          await sink.write(frames[i]!);
        } catch (e) {
          if (alive[i]) {
            alive[i] = false;
            opts.onSinkFailed?.(i, e);
          }
        }
      });
      tails[i] = p;
      return p;
    }));
    checkQuorum();
  };

  await writeAll(sinks.map(() => SHARD_HEADER));
  const hint = opts.sizeHint ?? -1;
  let block = new Uint8Array(hint >= 0 ? Math.max(1, Math.min(hint, blockBytes)) : blockBytes);
  let fill = 0;
  let size = 0;
  let turn = 0;
  const flush = async () => {
    const slot = turn++ % encoders.length;
    await inflight[slot]; // its frames are free again
    checkQuorum();
    const frames = encoders[slot]!.encode(block.subarray(0, fill));
    fill = 0;
    const p = writeAll(frames);
    p.catch(() => {}); // surfaced by the next flush of this slot or at the end
    inflight[slot] = p;
  };
  try {
    for await (const chunk of chunks) {
      let off = 0;
      size += chunk.length;
      while (off < chunk.length) {
        if (fill === block.length && block.length < blockBytes) {
          const grown = new Uint8Array(blockBytes); // the body is longer than its hint
          grown.set(block);
          block = grown;
        }
        const n = Math.min(chunk.length - off, blockBytes - fill);
        block.set(chunk.subarray(off, off + n), fill);
        fill += n;
        off += n;
        if (fill === blockBytes) await flush();
      }
    }
    if (fill > 0) await flush();
  } finally {
    await Promise.all(inflight.map((p) => p.catch(() => {})));
  }
  await Promise.all(inflight);
  return { size, alive };
}
