/**
 * Walking a bucket's keys in S3 order (UTF-8 bytes) on one drive, starting after a key, without
 * listing more than the directories on the way: each directory's entries are sorted once (and
 * cached per drive until the bucket changes), the walk starts with a binary search for `after`
 * and descends only into subtrees that can hold keys after it.
 */
import {
  LIST_CACHE_RECENT_WRITES_MAX,
  LIST_DIR_CACHE_ENTRIES_MAX,
  LIST_SCAN_BATCH_DIRS,
  METADATA_RECORD_BYTES_MAX,
} from "../config/limits.ts";
import {
  compareKeys,
  decodeName,
  type DirEntry,
  type Drive,
  FileNotFound,
  META_FILE,
  NAME_FILE,
  prefixDir,
} from "../storage/mod.ts";

export interface Candidate {
  /** The object key (`base + seg`) or the subtree prefix (`base + seg + "/"`). */
  key: string;
  seg: string;
  /** Directory entry name on disk. */
  name: string;
  subtree: boolean;
}

export interface WalkEntry {
  key: string;
  meta: Uint8Array;
}

/**
 * Sorted directory listings per drive, and which keys of each bucket changed since they were read.
 *
 * How this works
 * - Each bucket has a generation, bumped by every change of its keys (`touch`). The last
 *   LIST_CACHE_RECENT_WRITES_MAX changed keys, of all buckets together, are kept with the
 *   generation they made.
 * - Something read at generation g for a key prefix p (a directory's listing, p being the prefix
 *   of the keys below it; a listing snapshot of prefix p, `ListCache`) is still exact while no key
 *   starting with p changed after g (`unchangedSince`): a write under `checkpoints/` leaves the
 *   cached listings of `datasets/` alone. Every ancestor directory of a key has a prefix of the key
 *   as its p, so a write that adds or prunes directories invalidates each listing it changes.
 * - A change with no key (a bucket made or removed) makes everything the bucket had cached stale,
 *   and so does a change that leaves the kept window unseen: the bucket's floor moves to it.
 */
export class DirCache {
  readonly #generations = new Map<string, number>();
  /** Things cached before this generation of the bucket are stale. */
  readonly #floors = new Map<string, number>();
  /** The most recent changed keys, oldest first. */
  readonly #recent: Array<{ bucket: string; gen: number; key: string }> = [];
  readonly #entries = new Map<string, { gen: number; cands: Candidate[] }>();

  /** Bumped after every change to the bucket's keys. */
  generation(bucket: string): number {
    return this.#generations.get(bucket) ?? 0;
  }

  /** A change of `key` in `bucket` (of the whole bucket without a key). */
  touch(bucket: string, key?: string): void {
    const gen = this.generation(bucket) + 1;
    this.#generations.set(bucket, gen);
    if (key === undefined) {
      this.#floors.set(bucket, gen);
      return;
    }
    this.#recent.push({ bucket, gen, key });
    if (this.#recent.length > LIST_CACHE_RECENT_WRITES_MAX) {
      const old = this.#recent.shift()!;
      this.#floors.set(old.bucket, Math.max(this.#floors.get(old.bucket) ?? 0, old.gen));
    }
  }

