/**
 * Seeded fuzzing of the SigV4 and SigV2 header parsers, the aws-chunked decoder and the POST form reader:
 * random mutations of valid inputs must end in success or a SigV4Error, never another exception,
 * a hang, or a clean close of a signed body whose bytes changed. Every target runs through
 * `fuzz` (`_fuzz_testing.ts`): each input within INPUT_MS_MAX, the heap grown by at most
 * HEAP_GROWTH_BYTES_MAX over the run, the number of runs printed. SHALE_FUZZ_SEED=<n> replays;
 * SHALE_FUZZ_SECONDS (default 2) or SHALE_FUZZ_MS sets the time spent on each target.
 */
import assert from "node:assert/strict";
import { authenticateRequest } from "./sigv4.ts";
import { canonicalResourceV2, signV2, stringToSignV2 } from "./sigv2.ts";
import { decodeAwsChunked, type DecodeAwsChunkedOptions } from "./chunked.ts";
import { parseMultipartForm } from "./multipart.ts";
import { type AuthOptions, type SignableRequest, SigV4Error } from "./types.ts";
import { encodeAwsChunkedForTest, presignRequestForTest, signRequestForTest } from "./testing.ts";
import {
  canonicalHeaderValue,
  canonicalQuery,
  canonicalUri,
  deriveSigningKey,
  parseQuery,
} from "./_crypto.ts";
import { fuzz, FUZZ_BUDGET_MS_DEFAULT, fuzzBudgetMs } from "./_fuzz_testing.ts";
import { CHUNK_SIZE_BYTES_MAX } from "../config/limits.ts";

/** One input may take this long before it counts as a hang (measured: at most 135 ms, loaded). */
const INPUT_MS_MAX = 2_000;
/**
 * Heap growth allowed over one target's run, measured after a forced collection. The targets keep
 * nothing: measured at most 1 MiB (V8's own caches) over 2 s or 20 s. A request kept per input
 * (about 1 KiB) crosses it within the default 2 s; a leak of a hundred bytes an input needs a
 * longer run (SHALE_FUZZ_SECONDS=60).
 */
const HEAP_GROWTH_BYTES_MAX = 8 * 1024 * 1024;
const BOUNDS = { inputMsMax: INPUT_MS_MAX, heapGrowthBytesMax: HEAP_GROWTH_BYTES_MAX };

Deno.test("SHALE_FUZZ_SECONDS and SHALE_FUZZ_MS set the time per fuzz target", () => {
  const env = (vars: Record<string, string>) => (n: string) => vars[n];
  assert.equal(fuzzBudgetMs(env({})), FUZZ_BUDGET_MS_DEFAULT);
  assert.equal(fuzzBudgetMs(env({ SHALE_FUZZ_SECONDS: "60" })), 60_000);
  assert.equal(fuzzBudgetMs(env({ SHALE_FUZZ_SECONDS: "0.5" })), 500);
  assert.equal(fuzzBudgetMs(env({ SHALE_FUZZ_MS: "250" })), 250);
  assert.equal(fuzzBudgetMs(env({ SHALE_FUZZ_MS: "250", SHALE_FUZZ_SECONDS: "60" })), 250);
  assert.equal(fuzzBudgetMs(env({ SHALE_FUZZ_MS: "", SHALE_FUZZ_SECONDS: "3" })), 3_000);
  assert.throws(() => fuzzBudgetMs(env({ SHALE_FUZZ_SECONDS: "1m" })), /SHALE_FUZZ_SECONDS/);
  assert.throws(() => fuzzBudgetMs(env({ SHALE_FUZZ_MS: "-5" })), /SHALE_FUZZ_MS/);
});

Deno.test("fuzz fails an input past its deadline, a heap that grows, and too few runs", async () => {
  const quiet = { ...BOUNDS, budgetMs: 30, runsMin: 0 };
  const log = console.log;
  console.log = () => {};
  try {
    await assert.rejects(
      fuzz("slow sync", { ...quiet, inputMsMax: 5 }, () => {
        const end = performance.now() + 10;
        while (performance.now() < end) { /* busy */ }
      }),
      /run 0: took \d+ ms, more than 5 ms/,
    );
    await assert.rejects(
      fuzz("hung async", { ...quiet, inputMsMax: 5 }, () => new Promise(() => {})),
      /run 0: no answer in 5 ms/,
    );
    // 64 arrays of 16 Ki numbers kept (on the JS heap, unlike a typed array's bytes): 4 MiB or more.
    const kept: number[][] = [];
    await assert.rejects(
      fuzz("leaky", { ...quiet, heapGrowthBytesMax: 1024 * 1024 }, (_, run) => {
        if (kept.length < 64) kept.push(new Array<number>(16 * 1024).fill(run + 0.5));
      }),
      /the heap grew by \d+ bytes/,
    );
    assert.equal(kept.length, 64);
    await assert.rejects(fuzz("idle", { ...quiet, runsMin: 1_000_000 }, () => {}), /fewer than/);
    await assert.rejects(
      fuzz("throws", quiet, () => {
        throw new TypeError("boom");
      }),
      /throws seed \d+ run 0: boom/,
    );
  } finally {
    console.log = log;
  }
});

