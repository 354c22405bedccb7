/**
 * Bitrot on the running server (6 drives, EC:2): seeded random byte flips in shard files and
 * metadata records (inline data included) on the drives, then GETs (whole and ranged) of every
 * object. Flips confined to m drives: every read is byte-exact. Flips anywhere: every read is
 * byte-exact or fails (500 InternalError for detected bitrot, 503 SlowDown for a lost quorum),
 * never other bytes; an object that fails is written again and then reads back right. Then
 * `shale admin heal` of the seed's keys leaves every drive with good shards and records of every
 * object (checked file by file). Each seed writes fresh objects, so flips do not pile up.
 * SHALE_SEED=<n> replays one seed; SHALE_BITROT_SEEDS=<n> runs more (default 10).
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  CreateBucketCommand,
  GetObjectCommand,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { META_FILE } from "../src/storage/key_path.ts";
import { startServer } from "./_server.ts";
import { bodyBytes, bytesOf, clientFor, errorCode } from "./_s3.ts";
import { allShardProblems, healThroughAdminApi } from "./_shards.ts";
import { rng } from "../src/object/_testing.ts";

const FIXED = Deno.env.get("SHALE_SEED");
const FIRST = Number(FIXED ?? Date.now() % 1_000_000);
const SEEDS = FIXED !== undefined ? 1 : Number(Deno.env.get("SHALE_BITROT_SEEDS") ?? 10);
const KiB = 1024, MiB = 1024 * KiB;
const SIZES = [1, 1000, 100 * KiB, 128 * KiB + 1, 600 * KiB, MiB + 1, 2 * MiB + 7];
const DRIVES = 6;
const PARITY = 2;
const FLIPS_WITHIN_PARITY = 160;
const FLIPS_ANYWHERE = 40;

const digest = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

/** The files of one object on one drive: its record and its shard files. */
function filesOf(drive: string, bucket: string, key: string): string[] {
  const dir = `${drive}/${bucket}/${key}`;
  const out = [`${dir}/${META_FILE}`];
  for (const e of Deno.readDirSync(dir)) {
    if (e.isDirectory && e.name.startsWith("~")) {
      for (const f of Deno.readDirSync(`${dir}/${e.name}`)) out.push(`${dir}/${e.name}/${f.name}`);
    }
  }
  return out;
}

/** XORs one byte of a file with a non-zero value, in place. */
async function flip(path: string, r: () => number): Promise<void> {
  const f = await Deno.open(path, { read: true, write: true });
  try {
    const size = (await f.stat()).size;
    if (size === 0) return;
    const at = Math.floor(r() * size);
    const b = new Uint8Array(1);
    await f.seek(at, Deno.SeekMode.Start);
    await f.read(b);
    b[0] = b[0]! ^ (1 + Math.floor(r() * 255));
    await f.seek(at, Deno.SeekMode.Start);
    await f.write(b);
  } finally {
    f.close();
  }
}

interface Tally {
  flips: number;
  reads: number;
  errors: number;
  wrong: number;
}

/** Reads the whole object and one range; "error" when the server refused. */
async function readBack(
  s3: S3Client,
  bucket: string,
  key: string,
  data: Uint8Array,
  r: () => number,
  t: Tally,
): Promise<"ok" | "error"> {
  let failed = false;
  const ranges: Array<[number, number] | undefined> = [undefined];
  if (data.length > 1) {
    const from = Math.floor(r() * data.length);
    ranges.push([from, from + Math.floor(r() * (data.length - from))]);
  }
  for (const range of ranges) {
    t.reads++;
    try {
      const res = await s3.send(
        new GetObjectCommand({
          Bucket: bucket,
          Key: key,
          ...(range ? { Range: `bytes=${range[0]}-${range[1]}` } : {}),
        }),
      );
      const got = await bodyBytes(res.Body);
      const want = range ? data.subarray(range[0], range[1] + 1) : data;
      if (digest(got) !== digest(want)) {
        t.wrong++;
        assert.fail(`${key}${range ? ` bytes ${range[0]}-${range[1]}` : ""}: wrong bytes returned`);
      }
    } catch (e) {
      if (e instanceof assert.AssertionError) throw e;
      // A body cut mid-stream (the error found after the headers went out) is an error too.
      const code = await errorCode(Promise.reject(e)).catch(() => "body cut");
      assert.ok(
        ["InternalError", "SlowDown", "body cut"].includes(code),
        `${key}: unexpected error ${code}`,
      );
      t.errors++;
      failed = true;
    }
  }
  return failed ? "error" : "ok";
}

