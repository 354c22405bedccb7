/**
 * Real clients against the auth layer alone: a throwaway HTTP handler authenticates each request,
 * wraps the body as the S3 layer does, and records what it received. Whatever payload mode a
 * client picks (signed sha256, UNSIGNED-PAYLOAD, aws-chunked with or without trailers), the bytes
 * must arrive intact and every signature must verify.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { authenticateRequest } from "./sigv4.ts";
import { verifySha256Payload } from "./payload.ts";
import { decodeAwsChunked, type DecodeAwsChunkedOptions } from "./chunked.ts";
import { SigV4Error } from "./types.ts";

const AK = "SHALECLIENTKEY";
const SK = "shale-client-secret-key-0123456789";

interface Received {
  mode: string;
  sha256: string;
  bytes: number;
  trailers: Record<string, string>;
}

function serve(
  tls?: { cert: string; key: string },
): { url: string; received: Received[]; errors: string[]; close: () => Promise<void> } {
  const received: Received[] = [];
  const errors: string[] = [];
  const listen = { hostname: "127.0.0.1", port: 0, onListen: () => {}, ...(tls ?? {}) };
  const server = Deno.serve(listen, async (req) => {
    const url = new URL(req.url);
    try {
      const auth = await authenticateRequest({
        method: req.method,
        rawPath: url.pathname,
        rawQuery: url.search.slice(1),
        headers: req.headers,
      }, {
        region: "us-east-1",
        now: new Date(),
        lookup: (k) => k === AK ? { accessKey: AK, secretKey: SK } : undefined,
      });
      if (auth.kind !== "signed") throw new Error("anonymous");
      let body: ReadableStream<Uint8Array> = req.body ??
        new ReadableStream({ start: (c) => c.close() });
      let trailers: Promise<Headers> | undefined;
      const p = auth.payload;
      if (p.type === "sha256") body = verifySha256Payload(body, p.hex);
      if (p.type === "streaming-signed" || p.type === "streaming-unsigned-trailer") {
        const opts: DecodeAwsChunkedOptions = {
          trailer: p.type === "streaming-unsigned-trailer" || p.trailer,
        };
        if (auth.chunkContext !== undefined) opts.signing = auth.chunkContext;
        const decoded = req.headers.get("x-amz-decoded-content-length");
        if (decoded !== null) opts.decodedContentLength = Number(decoded);
        const names = req.headers.get("x-amz-trailer");
        if (names !== null) opts.trailerNames = names.split(",").map((n) => n.trim().toLowerCase());
        const d = decodeAwsChunked(body, opts);
        body = d.stream;
        trailers = d.trailers;
      }
      const hash = createHash("sha256");
      let bytes = 0;
      for await (const piece of body) {
        hash.update(piece);
        bytes += piece.length;
      }
      received.push({
        mode: req.headers.get("x-amz-content-sha256") ?? "presigned",
        sha256: hash.digest("hex"),
        bytes,
        trailers: Object.fromEntries(trailers ? await trailers : []),
      });
      return new Response(null, { status: 200, headers: { etag: '"0"' } });
    } catch (e) {
      const code = e instanceof SigV4Error ? e.code : "InternalError";
      errors.push(`${code}: ${e instanceof Error ? e.message : e}`);
      return new Response(
        `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code></Error>`,
        { status: 403, headers: { "content-type": "application/xml" } },
      );
    }
  });
  const addr = server.addr as Deno.NetAddr;
  return {
    url: `${tls ? "https" : "http"}://127.0.0.1:${addr.port}`,
    received,
    errors,
    close: () => server.shutdown(),
  };
}

function payload(size: number): Uint8Array<ArrayBuffer> {
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i++) data[i] = (i * 7 + (i >> 8)) & 0xff;
  return data;
}

const sha256 = (d: Uint8Array) => createHash("sha256").update(d).digest("hex");

Deno.test("the AWS SDK for JavaScript uploads verify in every checksum mode", async () => {
  const srv = serve();
  try {
    const data = payload(300_000);
    for (const requestChecksumCalculation of ["WHEN_SUPPORTED", "WHEN_REQUIRED"] as const) {
      const client = new S3Client({
        region: "us-east-1",
        endpoint: srv.url,
        forcePathStyle: true,
        credentials: { accessKeyId: AK, secretAccessKey: SK },
        requestChecksumCalculation,
      });
      await client.send(
        new PutObjectCommand({ Bucket: "bucket", Key: "dir/a b+c!.bin", Body: data }),
      );
      // Over plain HTTP the SDK signs the payload, so it needs the body in memory (a web stream
      // fails in the SDK with "Unable to calculate hash for flowing readable stream").
      await client.send(
        new PutObjectCommand({ Bucket: "bucket", Key: "empty", Body: new Uint8Array(0) }),
      );
      client.destroy();
    }
    assert.deepEqual(srv.errors, []);
    assert.equal(srv.received.length, 4);
    for (const [i, r] of srv.received.entries()) {
      const want = i % 2 === 0 ? data : new Uint8Array(0);
      assert.equal(r.bytes, want.length, r.mode);
      assert.equal(r.sha256, sha256(want), r.mode);
    }
    console.log(
      "AWS SDK modes:",
      srv.received.map((r) => `${r.mode} ${JSON.stringify(r.trailers)}`),
    );
  } finally {
    await srv.close();
  }
});

async function hasBoto3(): Promise<boolean> {
  try {
    const out = await new Deno.Command("python3", { args: ["-c", "import boto3"], stderr: "null" })
      .output();
    return out.success;
  } catch {
    return false;
  }
}

Deno.test({
  name: "boto3 uploads from bytes and from a file object verify",
  ignore: !(await hasBoto3()),
  fn: async () => {
    const srv = serve();
    try {
      const script = `
import io, sys, boto3
from botocore.config import Config
s3 = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1",
    aws_access_key_id="${AK}", aws_secret_access_key="${SK}",
    config=Config(s3={"addressing_style": "path"}))
data = bytes(((i * 7 + (i >> 8)) & 0xff) for i in range(300000))
s3.put_object(Bucket="bucket", Key="boto/a b+c!.bin", Body=data)
s3.put_object(Bucket="bucket", Key="boto/stream", Body=io.BytesIO(data))
`;
      const out = await new Deno.Command("python3", {
        args: ["-c", script, srv.url],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stderr = new TextDecoder().decode(out.stderr);
      assert.ok(out.success, stderr + srv.errors.join("\n"));
      assert.deepEqual(srv.errors, []);
      const data = payload(300_000);
      assert.equal(srv.received.length, 2);
      for (const r of srv.received) assert.equal(r.sha256, sha256(data), r.mode);
      console.log(
        "boto3 modes:",
        srv.received.map((r) => `${r.mode} ${JSON.stringify(r.trailers)}`),
      );
    } finally {
      await srv.close();
    }
  },
});

/** A throwaway self-signed certificate for 127.0.0.1, made with openssl; undefined without it. */
async function selfSignedCert(): Promise<{ cert: string; key: string } | undefined> {
  const dir = await Deno.makeTempDir();
  try {
    const out = await new Deno.Command("openssl", {
      args: [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=127.0.0.1",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
        "-keyout",
        `${dir}/key.pem`,
        "-out",
        `${dir}/cert.pem`,
      ],
      stdout: "null",
      stderr: "null",
    }).output();
    if (!out.success) return undefined;
    return {
      cert: await Deno.readTextFile(`${dir}/cert.pem`),
      key: await Deno.readTextFile(`${dir}/key.pem`),
    };
  } catch {
    return undefined;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const tls = await selfSignedCert();

Deno.test({
  name: "boto3 and the aws CLI over HTTPS upload bodies that verify (aws-chunked with trailers)",
  ignore: tls === undefined || !(await hasBoto3()),
  fn: async () => {
    const srv = serve(tls);
    const dir = await Deno.makeTempDir();
    try {
      const data = payload(300_000);
      await Deno.writeFile(`${dir}/data.bin`, data);
      const script = `
import sys, boto3
from botocore.config import Config
s3 = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1", verify=False,
    aws_access_key_id="${AK}", aws_secret_access_key="${SK}",
    config=Config(s3={"addressing_style": "path"}))
with open(sys.argv[2], "rb") as f:
    s3.put_object(Bucket="bucket", Key="tls/a b+c!.bin", Body=f)
`;
      const py = await new Deno.Command("python3", {
        args: ["-W", "ignore", "-c", script, srv.url, `${dir}/data.bin`],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.ok(py.success, new TextDecoder().decode(py.stderr) + srv.errors.join("\n"));

      let cli = false;
      try {
        const out = await new Deno.Command("aws", {
          args: [
            "s3api",
            "put-object",
            "--endpoint-url",
            srv.url,
            "--no-verify-ssl",
            "--bucket",
            "bucket",
            "--key",
            "cli/obj",
            "--body",
            `${dir}/data.bin`,
          ],
          env: {
            AWS_ACCESS_KEY_ID: AK,
            AWS_SECRET_ACCESS_KEY: SK,
            AWS_DEFAULT_REGION: "us-east-1",
            AWS_CONFIG_FILE: "/dev/null",
            AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
            PYTHONWARNINGS: "ignore",
          },
          stdout: "piped",
          stderr: "piped",
        }).output();
        assert.ok(out.success, new TextDecoder().decode(out.stderr) + srv.errors.join("\n"));
        cli = true;
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      }

      assert.deepEqual(srv.errors, []);
      assert.equal(srv.received.length, cli ? 2 : 1);
      for (const r of srv.received) assert.equal(r.sha256, sha256(data), r.mode);
      console.log(
        "HTTPS modes:",
        srv.received.map((r) => `${r.mode} ${JSON.stringify(r.trailers)}`),
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
      await srv.close();
    }
  },
});
