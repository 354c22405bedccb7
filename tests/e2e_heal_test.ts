/**
 * Heal on the running server (6 drives, EC:2):
 * - an empty replacement drive in a known slot is formatted at start-up and refilled by the
 *   background scanner with no client read (checked file by file), after which two other drives
 *   can go and every object still reads back byte-exact;
 * - `shale admin heal <bucket> --wait` (the real command line, a separate process) repairs
 *   seeded damage (shard files deleted, truncated or flipped on two drives), prints what it did,
 *   and the heal counters show in the metrics and the log;
 * - MinIO's own `mc admin heal -r` (tests/clients/install_mc.sh) heals a bucket whose files were
 *   removed from a drive, and `mc admin heal` prints the background status;
 * - a slow scanner does not hold up shutdown.
 * SHALE_SEED=<n> replays the damage.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { keyPath } from "../src/storage/key_path.ts";
import { startServer, type TestServer } from "./_server.ts";
import { bodyBytes, bytesOf, clientFor } from "./_s3.ts";
import { allShardProblems } from "./_shards.ts";
import { mcBinary, run } from "./clients/_run.ts";
import { rng } from "../src/object/_testing.ts";

const SEED = Number(Deno.env.get("SHALE_SEED") ?? Date.now() % 1_000_000);
const KiB = 1024, MiB = 1024 * KiB;
const SIZES = [0, 1, 4 * KiB, 128 * KiB + 1, MiB + 3, 2 * MiB + 5];
const MAIN = new URL("../main.ts", import.meta.url).pathname;
const REFILL_MS_MAX = 30_000;

const digest = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

/** Puts SIZES objects and a two-part multipart object; returns key -> sha256. */
async function putObjects(
  s3: S3Client,
  bucket: string,
  seed: number,
): Promise<Map<string, string>> {
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const objects = new Map<string, string>();
  for (const [i, size] of SIZES.entries()) {
    const data = bytesOf(size, seed + i);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `o/${i}`, Body: data }));
    objects.set(`o/${i}`, digest(data));
  }
  const p1 = bytesOf(5 * MiB, seed + 50), p2 = bytesOf(3 * KiB, seed + 51);
  const { UploadId } = await s3.send(
    new CreateMultipartUploadCommand({ Bucket: bucket, Key: "mp" }),
  );
  const etags = [];
  for (const [i, p] of [p1, p2].entries()) {
    const r = await s3.send(
      new UploadPartCommand({ Bucket: bucket, Key: "mp", UploadId, PartNumber: i + 1, Body: p }),
    );
    etags.push({ ETag: r.ETag!, PartNumber: i + 1 });
  }
  await s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: bucket,
      Key: "mp",
      UploadId,
      MultipartUpload: { Parts: etags },
    }),
  );
  const whole = new Uint8Array(p1.length + p2.length);
  whole.set(p1);
  whole.set(p2, p1.length);
  objects.set("mp", digest(whole));
  return objects;
}

async function readAll(s3: S3Client, bucket: string, objects: Map<string, string>, when: string) {
  for (const [key, want] of objects) {
    const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    assert.equal(digest(await bodyBytes(res.Body)), want, `${key} ${when}`);
  }
}

async function metric(s: TestServer, name: string): Promise<number> {
  const text = await (await fetch(`${s.endpoint}/minio/v2/metrics/cluster`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  return line === undefined ? NaN : Number(line.split(" ")[1]);
}

/** Every file under a folder, relative to it. */
function filesUnder(root: string, rel = ""): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(`${root}/${rel}`)) {
    const p = rel === "" ? e.name : `${rel}/${e.name}`;
    if (e.isDirectory) out.push(...filesUnder(root, p));
    else out.push(p);
  }
  return out;
}

