import assert from "node:assert/strict";
import { fsCluster, memoryLayer } from "../object/_testing.ts";
import { isAllowed } from "./authorize.ts";
import { MalformedPolicy } from "./policy.ts";
import { s3Arn } from "./s3_actions.ts";
import { hideIamBucket, IAM_BUCKET, IamError, IamStore } from "./store.ts";
import type { Identity } from "./identity.ts";

const ROOT = { accessKey: "rootuser", secretKey: "rootsecret123" };

async function can(identity: Identity | undefined, action: string, bucket: string, key?: string) {
  return await isAllowed({ action, resource: s3Arn(bucket, key) }, {
    identity,
    bucketPolicy: undefined,
    context: {},
  });
}

const rejects = (code: string) => (e: unknown) => e instanceof IamError && e.code === code;

Deno.test("users: added, looked up, disabled, re-enabled and removed", async () => {
  const store = await IamStore.open(await memoryLayer(4), { root: ROOT });
  assert.deepEqual(store.lookup("rootuser"), ROOT);
  assert.equal(store.identity("rootuser")?.isRoot, true);
  await store.addUser("alice", "alicesecret");
  assert.deepEqual(store.lookup("alice"), { accessKey: "alice", secretKey: "alicesecret" });
  assert.equal(store.identity("alice")?.isRoot, false);
  assert.equal(await can(store.identity("alice"), "s3:GetObject", "b", "k"), false);
  await store.setUserStatus("alice", "disabled");
  assert.equal(store.lookup("alice"), undefined);
  assert.equal(store.identity("alice"), undefined);
  await store.setUserStatus("alice", "enabled");
  assert.ok(store.lookup("alice"));
  await store.removeUser("alice");
  assert.equal(store.lookup("alice"), undefined);
  await assert.rejects(store.removeUser("alice"), rejects("NoSuchUser"));
});

Deno.test("users: bad keys and a taken access key are refused", async () => {
  const store = await IamStore.open(await memoryLayer(4), { root: ROOT });
  await assert.rejects(store.addUser("ab", "longenoughsecret"), rejects("InvalidArgument"));
  await assert.rejects(store.addUser("bob", "short"), rejects("InvalidArgument"));
  await assert.rejects(store.addUser("bad/key", "longenoughsecret"), rejects("InvalidArgument"));
  await assert.rejects(store.addUser("rootuser", "longenoughsecret"), rejects("AlreadyExists"));
});

