/**
 * Drive loss and bitrot on real directories: with up to m drives gone (deleted, emptied or
 * unreadable) every object reads back byte-exact and writes continue while the write quorum
 * holds; with more gone, requests fail with QuorumLost and nothing is corrupted.
 */
import assert from "node:assert/strict";
import { BitrotDetected, QuorumLost } from "./errors.ts";
import {
  bodyOf,
  filesUnder,
  type FsCluster,
  fsCluster,
  makeUnreadable,
  randomBytes,
  readAll,
  rng,
  SEED,
} from "./_testing.ts";

console.log(`degraded_test seed ${SEED} (replay with SHALE_SEED=${SEED})`);
const KiB = 1024, MiB = 1024 * KiB;
const SIZES = [0, 1, 128 * KiB - 1, 128 * KiB, MiB + 1, 3 * MiB + 5];

async function fill(c: FsCluster): Promise<Map<string, Uint8Array>> {
  await c.layer.makeBucket("bkt");
  const objects = new Map<string, Uint8Array>();
  for (const [i, size] of SIZES.entries()) {
    const data = randomBytes(size, SEED + i);
    await c.layer.putObject("bkt", `o/${size}`, bodyOf(data), { size, metadata: { user: {} } });
    objects.set(`o/${size}`, data);
  }
  return objects;
}

async function checkAll(c: FsCluster, objects: Map<string, Uint8Array>): Promise<void> {
  for (const [key, data] of objects) {
    const r = await c.layer.openObject("bkt", key);
    const got = await readAll(r.stream(0, data.length));
    assert.equal(got.length, data.length, key);
    assert.ok(got.every((v, i) => v === data[i]), `${key} differs`);
  }
}

type Damage = "deleted" | "emptied" | "unreadable";
async function damage(path: string, how: Damage): Promise<void> {
  if (how === "deleted") await Deno.remove(path, { recursive: true });
  else if (how === "emptied") {
    for (const e of [...Deno.readDirSync(path)]) {
      await Deno.remove(`${path}/${e.name}`, { recursive: true });
    }
  } else await makeUnreadable(path);
}

const GEOMETRIES: Array<{ n: number; parity?: number; m: number; wq: number }> = [
  { n: 4, m: 2, wq: 3 },
  { n: 6, m: 3, wq: 4 },
  { n: 6, parity: 2, m: 2, wq: 4 },
];

for (const g of GEOMETRIES) {
  for (const how of ["deleted", "emptied", "unreadable"] as const) {
    Deno.test(`${g.n} drives EC:${g.m}: with ${g.m} drives ${how} every object reads back and writes follow the quorum`, async () => {
      const opts = g.parity === undefined ? {} : { standardParity: g.parity };
      const c = await fsCluster(g.n, opts);
      try {
        const objects = await fill(c);
        const lost = c.paths.slice(0, g.m);
        for (const p of lost) await damage(p, how);
        await checkAll(c, objects);
        const extra = randomBytes(MiB + 77, SEED + 99);
        const put = () =>
          c.layer.putObject("bkt", "new", bodyOf(extra), {
            size: extra.length,
            metadata: { user: {} },
          });
        // An emptied drive is still a working drive: it takes new writes.
        if (how === "emptied" || g.n - g.m >= g.wq) {
          await put();
          objects.set("new", extra);
          await checkAll(c, objects);
        } else {
          await assert.rejects(put, QuorumLost);
        }
        // A restart with the damage starts degraded and still serves every object.
        await c.reopen(opts);
        await checkAll(c, objects);
      } finally {
        await c.cleanup();
      }
    });
  }
}

Deno.test("with fewer than m drives lost writes continue even when k equals m", async () => {
  const c = await fsCluster(4);
  try {
    const objects = await fill(c);
    await damage(c.paths[3]!, "deleted");
    const extra = randomBytes(2 * MiB, SEED + 5);
    await c.layer.putObject("bkt", "new", bodyOf(extra), {
      size: extra.length,
      metadata: { user: {} },
    });
    objects.set("new", extra);
    await c.layer.deleteObject("bkt", "o/1");
    objects.delete("o/1");
    await checkAll(c, objects);
  } finally {
    await c.cleanup();
  }
});

