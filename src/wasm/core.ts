/**
 * The only loader of the WebAssembly core (core_{relaxed,simd128,scalar}.wasm, built from rs.c and
 * highwayhash.c by build.sh).
 *
 * How this works:
 * - At module load (top-level await) the best build that `WebAssembly.validate` accepts is read
 *   from beside this file and instantiated; its functions are the module's exports. `loadVariant`
 *   instantiates any build on demand (tests compare every build with the scalar one).
 * - Each instance owns one `WebAssembly.Memory`. Below the heap sit C statics (GF tables, hash
 *   state); above it this file keeps a small first-fit allocator. Fixed regions are taken once at
 *   load: pointer arrays, coefficient and nibble-table slots, a staging area and verify scratch.
 *   Everything else is shard sets from `allocShards`, which are zeroed when handed out and go back
 *   to the free list on `release()`; the whole memory is capped at WASM_MEMORY_BYTES_MAX.
 * - Memory grows only inside `allocShards()`. Growth detaches every view of the old buffer, so
 *   after any `allocShards()` call (on any coder of the same variant) re-read `.shards` of the sets
 *   you hold; `.shards` always returns views of the current buffer. encode/verify/reconstruct and
 *   the hash functions never grow memory.
 * - When every shard of a call is a view of this instance's memory the kernels run on them in
 *   place (zero copy). Otherwise the shards are copied through the staging area in column chunks,
 *   which is correct for any mix of buffers, only slower.
 */
import {
  RS_DECODE_CACHE_ENTRIES_MAX,
  RS_SHARDS_MAX,
  WASM_MEMORY_BYTES_MAX,
  WASM_STAGING_BYTES,
} from "../config/limits.ts";
import { buildEncodingMatrix, matInvert, type Matrix, nibbleTables, selectRows } from "./_gf.ts";

/** Which build a core came from. */
export type WasmVariant = "relaxed-simd" | "simd128" | "scalar";

const VARIANT_FILES: Record<WasmVariant, string> = {
  "relaxed-simd": "./core_relaxed.wasm",
  "simd128": "./core_simd128.wasm",
  "scalar": "./core_scalar.wasm",
};
const VARIANT_CODES: Record<number, WasmVariant> = {
  0: "scalar",
  1: "simd128",
  2: "relaxed-simd",
};

export interface ReedSolomon {
  readonly dataShards: number;
  readonly parityShards: number;
  readonly totalShards: number;
  /** ceil(blockBytes / dataShards), as klauspost's / MinIO's ShardSize(). */
  shardSize(blockBytes: number): number;
  /** shards.length === k+m, all the same length; reads shards[0..k), writes parity shards[k..k+m). */
  encode(shards: Uint8Array[]): void;
  /** True when parity matches the data. */
  verify(shards: Uint8Array[]): boolean;
  /**
   * All k+m buffers allocated and equal length; present[i] false marks shard i missing. Fills the
   * missing ones (only missing data shards when opts.dataOnly). Throws RangeError when fewer than
   * k are present.
   */
  reconstruct(shards: Uint8Array[], present: boolean[], opts?: { dataOnly?: boolean }): void;
  /**
   * Buffers inside WASM memory for zero-copy use: k+m views of shardBytes each, zeroed. release()
   * returns them to the pool. Memory grows only inside allocShards(): after any allocShards() call
   * of the same variant, re-read `.shards` (older views may be detached).
   */
  allocShards(shardBytes: number): ShardSet;
}

export interface ShardSet {
  readonly shards: Uint8Array[];
  release(): void;
}

/** One instantiated build and everything bound to it. */
export interface WasmCore {
  readonly variant: WasmVariant;
  createReedSolomon(dataShards: number, parityShards: number): ReedSolomon;
  highwayHash64(key: Uint8Array, data: Uint8Array): Uint8Array;
  highwayHash128(key: Uint8Array, data: Uint8Array): Uint8Array;
  highwayHash256(key: Uint8Array, data: Uint8Array): Uint8Array;
  /** A streaming hasher bound to this build. */
  newHighwayHash(key: Uint8Array, bits: 64 | 128 | 256): HighwayHashState;
}

/** What a streaming hasher needs from a core; HighwayHash (mod.ts) wraps it. */
export interface HighwayHashState {
  update(data: Uint8Array): void;
  digest(): Uint8Array;
}

