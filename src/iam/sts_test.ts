import assert from "node:assert/strict";
import { memoryLayer } from "../object/_testing.ts";
import { isAllowed } from "./authorize.ts";
import type { Identity } from "./identity.ts";
import { s3Arn } from "./s3_actions.ts";
import { IamStore } from "./store.ts";
import { assumeRoleXml, iamCredentialStore, StsError, StsService } from "./sts.ts";

const ROOT = { accessKey: "rootuser", secretKey: "rootsecret123" };

async function setup() {
  let now = new Date("2026-11-25T12:00:00Z");
  const clock = () => now;
  const store = await IamStore.open(await memoryLayer(4), { root: ROOT, now: clock });
  await store.addUser("alice", "alicesecret");
  await store.attachPolicies({ user: "alice" }, ["readwrite"]);
  const sts = new StsService(store, { rootSecretKey: ROOT.secretKey, now: clock });
  const creds = iamCredentialStore(store, sts);
  return { store, sts, creds, advance: (ms: number) => (now = new Date(now.getTime() + ms)) };
}

const can = (id: Identity | undefined, action: string, key: string) =>
  isAllowed({ action, resource: s3Arn("b", key) }, {
    identity: id,
    bucketPolicy: undefined,
    context: {},
  });

Deno.test("AssumeRole gives temporary credentials acting as the user until they expire", async () => {
  const { store, sts, creds, advance } = await setup();
  const role = await sts.assumeRole(
    store.identity("alice")!,
    new URLSearchParams("DurationSeconds=900"),
  );
  assert.equal(role.expiration.toISOString(), "2026-11-25T12:15:00.000Z");
  const looked = await creds.lookup(role.accessKey);
  assert.equal(looked?.secretKey, role.secretKey);
  assert.equal(looked?.sessionToken, role.sessionToken);
  assert.equal(role.sessionToken.split(".").length, 3, "a JWT");
  const id = await creds.identity(role.accessKey);
  assert.equal(id?.username, "alice");
  assert.ok(await can(id, "s3:PutObject", "k"));
  advance(900_000);
  assert.equal(await creds.identity(role.accessKey), undefined, "expired");
});

Deno.test("a session policy narrows the session", async () => {
  const { store, sts, creds } = await setup();
  const policy = JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::b/docs/*" }],
  });
  const role = await sts.assumeRole(
    store.identity("alice")!,
    new URLSearchParams({ Policy: policy }),
  );
  const id = await creds.identity(role.accessKey);
  assert.ok(await can(id, "s3:GetObject", "docs/a"));
  assert.ok(!await can(id, "s3:GetObject", "other/a"));
  assert.ok(!await can(id, "s3:PutObject", "docs/a"));
});

Deno.test("a disabled parent ends its sessions at once", async () => {
  const { store, sts, creds } = await setup();
  const role = await sts.assumeRole(store.identity("alice")!, new URLSearchParams());
  assert.ok(await creds.identity(role.accessKey));
  await store.setUserStatus("alice", "disabled");
  assert.equal(await creds.identity(role.accessKey), undefined);
});

Deno.test("AssumeRole refuses root, bad durations and bad session policies", async () => {
  const { store, sts } = await setup();
  const alice = store.identity("alice")!;
  const code = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (e) {
      if (e instanceof StsError) return e.code;
      throw e;
    }
    return "ok";
  };
  assert.equal(
    await code(sts.assumeRole(store.identity("rootuser")!, new URLSearchParams())),
    "AccessDenied",
  );
  for (const d of ["899", "43201", "abc", "-1"]) {
    assert.equal(
      await code(sts.assumeRole(alice, new URLSearchParams({ DurationSeconds: d }))),
      "ValidationError",
      d,
    );
  }
  assert.equal(
    await code(sts.assumeRole(alice, new URLSearchParams({ Policy: "{" }))),
    "MalformedPolicyDocument",
  );
  assert.equal(
    await code(sts.assumeRole(alice, new URLSearchParams({ Policy: " ".repeat(3000) }))),
    "PackedPolicyTooLarge",
  );
});

Deno.test("a token signed with another root secret does not verify", async () => {
  const { store, sts } = await setup();
  const role = await sts.assumeRole(store.identity("alice")!, new URLSearchParams());
  const other = new StsService(store, { rootSecretKey: "a-different-secret" });
  // The token is bound to the key derived from the root secret: a raw or another key fails.
  const { jwtVerify } = await import("jose");
  await assert.rejects(
    jwtVerify(role.sessionToken, new TextEncoder().encode("a-different-secret")),
  );
  assert.equal(await other.identity(role.accessKey), undefined);
});

Deno.test("the AssumeRole XML carries the credentials as AWS STS writes them", async () => {
  const { store, sts } = await setup();
  const role = await sts.assumeRole(store.identity("alice")!, new URLSearchParams());
  const xml = assumeRoleXml(role, "REQ1");
  assert.match(xml, /<AccessKeyId>[A-Z0-9]{20}<\/AccessKeyId>/);
  assert.match(xml, /<Expiration>2026-11-25T13:00:00Z<\/Expiration>/);
  assert.ok(xml.includes(`<SessionToken>${role.sessionToken}</SessionToken>`));
});

Deno.test("a session outlives its StsService (a restart) and stops when its parent is disabled", async () => {
  const { store, sts } = await setup();
  const policy = JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::b/*" }],
  });
  const role = await sts.assumeRole(
    store.identity("alice")!,
    new URLSearchParams({ Policy: policy }),
  );
  // A new service over the same drives, as after a restart: nothing in memory.
  const again = new StsService(store, {
    rootSecretKey: ROOT.secretKey,
    now: () => new Date("2026-11-25T12:30:00Z"),
  });
  const creds = iamCredentialStore(store, again);
  const looked = await creds.lookup(role.accessKey);
  assert.equal(looked?.secretKey, role.secretKey);
  assert.equal(looked?.sessionToken, role.sessionToken);
  const id = await creds.identity(role.accessKey);
  assert.ok(await can(id, "s3:GetObject", "k"));
  assert.ok(!await can(id, "s3:PutObject", "k"), "the session policy survives too");
  // Another root secret derives other keys: the stored secret does not open, the token fails.
  const other = new StsService(store, { rootSecretKey: "another-root-secret" });
  assert.equal(await other.lookup(role.accessKey), undefined);
  await store.setUserStatus("alice", "disabled");
  assert.equal(await creds.identity(role.accessKey), undefined, "parent disabled");
  await store.setUserStatus("alice", "enabled");
  assert.ok(await creds.identity(role.accessKey));
  assert.equal(await creds.lookup("NOSUCHSESSIONKEY0000"), undefined);
});

Deno.test("stored sessions long over are swept by a later AssumeRole", async () => {
  const { store, sts, advance } = await setup();
  const old = await sts.assumeRole(store.identity("alice")!, new URLSearchParams());
  // Past the longest duration and the grace (the records were written at the real time, which
  // is before the test clock moved on).
  advance((43_200 + 3_600 + 24 * 3_600) * 1000);
  const fresh = await sts.assumeRole(store.identity("alice")!, new URLSearchParams());
  const restarted = new StsService(store, { rootSecretKey: ROOT.secretKey });
  assert.equal(await restarted.lookup(old.accessKey), undefined, "swept");
  assert.equal((await restarted.lookup(fresh.accessKey))?.secretKey, fresh.secretKey);
});