const TOKENS = [
  "",
  " ",
  ",",
  ";",
  "=",
  "/",
  "%",
  "%2",
  "%ZZ",
  "\t",
  "AWS4-HMAC-SHA256",
  "Credential=",
  "SignedHeaders=",
  "Signature=",
  "aws4_request",
  "host",
  "\u0000",
  "\u00ff",
  "\u20ac",
  "9".repeat(40),
  "x".repeat(5000),
];

function mutateString(s: string, r: () => number): string {
  const n = 1 + Math.floor(r() * 3);
  let out = s;
  for (let i = 0; i < n; i++) {
    const at = Math.floor(r() * (out.length + 1));
    const op = Math.floor(r() * 5);
    if (op === 0) out = out.slice(0, at) + out.slice(at + 1 + Math.floor(r() * 8));
    else if (op === 1) {
      out = out.slice(0, at) + TOKENS[Math.floor(r() * TOKENS.length)] + out.slice(at);
    } else if (op === 2) {
      out = out.slice(0, at) + String.fromCharCode(32 + Math.floor(r() * 95)) + out.slice(at + 1);
    } else if (op === 3) out = out.slice(0, at);
    else out = out + out.slice(at, at + 20);
  }
  return out;
}

const AK = "FUZZKEY";
const SK = "fuzz-secret";
const NOW = new Date(Date.UTC(2026, 0, 2, 3, 4, 5));
const OPTIONS: AuthOptions = {
  region: "us-east-1",
  now: NOW,
  lookup: (k) => (k === AK ? { accessKey: AK, secretKey: SK } : undefined),
};

function trySetHeader(headers: Headers, name: string, value: string): void {
  try {
    headers.set(name, value);
  } catch {
    // Headers refuses some bytes (NUL, CR, LF); a server would never see those either.
  }
}

/** What a signature vouches for, in canonical form. */
function fingerprint(req: SignableRequest): string {
  // A presigned URL signs host only: its other headers may change freely.
  const headerSigned = req.headers.has("authorization");
  return JSON.stringify([
    req.method,
    canonicalUri(req.rawPath),
    canonicalQuery(parseQuery(req.rawQuery), "X-Amz-Signature"),
    headerSigned ? canonicalHeaderValue(req.headers.get("x-amz-date") ?? "") : "",
    headerSigned ? canonicalHeaderValue(req.headers.get("x-amz-content-sha256") ?? "") : "",
  ]);
}

/**
 * Authenticates a mutated request: a SigV4Error is a fine end, any other error fails the run, and
 * a request that still verifies must say what the signed seed said. True when it verified.
 */
async function checkMutated(
  req: SignableRequest,
  seed: SignableRequest,
  fingerprintOf: (req: SignableRequest) => string,
): Promise<boolean> {
  let result;
  try {
    result = await authenticateRequest(req, OPTIONS);
  } catch (e) {
    if (e instanceof SigV4Error) return false;
    throw new Error(`${e} for ${JSON.stringify({ ...req, headers: [...req.headers] })}`);
  }
  if (result.kind !== "signed") return false;
  assert.equal(fingerprintOf(req), fingerprintOf(seed), "an altered request verified");
  return true;
}

Deno.test("fuzzed SigV4 requests end in success or SigV4Error", async () => {
  const creds = { accessKey: AK, secretKey: SK, region: "us-east-1", date: NOW };
  const base: SignableRequest = {
    method: "PUT",
    rawPath: "/bucket/some%20key/%E2%82%AC",
    rawQuery: "partNumber=1&uploadId=abc%2Bdef",
    headers: new Headers({ host: "s3.local:9000", "x-amz-meta-a": "b", "content-length": "5" }),
  };
  const seeds = [
    signRequestForTest(base, { ...creds, payloadHash: "UNSIGNED-PAYLOAD" }),
    signRequestForTest(base, { ...creds, payloadHash: "STREAMING-AWS4-HMAC-SHA256-PAYLOAD" }),
    presignRequestForTest(base, { ...creds, expiresSeconds: 600 }),
  ];
  let verified = 0;
  await fuzz("sigv4 fuzz", { ...BOUNDS, figures: () => `${verified} verified` }, async (r, run) => {
    const seed = seeds[run % seeds.length]!;
    const req: SignableRequest = { ...seed, headers: new Headers(seed.headers) };
    const target = Math.floor(r() * 6);
    if (target === 0) {
      trySetHeader(
        req.headers,
        "authorization",
        mutateString(req.headers.get("authorization") ?? "", r),
      );
    } else if (target === 1) {
      trySetHeader(req.headers, "x-amz-date", mutateString(req.headers.get("x-amz-date") ?? "", r));
    } else if (target === 2) {
      trySetHeader(
        req.headers,
        "x-amz-content-sha256",
        mutateString(req.headers.get("x-amz-content-sha256") ?? "", r),
      );
    } else if (target === 3) req.rawPath = mutateString(req.rawPath, r);
    else if (target === 4) req.rawQuery = mutateString(req.rawQuery, r);
    else req.method = mutateString(req.method, r);
    if (await checkMutated(req, seed, fingerprint)) verified++;
  });
});

