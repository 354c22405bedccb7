import { equal, ok } from "node:assert/strict";
import { parseExposition, type Sample, signPrometheusToken } from "../src/admin/mod.ts";
import { startServer, type TestServer } from "./_server.ts";
import { signedFetch } from "./_ops.ts";

function pick(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const hit = samples.find((s) =>
    s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)
  );
  return hit?.value ?? 0;
}

async function scrape(
  s: TestServer,
  which: "cluster" | "node" | "bucket",
  token?: string,
): Promise<Sample[]> {
  const r = await fetch(`${s.endpoint}/minio/v2/metrics/${which}`, {
    headers: token !== undefined ? { authorization: `Bearer ${token}` } : {},
  });
  const text = await r.text();
  equal(r.status, 200, text);
  equal(r.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  const { samples, types } = parseExposition(text);
  equal(types.get("minio_s3_requests_total"), which === "bucket" ? undefined : "counter");
  return samples;
}

Deno.test("metrics count requests, errors, bytes and time to first byte after some traffic", async () => {
  const s = await startServer({ drives: 4 });
  try {
    const token = signPrometheusToken(s.accessKey, s.secretKey, {
      expiresAt: new Date(Date.now() + 3600_000),
    });
    const before = await scrape(s, "cluster", token);
    const bodies = [1000, 20_000, 300_000].map((n) => new Uint8Array(n).fill(7));
    equal((await signedFetch(s, "PUT", "/metrics")).status, 200);
    for (const [i, body] of bodies.entries()) {
      const r = await signedFetch(s, "PUT", `/metrics/k${i}`, { body });
      equal(r.status, 200, await r.text());
    }
    const got = await signedFetch(s, "GET", "/metrics/k1");
    equal(got.status, 200);
    // The counted response body keeps its declared length (no chunked encoding instead).
    equal(got.headers.get("content-length"), "20000");
    equal((await got.bytes()).length, 20_000);
    const missing = await signedFetch(s, "GET", "/metrics/nope");
    const missingBody = await missing.bytes();
    equal(missing.status, 404);
    const forged = await signedFetch(s, "GET", "/metrics/k0", { secretKey: "not-the-secret" });
    await forged.body?.cancel();
    equal(forged.status, 403);

    const after = await scrape(s, "cluster", token);
    const delta = (name: string, labels: Record<string, string> = {}) =>
      pick(after, name, labels) - pick(before, name, labels);
    equal(delta("minio_s3_requests_total", { api: "putobject" }), 3);
    equal(delta("minio_s3_requests_total", { api: "createbucket" }), 1);
    equal(delta("minio_s3_requests_total", { api: "getobject" }), 3);
    equal(delta("minio_s3_requests_errors_total", { api: "getobject" }), 2);
    equal(delta("minio_s3_requests_4xx_errors_total", { api: "getobject" }), 2);
    equal(delta("minio_s3_requests_5xx_errors_total", { api: "getobject" }), 0);
    equal(delta("minio_s3_requests_errors_total", { api: "putobject" }), 0);
    equal(delta("minio_s3_requests_rejected_auth_total"), 1);
    equal(delta("shale_s3_requests_by_status_total", { api: "getobject", status: "404" }), 1);
    equal(delta("shale_s3_requests_by_status_total", { api: "getobject", status: "403" }), 1);
    equal(delta("shale_s3_requests_by_status_total", { api: "putobject", status: "200" }), 3);
    // Bytes in are exactly the three bodies; bytes out the 20,000-byte body plus two error
    // documents, and the first scrape's own answer is not counted (it is not an S3 request).
    equal(delta("minio_s3_traffic_received_bytes"), 321_000);
    const sent = delta("minio_s3_traffic_sent_bytes");
    ok(sent >= 20_000 + missingBody.length, `sent ${sent}`);
    ok(sent < 20_000 + 4096, `sent ${sent}`);
    // The histogram: every GetObject lands in the +Inf bucket, and buckets are cumulative.
    equal(
      delta("minio_s3_requests_ttfb_seconds_distribution_count", { api: "getobject" }),
      3,
    );
    equal(
      delta("minio_s3_requests_ttfb_seconds_distribution_bucket", { api: "getobject", le: "+Inf" }),
      3,
    );
    ok(
      pick(after, "minio_s3_requests_ttfb_seconds_distribution_bucket", {
        api: "getobject",
        le: "0.01",
      }) <=
        pick(after, "minio_s3_requests_ttfb_seconds_distribution_bucket", {
          api: "getobject",
          le: "10",
        }),
    );
    // Drives from the object layer's status.
    equal(pick(after, "minio_cluster_drive_total"), 4);
    equal(pick(after, "minio_cluster_drive_online_total"), 4);
    equal(pick(after, "minio_cluster_drive_offline_total"), 0);
    ok(pick(after, "minio_cluster_capacity_raw_total_bytes") > 0);

    const node = await scrape(s, "node", token);
    for (const path of s.drivePaths) {
      ok(pick(node, "minio_node_drive_free_bytes", { drive: path }) > 0, path);
      equal(pick(node, "minio_node_drive_online", { drive: path }), 1);
    }
    ok(pick(node, "minio_node_process_resident_memory_bytes") > 0);
  } finally {
    equal(await s.stop(), 0);
  }
});

Deno.test("bucket usage comes from the background scan, not from a walk per scrape", async () => {
  const s = await startServer({ drives: 1, env: { SHALE_USAGE_SCAN_INTERVAL_MS: "100" } });
  try {
    const token = signPrometheusToken(s.accessKey, s.secretKey, {
      expiresAt: new Date(Date.now() + 3600_000),
    });
    equal((await signedFetch(s, "PUT", "/usage-a")).status, 200);
    equal((await signedFetch(s, "PUT", "/usage-b")).status, 200);
    for (const [key, size] of [["x", 10], ["y/z", 2000], ["w", 0]] as const) {
      const r = await signedFetch(s, "PUT", `/usage-a/${key}`, { body: new Uint8Array(size) });
      equal(r.status, 200);
    }
    const r = await signedFetch(s, "PUT", "/usage-b/one", { body: new Uint8Array(5) });
    equal(r.status, 200);
    // The scan runs in the background after writes: poll until it reflects them.
    let samples: Sample[] = [];
    for (let i = 0; i < 100; i++) {
      samples = await scrape(s, "bucket", token);
      if (pick(samples, "minio_bucket_usage_object_total", { bucket: "usage-b" }) === 1) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    equal(pick(samples, "minio_bucket_usage_object_total", { bucket: "usage-a" }), 3);
    equal(pick(samples, "minio_bucket_usage_total_bytes", { bucket: "usage-a" }), 2010);
    equal(pick(samples, "minio_bucket_usage_object_total", { bucket: "usage-b" }), 1);
    equal(pick(samples, "minio_bucket_usage_total_bytes", { bucket: "usage-b" }), 5);
    const cluster = await scrape(s, "cluster", token);
    equal(pick(cluster, "minio_cluster_bucket_total"), 2);
    equal(pick(cluster, "minio_cluster_usage_object_total"), 4);
    equal(pick(cluster, "minio_cluster_usage_total_bytes"), 2015);
  } finally {
    equal(await s.stop(), 0);
  }
});

Deno.test("metrics need a valid bearer token unless the auth type is public", async () => {
  const s = await startServer({ drives: 1 });
  try {
    const url = `${s.endpoint}/minio/v2/metrics/cluster`;
    const status = async (token?: string) => {
      const r = await fetch(url, {
        headers: token !== undefined ? { authorization: `Bearer ${token}` } : {},
      });
      await r.body?.cancel();
      return r.status;
    };
    const hour = new Date(Date.now() + 3600_000);
    equal(await status(), 403);
    equal(await status("not.a.jwt"), 403);
    equal(
      await status(signPrometheusToken(s.accessKey, "wrong-secret-key", { expiresAt: hour })),
      403,
    );
    equal(await status(signPrometheusToken("someone-else", s.secretKey, { expiresAt: hour })), 403);
    equal(
      await status(
        signPrometheusToken(s.accessKey, s.secretKey, { expiresAt: new Date(Date.now() - 1000) }),
      ),
      403,
    );
    equal(await status(signPrometheusToken(s.accessKey, s.secretKey, { expiresAt: hour })), 200);
  } finally {
    equal(await s.stop(), 0);
  }
  const open = await startServer({ drives: 1, env: { SHALE_PROMETHEUS_AUTH_TYPE: "public" } });
  try {
    const r = await fetch(`${open.endpoint}/minio/v2/metrics/node`);
    const { samples } = parseExposition(await r.text());
    equal(r.status, 200);
    equal(pick(samples, "minio_node_drive_online", { drive: open.drivePaths[0] ?? "" }), 1);
  } finally {
    equal(await open.stop(), 0);
  }
});
