/**
 * The verifier and the hand signers against the AWS SDK's own signer (@smithy/signature-v4, the
 * one @aws-sdk/client-s3 uses) and the S3 presigner: every request the SDK signs must verify, and
 * the hand signers must produce the SDK's signature for the same request.
 * Seeded: SHALE_TEST_SEED=<n> replays a run.
 */
import assert from "node:assert/strict";
import { createHash, createHmac } from "node:crypto";
import { SignatureV4 } from "@smithy/signature-v4";
import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { authenticateRequest } from "./sigv4.ts";
import type { AuthOptions, SignableRequest } from "./types.ts";
import { presignRequestForTest, signRequestForTest } from "./testing.ts";
import { uriEncode } from "./_crypto.ts";

const AK = "SHALETESTKEY0000";
const SK = "shale/test+secret=key/0123456789abcdef";
const REGION = "us-east-1";
const NOW = new Date(Date.UTC(2026, 10, 25, 12, 0, 0));

function bytes(d: string | ArrayBuffer | ArrayBufferView): string | Uint8Array {
  if (typeof d === "string") return d;
  if (d instanceof ArrayBuffer) return new Uint8Array(d);
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}

/** The Sha256 constructor the smithy signer wants, on node:crypto. */
class NodeSha256 {
  #h: ReturnType<typeof createHash> | ReturnType<typeof createHmac>;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.#h = secret === undefined ? createHash("sha256") : createHmac("sha256", bytes(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.#h.update(bytes(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.#h.digest()));
  }
}

function sdkSigner(sessionToken?: string): SignatureV4 {
  return new SignatureV4({
    credentials: {
      accessKeyId: AK,
      secretAccessKey: SK,
      ...(sessionToken ? { sessionToken } : {}),
    },
    region: REGION,
    service: "s3",
    sha256: NodeSha256,
    // S3 paths are escaped once, by the client, before signing.
    uriEscapePath: false,
  });
}

function options(sessionToken?: string): AuthOptions {
  return {
    region: REGION,
    now: NOW,
    lookup: (k) =>
      k === AK
        ? { accessKey: AK, secretKey: SK, ...(sessionToken ? { sessionToken } : {}) }
        : undefined,
  };
}

function seeded(): () => number {
  const env = Deno.env.get("SHALE_TEST_SEED");
  const seed = env !== undefined ? Number(env) : Math.floor(Math.random() * 2 ** 31);
  console.log(`testing_test seed ${seed} (replay with SHALE_TEST_SEED=${seed})`);
  let s = seed >>> 0 || 1;
  return () => {
    // xorshift32
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
}

const KEY_CHARS = [..."abcXYZ019-_.~ !$&'()*+,;=:@%/?#[]\u00e9\u20ac\u{1f600}"];

interface SdkShape {
  method: string;
  key: string;
  query: Record<string, string | string[]>;
  headers: Record<string, string>;
}

function randomShape(rand: () => number): SdkShape {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  let key = "";
  const len = 1 + Math.floor(rand() * 12);
  for (let i = 0; i < len; i++) key += pick(KEY_CHARS);
  const query: Record<string, string | string[]> = {};
  const nq = Math.floor(rand() * 4);
  for (let i = 0; i < nq; i++) {
    const name = pick([
      "prefix",
      "delimiter",
      "uploadId",
      "versionId",
      "x-id",
      "list-type",
      "tagging",
    ]);
    const value = pick(["", "a b", "a+b", "a/b", "\u00e9", "2", "*", "x=y&z"]);
    query[name] = rand() < 0.2 ? [value, value + "1"] : value;
  }
  const headers: Record<string, string> = { host: "s3.local:9000" };
  if (rand() < 0.5) headers["x-amz-meta-note"] = pick(["  spaced   out  ", "plain", "tab\there"]);
  if (rand() < 0.3) headers["range"] = "bytes=0-9";
  if (rand() < 0.3) headers["content-type"] = "text/plain; charset=utf-8";
  return { method: pick(["GET", "PUT", "HEAD", "DELETE", "POST"]), key, query, headers };
}

/** The path as the S3 SDK puts it on the wire: each key segment URI-encoded, `/` kept. */
function sdkPath(bucket: string, key: string): string {
  return `/${bucket}/${key.split("/").map(uriEncode).join("/")}`;
}

function rawQueryOf(query: Record<string, string | string[]>): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(query)) {
    for (const value of Array.isArray(v) ? v : [v]) {
      parts.push(`${uriEncode(k)}=${uriEncode(value)}`);
    }
  }
  return parts.join("&");
}

Deno.test("verifies requests signed by the AWS SDK signer, and signs them identically", async () => {
  const rand = seeded();
  const payload = createHash("sha256").update("body").digest("hex");
  for (let i = 0; i < 200; i++) {
    const shape = randomShape(rand);
    const path = sdkPath("bucket", shape.key);
    const signed = await sdkSigner().sign({
      method: shape.method,
      protocol: "http:",
      hostname: "s3.local",
      port: 9000,
      path,
      query: shape.query,
      headers: { ...shape.headers, "x-amz-content-sha256": payload },
    }, { signingDate: NOW });
    const req: SignableRequest = {
      method: shape.method,
      rawPath: path,
      rawQuery: rawQueryOf(shape.query),
      headers: new Headers(signed.headers as Record<string, string>),
    };
    const result = await authenticateRequest(req, options());
    assert.equal(result.kind, "signed", JSON.stringify(shape));

    const sdkSignature = /Signature=([0-9a-f]{64})/.exec(req.headers.get("authorization")!)?.[1];
    const signedHeaders = /SignedHeaders=([^,]+)/.exec(req.headers.get("authorization")!)?.[1];
    const mine = signRequestForTest({ ...req, headers: new Headers(shape.headers) }, {
      accessKey: AK,
      secretKey: SK,
      region: REGION,
      date: NOW,
      payloadHash: payload,
      signedHeaders: signedHeaders!.split(";"),
    });
    assert.equal(mine.signature, sdkSignature, JSON.stringify(shape));
  }
});

