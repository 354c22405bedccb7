/**
 * Seeded fuzzing of the router and of every request body parser the S3 handler has (the XML
 * documents of DeleteObjects, CompleteMultipartUpload, CreateBucket, Put{Object,Bucket}Tagging,
 * PutBucketCors and PutBucketEncryption, and PutBucketPolicy's JSON), through the real handler
 * over memory drives with signed requests:
 * - the router answers a Route or throws S3Error, nothing else, for random methods, paths, query
 *   strings, headers and hosts;
 * - every mutated document is answered with an S3 error or success, never 500 InternalError (the
 *   sign of an exception nobody translated; 501 NotImplemented is an answer: PutBucketEncryption
 *   without a KMS);
 * - a body past its cap is refused after at most the cap plus one chunk was read (memory stays
 *   bounded whatever the client sends).
 * Every target (each document, the router, the whole handler) runs through `fuzz`
 * (`../auth/_fuzz_testing.ts`): each input within INPUT_MS_MAX, the heap grown by at most
 * HEAP_GROWTH_BYTES_MAX over the run, the number of runs printed. SHALE_FUZZ_SEED=<n> replays;
 * SHALE_FUZZ_SECONDS (default 2) or SHALE_FUZZ_MS sets the time spent on each target.
 */
import assert from "node:assert/strict";
import { fuzz, withinMs } from "../auth/_fuzz_testing.ts";
import { sha256Hex, signRequestForTest } from "../auth/testing.ts";
import { BUCKET_POLICY_BYTES_MAX, XML_BODY_BYTES_MAX } from "../config/limits.ts";
import { memoryLayer } from "../object/_testing.ts";
import type { ShaleObjectLayer } from "../object/object_layer.ts";
import { setLogSink } from "../util/logger.ts";
import { staticCredentialStore } from "./credentials.ts";
import { createS3Handler, type S3Handler } from "./dispatch.ts";
import { S3Error } from "./errors.ts";
import { rawTarget, routeRequest } from "./router.ts";

/**
 * One input may take this long before it counts as a hang. Measured: at most 520 ms (a handler
 * request, 60 s run on a loaded 2-core host); looser than src/auth's 2 s because these run the
 * whole handler over a memory layer, inside a parallel suite.
 */
const INPUT_MS_MAX = 5_000;
/**
 * Heap growth allowed over one target's run, measured after a forced collection. Measured: at most
 * 1.5 MiB (the memory layer's caches; CreateBucket deletes each bucket it made, so no document
 * target keeps its successes). A request kept per input (about 3.5 KiB) crosses it within 2 s.
 */
const HEAP_GROWTH_BYTES_MAX = 16 * 1024 * 1024;
/**
 * What the whole-handler target may keep a run: its successful PUTs and POSTs stay in the memory
 * drives (about 35 bytes a run on average: +6.9 MiB over 198,009 runs in 60 s), so a run of any
 * length stays within its bound, while a request kept per run (kilobytes) is still caught.
 */
const HANDLER_KEPT_BYTES_PER_RUN_MAX = 256;
const BOUNDS = { inputMsMax: INPUT_MS_MAX, heapGrowthBytesMax: HEAP_GROWTH_BYTES_MAX };
const CREDS = { accessKey: "fuzz-key", secretKey: "fuzz-secret-key" };
const HOST = "127.0.0.1:9000";

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