Deno.test("policies attach to users and groups; a group's apply to its members", async () => {
  const store = await IamStore.open(await memoryLayer(4), { root: ROOT });
  await store.addUser("alice", "alicesecret");
  await store.attachPolicies({ user: "alice" }, ["readonly"]);
  assert.equal(await can(store.identity("alice"), "s3:GetObject", "b", "k"), true);
  assert.equal(await can(store.identity("alice"), "s3:PutObject", "b", "k"), false);

  await store.putPolicy(
    "put-uploads",
    JSON.stringify({
      Version: "2012-10-17",
      Statement: [{
        Effect: "Allow",
        Action: "s3:PutObject",
        Resource: "arn:aws:s3:::b/uploads/*",
      }],
    }),
  );
  await store.addGroupMembers("uploaders", ["alice"]);
  await store.attachPolicies({ group: "uploaders" }, ["put-uploads"]);
  assert.equal(await can(store.identity("alice"), "s3:PutObject", "b", "uploads/x"), true);
  assert.equal(await can(store.identity("alice"), "s3:PutObject", "b", "other/x"), false);
  await store.setGroupStatus("uploaders", "disabled");
  assert.equal(await can(store.identity("alice"), "s3:PutObject", "b", "uploads/x"), false);
  await store.setGroupStatus("uploaders", "enabled");

  await assert.rejects(store.deletePolicy("put-uploads"), rejects("PolicyInUse"));
  await store.detachPolicies({ group: "uploaders" }, ["put-uploads"]);
  await store.deletePolicy("put-uploads");
  assert.equal(await can(store.identity("alice"), "s3:PutObject", "b", "uploads/x"), false);
  await assert.rejects(store.attachPolicies({ user: "alice" }, ["nope"]), rejects("NoSuchPolicy"));
  await assert.rejects(
    store.putPolicy("bad", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow"}]}`),
    MalformedPolicy,
  );
  await assert.rejects(store.putPolicy("readwrite", "{}"), rejects("InvalidArgument"));
  await assert.rejects(store.removeGroupMembers("uploaders", []), rejects("InvalidArgument"));
  await store.removeGroupMembers("uploaders", ["alice"]);
  await store.removeGroupMembers("uploaders", []);
  assert.deepEqual(store.listGroups(), []);
});

Deno.test("service accounts: the parent's rights narrowed by the inline policy, until expiry", async () => {
  let now = new Date("2026-11-25T12:00:00Z");
  const store = await IamStore.open(await memoryLayer(4), { root: ROOT, now: () => now });
  await store.addUser("alice", "alicesecret");
  await store.attachPolicies({ user: "alice" }, ["readonly"]);
  const inline = JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Action: "s3:*", Resource: "arn:aws:s3:::b/public/*" }],
  });
  const sa = await store.addServiceAccount({
    parent: "alice",
    policy: inline,
    expiresAt: new Date("2026-11-25T13:00:00Z"),
  });
  assert.equal(sa.accessKey.length, 20);
  assert.equal(sa.secretKey.length, 40);
  const id = store.identity(sa.accessKey);
  assert.equal(id?.username, "alice");
  assert.equal(await can(id, "s3:GetObject", "b", "public/x"), true);
  assert.equal(await can(id, "s3:GetObject", "b", "private/x"), false, "outside the inline policy");
  assert.equal(await can(id, "s3:PutObject", "b", "public/x"), false, "beyond the parent's rights");
  assert.deepEqual(store.lookup(sa.accessKey)?.expiresAt, new Date("2026-11-25T13:00:00Z"));

  await store.setUserStatus("alice", "disabled");
  assert.equal(store.lookup(sa.accessKey), undefined, "a disabled parent stops its accounts");
  await store.setUserStatus("alice", "enabled");
  now = new Date("2026-11-25T13:00:01Z");
  assert.equal(store.identity(sa.accessKey), undefined, "expired");
  await store.removeUser("alice");
  assert.deepEqual(store.listServiceAccounts(), [], "removed with their parent");
  await assert.rejects(
    store.addServiceAccount({ parent: "alice" }),
    rejects("NoSuchUser"),
  );
});

Deno.test("the IAM document survives a restart and the loss of two of four drives", async () => {
  const cluster = await fsCluster(4);
  try {
    const store = await IamStore.open(cluster.layer, { root: ROOT });
    await store.addUser("alice", "alicesecret");
    await store.attachPolicies({ user: "alice" }, ["readwrite"]);
    await Deno.remove(cluster.paths[0]!, { recursive: true });
    await Deno.remove(cluster.paths[2]!, { recursive: true });
    await Deno.mkdir(cluster.paths[0]!);
    await Deno.mkdir(cluster.paths[2]!);
    const reopened = await IamStore.open(await cluster.reopen(), { root: ROOT });
    assert.deepEqual(reopened.lookup("alice"), { accessKey: "alice", secretKey: "alicesecret" });
    assert.equal(await can(reopened.identity("alice"), "s3:PutObject", "b", "k"), true);
  } finally {
    await cluster.cleanup();
  }
});

Deno.test("a failed write changes nothing in memory", async () => {
  const layer = await memoryLayer(4);
  const store = await IamStore.open(layer, { root: ROOT });
  await store.addUser("alice", "alicesecret");
  const failing = new Proxy(layer, {
    get: (target, prop) =>
      prop === "putObject"
        ? () => Promise.reject(new Error("drives gone"))
        : (Reflect.get(target, prop) as (...a: unknown[]) => unknown).bind(target),
  });
  const broken = await IamStore.open(failing, { root: ROOT });
  await assert.rejects(broken.addUser("bob", "bobsecret1"), /drives gone/);
  assert.equal(broken.lookup("bob"), undefined);
  assert.ok(broken.lookup("alice"), "loaded from the stored document");
});