Deno.test("verifies URLs presigned by the AWS SDK signer, and presigns them identically", async () => {
  const rand = seeded();
  for (let i = 0; i < 100; i++) {
    const shape = randomShape(rand);
    const path = sdkPath("bucket", shape.key);
    const presigned = await sdkSigner().presign({
      method: shape.method,
      protocol: "http:",
      hostname: "s3.local",
      port: 9000,
      path,
      query: shape.query,
      // As @aws-sdk/s3-request-presigner does: hoisted into the query as X-Amz-Content-Sha256.
      headers: { host: "s3.local:9000", "X-Amz-Content-Sha256": "UNSIGNED-PAYLOAD" },
    }, { signingDate: NOW, expiresIn: 900 });
    const rawQuery = rawQueryOf(presigned.query as Record<string, string | string[]>);
    const req: SignableRequest = {
      method: shape.method,
      rawPath: path,
      rawQuery,
      headers: new Headers({ host: "s3.local:9000" }),
    };
    const result = await authenticateRequest(req, options());
    assert.equal(result.kind, "signed", JSON.stringify(shape));

    const mine = presignRequestForTest({ ...req, rawQuery: rawQueryOf(shape.query) }, {
      accessKey: AK,
      secretKey: SK,
      region: REGION,
      date: NOW,
      expiresSeconds: 900,
      payloadHash: "UNSIGNED-PAYLOAD",
    });
    assert.equal(mine.signature, presigned.query?.["X-Amz-Signature"], JSON.stringify(shape));
  }
});

Deno.test("verifies the S3 presigner's URLs for GetObject and PutObject with awkward keys", async () => {
  const client = new S3Client({
    region: REGION,
    endpoint: "http://127.0.0.1:9000",
    forcePathStyle: true,
    credentials: { accessKeyId: AK, secretAccessKey: SK },
  });
  const keys = ["plain.txt", "dir/sub dir/file+name.txt", "!*'()[]{}~^%é€😀", "a//b/", "?#&="];
  for (const Key of keys) {
    for (
      const command of [
        new GetObjectCommand({ Bucket: "bucket", Key, Range: "bytes=0-1" }),
        new PutObjectCommand({ Bucket: "bucket", Key, ContentType: "text/plain" }),
      ]
    ) {
      const url = new URL(
        await getSignedUrl(client, command, { expiresIn: 300, signingDate: NOW }),
      );
      const req: SignableRequest = {
        method: command instanceof GetObjectCommand ? "GET" : "PUT",
        rawPath: url.pathname,
        rawQuery: url.search.slice(1),
        // The headers the URL signed must come with it, as a client using it would send them.
        headers: new Headers({ host: url.host, range: "bytes=0-1", "content-type": "text/plain" }),
      };
      assert.match(url.searchParams.get("X-Amz-SignedHeaders")!, /^host(;range)?$/);
      const result = await authenticateRequest(req, options());
      assert.equal(result.kind, "signed", `${Key} ${url}`);
      if (result.kind === "signed") assert.equal(result.presigned, true);
    }
  }
  client.destroy();
});

Deno.test("verifies the SDK signer's session-token requests and refuses a swapped token", async () => {
  const signed = await sdkSigner("token-123").sign({
    method: "GET",
    protocol: "http:",
    hostname: "s3.local",
    path: "/bucket/key",
    query: {},
    headers: { host: "s3.local", "x-amz-content-sha256": "UNSIGNED-PAYLOAD" },
  }, { signingDate: NOW });
  const headers = new Headers(signed.headers as Record<string, string>);
  const req: SignableRequest = { method: "GET", rawPath: "/bucket/key", rawQuery: "", headers };
  const result = await authenticateRequest(req, options("token-123"));
  assert.equal(result.kind, "signed");
  await assert.rejects(authenticateRequest(req, options("token-456")), { code: "InvalidTokenId" });
});

Deno.test("verifies UTF-8 header values as the bytes the client signed", async () => {
  const value = "caf\u00e9 \u20ac \u{1f600}";
  const signed = await sdkSigner().sign({
    method: "PUT",
    protocol: "http:",
    hostname: "s3.local",
    path: "/bucket/key",
    query: {},
    headers: {
      host: "s3.local",
      "x-amz-meta-note": value,
      "x-amz-content-sha256": "UNSIGNED-PAYLOAD",
    },
  }, { signingDate: NOW });
  // What Deno's server hands over: the UTF-8 bytes as a byte string, one character per byte.
  const wire = String.fromCharCode(...new TextEncoder().encode(value));
  const headers = new Headers();
  for (const [k, v] of Object.entries(signed.headers as Record<string, string>)) {
    headers.set(k, k === "x-amz-meta-note" ? wire : v);
  }
  const req: SignableRequest = { method: "PUT", rawPath: "/bucket/key", rawQuery: "", headers };
  assert.equal((await authenticateRequest(req, options())).kind, "signed");
});
