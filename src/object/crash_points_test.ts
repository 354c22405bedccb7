/**
 * A crash at every point of an overwrite, a delete and a multipart completion, in process: the
 * drives (memory) stop taking any call after the N-th mutating call across all of them (a
 * process that died there: what reached the drives stays, nothing more does), then the object
 * layer starts again on the same drives. For every N: start-up leaves no temp file and no data
 * dir a drive's record does not name, and the key reads back as before or after, never half.
 * The e2e crash suite kills the real process at random moments; this one visits every moment.
 */
import assert from "node:assert/strict";
import { decodeName } from "../storage/key_path.ts";
import { MemoryDrive } from "../storage/memory_drive.ts";
import { decodeObjectRecord } from "../storage/records.ts";
import {
  type DirEntry,
  type Drive,
  DriveOffline,
  type DriveSpace,
  type FileReader,
  type FileWriter,
} from "../storage/drive.ts";
import { setLogSink } from "../util/logger.ts";
import { ObjectNotFound } from "./errors.ts";
import { openObjectLayerOn } from "./object_layer.ts";
import { bodyOf, readAll } from "./_testing.ts";

setLogSink(() => {});
const KiB = 1024;

/** Shared by the drives of one run: how many mutating calls may still land. */
class Budget {
  used = 0;
  constructor(public left: number) {}
  spend(): void {
    if (this.left <= 0) throw new DriveOffline("The process died here", "crash");
    this.left--;
    this.used++;
  }
  check(): void {
    if (this.left <= 0) throw new DriveOffline("The process died here", "crash");
  }
}

