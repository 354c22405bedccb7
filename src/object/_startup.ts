/**
 * Start-up: check every drive's format against the command line, format new or empty drives,
 * refuse (StartupError, nothing changed) on foreign drives, a changed layout or too many drives
 * lacking, and clean leftover temp files.
 *
 * How this works: every drive is probed and its format file read first, without writing anything.
 * Only when all checks pass are empty drives formatted (a fresh deployment, or an empty drive in a
 * known slot) and the tmp directories emptied.
 */
import { FORMAT_FILE_BYTES_MAX, METADATA_RECORD_BYTES_MAX } from "../config/limits.ts";
import { defaultParity, setSizeFor } from "../erasure/mod.ts";
import {
  CorruptRecord,
  dataDirName,
  decodeFormat,
  decodeName,
  decodeObjectRecord,
  type Drive,
  encodeFormat,
  FileNotFound,
  type FormatRecord,
  META_FILE,
  SYSTEM_DIR,
  TMP_DIR,
} from "../storage/mod.ts";
import { logger } from "../util/logger.ts";
import { StartupError } from "./errors.ts";
import { COMMIT_MARKER } from "./_set.ts";

export const FORMAT_FILE = `${SYSTEM_DIR}/format.shale`;

type Probe =
  | { state: "formatted"; format: FormatRecord }
  | { state: "unformatted"; rootMissing: boolean }
  | { state: "offline"; reason: string };

export interface StartedDrives {
  deploymentId: string;
  setSize: number;
  standardParity: number;
  reducedParity: number;
  /** sets[s][i]: the drive, or undefined when it is offline. */
  sets: Array<Array<Drive | undefined>>;
}

async function probe(d: Drive): Promise<Probe> {
  const p = await d.probe();
  if (p === "missing") return { state: "unformatted", rootMissing: true };
  if (p === "unreadable") return { state: "offline", reason: "the directory is not readable" };
  try {
    return {
      state: "formatted",
      format: decodeFormat(await d.readFile(FORMAT_FILE, FORMAT_FILE_BYTES_MAX)),
    };
  } catch (e) {
    if (e instanceof CorruptRecord) {
      return { state: "offline", reason: `its format file is corrupt (${e.message})` };
    }
    if (!(e instanceof FileNotFound)) {
      return { state: "offline", reason: e instanceof Error ? e.message : String(e) };
    }
  }
  let entries;
  try {
    entries = await d.list("");
  } catch (e) {
    return { state: "offline", reason: e instanceof Error ? e.message : String(e) };
  }
  // A drive that lost its format file but holds Shale's system directory is ours (emptied
  // while running, say): it is formatted in its slot. Anything else with content is not ours.
  const ours = entries.some((e) => e.name === SYSTEM_DIR);
  const foreign = entries.filter((e) => e.name !== SYSTEM_DIR && e.name !== "lost+found");
  if (foreign.length > 0 && !ours) {
    throw new StartupError(
      `Drive "${d.path}" is not empty and has no Shale format file (it holds "${
        foreign[0]!.name
      }"); refusing to use it: give an empty directory or a drive of this deployment`,
    );
  }
  return { state: "unformatted", rootMissing: false };
}

function sameLayout(a: string[][], b: string[][]): boolean {
  return a.length === b.length &&
    a.every((set, s) => set.length === b[s]!.length && set.every((id, i) => id === b[s]![i]));
}

