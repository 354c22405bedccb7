/**
 * Crash consistency of the real server process: a seeded workload from the AWS SDK (PUTs of
 * varied sizes, inline and multi-block, overwrites, DELETEs, multipart uploads, CopyObject), a
 * client-side log of what was acknowledged, SIGKILL at a random moment, a restart on the same
 * drives, then a check against the log:
 * - every key holds the value of its last acknowledged operation, or of an operation issued after
 *   it (in flight at the kill: it may have taken effect or not, never half), byte-exact;
 * - an acknowledged DELETE stays deleted (absent is then the only value allowed, unless a later
 *   write was in flight);
 * - listing, HEAD and GET agree (nothing half visible);
 * - right after start-up, before any request (and with the heal scanner off, so start-up alone
 *   is tested), no temp files remain on any drive and no data directory exists that the drive's
 *   record does not name (a crash between moving data in and writing the record, between
 *   writing the record and removing the old data, or mid-delete): FORMAT.md's commit markers.
 * Each seed kills the server once; the restart that checks one seed runs the next seed's workload.
 * SHALE_SEED=<n> replays one seed; SHALE_CRASH_SEEDS=<n> runs n seeds (default 50). Prints
 * "crash totals" (seeds, kills, acknowledged and in-flight operations, keys checked, lost).
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { decodeObjectRecord } from "../src/storage/records.ts";
import { META_FILE, TMP_DIR } from "../src/storage/key_path.ts";
import { startServer, type TestServer } from "./_server.ts";
import { bodyBytes, clientFor, errorCode } from "./_s3.ts";
import { rng } from "../src/object/_testing.ts";

const KiB = 1024, MiB = 1024 * KiB;
const FIXED = Deno.env.get("SHALE_SEED");
const FIRST = Number(FIXED ?? Date.now() % 1_000_000);
const SEEDS = FIXED !== undefined ? 1 : Number(Deno.env.get("SHALE_CRASH_SEEDS") ?? 50);
const SIZES = [0, 1, 100, 4 * KiB, 128 * KiB - 1, 128 * KiB + 1, 700 * KiB, MiB + 1, 2 * MiB + 3];
const WORKERS = 4;
const KEYS_PER_WORKER = 4;
/**
 * The kill comes after a seeded number of acknowledged operations plus a seeded delay (so it
 * lands at any point of the operations then in flight), or at the cap if the server is slow.
 */
const KILL_AFTER_ACKS: [number, number] = [1, 12];
const KILL_DELAY_MS_MAX = 250;
const KILL_CAP_MS = 6_000;

function bytes(n: number, r: () => number): Uint8Array<ArrayBuffer> {
  const words = new Uint32Array(Math.ceil(n / 4));
  let x = (r() * 2 ** 32) >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x;
  }
  return new Uint8Array(words.buffer, 0, n);
}
const digest = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
const ABSENT = "absent";

/** Per key, in issue order: what each operation would leave, and whether it was acknowledged. */
interface LoggedOp {
  op: string;
  value: string;
  acked: boolean;
}
type Log = Map<string, LoggedOp[]>;

/** The values a key may hold: the last acknowledged op's and those of every op issued after it. */
function allowedValues(ops: LoggedOp[]): Set<string> {
  let last = -1;
  ops.forEach((o, i) => {
    if (o.acked) last = i;
  });
  const out = new Set<string>(last < 0 ? [ABSENT] : []);
  for (let i = Math.max(0, last); i < ops.length; i++) out.add(ops[i]!.value);
  return out;
}

interface Totals {
  seeds: number;
  acked: number;
  inFlight: number;
  keysChecked: number;
  lost: number;
  orphanDataDirs: number;
  kills: number;
}