  /** True when no key of `bucket` starting with `prefix` changed after generation `gen`. */
  unchangedSince(bucket: string, gen: number, prefix: string): boolean {
    if (gen < (this.#floors.get(bucket) ?? 0)) return false;
    if (gen === this.generation(bucket)) return true;
    for (let i = this.#recent.length - 1; i >= 0; i--) {
      const w = this.#recent[i]!;
      if (w.bucket !== bucket) continue;
      if (w.gen <= gen) break;
      if (w.key.startsWith(prefix)) return false;
    }
    return true;
  }

  async get(drive: Drive, bucket: string, dir: string, base: string): Promise<Candidate[]> {
    const gen = this.generation(bucket);
    const id = `${drive.path}\0${dir}`;
    const hit = this.#entries.get(id);
    if (hit !== undefined && this.unchangedSince(bucket, hit.gen, base)) {
      this.#entries.delete(id);
      this.#entries.set(id, hit);
      return hit.cands;
    }
    const cands = await buildCandidates(drive, dir, base);
    // Leaf key directories (no key segments below) are listed on every walk that passes them
    // but never cached: caching them would evict the large directories a paging walk reuses.
    if (cands.length === 0) return cands;
    this.#entries.set(id, { gen, cands });
    while (this.#entries.size > LIST_DIR_CACHE_ENTRIES_MAX) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
    return cands;
  }
}

async function buildCandidates(drive: Drive, dir: string, base: string): Promise<Candidate[]> {
  let entries;
  try {
    entries = await drive.list(dir);
  } catch (e) {
    if (e instanceof FileNotFound) return [];
    throw e;
  }
  const out: Candidate[] = [];
  for (const e of entries) {
    if (!e.isDir) continue;
    const d = decodeName(e.name);
    let seg: string;
    if (d.kind === "segment") seg = d.segment;
    else if (d.kind === "long") {
      try {
        seg = new TextDecoder().decode(await drive.readFile(`${dir}/${e.name}/${NAME_FILE}`, 4096));
      } catch {
        continue; // half-written long name: nothing committed below it yet
      }
    } else continue;
    out.push({ key: base + seg, seg, name: e.name, subtree: false });
    out.push({ key: base + seg + "/", seg, name: e.name, subtree: true });
  }
  out.sort((a, b) => compareKeys(a.key, b.key));
  return out;
}

export interface WalkOptions {
  bucket: string;
  prefix: string;
  /** Exclusive lower bound. */
  after: string;
  /** Keys starting with this are skipped (a common prefix already returned). */
  skip?: string;
}

/** Keys (with their metadata record bytes on this drive) in S3 order. */
export async function* walkDrive(
  drive: Drive,
  cache: DirCache,
  opts: WalkOptions,
): AsyncGenerator<WalkEntry> {
  const segs = opts.prefix.split("/");
  const partial = segs.pop()!;
  const base = segs.length > 0 ? segs.join("/") + "/" : "";
  yield* walkDir(drive, cache, opts, prefixDir(opts.bucket, segs), base, partial);
}

async function* walkDir(
  drive: Drive,
  cache: DirCache,
  opts: WalkOptions,
  dir: string,
  base: string,
  partial: string | undefined,
): AsyncGenerator<WalkEntry> {
  const cands = await cache.get(drive, opts.bucket, dir, base);
  const { after, skip } = opts;
  // First candidate after `after`; a subtree holding `after` sorts just before it.
  let lo = 0, hi = cands.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (compareKeys(cands[mid]!.key, after) > 0) hi = mid;
    else lo = mid + 1;
  }
  if (lo > 0) {
    const p = cands[lo - 1]!;
    if (p.subtree && after.startsWith(p.key)) lo--;
  }
  /** Past the candidates this walk can use (`partial` is a prefix of the first segment). */
  const beyond = (c: Candidate) =>
    partial !== undefined && partial !== "" && !c.seg.startsWith(partial) &&
    compareKeys(c.seg, partial) > 0;
  const wanted = (c: Candidate) =>
    (partial === undefined || partial === "" || c.seg.startsWith(partial)) &&
    (skip === undefined || !c.key.startsWith(skip)) &&
    (c.subtree || compareKeys(c.key, after) > 0);
  // Each key directory is scanned once (its entries, for keys below it, and its record), in
  // batches, one batch ahead of the walk. A scan is dropped after its last use (the key, then
  // the subtree, which sorts after it), so a long walk holds at most two batches.
  const uses = (c: Candidate) => {
    const key = base + c.seg;
    return (wanted({ ...c, key, subtree: false }) ? 1 : 0) +
      (wanted({ ...c, key: key + "/", subtree: true }) ? 1 : 0);
  };
  const scans = new Map<string, { scan: Promise<DirScan>; uses: number }>();
  let next = lo;
  const scanAhead = () => {
    const batch: Array<{ name: string; uses: number }> = [];
    while (next < cands.length && batch.length < LIST_SCAN_BATCH_DIRS) {
      const c = cands[next++]!;
      if (beyond(c)) {
        next = cands.length;
        break;
      }
      if (!wanted(c) || scans.has(c.name) || batch.some((b) => b.name === c.name)) continue;
      batch.push({ name: c.name, uses: uses(c) });
    }
    if (batch.length === 0) return;
    const done = scanDirs(drive, batch.map((b) => `${dir}/${b.name}`));
    batch.forEach((b, i) => {
      const scan = done.then((r) => r[i]!);
      // Surfaced where a scan is awaited. A walk that fails (a drive gone) leaves the rest of its
      // batch unawaited: each must be handled here, or the process dies of an unhandled rejection.
      scan.catch(() => {});
      scans.set(b.name, { scan, uses: b.uses });
    });
  };
  for (let i = lo; i < cands.length; i++) {
    const c = cands[i]!;
    if (beyond(c)) break;
    if (!wanted(c)) continue;
    if (!scans.has(c.name) || i >= next - LIST_SCAN_BATCH_DIRS) scanAhead();
    const s = scans.get(c.name)!;
    if (--s.uses === 0) scans.delete(c.name);
    const scan = await s.scan;
    if (c.subtree) {
      if (scan.entries?.some((e) => e.isDir && isKeySegment(e.name))) {
        yield* walkDir(drive, cache, opts, `${dir}/${c.name}`, c.key, undefined);
      }
      continue;
    }
    if (scan.file !== undefined) yield { key: c.key, meta: scan.file };
  }
}

function isKeySegment(name: string): boolean {
  const kind = decodeName(name).kind;
  return kind === "segment" || kind === "long";
}

/** One key directory: its entries (undefined when absent) and its metadata record, if any. */
interface DirScan {
  entries: DirEntry[] | undefined;
  file: Uint8Array | undefined;
}

/** Reads the directories concurrently: the drive's I/O threads overlap what one walk waits on. */
function scanDirs(drive: Drive, dirs: string[]): Promise<DirScan[]> {
  return Promise.all(dirs.map(async (dir) => {
    let entries: DirEntry[];
    try {
      entries = await drive.list(dir);
    } catch (e) {
      if (e instanceof FileNotFound) return { entries: undefined, file: undefined };
      throw e;
    }
    const has = entries.some((e) => e.name === META_FILE && !e.isDir);
    const file = has
      ? await drive.tryReadFile(`${dir}/${META_FILE}`, METADATA_RECORD_BYTES_MAX)
      : undefined;
    return { entries, file };
  }));
}
