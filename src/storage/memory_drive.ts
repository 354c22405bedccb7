/**
 * A drive held in memory, with the same semantics as FsDrive (the conformance suite checks it):
 * for tests of the layers above and as the base of the fault-injecting drive.
 */
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

export class MemoryDrive implements Drive {
  readonly #files = new Map<string, Uint8Array>();
  readonly #dirs = new Set<string>();
  #exists: boolean;
  /** When set, every call fails as if the drive were unplugged. */
  offline = false;

  constructor(readonly path: string, opts: { exists?: boolean } = {}) {
    this.#exists = opts.exists ?? true;
    if (this.#exists) this.#dirs.add("");
  }

  #check(rel: string): void {
    checkPath(this.path, rel);
    if (this.offline) throw new DriveOffline(`Drive "${this.path}" is offline`, this.path, rel);
    if (!this.#exists) {
      throw new FileNotFound(`Drive root "${this.path}" is missing`, this.path, rel);
    }
  }
  #notFound(rel: string): never {
    throw new FileNotFound(`File not found "${rel}" on "${this.path}"`, this.path, rel);
  }
  #mkdirp(rel: string): void {
    if (this.#files.has(rel)) {
      throw new DriveOffline(`Not a directory "${rel}" on "${this.path}"`, this.path, rel);
    }
    if (this.#dirs.has(rel)) return;
    this.#mkdirp(parentOf(rel));
    this.#dirs.add(rel);
  }
  #isUnder(p: string, dir: string): boolean {
    return dir === "" ? true : p === dir || p.startsWith(dir + "/");
  }

  #wrap<T>(fn: () => T | Promise<T>): Promise<T> {
    try {
      return Promise.resolve(fn());
    } catch (e) {
      return Promise.reject(e);
    }
  }

  space(): Promise<DriveSpace> {
    return this.#wrap(() => {
      this.#check("");
      let used = 0;
      for (const f of this.#files.values()) used += f.length;
      const total = 1 << 30;
      return ({ totalBytes: total, freeBytes: Math.max(0, total - used) });
    });
  }
  probe(): Promise<"ok" | "missing" | "unreadable"> {
    return this.#wrap(() => {
      if (this.offline) return "unreadable";
      return (this.#exists ? "ok" : "missing");
    });
  }
  init(): Promise<void> {
    return this.#wrap(() => {
      if (this.offline) throw new DriveOffline(`Drive "${this.path}" is offline`, this.path);
      this.#exists = true;
      this.#dirs.add("");
      return;
    });
  }
  readFile(rel: string, maxBytes: number): Promise<Uint8Array> {
    return this.#wrap(() => {
      this.#check(rel);
      const f = this.#files.get(rel);
      if (f === undefined) this.#notFound(rel);
      if (f.length > maxBytes) {
        throw new FileTooLarge(`File "${rel}" on "${this.path}" is ${f.length} bytes`, this.path);
      }
      return (f.slice());
    });
  }
  writeFile(rel: string, data: Uint8Array): Promise<void> {
    return this.#wrap(() => {
      this.#check(rel);
      if (this.#dirs.has(rel)) throw new DriveOffline(`Is a directory "${rel}"`, this.path, rel);
      this.#mkdirp(parentOf(rel));
      this.#files.set(rel, data.slice());
      return;
    });
  }
  createFile(rel: string): Promise<FileWriter> {
    return this.#wrap(() => {
      this.#check(rel);
      this.#mkdirp(parentOf(rel));
      const chunks: Uint8Array[] = [];
      this.#files.set(rel, new Uint8Array(0));
      let done = false;
      const flush = () => {
        let n = 0;
        for (const c of chunks) n += c.length;
        const out = new Uint8Array(n);
        let off = 0;
        for (const c of chunks) {
          out.set(c, off);
          off += c.length;
        }
        this.#files.set(rel, out);
      };
      return ({
        write: (chunk: Uint8Array) => {
          this.#check(rel);
          if (done) return Promise.reject(new Error("Write after close"));
          chunks.push(chunk.slice());
          return Promise.resolve();
        },
        close: () => {
          this.#check(rel);
          if (!done) flush();
          done = true;
          return Promise.resolve();
        },
        abort: () => {
          done = true;
          this.#files.delete(rel);
          return Promise.resolve();
        },
      });
    });
  }
  openFile(rel: string): Promise<FileReader> {
    return this.#wrap(() => {
      this.#check(rel);
      const f = this.#files.get(rel);
      if (f === undefined) this.#notFound(rel);
      return ({
        size: f.length,
        readAt: (offset: number, length: number) => {
          this.#check(rel);
          return Promise.resolve(f.slice(offset, Math.min(f.length, offset + length)));
        },
        close: () => {},
      });
    });
  }
  rename(from: string, to: string): Promise<void> {
    return this.#wrap(() => {
      this.#check(from);
      this.#check(to);
      const file = this.#files.get(from);
      if (file !== undefined) {
        if (this.#dirs.has(to)) throw new DriveOffline(`Is a directory "${to}"`, this.path, to);
        this.#mkdirp(parentOf(to));
        this.#files.delete(from);
        this.#files.set(to, file);
        return;
      }
      if (!this.#dirs.has(from)) this.#notFound(from);
      if (this.#files.has(to)) throw new DriveOffline(`Not a directory "${to}"`, this.path, to);
      if (this.#dirs.has(to)) {
        for (const p of [...this.#files.keys(), ...this.#dirs]) {
          if (p !== to && this.#isUnder(p, to)) {
            throw new DriveOffline(`Directory not empty "${to}"`, this.path, to);
          }
        }
      }
      this.#mkdirp(parentOf(to));
      const move = (p: string) => to + p.slice(from.length);
      for (const [p, data] of [...this.#files]) {
        if (this.#isUnder(p, from)) {
          this.#files.delete(p);
          this.#files.set(move(p), data);
        }
      }
      for (const d of [...this.#dirs]) {
        if (this.#isUnder(d, from)) {
          this.#dirs.delete(d);
          this.#dirs.add(move(d));
        }
      }
      return;
    });
  }
  remove(rel: string, opts: { pruneTo?: string } = {}): Promise<void> {
    return this.#wrap(() => {
      this.#check(rel);
      this.#files.delete(rel);
      if (this.#dirs.has(rel) && rel !== "") {
        for (const p of [...this.#files.keys()]) if (this.#isUnder(p, rel)) this.#files.delete(p);
        for (const d of [...this.#dirs]) if (this.#isUnder(d, rel)) this.#dirs.delete(d);
      }
      if (opts.pruneTo !== undefined) {
        let dir = parentOf(rel);
        while (dir !== opts.pruneTo && dir.length > opts.pruneTo.length) {
          if (!this.#dirs.has(dir)) {
            dir = parentOf(dir);
            continue;
          }
          for (const p of [...this.#files.keys(), ...this.#dirs]) {
            if (p !== dir && this.#isUnder(p, dir)) return;
          }
          this.#dirs.delete(dir);
          dir = parentOf(dir);
        }
      }
      return;
    });
  }
  list(rel: string): Promise<DirEntry[]> {
    return this.#wrap(() => {
      this.#check(rel);
      if (!this.#dirs.has(rel)) this.#notFound(rel);
      const prefix = rel === "" ? "" : rel + "/";
      const out: DirEntry[] = [];
      for (const p of this.#files.keys()) {
        if (p.startsWith(prefix) && !p.slice(prefix.length).includes("/")) {
          out.push({ name: p.slice(prefix.length), isDir: false });
        }
      }
      for (const d of this.#dirs) {
        if (d !== rel && d.startsWith(prefix) && !d.slice(prefix.length).includes("/")) {
          out.push({ name: d.slice(prefix.length), isDir: true });
        }
      }
      return out;
    });
  }
  stat(rel: string): Promise<{ isDir: boolean; size: number } | undefined> {
    return this.#wrap(() => {
      this.#check(rel);
      const f = this.#files.get(rel);
      if (f !== undefined) return { isDir: false, size: f.length };
      if (this.#dirs.has(rel)) return { isDir: true, size: 0 };
      return undefined;
    });
  }
  makeDir(rel: string): Promise<void> {
    return this.#wrap(() => {
      this.#check(rel);
      this.#mkdirp(rel);
      return;
    });
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}
