import assert from "node:assert/strict";
import { memoryLayer } from "../object/_testing.ts";
import { runAdminCommand } from "./admin_cli.ts";
import { handleIamAdmin } from "./admin_api.ts";
import { IamStore } from "./store.ts";

const ROOT = { accessKey: "rootuser", secretKey: "rootsecret123" };

Deno.test("shale admin manages users, policies, groups and service accounts over the admin API", async () => {
  const store = await IamStore.open(await memoryLayer(4), { root: ROOT });
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (req) =>
      (await handleIamAdmin(req, new URL(req.url), { store, region: "us-east-1" })) ??
        new Response(null, { status: 404 }),
  );
  const dir = await Deno.makeTempDir();
  try {
    const out: string[] = [];
    const err: string[] = [];
    const env: Record<string, string> = {
      SHALE_ENDPOINT: `http://127.0.0.1:${server.addr.port}`,
      SHALE_ROOT_USER: ROOT.accessKey,
      SHALE_ROOT_PASSWORD: ROOT.secretKey,
    };
    const run = (...args: string[]) =>
      runAdminCommand(args, {
        env: (n) => env[n],
        readFile: (p) => Deno.readTextFile(p),
        print: (l) => out.push(l),
        printError: (l) => err.push(l),
      });
    assert.equal(await run("user", "add", "alice", "alicesecret"), 0, err.join("\n"));
    const policyFile = `${dir}/p.json`;
    await Deno.writeTextFile(
      policyFile,
      JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::b/*" }],
      }),
    );
    assert.equal(await run("policy", "create", "getter", policyFile), 0, err.join("\n"));
    assert.equal(await run("policy", "attach", "getter,readonly", "--user", "alice"), 0);
    assert.equal(await run("group", "add", "devs", "alice"), 0);
    assert.equal(await run("policy", "attach", "writeonly", "--group", "devs"), 0);
    out.length = 0;
    assert.equal(await run("user", "list"), 0);
    assert.deepEqual(JSON.parse(out[0]!), {
      alice: { status: "enabled", policyName: "getter,readonly", memberOf: ["devs"] },
    });
    assert.equal(await run("user", "disable", "alice"), 0);
    assert.equal(store.lookup("alice"), undefined);
    assert.equal(await run("user", "enable", "alice"), 0);
    out.length = 0;
    assert.equal(await run("svcacct", "add", "alice"), 0);
    const sa = JSON.parse(out[0]!).credentials;
    assert.equal(store.identity(sa.accessKey)?.username, "alice");

    err.length = 0;
    await Deno.writeTextFile(policyFile, `{"Statement":[]}`);
    assert.equal(await run("policy", "create", "bad", policyFile), 1);
    assert.match(err[0]!, /^shale admin: MalformedPolicy: /);
    assert.equal(await run("user", "remove", "nobody"), 1);
    assert.equal(await run("user", "frobnicate"), 2);
    env.SHALE_ROOT_PASSWORD = "wrong-secret";
    assert.equal(await run("user", "list"), 1);
  } finally {
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});
