import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { signRequestForTest } from "../auth/testing.ts";
import { memoryLayer } from "../object/_testing.ts";
import { IAM_POLICY_CHARS_MAX } from "../config/limits.ts";
import { handleIamAdmin } from "./admin_api.ts";
import { decryptMadmin, encryptMadmin, isMadminEncrypted } from "./madmin_crypto.ts";
import { IamStore } from "./store.ts";
import { StsService } from "./sts.ts";

const ROOT = { accessKey: "rootuser", secretKey: "rootsecret123" };
const REGION = "us-east-1";

async function setup() {
  const store = await IamStore.open(await memoryLayer(4), { root: ROOT });
  const sts = new StsService(store, { rootSecretKey: ROOT.secretKey });
  const call = async (
    method: string,
    target: string,
    body: string | Uint8Array<ArrayBuffer> = "",
    creds: { accessKey: string; secretKey: string } = ROOT,
    tamper?: string,
  ) => {
    const url = `http://127.0.0.1:9000/minio/admin/v3/${target}`;
    const q = target.indexOf("?");
    const signed = signRequestForTest({
      method,
      rawPath: `/minio/admin/v3/${q < 0 ? target : target.slice(0, q)}`,
      rawQuery: q < 0 ? "" : target.slice(q + 1),
      headers: new Headers({ host: "127.0.0.1:9000" }),
    }, {
      ...creds,
      region: REGION,
      payloadHash: createHash("sha256").update(body).digest("hex"),
    });
    const request = new Request(url, {
      method,
      headers: signed.headers,
      ...(method === "GET" || method === "HEAD" ? {} : { body: tamper ?? body }),
    });
    const response = await handleIamAdmin(request, new URL(url), { store, region: REGION, sts });
    assert.ok(response, `${method} ${target} is an admin route`);
    const bytes = new Uint8Array(await response.arrayBuffer());
    const encrypted = isMadminEncrypted(bytes);
    const text = new TextDecoder().decode(
      encrypted ? await decryptMadmin(creds.secretKey, bytes) : bytes,
    );
    return {
      status: response.status,
      encrypted,
      json: text === "" ? undefined : JSON.parse(text),
    };
  };
  return { store, sts, call };
}

Deno.test("root adds a user, attaches a policy and lists them", async () => {
  const { store, call } = await setup();
  assert.equal(
    (await call("PUT", "add-user?accessKey=alice", `{"secretKey":"alicesecret"}`)).status,
    200,
  );
  const attach = await call(
    "POST",
    "idp/builtin/policy/attach",
    JSON.stringify({ policies: ["readonly"], user: "alice" }),
  );
  assert.equal(attach.status, 200);
  const list = await call("GET", "list-users");
  assert.deepEqual(list.json, { alice: { status: "enabled", policyName: "readonly" } });
  assert.ok(store.lookup("alice"));
  assert.equal((await call("PUT", "set-user-status?accessKey=alice&status=disabled")).status, 200);
  assert.equal(store.lookup("alice"), undefined);
  assert.equal((await call("DELETE", "remove-user?accessKey=alice")).status, 200);
  const gone = await call("DELETE", "remove-user?accessKey=alice");
  assert.deepEqual([gone.status, gone.json.Code], [404, "XMinioAdminNoSuchUser"]);
});

Deno.test("custom policies are validated, listed and removed", async () => {
  const { call } = await setup();
  const bad = await call("PUT", "add-canned-policy?name=p", `{"Statement":[{"Effect":"Allow"}]}`);
  assert.deepEqual([bad.status, bad.json.Code], [400, "MalformedPolicy"]);
  const doc = {
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Action: ["s3:GetObject"], Resource: ["arn:aws:s3:::b/*"] }],
  };
  assert.equal((await call("PUT", "add-canned-policy?name=p", JSON.stringify(doc))).status, 200);
  const list = await call("GET", "list-canned-policies");
  assert.deepEqual(list.json.p, doc);
  assert.ok(list.json.readwrite);
  assert.equal((await call("DELETE", "remove-canned-policy?name=p")).status, 200);
});

Deno.test("a policy over AWS's 6,144 characters (whitespace not counted) is refused with LimitExceeded", async () => {
  const { call } = await setup();
  // A document of exactly `chars` characters once whitespace is taken out.
  const docOf = (chars: number) => {
    const doc = (pad: string) => ({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: `arn:aws:s3:::b/${pad}` }],
    });
    const bare = JSON.stringify(doc("")).length;
    return doc("x".repeat(chars - bare));
  };
  // Indented: over 6,144 characters with whitespace, at the limit without.
  const atLimit = JSON.stringify(docOf(IAM_POLICY_CHARS_MAX), null, 2);
  assert.ok(atLimit.length > IAM_POLICY_CHARS_MAX);
  assert.equal((await call("PUT", "add-canned-policy?name=big", atLimit)).status, 200);
  const over = await call(
    "PUT",
    "add-canned-policy?name=big",
    JSON.stringify(docOf(IAM_POLICY_CHARS_MAX + 1)),
  );
  assert.deepEqual([over.status, over.json], [409, {
    Code: "LimitExceeded",
    Message: "Cannot exceed quota for PolicySize: 6144",
  }]);
  // The refused document changed nothing: the policy is still the one at the limit.
  const info = await call("GET", "info-canned-policy?name=big");
  assert.deepEqual(info.json, JSON.parse(atLimit));
});

