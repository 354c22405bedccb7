/**
 * A fault-injecting Drive: wraps any Drive and, driven by a seeded generator, makes calls fail the
 * ways real drives fail. With every rate at 0 it is a transparent wrapper (the conformance suite
 * checks that); tests of the layers above turn faults on per drive.
 *
 * How this works
 * - Each call draws from one xorshift generator seeded by `seed`, so one seed gives one fault
 *   schedule for a given order of calls (the layers above issue calls in a stable order on
 *   memory drives, so a seed replays).
 * - Faults, each with its own rate (probability per eligible call):
 *   `ioError` any call throws DriveOffline (EIO); `noSpace` a write throws DriveOffline (ENOSPC)
 *   before storing anything; `tornWrite` writeFile leaves a prefix of the new bytes at the target
 *   (a drive that does not honour rename atomicity) and throws; `shortWrite` a streamed write
 *   silently stores only a prefix of its chunk and reports success (a lying drive); `lostSync`
 *   a durable write (writeFile, FileWriter.close) reports success but is undone by `crash()`
 *   (an fsync the drive did not honour); `latencyMs` adds a random delay to every call;
 *   `bitFlip` a read returns its bytes with one random bit flipped (the stored bytes stay right).
 * - `offline = true` makes every call fail, `counts` tells how many faults of each kind fired.
 */
import type { DirEntry, Drive, DriveSpace, FileReader, FileWriter } from "./drive.ts";
import { DriveOffline } from "./drive.ts";

export interface FaultRates {
  ioError?: number;
  noSpace?: number;
  tornWrite?: number;
  shortWrite?: number;
  lostSync?: number;
  bitFlip?: number;
  /** Added to every call: a delay drawn uniformly from [min, max] milliseconds. */
  latencyMs?: [number, number];
}

export type FaultKind = Exclude<keyof FaultRates, "latencyMs">;

export const FAULT_KINDS: readonly FaultKind[] = [
  "ioError",
  "noSpace",
  "tornWrite",
  "shortWrite",
  "lostSync",
  "bitFlip",
];

/** A file's content before a write whose fsync was lost (undefined: it did not exist). */
interface Undo {
  path: string;
  before: Uint8Array | undefined;
}

export class FaultyDrive implements Drive {
  readonly path: string;
  rates: FaultRates;
  /** When set, every call fails as if the drive were unplugged. */
  offline = false;
  readonly counts: Record<FaultKind, number> = {
    ioError: 0,
    noSpace: 0,
    tornWrite: 0,
    shortWrite: 0,
    lostSync: 0,
    bitFlip: 0,
  };
  #x: number;
  readonly #undo: Undo[] = [];

  constructor(readonly inner: Drive, opts: { seed: number; rates?: FaultRates }) {
    this.path = inner.path;
    this.rates = opts.rates ?? {};
    this.#x = (opts.seed >>> 0) || 1;
  }

  /** Faults injected so far, all kinds together. */
  get injected(): number {
    return FAULT_KINDS.reduce((n, k) => n + this.counts[k], 0);
  }