class CrashingDrive implements Drive {
  constructor(readonly inner: Drive, readonly budget: Budget) {}
  get path(): string {
    return this.inner.path;
  }
  space(): Promise<DriveSpace> {
    return this.inner.space();
  }
  probe(): Promise<"ok" | "missing" | "unreadable"> {
    return this.inner.probe();
  }
  init(): Promise<void> {
    this.budget.spend();
    return this.inner.init();
  }
  async readFile(path: string, maxBytes: number): Promise<Uint8Array> {
    this.budget.check();
    return await this.inner.readFile(path, maxBytes);
  }
  async tryReadFile(path: string, maxBytes: number): Promise<Uint8Array | undefined> {
    this.budget.check();
    return await this.inner.tryReadFile(path, maxBytes);
  }
  async writeFile(path: string, data: Uint8Array): Promise<void> {
    this.budget.spend();
    await this.inner.writeFile(path, data);
  }
  async createFile(path: string): Promise<FileWriter> {
    this.budget.spend();
    const w = await this.inner.createFile(path);
    const budget = this.budget;
    return {
      async write(chunk) {
        budget.check();
        await w.write(chunk);
      },
      async close() {
        budget.spend();
        await w.close();
      },
      abort: () => w.abort(),
    };
  }
  async openFile(path: string): Promise<FileReader> {
    this.budget.check();
    return await this.inner.openFile(path);
  }
  async rename(from: string, to: string): Promise<void> {
    this.budget.spend();
    await this.inner.rename(from, to);
  }
  async remove(path: string, opts?: { pruneTo?: string }): Promise<void> {
    this.budget.spend();
    await this.inner.remove(path, opts);
  }
  async list(path: string): Promise<DirEntry[]> {
    this.budget.check();
    return await this.inner.list(path);
  }
  async stat(path: string): Promise<{ isDir: boolean; size: number } | undefined> {
    this.budget.check();
    return await this.inner.stat(path);
  }
  async makeDir(path: string): Promise<void> {
    this.budget.spend();
    await this.inner.makeDir(path);
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

async function walk(d: Drive, dir: string, out: string[]): Promise<void> {
  for (const e of await d.list(dir).catch(() => [])) {
    const p = dir === "" ? e.name : `${dir}/${e.name}`;
    if (e.isDir) await walk(d, p, out);
    out.push(p);
  }
}

/** Temp files, and data dirs their drive's record does not name. */
async function leftovers(d: Drive): Promise<string[]> {
  const out: string[] = [];
  const tmp: string[] = [];
  await walk(d, ".shale.sys/tmp", tmp);
  out.push(...tmp.map((p) => `.shale.sys/tmp/${p}`));
  const all: string[] = [];
  await walk(d, "bkt", all);
  for (const p of all) {
    const parts = p.split("/");
    const name = decodeName(parts.at(-1)!);
    if (name.kind !== "dataDir") continue;
    const dir = parts.slice(0, -1).join("/");
    const rec = await d.tryReadFile(`${dir}/~meta`, 1 << 20);
    let named = new Set<string>();
    try {
      if (rec !== undefined) {
        named = new Set(decodeObjectRecord(rec).versions.map((v) => v.dataDir));
      }
    } catch { /* a corrupt record names nothing */ }
    if (!named.has(name.dataDir)) out.push(p);
  }
  return out;
}

interface Scenario {
  name: string;
  /** The write that gets cut short; `before` is what the key holds when it starts. */
  run: (layer: Awaited<ReturnType<typeof openObjectLayerOn>>) => Promise<void>;
  /** Values (or "absent") the key may hold after the crash. */
  after: Uint8Array | "absent";
}

const OLD = new Uint8Array(200 * KiB).map((_, i) => (i * 7) & 0xff);
const NEW_FILES = new Uint8Array(300 * KiB + 5).map((_, i) => (i * 13) & 0xff);
const NEW_INLINE = new Uint8Array(1000).fill(9);
// One part: a last part may be small (a 5 MiB first part would make 80 restarts slow).
const PART1 = new Uint8Array(150 * KiB).fill(1);
const put = (data: Uint8Array) => ({ size: data.length, metadata: { user: {} } });

const SCENARIOS: Scenario[] = [
  {
    name: "an overwrite with shard files",
    run: async (l) => void await l.putObject("bkt", "k", bodyOf(NEW_FILES), put(NEW_FILES)),
    after: NEW_FILES,
  },
  {
    name: "an overwrite with inline data",
    run: async (l) => void await l.putObject("bkt", "k", bodyOf(NEW_INLINE), put(NEW_INLINE)),
    after: NEW_INLINE,
  },
  {
    name: "a delete",
    run: (l) => l.deleteObject("bkt", "k"),
    after: "absent",
  },
  {
    name: "a multipart completion",
    run: async (l) => {
      const id = await l.newMultipartUpload("bkt", "k", { metadata: { user: {} } });
      const e1 = await l.putObjectPart("bkt", "k", id, 1, bodyOf(PART1), { size: PART1.length });
      await l.completeMultipartUpload("bkt", "k", id, [{ partNumber: 1, etag: e1.etag }], {});
    },
    after: PART1,
  },
];

const fingerprint = (d: Uint8Array) =>
  `new:${d.length}:${d.reduce((a, b) => (a * 31 + b) >>> 0, 0)}`;

async function value(l: Awaited<ReturnType<typeof openObjectLayerOn>>): Promise<string> {
  try {
    const o = await l.openObject("bkt", "k");
    const got = await readAll(o.stream(0, o.info.size));
    return fingerprint(got) === fingerprint(OLD) ? "old" : fingerprint(got);
  } catch (e) {
    if (e instanceof ObjectNotFound) return "absent";
    throw e;
  }
}

for (const sc of SCENARIOS) {
  Deno.test(`a crash at any point of ${sc.name} leaves no orphan after start-up, and old or new`, async () => {
    let total = -1;
    let points = 0;
    // N = -1 measures the whole write; then every N from 0 to its last mutating call.
    for (let n = -1; n === -1 || n <= total; n++) {
      const mem = Array.from({ length: 4 }, (_, i) => new MemoryDrive(`mem://c${i + 1}`));
      const setup = await openObjectLayerOn(mem, {});
      await setup.makeBucket("bkt");
      await setup.putObject("bkt", "k", bodyOf(OLD), put(OLD));
      await setup.close();
      const budget = new Budget(Number.MAX_SAFE_INTEGER);
      const crashing = await openObjectLayerOn(mem.map((d) => new CrashingDrive(d, budget)), {});
      // Start-up is not counted: the write alone runs out of calls.
      budget.left = n === -1 ? Number.MAX_SAFE_INTEGER : n;
      budget.used = 0;
      await sc.run(crashing).catch((e) => {
        if (n === -1) throw e;
      });
      if (n === -1) {
        total = budget.used;
        continue;
      }
      points++;
      const again = await openObjectLayerOn(mem, {});
      for (const d of mem) {
        assert.deepEqual(await leftovers(d), [], `crash after ${n} of ${total} calls: ${d.path}`);
      }
      const got = await value(again);
      const allowed = ["old", sc.after === "absent" ? "absent" : fingerprint(sc.after)];
      assert.ok(allowed.includes(got), `crash after ${n} of ${total} calls: the key holds ${got}`);
      await again.close();
    }
    console.log(`${sc.name}: crashed at each of ${points} points`);
  });
}
