import assert from "node:assert/strict";
import { MemoryDrive } from "../storage/mod.ts";
import { openObjectLayerOn } from "./object_layer.ts";
import { bodyOf, fsCluster, randomBytes, readAll, SEED } from "./_testing.ts";

console.log(`geometry_test seed ${SEED} (replay with SHALE_SEED=${SEED})`);
const MiB = 1024 * 1024;

for (const n of [1, 2, 3, 5, 8]) {
  Deno.test(`${n} drive(s): objects round-trip with MinIO's default parity`, async () => {
    const c = await fsCluster(n);
    try {
      await c.layer.makeBucket("bkt");
      for (const size of [0, 100, 2 * MiB + 3]) {
        const data = randomBytes(size, SEED + size);
        await c.layer.putObject("bkt", `k${size}`, bodyOf(data), { size, metadata: { user: {} } });
        const r = await c.layer.openObject("bkt", `k${size}`);
        assert.deepEqual(await readAll(r.stream(0, size)), data);
      }
      const m = c.layer.sets[0]!.geometryFor("STANDARD").m;
      assert.equal(m, [-1, 0, 1, 1, 2, 2, 3, 3, 4][n]);
    } finally {
      await c.cleanup();
    }
  });
}

Deno.test("REDUCED_REDUNDANCY uses parity 1 and survives one lost drive", async () => {
  const c = await fsCluster(4);
  try {
    await c.layer.makeBucket("bkt");
    const data = randomBytes(3 * MiB, SEED);
    const info = await c.layer.putObject("bkt", "rr", bodyOf(data), {
      size: data.length,
      metadata: { user: {} },
      storageClass: "REDUCED_REDUNDANCY",
    });
    assert.equal(info.storageClass, "REDUCED_REDUNDANCY");
    // k = 3: each of the 4 shard files holds a third of the data plus hashes.
    const sizes = [];
    for (const p of c.paths) {
      for await (const e of Deno.readDir(`${p}/bkt/rr`)) {
        if (e.isDirectory) sizes.push((await Deno.stat(`${p}/bkt/rr/${e.name}/part.1`)).size);
      }
    }
    assert.deepEqual(sizes, [0, 1, 2, 3].map(() => 8 + 3 * (32 + Math.ceil(MiB / 3))));
    await Deno.remove(c.paths[2]!, { recursive: true });
    const r = await c.layer.openObject("bkt", "rr");
    assert.equal(r.info.storageClass, "REDUCED_REDUNDANCY");
    assert.deepEqual(await readAll(r.stream(0, data.length)), data);
  } finally {
    await c.cleanup();
  }
});

Deno.test("18 drives form two sets of 9; keys spread over both and list as one bucket", async () => {
  const drives = Array.from({ length: 18 }, (_, i) => new MemoryDrive(`mem://d${i + 1}`));
  const layer = await openObjectLayerOn(drives, {});
  assert.equal(layer.sets.length, 2);
  assert.equal(layer.sets[0]!.n, 9);
  await layer.makeBucket("bkt");
  const keys = Array.from(
    { length: 200 },
    (_, i) => `dir${i % 5}/key-${String(i).padStart(3, "0")}`,
  );
  const perSet = [0, 0];
  for (const k of keys) {
    await layer.putObject("bkt", k, bodyOf(new TextEncoder().encode(k)), {
      size: -1,
      metadata: { user: {} },
    });
    perSet[layer.sets.indexOf(layer.setFor("bkt", k))]!++;
  }
  assert.ok(perSet[0]! > 50 && perSet[1]! > 50, `spread ${perSet}`);
  const listed = await layer.listObjects("bkt", {
    prefix: "",
    delimiter: "",
    after: "",
    maxKeys: 1000,
  });
  assert.deepEqual(listed.objects.map((o) => o.key), [...keys].sort());
  const top = await layer.listObjects("bkt", {
    prefix: "",
    delimiter: "/",
    after: "",
    maxKeys: 1000,
  });
  assert.deepEqual(top.prefixes, ["dir0/", "dir1/", "dir2/", "dir3/", "dir4/"]);
  for (const k of keys.slice(0, 20)) {
    const r = await layer.openObject("bkt", k);
    assert.equal(new TextDecoder().decode(await readAll(r.stream(0, r.info.size))), k);
  }
});
