/**
 * End to end: IAM users made through the admin API (hand-signed like `shale admin`), then used
 * with @aws-sdk/client-s3: a readonly user cannot PUT, a prefix-scoped user lists only its prefix,
 * IP conditions, s3:ExistingObjectTag conditions, Deny beats Allow, disabled and removed users are
 * refused, and users survive a restart. One server for the file.
 */
import { deepEqual, equal } from "node:assert/strict";
import { createHash, createHmac } from "node:crypto";
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutBucketPolicyCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { signingKeyForTest, signRequestForTest } from "../src/auth/testing.ts";
import { decryptMadmin, isMadminEncrypted } from "../src/iam/madmin_crypto.ts";
import { shaleAdmin, startServer, type TestServer } from "./_server.ts";
import { bodyBytes, clientFor, errorCode } from "./_s3.ts";

const BUCKET = "team";

async function admin(
  server: TestServer,
  method: string,
  target: string,
  body = "",
): Promise<{ status: number; json: unknown }> {
  const q = target.indexOf("?");
  const host = new URL(server.endpoint).host;
  const signed = signRequestForTest({
    method,
    rawPath: `/minio/admin/v3/${q < 0 ? target : target.slice(0, q)}`,
    rawQuery: q < 0 ? "" : target.slice(q + 1),
    headers: new Headers({ host }),
  }, {
    accessKey: server.accessKey,
    secretKey: server.secretKey,
    region: server.region,
    payloadHash: createHash("sha256").update(body).digest("hex"),
  });
  const r = await fetch(`${server.endpoint}/minio/admin/v3/${target}`, {
    method,
    headers: signed.headers,
    ...(method === "GET" ? {} : { body }),
  });
  // MinIO encrypts some answers (list-users, service accounts) under the caller's secret key.
  const bytes = new Uint8Array(await r.arrayBuffer());
  const text = new TextDecoder().decode(
    isMadminEncrypted(bytes) ? await decryptMadmin(server.secretKey, bytes) : bytes,
  );
  return { status: r.status, json: text === "" ? undefined : JSON.parse(text) };
}

function userClient(server: TestServer, accessKey: string, secretKey: string): S3Client {
  return clientFor(server, { credentials: { accessKeyId: accessKey, secretAccessKey: secretKey } });
}

async function addUser(server: TestServer, name: string, policies: string[]): Promise<S3Client> {
  const secret = `${name}-secret-key`;
  equal(
    (await admin(
      server,
      "PUT",
      `add-user?accessKey=${name}`,
      JSON.stringify({ secretKey: secret }),
    )).status,
    200,
  );
  const attach = await admin(
    server,
    "POST",
    "idp/builtin/policy/attach",
    JSON.stringify({ policies, user: name }),
  );
  equal(attach.status, 200, JSON.stringify(attach.json));
  return userClient(server, name, secret);
}

/** A browser form upload signed with the given keys (PostObject). */
function postForm(server: TestServer, accessKey: string, secretKey: string, key: string) {
  const now = new Date();
  const date = now.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
  const credential = `${accessKey}/${date.slice(0, 8)}/${server.region}/s3/aws4_request`;
  const policy = btoa(JSON.stringify({
    expiration: new Date(now.getTime() + 600_000).toISOString(),
    conditions: [
      { bucket: BUCKET },
      { key },
      { "x-amz-algorithm": "AWS4-HMAC-SHA256" },
      { "x-amz-credential": credential },
      { "x-amz-date": date },
    ],
  }));
  const form = new FormData();
  form.append("key", key);
  form.append("x-amz-algorithm", "AWS4-HMAC-SHA256");
  form.append("x-amz-credential", credential);
  form.append("x-amz-date", date);
  form.append("policy", policy);
  const signingKey = signingKeyForTest(secretKey, now, server.region);
  form.append("x-amz-signature", createHmac("sha256", signingKey).update(policy).digest("hex"));
  form.append("file", new Blob(["posted"]), "f.txt");
  return fetch(`${server.endpoint}/${BUCKET}`, { method: "POST", body: form });
}

const policy = (statements: unknown[]) =>
  JSON.stringify({ Version: "2012-10-17", Statement: statements });