/** What a SigV2 signature vouches for: its StringToSign, rebuilt from the request as sent. */
function fingerprintV2(req: SignableRequest): string {
  const h = req.headers;
  const amz = [...h].filter(([n]) => n.startsWith("x-amz-") && n !== "x-amz-date")
    .map(([n, v]) => `${n}:${v.trim()}`).sort();
  const q = new URLSearchParams(req.rawQuery);
  return JSON.stringify([
    req.method,
    h.get("content-md5") ?? "",
    h.get("content-type") ?? "",
    h.has("authorization") ? h.get("x-amz-date") ?? h.get("date") ?? "" : q.get("Expires"),
    amz,
    canonicalResourceV2(req),
  ]);
}

Deno.test("fuzzed SigV2 requests end in success or SigV4Error", async () => {
  const date = NOW.toUTCString();
  const expires = String(Math.floor(NOW.getTime() / 1000) + 600);
  const path = "/bucket/some%20key";
  const headerSigned: SignableRequest = {
    method: "PUT",
    rawPath: path,
    rawQuery: "uploadId=abc&partNumber=2",
    headers: new Headers({
      host: "s3.local:9000",
      date,
      "content-type": "text/plain",
      "content-md5": "1B2M2Y8AsgTpgAmY7PhCfg==",
      "x-amz-meta-a": "b",
    }),
  };
  const header = stringToSignV2({
    method: "PUT",
    contentMd5: "1B2M2Y8AsgTpgAmY7PhCfg==",
    contentType: "text/plain",
    date,
    amzHeaders: new Map([["x-amz-meta-a", "b"]]),
    resource: canonicalResourceV2(headerSigned),
  });
  headerSigned.headers.set("authorization", `AWS ${AK}:${signV2(SK, header)}`);
  const presign = stringToSignV2({
    method: "GET",
    contentMd5: "",
    contentType: "",
    date: expires,
    amzHeaders: new Map(),
    resource: `${path}?versionId=v1`,
  });
  const presigned: SignableRequest = {
    method: "GET",
    rawPath: path,
    rawQuery: `versionId=v1&AWSAccessKeyId=${AK}&Expires=${expires}&Signature=${
      encodeURIComponent(signV2(SK, presign))
    }`,
    headers: new Headers({ host: "s3.local:9000" }),
  };
  const seeds = [headerSigned, presigned];
  let verified = 0;
  await fuzz("sigv2 fuzz", { ...BOUNDS, figures: () => `${verified} verified` }, async (r, run) => {
    const seed = seeds[run % seeds.length]!;
    const req: SignableRequest = { ...seed, headers: new Headers(seed.headers) };
    const target = Math.floor(r() * 7);
    const header = ["authorization", "date", "content-md5", "content-type", "x-amz-meta-a"][target];
    if (header !== undefined) {
      trySetHeader(req.headers, header, mutateString(req.headers.get(header) ?? "", r));
    } else if (target === 5) req.rawPath = mutateString(req.rawPath, r);
    else req.rawQuery = mutateString(req.rawQuery, r);
    if (await checkMutated(req, seed, fingerprintV2)) verified++;
  });
});

const enc = new TextEncoder();

