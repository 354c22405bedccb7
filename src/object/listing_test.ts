import assert from "node:assert/strict";
import { compareKeys, DriveOffline, keyPath, META_FILE } from "../storage/mod.ts";
import { MemoryDrive } from "../storage/memory_drive.ts";
import { DirCache, walkDrive } from "./_listing.ts";
import { LIST_CACHE_RECENT_WRITES_MAX } from "../config/limits.ts";
import { bodyOf, fsCluster, memoryLayer, rng, SEED } from "./_testing.ts";
import type { ObjectLayer } from "./types.ts";

console.log(`listing_test seed ${SEED} (replay with SHALE_SEED=${SEED})`);

/** S3's answer for one page, computed from the full sorted key list. */
function modelPage(
  keys: string[],
  o: { prefix: string; delimiter: string; after: string; maxKeys: number },
) {
  const objects: string[] = [];
  const prefixes: string[] = [];
  let last: string | undefined;
  let truncated = false;
  for (const k of keys) {
    if (!k.startsWith(o.prefix) || compareKeys(k, o.after) <= 0) continue;
    let cp: string | undefined;
    if (o.delimiter !== "") {
      const i = k.indexOf(o.delimiter, o.prefix.length);
      if (i >= 0) cp = k.slice(0, i + o.delimiter.length);
    }
    if (cp !== undefined) {
      if (cp === last || compareKeys(cp, o.after) <= 0) continue;
    }
    if (objects.length + prefixes.length === o.maxKeys) {
      truncated = true;
      break;
    }
    if (cp !== undefined) prefixes.push(cp);
    else objects.push(k);
    last = cp ?? k;
  }
  return { objects, prefixes, truncated, last };
}

async function listAllPages(
  layer: ObjectLayer,
  keys: string[],
  prefix: string,
  delimiter: string,
  maxKeys: number,
): Promise<number> {
  let after = "";
  let pages = 0;
  while (true) {
    const got = await layer.listObjects("bkt", { prefix, delimiter, after, maxKeys });
    const want = modelPage(keys, { prefix, delimiter, after, maxKeys });
    const label = `prefix "${prefix}" delimiter "${delimiter}" after "${after}"`;
    assert.deepEqual(got.objects.map((o) => o.key), want.objects, label);
    assert.deepEqual(got.prefixes, want.prefixes, label);
    assert.equal(got.isTruncated, want.truncated, label);
    pages++;
    if (!got.isTruncated) return pages;
    assert.equal(got.nextAfter, want.last);
    after = got.nextAfter!;
  }
}

function randomKeys(count: number, seed: number): string[] {
  const r = rng(seed);
  const parts = ["a", "b", "photos", "2024", "x-y", "é", "z.txt", "", "~t", "日本"];
  const keys = new Set<string>();
  while (keys.size < count) {
    const depth = 1 + Math.floor(r() * 4);
    const segs: string[] = [];
    for (let i = 0; i < depth; i++) {
      segs.push(
        parts[Math.floor(r() * parts.length)]! + (r() < 0.7 ? String(Math.floor(r() * 500)) : ""),
      );
    }
    const k = segs.join("/");
    if (k !== "") keys.add(k);
  }
  return [...keys].sort(compareKeys);
}

Deno.test("10,000 keys listed page by page with prefixes and delimiters match a sorted model", async () => {
  const layer = await memoryLayer(4);
  await layer.makeBucket("bkt");
  const keys = randomKeys(10_000, SEED);
  // Put them in a shuffled order.
  const r = rng(SEED + 1);
  const order = [...keys].sort(() => r() - 0.5);
  const small = new Uint8Array(1);
  for (let i = 0; i < order.length; i += 50) {
    await Promise.all(
      order.slice(i, i + 50).map((k) =>
        layer.putObject("bkt", k, bodyOf(small), { size: 1, metadata: { user: {} } })
      ),
    );
  }
  const t0 = performance.now();
  const pages = await listAllPages(layer, keys, "", "", 1000);
  assert.equal(pages, 10);
  await listAllPages(layer, keys, "", "/", 250);
  await listAllPages(layer, keys, "a1", "/", 7);
  await listAllPages(layer, keys, "photos", "", 333);
  await listAllPages(layer, keys, "b2/", "/", 5);
  await listAllPages(layer, keys, "", "1", 1000);
  console.log(`listing passes took ${(performance.now() - t0).toFixed(0)} ms`);
  // Deleted keys disappear from listings.
  const gone = keys.filter((_, i) => i % 3 === 0);
  for (const k of gone) await layer.deleteObject("bkt", k);
  const left = keys.filter((_, i) => i % 3 !== 0);
  await listAllPages(layer, left, "", "", 1000);
});