Deno.test({
  name: "an empty replacement drive is formatted at start-up and refilled by the scanner",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const env = {
      SHALE_STORAGE_CLASS_STANDARD: "EC:2",
      SHALE_PROMETHEUS_AUTH_TYPE: "public",
      SHALE_SCANNER_INTERVAL: "1s",
      SHALE_SCANNER_OBJECTS_PER_SECOND: "1000",
    };
    let s = await startServer({ drives: 6, keepData: true, env });
    const paths = s.drivePaths;
    let s3 = clientFor(s, { maxAttempts: 1 });
    try {
      const objects = await putObjects(s3, "refill", SEED);
      s3.destroy();
      assert.equal(await s.stop(), 0);
      // The drive is swapped for a new, empty one in the same slot.
      const slot = SEED % 6;
      await Deno.remove(paths[slot]!, { recursive: true });
      await Deno.mkdir(paths[slot]!);
      const t = performance.now();
      s = await startServer({ drives: 6, drivePaths: paths, keepData: true, env });
      s3 = clientFor(s, { maxAttempts: 1 });
      assert.match(s.output(), /Empty drive formatted in its slot/);
      // No client reads: the scanner alone refills it.
      let problems = await allShardProblems(paths, "refill", objects.keys());
      while (problems.length > 0 && performance.now() - t < REFILL_MS_MAX) {
        await new Promise((r) => setTimeout(r, 200));
        problems = await allShardProblems(paths, "refill", objects.keys());
      }
      assert.deepEqual(problems, [], "the replacement drive holds every shard");
      console.log(
        `heal: replacement drive ${slot + 1} refilled with ${objects.size} objects in ` +
          `${Math.round(performance.now() - t)} ms (start-up included)`,
      );
      assert.ok(await metric(s, "minio_heal_objects_heal_total") >= objects.size);
      assert.ok(await metric(s, "minio_heal_objects_total") >= objects.size);
      assert.equal(await metric(s, "minio_heal_objects_error_total"), 0);
      assert.ok(await metric(s, "minio_heal_time_last_activity_nano_seconds") >= 0);
      // Two other drives gone: the refilled one carries its share.
      const others = [(slot + 1) % 6, (slot + 2) % 6];
      for (const i of others) await Deno.rename(paths[i]!, `${paths[i]}.away`);
      await readAll(s3, "refill", objects, `with drives ${others.map((i) => i + 1)} removed`);
      for (const i of others) await Deno.rename(`${paths[i]}.away`, paths[i]!);
    } finally {
      s3.destroy();
      await s.stop();
      await Deno.remove(paths[0]!.replace(/\/disk1$/, ""), { recursive: true });
    }
  },
});

Deno.test({
  name: "shale admin heal --wait repairs damaged shards on two drives and reports it",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    console.log(`heal seed ${SEED} (replay with SHALE_SEED=${SEED})`);
    // The scanner waits an hour after its first walk: the admin heal does the work here.
    const s = await startServer({
      drives: 6,
      env: {
        SHALE_STORAGE_CLASS_STANDARD: "EC:2",
        SHALE_PROMETHEUS_AUTH_TYPE: "public",
        SHALE_SCANNER_INTERVAL: "1h",
      },
    });
    const s3 = clientFor(s, { maxAttempts: 1 });
    try {
      const objects = await putObjects(s3, "fix", SEED + 1000);
      while (!s.output().includes('"Heal scan finished"')) {
        await new Promise((r) => setTimeout(r, 100));
      }
      // Seeded damage on two drives: shard files and records deleted, truncated or flipped.
      const r = rng(SEED);
      const bad = new Set<number>();
      while (bad.size < 2) bad.add(Math.floor(r() * 6));
      const damagedKeys = new Set<string>();
      let faults = 0;
      for (const i of bad) {
        for (const key of objects.keys()) {
          const dir = `${s.drivePaths[i]}/${keyPath("fix", key).dir}`;
          for (const f of filesUnder(dir)) {
            const roll = r();
            const path = `${dir}/${f}`;
            if (roll < 0.3) await Deno.remove(path);
            else if (roll < 0.5) {
              const b = await Deno.readFile(path);
              if (b.length === 0) continue;
              b[Math.floor(r() * b.length)]! ^= 1 + Math.floor(r() * 255);
              await Deno.writeFile(path, b);
            } else if (roll < 0.6) {
              const b = await Deno.readFile(path);
              await Deno.writeFile(path, b.subarray(0, b.length >> 1));
            } else continue;
            faults++;
            damagedKeys.add(key);
          }
        }
      }
      assert.ok(faults > 0, "some damage was done");
      assert.notDeepEqual(await allShardProblems(s.drivePaths, "fix", objects.keys()), []);
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", MAIN, "admin", "heal", "fix", "--wait"],
        env: {
          SHALE_ENDPOINT: s.endpoint,
          SHALE_ROOT_USER: s.accessKey,
          SHALE_ROOT_PASSWORD: s.secretKey,
          NO_COLOR: "1",
        },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
      assert.equal(out.code, 0, text);
      assert.match(text, /^Heal of "fix" started: [0-9a-f-]{36}$/m);
      const last = /^finished: (\d+) objects scanned, (\d+) healed, (\d+) failed/m.exec(text);
      assert.ok(last, text);
      assert.equal(Number(last[1]), objects.size);
      assert.equal(Number(last[2]), damagedKeys.size, text);
      assert.equal(Number(last[3]), 0);
      console.log(`heal: ${faults} faults on drives ${[...bad].map((i) => i + 1)}; ${last[0]}`);
      assert.deepEqual(await allShardProblems(s.drivePaths, "fix", objects.keys()), []);
      await readAll(s3, "fix", objects, "after the admin heal");
      assert.ok(await metric(s, "minio_heal_objects_heal_total") >= damagedKeys.size);
      const logged = s.output().split("\n").filter((l) => l.includes('"Heal sequence finished"'));
      assert.equal(logged.length, 1);
      assert.equal(JSON.parse(logged[0]!).healed, damagedKeys.size);

      // Wrong secret: refused, nothing started.
      const refused = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", MAIN, "admin", "heal", "--wait"],
        env: {
          SHALE_ENDPOINT: s.endpoint,
          SHALE_ROOT_USER: s.accessKey,
          SHALE_ROOT_PASSWORD: "not-the-secret",
        },
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(refused.code, 1);
      assert.match(new TextDecoder().decode(refused.stderr), /SignatureDoesNotMatch/);
    } finally {
      s3.destroy();
      await s.stop();
    }
  },
});