async function runWorkload(
  s3: S3Client,
  bucket: string,
  seed: number,
  log: Log,
  killed: () => boolean,
  onAck: () => void,
): Promise<void> {
  const worker = async (w: number) => {
    const r = rng(seed * 7919 + w);
    const keys = Array.from({ length: KEYS_PER_WORKER }, (_, i) => `w${w}/k${i}`);
    /** The value each key holds when every op on it so far was acknowledged. */
    const known = new Map<string, string>(keys.map((k) => [k, ABSENT]));
    const record = (key: string, op: string, value: string) => {
      const entry = { op, value, acked: false };
      let l = log.get(key);
      if (l === undefined) log.set(key, l = []);
      l.push(entry);
      return entry;
    };
    const ack = (e: LoggedOp) => {
      e.acked = true;
      onAck();
    };
    while (!killed()) {
      const key = keys[Math.floor(r() * keys.length)]!;
      const roll = r();
      try {
        if (roll < 0.55) {
          const data = bytes(SIZES[Math.floor(r() * SIZES.length)]!, r);
          const e = record(key, "PutObject", digest(data));
          known.delete(key);
          await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: data }));
          ack(e);
          known.set(key, e.value);
        } else if (roll < 0.7) {
          const e = record(key, "DeleteObject", ABSENT);
          known.delete(key);
          await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
          ack(e);
          known.set(key, ABSENT);
        } else if (roll < 0.88) {
          const src = keys[Math.floor(r() * keys.length)]!;
          const v = known.get(src);
          if (src === key || v === undefined || v === ABSENT) continue;
          const e = record(key, "CopyObject", v);
          known.delete(key);
          await s3.send(
            new CopyObjectCommand({ Bucket: bucket, Key: key, CopySource: `${bucket}/${src}` }),
          );
          ack(e);
          known.set(key, v);
        } else if (roll < 0.94) {
          const p1 = bytes(5 * MiB, r), p2 = bytes(1 + Math.floor(r() * 300 * KiB), r);
          const whole = new Uint8Array(p1.length + p2.length);
          whole.set(p1);
          whole.set(p2, p1.length);
          const { UploadId } = await s3.send(
            new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }),
          );
          const etags: string[] = [];
          for (const [i, p] of [p1, p2].entries()) {
            const res = await s3.send(
              new UploadPartCommand({
                Bucket: bucket,
                Key: key,
                UploadId,
                PartNumber: i + 1,
                Body: p,
              }),
            );
            etags.push(res.ETag!);
          }
          if (killed()) return;
          const e = record(key, "CompleteMultipartUpload", digest(whole));
          known.delete(key);
          await s3.send(
            new CompleteMultipartUploadCommand({
              Bucket: bucket,
              Key: key,
              UploadId,
              MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
            }),
          );
          ack(e);
          known.set(key, e.value);
        } else {
          // A read while running: the server must never return other bytes.
          const v = known.get(key);
          if (v === undefined) continue;
          const got = await readValue(s3, bucket, key);
          assert.equal(got, v, `seed ${seed}: ${key} read back other bytes while running`);
        }
      } catch (e) {
        if (e instanceof assert.AssertionError) throw e;
        if (!killed()) throw new Error(`seed ${seed}: ${key} failed before the kill: ${e}`);
        return;
      }
    }
  };
  await Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));
}

async function readValue(s3: S3Client, bucket: string, key: string): Promise<string> {
  try {
    const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const body = await bodyBytes(res.Body);
    assert.equal(body.length, res.ContentLength, `${key}: body length differs from its header`);
    return digest(body);
  } catch (e) {
    if (e instanceof assert.AssertionError) throw e;
    if (await errorCode(Promise.reject(e)).catch(() => "") === "NoSuchKey") return ABSENT;
    throw e;
  }
}

/**
 * Leftovers of crashed writes on a drive: temp files and data directories no record refers to
 * (start-up must remove both).
 */
async function orphansOn(drive: string): Promise<{ tmp: string[]; dataDirs: string[] }> {
  const tmp: string[] = [];
  const out: string[] = [];
  try {
    for await (const e of Deno.readDir(`${drive}/${TMP_DIR}`)) tmp.push(`${TMP_DIR}/${e.name}`);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const uuid = /^~[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
  const walk = async (rel: string) => {
    const entries = [...Deno.readDirSync(`${drive}/${rel}`)];
    const dataDirs = entries.filter((e) => e.isDirectory && uuid.test(e.name)).map((e) => e.name);
    if (dataDirs.length > 0) {
      let live = new Set<string>();
      try {
        const rec = decodeObjectRecord(await Deno.readFile(`${drive}/${rel}/${META_FILE}`));
        live = new Set(rec.versions.map((v) => `~${v.dataDir}`));
      } catch { /* no record: every data dir here is an orphan */ }
      for (const d of dataDirs) if (!live.has(d)) out.push(`${rel}/${d}`);
    }
    for (const e of entries) {
      if (e.isDirectory && !uuid.test(e.name)) await walk(`${rel}/${e.name}`);
    }
  };
  for (const e of Deno.readDirSync(drive)) {
    if (e.isDirectory && !e.name.startsWith(".")) await walk(e.name);
  }
  return { tmp, dataDirs: out };
}

async function check(
  s3: S3Client,
  bucket: string,
  seed: number,
  log: Log,
  totals: Totals,
): Promise<void> {
  const listed = new Map<string, number>();
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }),
    );
    for (const o of page.Contents ?? []) listed.set(o.Key!, o.Size!);
    token = page.NextContinuationToken;
  } while (token !== undefined);
  await Promise.all([...log].map(async ([key, ops]) => {
    const allowed = allowedValues(ops);
    const got = await readValue(s3, bucket, key);
    totals.keysChecked++;
    totals.acked += ops.filter((o) => o.acked).length;
    totals.inFlight += ops.filter((o) => !o.acked).length;
    if (!allowed.has(got)) {
      totals.lost++;
      assert.fail(
        `seed ${seed}: ${key} holds ${got.slice(0, 12)} after the crash; allowed: ${
          [...allowed].map((v) => v.slice(0, 12)).join(", ")
        }; ops: ${ops.map((o) => `${o.op}${o.acked ? "" : " (in flight)"}`).join(", ")}`,
      );
    }
    if (got === ABSENT) {
      assert.ok(!listed.has(key), `seed ${seed}: ${key} is listed but GET says NoSuchKey`);
      assert.equal(
        await errorCode(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))),
        "NotFound",
      );
    } else {
      assert.ok(listed.has(key), `seed ${seed}: ${key} reads back but is not listed`);
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      assert.equal(head.ContentLength, listed.get(key), `seed ${seed}: ${key} HEAD and list`);
    }
  }));
  for (const key of listed.keys()) assert.ok(log.has(key), `seed ${seed}: unknown key ${key}`);
}

