/**
 * PUT and GET of one object through the real server (4 temp drives, EC:2) without SSE and with
 * SSE-S3, SSE-KMS (a named key of the built-in KMS) and SSE-C, interleaved in each round (order
 * rotating) so all see the same machine load.
 *
 *   deno task bench:sse [--size-mib 64] [--rounds 3]
 *   (deno run -A bench/sse_bench.ts ...; a script, not a Deno.bench file: `deno task bench`
 *   leaves bench/ out)
 *
 * The client is cheap: a hand-signed UNSIGNED-PAYLOAD PUT of a fixed random buffer, and a GET
 * drained by fetch. Prints MB/s (10^6 bytes per second) per mode, best of the rounds, the ratio to
 * the unencrypted run, and the load average.
 */
import { createHash } from "node:crypto";
import { signRequestForTest } from "../src/auth/testing.ts";
import { startServer } from "../tests/_server.ts";

const MiB = 1024 * 1024;
function arg(name: string, fallback: string): string {
  const i = Deno.args.indexOf(name);
  return i >= 0 && Deno.args[i + 1] !== undefined ? Deno.args[i + 1]! : fallback;
}
const size = Number(arg("--size-mib", "64")) * MiB;
const rounds = Number(arg("--rounds", "3"));
const body = new Uint8Array(size);
for (let i = 0; i < size; i += 65536) crypto.getRandomValues(body.subarray(i, i + 65536));

const customerKey = crypto.getRandomValues(new Uint8Array(32));
const MODES: Record<string, Record<string, string>> = {
  plain: {},
  "SSE-S3": { "x-amz-server-side-encryption": "AES256" },
  "SSE-KMS": {
    "x-amz-server-side-encryption": "aws:kms",
    "x-amz-server-side-encryption-aws-kms-key-id": "bench-key",
  },
  "SSE-C": {
    "x-amz-server-side-encryption-customer-algorithm": "AES256",
    "x-amz-server-side-encryption-customer-key": btoa(String.fromCharCode(...customerKey)),
    "x-amz-server-side-encryption-customer-key-md5": createHash("md5").update(customerKey).digest(
      "base64",
    ),
  },
};

const server = await startServer({
  drives: 4,
  env: {
    SHALE_KMS_SECRET_KEY: `bench-key:${btoa(String.fromCharCode(...new Uint8Array(32)))}`,
  },
});
const host = new URL(server.endpoint).host;
const creds = { accessKey: server.accessKey, secretKey: server.secretKey, region: server.region };
const signed = (method: string, path: string, headers: Record<string, string> = {}) =>
  signRequestForTest(
    { method, rawPath: path, rawQuery: "", headers: new Headers({ host, ...headers }) },
    { ...creds, payloadHash: "UNSIGNED-PAYLOAD" },
  ).headers;

const best: Record<string, { put: number; get: number }> = {};
try {
  await (await fetch(`${server.endpoint}/bench`, {
    method: "PUT",
    headers: signed("PUT", "/bench"),
  }))
    .body?.cancel();
  for (let round = 0; round < rounds; round++) {
    // The order rotates each round, so no mode always follows another's writes.
    const modes = Object.entries(MODES);
    const order = [...modes.slice(round % modes.length), ...modes.slice(0, round % modes.length)];
    for (const [mode, headers] of order) {
      const key = `/bench/${mode}`;
      let t = performance.now();
      const put = await fetch(`${server.endpoint}${key}`, {
        method: "PUT",
        headers: signed("PUT", key, { ...headers, "content-length": String(size) }),
        body,
      });
      if (put.status !== 200) throw new Error(`PUT ${mode}: ${put.status} ${await put.text()}`);
      await put.body?.cancel();
      const putMbs = size / 1e6 / ((performance.now() - t) / 1000);
      const getHeaders = mode === "SSE-C" ? headers : {};
      t = performance.now();
      const get = await fetch(`${server.endpoint}${key}`, {
        headers: signed("GET", key, getHeaders),
      });
      let n = 0;
      for await (const c of get.body ?? []) n += c.length;
      if (n !== size) throw new Error(`GET ${mode}: ${n} bytes`);
      const getMbs = size / 1e6 / ((performance.now() - t) / 1000);
      const b = best[mode] ??= { put: 0, get: 0 };
      b.put = Math.max(b.put, putMbs);
      b.get = Math.max(b.get, getMbs);
    }
  }
} finally {
  await server.stop();
}
const load = (await Deno.readTextFile("/proc/loadavg")).split(" ").slice(0, 3).join(" ");
console.log(`PUT/GET ${size / MiB} MiB, best of ${rounds} rounds, load average ${load}`);
const plain = best.plain!;
for (const [mode, b] of Object.entries(best)) {
  console.log(
    `${mode.padEnd(7)} PUT ${b.put.toFixed(0).padStart(5)} MB/s (${
      (b.put / plain.put).toFixed(2)
    }x)` +
      `   GET ${b.get.toFixed(0).padStart(5)} MB/s (${(b.get / plain.get).toFixed(2)}x)`,
  );
}