Deno.test({
  name: "a scanner walking slowly does not hold up shutdown",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const s = await startServer({
      drives: 4,
      env: { SHALE_SCANNER_INTERVAL: "10ms", SHALE_SCANNER_OBJECTS_PER_SECOND: "0.5" },
    });
    const s3 = clientFor(s, { maxAttempts: 1 });
    try {
      await s3.send(new CreateBucketCommand({ Bucket: "slow" }));
      for (let i = 0; i < 5; i++) {
        await s3.send(new PutObjectCommand({ Bucket: "slow", Key: `k${i}`, Body: "x" }));
      }
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      s3.destroy();
    }
    const t = performance.now();
    assert.equal(await s.stop(), 0);
    assert.ok(performance.now() - t < 5_000, `shutdown took ${performance.now() - t} ms`);
  },
});

Deno.test({
  name: "mc admin heal -r heals a bucket through the admin API and mc admin heal shows the status",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const mc = await mcBinary();
    // The scanner is off: only mc's heal can bring the files back.
    const s = await startServer({ drives: 4, env: { SHALE_SCANNER_INTERVAL: "off" } });
    const s3 = clientFor(s, { maxAttempts: 1 });
    const configDir = await Deno.makeTempDir({ prefix: "shale-mc-heal-" });
    const mcRun = (...args: string[]) =>
      run(mc, ["--config-dir", configDir, "--no-color", ...args], { env: { HOME: configDir } });
    try {
      await s3.send(new CreateBucketCommand({ Bucket: "mcheal" }));
      const keys = ["a", "b/c", "big"];
      for (const [i, key] of keys.entries()) {
        const body = bytesOf(key === "big" ? 700 * KiB : 10 + i, SEED + i);
        await s3.send(new PutObjectCommand({ Bucket: "mcheal", Key: key, Body: body }));
      }
      await Deno.remove(`${s.drivePaths[1]}/mcheal`, { recursive: true });
      assert.notDeepEqual(await allShardProblems(s.drivePaths, "mcheal", keys), []);
      const alias = await mcRun("alias", "set", "shale", s.endpoint, s.accessKey, s.secretKey);
      assert.equal(alias.code, 0, alias.stderr);
      const heal = await mcRun("admin", "heal", "-r", "--force", "shale/mcheal");
      assert.equal(heal.code, 0, `${heal.stdout}\n${heal.stderr}`);
      assert.deepEqual(await allShardProblems(s.drivePaths, "mcheal", keys), []);
      const status = await mcRun("admin", "heal", "shale");
      assert.equal(status.code, 0, `${status.stdout}\n${status.stderr}`);
    } finally {
      s3.destroy();
      await s.stop();
      await Deno.remove(configDir, { recursive: true });
    }
  },
});
