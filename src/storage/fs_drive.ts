/**
 * A drive on a local file system: the only code in Shale that touches data directories, and the
 * one implementation of durable writes (temp file, write, fdatasync, rename, fsync the directory;
 * the temp is removed on failure). Nothing else renames data.
 */
import { lazy } from "../util/lazy.ts";
import {
  checkPath,
  type DirEntry,
  type Drive,
  DriveOffline,
  type DriveSpace,
  FileNotFound,
  type FileReader,
  FileTooLarge,
  type FileWriter,
  parentOf,
} from "./drive.ts";
import { TMP_DIR } from "./key_path.ts";
import { SMALL_READ_BYTES, WRITEBACK_BYTES } from "../config/limits.ts";

// Free space is asked for by metrics and health, never at start-up: node:fs costs ~15 ms to load.
const nodeFs = lazy(() => import("node:fs/promises"));

export class FsDrive implements Drive {
  readonly #root: string;
  constructor(readonly path: string) {
    this.#root = path.replace(/\/+$/, "") || "/";
  }

  #abs(rel: string): string {
    checkPath(this.path, rel);
    return rel === "" ? this.#root : `${this.#root}/${rel}`;
  }

  #error(e: unknown, rel: string): Error {
    if (e instanceof FileNotFound || e instanceof DriveOffline || e instanceof FileTooLarge) {
      return e;
    }
    const notDir = e instanceof Error && (e as { code?: string }).code === "ENOTDIR";
    if (e instanceof Deno.errors.NotFound || notDir) {
      // A vanished drive root (unmounted, deleted) is an offline drive, not a missing file.
      try {
        if (!Deno.statSync(this.#root).isDirectory) throw new Error("not a directory");
      } catch {
        return new DriveOffline(
          `Drive "${this.path}" is gone (its root is missing)`,
          this.path,
          rel,
        );
      }
      return new FileNotFound(`File not found "${rel}" on "${this.path}"`, this.path, rel);
    }
    const msg = e instanceof Error ? e.message : String(e);
    return new DriveOffline(`Drive "${this.path}" failed on "${rel}": ${msg}`, this.path, rel);
  }

  async space(): Promise<DriveSpace> {
    try {
      const { statfs } = await nodeFs();
      const s = await statfs(this.#root);
      return { totalBytes: s.blocks * s.bsize, freeBytes: s.bavail * s.bsize };
    } catch (e) {
      throw this.#error(e, "");
    }
  }

  async probe(): Promise<"ok" | "missing" | "unreadable"> {
    try {
      const st = await Deno.stat(this.#root);
      if (!st.isDirectory) return "unreadable";
      // Reading the directory proves permissions (stat alone succeeds on a chmod 000 directory).
      for await (const _ of Deno.readDir(this.#root)) break;
      return "ok";
    } catch (e) {
      return e instanceof Deno.errors.NotFound ? "missing" : "unreadable";
    }
  }

  async init(): Promise<void> {
    try {
      await Deno.mkdir(this.#root, { recursive: true });
    } catch (e) {
      throw this.#error(e, "");
    }
  }

  async readFile(rel: string, maxBytes: number): Promise<Uint8Array> {
    const abs = this.#abs(rel);
    let file: Deno.FsFile | undefined;
    try {
      file = await Deno.open(abs, { read: true });
      // Most files read whole are small records: one read into a small buffer gets all of a
      // regular file shorter than it (read(2) on a local file is short only at its end; records
      // carry their length and a digest besides). Larger files are sized first and bounded.
      const first = new Uint8Array(Math.min(SMALL_READ_BYTES, maxBytes + 1));
      let got: number | null;
      try {
        got = await file.read(first);
      } catch (e) {
        const isDir = e instanceof Error && (e as { code?: string }).code === "EISDIR";
        throw isDir ? new Deno.errors.NotFound(`Not a file: ${rel}`) : e;
      }
      if (got === null) return new Uint8Array(0);
      if (got < first.length) return first.slice(0, got);
      const { size, isFile } = await file.stat();
      if (!isFile) throw new Deno.errors.NotFound(`Not a file: ${rel}`);
      if (size > maxBytes) {
        throw new FileTooLarge(`File "${rel}" on "${this.path}" is ${size} bytes`, this.path, rel);
      }
      const buf = new Uint8Array(size);
      buf.set(first.subarray(0, Math.min(got, size)));
      let off = Math.min(got, size);
      while (off < size) {
        const n = await file.read(buf.subarray(off));
        if (n === null) break;
        off += n;
      }
      return off === size ? buf : buf.slice(0, off);
    } catch (e) {
      throw this.#error(e, rel);
    } finally {
      file?.close();
    }
  }

  async tryReadFile(rel: string, maxBytes: number): Promise<Uint8Array | undefined> {
    try {
      return await this.readFile(rel, maxBytes);
    } catch (e) {
      if (e instanceof FileNotFound) return undefined;
      throw e;
    }
  }

  async writeFile(rel: string, data: Uint8Array): Promise<void> {
    const abs = this.#abs(rel);
    const tmpRel = `${TMP_DIR}/${crypto.randomUUID()}.w`;
    const tmpAbs = this.#abs(tmpRel);
    try {
      await this.#ensureDir(parentOf(rel));
      await this.#ensureDir(TMP_DIR);
      const file = await Deno.open(tmpAbs, { write: true, createNew: true });
      try {
        let off = 0;
        while (off < data.length) off += await file.write(data.subarray(off));
        await file.syncData();
      } finally {
        file.close();
      }
      await Deno.rename(tmpAbs, abs);
      await this.#syncDir(parentOf(rel));
    } catch (e) {
      await Deno.remove(tmpAbs).catch(() => {});
      throw this.#error(e, rel);
    }
  }

  async createFile(rel: string): Promise<FileWriter> {
    const abs = this.#abs(rel);
    let file: Deno.FsFile;
    try {
      await this.#ensureDir(parentOf(rel));
      file = await Deno.open(abs, { write: true, create: true, truncate: true });
    } catch (e) {
      throw this.#error(e, rel);
    }
    let closed = false;
    const toError = (e: unknown) => this.#error(e, rel);
    // Early writeback: every WRITEBACK_BYTES an fdatasync runs in the background on a second
    // handle (at most one at a time), so the disk writes while the next blocks are encoded instead
    // of all at close. It only starts writeback early: close() still fdatasyncs the writing handle,
    // which reports any writeback error (Linux reports it to every handle opened before it).
    let unsynced = 0;
    let syncer: Deno.FsFile | undefined;
    let syncing: Promise<void> | undefined;
    const writeback = () => {
      unsynced = 0;
      syncing = (async () => {
        syncer ??= await Deno.open(abs, { read: true });
        await syncer.syncData();
      })().catch(() => {}).finally(() => syncing = undefined);
    };
    const closeSyncer = async () => {
      await syncing;
      syncer?.close();
      syncer = undefined;
    };
    return {
      async write(chunk: Uint8Array): Promise<void> {
        try {
          let off = 0;
          while (off < chunk.length) off += await file.write(chunk.subarray(off));
        } catch (e) {
          throw toError(e);
        }
        unsynced += chunk.length;
        if (unsynced >= WRITEBACK_BYTES && syncing === undefined && !closed) writeback();
      },
      close: async (): Promise<void> => {
        try {
          await closeSyncer();
          await file.syncData();
          // The new file's directory entry must be durable too, not only its bytes.
          await this.#syncDir(parentOf(rel));
        } catch (e) {
          throw toError(e);
        } finally {
          if (!closed) file.close();
          closed = true;
        }
      },
      async abort(): Promise<void> {
        await closeSyncer().catch(() => {});
        if (!closed) {
          closed = true;
          try {
            file.close();
          } catch { /* already closed */ }
        }
        await Deno.remove(abs).catch(() => {});
      },
    };
  }

  async openFile(rel: string): Promise<FileReader> {
    const abs = this.#abs(rel);
    let file: Deno.FsFile;
    try {
      // No stat here: a GET opens k shard files and never needs their sizes (reads stop at the
      // end of the file); the fstat was 5% of a 1 MiB GET's CPU. A directory fails on read.
      file = await Deno.open(abs, { read: true });
    } catch (e) {
      throw this.#error(e, rel);
    }
    let size: Promise<number> | undefined;
    // Reads are serialised: seek + read on one handle must not interleave.
    let chain: Promise<unknown> = Promise.resolve();
    let position = 0;
    let closed = false;
    const toError = (e: unknown) => this.#error(e, rel);
    const readInto = (offset: number, into: Uint8Array): Promise<number> => {
      const run = async () => {
        try {
          // Streams read a shard file front to back: seek only when not already there.
          if (offset !== position) {
            position = -1; // unknown until the seek succeeds
            await file.seek(offset, Deno.SeekMode.Start);
            position = offset;
          }
          let off = 0;
          try {
            while (off < into.length) {
              const n = await file.read(into.subarray(off));
              if (n === null) break;
              off += n;
            }
          } catch (e) {
            position = -1;
            throw e;
          }
          position += off;
          return off;
        } catch (e) {
          throw toError(e);
        }
      };
      const p = chain.then(run, run);
      chain = p.catch(() => {});
      return p;
    };
    return {
      size: () =>
        size ??= file.stat().then((st) => {
          if (!st.isFile) throw new Deno.errors.NotFound(`Not a file: ${rel}`);
          return st.size;
        }).catch((e) => {
          throw toError(e);
        }),
      readInto,
      async readAt(offset: number, length: number): Promise<Uint8Array> {
        const buf = new Uint8Array(Math.max(0, length));
        const n = await readInto(offset, buf);
        return n === buf.length ? buf : buf.subarray(0, n);
      },
      close(): void {
        if (closed) return;
        closed = true;
        chain.finally(() => file.close()).catch(() => {});
      },
    };
  }

  async rename(from: string, to: string): Promise<void> {
    const absFrom = this.#abs(from);
    const absTo = this.#abs(to);
    try {
      await this.#ensureDir(parentOf(to));
      try {
        await Deno.rename(absFrom, absTo);
      } catch (e) {
        // A concurrent prune of empty directories may have removed the parent: once more.
        if (!(e instanceof Deno.errors.NotFound) || await this.stat(from) === undefined) throw e;
        await this.#ensureDir(parentOf(to));
        await Deno.rename(absFrom, absTo);
      }
      await this.#syncDir(parentOf(to));
      if (parentOf(from) !== parentOf(to)) await this.#syncDir(parentOf(from));
    } catch (e) {
      throw this.#error(e, from);
    }
  }

  async remove(rel: string, opts: { pruneTo?: string; sync?: boolean } = {}): Promise<void> {
    let removed = true;
    try {
      await Deno.remove(this.#abs(rel), { recursive: true });
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw this.#error(e, rel);
      removed = false;
    }
    let dir = parentOf(rel);
    if (opts.pruneTo !== undefined) {
      while (dir !== opts.pruneTo && dir.length > opts.pruneTo.length) {
        try {
          await Deno.remove(this.#abs(dir)); // only succeeds when empty
        } catch {
          break;
        }
        removed = true;
        dir = parentOf(dir);
      }
    }
    // The unlinks are durable once the deepest directory left is: one fsync covers them all.
    if (!(opts.sync ?? removed)) return;
    try {
      await this.#syncDir(dir);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw this.#error(e, dir);
    }
  }

  async list(rel: string): Promise<DirEntry[]> {
    const abs = this.#abs(rel);
    const out: DirEntry[] = [];
    try {
      for await (const e of Deno.readDir(abs)) out.push({ name: e.name, isDir: e.isDirectory });
    } catch (e) {
      if (e instanceof Error && (e as { code?: string }).code === "ENOTDIR") {
        throw this.#error(new Deno.errors.NotFound("Not a directory"), rel);
      }
      throw this.#error(e, rel);
    }
    return out;
  }

  async stat(rel: string): Promise<{ isDir: boolean; size: number } | undefined> {
    try {
      const st = await Deno.stat(this.#abs(rel));
      return { isDir: st.isDirectory, size: st.size };
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return undefined;
      if (e instanceof Error && (e as { code?: string }).code === "ENOTDIR") return undefined;
      throw this.#error(e, rel);
    }
  }

  async makeDir(rel: string): Promise<void> {
    try {
      await this.#ensureDir(rel);
    } catch (e) {
      throw this.#error(e, rel);
    }
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  /**
   * mkdir -p where each directory created is made durable in its parent. mkdir comes first, not
   * stat: writes mostly go to fresh directories (a temp dir per write, new keys), and a failed
   * stat costs a thrown error in Deno as a failed mkdir does.
   */
  async #ensureDir(rel: string): Promise<void> {
    const abs = this.#abs(rel);
    if (rel === "") {
      const st = await Deno.stat(abs).catch((e) => {
        if (e instanceof Deno.errors.NotFound) return undefined;
        throw e;
      });
      if (st?.isDirectory) return;
      throw new Deno.errors.NotFound(`Drive root "${this.path}" is missing`);
    }
    try {
      await Deno.mkdir(abs);
    } catch (e) {
      if (e instanceof Deno.errors.AlreadyExists) return;
      if (!(e instanceof Deno.errors.NotFound)) throw e;
      await this.#ensureDir(parentOf(rel));
      try {
        await Deno.mkdir(abs);
      } catch (e2) {
        if (e2 instanceof Deno.errors.AlreadyExists) return;
        throw e2;
      }
    }
    await this.#syncDir(parentOf(rel));
  }

  async #syncDir(rel: string): Promise<void> {
    const dir = await Deno.open(this.#abs(rel), { read: true });
    try {
      await dir.sync();
    } finally {
      dir.close();
    }
  }
}
