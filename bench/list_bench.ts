/**
 * Listing throughput of a whole bucket, Shale against MinIO in the same run (bench/s3's servers:
 * 4 drive folders, EC:2, the same credentials). Each server gets N 1-byte objects (default 10,000,
 * under ten prefixes), then the bucket is listed with ListObjectsV2 pages of 1,000 keys:
 * - "cold": a walk right after a write under zz/ (the first round's also right after the fill);
 * - "again": the same walk once more (Shale answers from its listing cache);
 * - "after a write": one more PUT into the bucket, then the walk (a write drops Shale's cached
 *   listings of every prefix it falls under: here the whole bucket's);
 * - "p3/ after a write elsewhere": a listing of one prefix, walked once, then again after a PUT
 *   under another prefix (Shale keeps the cached listings a write cannot change).
 * Rounds alternate between the servers; the table gives the median keys/s and Shale / MinIO.
 *
 *   deno run -A bench/list_bench.ts [--objects N] [--rounds R]
 */
import {
  CreateBucketCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { ensureTools } from "./s3/_install.ts";
import {
  ROOT_PASSWORD,
  ROOT_USER,
  type RunningServer,
  type ServerSpec,
  startServer,
} from "./s3/_servers.ts";
import type { ServerName } from "./s3/_args.ts";

const repoRoot = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const cacheDir = `${repoRoot}/bench/.cache`;
const flag = (name: string, fallback: number) => {
  const i = Deno.args.indexOf(name);
  const n = i >= 0 ? Number(Deno.args[i + 1]) : fallback;
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} needs a positive integer`);
  return n;
};
const OBJECTS = flag("--objects", 10_000);
const ROUNDS = flag("--rounds", 3);
const PAGE_KEYS = 1000;
const PUT_CONCURRENCY = 16;
const BUCKET = "listbench";
const KINDS = ["cold", "again", "after a write", "p3/ after a write elsewhere"] as const;

function clientFor(server: RunningServer): S3Client {
  return new S3Client({
    endpoint: `http://${server.host}`,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: ROOT_USER, secretAccessKey: ROOT_PASSWORD },
  });
}

async function fill(s3: S3Client): Promise<void> {
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  let next = 0;
  await Promise.all(Array.from({ length: PUT_CONCURRENCY }, async () => {
    while (next < OBJECTS) {
      const i = next++;
      const key = `p${i % 10}/${crypto.randomUUID()}.bin`;
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: "x" }));
    }
  }));
}

/** Keys per second of one walk over the whole bucket (or the keys under `prefix`). */
async function walk(s3: S3Client, prefix = ""): Promise<number> {
  let token: string | undefined;
  let keys = 0;
  const started = performance.now();
  do {
    const page = await s3.send(
      new ListObjectsV2Command({
        Bucket: BUCKET,
        Prefix: prefix,
        MaxKeys: PAGE_KEYS,
        ContinuationToken: token,
      }),
    );
    keys += page.KeyCount ?? 0;
    token = page.NextContinuationToken;
  } while (token !== undefined);
  return keys / ((performance.now() - started) / 1000);
}

const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)] ?? NaN;

const tools = await ensureTools(true, { cacheDir, log: (l) => console.error(l) });
const root = await Deno.makeTempDir({ prefix: "shale-list-bench-" });
const servers: { name: ServerName; server: RunningServer; s3: S3Client }[] = [];
try {
  for (const name of ["shale", "minio"] as const) {
    const spec: ServerSpec = {
      name,
      kind: name,
      dir: `${root}/${name}`,
      minioBinary: tools.minio,
      repoRoot,
    };
    const server = await startServer(spec);
    const s3 = clientFor(server);
    servers.push({ name, server, s3 });
    const t = performance.now();
    await fill(s3);
    console.error(
      `${name}: ${OBJECTS} objects written in ${((performance.now() - t) / 1000).toFixed(1)} s`,
    );
  }
  const results = new Map<string, number[]>();
  const record = (name: ServerName, kind: typeof KINDS[number], keysPerSecond: number) => {
    const k = `${name}\0${kind}`;
    results.set(k, [...(results.get(k) ?? []), keysPerSecond]);
  };
  for (let round = 0; round < ROUNDS; round++) {
    for (const { name, s3 } of servers) {
      // A write under zz/ drops Shale's snapshot of the whole bucket (not its pN/ directories).
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `zz/round${round}`, Body: "x" }));
      record(name, "cold", await walk(s3));
      record(name, "again", await walk(s3));
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `zz/more${round}`, Body: "x" }));
      record(name, "after a write", await walk(s3));
      await walk(s3, "p3/");
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `zz/other${round}`, Body: "x" }));
      record(name, "p3/ after a write elsewhere", await walk(s3, "p3/"));
    }
  }
  console.log(`whole-bucket listing, ${OBJECTS} objects, pages of ${PAGE_KEYS}, ${ROUNDS} rounds`);
  console.log("walk                          shale keys/s   minio keys/s   shale/minio");
  for (const kind of KINDS) {
    const shale = median(results.get(`shale\0${kind}`) ?? []);
    const minio = median(results.get(`minio\0${kind}`) ?? []);
    console.log(
      `${kind.padEnd(29)} ${shale.toFixed(0).padStart(12)}   ${minio.toFixed(0).padStart(12)}   ${
        (shale / minio).toFixed(2).padStart(11)
      }`,
    );
  }
} finally {
  for (const { server, s3 } of servers) {
    s3.destroy();
    await server.stop();
  }
  await Deno.remove(root, { recursive: true });
}