Deno.test("IAM users: least privilege through the admin API and S3", async (t) => {
  let server = await startServer({ drives: 4, keepData: true });
  const root = clientFor(server);
  const clients: S3Client[] = [root];
  try {
    await root.send(new CreateBucketCommand({ Bucket: BUCKET }));
    for (const key of ["home/alice/a.txt", "home/bob/b.txt", "shared/readme.txt"]) {
      await root.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: key }));
    }

    await t.step("a readonly user can GET but not PUT or list", async () => {
      const reader = await addUser(server, "reader", ["readonly"]);
      clients.push(reader);
      const got = await reader.send(
        new GetObjectCommand({ Bucket: BUCKET, Key: "shared/readme.txt" }),
      );
      equal(new TextDecoder().decode(await bodyBytes(got.Body)), "shared/readme.txt");
      equal(
        await errorCode(reader.send(new PutObjectCommand({ Bucket: BUCKET, Key: "x", Body: "x" }))),
        "AccessDenied",
      );
      equal(
        await errorCode(reader.send(new ListObjectsV2Command({ Bucket: BUCKET }))),
        "AccessDenied",
      );
    });

    await t.step("a prefix-scoped user lists and writes only under its prefix", async () => {
      const created = await admin(
        server,
        "PUT",
        "add-canned-policy?name=home-dirs",
        policy([
          {
            Effect: "Allow",
            Action: "s3:ListBucket",
            Resource: `arn:aws:s3:::${BUCKET}`,
            Condition: { StringLike: { "s3:prefix": ["home/${aws:username}/*"] } },
          },
          {
            Effect: "Allow",
            Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
            Resource: `arn:aws:s3:::${BUCKET}/home/\${aws:username}/*`,
          },
        ]),
      );
      equal(created.status, 200, JSON.stringify(created.json));
      const alice = await addUser(server, "alice", ["home-dirs"]);
      clients.push(alice);
      const listed = await alice.send(
        new ListObjectsV2Command({ Bucket: BUCKET, Prefix: "home/alice/" }),
      );
      deepEqual(listed.Contents?.map((o) => o.Key), ["home/alice/a.txt"]);
      equal(
        await errorCode(
          alice.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: "home/bob/" })),
        ),
        "AccessDenied",
      );
      equal(
        await errorCode(alice.send(new ListObjectsV2Command({ Bucket: BUCKET }))),
        "AccessDenied",
      );
      await alice.send(
        new PutObjectCommand({ Bucket: BUCKET, Key: "home/alice/new.txt", Body: "n" }),
      );
      equal(
        await errorCode(
          alice.send(new PutObjectCommand({ Bucket: BUCKET, Key: "home/bob/x", Body: "x" })),
        ),
        "AccessDenied",
      );
      equal(
        await errorCode(
          alice.send(new GetObjectCommand({ Bucket: BUCKET, Key: "home/bob/b.txt" })),
        ),
        "AccessDenied",
      );
    });

    await t.step("copies and batch deletes are checked on every key they touch", async () => {
      const alice = userClient(server, "alice", "alice-secret-key");
      clients.push(alice);
      equal(
        await errorCode(alice.send(
          new CopyObjectCommand({
            Bucket: BUCKET,
            Key: "home/alice/stolen.txt",
            CopySource: `${BUCKET}/home/bob/b.txt`,
          }),
        )),
        "AccessDenied",
      );
      await alice.send(
        new CopyObjectCommand({
          Bucket: BUCKET,
          Key: "home/alice/copy.txt",
          CopySource: `${BUCKET}/home/alice/a.txt`,
        }),
      );
      equal(
        await errorCode(alice.send(
          new DeleteObjectsCommand({
            Bucket: BUCKET,
            Delete: { Objects: [{ Key: "home/alice/copy.txt" }, { Key: "home/bob/b.txt" }] },
          }),
        )),
        "AccessDenied",
      );
      const still = await root.send(
        new GetObjectCommand({ Bucket: BUCKET, Key: "home/bob/b.txt" }),
      );
      await bodyBytes(still.Body);
    });

    await t.step("IP conditions: allowed from loopback, denied outside a range", async () => {
      await admin(
        server,
        "PUT",
        "add-canned-policy?name=loopback-only",
        policy([{
          Effect: "Allow",
          Action: "s3:GetObject",
          Resource: `arn:aws:s3:::${BUCKET}/*`,
          Condition: { IpAddress: { "aws:SourceIp": ["127.0.0.0/8", "::1/128"] } },
        }]),
      );
      await admin(
        server,
        "PUT",
        "add-canned-policy?name=office-only",
        policy([{
          Effect: "Allow",
          Action: "s3:GetObject",
          Resource: `arn:aws:s3:::${BUCKET}/*`,
          Condition: { IpAddress: { "aws:SourceIp": "203.0.113.0/24" } },
        }]),
      );
      const local = await addUser(server, "local", ["loopback-only"]);
      const office = await addUser(server, "office", ["office-only"]);
      clients.push(local, office);
      const ok = await local.send(
        new GetObjectCommand({ Bucket: BUCKET, Key: "shared/readme.txt" }),
      );
      await bodyBytes(ok.Body);
      equal(
        await errorCode(
          office.send(new GetObjectCommand({ Bucket: BUCKET, Key: "shared/readme.txt" })),
        ),
        "AccessDenied",
      );
    });

    await t.step("a bucket policy Deny beats the user's readwrite Allow", async () => {
      const writer = await addUser(server, "writer", ["readwrite"]);
      clients.push(writer);
      await writer.send(new PutObjectCommand({ Bucket: BUCKET, Key: "shared/w.txt", Body: "w" }));
      await root.send(
        new PutBucketPolicyCommand({
          Bucket: BUCKET,
          Policy: policy([{
            Effect: "Deny",
            Principal: { AWS: ["writer"] },
            Action: "s3:PutObject",
            Resource: `arn:aws:s3:::${BUCKET}/shared/*`,
          }]),
        }),
      );
      equal(
        await errorCode(
          writer.send(new PutObjectCommand({ Bucket: BUCKET, Key: "shared/w2.txt", Body: "w" })),
        ),
        "AccessDenied",
      );
      await writer.send(new PutObjectCommand({ Bucket: BUCKET, Key: "home/w.txt", Body: "w" }));
    });

    await t.step("a browser POST upload signed by a readonly user is refused", async () => {
      const r = await postForm(server, "reader", "reader-secret-key", "posted.txt");
      equal(r.status, 403, await r.text());
      equal(
        await errorCode(root.send(new GetObjectCommand({ Bucket: BUCKET, Key: "posted.txt" }))),
        "NoSuchKey",
      );
      const byRoot = await postForm(server, server.accessKey, server.secretKey, "posted.txt");
      equal(byRoot.status, 204, await byRoot.text());
    });

    await t.step(
      "s3:ExistingObjectTag: GET only of objects whose current tag matches",
      async () => {
        for (const tag of ["public", "secret"]) {
          const key = `tags/${tag}.txt`;
          await root.send(
            new PutObjectCommand({
              Bucket: BUCKET,
              Key: key,
              Body: key,
              Tagging: `classification=${tag}`,
            }),
          );
        }
        const created = await admin(
          server,
          "PUT",
          "add-canned-policy?name=public-only",
          policy([{
            Effect: "Allow",
            Action: "s3:GetObject",
            Resource: `arn:aws:s3:::${BUCKET}/*`,
            Condition: { StringEquals: { "s3:ExistingObjectTag/classification": "public" } },
          }]),
        );
        equal(created.status, 200, JSON.stringify(created.json));
        const tagged = await addUser(server, "tagged", ["public-only"]);
        clients.push(tagged);
        const get = (key: string) =>
          tagged.send(new GetObjectCommand({ Bucket: BUCKET, Key: key })).then(async (r) =>
            new TextDecoder().decode(await bodyBytes(r.Body))
          );
        equal(await get("tags/public.txt"), "tags/public.txt");
        equal(await errorCode(get("tags/secret.txt")), "AccessDenied");
        equal(await errorCode(get("shared/readme.txt")), "AccessDenied", "an untagged object");
        // The object's tags as they are now decide, not as they were at upload.
        await root.send(
          new PutObjectTaggingCommand({
            Bucket: BUCKET,
            Key: "tags/secret.txt",
            Tagging: { TagSet: [{ Key: "classification", Value: "public" }] },
          }),
        );
        equal(await get("tags/secret.txt"), "tags/secret.txt");
        await root.send(
          new PutObjectTaggingCommand({
            Bucket: BUCKET,
            Key: "tags/public.txt",
            Tagging: { TagSet: [{ Key: "classification", Value: "internal" }] },
          }),
        );
        equal(await errorCode(get("tags/public.txt")), "AccessDenied");
      },
    );

    await t.step("a disabled user, then a removed one, is refused", async () => {
      const temp = await addUser(server, "temp", ["readwrite"]);
      clients.push(temp);
      await temp.send(new GetObjectCommand({ Bucket: BUCKET, Key: "shared/readme.txt" })).then((
        r,
      ) => bodyBytes(r.Body));
      equal(
        (await admin(server, "PUT", "set-user-status?accessKey=temp&status=disabled")).status,
        200,
      );
      equal(
        await errorCode(
          temp.send(new GetObjectCommand({ Bucket: BUCKET, Key: "shared/readme.txt" })),
        ),
        "InvalidAccessKeyId",
      );
      equal((await admin(server, "DELETE", "remove-user?accessKey=temp")).status, 200);
      equal(
        await errorCode(
          temp.send(new GetObjectCommand({ Bucket: BUCKET, Key: "shared/readme.txt" })),
        ),
        "InvalidAccessKeyId",
      );
    });

    await t.step("a service account of a user acts within its inline policy", async () => {
      const made = await admin(
        server,
        "PUT",
        "add-service-account",
        JSON.stringify({
          targetUser: "alice",
          policy: policy([{
            Effect: "Allow",
            Action: "s3:GetObject",
            Resource: `arn:aws:s3:::${BUCKET}/home/alice/*`,
          }]),
        }),
      );
      equal(made.status, 200, JSON.stringify(made.json));
      const { accessKey, secretKey } = (made.json as {
        credentials: { accessKey: string; secretKey: string };
      }).credentials;
      const sa = userClient(server, accessKey, secretKey);
      clients.push(sa);
      await bodyBytes(
        (await sa.send(new GetObjectCommand({ Bucket: BUCKET, Key: "home/alice/a.txt" }))).Body,
      );
      equal(
        await errorCode(
          sa.send(new PutObjectCommand({ Bucket: BUCKET, Key: "home/alice/z", Body: "z" })),
        ),
        "AccessDenied",
        "alice may PUT there, but the inline policy does not allow it",
      );
      equal(
        (await admin(server, "DELETE", `delete-service-account?accessKey=${accessKey}`)).status,
        204,
      );
      equal(
        await errorCode(sa.send(new GetObjectCommand({ Bucket: BUCKET, Key: "home/alice/a.txt" }))),
        "InvalidAccessKeyId",
      );
    });

    await t.step("the shale admin command line adds a user that S3 then accepts", async () => {
      const shale = (...args: string[]) => shaleAdmin(server, ...args);
      const add = await shale("user", "add", "cliuser", "cliuser-secret");
      equal(add.code, 0, add.stderr);
      equal((await shale("policy", "attach", "readonly", "--user", "cliuser")).code, 0);
      const list = await shale("user", "list");
      equal(
        (JSON.parse(list.stdout) as Record<
          string,
          { policyName: string }
        >)
          .cliuser?.policyName,
        "readonly",
      );
      const cli = userClient(server, "cliuser", "cliuser-secret");
      clients.push(cli);
      await bodyBytes(
        (await cli.send(new GetObjectCommand({ Bucket: BUCKET, Key: "shared/readme.txt" }))).Body,
      );
    });

    await t.step("users and their policies survive a restart", async () => {
      equal(await server.stop(), 0);
      server = await startServer({ drivePaths: server.drivePaths, keepData: true });
      const reader = userClient(server, "reader", "reader-secret-key");
      clients.push(reader);
      const got = await reader.send(
        new GetObjectCommand({ Bucket: BUCKET, Key: "shared/readme.txt" }),
      );
      await bodyBytes(got.Body);
      equal(
        await errorCode(reader.send(new PutObjectCommand({ Bucket: BUCKET, Key: "x", Body: "x" }))),
        "AccessDenied",
      );
      const users = await admin(server, "GET", "list-users");
      equal((users.json as Record<string, { policyName: string }>).alice?.policyName, "home-dirs");
    });
  } finally {
    for (const c of clients) c.destroy();
    await server.stop();
    const dir = server.drivePaths[0]!.replace(/\/disk1$/, "");
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
