/**
 * Listing pages served from memory while no key under their prefix changes.
 *
 * How this works:
 * - Every listing walk produces a run of entries (objects and common prefixes) in S3 order for one
 *   (bucket, prefix, delimiter), starting after some key. A run whose walk saw no key under its
 *   prefix change (a committed write, delete or tag change; see DirCache) is kept as a snapshot:
 *   `after` (exclusive start), `end` (last entry), whether the walk reached the end of the listing
 *   (`complete`), and the generation its walk began at.
 * - A later page whose `after` lies in [snapshot.after, snapshot.end] of a fresh snapshot is
 *   answered from the snapshot; when the snapshot runs out before the page is full and is not
 *   complete, the caller walks on from `end` and the new entries are appended (if the snapshot has
 *   not moved and is still fresh). So a paging client walks the drives once, and every later
 *   listing of the same prefix, by any client, costs no I/O until a key under it changes.
 * - A snapshot stays exact while no key under its prefix changed since its walk began (the
 *   caller's `fresh`, DirCache.unchangedSince): a write elsewhere in the bucket leaves it alone;
 *   stale snapshots are dropped when met. The whole cache holds at most LIST_CACHE_WEIGHT_MAX
 *   weight (an entry weighs 1 plus its part count); the least recently used snapshots go first.
 * - Single process: the generation is local. A cluster will need to broadcast invalidations.
 */
import { LIST_CACHE_SNAPSHOTS_MAX, LIST_CACHE_WEIGHT_MAX } from "../config/limits.ts";
import { compareKeys } from "../storage/mod.ts";
import type { ObjectInfo } from "./types.ts";

/** An object (info set) or a common prefix (info undefined), in S3 order. */
export interface ListEntry {
  key: string;
  info: ObjectInfo | undefined;
}

interface Snapshot {
  id: string;
  gen: number;
  after: string;
  end: string;
  entries: ListEntry[];
  complete: boolean;
  weight: number;
}

/** What a page can take from the cache, and where the caller's walk must go on. */
export interface CachedRun {
  entries: ListEntry[];
  /** More cached entries follow these (the page is full and truncated). */
  more: boolean;
  /** The snapshot reaches the end of the listing. */
  complete: boolean;
  /** The snapshot's last key: a walk for the rest of the page starts after it. */
  end: string;
  snapshot: Snapshot;
}

export class ListCache {
  /** Most recently used last. */
  #snaps: Snapshot[] = [];
  #weight = 0;

  /**
   * Up to `max` entries after `after`, if a fresh snapshot covers `after`. `fresh(gen)`: no key
   * under `prefix` changed since generation `gen`.
   */
  take(
    bucket: string,
    prefix: string,
    delimiter: string,
    fresh: (gen: number) => boolean,
    after: string,
    max: number,
  ): CachedRun | undefined {
    const id = idOf(bucket, prefix, delimiter);
    for (let i = this.#snaps.length - 1; i >= 0; i--) {
      const s = this.#snaps[i]!;
      if (s.id !== id) continue;
      if (!fresh(s.gen)) {
        this.#drop(i);
        continue;
      }
      if (compareKeys(after, s.after) < 0 || compareKeys(after, s.end) > 0) continue;
      this.#snaps.splice(i, 1);
      this.#snaps.push(s);
      const from = firstAfter(s.entries, after);
      const entries = s.entries.slice(from, from + max);
      const more = from + max < s.entries.length;
      return { entries, more, complete: s.complete, end: s.end, snapshot: s };
    }
    return undefined;
  }

  /**
   * Appends a walk that started at `run.snapshot.end` (unless the snapshot moved or aged); the
   * caller has checked that the snapshot is still fresh.
   */
  extend(run: CachedRun, startedAt: string, walked: ListEntry[], done: boolean) {
    const s = run.snapshot;
    if (s.end !== startedAt || !this.#snaps.includes(s)) return;
    const w = weightOf(walked);
    if (this.#weight + w > LIST_CACHE_WEIGHT_MAX) return;
    s.entries.push(...walked);
    if (walked.length > 0) s.end = walked[walked.length - 1]!.key;
    s.complete = done;
    s.weight += w;
    this.#weight += w;
  }

  /** Keeps a fresh walk of `entries` after `after` as a new snapshot. */
  add(
    bucket: string,
    prefix: string,
    delimiter: string,
    gen: number,
    after: string,
    entries: ListEntry[],
    done: boolean,
  ): void {
    if (entries.length === 0 && !done) return;
    const weight = weightOf(entries);
    if (weight > LIST_CACHE_WEIGHT_MAX) return;
    while (
      this.#snaps.length > 0 &&
      (this.#weight + weight > LIST_CACHE_WEIGHT_MAX ||
        this.#snaps.length >= LIST_CACHE_SNAPSHOTS_MAX)
    ) {
      this.#drop(0);
    }
    this.#snaps.push({
      id: idOf(bucket, prefix, delimiter),
      gen,
      after,
      end: entries.length > 0 ? entries[entries.length - 1]!.key : after,
      entries: [...entries],
      complete: done,
      weight,
    });
    this.#weight += weight;
  }

  #drop(i: number): void {
    this.#weight -= this.#snaps[i]!.weight;
    this.#snaps.splice(i, 1);
  }
}

function idOf(bucket: string, prefix: string, delimiter: string): string {
  return `${bucket}\0${prefix}\0${delimiter}`;
}

function weightOf(entries: ListEntry[]): number {
  let w = 0;
  for (const e of entries) w += 1 + (e.info?.parts.length ?? 0);
  return w;
}

/** Index of the first entry whose key sorts after `after`. */
function firstAfter(entries: ListEntry[], after: string): number {
  let lo = 0, hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (compareKeys(entries[mid]!.key, after) > 0) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