  #next(): number {
    let x = this.#x;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#x = x >>> 0;
    return this.#x / 2 ** 32;
  }

  #fires(kind: FaultKind): boolean {
    const rate = this.rates[kind] ?? 0;
    if (rate <= 0 || this.#next() >= rate) return false;
    this.counts[kind]++;
    return true;
  }

  /** Latency, unplugged drive and EIO: the faults every call can meet. */
  async #enter(rel: string): Promise<void> {
    const lat = this.rates.latencyMs;
    if (lat !== undefined) {
      const ms = lat[0] + this.#next() * (lat[1] - lat[0]);
      await new Promise((r) => setTimeout(r, ms));
    }
    if (this.offline) throw new DriveOffline(`Drive "${this.path}" is offline`, this.path, rel);
    if (this.#fires("ioError")) {
      throw new DriveOffline(
        `Drive "${this.path}" failed on "${rel}": EIO (injected)`,
        this.path,
        rel,
      );
    }
  }

  #checkSpace(rel: string): void {
    if (this.#fires("noSpace")) {
      throw new DriveOffline(
        `Drive "${this.path}" failed on "${rel}": ENOSPC, no space left on device (injected)`,
        this.path,
        rel,
      );
    }
  }

  #flip(bytes: Uint8Array): Uint8Array {
    if (bytes.length === 0 || !this.#fires("bitFlip")) return bytes;
    const out = bytes.slice();
    const bit = Math.floor(this.#next() * out.length * 8);
    out[bit >>> 3]! ^= 1 << (bit & 7);
    return out;
  }

  async #remember(rel: string): Promise<void> {
    const before = await this.inner.tryReadFile(rel, Number.MAX_SAFE_INTEGER).catch(() =>
      undefined
    );
    this.#undo.push({ path: rel, before });
  }

  /**
   * A power loss: every write whose fsync was lost is undone (the file goes back to what it held
   * before, or disappears). Returns how many writes were undone.
   */
  async crash(): Promise<number> {
    const undo = this.#undo.splice(0).reverse();
    for (const u of undo) {
      if (u.before === undefined) await this.inner.remove(u.path).catch(() => {});
      else await this.inner.writeFile(u.path, u.before).catch(() => {});
    }
    return undo.length;
  }

  async space(): Promise<DriveSpace> {
    await this.#enter("");
    return await this.inner.space();
  }

  async probe(): Promise<"ok" | "missing" | "unreadable"> {
    if (this.offline) return "unreadable";
    return await this.inner.probe();
  }

  async init(): Promise<void> {
    await this.#enter("");
    await this.inner.init();
  }

  async readFile(rel: string, maxBytes: number): Promise<Uint8Array> {
    await this.#enter(rel);
    return this.#flip(await this.inner.readFile(rel, maxBytes));
  }

  async tryReadFile(rel: string, maxBytes: number): Promise<Uint8Array | undefined> {
    await this.#enter(rel);
    const b = await this.inner.tryReadFile(rel, maxBytes);
    return b === undefined ? undefined : this.#flip(b);
  }

  async writeFile(rel: string, data: Uint8Array): Promise<void> {
    await this.#enter(rel);
    this.#checkSpace(rel);
    if (this.#fires("tornWrite")) {
      const keep = Math.floor(this.#next() * data.length);
      await this.inner.writeFile(rel, data.subarray(0, keep));
      throw new DriveOffline(
        `Drive "${this.path}" failed on "${rel}": torn write, ${keep} of ${data.length} bytes (injected)`,
        this.path,
        rel,
      );
    }
    const lost = this.#fires("lostSync");
    if (lost) await this.#remember(rel);
    await this.inner.writeFile(rel, data);
  }

  async createFile(rel: string): Promise<FileWriter> {
    await this.#enter(rel);
    this.#checkSpace(rel);
    const w = await this.inner.createFile(rel);
    return {
      write: async (chunk: Uint8Array) => {
        await this.#enter(rel);
        this.#checkSpace(rel);
        if (chunk.length > 0 && this.#fires("shortWrite")) {
          await w.write(chunk.subarray(0, Math.floor(this.#next() * chunk.length)));
          return;
        }
        await w.write(chunk);
      },
      close: async () => {
        await this.#enter(rel);
        if (this.#fires("lostSync")) this.#undo.push({ path: rel, before: undefined });
        await w.close();
      },
      abort: () => w.abort(),
    };
  }

  async openFile(rel: string): Promise<FileReader> {
    await this.#enter(rel);
    const r = await this.inner.openFile(rel);
    return {
      size: () => r.size(),
      readAt: async (offset: number, length: number) => {
        await this.#enter(rel);
        return this.#flip(await r.readAt(offset, length));
      },
      readInto: async (offset: number, into: Uint8Array) => {
        await this.#enter(rel);
        const n = await r.readInto(offset, into);
        const read = into.subarray(0, n);
        const flipped = this.#flip(read);
        if (flipped !== read) read.set(flipped);
        return n;
      },
      close: () => r.close(),
    };
  }

  async rename(from: string, to: string): Promise<void> {
    await this.#enter(from);
    await this.inner.rename(from, to);
    // A lost write moves with its file (the data directory of a commit).
    for (const u of this.#undo) {
      if (u.path === from || u.path.startsWith(`${from}/`)) u.path = to + u.path.slice(from.length);
    }
  }

  async remove(rel: string, opts?: { pruneTo?: string; sync?: boolean }): Promise<void> {
    await this.#enter(rel);
    await this.inner.remove(rel, opts);
  }

  async list(rel: string): Promise<DirEntry[]> {
    await this.#enter(rel);
    return await this.inner.list(rel);
  }

  async stat(rel: string): Promise<{ isDir: boolean; size: number } | undefined> {
    await this.#enter(rel);
    return await this.inner.stat(rel);
  }

  async makeDir(rel: string): Promise<void> {
    await this.#enter(rel);
    this.#checkSpace(rel);
    await this.inner.makeDir(rel);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