Deno.test("with m+1 drives unreadable requests fail with QuorumLost and nothing is corrupted", async () => {
  const c = await fsCluster(4);
  try {
    const objects = await fill(c);
    const undo: Array<() => Promise<void>> = [];
    for (const p of c.paths.slice(1, 4)) undo.push(await makeUnreadable(p));
    for (const key of objects.keys()) {
      await assert.rejects(() => c.layer.openObject("bkt", key), QuorumLost, key);
    }
    await assert.rejects(
      () =>
        c.layer.putObject("bkt", "o/1", bodyOf(new Uint8Array(9)), {
          size: 9,
          metadata: { user: {} },
        }),
      QuorumLost,
    );
    await assert.rejects(() => c.layer.deleteObject("bkt", "o/1"), QuorumLost);
    for (const u of undo) await u();
    await checkAll(c, objects);
  } finally {
    await c.cleanup();
  }
});

Deno.test("flipped bytes in shard files are detected and the right bytes reconstructed", async () => {
  const c = await fsCluster(6, { standardParity: 2 });
  try {
    const objects = await fill(c);
    const rand = rng(SEED);
    let flips = 0;
    for (const key of objects.keys()) {
      // Flip bytes on up to m = 2 drives per object: shard files, or the record for inline data.
      const victims = [...c.paths].sort(() => rand() - 0.5).slice(0, 2);
      for (const p of victims) {
        const files = (await filesUnder(`${p}/bkt/${key}`)).filter((f) => f.includes("part."));
        const file = `${p}/bkt/${key}/${files[0] ?? "~meta"}`;
        const bytes = await Deno.readFile(file);
        for (let i = 0; i < 3; i++) {
          const at = Math.floor(rand() * bytes.length);
          bytes[at] = bytes[at]! ^ (1 << Math.floor(rand() * 8));
          flips++;
        }
        await Deno.writeFile(file, bytes);
      }
    }
    console.log(`flipped ${flips} bytes`);
    await checkAll(c, objects);
  } finally {
    await c.cleanup();
  }
});

Deno.test("a block corrupt on more than m drives is refused with BitrotDetected", async () => {
  const c = await fsCluster(4);
  try {
    await c.layer.makeBucket("bkt");
    const data = randomBytes(2 * MiB, SEED);
    await c.layer.putObject("bkt", "k", bodyOf(data), {
      size: data.length,
      metadata: { user: {} },
    });
    for (const p of c.paths.slice(0, 3)) {
      const [f] = (await filesUnder(`${p}/bkt/k`)).filter((x) => x.includes("part."));
      const path = `${p}/bkt/k/${f}`;
      const bytes = await Deno.readFile(path);
      bytes[8 + 32 + 10] = bytes[8 + 32 + 10]! ^ 0xff; // block 0 of every shard
      await Deno.writeFile(path, bytes);
    }
    const r = await c.layer.openObject("bkt", "k");
    await assert.rejects(() => readAll(r.stream(0, data.length)), BitrotDetected);
    // Block 1 is intact and still served.
    const r2 = await c.layer.openObject("bkt", "k");
    assert.deepEqual(await readAll(r2.stream(MiB, MiB)), data.subarray(MiB));
  } finally {
    await c.cleanup();
  }
});

Deno.test("metadata records corrupt on too many drives give BitrotDetected, never wrong data", async () => {
  const c = await fsCluster(4);
  try {
    await c.layer.makeBucket("bkt");
    await c.layer.putObject("bkt", "k", bodyOf(new Uint8Array(10).fill(1)), {
      size: 10,
      metadata: { user: {} },
    });
    for (const p of c.paths.slice(0, 3)) {
      const bytes = await Deno.readFile(`${p}/bkt/k/~meta`);
      bytes[20] = bytes[20]! ^ 0x10;
      await Deno.writeFile(`${p}/bkt/k/~meta`, bytes);
    }
    await assert.rejects(() => c.layer.getObjectInfo("bkt", "k"), BitrotDetected);
  } finally {
    await c.cleanup();
  }
});
