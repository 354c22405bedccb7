/**
 * Changing the root password: the IAM document (sealed under a key derived from the root secret)
 * opens once with SHALE_ROOT_PASSWORD_OLD and is re-sealed; without it the server refuses to start
 * and changes nothing. Admin calls Shale does not serve get MinIO's JSON error with 501.
 */
import { equal, match, ok, rejects } from "node:assert/strict";
import { GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { signedFetch } from "./_ops.ts";
import { bodyBytes, clientFor } from "./_s3.ts";
import { startServer, type TestServer } from "./_server.ts";

const USER = "rotation-user";
const USER_SECRET = "rotation-user-secret";
const OLD = { SHALE_ROOT_USER: "rotationadmin", SHALE_ROOT_PASSWORD: "old-root-password-1" };
const NEW = { SHALE_ROOT_USER: "rotationadmin", SHALE_ROOT_PASSWORD: "new-root-password-2" };

async function userCanWrite(server: TestServer): Promise<void> {
  const s3 = clientFor(server, {
    credentials: { accessKeyId: USER, secretAccessKey: USER_SECRET },
  });
  await s3.send(new PutObjectCommand({ Bucket: "keep", Key: "k", Body: "still here" }));
  const got = await s3.send(new GetObjectCommand({ Bucket: "keep", Key: "k" }));
  equal(new TextDecoder().decode(await bodyBytes(got.Body)), "still here");
}

Deno.test("a changed root password opens the IAM document once with SHALE_ROOT_PASSWORD_OLD", async () => {
  const first = await startServer({ env: OLD, keepData: true });
  const drivePaths = first.drivePaths;
  try {
    const add = await signedFetch(first, "PUT", "/minio/admin/v3/add-user", {
      query: `accessKey=${USER}`,
      body: new TextEncoder().encode(JSON.stringify({ secretKey: USER_SECRET })),
    });
    equal(add.status, 200, await add.text());
    const attach = await signedFetch(first, "POST", "/minio/admin/v3/idp/builtin/policy/attach", {
      body: new TextEncoder().encode(JSON.stringify({ policies: ["readwrite"], user: USER })),
    });
    equal(attach.status, 200, await attach.text());
    equal((await signedFetch(first, "PUT", "/keep")).status, 200);
    await userCanWrite(first);

    // An admin call nobody serves: MinIO's JSON error, 501 (mc prints its message).
    const unknown = await signedFetch(first, "GET", "/minio/admin/v3/get-config-kv", {
      query: "key=region",
    });
    equal(unknown.status, 501);
    const err = await unknown.json() as { Code: string; Message: string };
    equal(err.Code, "NotImplemented");
    match(err.Message, /get-config-kv/);
    equal(await first.stop(), 0);

    // The new password alone: refused, with the way out named, and nothing overwritten.
    await rejects(
      startServer({ env: NEW, drivePaths, keepData: true }),
      /SHALE_ROOT_PASSWORD_OLD/,
    );
    // With the old one given once, the document opens and is re-sealed under the new one.
    const second = await startServer({
      env: { ...NEW, SHALE_ROOT_PASSWORD_OLD: OLD.SHALE_ROOT_PASSWORD },
      drivePaths,
      keepData: true,
    });
    await userCanWrite(second);
    equal(await second.stop(), 0);
    const third = await startServer({ env: NEW, drivePaths, keepData: true });
    try {
      await userCanWrite(third);
      ok(third.output().includes("Listening"));
    } finally {
      await third.stop();
    }
  } finally {
    await Deno.remove(drivePaths[0]!.slice(0, drivePaths[0]!.lastIndexOf("/")), {
      recursive: true,
    }).catch(() => {});
  }
});