Deno.test("reload picks up a change made through another store on the same drives", async () => {
  const layer = await memoryLayer(4);
  const a = await IamStore.open(layer, { root: ROOT });
  const b = await IamStore.open(layer, { root: ROOT });
  await a.addUser("alice", "alicesecret");
  assert.equal(b.lookup("alice"), undefined);
  await b.reload();
  assert.ok(b.lookup("alice"));
});

Deno.test("the reserved bucket is hidden from ListBuckets", async () => {
  const layer = await memoryLayer(4);
  await IamStore.open(layer, { root: ROOT });
  await layer.makeBucket("photos");
  assert.deepEqual((await layer.listBuckets()).map((b) => b.name), [IAM_BUCKET, "photos"]);
  assert.deepEqual((await hideIamBucket(layer).listBuckets()).map((b) => b.name), ["photos"]);
});

Deno.test("the IAM document is sealed at rest: no secret is readable on the drives", async () => {
  const objects = await memoryLayer(4);
  const store = await IamStore.open(objects, { root: ROOT });
  await store.addUser("alice", "alice-very-secret");
  const reader = await objects.openObject(IAM_BUCKET, "iam.json");
  const stored = new Uint8Array(
    await new Response(reader.stream(0, reader.info.size)).arrayBuffer(),
  );
  assert.equal(new TextDecoder().decode(stored.subarray(0, 8)), "SHALEIAM");
  const text = new TextDecoder("latin1").decode(stored);
  assert.ok(!text.includes("alice-very-secret") && !text.includes("alice"));
  // The same root secret opens it again (a restart).
  const again = await IamStore.open(objects, { root: ROOT });
  assert.equal(again.lookup("alice")?.secretKey, "alice-very-secret");
});

Deno.test("a document sealed under a previous root secret opens with it and is re-sealed", async () => {
  const objects = await memoryLayer(4);
  const before = await IamStore.open(objects, { root: ROOT });
  await before.addUser("alice", "alice-very-secret");
  const rotated = { accessKey: "rootuser", secretKey: "new-root-secret-123" };
  await assert.rejects(IamStore.open(objects, { root: rotated }), /does not open with the root/);
  const store = await IamStore.open(objects, {
    root: rotated,
    previousRootSecretKeys: [ROOT.secretKey],
  });
  assert.equal(store.lookup("alice")?.secretKey, "alice-very-secret");
  // Re-sealed at open: the next start needs only the new secret, and the old one opens nothing.
  const after = await IamStore.open(objects, { root: rotated });
  assert.equal(after.lookup("alice")?.secretKey, "alice-very-secret");
  await assert.rejects(IamStore.open(objects, { root: ROOT }), /does not open with the root/);
});

Deno.test("a plain JSON document (format 1, before sealing) is still read", async () => {
  const objects = await memoryLayer(4);
  await IamStore.open(objects, { root: ROOT });
  const plain = new TextEncoder().encode(JSON.stringify({
    format: "shale-iam",
    version: 1,
    users: {
      alice: { accessKey: "alice", secretKey: "alicesecret", status: "enabled", policies: [] },
    },
    groups: {},
    policies: {},
    serviceAccounts: {},
  }));
  await objects.putObject(IAM_BUCKET, "iam.json", new Blob([plain]).stream(), {
    size: plain.byteLength,
    metadata: { contentType: "application/json", user: {} },
  });
  const store = await IamStore.open(objects, { root: ROOT });
  assert.equal(store.lookup("alice")?.secretKey, "alicesecret");
  // ...and sealed at once: no user's secret stays in clear on the drives.
  const reader = await objects.openObject(IAM_BUCKET, "iam.json");
  const stored = new Uint8Array(
    await new Response(reader.stream(0, reader.info.size)).arrayBuffer(),
  );
  assert.equal(new TextDecoder().decode(stored.subarray(0, 8)), "SHALEIAM");
});
