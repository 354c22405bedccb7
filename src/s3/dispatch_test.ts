import { equal, match, ok } from "node:assert/strict";
import { sha256Hex, signRequestForTest } from "../auth/testing.ts";
import { openObjectLayer } from "../object/mod.ts";
import type { ObjectLayer } from "../object/types.ts";
import { setLogSink } from "../util/logger.ts";
import { staticCredentialStore } from "./credentials.ts";
import { createS3Handler } from "./dispatch.ts";

const CREDS = { accessKey: "unit-test-key", secretKey: "unit-test-secret" };

async function withLayer(fn: (objects: ObjectLayer) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "shale-s3-unit-" });
  const objects = await openObjectLayer({
    drives: [1, 2, 3, 4].map((i) => `${dir}/d${i}`),
  });
  try {
    await fn(objects);
  } finally {
    await objects.close();
    await Deno.remove(dir, { recursive: true });
  }
}

function signed(method: string, path: string, body = ""): Request {
  const url = new URL(`http://127.0.0.1:9000${path}`);
  const s = signRequestForTest(
    {
      method,
      rawPath: url.pathname,
      rawQuery: url.search.slice(1),
      // Deno's server adds content-length to what it receives; a bare Request must carry it.
      headers: new Headers({
        host: url.host,
        ...(body !== "" ? { "content-length": String(new TextEncoder().encode(body).length) } : {}),
      }),
    },
    { ...CREDS, region: "us-east-1", payloadHash: sha256Hex(body) },
  );
  return new Request(url, {
    method,
    headers: s.headers,
    ...(body !== "" ? { body } : {}),
  });
}

Deno.test("a handler call with new Request() creates a bucket and stores an object", async () => {
  await withLayer(async (objects) => {
    const handle = createS3Handler({
      objects,
      credentials: staticCredentialStore([CREDS]),
      region: "us-east-1",
      domains: [],
    });
    equal((await handle(signed("PUT", "/unit"))).status, 200);
    const put = await handle(signed("PUT", "/unit/a%20key", "hello"));
    equal(put.status, 200);
    equal(put.headers.get("etag"), '"5d41402abc4b2a76b9719d911017c592"');
    const get = await handle(signed("GET", "/unit/a%20key"));
    equal(await get.text(), "hello");
    ok(get.headers.get("x-amz-request-id"));
  });
});

Deno.test("an unexpected error is InternalError, logged with the request id", async () => {
  await withLayer(async (real) => {
    // A fault-injecting layer: the real one, with listBuckets failing as a bug would.
    const objects: ObjectLayer = Object.create(real);
    objects.listBuckets = () => Promise.reject(new TypeError("boom in listBuckets"));
    const lines: string[] = [];
    setLogSink((l) => lines.push(l));
    try {
      const handle = createS3Handler({
        objects,
        credentials: staticCredentialStore([CREDS]),
        region: "us-east-1",
        domains: [],
      });
      const r = await handle(signed("GET", "/"));
      equal(r.status, 500);
      const text = await r.text();
      match(text, /<Code>InternalError<\/Code>/);
      const id = r.headers.get("x-amz-request-id")!;
      const logged = lines.map((l) => JSON.parse(l)).find((rec) => rec.requestId === id);
      ok(logged, lines.join("\n"));
      match(String(logged.error), /boom in listBuckets/);
      equal(text.includes("boom"), false);
    } finally {
      setLogSink((l) => console.log(l));
    }
  });
});

Deno.test("an anonymous request is AccessDenied and an unbuilt subresource NotImplemented", async () => {
  await withLayer(async (objects) => {
    const handle = createS3Handler({
      objects,
      credentials: staticCredentialStore([CREDS]),
      region: "us-east-1",
      domains: [],
    });
    const anon = await handle(new Request("http://127.0.0.1:9000/unit/k"));
    equal(anon.status, 403);
    match(await anon.text(), /<Code>AccessDenied<\/Code>/);
    const lifecycle = await handle(signed("PUT", "/unit?lifecycle", "<x/>"));
    equal(lifecycle.status, 501);
    match(await lifecycle.text(), /PutBucketLifecycleConfiguration is not implemented yet/);
  });
});