Deno.test({
  name: "random byte flips in shard files and records never make the server return wrong bytes",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const s = await startServer({
      drives: DRIVES,
      env: { SHALE_STORAGE_CLASS_STANDARD: `EC:${PARITY}`, SHALE_PROMETHEUS_AUTH_TYPE: "public" },
    });
    const s3 = clientFor(s, { maxAttempts: 1 });
    const t: Tally = { flips: 0, reads: 0, errors: 0, wrong: 0 };
    let withinParityReads = 0;
    let rewritten = 0;
    try {
      const bucket = "rot";
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
      for (let i = 0; i < SEEDS; i++) {
        const seed = FIRST + i;
        console.log(`bitrot seed ${seed} (replay with SHALE_SEED=${seed})`);
        const r = rng(seed);
        for (const phase of ["within parity", "anywhere"] as const) {
          const objects = new Map<string, Uint8Array>();
          for (const [j, size] of SIZES.entries()) {
            const data = bytesOf(size, seed * 100 + j + (phase === "anywhere" ? 50 : 0));
            // Fresh keys: an overwrite of a key whose records rotted is another test's business.
            const key = `s${seed}/${phase === "anywhere" ? "any" : "parity"}/o${j}`;
            await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: data }));
            objects.set(key, data);
          }
          const drives = [...s.drivePaths];
          const bad = new Set<number>();
          while (phase === "within parity" && bad.size < PARITY) {
            bad.add(Math.floor(r() * DRIVES));
          }
          const targets: string[] = [];
          for (const key of objects.keys()) {
            drives.forEach((d, di) => {
              if (phase === "anywhere" || bad.has(di)) targets.push(...filesOf(d, bucket, key));
            });
          }
          const flips = phase === "within parity" ? FLIPS_WITHIN_PARITY : FLIPS_ANYWHERE;
          for (let f = 0; f < flips; f++) {
            await flip(targets[Math.floor(r() * targets.length)]!, r);
            t.flips++;
          }
          for (const [key, data] of objects) {
            const res = await readBack(s3, bucket, key, data, r, t);
            if (phase === "within parity") {
              withinParityReads++;
              assert.equal(res, "ok", `seed ${seed}: ${key} with flips on ${bad.size} drives`);
            } else if (res === "error") {
              // A client repairs a rotten object by writing it again.
              await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: data }));
              const again = await readBack(s3, bucket, key, data, r, t);
              assert.equal(again, "ok", `seed ${seed}: ${key} rewritten after bitrot`);
              rewritten++;
            }
          }
          // The bad shards and records are healed: every drive holds good ones again.
          const prefix = `s${seed}/${phase === "anywhere" ? "any" : "parity"}`;
          const heal = await healThroughAdminApi(s, `${bucket}/${prefix}`);
          assert.equal(heal.code, 0, heal.lines.join("\n"));
          assert.deepEqual(
            await allShardProblems(s.drivePaths, bucket, objects.keys()),
            [],
            `seed ${seed} ${phase}: shards left bad after heal`,
          );
        }
      }
      // Objects healed by any path (mostly on read: a read that meets a bad shard queues a heal).
      const metrics = await (await fetch(`${s.endpoint}/minio/v2/metrics/cluster`)).text();
      const healed = Number(/^minio_heal_objects_heal_total (\S+)$/m.exec(metrics)?.[1]);
      console.log(
        `bitrot totals ${
          JSON.stringify({ seeds: SEEDS, ...t, withinParityReads, rewritten, healed })
        }`,
      );
      // The closing figures, one shape across the crash, drive loss and bitrot suites.
      console.log(`figures ${
        JSON.stringify({
          suite: "bitrot",
          seeds: SEEDS,
          faults: t.flips,
          objectsChecked: t.reads,
          lost: t.wrong,
        })
      }`);
      assert.equal(t.wrong, 0);
    } finally {
      s3.destroy();
      await s.stop();
    }
  },
});
