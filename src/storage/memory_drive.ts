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
  /** Directory path -> names of its entries (files and directories). */
  readonly #dirs = new Map<string, Set<string>>();
  #exists: boolean;
  /** When set, every call fails as if the drive were unplugged. */
  offline = false;

  constructor(readonly path: string, opts: { exists?: boolean } = {}) {
    this.#exists = opts.exists ?? true;
    if (this.#exists) this.#dirs.set("", new Set());
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
  #base(rel: string): string {
    return rel.slice(rel.lastIndexOf("/") + 1);
  }
  #join(dir: string, name: string): string {
    return dir === "" ? name : `${dir}/${name}`;
  }
  #mkdirp(rel: string): void {
    if (this.#files.has(rel)) {
      throw new DriveOffline(`Not a directory "${rel}" on "${this.path}"`, this.path, rel);
    }
    if (this.#dirs.has(rel)) return;
    const parent = parentOf(rel);
    this.#mkdirp(parent);
    this.#dirs.set(rel, new Set());
    this.#dirs.get(parent)!.add(this.#base(rel));
  }
  #putFile(rel: string, data: Uint8Array): void {
    if (this.#dirs.has(rel)) throw new DriveOffline(`Is a directory "${rel}"`, this.path, rel);
    const parent = parentOf(rel);
    this.#mkdirp(parent);
    this.#files.set(rel, data);
    this.#dirs.get(parent)!.add(this.#base(rel));
  }
  #detach(rel: string): void {
    this.#dirs.get(parentOf(rel))?.delete(this.#base(rel));
  }
  #removeTree(rel: string): void {
    if (this.#files.delete(rel)) {
      this.#detach(rel);
      return;
    }
    const children = this.#dirs.get(rel);
    if (children === undefined || rel === "") return;
    for (const c of [...children]) this.#removeTree(this.#join(rel, c));
    this.#dirs.delete(rel);
    this.#detach(rel);
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
      return { totalBytes: total, freeBytes: Math.max(0, total - used) };
    });
  }
  probe(): Promise<"ok" | "missing" | "unreadable"> {
    if (this.offline) return Promise.resolve("unreadable");
    return Promise.resolve(this.#exists ? "ok" : "missing");
  }
  init(): Promise<void> {
    return this.#wrap(() => {
      if (this.offline) throw new DriveOffline(`Drive "${this.path}" is offline`, this.path);
      this.#exists = true;
      if (!this.#dirs.has("")) this.#dirs.set("", new Set());
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
      return f.slice();
    });
  }
  tryReadFile(rel: string, maxBytes: number): Promise<Uint8Array | undefined> {
    return this.#wrap(() => {
      this.#check(rel);
      const f = this.#files.get(rel);
      if (f === undefined) return undefined;
      if (f.length > maxBytes) {
        throw new FileTooLarge(`File "${rel}" on "${this.path}" is ${f.length} bytes`, this.path);
      }
      return f.slice();
    });
  }
  writeFile(rel: string, data: Uint8Array): Promise<void> {
    return this.#wrap(() => {
      this.#check(rel);
      this.#putFile(rel, data.slice());
    });
  }
  createFile(rel: string): Promise<FileWriter> {
    return this.#wrap(() => {
      this.#check(rel);
      this.#putFile(rel, new Uint8Array(0));
      const chunks: Uint8Array[] = [];
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
        if (this.#files.has(rel)) this.#files.set(rel, out);
      };
      return {
        write: (chunk: Uint8Array) =>
          this.#wrap(() => {
            this.#check(rel);
            if (done) throw new Error("Write after close");
            chunks.push(chunk.slice());
          }),
        close: () =>
          this.#wrap(() => {
            this.#check(rel);
            if (!done) flush();
            done = true;
          }),
        abort: () =>
          this.#wrap(() => {
            done = true;
            if (this.#files.has(rel)) this.#removeTree(rel);
          }),
      };
    });
  }
  openFile(rel: string): Promise<FileReader> {
    return this.#wrap(() => {
      this.#check(rel);
      const f = this.#files.get(rel);
      if (f === undefined) this.#notFound(rel);
      return {
        size: () => Promise.resolve(f.length),
        readAt: (offset: number, length: number) =>
          this.#wrap(() => {
            this.#check(rel);
            return f.slice(offset, Math.min(f.length, offset + length));
          }),
        readInto: (offset: number, into: Uint8Array) =>
          this.#wrap(() => {
            this.#check(rel);
            const bytes = f.subarray(offset, Math.min(f.length, offset + into.length));
            into.set(bytes);
            return bytes.length;
          }),
        close: () => {},
      };
    });
  }
  rename(from: string, to: string): Promise<void> {
    return this.#wrap(() => {
      this.#check(from);
      this.#check(to);
      const file = this.#files.get(from);
      if (file !== undefined) {
        if (this.#dirs.has(to)) throw new DriveOffline(`Is a directory "${to}"`, this.path, to);
        this.#removeTree(from);
        this.#putFile(to, file);
        return;
      }
      const children = this.#dirs.get(from);
      if (children === undefined) this.#notFound(from);
      if (this.#files.has(to)) throw new DriveOffline(`Not a directory "${to}"`, this.path, to);
      const existing = this.#dirs.get(to);
      if (existing !== undefined && existing.size > 0) {
        throw new DriveOffline(`Directory not empty "${to}"`, this.path, to);
      }
      // Collect the subtree, then re-create it under `to`.
      const files: Array<[string, Uint8Array]> = [];
      const dirs: string[] = [];
      const collect = (d: string) => {
        dirs.push(d);
        for (const c of this.#dirs.get(d)!) {
          const p = this.#join(d, c);
          const f = this.#files.get(p);
          if (f !== undefined) files.push([p, f]);
          else collect(p);
        }
      };
      collect(from);
      this.#removeTree(from);
      const move = (p: string) => to + p.slice(from.length);
      for (const d of dirs) this.#mkdirp(move(d));
      for (const [p, f] of files) this.#putFile(move(p), f);
    });
  }
  remove(rel: string, opts: { pruneTo?: string; sync?: boolean } = {}): Promise<void> {
    return this.#wrap(() => {
      this.#check(rel);
      this.#removeTree(rel);
      if (opts.pruneTo === undefined) return;
      let dir = parentOf(rel);
      while (dir !== opts.pruneTo && dir.length > opts.pruneTo.length) {
        const children = this.#dirs.get(dir);
        if (children !== undefined) {
          if (children.size > 0) return;
          this.#dirs.delete(dir);
          this.#detach(dir);
        }
        dir = parentOf(dir);
      }
    });
  }
  list(rel: string): Promise<DirEntry[]> {
    return this.#wrap(() => {
      this.#check(rel);
      const children = this.#dirs.get(rel);
      if (children === undefined) this.#notFound(rel);
      return [...children].map((name) => ({
        name,
        isDir: this.#dirs.has(this.#join(rel, name)),
      }));
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
    });
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}
