/**
 * Single-stream PUT and GET through the real server (4 temp drives, EC:2), against baselines.
 *
 *   deno run -A bench/put_get_bench.ts [--sizes 64,1024] [--rounds 2] [--sdk] [--tree DIR ...]
 *
 * Each round, for each tree (default: this checkout; `--tree DIR` adds e.g. an older commit
 * unpacked with `git archive <rev> | tar -x -C DIR`, so before/after run interleaved on one
 * loaded machine), a server is started and, per size in MiB:
 * - PUT with a cheap client: one hand-signed UNSIGNED-PAYLOAD request written to a socket in
 *   1 MiB writes from a fixed random buffer (the client does no hashing);
 * - GET with fetch, counting bytes;
 * - with --sdk, the same through the AWS SDK (PutObject of a Uint8Array, GetObject drained);
 * and the server's peak RSS (VmHWM, reset between operations through /proc/PID/clear_refs).
 * Baselines in the same run: a bare Deno.serve in its own process receiving / sending the same
 * number of bytes, and a file write + fdatasync of that size on the same temp file system.
 * Prints MB/s (10^6 bytes per second), the ratio to the baseline and the load average.
 */
import { signRequestForTest } from "../src/auth/testing.ts";

const MiB = 1024 * 1024;
const CHUNK = 1 * MiB;
const POOL = new Uint8Array(64 * MiB);
for (let i = 0; i < POOL.length; i += 65536) crypto.getRandomValues(POOL.subarray(i, i + 65536));

// --- baseline server mode: `--baseline-server` serves PUT (drain) and GET ?n=bytes. ----------
if (Deno.args[0] === "--baseline-server") {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    if (req.method === "PUT") {
      let n = 0;
      for await (const c of req.body ?? []) n += c.length;
      return new Response(String(n));
    }
    const n = Number(new URL(req.url).searchParams.get("n"));
    let sent = 0;
    return new Response(
      new ReadableStream({
        pull(c) {
          if (sent >= n) return c.close();
          const len = Math.min(CHUNK, n - sent);
          c.enqueue(POOL.subarray(sent % POOL.length, (sent % POOL.length) + len));
          sent += len;
        },
      }, { highWaterMark: 0 }),
      { headers: { "content-length": String(n) } },
    );
  });
  console.log(`PORT ${server.addr.port}`);
  await server.finished;
  Deno.exit(0);
}

function arg(name: string): string[] {
  const out: string[] = [];
  Deno.args.forEach((a, i) => {
    if (a === name && Deno.args[i + 1] !== undefined) out.push(Deno.args[i + 1]!);
  });
  return out;
}
const sizes = (arg("--sizes")[0] ?? "64,1024").split(",").map((s) => Number(s) * MiB);
const rounds = Number(arg("--rounds")[0] ?? "1");
const useSdk = Deno.args.includes("--sdk");
const here = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const trees = [here, ...arg("--tree")];

const results = new Map<string, { bytes: number; ms: number; rss: number }>();
function record(name: string, bytes: number, ms: number, rss = 0): void {
  const r = results.get(name) ?? { bytes: 0, ms: 0, rss: 0 };
  r.bytes += bytes;
  r.ms += ms;
  r.rss = Math.max(r.rss, rss);
  results.set(name, r);
  console.log(
    `  ${name}: ${(bytes / 1e6 / (ms / 1000)).toFixed(1)} MB/s` +
      (rss > 0 ? `, server peak RSS ${(rss / MiB).toFixed(0)} MiB` : "") +
      `  (load ${Deno.loadavg()[0]!.toFixed(1)})`,
  );
}

/** Peak RSS of `pid` since the last reset, in bytes; resets it. */
async function peakRss(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? "0");
  await Deno.writeTextFile(`/proc/${pid}/clear_refs`, "5").catch(() => {});
  return kb * 1024;
}

async function readAll(r: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(r).arrayBuffer());
}

/** Writes `head` and `size` body bytes to a fresh connection; returns the response text. */
async function rawPut(port: number, head: string, size: number): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const answer = readAll(conn.readable);
  const w = conn.writable.getWriter();
  await w.write(new TextEncoder().encode(head + "\r\n"));
  for (let sent = 0; sent < size;) {
    const len = Math.min(CHUNK, size - sent);
    const at = sent % POOL.length;
    await w.write(POOL.subarray(at, at + len));
    sent += len;
  }
  return new TextDecoder().decode((await answer).subarray(0, 4096));
}

async function drain(body: ReadableStream<Uint8Array> | null): Promise<number> {
  let n = 0;
  for await (const c of body ?? []) n += c.length;
  return n;
}

interface Server {
  endpoint: string;
  accessKey: string;
  secretKey: string;
  region: string;
  pid: number;
  stop(): Promise<number>;
}