interface Exports {
  memory: WebAssembly.Memory;
  __heap_base: WebAssembly.Global;
  gf_init(): void;
  variant(): number;
  rs_mul(
    coefs: number,
    tables: number,
    ins: number,
    nin: number,
    outs: number,
    nout: number,
    len: number,
  ): void;
  rs_verify(
    coefs: number,
    tables: number,
    ins: number,
    nin: number,
    pars: number,
    nout: number,
    len: number,
    scratch: number,
    chunk: number,
  ): number;
  hh_state_ptr(): number;
  hh_out_ptr(): number;
  hh_reset(key: number): void;
  hh_update(data: number, len: number): void;
  hh_finish(data: number, rem: number, bits: number): void;
}

const PAGE_BYTES = 65536;
const ALIGN_BYTES = 64;
/** Largest coefficient matrix of one call: m x k with k + m <= 256. */
const COEFS_BYTES_MAX = (RS_SHARDS_MAX / 2) * (RS_SHARDS_MAX / 2);
/**
 * Bytes copied in per round of the copying path: small enough that what was just copied is still
 * in L2 when the kernel reads it (a whole 1 MiB round would not be).
 */
const STAGING_ROUND_BYTES = Math.min(WASM_STAGING_BYTES, 128 * 1024);

/** Per-shard column chunk of the copying path for n shards (a multiple of 64, at least 64). */
function stagingChunk(n: number): number {
  const budget = Math.max(STAGING_ROUND_BYTES, n * ALIGN_BYTES);
  return Math.max(ALIGN_BYTES, Math.floor(budget / n / ALIGN_BYTES) * ALIGN_BYTES);
}

/** Verify computes parity into this much scratch per chunk of columns. */
const VERIFY_SCRATCH_BYTES = 256 * 1024;
const HH_STATE_BYTES = 128;
const HH_KEY_BYTES = 32;

function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

/**
 * Distance between the shards of a set: 64-byte aligned, and an odd number of 64-byte lines, so
 * that the same offset in up to 64 shards falls in 64 different cache sets. Power-of-two shard
 * sizes (1 MiB / 8 = 128 KiB) otherwise put every shard's bytes in the same L1/L2 sets (and make
 * loads falsely wait on stores 4 KiB apart), which the kernels, reading all inputs and writing all
 * outputs at one offset, would feel on every step.
 */
function shardStride(shardBytes: number): number {
  const lines = Math.ceil(Math.max(shardBytes, 1) / ALIGN_BYTES);
  return (lines % 2 === 0 ? lines + 1 : lines) * ALIGN_BYTES;
}

/** First-fit allocator over the instance's memory above __heap_base, coalescing on free. */
class Heap {
  /** Free blocks sorted by offset: [offset, size]. */
  readonly #free: Array<[number, number]> = [];
  #end: number;

