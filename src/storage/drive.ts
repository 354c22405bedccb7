/**
 * The Drive interface: everything the layers above know about a drive. Async, no shared memory,
 * paths relative to the drive root with `/` separators, idempotent where it can be (remove,
 * makeDir). A remote drive (distributed mode) and a fault-injecting drive (issue 5) implement the
 * same interface and run the same conformance suite (drive_conformance.ts).
 */

export interface DriveSpace {
  totalBytes: number;
  freeBytes: number;
}

export interface DirEntry {
  name: string;
  isDir: boolean;
}

/** A file being written; `close` makes it durable (fdatasync) before resolving. */
export interface FileWriter {
  write(chunk: Uint8Array): Promise<void>;
  close(): Promise<void>;
  /** Closes and removes the partial file; safe to call twice or after close. */
  abort(): Promise<void>;
}

/** A file open for positional reads. */
export interface FileReader {
  /** The file's size (asked of the file system on first use: opening does not stat). */
  size(): Promise<number>;
  /** Reads `length` bytes at `offset`; fewer only when the file ends first. */
  readAt(offset: number, length: number): Promise<Uint8Array>;
  /**
   * Reads the bytes at `offset` into `into` (as many as it holds); returns how many, fewer only
   * when the file ends first. Lets a reader place bytes where they are used, with no new buffer.
   */
  readInto(offset: number, into: Uint8Array): Promise<number>;
  close(): void;
}

export interface Drive {
  /** How people name this drive (its path or URL): used in messages. */
  readonly path: string;
  /** Throws DriveOffline when the drive root cannot be used. */
  space(): Promise<DriveSpace>;
  /** True when the drive root exists and is a readable, writable directory. */
  probe(): Promise<"ok" | "missing" | "unreadable">;
  /** Creates the drive root (first format). */
  init(): Promise<void>;

  /** Whole-file read (records); FileNotFound when absent, FileTooLarge above `maxBytes`. */
  readFile(path: string, maxBytes: number): Promise<Uint8Array>;
  /** As readFile, but an absent file (or parent) is `undefined`: the cheap path for probes. */
  tryReadFile(path: string, maxBytes: number): Promise<Uint8Array | undefined>;
  /**
   * Durable replace: temp file, write, fdatasync, rename over `path`, fsync the directory. Parent
   * directories are created (and made durable) as needed. Readers see old or new, never a mix.
   */
  writeFile(path: string, data: Uint8Array): Promise<void>;
  /** Creates (truncates) a file for streaming writes, creating parents. For temp files only. */
  createFile(path: string): Promise<FileWriter>;
  openFile(path: string): Promise<FileReader>;
  /**
   * Moves a file or directory to `to` (replacing a file or an empty directory there), creating
   * parents; durable (both directories fsynced) when it resolves.
   */
  rename(from: string, to: string): Promise<void>;
  /**
   * Removes a file or a directory tree; absent is fine. `pruneTo` also removes parents that became
   * empty, up to but not including the directory `pruneTo`. Durable when it resolves (the deepest
   * directory left is fsynced) if anything was removed; `sync: false` skips that fsync (a later
   * call with `sync: true`, which always fsyncs, makes the earlier unlinks durable with it).
   */
  remove(path: string, opts?: { pruneTo?: string; sync?: boolean }): Promise<void>;
  /** Entries of a directory, unsorted; FileNotFound when it is absent. */
  list(path: string): Promise<DirEntry[]>;
  stat(path: string): Promise<{ isDir: boolean; size: number } | undefined>;
  /** mkdir -p, durable. */
  makeDir(path: string): Promise<void>;
  close(): Promise<void>;
}

/** Base of errors drives throw. */
export class DriveError extends Error {
  readonly drive: string;
  readonly path: string | undefined;
  constructor(message: string, drive: string, path?: string) {
    // Missing files are ordinary control flow (listings probe for records): skip the stack
    // trace, which costs more than the lookup itself.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
    this.drive = drive;
    this.path = path;
    this.name = new.target.name;
  }
}
/** The file or directory does not exist on this drive. */
export class FileNotFound extends DriveError {}
/** The file is larger than the caller allows. */
export class FileTooLarge extends DriveError {}
/** The drive failed (I/O error, permission, full, unmounted): treat it as offline for this call. */
export class DriveOffline extends DriveError {}

/** Checks a relative path: non-empty `/`-separated segments, no `.`/`..`, no NUL. */
export function checkPath(drive: string, path: string): void {
  if (path === "") return;
  for (const seg of path.split("/")) {
    if (seg === "" || seg === "." || seg === ".." || seg.includes("\0")) {
      throw new RangeError(`Invalid drive path "${path}" on "${drive}"`);
    }
  }
}

export function parentOf(path: string): string {
  const i = path.lastIndexOf("/");
  return i < 0 ? "" : path.slice(0, i);
}