Deno.test("listing on drives merges m+1 drives so a lost drive hides nothing", async () => {
  const c = await fsCluster(4);
  try {
    await c.layer.makeBucket("bkt");
    const keys = randomKeys(150, SEED + 7);
    for (const k of keys) {
      await c.layer.putObject("bkt", k, bodyOf(new Uint8Array(3)), {
        size: 3,
        metadata: { user: {} },
      });
    }
    await listAllPages(c.layer, keys, "", "/", 50);
    await Deno.remove(c.paths[0]!, { recursive: true });
    // A write drops the cached snapshots, so the next listings walk the drives left.
    const added = "zz-after-loss";
    await c.layer.putObject("bkt", added, bodyOf(new Uint8Array(3)), {
      size: 3,
      metadata: { user: {} },
    });
    const now = [...keys, added].sort(compareKeys);
    await listAllPages(c.layer, now, "", "", 64);
    await listAllPages(c.layer, now, "", "/", 50);
  } finally {
    await c.cleanup();
  }
});

Deno.test("a listing with no page size returns nothing and is not truncated", async () => {
  const layer = await memoryLayer(4);
  await layer.makeBucket("bkt");
  await layer.putObject("bkt", "k", bodyOf(new Uint8Array(1)), { size: 1, metadata: { user: {} } });
  assert.deepEqual(
    await layer.listObjects("bkt", { prefix: "", delimiter: "", after: "", maxKeys: 0 }),
    {
      objects: [],
      prefixes: [],
      isTruncated: false,
    },
  );
});

Deno.test("pages served from listing snapshots equal the model, and every write shows at once", async () => {
  const layer = await memoryLayer(4);
  await layer.makeBucket("bkt");
  let keys = randomKeys(2_000, SEED + 11);
  const put = (k: string) =>
    layer.putObject("bkt", k, bodyOf(new Uint8Array(2)), { size: 2, metadata: { user: {} } });
  for (let i = 0; i < keys.length; i += 50) await Promise.all(keys.slice(i, i + 50).map(put));
  // The first pass walks the drives; the next ones (other page sizes, concurrent listers) are
  // served from its snapshot and must be identical to the model.
  await listAllPages(layer, keys, "", "", 100);
  await listAllPages(layer, keys, "", "", 100);
  await Promise.all([7, 250, 1000, 999].map((n) => listAllPages(layer, keys, "", "", n)));
  await listAllPages(layer, keys, "", "/", 10);
  await listAllPages(layer, keys, "", "/", 3);
  // A start-after inside the snapshot.
  const mid = keys[keys.length >> 1]!;
  const got = await layer.listObjects("bkt", { prefix: "", delimiter: "", after: mid, maxKeys: 5 });
  assert.deepEqual(
    got.objects.map((o) => o.key),
    keys.filter((k) => compareKeys(k, mid) > 0).slice(0, 5),
  );
  // A lister half-way through its pages sees a key written behind and ahead of its position.
  const first = await layer.listObjects("bkt", {
    prefix: "",
    delimiter: "",
    after: "",
    maxKeys: 1000,
  });
  const behind = first.objects[10]!.key + "-new";
  const ahead = keys[1500]! + "-new";
  await put(behind);
  await put(ahead);
  keys = [...keys, behind, ahead].sort(compareKeys);
  const rest = await layer.listObjects("bkt", {
    prefix: "",
    delimiter: "",
    after: first.nextAfter!,
    maxKeys: 1000,
  });
  assert.ok(
    rest.objects.some((o) => o.key === ahead),
    "a key written ahead of the lister is listed",
  );
  await listAllPages(layer, keys, "", "", 100);
  // Deletes and tag changes show at once too.
  const gone = keys.filter((_, i) => i % 7 === 0);
  for (const k of gone) await layer.deleteObject("bkt", k);
  keys = keys.filter((_, i) => i % 7 !== 0);
  await listAllPages(layer, keys, "", "", 100);
  const tagged = keys[3]!;
  await layer.putObjectTags("bkt", tagged, [["t", "1"]]);
  const page = await layer.listObjects("bkt", {
    prefix: "",
    delimiter: "",
    after: "",
    maxKeys: 10,
  });
  assert.deepEqual(page.objects.find((o) => o.key === tagged)?.tags, [["t", "1"]]);
});

