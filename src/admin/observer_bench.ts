/**
 * What reporting every request to the metrics costs on the hot path: the same S3 handler, in
 * process, with and without `ServerMetrics` as its observer (PUT and GET of 1 MiB, 4 drives).
 */
import { sha256Hex, signRequestForTest } from "../auth/testing.ts";
import { openObjectLayer } from "../object/mod.ts";
import { createS3Handler, staticCredentialStore } from "../s3/mod.ts";
import { ServerMetrics } from "./server_metrics.ts";

const CREDS = { accessKey: "bench-key", secretKey: "bench-secret-key" };
const dir = await Deno.makeTempDir({ prefix: "shale-observer-bench-" });
const objects = await openObjectLayer({ drives: [1, 2, 3, 4].map((i) => `${dir}/d${i}`) });
const credentials = staticCredentialStore([CREDS]);
const base = { objects, credentials, region: "us-east-1", domains: [] };
const plain = createS3Handler(base);
const observed = createS3Handler({
  ...base,
  observer: new ServerMetrics({ objects, credentials, authType: "public" }),
});
const body = new Uint8Array(1024 * 1024).fill(3);
const bodyHash = sha256Hex(body);

function request(method: string, path: string, payload?: Uint8Array<ArrayBuffer>): Request {
  const url = new URL(`http://127.0.0.1:9000${path}`);
  const headers = new Headers({ host: url.host });
  if (payload !== undefined) headers.set("content-length", String(payload.length));
  const s = signRequestForTest({ method, rawPath: url.pathname, rawQuery: "", headers }, {
    ...CREDS,
    region: "us-east-1",
    payloadHash: payload !== undefined ? bodyHash : sha256Hex(""),
  });
  return new Request(url, { method, headers: s.headers, ...(payload ? { body: payload } : {}) });
}

await (await plain(request("PUT", "/bench"))).body?.cancel();
await (await plain(request("PUT", "/bench/get", body))).body?.cancel();

Deno.bench("PUT 1MiB, no observer", { group: "put", baseline: true }, async () => {
  await (await plain(request("PUT", "/bench/p", body))).body?.cancel();
});
Deno.bench("PUT 1MiB, metrics observer", { group: "put" }, async () => {
  await (await observed(request("PUT", "/bench/o", body))).body?.cancel();
});
Deno.bench("GET 1MiB, no observer", { group: "get", baseline: true }, async () => {
  await (await plain(request("GET", "/bench/get"))).bytes();
});
Deno.bench("GET 1MiB, metrics observer", { group: "get" }, async () => {
  await (await observed(request("GET", "/bench/get"))).bytes();
});

globalThis.addEventListener("unload", () => {
  Deno.removeSync(dir, { recursive: true });
});