async function shaleRound(tree: string, label: string): Promise<void> {
  const mod = await import(`file://${tree}/tests/_server.ts`) as {
    startServer(o: { drives: number }): Promise<Server>;
  };
  const s = await mod.startServer({ drives: 4 });
  const port = Number(new URL(s.endpoint).port);
  const creds = { accessKey: s.accessKey, secretKey: s.secretKey, region: s.region };
  const signed = (method: string, path: string, headers: Record<string, string> = {}) =>
    signRequestForTest(
      {
        method,
        rawPath: path,
        rawQuery: "",
        headers: new Headers({ host: `127.0.0.1:${port}`, ...headers }),
      },
      { ...creds, payloadHash: "UNSIGNED-PAYLOAD" },
    );
  try {
    const mb = signed("PUT", "/bench");
    const r = await fetch(`${s.endpoint}/bench`, { method: "PUT", headers: mb.headers });
    await r.body?.cancel();
    for (const size of sizes) {
      const tag = `${label} ${size / MiB}MiB`;
      const key = `/bench/obj-${size}`;
      await peakRss(s.pid);
      const req = signed("PUT", key, { "content-length": String(size) });
      let head = `PUT ${key} HTTP/1.1\r\nconnection: close\r\n`;
      for (const [k, v] of req.headers) head += `${k}: ${v}\r\n`;
      let t = performance.now();
      const answer = await rawPut(port, head, size);
      const putMs = performance.now() - t;
      if (!answer.startsWith("HTTP/1.1 200")) throw new Error(`PUT failed: ${answer}`);
      record(`${tag} PUT (raw socket)`, size, putMs, await peakRss(s.pid));
      const g = signed("GET", key);
      t = performance.now();
      const res = await fetch(`${s.endpoint}${key}`, { headers: g.headers });
      const got = await drain(res.body);
      const getMs = performance.now() - t;
      if (res.status !== 200 || got !== size) throw new Error(`GET ${res.status}, ${got} bytes`);
      record(`${tag} GET (fetch)`, size, getMs, await peakRss(s.pid));
      if (useSdk) await sdkRound(s, tag, size);
    }
  } finally {
    await s.stop();
  }
}

async function sdkRound(s: Server, tag: string, size: number): Promise<void> {
  const { S3Client, PutObjectCommand, GetObjectCommand } = await import("@aws-sdk/client-s3");
  const client = new S3Client({
    endpoint: s.endpoint,
    region: s.region,
    forcePathStyle: true,
    credentials: { accessKeyId: s.accessKey, secretAccessKey: s.secretKey },
  });
  const body = new Uint8Array(size);
  for (let off = 0; off < size; off += POOL.length) {
    body.set(POOL.subarray(0, Math.min(POOL.length, size - off)), off);
  }
  let t = performance.now();
  await client.send(new PutObjectCommand({ Bucket: "bench", Key: "sdk", Body: body }));
  record(`${tag} PUT (AWS SDK)`, size, performance.now() - t);
  t = performance.now();
  const out = await client.send(new GetObjectCommand({ Bucket: "bench", Key: "sdk" }));
  const got = await drain(out.Body!.transformToWebStream() as ReadableStream<Uint8Array>);
  if (got !== size) throw new Error(`SDK GET ${got} bytes`);
  record(`${tag} GET (AWS SDK)`, size, performance.now() - t);
  client.destroy();
}

async function baselineRound(): Promise<void> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL(import.meta.url).pathname, "--baseline-server"],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!/PORT \d+/.test(text)) {
    const { done, value } = await lines.read();
    if (done) throw new Error("Baseline server did not start");
    text += value;
  }
  lines.releaseLock();
  const port = Number(/PORT (\d+)/.exec(text)![1]);
  const dir = await Deno.makeTempDir({ prefix: "shale-bench-fs-" });
  try {
    for (const size of sizes) {
      const tag = `baseline ${size / MiB}MiB`;
      const head = `PUT / HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-length: ${size}\r\n`;
      let t = performance.now();
      const answer = await rawPut(port, head, size);
      if (!answer.endsWith(String(size))) throw new Error(`Baseline PUT: ${answer}`);
      record(`${tag} PUT (bare Deno.serve drain)`, size, performance.now() - t);
      t = performance.now();
      const res = await fetch(`http://127.0.0.1:${port}/?n=${size}`);
      if ((await drain(res.body)) !== size) throw new Error("Baseline GET short");
      record(`${tag} GET (bare Deno.serve send)`, size, performance.now() - t);
      t = performance.now();
      const f = await Deno.open(`${dir}/f`, { write: true, create: true, truncate: true });
      for (let sent = 0; sent < size; sent += CHUNK) {
        let off = 0;
        const c = POOL.subarray(sent % POOL.length, (sent % POOL.length) + CHUNK);
        while (off < c.length) off += await f.write(c.subarray(off));
      }
      await f.syncData();
      f.close();
      record(`${tag} file write+fdatasync`, size, performance.now() - t);
    }
  } finally {
    child.kill("SIGTERM");
    await child.status;
    await Deno.remove(dir, { recursive: true });
  }
}

console.log(
  `load ${
    Deno.loadavg().map((l) => l.toFixed(1)).join(" ")
  }, ${navigator.hardwareConcurrency} CPUs`,
);
for (let round = 1; round <= rounds; round++) {
  console.log(`round ${round}`);
  await baselineRound();
  for (const [i, tree] of trees.entries()) await shaleRound(tree, i === 0 ? "shale" : `tree${i}`);
}
console.log(`\nTotals over ${rounds} round(s); load ${Deno.loadavg()[0]!.toFixed(1)}:`);
const base = (name: string) => {
  const size = /(\d+MiB)/.exec(name)?.[1];
  const op = name.includes(" PUT ") ? "PUT (bare Deno.serve drain)" : "GET (bare Deno.serve send)";
  const r = results.get(`baseline ${size} ${op}`);
  return r === undefined ? undefined : r.bytes / r.ms;
};
for (const [name, r] of results) {
  const rate = r.bytes / r.ms;
  const b = name.startsWith("baseline") ? undefined : base(name);
  console.log(
    `${name.padEnd(44)} ${(rate / 1e3).toFixed(1).padStart(7)} MB/s` +
      (b === undefined ? "" : `  ${(rate / b).toFixed(2)}x baseline`) +
      (r.rss > 0 ? `  peak RSS ${(r.rss / MiB).toFixed(0)} MiB` : ""),
  );
}