export async function startDrives(
  drives: Drive[],
  opts: { standardParity?: number | undefined; reducedParity?: number | undefined },
): Promise<StartedDrives> {
  const n = drives.length;
  if (n === 0) throw new StartupError("No drives given");
  const seen = new Set<string>();
  for (const d of drives) {
    const norm = d.path.replace(/\/+$/, "").replace(/\/\.\//g, "/").replace(/\/{2,}/g, "/");
    if (seen.has(norm)) throw new StartupError(`Drive "${d.path}" is given more than once`);
    seen.add(norm);
  }
  const setSize = setSizeFor(n);
  if (setSize === undefined) {
    throw new StartupError(
      `${n} drives cannot be split into erasure sets of 2 to 16 drives of equal size; ` +
        `give a drive count with such a divisor (for example 4, 6, 8, 12 or 16)`,
    );
  }
  const parityMax = Math.floor(setSize / 2);
  const m = opts.standardParity ?? defaultParity(setSize);
  if (!Number.isInteger(m) || m < 0 || m > parityMax) {
    throw new StartupError(
      `Standard parity EC:${m} is not possible with sets of ${setSize} drives (0 to ${parityMax})`,
    );
  }
  const rr = Math.min(opts.reducedParity ?? 1, m);
  if (!Number.isInteger(rr) || rr < 0) {
    throw new StartupError(`Reduced redundancy parity EC:${rr} is invalid`);
  }
  const setCount = n / setSize;

  const probes = await Promise.all(drives.map(probe));
  const formatted = probes.flatMap((p, i) => p.state === "formatted" ? [{ i, f: p.format }] : []);
  let ids: string[];
  let deploymentId: string;
  if (formatted.length === 0) {
    deploymentId = crypto.randomUUID();
    ids = drives.map(() => crypto.randomUUID());
  } else {
    // The deployment most formatted drives belong to is the reference.
    const counts = new Map<string, number>();
    for (const { f } of formatted) {
      counts.set(f.deploymentId, (counts.get(f.deploymentId) ?? 0) + 1);
    }
    deploymentId = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]![0];
    const ref = formatted.find(({ f }) => f.deploymentId === deploymentId)!.f;
    for (const { i, f } of formatted) {
      if (f.deploymentId !== deploymentId) {
        throw new StartupError(
          `Drive "${drives[i]!.path}" belongs to another deployment (${f.deploymentId}); the ` +
            `other drives belong to ${deploymentId}: remove it from the list or give an empty drive`,
        );
      }
      if (!sameLayout(f.sets, ref.sets)) {
        throw new StartupError(
          `Drive "${drives[i]!.path}" records a different set layout than drive "${
            drives[formatted[0]!.i]!.path
          }" of the same deployment`,
        );
      }
    }
    const refSize = ref.sets[0]?.length ?? 0;
    if (ref.sets.length * refSize !== n || refSize !== setSize) {
      throw new StartupError(
        `The drives were formatted as ${ref.sets.length} set(s) of ${refSize} drives ` +
          `(${
            ref.sets.length * refSize
          } drives) but ${n} drives were given (sets of ${setSize}); ` +
          `start with the original drive list`,
      );
    }
    ids = ref.sets.flat();
    for (const { i, f } of formatted) {
      if (ids[i] !== f.thisDriveId) {
        const j = ids.indexOf(f.thisDriveId);
        throw new StartupError(
          `Drive "${drives[i]!.path}" is drive ${j + 1} of the format but was given as drive ` +
            `${i + 1}: the drive order changed; give the drives in their original order`,
        );
      }
    }
  }

  // Per set: drives lacking (offline, or empty and so holding no data) must stay within parity.
  const fresh = formatted.length === 0;
  for (let s = 0; s < setCount; s++) {
    const lacking: string[] = [];
    for (let i = s * setSize; i < (s + 1) * setSize; i++) {
      const p = probes[i]!;
      if (p.state === "offline" || (!fresh && p.state === "unformatted")) {
        lacking.push(
          `"${drives[i]!.path}" (${p.state === "offline" ? p.reason : "empty or missing"})`,
        );
      }
    }
    if (lacking.length > m) {
      throw new StartupError(
        `Erasure set ${s + 1} lacks ${lacking.length} of its ${setSize} drives, more than its ` +
          `parity ${m} allows: ${lacking.join(", ")}`,
      );
    }
  }

  // All checks passed: now format what needs it and clean temp files.
  const sets: Array<Array<Drive | undefined>> = [];
  const layout: string[][] = [];
  for (let s = 0; s < setCount; s++) layout.push(ids.slice(s * setSize, (s + 1) * setSize));
  const usable = await Promise.all(drives.map(async (d, i) => {
    const p = probes[i]!;
    if (p.state === "offline") {
      logger.warn("Drive offline at start-up; running degraded", {
        drive: d.path,
        reason: p.reason,
      });
      return undefined;
    }
    if (p.state === "unformatted") {
      try {
        await d.init();
        await d.writeFile(
          FORMAT_FILE,
          encodeFormat({ deploymentId, sets: layout, thisDriveId: ids[i]! }),
        );
      } catch (e) {
        logger.warn("Drive could not be formatted; running degraded", { drive: d.path, error: e });
        return undefined;
      }
      if (!fresh) {
        logger.warn("Empty drive formatted in its slot; its objects are missing until healed", {
          drive: d.path,
        });
      }
    }
    await recoverInterruptedCommits(d);
    // Leftover temp files are garbage whether or not their removal survives a crash (the next
    // start removes them again), so no directory fsync: it cost every start ~10 ms (issue 6).
    await d.remove(TMP_DIR, { sync: false }).catch((e) => {
      logger.warn("Could not clean temp files", { drive: d.path, error: e });
    });
    return d;
  }));
  for (let s = 0; s < setCount; s++) sets.push(usable.slice(s * setSize, (s + 1) * setSize));
  for (let s = 0; s < setCount; s++) {
    const alive = sets[s]!.filter((d) => d !== undefined).length;
    if (alive < setSize - m) {
      throw new StartupError(
        `Erasure set ${s + 1} has only ${alive} usable drives, it needs ${setSize - m}`,
      );
    }
  }
  return { deploymentId, setSize, standardParity: m, reducedParity: rr, sets };
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Start-up recovery (FORMAT.md): every commit that moves data into a key dir, replaces a record
 * naming a data dir, or deletes one first leaves a marker in tmp naming the key dir. A crash
 * before the marker went leaves data dirs no record refers to (moved in before the record was
 * written, or left after it); in each marked key dir the data dirs the drive's record does not
 * name are removed. Bounded by the writes in flight at the crash: no namespace walk.
 */
async function recoverInterruptedCommits(d: Drive): Promise<void> {
  let entries;
  try {
    entries = await d.list(TMP_DIR);
  } catch {
    return;
  }
  for (const e of entries) {
    if (!e.isDir) continue;
    try {
      const marker = await d.tryReadFile(`${TMP_DIR}/${e.name}/${COMMIT_MARKER}`, 8192);
      if (marker === undefined) continue;
      const [dir, dataDir] = new TextDecoder().decode(marker).split("\n");
      if (dir === undefined || dir === "" || dir.split("/").some((s) => s === ".." || s === "")) {
        continue;
      }
      if (dataDir !== undefined && dataDir !== "" && !UUID_RE.test(dataDir)) continue;
      // A corrupt record names nothing: heal rebuilds this drive's shards from the others.
      let named = new Set<string>();
      const meta = await d.tryReadFile(`${dir}/${META_FILE}`, METADATA_RECORD_BYTES_MAX);
      if (meta !== undefined) {
        try {
          named = new Set(decodeObjectRecord(meta).versions.map((v) => v.dataDir));
        } catch (err) {
          if (!(err instanceof CorruptRecord)) throw err;
        }
      }
      let listed;
      try {
        listed = await d.list(dir);
      } catch (err) {
        if (err instanceof FileNotFound) continue;
        throw err;
      }
      for (const f of listed) {
        const name = decodeName(f.name);
        if (name.kind !== "dataDir" || named.has(name.dataDir)) continue;
        await d.remove(`${dir}/${dataDirName(name.dataDir)}`);
        logger.info("Removed the data of a write interrupted by a crash", { drive: d.path, dir });
      }
    } catch (err) {
      logger.warn("Could not check an interrupted write", { drive: d.path, error: err });
    }
  }
}
