import assert from "node:assert/strict";
import { HealSequences } from "../background/mod.ts";
import { IamStore } from "../iam/mod.ts";
import { memoryLayer } from "../object/_testing.ts";
import { setLogSink } from "../util/logger.ts";
import { handleHealAdmin } from "./heal_api.ts";
import { runHealCommand } from "./heal_cli.ts";

setLogSink(() => {});
const ROOT = { accessKey: "rootuser", secretKey: "rootsecret123" };

Deno.test("shale admin heal --wait starts a heal over HTTP and prints progress to the end", async () => {
  const layer = await memoryLayer(6);
  const store = await IamStore.open(layer, { root: ROOT });
  await layer.makeBucket("docs");
  for (let i = 0; i < 3; i++) {
    await layer.putObject("docs", `d${i}`, new Blob(["x".repeat(i * 100)]).stream(), {
      size: i * 100,
      metadata: { user: {} },
    });
  }
  const sequences = new HealSequences(layer);
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (r) =>
      (await handleHealAdmin(r, new URL(r.url), { sequences, store, region: "us-east-1" })) ??
        new Response("not here", { status: 404 }),
  );
  try {
    const out: string[] = [];
    const err: string[] = [];
    const io = {
      env: (name: string) =>
        ({
          SHALE_ENDPOINT: `http://127.0.0.1:${server.addr.port}`,
          SHALE_ROOT_USER: ROOT.accessKey,
          SHALE_ROOT_PASSWORD: ROOT.secretKey,
        } as Record<string, string>)[name],
      readFile: () => Promise.reject(new Error("no files")),
      print: (l: string) => out.push(l),
      printError: (l: string) => err.push(l),
    };
    assert.equal(await runHealCommand(["docs", "--wait"], io, { pollMs: 10 }), 0, err.join("\n"));
    assert.match(out[0]!, /^Heal of "docs" started: [0-9a-f-]{36}$/);
    assert.match(out.at(-1)!, /^finished: 3 objects scanned, 0 healed, 0 failed, 0 bytes healed$/);
    assert.equal(await runHealCommand(["nope"], io), 1);
    assert.match(err.at(-1)!, /NoSuchBucket/);
    assert.equal(await runHealCommand(["a", "b"], io), 2);
  } finally {
    await server.shutdown();
    await layer.close();
  }
});