/** Right after a restart, before any request: nothing a crashed write left may remain. */
async function checkStartupCleaned(s: TestServer, seed: number, totals: Totals): Promise<void> {
  for (const d of s.drivePaths) {
    const { tmp, dataDirs } = await orphansOn(d);
    totals.orphanDataDirs += dataDirs.length;
    assert.deepEqual(tmp, [], `seed ${seed}: temp files left on ${d} after start-up`);
    assert.deepEqual(dataDirs, [], `seed ${seed}: unreferenced data dirs on ${d} after start-up`);
  }
}

Deno.test({
  name:
    "after SIGKILL at random moments every acknowledged operation survives and nothing is half done",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const totals: Totals = {
      seeds: 0,
      acked: 0,
      inFlight: 0,
      keysChecked: 0,
      lost: 0,
      orphanDataDirs: 0,
      kills: 0,
    };
    // The scanner would heal orphans away too: off, so that start-up alone is checked.
    const env = { SHALE_SCANNER_INTERVAL: "off" };
    let s = await startServer({ drives: 4, keepData: true, env });
    const paths = s.drivePaths;
    try {
      let pending: { seed: number; bucket: string; log: Log } | undefined;
      for (let i = 0; i <= SEEDS; i++) {
        const s3 = clientFor(s, { maxAttempts: 1 });
        if (pending !== undefined) {
          await check(s3, pending.bucket, pending.seed, pending.log, totals);
          totals.seeds++;
        }
        if (i === SEEDS) {
          s3.destroy();
          break;
        }
        const seed = FIRST + i;
        console.log(`crash seed ${seed} (replay with SHALE_SEED=${seed})`);
        const bucket = `crash-${seed}`;
        await s3.send(new CreateBucketCommand({ Bucket: bucket }));
        const r = rng(seed);
        const acksBeforeKill = KILL_AFTER_ACKS[0] +
          Math.floor(r() * (KILL_AFTER_ACKS[1] - KILL_AFTER_ACKS[0] + 1));
        const delay = r() * KILL_DELAY_MS_MAX;
        let dead = false;
        let acks = 0;
        let fire: () => void = () => {};
        const killTime = new Promise<void>((res) => {
          const cap = setTimeout(res, KILL_CAP_MS);
          fire = () => {
            clearTimeout(cap);
            setTimeout(res, delay);
          };
        });
        const log: Log = new Map();
        const running = runWorkload(s3, bucket, seed, log, () => dead, () => {
          if (++acks === acksBeforeKill) fire();
        });
        await Promise.race([killTime, running]);
        dead = true;
        await s.kill();
        totals.kills++;
        await running;
        s3.destroy();
        pending = { seed, bucket, log };
        s = await startServer({ drivePaths: paths, keepData: true, env });
        await checkStartupCleaned(s, seed, totals);
      }
      console.log(`crash totals ${JSON.stringify(totals)}`);
      // The closing figures, one shape across the crash, drive loss and bitrot suites.
      console.log(`figures ${
        JSON.stringify({
          suite: "crash",
          seeds: totals.seeds,
          faults: totals.kills,
          objectsChecked: totals.keysChecked,
          lost: totals.lost,
        })
      }`);
      assert.equal(totals.lost, 0);
      assert.equal(totals.orphanDataDirs, 0);
    } finally {
      await s.stop();
      await Deno.remove(paths[0]!.replace(/\/disk1$/, ""), { recursive: true });
    }
  },
});
