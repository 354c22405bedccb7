/**
 * End to end: STS AssumeRole at the S3 endpoint, then the temporary credentials used with
 * @aws-sdk/client-s3 until they expire.
 *
 * Most AssumeRole calls are hand-signed (with the S3 service scope, which MinIO also accepts); one
 * step uses @aws-sdk/client-sts and one boto3 (tests/clients/boto3_sts_suite.py), which sign with
 * the `sts` service.
 * Expiry is seen within seconds through the test-only SHALE_TEST_STS_DURATION_SECONDS_MIN,
 * which lowers AWS's 900-second minimum for DurationSeconds.
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  CreateBucketCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { signRequestForTest } from "../src/auth/testing.ts";
import { startServer, type TestServer } from "./_server.ts";
import { bodyBytes, clientFor, errorCode } from "./_s3.ts";
import { runPythonSuite } from "./clients/_run.ts";

const BUCKET = "jobs";

async function signedFetch(
  server: TestServer,
  creds: { accessKey: string; secretKey: string },
  method: string,
  target: string,
  body: string,
  contentType?: string,
): Promise<Response> {
  const q = target.indexOf("?");
  const headers = new Headers({ host: new URL(server.endpoint).host });
  if (contentType !== undefined) headers.set("content-type", contentType);
  const signed = signRequestForTest({
    method,
    rawPath: q < 0 ? target : target.slice(0, q),
    rawQuery: q < 0 ? "" : target.slice(q + 1),
    headers,
  }, {
    ...creds,
    region: server.region,
    payloadHash: createHash("sha256").update(body).digest("hex"),
  });
  return await fetch(`${server.endpoint}${target}`, {
    method,
    headers: signed.headers,
    ...(method === "GET" ? {} : { body }),
  });
}

interface Temporary {
  accessKey: string;
  secretKey: string;
  sessionToken: string;
  expiration: string;
}

async function assumeRole(
  server: TestServer,
  creds: { accessKey: string; secretKey: string },
  params: Record<string, string>,
): Promise<{ status: number; text: string; temporary?: Temporary }> {
  const body = new URLSearchParams({ Action: "AssumeRole", Version: "2011-06-15", ...params })
    .toString();
  const r = await signedFetch(
    server,
    creds,
    "POST",
    "/",
    body,
    "application/x-www-form-urlencoded",
  );
  const text = await r.text();
  const tag = (name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(text)?.[1];
  if (r.status !== 200) return { status: r.status, text };
  return {
    status: r.status,
    text,
    temporary: {
      accessKey: tag("AccessKeyId")!,
      secretKey: tag("SecretAccessKey")!,
      sessionToken: tag("SessionToken")!,
      expiration: tag("Expiration")!,
    },
  };
}

function sessionClient(server: TestServer, t: Temporary, token = t.sessionToken): S3Client {
  return clientFor(server, {
    credentials: { accessKeyId: t.accessKey, secretAccessKey: t.secretKey, sessionToken: token },
  });
}

Deno.test("STS AssumeRole: temporary credentials work, are checked, narrowed and expire", async (t) => {
  const server = await startServer({
    drives: 4,
    env: { SHALE_TEST_STS_DURATION_SECONDS_MIN: "1" },
  });
  const root = clientFor(server);
  const clients: S3Client[] = [root];
  const user = { accessKey: "jobrunner", secretKey: "jobrunner-secret" };
  try {
    await root.send(new CreateBucketCommand({ Bucket: BUCKET }));
    const admin = async (method: string, target: string, body: string) => {
      const r = await signedFetch(server, server, method, `/minio/admin/v3/${target}`, body);
      equal(r.status, 200, await r.text());
    };
    await admin(
      "PUT",
      "add-user?accessKey=jobrunner",
      JSON.stringify({ secretKey: user.secretKey }),
    );
    await admin(
      "POST",
      "idp/builtin/policy/attach",
      JSON.stringify({ policies: ["readwrite"], user: "jobrunner" }),
    );

    await t.step("the AWS SDK's STS client (service scope sts) assumes a role", async () => {
      const sts = new STSClient({
        endpoint: server.endpoint,
        region: server.region,
        credentials: { accessKeyId: user.accessKey, secretAccessKey: user.secretKey },
        maxAttempts: 1,
      });
      try {
        const out = await sts.send(
          new AssumeRoleCommand({ RoleArn: "arn:minio:iam:::role/any", RoleSessionName: "sdk" }),
        );
        const c = out.Credentials!;
        const s3 = sessionClient(server, {
          accessKey: c.AccessKeyId!,
          secretKey: c.SecretAccessKey!,
          sessionToken: c.SessionToken!,
          expiration: c.Expiration!.toISOString(),
        });
        clients.push(s3);
        await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: "sdk.txt", Body: "via sts" }));
        const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "sdk.txt" }));
        equal(new TextDecoder().decode(await bodyBytes(got.Body)), "via sts");
      } finally {
        sts.destroy();
      }
    });

    await t.step("the temporary credentials act as the user", async () => {
      const r = await assumeRole(server, user, {});
      equal(r.status, 200, r.text);
      const tmp = r.temporary!;
      match(tmp.accessKey, /^[A-Z0-9]{20}$/);
      equal(tmp.sessionToken.split(".").length, 3, "a JWT");
      const ms = Date.parse(tmp.expiration) - Date.now();
      ok(ms > 3_500_000 && ms <= 3_600_000, `default duration 3600 s, got ${ms} ms`);
      const s3 = sessionClient(server, tmp);
      clients.push(s3);
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: "out.txt", Body: "result" }));
      const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "out.txt" }));
      equal(new TextDecoder().decode(await bodyBytes(got.Body)), "result");
    });

    await t.step("the session token is required and checked", async () => {
      const tmp = (await assumeRole(server, user, {})).temporary!;
      const without = clientFor(server, {
        credentials: { accessKeyId: tmp.accessKey, secretAccessKey: tmp.secretKey },
      });
      const last = tmp.sessionToken.at(-1) === "A" ? "B" : "A";
      const forged = sessionClient(server, tmp, tmp.sessionToken.slice(0, -1) + last);
      clients.push(without, forged);
      const get = (c: S3Client) => c.send(new GetObjectCommand({ Bucket: BUCKET, Key: "out.txt" }));
      equal(await errorCode(get(without)), "InvalidTokenId");
      equal(await errorCode(get(forged)), "InvalidTokenId");
    });

    await t.step(
      "boto3's assume_role: the session GETs, without its token it is refused",
      async () => {
        await root.send(
          new PutObjectCommand({ Bucket: BUCKET, Key: "boto3.txt", Body: "for boto3" }),
        );
        const checks = await runPythonSuite(
          new URL("./clients/boto3_sts_suite.py", import.meta.url).pathname,
          server,
          BUCKET,
          {
            SHALE_STS_ACCESS_KEY: user.accessKey,
            SHALE_STS_SECRET_KEY: user.secretKey,
            SHALE_STS_KEY: "boto3.txt",
            SHALE_STS_BODY: "for boto3",
          },
        );
        deepEqual(checks, [
          "an IAM user's assume_role (signed for sts) returns temporary credentials",
          "the session credentials GET an object",
          "the same keys without the session token are refused (InvalidTokenId)",
        ]);
      },
    );

    await t.step("a session policy narrows the session", async () => {
      const policy = JSON.stringify({
        Version: "2012-10-17",
        Statement: [{
          Effect: "Allow",
          Action: "s3:GetObject",
          Resource: `arn:aws:s3:::${BUCKET}/*`,
        }],
      });
      const tmp = (await assumeRole(server, user, { Policy: policy })).temporary!;
      const s3 = sessionClient(server, tmp);
      clients.push(s3);
      await bodyBytes(
        (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "out.txt" }))).Body,
      );
      equal(
        await errorCode(s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: "x", Body: "x" }))),
        "AccessDenied",
      );
    });

    await t.step("temporary credentials stop working when they expire", async () => {
      const tmp = (await assumeRole(server, user, { DurationSeconds: "2" })).temporary!;
      const s3 = sessionClient(server, tmp);
      clients.push(s3);
      await bodyBytes(
        (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "out.txt" }))).Body,
      );
      await new Promise((r) => setTimeout(r, Date.parse(tmp.expiration) - Date.now() + 1_000));
      equal(
        await errorCode(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "out.txt" }))),
        "ExpiredToken",
      );
    });

    await t.step("root, bad durations and malformed session policies are refused", async () => {
      const asRoot = await assumeRole(server, server, {});
      equal(asRoot.status, 403);
      match(asRoot.text, /<Code>AccessDenied<\/Code>/);
      const long = await assumeRole(server, user, { DurationSeconds: "43201" });
      equal(long.status, 400);
      match(long.text, /<Code>ValidationError<\/Code>/);
      const bad = await assumeRole(server, user, { Policy: "{nope" });
      equal(bad.status, 400);
      match(bad.text, /<Code>MalformedPolicyDocument<\/Code>/);
      const anonymous = await fetch(`${server.endpoint}/`, {
        method: "POST",
        body: "Action=AssumeRole&Version=2011-06-15",
        headers: { "content-type": "application/x-www-form-urlencoded" },
      });
      equal(anonymous.status, 403);
      await anonymous.body?.cancel();
    });
  } finally {
    for (const c of clients) c.destroy();
    equal(await server.stop(), 0);
  }
});

Deno.test("STS sessions survive a server restart and stop when the parent user is disabled", async () => {
  let server = await startServer({ drives: 4, keepData: true });
  const clients: S3Client[] = [];
  const user = { accessKey: "nightly", secretKey: "nightly-secret" };
  const admin = async (method: string, target: string, body = "") => {
    const r = await signedFetch(server, server, method, `/minio/admin/v3/${target}`, body);
    equal(r.status, 200, await r.text());
  };
  try {
    const root = clientFor(server);
    clients.push(root);
    await root.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await admin("PUT", "add-user?accessKey=nightly", JSON.stringify({ secretKey: user.secretKey }));
    await admin(
      "POST",
      "idp/builtin/policy/attach",
      JSON.stringify({ policies: ["readwrite"], user: "nightly" }),
    );
    const role = await assumeRole(server, user, { DurationSeconds: "900" });
    equal(role.status, 200, role.text);
    const t = role.temporary!;

    equal(await server.stop(), 0);
    server = await startServer({ drivePaths: server.drivePaths, keepData: true });
    const session = sessionClient(server, t);
    clients.push(session);
    await session.send(new PutObjectCommand({ Bucket: BUCKET, Key: "after-restart", Body: "x" }));
    const got = await session.send(new GetObjectCommand({ Bucket: BUCKET, Key: "after-restart" }));
    equal(new TextDecoder().decode(await bodyBytes(got.Body)), "x");
    const forged = sessionClient(server, t, t.sessionToken.slice(0, -2) + "AA");
    clients.push(forged);
    equal(
      await errorCode(forged.send(new GetObjectCommand({ Bucket: BUCKET, Key: "after-restart" }))),
      "InvalidTokenId",
      "the stored token is still the one checked",
    );

    await admin("PUT", "set-user-status?accessKey=nightly&status=disabled");
    const code = await errorCode(
      session.send(new GetObjectCommand({ Bucket: BUCKET, Key: "after-restart" })),
    );
    ok(["AccessDenied", "InvalidAccessKeyId"].includes(code), `a disabled parent: ${code}`);
  } finally {
    for (const c of clients) c.destroy();
    await server.stop();
    await Deno.remove(server.drivePaths[0]!.replace(/\/disk1$/, ""), { recursive: true })
      .catch(() => {});
  }
});