Deno.test("a user without admin rights is refused; so is an unsigned request", async () => {
  const { store, call } = await setup();
  await store.addUser("alice", "alicesecret");
  await store.attachPolicies({ user: "alice" }, ["readwrite"]);
  const r = await call("GET", "list-users", "", { accessKey: "alice", secretKey: "alicesecret" });
  assert.deepEqual([r.status, r.json.Code], [403, "AccessDenied"]);
  await store.attachPolicies({ user: "alice" }, ["consoleAdmin"]);
  const ok = await call("GET", "list-users", "", { accessKey: "alice", secretKey: "alicesecret" });
  assert.equal(ok.status, 200);
  const url = "http://127.0.0.1:9000/minio/admin/v3/list-users";
  const anon = await handleIamAdmin(new Request(url), new URL(url), { store, region: REGION });
  assert.equal(anon?.status, 403);
  const wrong = await call("GET", "list-users", "", {
    accessKey: "alice",
    secretKey: "wrongsecret",
  });
  assert.equal(wrong.status, 403);
});

Deno.test("a body that does not match its signed hash is refused and changes nothing", async () => {
  const { store, call } = await setup();
  const r = await call(
    "PUT",
    "add-user?accessKey=alice",
    `{"secretKey":"alicesecret"}`,
    ROOT,
    `{"secretKey":"evilsecret1"}`,
  );
  assert.equal(r.status, 400);
  assert.equal(r.json.Code, "XAmzContentSHA256Mismatch");
  assert.equal(store.lookup("alice"), undefined);
});

Deno.test("groups and service accounts through the admin API", async () => {
  const { store, call } = await setup();
  await store.addUser("alice", "alicesecret");
  const g = await call("PUT", "update-group-members", `{"group":"devs","members":["alice"]}`);
  assert.equal(g.status, 200);
  assert.deepEqual((await call("GET", "groups")).json, ["devs"]);
  assert.deepEqual((await call("GET", "group?group=devs")).json.members, ["alice"]);
  const sa = await call("PUT", "add-service-account", `{"targetUser":"alice"}`);
  assert.equal(sa.status, 200);
  assert.equal(sa.json.credentials.accessKey.length, 20);
  assert.equal(store.identity(sa.json.credentials.accessKey)?.username, "alice");
  const listed = await call("GET", "list-service-accounts?user=alice");
  assert.equal(listed.json.accounts[0].accessKey, sa.json.credentials.accessKey);
  const del = await call(
    "DELETE",
    `delete-service-account?accessKey=${sa.json.credentials.accessKey}`,
  );
  assert.equal(del.status, 204, "MinIO answers 204 No Content");
  assert.equal(store.lookup(sa.json.credentials.accessKey), undefined);
});

Deno.test("mc's encrypted bodies are decrypted and the answers MinIO encrypts come back encrypted", async () => {
  const { store, call } = await setup();
  const seal = async (doc: unknown) =>
    await encryptMadmin(ROOT.secretKey, new TextEncoder().encode(JSON.stringify(doc)));
  const add = await call(
    "PUT",
    "add-user?accessKey=bob",
    await seal({ secretKey: "bobsecret123", status: "enabled" }),
  );
  assert.equal(add.status, 200);
  assert.equal(store.lookup("bob")?.secretKey, "bobsecret123");
  const attach = await call(
    "POST",
    "idp/builtin/policy/attach",
    await seal({ policies: ["readwrite"], user: "bob" }),
  );
  assert.equal(attach.status, 200);
  assert.ok(attach.encrypted);
  assert.deepEqual(attach.json.policiesAttached, ["readwrite"]);
  const list = await call("GET", "list-users");
  assert.ok(list.encrypted);
  assert.deepEqual(list.json, { bob: { status: "enabled", policyName: "readwrite" } });
  const sa = await call(
    "PUT",
    "add-service-account",
    await seal({
      targetUser: "bob",
      policy: {
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Action: ["s3:GetObject"], Resource: ["arn:aws:s3:::b/*"] }],
      },
      expiration: "1970-01-01T00:00:00Z",
    }),
  );
  assert.ok(sa.encrypted);
  const key = sa.json.credentials.accessKey as string;
  assert.equal(sa.json.credentials.expiration, undefined, "the Unix epoch means no expiry");
  const info = await call("GET", `info-service-account?accessKey=${key}`);
  assert.ok(info.encrypted);
  assert.equal(info.json.parentUser, "bob");
  assert.equal(info.json.impliedPolicy, false);
  assert.match(info.json.policy, /s3:GetObject/);
  const off = await call(
    "POST",
    `update-service-account?accessKey=${key}`,
    await seal({ newStatus: "off" }),
  );
  assert.equal(off.status, 204);
  assert.equal(store.lookup(key), undefined);
  const keys = await call("GET", "list-access-keys-bulk?listType=all&users=bob");
  assert.deepEqual(keys.json.bob.serviceAccounts.map((a: { accessKey: string }) => a.accessKey), [
    key,
  ]);
  assert.equal((await call("DELETE", `delete-service-account?accessKey=${key}`)).status, 204);
  // A body encrypted under another secret is refused, and nothing changes.
  const forged = await encryptMadmin(
    "not-the-secret",
    new TextEncoder().encode(`{"secretKey":"x12345678"}`),
  );
  assert.equal((await call("PUT", "add-user?accessKey=carol", forged)).status, 400);
  assert.equal(store.getUser("carol"), undefined);
});