const XML_TOKENS = [
  "<",
  ">",
  "</",
  "/>",
  "<a>",
  "</a>",
  "<Part>",
  "</Part>",
  "<Object>",
  "<Key>",
  "</Key>",
  "<Tag>",
  "<CORSRule>",
  "&amp;",
  "&lt;",
  "&#0;",
  "&#x110000;",
  "&x;",
  "&",
  '<!DOCTYPE x [<!ENTITY x "xxxxxxxxxx">]>',
  '<!ENTITY y SYSTEM "file:///etc/passwd">',
  "<![CDATA[",
  "]]>",
  "<?xml version='1.0'?>",
  "<!-- -->",
  ' xmlns="http://s3.amazonaws.com/doc/2006-03-01/"',
  ' a="1" a="2"',
  "\u0000",
  "\uffff",
  "\ud800",
  "\u20ac",
  "-1",
  "0",
  "10001",
  "99999999999999999999999",
  "1e400",
  "NaN",
  '"',
  "'",
  "\r\n",
  "<a>".repeat(200),
  "x".repeat(3000),
  "{",
  "}",
  "[",
  "]",
  ":",
  ",",
  "null",
  '"Statement"',
  '"Effect":"Deny"',
  '"Action":[]',
  '"Resource":"arn:aws:s3:::*"',
  '"Principal":{"AWS":["*"]}',
];

function mutate(s: string, r: () => number): string {
  const n = 1 + Math.floor(r() * 4);
  let out = s;
  for (let i = 0; i < n; i++) {
    const at = Math.floor(r() * (out.length + 1));
    const op = Math.floor(r() * 6);
    if (op === 0) out = out.slice(0, at) + out.slice(at + 1 + Math.floor(r() * 12));
    else if (op === 1) out = out.slice(0, at) + pick(r, XML_TOKENS) + out.slice(at);
    else if (op === 2) {
      out = out.slice(0, at) + String.fromCharCode(Math.floor(r() * 0x3000)) + out.slice(at + 1);
    } else if (op === 3) out = out.slice(0, at);
    else if (op === 4) out = out + out.slice(at, at + 40);
    else {
      // Swap two slices: elements out of order, closing tags before opening ones.
      const b = Math.floor(r() * (out.length + 1));
      const [x, y] = at < b ? [at, b] : [b, at];
      out = out.slice(y) + out.slice(x, y) + out.slice(0, x);
    }
  }
  return out;
}

function signed(
  method: string,
  target: string,
  body: string,
  headers: Record<string, string> = {},
): Request {
  const { rawPath, rawQuery } = rawTarget(`http://${HOST}${target}`);
  const bytes = new TextEncoder().encode(body);
  const s = signRequestForTest({
    method,
    rawPath,
    rawQuery,
    headers: new Headers({ host: HOST, "content-length": String(bytes.length), ...headers }),
  }, { ...CREDS, region: "us-east-1", payloadHash: sha256Hex(body) });
  return new Request(`http://${HOST}${target}`, {
    method,
    headers: s.headers,
    ...(method === "GET" || method === "HEAD" ? {} : { body: bytes }),
  });
}

interface Target {
  name: string;
  method: string;
  /** The request target; `i` makes fresh names where a success would change state. */
  target: (i: number) => string;
  valid: string;
  headers?: Record<string, string>;
  /** The request that undoes a success at `target(i)`, so that a long run's state stays flat. */
  undo?: (i: number) => { method: string; target: string };
}

