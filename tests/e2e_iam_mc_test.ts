/**
 * End to end: MinIO's own `mc admin` (built pinned by tests/clients/install_mc.sh) manages users,
 * groups, policies, service accounts and access keys on a real Shale server, and each change is
 * checked through S3 with @aws-sdk/client-s3. mc encrypts several request bodies and expects
 * several answers encrypted (madmin-go), so these steps only pass when that scheme matches.
 * One server and one mc config folder for the file.
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import {
  CreateBucketCommand,
  GetObjectCommand,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { mcBinary, run } from "./clients/_run.ts";
import { clientFor, errorCode } from "./_s3.ts";
import { startServer } from "./_server.ts";

const BUCKET = "shared";

Deno.test("mc admin manages users, groups, policies, service accounts and access keys", async (t) => {
  const mc = await mcBinary();
  const server = await startServer();
  const configDir = await Deno.makeTempDir({ prefix: "shale-mc-config-" });
  const clients: S3Client[] = [];
  const s3 = (accessKey: string, secretKey: string) => {
    const c = clientFor(server, {
      credentials: { accessKeyId: accessKey, secretAccessKey: secretKey },
      maxAttempts: 1,
    });
    clients.push(c);
    return c;
  };
  // mc prints to stdout; --json gives one JSON document per line.
  const mcRun = (...args: string[]) =>
    run(mc, ["--config-dir", configDir, "--no-color", ...args], { env: { HOME: configDir } });
  const mcOk = async (...args: string[]) => {
    const r = await mcRun(...args);
    equal(r.code, 0, `mc ${args.join(" ")}\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  };
  const mcJson = async (...args: string[]) =>
    (await mcOk("--json", ...args)).trim().split("\n").map((l) => JSON.parse(l));
  const put = (c: S3Client, key: string) =>
    c.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: "hello" }));
  const get = (c: S3Client, key: string) =>
    c.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  const fails = async (p: Promise<unknown>, codes: string[], why: string) => {
    const code = await errorCode(p);
    ok(codes.includes(code), `${why}: got ${code}`);
  };

  try {
    await s3(server.accessKey, server.secretKey).send(new CreateBucketCommand({ Bucket: BUCKET }));
    await mcOk("alias", "set", "shale", server.endpoint, server.accessKey, server.secretKey);
    const policyFile = `${configDir}/uploads.json`;
    await Deno.writeTextFile(
      policyFile,
      JSON.stringify({
        Version: "2012-10-17",
        Statement: [{
          Effect: "Allow",
          Action: ["s3:PutObject", "s3:GetObject"],
          Resource: [`arn:aws:s3:::${BUCKET}/uploads/*`],
        }],
      }),
    );
    const alice = s3("alice", "alice-secret-key");

    await t.step("mc admin info answers", async () => {
      const [info] = await mcJson("admin", "info", "shale");
      equal(info.info.mode, "online");
    });

    await t.step(
      "user add, policy create and attach: the user may PUT where the policy says",
      async () => {
        await mcOk("admin", "user", "add", "shale", "alice", "alice-secret-key");
        await mcOk("admin", "policy", "create", "shale", "uploads", policyFile);
        await fails(put(alice, "uploads/a.txt"), ["AccessDenied"], "no policy attached yet");
        match(
          await mcOk("admin", "policy", "attach", "shale", "uploads", "--user", "alice"),
          /uploads/,
        );
        await put(alice, "uploads/a.txt");
        await fails(put(alice, "elsewhere.txt"), ["AccessDenied"], "outside the policy");
        const users = await mcJson("admin", "user", "list", "shale");
        deepEqual(users.map((u) => [u.accessKey, u.userStatus, u.policyName]), [
          ["alice", "enabled", "uploads"],
        ]);
        const [info] = await mcJson("admin", "user", "info", "shale", "alice");
        equal(info.policyName, "uploads");
      },
    );

    await t.step(
      "policy list and info show the custom policy next to the canned ones",
      async () => {
        const names = (await mcJson("admin", "policy", "list", "shale")).map((p) => p.policy);
        for (const n of ["uploads", "readwrite", "readonly", "writeonly", "consoleAdmin"]) {
          ok(names.includes(n), `${n} in ${names}`);
        }
        const [info] = await mcJson("admin", "policy", "info", "shale", "uploads");
        deepEqual(info.policyInfo.Policy.Statement[0].Action, ["s3:PutObject", "s3:GetObject"]);
      },
    );

    await t.step("user disable refuses the user's keys, enable restores them", async () => {
      await mcOk("admin", "user", "disable", "shale", "alice");
      await fails(put(alice, "uploads/b.txt"), ["InvalidAccessKeyId"], "a disabled user");
      const [info] = await mcJson("admin", "user", "info", "shale", "alice");
      equal(info.userStatus, "disabled");
      await mcOk("admin", "user", "enable", "shale", "alice");
      await put(alice, "uploads/b.txt");
    });

    await t.step(
      "groups: a group's policy applies to its members while it is enabled",
      async () => {
        await mcOk("admin", "policy", "detach", "shale", "uploads", "--user", "alice");
        await mcOk("admin", "group", "add", "shale", "readers", "alice");
        await mcOk("admin", "policy", "attach", "shale", "readonly", "--group", "readers");
        await get(alice, "uploads/a.txt");
        await fails(put(alice, "uploads/c.txt"), ["AccessDenied"], "readonly through the group");
        deepEqual((await mcJson("admin", "group", "list", "shale")).map((g) => g.groups), [
          ["readers"],
        ]);
        const [info] = await mcJson("admin", "group", "info", "shale", "readers");
        deepEqual([info.groupName, info.members, info.groupPolicy], [
          "readers",
          ["alice"],
          "readonly",
        ]);
        const [entities] = await mcJson("admin", "policy", "entities", "shale", "--user", "alice");
        deepEqual(entities.result.userMappings[0].memberOfMappings, [
          { group: "readers", policies: ["readonly"] },
        ]);
        await mcOk("admin", "group", "disable", "shale", "readers");
        await fails(get(alice, "uploads/a.txt"), ["AccessDenied"], "the group is disabled");
        await mcOk("admin", "group", "enable", "shale", "readers");
        await get(alice, "uploads/a.txt");
        await mcOk("admin", "group", "remove", "shale", "readers", "alice");
        await fails(get(alice, "uploads/a.txt"), ["AccessDenied"], "no longer a member");
        await mcOk("admin", "policy", "detach", "shale", "readonly", "--group", "readers");
        await mcOk("admin", "group", "remove", "shale", "readers");
        equal((await mcRun("admin", "group", "info", "shale", "readers")).code === 0, false);
      },
    );

    await t.step(
      "svcacct add with --policy and --expiry: the keys act within the inline policy",
      async () => {
        await mcOk("admin", "policy", "attach", "shale", "readwrite", "--user", "alice");
        const inline = `${configDir}/read-uploads.json`;
        await Deno.writeTextFile(
          inline,
          JSON.stringify({
            Version: "2012-10-17",
            Statement: [{
              Effect: "Allow",
              Action: ["s3:GetObject"],
              Resource: [`arn:aws:s3:::${BUCKET}/uploads/*`],
            }],
          }),
        );
        const expiry = new Date(Date.now() + 3600_000).toISOString().replace(/\.\d+Z$/, "Z");
        const [created] = await mcJson(
          "admin",
          "user",
          "svcacct",
          "add",
          "shale",
          "alice",
          "--access-key",
          "alicesvc1",
          "--secret-key",
          "alicesvc1-secret",
          "--policy",
          inline,
          "--expiry",
          expiry,
        );
        equal(created.accessKey, "alicesvc1");
        const sa = s3("alicesvc1", "alicesvc1-secret");
        await get(sa, "uploads/a.txt");
        await fails(
          put(sa, "uploads/d.txt"),
          ["AccessDenied"],
          "alice may PUT, the inline policy may not",
        );
        const listed = await mcJson("admin", "user", "svcacct", "list", "shale", "alice");
        deepEqual(listed.map((a) => a.accessKey), ["alicesvc1"]);
        const [info] = await mcJson("admin", "user", "svcacct", "info", "shale", "alicesvc1");
        equal(info.parentUser, "alice");
        ok(info.impliedPolicy !== true);
        deepEqual(info.policy.Statement[0].Action, ["s3:GetObject"]);
        equal(new Date(info.expiration).toISOString().slice(0, 19), expiry.slice(0, 19));
        await mcOk("admin", "user", "svcacct", "disable", "shale", "alicesvc1");
        await fails(get(sa, "uploads/a.txt"), ["InvalidAccessKeyId"], "a disabled service account");
        await mcOk("admin", "user", "svcacct", "enable", "shale", "alicesvc1");
        await get(sa, "uploads/a.txt");
        await mcOk("admin", "user", "svcacct", "rm", "shale", "alicesvc1");
        await fails(get(sa, "uploads/a.txt"), ["InvalidAccessKeyId"], "a removed service account");
      },
    );

    await t.step("accesskey create, list, info and rm", async () => {
      const [created] = await mcJson(
        "admin",
        "accesskey",
        "create",
        "shale",
        "alice",
        "--access-key",
        "alicekey1",
        "--secret-key",
        "alicekey1-secret",
      );
      equal(created.accessKey, "alicekey1");
      const key = s3("alicekey1", "alicekey1-secret");
      await put(key, "uploads/e.txt");
      // Without an expiry (mc reads MinIO's Unix-epoch sentinel; a missing one crashed it).
      match(await mcOk("admin", "user", "svcacct", "list", "shale", "alice"), /alicekey1/);
      const [listed] = await mcJson("admin", "accesskey", "list", "shale", "alice");
      deepEqual(listed.svcaccs.map((a: { accessKey: string }) => a.accessKey), ["alicekey1"]);
      const [info] = await mcJson("admin", "accesskey", "info", "shale", "alicekey1");
      equal(info.parentUser, "alice");
      equal(info.provider, "builtin");
      await mcOk("admin", "accesskey", "rm", "shale", "alicekey1");
      await fails(get(key, "uploads/e.txt"), ["InvalidAccessKeyId"], "a removed access key");
    });

    await t.step("a user manages their own access keys with mc, nobody else's", async () => {
      await mcOk("alias", "set", "alice", server.endpoint, "alice", "alice-secret-key");
      const [created] = await mcJson(
        "admin",
        "accesskey",
        "create",
        "alice",
        "--access-key",
        "aliceown1",
        "--secret-key",
        "aliceown1-secret",
      );
      equal(created.accessKey, "aliceown1");
      await get(s3("aliceown1", "aliceown1-secret"), "uploads/a.txt");
      const [listed] = await mcJson("admin", "accesskey", "list", "alice");
      deepEqual(listed.svcaccs.map((a: { accessKey: string }) => a.accessKey), ["aliceown1"]);
      await mcOk("admin", "accesskey", "rm", "alice", "aliceown1");
      match((await mcRun("admin", "user", "list", "alice")).stderr, /Access Denied/);
      match(
        (await mcRun("admin", "user", "svcacct", "add", "alice", server.accessKey)).stderr,
        /Access Denied/,
      );
    });

    await t.step("user remove and policy remove", async () => {
      await mcOk("admin", "user", "remove", "shale", "alice");
      await fails(get(alice, "uploads/a.txt"), ["InvalidAccessKeyId"], "a removed user");
      deepEqual(await mcJson("admin", "user", "list", "shale").catch(() => []), []);
      await mcOk("admin", "policy", "remove", "shale", "uploads");
      const names = (await mcJson("admin", "policy", "list", "shale")).map((p) => p.policy);
      ok(!names.includes("uploads"));
    });
  } finally {
    for (const c of clients) c.destroy();
    await server.stop();
    await Deno.remove(configDir, { recursive: true });
  }
});