Deno.test("STS sessions show in temporary-account-info and among a user's access keys", async () => {
  const { store, sts, call } = await setup();
  await store.addUser("alice", "alicesecret");
  await store.attachPolicies({ user: "alice" }, ["readwrite"]);
  const policy = JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::b/*" }],
  });
  const role = await sts.assumeRole(
    store.identity("alice")!,
    new URLSearchParams({ Policy: policy }),
  );
  const info = await call("GET", `temporary-account-info?accessKey=${role.accessKey}`);
  assert.equal(info.status, 200);
  assert.ok(info.encrypted);
  assert.equal(info.json.parentUser, "alice");
  assert.equal(info.json.impliedPolicy, false);
  assert.equal(info.json.policy, policy);
  assert.equal(info.json.expiration, role.expiration.toISOString());
  const keys = await call("GET", "list-access-keys-bulk?listType=sts-only&users=alice");
  assert.deepEqual(keys.json.alice.stsKeys.map((k: { accessKey: string }) => k.accessKey), [
    role.accessKey,
  ]);
  assert.deepEqual(keys.json.alice.serviceAccounts, []);
  assert.equal(
    (await call("GET", "temporary-account-info?accessKey=NOSUCHSESSIONKEY0000")).status,
    404,
  );
});

Deno.test("a user manages their own service accounts without an admin policy, unless denied", async () => {
  const { store, call } = await setup();
  const alice = { accessKey: "alice", secretKey: "alicesecret" };
  await store.addUser("alice", alice.secretKey);
  await store.addUser("bob", "bobsecret1");
  await store.attachPolicies({ user: "alice" }, ["readwrite"]);
  const seal = async (doc: unknown) =>
    await encryptMadmin(alice.secretKey, new TextEncoder().encode(JSON.stringify(doc)));
  // No target user: alice's own (mc admin accesskey create ALIAS).
  const own = await call("PUT", "add-service-account", await seal({}), alice);
  assert.equal(own.status, 200);
  const key = own.json.credentials.accessKey as string;
  assert.equal(store.listServiceAccounts("alice").length, 1);
  assert.equal((await call("GET", "list-service-accounts?user=alice", "", alice)).status, 200);
  assert.equal((await call("GET", `info-service-account?accessKey=${key}`, "", alice)).status, 200);
  const mine = await call("GET", "list-access-keys-bulk?listType=all", "", alice);
  assert.deepEqual(Object.keys(mine.json), ["alice"]);
  // Someone else's: refused.
  const forBob = await call("PUT", "add-service-account", await seal({ targetUser: "bob" }), alice);
  assert.equal(forBob.status, 403);
  assert.equal((await call("GET", "list-service-accounts?user=bob", "", alice)).status, 403);
  assert.equal((await call("GET", "list-access-keys-bulk?all=true", "", alice)).status, 403);
  assert.equal((await call("GET", "list-users", "", alice)).status, 403);
  assert.equal(
    (await call("DELETE", `delete-service-account?accessKey=${key}`, "", alice)).status,
    204,
  );
  // An explicit Deny takes the right away.
  await store.putPolicy(
    "no-keys",
    JSON.stringify({
      Version: "2012-10-17",
      Statement: [{
        Effect: "Deny",
        Action: ["admin:CreateServiceAccount"],
        Resource: ["arn:aws:s3:::*"],
      }],
    }),
  );
  await store.attachPolicies({ user: "alice" }, ["no-keys"]);
  assert.equal((await call("PUT", "add-service-account", await seal({}), alice)).status, 403);
});
