import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { signRequestForTest } from "../auth/testing.ts";
import { memoryLayer } from "../object/_testing.ts";
import { handleIamAdmin } from "./admin_api.ts";
import { IamStore } from "./store.ts";

const ROOT = { accessKey: "rootuser", secretKey: "rootsecret123" };
const REGION = "us-east-1";

async function setup() {
  const store = await IamStore.open(await memoryLayer(4), { root: ROOT });
  const call = async (
    method: string,
    target: string,
    body = "",
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
    const response = await handleIamAdmin(request, new URL(url), { store, region: REGION });
    assert.ok(response, `${method} ${target} is an admin route`);
    const text = await response.text();
    return { status: response.status, json: text === "" ? undefined : JSON.parse(text) };
  };
  return { store, call };
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
  assert.equal(del.status, 200);
  assert.equal(store.lookup(sa.json.credentials.accessKey), undefined);
});