Deno.test("a drive that fails in the middle of a walk fails the walk, and nothing else", async () => {
  const drive = new MemoryDrive("mem://walk");
  await drive.init();
  for (let i = 0; i < 10; i++) {
    await drive.writeFile(`${keyPath("b", `k${i}`).dir}/${META_FILE}`, new Uint8Array([i]));
  }
  // The bucket's listing works; the key directories (scanned a batch at a time) then fail.
  const list = drive.list.bind(drive);
  drive.list = (rel) =>
    rel === keyPath("b", "k0").dir.replace(/\/[^/]*$/, "")
      ? list(rel)
      : Promise.reject(new DriveOffline(`${drive.path} is gone`, drive.path));
  const unhandled: unknown[] = [];
  const onUnhandled = (e: PromiseRejectionEvent) => {
    e.preventDefault();
    unhandled.push(e.reason);
  };
  globalThis.addEventListener("unhandledrejection", onUnhandled);
  try {
    const walk = walkDrive(drive, new DirCache(), { bucket: "b", prefix: "", after: "" });
    await assert.rejects(async () => {
      for await (const _ of walk) { /* nothing is yielded */ }
    }, DriveOffline);
    await new Promise((r) => setTimeout(r, 50)); // let any stray rejection surface
    assert.deepEqual(unhandled, [], "the rest of the failed batch was left unhandled");
  } finally {
    globalThis.removeEventListener("unhandledrejection", onUnhandled);
  }
});

Deno.test("a write leaves cached listings of other prefixes and shows at once under its own", async () => {
  const layer = await memoryLayer(4);
  await layer.makeBucket("bkt");
  const put = (k: string) =>
    layer.putObject("bkt", k, bodyOf(new Uint8Array(1)), { size: 1, metadata: { user: {} } });
  for (const k of ["a/1", "a/2", "b/1"]) await put(k);
  const list = async (prefix: string) =>
    (await layer.listObjects("bkt", { prefix, delimiter: "", after: "", maxKeys: 100 })).objects
      .map((o) => o.key);
  assert.deepEqual(await list("a/"), ["a/1", "a/2"]);
  // Behind the layer's back, "a/1"'s records go: only a walk of the drives would notice.
  for (const d of layer.sets[0]!.slots) {
    await d!.remove(`${keyPath("bkt", "a/1").dir}/${META_FILE}`);
  }
  await put("b/2");
  assert.deepEqual(await list("a/"), ["a/1", "a/2"], "served from the cache: b/2 is elsewhere");
  assert.deepEqual(await list("b/"), ["b/1", "b/2"]);
  await put("a/3");
  assert.deepEqual(await list("a/"), ["a/2", "a/3"], "walked again: a key under a/ changed");
});

Deno.test("listings stay exact under random writes and deletes spread over prefixes", async () => {
  const layer = await memoryLayer(4);
  await layer.makeBucket("bkt");
  const r = rng(SEED + 23);
  const tops = ["p0", "p1", "p1/sub", "p2", "q", ""];
  let keys: string[] = [];
  const pick = <T>(a: T[]) => a[Math.floor(r() * a.length)]!;
  for (let step = 0; step < 400; step++) {
    const op = r();
    if (op < 0.45 || keys.length === 0) {
      const top = pick(tops);
      const key = (top === "" ? "" : top + "/") + `k${Math.floor(r() * 60)}`;
      await layer.putObject("bkt", key, bodyOf(new Uint8Array(1)), {
        size: 1,
        metadata: { user: {} },
      });
      if (!keys.includes(key)) keys = [...keys, key].sort(compareKeys);
    } else if (op < 0.65) {
      const key = pick(keys);
      await layer.deleteObject("bkt", key);
      keys = keys.filter((k) => k !== key);
    } else {
      const prefix = pick(["", "p1/", "p1/sub/", "p", "p2/k1", "q/", "k"]);
      await listAllPages(layer, keys, prefix, pick(["", "/"]), pick([1, 3, 10, 1000]));
    }
  }
});

Deno.test("DirCache knows which prefixes a write changed, and forgets conservatively", () => {
  const c = new DirCache();
  const g0 = c.generation("x");
  c.touch("x", "logs/1");
  assert.equal(c.unchangedSince("x", g0, "data/"), true);
  assert.equal(c.unchangedSince("x", g0, "logs/"), false);
  assert.equal(c.unchangedSince("x", g0, ""), false);
  assert.equal(c.unchangedSince("y", 0, ""), true, "another bucket");
  // A change without a key (a bucket made or removed) makes everything before it stale.
  const g1 = c.generation("x");
  c.touch("x");
  assert.equal(c.unchangedSince("x", g1, "data/"), false);
  assert.equal(c.unchangedSince("x", c.generation("x"), "data/"), true);
  // Past the window, a forgotten change makes older things stale, whatever its key.
  const g2 = c.generation("x");
  for (let i = 0; i <= LIST_CACHE_RECENT_WRITES_MAX; i++) c.touch("y", `y/${i}`);
  c.touch("x", "logs/2");
  assert.equal(c.unchangedSince("x", g2, "data/"), true, "x's change is still in the window");
  for (let i = 0; i <= LIST_CACHE_RECENT_WRITES_MAX; i++) c.touch("y", `y/${i}`);
  assert.equal(c.unchangedSince("x", g2, "data/"), false, "x's change left the window");
});