async function setup(): Promise<{ layer: ShaleObjectLayer; handle: S3Handler; targets: Target[] }> {
  const layer = await memoryLayer(4);
  const handle = createS3Handler({
    objects: layer,
    credentials: staticCredentialStore([CREDS]),
    region: "us-east-1",
    domains: ["s3.example.com"],
  });
  assert.equal((await handle(signed("PUT", "/fzz", ""))).status, 200);
  for (const key of ["a", "b/c", "k"]) {
    assert.equal((await handle(signed("PUT", `/fzz/${key}`, "data"))).status, 200);
  }
  const created = await handle(signed("POST", "/fzz/mp?uploads", ""));
  const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(await created.text())?.[1];
  assert.ok(uploadId !== undefined);
  const part = await handle(signed("PUT", `/fzz/mp?partNumber=1&uploadId=${uploadId}`, "part"));
  const etag = part.headers.get("etag") ?? '"x"';
  const ns = ' xmlns="http://s3.amazonaws.com/doc/2006-03-01/"';
  const targets: Target[] = [
    {
      name: "DeleteObjects",
      method: "POST",
      target: () => "/fzz?delete",
      valid: `<Delete${ns}><Quiet>false</Quiet><Object><Key>a</Key></Object>` +
        `<Object><Key>b/c</Key><VersionId>null</VersionId></Object></Delete>`,
    },
    {
      name: "CompleteMultipartUpload",
      method: "POST",
      target: () => `/fzz/mp?uploadId=${uploadId}`,
      valid: `<CompleteMultipartUpload${ns}><Part><PartNumber>1</PartNumber>` +
        `<ETag>${etag}</ETag><ChecksumCRC32>AAAAAA==</ChecksumCRC32></Part>` +
        `</CompleteMultipartUpload>`,
    },
    {
      name: "CreateBucket",
      method: "PUT",
      target: (i) => `/new-${i}`,
      valid: `<CreateBucketConfiguration${ns}><LocationConstraint>us-east-1` +
        `</LocationConstraint></CreateBucketConfiguration>`,
      undo: (i) => ({ method: "DELETE", target: `/new-${i}` }),
    },
    {
      name: "PutObjectTagging",
      method: "PUT",
      target: () => "/fzz/k?tagging",
      valid: `<Tagging${ns}><TagSet><Tag><Key>team</Key><Value>ml</Value></Tag>` +
        `<Tag><Key>tier</Key><Value></Value></Tag></TagSet></Tagging>`,
    },
    {
      name: "PutBucketTagging",
      method: "PUT",
      target: () => "/fzz?tagging",
      valid: `<Tagging${ns}><TagSet><Tag><Key>owner</Key><Value>me</Value></Tag></TagSet>` +
        `</Tagging>`,
    },
    {
      name: "PutBucketCors",
      method: "PUT",
      target: () => "/fzz?cors",
      valid: `<CORSConfiguration${ns}><CORSRule><ID>r1</ID>` +
        `<AllowedOrigin>https://*.example.com</AllowedOrigin><AllowedMethod>GET</AllowedMethod>` +
        `<AllowedMethod>PUT</AllowedMethod><AllowedHeader>*</AllowedHeader>` +
        `<ExposeHeader>ETag</ExposeHeader><MaxAgeSeconds>3000</MaxAgeSeconds></CORSRule>` +
        `</CORSConfiguration>`,
    },
    {
      name: "PutBucketEncryption",
      method: "PUT",
      target: () => "/fzz?encryption",
      valid: `<ServerSideEncryptionConfiguration${ns}><Rule>` +
        `<ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm>` +
        `</ApplyServerSideEncryptionByDefault></Rule></ServerSideEncryptionConfiguration>`,
    },
    {
      name: "PutBucketPolicy",
      method: "PUT",
      target: () => "/fzz?policy",
      valid: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{
          Sid: "read",
          Effect: "Allow",
          Principal: { AWS: ["*"] },
          Action: ["s3:GetObject"],
          Resource: ["arn:aws:s3:::fzz/public/*"],
          Condition: { IpAddress: { "aws:SourceIp": "10.0.0.0/8" } },
        }],
      }),
    },
  ];
  return { layer, handle, targets };
}