function mutateBytes(body: Uint8Array, r: () => number): Uint8Array {
  const parts: Uint8Array[] = [];
  let b = body;
  const n = 1 + Math.floor(r() * 3);
  for (let i = 0; i < n; i++) {
    const at = Math.floor(r() * (b.length + 1));
    const op = Math.floor(r() * 6);
    if (op === 0 && at < b.length) {
      b = b.slice();
      b[at] = Math.floor(r() * 256);
    } else if (op === 1) {
      b = concat([
        b.subarray(0, at),
        b.subarray(Math.min(b.length, at + 1 + Math.floor(r() * 16))),
      ]);
    } else if (op === 2) {
      const token = enc.encode(
        [
          "\r\n",
          "\n",
          ";",
          "0",
          "ffffffff",
          "10000",
          ";chunk-signature=",
          ":",
          "x-amz-trailer-signature:",
        ][
          Math.floor(r() * 9)
        ]!,
      );
      b = concat([b.subarray(0, at), token, b.subarray(at)]);
    } else if (op === 3) b = b.subarray(0, at);
    else if (op === 4) b = concat([b, b.subarray(at, at + 200)]);
    else {
      const len = Math.floor(r() * 64);
      b = concat([b.subarray(0, at), b.subarray(at + len, at + 2 * len), b.subarray(at)]);
    }
    parts.length = 0;
  }
  return b;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function piecesOf(body: Uint8Array, r: () => number): ReadableStream<Uint8Array> {
  let off = 0;
  return new ReadableStream({
    pull(c) {
      if (off >= body.length) return c.close();
      const size = 1 + Math.floor(r() * (r() < 0.5 ? 16 : 4096));
      c.enqueue(body.slice(off, off + size));
      off += size;
    },
  });
}

Deno.test("fuzzed aws-chunked bodies end in success or SigV4Error, never hang", async () => {
  const ctx = {
    seedSignature: "a".repeat(64),
    signingKey: deriveSigningKey(SK, "20260102", "us-east-1"),
    scope: "20260102/us-east-1/s3/aws4_request",
    amzDate: "20260102T030405Z",
  };
  const data = new Uint8Array(5000).map((_, i) => (i * 31) & 0xff);
  const trailers: Array<[string, string]> = [["x-amz-checksum-crc32", "AAAAAA=="]];
  const shapes: Array<{ body: Uint8Array; opts: DecodeAwsChunkedOptions; signed: boolean }> = [
    {
      body: encodeAwsChunkedForTest(data, { chunkSize: 1000, signing: ctx }),
      opts: { signing: ctx, trailer: false, decodedContentLength: data.length },
      signed: true,
    },
    {
      body: encodeAwsChunkedForTest(data, { chunkSize: 777, signing: ctx, trailers }),
      opts: { signing: ctx, trailer: true, trailerNames: ["x-amz-checksum-crc32"] },
      signed: true,
    },
    {
      body: encodeAwsChunkedForTest(data, { chunkSize: 1234, trailers }),
      opts: { trailer: true, decodedContentLength: data.length },
      signed: false,
    },
  ];
  let accepted = 0;
  const figures = () => `${accepted} accepted`;
  await fuzz("chunked fuzz", { ...BOUNDS, figures }, async (r, run) => {
    const shape = shapes[run % shapes.length]!;
    const body = mutateBytes(shape.body, r);
    const { stream, trailers: trailerPromise } = decodeAwsChunked(piecesOf(body, r), shape.opts);
    const out: Uint8Array[] = [];
    let error: unknown;
    try {
      for await (const p of stream) {
        assert.ok(p.length <= CHUNK_SIZE_BYTES_MAX, `a piece of ${p.length} bytes`);
        out.push(p);
      }
    } catch (e) {
      error = e;
    }
    if (error !== undefined) {
      if (!(error instanceof SigV4Error)) throw error;
      await assert.rejects(trailerPromise);
      return;
    }
    accepted++;
    await trailerPromise;
    if (shape.signed) {
      // Whatever was accepted is exactly what was signed.
      const got = concat(out);
      assert.ok(
        got.length === data.length && got.every((b, i) => b === data[i]),
        "a signed body decoded to other bytes",
      );
    }
  });
});

Deno.test("fuzzed POST forms end in success or SigV4Error, never hang", async () => {
  const boundary = "----ShaleFuzzBoundary7MA4YWxkTrZu0gW";
  const fileData = new Uint8Array(3000).map((_, i) => (i * 13) & 0xff);
  const form = concat([
    enc.encode(
      `--${boundary}\r\nContent-Disposition: form-data; name="key"\r\n\r\nuser/\${filename}\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="policy"\r\n\r\neyJ9\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\n` +
        `Content-Type: application/octet-stream\r\n\r\n`,
    ),
    fileData,
    enc.encode(`\r\n--${boundary}--\r\n`),
  ]);
  let accepted = 0;
  const figures = () => `${accepted} accepted`;
  await fuzz("multipart fuzz", { ...BOUNDS, figures }, async (r) => {
    const body = mutateBytes(form, r);
    try {
      const parsed = await parseMultipartForm(piecesOf(body, r), boundary, {
        fieldsBytesMax: 4096,
      });
      let n = 0;
      for await (const p of parsed.file.stream) n += p.length;
      assert.ok(n <= body.length, `a file of ${n} bytes from a body of ${body.length}`);
    } catch (e) {
      if (e instanceof SigV4Error) return;
      throw e;
    }
    accepted++;
  });
});
