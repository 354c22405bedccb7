/**
 * The command line and the server process: help and version, usage errors, generated root
 * credentials (stored 0600 beside the drives, reused), region and virtual-host-style domains,
 * health endpoints, start-up refusal, and graceful shutdown with a request in flight.
 */
import { equal, match, notEqual, ok } from "node:assert/strict";
import {
  CreateBucketCommand,
  GetBucketLocationCommand,
  GetObjectCommand,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import { sha256Hex, signRequestForTest } from "../src/auth/testing.ts";
import { startServer } from "./_server.ts";
import { clientFor, errorCode } from "./_s3.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

async function shale(args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-sys",
      MAIN,
      ...args,
    ],
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("`shale --help`, `shale server --help` and `shale --version` print and exit 0", async () => {
  const help = await shale(["--help"]);
  equal(help.code, 0);
  match(help.stdout, /shale server DIR\.\.\./);
  const serverHelp = await shale(["server", "--help"]);
  equal(serverHelp.code, 0);
  for (
    const word of [
      "--address",
      "--console-address",
      "SHALE_ROOT_USER",
      "SHALE_ROOT_PASSWORD",
      "SHALE_REGION",
      "SHALE_STORAGE_CLASS_STANDARD",
      "SHALE_DOMAIN",
    ]
  ) match(serverHelp.stdout, new RegExp(word));
  const version = await shale(["--version"]);
  equal(version.code, 0);
  match(version.stdout, /^shale version \S+/);
});

Deno.test("usage errors exit 2 with a message naming the problem", async () => {
  const noDrives = await shale(["server"]);
  equal(noDrives.code, 2);
  match(noDrives.stderr, /No drives given/);
  const shortPassword = await shale(["server", "/tmp/x{1...4}"], {
    SHALE_ROOT_USER: "admin",
    SHALE_ROOT_PASSWORD: "short",
  });
  equal(shortPassword.code, 2);
  match(shortPassword.stderr, /at least 8 characters/);
  const badClass = await shale(["server", "/tmp/x{1...4}"], {
    SHALE_ROOT_USER: "admin",
    SHALE_ROOT_PASSWORD: "password123",
    SHALE_STORAGE_CLASS_STANDARD: "RS:2",
  });
  equal(badClass.code, 2);
  match(badClass.stderr, /EC:n/);
});

Deno.test({
  name: "generates root credentials on first start, stores them 0600 and reuses them",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const first = await startServer({ drives: 4, credentials: "generated", keepData: true });
    const root = first.drivePaths[0]!.replace(/\/disk1$/, "");
    try {
      ok(first.accessKey.length >= 16, first.output());
      ok(first.secretKey.length >= 32);
      match(first.output(), /Generated root credentials/);
      const file = `${root}/.shale-credentials`;
      equal((await Deno.stat(file)).mode! & 0o777, 0o600);
      const s3 = clientFor(first);
      await s3.send(new CreateBucketCommand({ Bucket: "generated" }));
      s3.destroy();
      equal(await first.stop(), 0);
      const second = await startServer({
        drivePaths: first.drivePaths,
        credentials: "generated",
        keepData: true,
      });
      try {
        equal(second.accessKey, first.accessKey);
        equal(second.secretKey, first.secretKey);
        equal(/Generated root credentials/.test(second.output()), false);
        const again = clientFor(second);
        await again.send(new PutObjectCommand({ Bucket: "generated", Key: "k", Body: "v" }));
        again.destroy();
      } finally {
        equal(await second.stop(), 0);
      }
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test({
  name: "refuses to start when the drive list does not match the formatted drives",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const s = await startServer({ drives: 4, keepData: true });
    const root = s.drivePaths[0]!.replace(/\/disk1$/, "");
    try {
      equal(await s.stop(), 0);
      const out = await shale(["server", `${root}/disk{1...6}`, "--address", "127.0.0.1:0"], {
        SHALE_ROOT_USER: "admin",
        SHALE_ROOT_PASSWORD: "password123",
      });
      equal(out.code, 1, out.stdout + out.stderr);
      match(out.stderr, /^shale: /m);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test({
  name: "serves another region and virtual-host-style requests under SHALE_DOMAIN",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const s = await startServer({
      drives: 2,
      env: { SHALE_REGION: "eu-central-1", SHALE_DOMAIN: "s3.shale.test" },
    });
    try {
      const s3 = clientFor(s);
      await s3.send(
        new CreateBucketCommand({
          Bucket: "vhost",
          CreateBucketConfiguration: { LocationConstraint: "eu-central-1" },
        }),
      );
      const loc = await s3.send(new GetBucketLocationCommand({ Bucket: "vhost" }));
      equal(loc.LocationConstraint, "eu-central-1");
      equal(
        await errorCode(s3.send(
          new CreateBucketCommand({
            Bucket: "elsewhere",
            CreateBucketConfiguration: { LocationConstraint: "us-west-2" },
          }),
        )),
        "IllegalLocationConstraintException",
      );
      await s3.send(
        new PutObjectCommand({ Bucket: "vhost", Key: "dir/file.txt", Body: "virtual" }),
      );
      const wrongRegion = clientFor({ ...s, region: "us-east-1" });
      equal(
        await errorCode(
          wrongRegion.send(new GetObjectCommand({ Bucket: "vhost", Key: "dir/file.txt" })),
        ),
        "AuthorizationHeaderMalformed",
      );
      wrongRegion.destroy();
      s3.destroy();

      // Virtual-host style: the bucket is in the Host header; sent raw since it does not resolve.
      const port = Number(new URL(s.endpoint).port);
      const host = `vhost.s3.shale.test:${port}`;
      const signed = signRequestForTest(
        { method: "GET", rawPath: "/dir/file.txt", rawQuery: "", headers: new Headers({ host }) },
        {
          accessKey: s.accessKey,
          secretKey: s.secretKey,
          region: "eu-central-1",
          payloadHash: sha256Hex(""),
        },
      );
      let head = "GET /dir/file.txt HTTP/1.1\r\nconnection: close\r\n";
      for (const [k, v] of signed.headers) head += `${k}: ${v}\r\n`;
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      await conn.write(new TextEncoder().encode(head + "\r\n"));
      const answer = new TextDecoder().decode(await new Response(conn.readable).arrayBuffer());
      match(answer, /^HTTP\/1\.1 200/);
      ok(answer.endsWith("virtual"), answer);
    } finally {
      equal(await s.stop(), 0);
    }
  },
});

Deno.test({
  name: "health endpoints answer, and the cluster check fails without write quorum",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const s = await startServer({ drives: 4 });
    try {
      for (const path of ["live", "ready", "cluster"]) {
        const r = await fetch(`${s.endpoint}/minio/health/${path}`);
        await r.body?.cancel();
        equal(r.status, 200, path);
      }
      for (const d of s.drivePaths.slice(1)) await Deno.remove(d, { recursive: true });
      const r = await fetch(`${s.endpoint}/minio/health/cluster`);
      await r.body?.cancel();
      equal(r.status, 503);
      const live = await fetch(`${s.endpoint}/minio/health/live`);
      await live.body?.cancel();
      equal(live.status, 200);
    } finally {
      await s.kill();
    }
  },
});

Deno.test({
  name: "SIGTERM lets an upload in flight finish, turns new requests away with 503 and exits 0",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const s = await startServer({ drives: 4 });
    const s3 = clientFor(s);
    await s3.send(new CreateBucketCommand({ Bucket: "drain" }));
    s3.destroy();
    const port = Number(new URL(s.endpoint).port);
    const body = new Uint8Array(3 * 1024 * 1024).fill(7);
    const host = `127.0.0.1:${port}`;
    const signed = signRequestForTest(
      {
        method: "PUT",
        rawPath: "/drain/in-flight",
        rawQuery: "",
        headers: new Headers({ host, "content-length": String(body.length) }),
      },
      {
        accessKey: s.accessKey,
        secretKey: s.secretKey,
        region: s.region,
        payloadHash: "UNSIGNED-PAYLOAD",
      },
    );
    let head = "PUT /drain/in-flight HTTP/1.1\r\nconnection: close\r\n";
    for (const [k, v] of signed.headers) head += `${k}: ${v}\r\n`;
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    await conn.write(new TextEncoder().encode(head + "\r\n"));
    await conn.write(body.subarray(0, 1024 * 1024));
    // The request is in flight once its first block reached a drive's tmp folder (timers would
    // race on a loaded machine): then ask the server to stop, and finish sending.
    await waitFor(() => s.drivePaths.some((d) => hasFiles(`${d}/.shale.sys/tmp`)));
    const stopping = s.stop();
    await waitFor(() => s.output().includes("Shutting down"));
    const late = await fetch(`${s.endpoint}/minio/health/live`);
    await late.body?.cancel();
    equal(late.status, 503);
    await conn.write(body.subarray(1024 * 1024));
    const answer = new TextDecoder().decode(await new Response(conn.readable).arrayBuffer());
    match(answer, /^HTTP\/1\.1 200/);
    equal(await stopping, 0);
    match(s.output(), /"message":"Stopped"/);
    notEqual(s.output().indexOf("Shutting down"), -1);
  },
});

async function waitFor(cond: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error("Timed out waiting for a condition");
    await new Promise((r) => setTimeout(r, 20));
  }
}

function hasFiles(dir: string): boolean {
  try {
    for (const e of Deno.readDirSync(dir)) {
      if (e.isFile || (e.isDirectory && hasFiles(`${dir}/${e.name}`))) return true;
    }
  } catch {
    // Not there yet.
  }
  return false;
}