Deno.test("fuzzed request documents get S3 errors, never InternalError, a hang or a crash", async () => {
  const errors: string[] = [];
  setLogSink((line) => {
    if (line.includes('"level":"error"')) errors.push(line);
  });
  const { layer, handle, targets } = await setup();
  try {
    for (const t of targets) {
      // The valid document is accepted (or refused for a reason of state, never as malformed).
      const first = await handle(signed(t.method, t.target(0), t.valid, t.headers));
      const firstText = await first.text();
      assert.notEqual(first.status, 500, `${t.name}: the valid document: ${firstText}`);
      const statuses = new Map<number, number>();
      const figures = () => `valid ${first.status}, statuses ${JSON.stringify([...statuses])}`;
      await fuzz(`s3 fuzz ${t.name}`, { ...BOUNDS, figures }, async (r, run) => {
        const body = mutate(t.valid, r);
        const res = await handle(signed(t.method, t.target(run + 1), body, t.headers));
        const text = await res.text();
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        assert.ok(
          res.status !== 500,
          `${t.name}: ${res.status} for ${JSON.stringify(body.slice(0, 300))}: ${text}`,
        );
        if (res.ok && t.undo !== undefined) {
          const { method, target } = t.undo(run + 1);
          const undone = await handle(signed(method, target, ""));
          assert.ok(undone.ok, `${t.name}: ${method} ${target}: ${await undone.text()}`);
        }
      });
    }
    assert.deepEqual(errors, []);
  } finally {
    setLogSink((line) => console.log(line));
    await layer.close();
  }
});

Deno.test("a request document past its cap is refused without reading much further", async () => {
  setLogSink(() => {});
  const { layer, handle, targets } = await setup();
  try {
    for (const t of targets) {
      const cap = t.name === "PutBucketPolicy" ? BUCKET_POLICY_BYTES_MAX : XML_BODY_BYTES_MAX;
      const chunk = new Uint8Array(64 * 1024).fill(0x20);
      let pulled = 0;
      // 64 MiB on offer; an unbounded reader would take all of it.
      const body = new ReadableStream<Uint8Array>({
        pull(c) {
          if (pulled >= 64 * 1024 * 1024) return c.close();
          pulled += chunk.length;
          c.enqueue(chunk.slice());
        },
      });
      const { rawPath, rawQuery } = rawTarget(`http://${HOST}${t.target(999_999)}`);
      const s = signRequestForTest({
        method: t.method,
        rawPath,
        rawQuery,
        headers: new Headers({ host: HOST }),
      }, { ...CREDS, region: "us-east-1", payloadHash: "UNSIGNED-PAYLOAD" });
      const res = await withinMs(
        handle(
          new Request(`http://${HOST}${t.target(999_999)}`, {
            method: t.method,
            headers: s.headers,
            body,
          }),
        ),
        INPUT_MS_MAX,
        `${t.name} oversized`,
      );
      await res.body?.cancel();
      assert.ok(res.status >= 400 && res.status !== 500, `${t.name}: ${res.status}`);
      assert.ok(pulled <= cap + 2 * chunk.length, `${t.name} read ${pulled} bytes (cap ${cap})`);
    }
  } finally {
    setLogSink((line) => console.log(line));
    await layer.close();
  }
});

const METHODS = ["GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS", "PATCH", "get", "TRACE", ""];
const SUBRESOURCES = [
  "acl",
  "cors",
  "delete",
  "encryption",
  "lifecycle",
  "list-type=2",
  "location",
  "partNumber=1",
  "policy",
  "policyStatus",
  "tagging",
  "uploadId=x",
  "uploads",
  "versionId=null",
  "versioning",
  "versions",
  "website",
  "attributes",
  "retention",
  "x-id=GetObject",
  "%",
  "=",
  "&&",
  "a=%ZZ",
  "prefix=%00",
];
const HOSTS = [
  HOST,
  "s3.example.com",
  "bucket.s3.example.com",
  "a.b.s3.example.com",
  ".s3.example.com",
  "S3.EXAMPLE.COM:443",
  "[::1]:9000",
  "",
  "x".repeat(300),
];
const PATH_BITS = [
  "",
  "/",
  "//",
  "b",
  "bucket",
  "k",
  "..",
  ".",
  "%2F",
  "%",
  "%zz",
  "~",
  "a b",
  "\u20ac",
];