  constructor(readonly memory: WebAssembly.Memory, start: number) {
    const s = alignUp(start, ALIGN_BYTES);
    this.#end = memory.buffer.byteLength;
    if (this.#end > s) this.#free.push([s, this.#end - s]);
  }

  alloc(bytes: number): number {
    const size = alignUp(Math.max(bytes, 1), ALIGN_BYTES);
    for (let i = 0; i < this.#free.length; i++) {
      const blk = this.#free[i]!;
      if (blk[1] >= size) {
        const off = blk[0];
        if (blk[1] === size) this.#free.splice(i, 1);
        else {
          blk[0] += size;
          blk[1] -= size;
        }
        return off;
      }
    }
    // Grow: extend the last free block if it touches the end, else start at the end.
    const last = this.#free[this.#free.length - 1];
    const tailFree = last !== undefined && last[0] + last[1] === this.#end ? last[1] : 0;
    const need = size - tailFree;
    const pages = Math.ceil(need / PAGE_BYTES);
    if (this.#end + pages * PAGE_BYTES > WASM_MEMORY_BYTES_MAX) {
      throw new RangeError(
        `WebAssembly memory would exceed ${WASM_MEMORY_BYTES_MAX} bytes (asked for ${bytes} more)`,
      );
    }
    this.memory.grow(pages);
    const grown = pages * PAGE_BYTES;
    if (tailFree > 0) last![1] += grown;
    else this.#free.push([this.#end, grown]);
    this.#end += grown;
    return this.alloc(bytes);
  }

  free(off: number, bytes: number): void {
    const size = alignUp(Math.max(bytes, 1), ALIGN_BYTES);
    let i = 0;
    while (i < this.#free.length && this.#free[i]![0] < off) i++;
    this.#free.splice(i, 0, [off, size]);
    // Coalesce with the next, then the previous block.
    const cur = this.#free[i]!;
    const next = this.#free[i + 1];
    if (next !== undefined && cur[0] + cur[1] === next[0]) {
      cur[1] += next[1];
      this.#free.splice(i + 1, 1);
    }
    const prev = this.#free[i - 1];
    if (prev !== undefined && prev[0] + prev[1] === cur[0]) {
      prev[1] += cur[1];
      this.#free.splice(i, 1);
    }
  }
}

/** The coefficient matrix of one kernel call and its nibble tables, ready to copy in. */
interface Coding {
  readonly coefs: Uint8Array;
  readonly tables: Uint8Array;
  readonly nin: number;
  readonly nout: number;
}

function coding(m: Matrix): Coding {
  return { coefs: m.data, tables: nibbleTables(m.data), nin: m.cols, nout: m.rows };
}

function checkKey(key: Uint8Array): void {
  if (!(key instanceof Uint8Array)) throw new TypeError("HighwayHash key must be a Uint8Array");
  if (key.length !== HH_KEY_BYTES) {
    throw new RangeError(`HighwayHash key must be ${HH_KEY_BYTES} bytes, got ${key.length}`);
  }
}

function checkData(data: Uint8Array): void {
  if (!(data instanceof Uint8Array)) throw new TypeError("HighwayHash data must be a Uint8Array");
}

function checkBits(bits: number): asserts bits is 64 | 128 | 256 {
  if (bits !== 64 && bits !== 128 && bits !== 256) {
    throw new RangeError(`HighwayHash size must be 64, 128 or 256 bits, got ${bits}`);
  }
}

function isDetached(u: Uint8Array): boolean {
  return (u.buffer as ArrayBuffer & { detached?: boolean }).detached === true;
}

function detachedError(i: number): TypeError {
  return new TypeError(
    `Shard ${i} is a detached view: re-read ShardSet.shards after allocShards()`,
  );
}

/** Throws TypeError when two views share bytes (the kernels would read what they write). */
function checkNoOverlap(views: readonly Uint8Array[]): void {
  const byBuffer = new Map<ArrayBufferLike, Array<[number, number, number]>>();
  views.forEach((s, i) => {
    let list = byBuffer.get(s.buffer);
    if (list === undefined) byBuffer.set(s.buffer, list = []);
    list.push([s.byteOffset, s.byteOffset + s.length, i]);
  });
  for (const list of byBuffer.values()) {
    list.sort((a, b) => a[0] - b[0]);
    for (let j = 1; j < list.length; j++) {
      if (list[j]![0] < list[j - 1]![1]) {
        throw new TypeError(`Shards ${list[j - 1]![2]} and ${list[j]![2]} overlap in memory`);
      }
    }
  }
}

class Core implements WasmCore {
  readonly variant: WasmVariant;
  readonly #x: Exports;
  readonly #heap: Heap;
  readonly #insPtr: number;
  readonly #outsPtr: number;
  readonly #coefsPtr: number;
  readonly #tablesPtr: number;
  readonly #stagingPtr: number;
  readonly #scratchPtr: number;
  readonly #keyPtr: number;
  /** Shard sets live at and above this offset; everything below belongs to the core. */
  readonly #userStart: number;
  readonly #hhState: number;
  readonly #hhOut: number;
  /** The Coding whose coefficients and tables are in memory now (skip the copy when unchanged). */
  #loaded: Coding | undefined;

  constructor(module: WebAssembly.Module) {
    const inst = new WebAssembly.Instance(module, {});
    this.#x = inst.exports as unknown as Exports;
    this.#x.gf_init();
    const code = this.#x.variant();
    const v = VARIANT_CODES[code];
    if (v === undefined) throw new TypeError(`Unknown WebAssembly core variant ${code}`);
    this.variant = v;
    this.#heap = new Heap(this.#x.memory, Number(this.#x.__heap_base.value));
    this.#insPtr = this.#heap.alloc(RS_SHARDS_MAX * 4);
    this.#outsPtr = this.#heap.alloc(RS_SHARDS_MAX * 4);
    this.#coefsPtr = this.#heap.alloc(COEFS_BYTES_MAX);
    this.#tablesPtr = this.#heap.alloc(COEFS_BYTES_MAX * 32);
    this.#stagingPtr = this.#heap.alloc(WASM_STAGING_BYTES);
    this.#scratchPtr = this.#heap.alloc(VERIFY_SCRATCH_BYTES);
    this.#keyPtr = this.#heap.alloc(HH_KEY_BYTES + 32);
    this.#userStart = this.#keyPtr + HH_KEY_BYTES + 32;
    this.#hhState = this.#x.hh_state_ptr();
    this.#hhOut = this.#x.hh_out_ptr();
  }

  get #buf(): ArrayBufferLike {
    return this.#x.memory.buffer;
  }

  #viewsOf: ArrayBufferLike | undefined;
  #u8View: Uint8Array = new Uint8Array(0);
  #u32View: Uint32Array = new Uint32Array(0);

  #refreshViews(): void {
    const b = this.#x.memory.buffer;
    if (b !== this.#viewsOf) {
      this.#viewsOf = b;
      this.#u8View = new Uint8Array(b);
      this.#u32View = new Uint32Array(b);
    }
  }

