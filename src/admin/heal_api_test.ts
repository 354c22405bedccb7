import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { signRequestForTest } from "../auth/testing.ts";
import { HealSequences, HealTotals } from "../background/mod.ts";
import { IamStore } from "../iam/mod.ts";
import { memoryLayer } from "../object/_testing.ts";
import { setLogSink } from "../util/logger.ts";
import { handleHealAdmin, type HealStatus } from "./heal_api.ts";

setLogSink(() => {});
const ROOT = { accessKey: "rootuser", secretKey: "rootsecret123" };
const REGION = "us-east-1";

async function setup() {
  const layer = await memoryLayer(6);
  const store = await IamStore.open(layer, { root: ROOT });
  await layer.makeBucket("photos");
  for (let i = 0; i < 5; i++) {
    const data = new Uint8Array(1000 * i).fill(i);
    await layer.putObject("photos", `p/${i}`, new Blob([data]).stream(), {
      size: data.length,
      metadata: { user: {} },
    });
  }
  const sequences = new HealSequences(layer, { totals: new HealTotals() });
  const call = async (
    method: string,
    target: string,
    creds: { accessKey: string; secretKey: string } = ROOT,
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
      payloadHash: createHash("sha256").update("").digest("hex"),
    });
    const request = new Request(url, { method, headers: signed.headers });
    const response = await handleHealAdmin(request, new URL(url), {
      sequences,
      store,
      region: REGION,
    });
    assert.ok(response, `${method} ${target} is a heal route`);
    return { status: response.status, json: await response.json() };
  };
  return { layer, store, sequences, call };
}

Deno.test("root starts a heal of a bucket and reads its progress by client token", async () => {
  const { layer, sequences, call } = await setup();
  const started = await call("POST", "heal/photos");
  assert.equal(started.status, 200);
  const token = started.json.clientToken as string;
  assert.match(token, /^[0-9a-f-]{36}$/);
  await sequences.wait(token);
  const p = await call("POST", `heal/photos?clientToken=${token}`);
  assert.equal(p.status, 200);
  const s = p.json as HealStatus;
  assert.equal(s.summary, "finished");
  assert.equal(s.bucket, "photos");
  assert.equal(s.objectsScanned, 5);
  assert.equal(s.objectsFailed, 0);
  assert.ok(s.endTime !== undefined);
  assert.equal((await call("GET", `heal/photos?clientToken=${token}`)).json.summary, "finished");
  await layer.close();
});

Deno.test("a heal of everything walks every bucket, the IAM bucket included", async () => {
  const { layer, sequences, call } = await setup();
  const started = await call("POST", "heal/");
  const token = started.json.clientToken as string;
  await sequences.wait(token);
  const s = (await call("GET", `heal/?clientToken=${token}`)).json as HealStatus;
  assert.equal(s.summary, "finished");
  assert.ok(s.objectsScanned >= 5, JSON.stringify(s));
  await layer.close();
});

Deno.test("heal answers 404 for an unknown bucket or token and 403 without admin:Heal", async () => {
  const { layer, store, call } = await setup();
  assert.equal((await call("POST", "heal/nope")).json.Code, "NoSuchBucket");
  assert.equal((await call("GET", "heal/?clientToken=abc")).status, 404);
  for (const bad of ["-ab", "a%2Fb", "UP", "x..y"]) {
    assert.equal((await call("POST", `heal/${bad}`)).json.Code, "InvalidBucketName", bad);
  }
  await store.addUser("bob", "bobsecret123");
  await store.attachPolicies({ user: "bob" }, ["readwrite"]);
  const bob = { accessKey: "bob", secretKey: "bobsecret123" };
  assert.equal((await call("POST", "heal/photos", bob)).status, 403);
  assert.equal(
    (await call("POST", "heal/photos", { accessKey: "rootuser", secretKey: "wrong-secret" }))
      .status,
    403,
  );
  await store.putPolicy(
    "healer",
    JSON.stringify({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Action: ["admin:Heal"] }],
    }),
  );
  await store.attachPolicies({ user: "bob" }, ["healer"]);
  assert.equal((await call("POST", "heal/photos", bob)).status, 200);
  await layer.close();
});

Deno.test("the background heal status answers in madmin's shape with the objects scanned", async () => {
  const { layer, sequences, call } = await setup();
  await sequences.wait((await sequences.start("photos")).id);
  const s = await call("POST", "background-heal/status");
  assert.equal(s.status, 200);
  assert.deepEqual(s.json.offline_nodes, []);
  assert.deepEqual(s.json.sets, []);
  assert.equal(s.json.ScannedItemsCount, 5);
  await layer.close();
});