Deno.test("the router answers a route or an S3Error for random requests", async () => {
  const outcomes = new Map<string, number>();
  const figures = () => `${outcomes.size} distinct outcomes`;
  // Sync: each input is timed when it returns (nothing can interrupt a sync call).
  await fuzz("s3 fuzz router", { ...BOUNDS, figures }, (r) => {
    const segments = Array.from({ length: Math.floor(r() * 5) }, () => pick(r, PATH_BITS));
    let path = "/" + segments.join("/");
    if (r() < 0.2) path = mutate(path, r);
    const query = Array.from({ length: Math.floor(r() * 4) }, () => pick(r, SUBRESOURCES))
      .join("&");
    const host = pick(r, HOSTS);
    const method = pick(r, METHODS);
    const headers = new Headers();
    if (r() < 0.3) headers.set("x-amz-copy-source", mutate("/b/k", r).replace(/[^\x20-\x7e]/g, ""));
    if (r() < 0.3) headers.set("content-type", "multipart/form-data; boundary=x");
    const target = `${path.replace(/[#?]/g, "")}${query === "" ? "" : `?${query}`}`;
    let url: URL;
    try {
      url = new URL(`http://127.0.0.1:9000${target}`);
    } catch {
      return; // not a URL a server could have received
    }
    try {
      const route = routeRequest({
        method,
        url,
        rawPath: rawTarget(`http://127.0.0.1:9000${target}`).rawPath,
        host,
        headers,
      }, ["s3.example.com"]);
      outcomes.set(route.operation, (outcomes.get(route.operation) ?? 0) + 1);
    } catch (e) {
      if (!(e instanceof S3Error)) {
        assert.fail(`${method} ${target} (host ${host}) threw ${e}`);
      }
      outcomes.set(e.code, (outcomes.get(e.code) ?? 0) + 1);
    }
  });
  assert.ok(outcomes.size > 10);
});

Deno.test("random requests through the whole handler never answer InternalError", async () => {
  const errors: string[] = [];
  setLogSink((line) => {
    if (line.includes('"level":"error"')) errors.push(line);
  });
  const { layer, handle } = await setup();
  try {
    const statuses = new Map<number, number>();
    const figures = () => `statuses ${JSON.stringify([...statuses])}`;
    const bounds = { ...BOUNDS, keptBytesPerRunMax: HANDLER_KEPT_BYTES_PER_RUN_MAX, figures };
    await fuzz("s3 fuzz handler", bounds, async (r) => {
      const key = Array.from({ length: Math.floor(r() * 3) }, () => pick(r, PATH_BITS)).join("/");
      const bucket = pick(r, ["fzz", "nope", "FZZ", "x", "fz.dots", ""]);
      let path = `/${bucket}${key === "" ? "" : `/${encodeURI(key)}`}`;
      if (r() < 0.2) path = mutate(path, r).replace(/[#?\s]/g, "");
      const query = Array.from({ length: Math.floor(r() * 3) }, () => pick(r, SUBRESOURCES))
        .join("&");
      const method = pick(r, ["GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS"]);
      const body = method === "PUT" || method === "POST" ? mutate("<a>body</a>", r) : "";
      const headers: Record<string, string> = {};
      if (r() < 0.2) headers["range"] = mutate("bytes=0-10", r).replace(/[^\x20-\x7e]/g, "");
      if (r() < 0.1) headers["x-amz-copy-source"] = "/fzz/k";
      if (r() < 0.1) headers["if-match"] = '"x"';
      const target = `${path}${query === "" ? "" : `?${query}`}`;
      let req: Request;
      try {
        req = signed(method, target, body, headers);
      } catch {
        return; // a target no client could send
      }
      const res = await handle(req);
      const text = res.status === 500 ? await res.text() : "";
      await res.body?.cancel().catch(() => {});
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      assert.ok(
        res.status !== 500,
        `${method} ${target} ${JSON.stringify(headers)}: 500 ${text}\n${errors.join("\n")}`,
      );
    });
    assert.deepEqual(errors, []);
  } finally {
    setLogSink((line) => console.log(line));
    await layer.close();
  }
});