  #u8(): Uint8Array {
    this.#refreshViews();
    return this.#u8View;
  }

  #u32(): Uint32Array {
    this.#refreshViews();
    return this.#u32View;
  }

  #load(c: Coding): void {
    if (this.#loaded === c) return;
    const mem = this.#u8();
    mem.set(c.coefs, this.#coefsPtr);
    mem.set(c.tables, this.#tablesPtr);
    this.#loaded = c;
  }

  /**
   * Whether every view lives in this instance's memory (then kernels run on them in place). A view
   * of the memory below the shard heap (hand-made from a ShardSet view's `.buffer`) would let a
   * call overwrite the core's own tables, so it is refused.
   */
  #allInMemory(views: readonly Uint8Array[]): boolean {
    const b = this.#buf;
    let all = true;
    for (const v of views) {
      if (v.buffer !== b) all = false;
      else if (v.byteOffset < this.#userStart && v.length > 0) {
        throw new TypeError("A shard view covers the WebAssembly core's reserved memory");
      }
    }
    return all;
  }

  /**
   * outs[p] = sum over d of c[p][d] * ins[d], over `len` bytes of every view (all at least len long).
   */
  mul(c: Coding, ins: readonly Uint8Array[], outs: readonly Uint8Array[], len: number): void {
    if (c.nout === 0 || len === 0) return;
    this.#load(c);
    const x = this.#x;
    const u32 = this.#u32();
    const insW = this.#insPtr >> 2;
    const outsW = this.#outsPtr >> 2;
    if (this.#allInMemory(ins) && this.#allInMemory(outs)) {
      ins.forEach((v, i) => u32[insW + i] = v.byteOffset);
      outs.forEach((v, i) => u32[outsW + i] = v.byteOffset);
      x.rs_mul(this.#coefsPtr, this.#tablesPtr, this.#insPtr, c.nin, this.#outsPtr, c.nout, len);
      return;
    }
    const n = c.nin + c.nout;
    const chunk = stagingChunk(n);
    for (let i = 0; i < n; i++) {
      u32[i < c.nin ? insW + i : outsW + i - c.nin] = this.#stagingPtr + i * chunk;
    }
    const mem = this.#u8();
    for (let off = 0; off < len; off += chunk) {
      const cn = Math.min(chunk, len - off);
      ins.forEach((v, i) => mem.set(v.subarray(off, off + cn), this.#stagingPtr + i * chunk));
      x.rs_mul(this.#coefsPtr, this.#tablesPtr, this.#insPtr, c.nin, this.#outsPtr, c.nout, cn);
      outs.forEach((v, p) => {
        const at = this.#stagingPtr + (c.nin + p) * chunk;
        v.set(mem.subarray(at, at + cn), off);
      });
    }
  }

  /** Whether pars[p] equals sum over d of c[p][d] * ins[d] over len bytes. */
  verify(c: Coding, ins: readonly Uint8Array[], pars: readonly Uint8Array[], len: number): boolean {
    if (c.nout === 0 || len === 0) return true;
    this.#load(c);
    const x = this.#x;
    const u32 = this.#u32();
    const insW = this.#insPtr >> 2;
    const outsW = this.#outsPtr >> 2;
    const scratchChunk = Math.floor(VERIFY_SCRATCH_BYTES / c.nout / ALIGN_BYTES) * ALIGN_BYTES;
    if (this.#allInMemory(ins) && this.#allInMemory(pars)) {
      ins.forEach((v, i) => u32[insW + i] = v.byteOffset);
      pars.forEach((v, i) => u32[outsW + i] = v.byteOffset);
      return x.rs_verify(
        this.#coefsPtr,
        this.#tablesPtr,
        this.#insPtr,
        c.nin,
        this.#outsPtr,
        c.nout,
        len,
        this.#scratchPtr,
        scratchChunk,
      ) === 1;
    }
    const n = c.nin + c.nout;
    const chunk = stagingChunk(n);
    for (let i = 0; i < n; i++) {
      u32[i < c.nin ? insW + i : outsW + i - c.nin] = this.#stagingPtr + i * chunk;
    }
    const mem = this.#u8();
    for (let off = 0; off < len; off += chunk) {
      const cn = Math.min(chunk, len - off);
      ins.forEach((v, i) => mem.set(v.subarray(off, off + cn), this.#stagingPtr + i * chunk));
      pars.forEach((v, p) => {
        mem.set(v.subarray(off, off + cn), this.#stagingPtr + (c.nin + p) * chunk);
      });
      const ok = x.rs_verify(
        this.#coefsPtr,
        this.#tablesPtr,
        this.#insPtr,
        c.nin,
        this.#outsPtr,
        c.nout,
        cn,
        this.#scratchPtr,
        Math.min(scratchChunk, chunk),
      );
      if (ok !== 1) return false;
    }
    return true;
  }

  allocShardSet(count: number, shardBytes: number): ShardSet {
    const stride = shardStride(shardBytes);
    const bytes = stride * count;
    const off = this.#heap.alloc(bytes);
    this.#u8().fill(0, off, off + bytes);
    const heap = this.#heap;
    const memory = this.#x.memory;
    let views: Uint8Array[] = [];
    let viewsOf: ArrayBufferLike | undefined;
    let released = false;
    return {
      get shards(): Uint8Array[] {
        if (released) throw new TypeError("ShardSet was released");
        if (viewsOf !== memory.buffer) {
          viewsOf = memory.buffer;
          views = Array.from(
            { length: count },
            (_, i) => new Uint8Array(memory.buffer, off + i * stride, shardBytes),
          );
        }
        return views.slice();
      },
      release(): void {
        if (released) throw new TypeError("ShardSet was already released");
        released = true;
        views = [];
        viewsOf = undefined;
        heap.free(off, bytes);
      },
    };
  }

  createReedSolomon(dataShards: number, parityShards: number): ReedSolomon {
    return new ReedSolomonCoder(this, dataShards, parityShards);
  }

  #hashInto(data: Uint8Array): void {
    const x = this.#x;
    const full = data.length & ~31;
    if (data.buffer === this.#buf) {
      if (full > 0) x.hh_update(data.byteOffset, full);
      return;
    }
    const mem = this.#u8();
    for (let off = 0; off < full; off += STAGING_ROUND_BYTES) {
      const n = Math.min(STAGING_ROUND_BYTES, full - off);
      mem.set(data.subarray(off, off + n), this.#stagingPtr);
      x.hh_update(this.#stagingPtr, n);
    }
  }

  #oneShot(key: Uint8Array, data: Uint8Array, bits: 64 | 128 | 256): Uint8Array {
    checkKey(key);
    checkData(data);
    const x = this.#x;
    this.#u8().set(key, this.#keyPtr);
    x.hh_reset(this.#keyPtr);
    this.#hashInto(data);
    const full = data.length & ~31;
    const rem = data.length - full;
    this.#u8().set(data.subarray(full), this.#keyPtr + HH_KEY_BYTES);
    x.hh_finish(this.#keyPtr + HH_KEY_BYTES, rem, bits);
    return this.#u8().slice(this.#hhOut, this.#hhOut + bits / 8);
  }

  highwayHash64(key: Uint8Array, data: Uint8Array): Uint8Array {
    return this.#oneShot(key, data, 64);
  }

  highwayHash128(key: Uint8Array, data: Uint8Array): Uint8Array {
    return this.#oneShot(key, data, 128);
  }

  highwayHash256(key: Uint8Array, data: Uint8Array): Uint8Array {
    return this.#oneShot(key, data, 256);
  }

  newHighwayHash(key: Uint8Array, bits: 64 | 128 | 256): HighwayHashState {
    checkKey(key);
    checkBits(bits);
    this.#u8().set(key, this.#keyPtr);
    this.#x.hh_reset(this.#keyPtr);
    const st: StreamState = {
      state: this.#u8().slice(this.#hhState, this.#hhState + HH_STATE_BYTES),
      pending: new Uint8Array(32),
      pendingLen: 0,
      bits,
    };
    return {
      update: (data: Uint8Array) => this.#streamUpdate(st, data),
      digest: () => this.#streamDigest(st),
    };
  }

  #streamUpdate(st: StreamState, data: Uint8Array): void {
    checkData(data);
    if (data.length === 0) return;
    let d = data;
    if (st.pendingLen > 0) {
      const take = Math.min(32 - st.pendingLen, d.length);
      st.pending.set(d.subarray(0, take), st.pendingLen);
      st.pendingLen += take;
      d = d.subarray(take);
      if (st.pendingLen < 32) return;
    }
    const full = d.length & ~31;
    if (st.pendingLen === 32 || full > 0) {
      const tail = this.#keyPtr + HH_KEY_BYTES;
      this.#u8().set(st.state, this.#hhState);
      if (st.pendingLen === 32) {
        this.#u8().set(st.pending, tail);
        this.#x.hh_update(tail, 32);
        st.pendingLen = 0;
      }
      if (full > 0) this.#hashInto(d.subarray(0, full));
      st.state.set(this.#u8().subarray(this.#hhState, this.#hhState + HH_STATE_BYTES));
    }
    st.pending.set(d.subarray(full), st.pendingLen);
    st.pendingLen += d.length - full;
  }

  #streamDigest(st: StreamState): Uint8Array {
    const tail = this.#keyPtr + HH_KEY_BYTES;
    const mem = this.#u8();
    mem.set(st.state, this.#hhState);
    mem.set(st.pending.subarray(0, st.pendingLen), tail);
    this.#x.hh_finish(tail, st.pendingLen, st.bits);
    return this.#u8().slice(this.#hhOut, this.#hhOut + st.bits / 8);
  }
}

/** A streaming hasher's state, kept in JS between calls. */
interface StreamState {
  readonly state: Uint8Array;
  readonly pending: Uint8Array;
  pendingLen: number;
  readonly bits: 64 | 128 | 256;
}

/** How to reconstruct one erasure pattern: `use` is undefined when fewer than k are present. */
interface Plan {
  readonly present: number;
  readonly use?: number[];
  readonly missingData: number[];
  readonly missingParity: number[];
  data?: Coding;
  parity?: Coding;
}

/** Reed-Solomon coder for one geometry on one core. */
class ReedSolomonCoder implements ReedSolomon {
  readonly dataShards: number;
  readonly parityShards: number;
  readonly totalShards: number;
  readonly #core: Core;
  readonly #matrix: Matrix;
  readonly #parity: Coding;
  /** Reconstruction plans by erasure pattern ("1" present, "0" missing), least recent first. */
  readonly #plans = new Map<string, Plan>();

  constructor(core: Core, dataShards: number, parityShards: number) {
    if (!Number.isInteger(dataShards) || !Number.isInteger(parityShards)) {
      throw new TypeError(`Shard counts must be integers, got ${dataShards}+${parityShards}`);
    }
    if (dataShards < 1) throw new RangeError(`Data shards must be at least 1, got ${dataShards}`);
    if (parityShards < 0) {
      throw new RangeError(`Parity shards must be at least 0, got ${parityShards}`);
    }
    if (dataShards + parityShards > RS_SHARDS_MAX) {
      throw new RangeError(
        `Data + parity shards must be at most ${RS_SHARDS_MAX}, got ${dataShards}+${parityShards}`,
      );
    }
    this.#core = core;
    this.dataShards = dataShards;
    this.parityShards = parityShards;
    this.totalShards = dataShards + parityShards;
    this.#matrix = buildEncodingMatrix(dataShards, this.totalShards);
    const parityRows = Array.from({ length: parityShards }, (_, i) => dataShards + i);
    this.#parity = coding(selectRows(this.#matrix, parityRows));
  }

  shardSize(blockBytes: number): number {
    if (!Number.isInteger(blockBytes) || blockBytes < 0) {
      throw new RangeError(`Block size must be a non-negative integer, got ${blockBytes}`);
    }
    return Math.ceil(blockBytes / this.dataShards);
  }

  /** Checks count, types, equal lengths and that no two shards overlap; returns the length. */
  #check(shards: Uint8Array[]): number {
    if (!Array.isArray(shards)) throw new TypeError("Shards must be an array of Uint8Array");
    const n = shards.length;
    if (n !== this.totalShards) {
      throw new RangeError(
        `Expected ${this.totalShards} shards (${this.dataShards}+${this.parityShards}), got ${n}`,
      );
    }
    // One pass; the common layouts (a ShardSet, or separate buffers) need no sort.
    let len = -1;
    let buf: ArrayBufferLike | undefined;
    let oneBufferAscending = true;
    let distinctBuffers = true;
    let prevEnd = 0;
    const seen = n <= 32 ? undefined : new Set<ArrayBufferLike>();
    for (let i = 0; i < n; i++) {
      const s = shards[i];
      if (!(s instanceof Uint8Array)) throw new TypeError(`Shard ${i} is not a Uint8Array`);
      if (i === 0) {
        len = s.length;
        buf = s.buffer;
      } else if (s.length !== len) {
        const bad = isDetached(s) ? s : shards.find(isDetached);
        if (bad !== undefined) throw detachedError(shards.indexOf(bad));
        throw new RangeError(
          `Shard sizes differ: shard 0 has ${len} bytes, shard ${i} has ${s.length}`,
        );
      }
      if (s.buffer !== buf || s.byteOffset < prevEnd) oneBufferAscending = false;
      prevEnd = s.byteOffset + s.length;
      if (distinctBuffers) {
        if (seen !== undefined) {
          if (seen.has(s.buffer)) distinctBuffers = false;
          seen.add(s.buffer);
        } else {
          for (let j = 0; j < i; j++) {
            if (shards[j]!.buffer === s.buffer) {
              distinctBuffers = false;
              break;
            }
          }
        }
      }
    }
    if (len === 0) {
      const bad = shards.findIndex(isDetached);
      if (bad >= 0) throw detachedError(bad);
      return 0;
    }
    if (!oneBufferAscending && !distinctBuffers) checkNoOverlap(shards);
    return len;
  }

  encode(shards: Uint8Array[]): void {
    const len = this.#check(shards);
    const k = this.dataShards;
    this.#core.mul(this.#parity, shards.slice(0, k), shards.slice(k), len);
  }

  verify(shards: Uint8Array[]): boolean {
    const len = this.#check(shards);
    const k = this.dataShards;
    return this.#core.verify(this.#parity, shards.slice(0, k), shards.slice(k), len);
  }

  reconstruct(shards: Uint8Array[], present: boolean[], opts?: { dataOnly?: boolean }): void {
    const len = this.#check(shards);
    if (!Array.isArray(present) || present.length !== this.totalShards) {
      throw new RangeError(`Expected ${this.totalShards} present flags, got ${present?.length}`);
    }
    let key = "";
    for (let i = 0; i < present.length; i++) {
      const p = present[i];
      if (typeof p !== "boolean") throw new TypeError(`present[${i}] is not a boolean`);
      key += p ? "1" : "0";
    }
    const plan = this.#plan(key, present);
    if (plan.use === undefined) {
      throw new RangeError(
        `Too few shards to reconstruct: ${plan.present} present, need ${this.dataShards}`,
      );
    }
    if (plan.data !== undefined) {
      this.#core.mul(
        plan.data,
        plan.use.map((i) => shards[i]!),
        plan.missingData.map((i) => shards[i]!),
        len,
      );
    }
    if (opts?.dataOnly !== true && plan.parity !== undefined) {
      const k = this.dataShards;
      this.#core.mul(
        plan.parity,
        shards.slice(0, k),
        plan.missingParity.map((i) => shards[i]!),
        len,
      );
    }
  }

  /** What to compute for one erasure pattern, cached (LRU) by the pattern. */
  #plan(key: string, present: boolean[]): Plan {
    const hit = this.#plans.get(key);
    if (hit !== undefined) {
      this.#plans.delete(key);
      this.#plans.set(key, hit);
      return hit;
    }
    const k = this.dataShards;
    const valid: number[] = [];
    const missingData: number[] = [];
    const missingParity: number[] = [];
    present.forEach((p, i) => {
      if (p) valid.push(i);
      else if (i < k) missingData.push(i);
      else missingParity.push(i);
    });
    let plan: Plan;
    if (valid.length < k) {
      plan = { present: valid.length, missingData, missingParity };
    } else {
      // As klauspost: read the first k present shards; rows of the inverse of their sub-matrix
      // give the missing data shards. Missing parity is re-encoded from the (now whole) data.
      const use = valid.slice(0, k);
      plan = { present: valid.length, use, missingData, missingParity };
      if (missingData.length > 0) {
        const inverse = matInvert(selectRows(this.#matrix, use));
        plan.data = coding(selectRows(inverse, missingData));
      }
      if (missingParity.length > 0) plan.parity = coding(selectRows(this.#matrix, missingParity));
    }
    if (this.#plans.size >= RS_DECODE_CACHE_ENTRIES_MAX) {
      const oldest = this.#plans.keys().next().value;
      if (oldest !== undefined) this.#plans.delete(oldest);
    }
    this.#plans.set(key, plan);
    return plan;
  }

  allocShards(shardBytes: number): ShardSet {
    if (!Number.isInteger(shardBytes) || shardBytes < 0) {
      throw new RangeError(`Shard size must be a non-negative integer, got ${shardBytes}`);
    }
    return this.#core.allocShardSet(this.totalShards, shardBytes);
  }
}

const modules = new Map<WasmVariant, WebAssembly.Module>();
const cores = new Map<WasmVariant, Core>();

function moduleBytes(v: WasmVariant): Uint8Array<ArrayBuffer> {
  return Deno.readFileSync(new URL(VARIANT_FILES[v], import.meta.url));
}

/** Instantiates (once) the given build; throws TypeError when this runtime cannot run it. */
export function loadVariant(variant: WasmVariant): WasmCore {
  const have = cores.get(variant);
  if (have !== undefined) return have;
  if (!(variant in VARIANT_FILES)) throw new TypeError(`Unknown WebAssembly core "${variant}"`);
  let mod = modules.get(variant);
  if (mod === undefined) {
    const bytes = moduleBytes(variant);
    if (!WebAssembly.validate(bytes)) {
      throw new TypeError(`This runtime cannot run the "${variant}" WebAssembly core`);
    }
    mod = new WebAssembly.Module(bytes);
    modules.set(variant, mod);
  }
  const core = new Core(mod);
  cores.set(variant, core);
  return core;
}

/** A core from arbitrary build bytes (kernel experiments and benchmarks of unreleased builds). */
export function coreFromBytes(bytes: Uint8Array<ArrayBuffer>): WasmCore {
  return new Core(new WebAssembly.Module(bytes));
}

/** The builds this runtime validates, best first. */
export function availableVariants(): WasmVariant[] {
  return (["relaxed-simd", "simd128", "scalar"] as const).filter((v) => {
    try {
      return WebAssembly.validate(moduleBytes(v));
    } catch {
      return false;
    }
  });
}

async function loadBest(): Promise<WasmCore> {
  for (const v of ["relaxed-simd", "simd128", "scalar"] as const) {
    const bytes = await Deno.readFile(new URL(VARIANT_FILES[v], import.meta.url));
    if (!WebAssembly.validate(bytes)) continue;
    const mod = await WebAssembly.compile(bytes);
    modules.set(v, mod);
    return loadVariant(v);
  }
  throw new TypeError("No WebAssembly core build validates in this runtime");
}

/** The best build this runtime runs; every export of mod.ts is bound to it. */
export const bestCore: WasmCore = await loadBest();
