import assert from "node:assert/strict";
import { FsDrive } from "../storage/mod.ts";
import { setLogSink } from "../util/logger.ts";
import { StartupError } from "./errors.ts";
import { openObjectLayer } from "./object_layer.ts";
import { bodyOf, filesUnder, makeUnreadable, readAll } from "./_testing.ts";

async function tempPaths(n: number, label: string): Promise<{ root: string; paths: string[] }> {
  const root = await Deno.makeTempDir({ prefix: `shale-start-${label}-` });
  return { root, paths: Array.from({ length: n }, (_, i) => `${root}/d${i + 1}`) };
}

async function snapshot(paths: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of paths) {
    try {
      for (const f of await filesUnder(p)) out.push(`${p}/${f}`);
    } catch {
      out.push(`${p} (absent)`);
    }
  }
  return out;
}

Deno.test("a fresh start formats every drive and a restart finds the same deployment", async () => {
  const { root, paths } = await tempPaths(4, "fresh");
  try {
    const l = await openObjectLayer({ drives: paths });
    await l.makeBucket("bkt");
    await l.putObject("bkt", "k", bodyOf(new TextEncoder().encode("hi")), {
      size: 2,
      metadata: { user: {} },
    });
    await l.close();
    const again = await openObjectLayer({ drives: paths });
    const r = await again.openObject("bkt", "k");
    assert.equal(new TextDecoder().decode(await readAll(r.stream(0, 2))), "hi");
    const st = await again.status();
    assert.deepEqual(st.drives.map((d) => d.state), ["ok", "ok", "ok", "ok"]);
    assert.equal(st.writable && st.readable, true);
    await again.close();
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("a drive of another deployment is refused by name and nothing changes", async () => {
  const a = await tempPaths(4, "a");
  const b = await tempPaths(4, "b");
  try {
    await (await openObjectLayer({ drives: a.paths })).close();
    await (await openObjectLayer({ drives: b.paths })).close();
    const mixed = [...a.paths.slice(0, 3), b.paths[3]!];
    const before = await snapshot(mixed);
    await assert.rejects(
      () => openObjectLayer({ drives: mixed }),
      (e) =>
        e instanceof StartupError && e.message.includes(b.paths[3]!) &&
        /another deployment/.test(e.message),
    );
    assert.deepEqual(await snapshot(mixed), before);
  } finally {
    await Deno.remove(a.root, { recursive: true });
    await Deno.remove(b.root, { recursive: true });
  }
});

Deno.test("a changed drive order or drive count is refused", async () => {
  const { root, paths } = await tempPaths(4, "order");
  try {
    await (await openObjectLayer({ drives: paths })).close();
    const swapped = [paths[1]!, paths[0]!, paths[2]!, paths[3]!];
    await assert.rejects(() => openObjectLayer({ drives: swapped }), /order changed/);
    const more = [...paths, `${root}/d5`, `${root}/d6`];
    await assert.rejects(
      () => openObjectLayer({ drives: more }),
      /4 drives\) but 6 drives were given/,
    );
    assert.equal(await Deno.stat(`${root}/d5`).then(() => true, () => false), false);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("too many drives lacking is refused naming them; within parity starts degraded with a warning", async () => {
  const { root, paths } = await tempPaths(4, "lack");
  const logs: string[] = [];
  setLogSink((l) => logs.push(l));
  try {
    const l = await openObjectLayer({ drives: paths });
    await l.makeBucket("bkt");
    const data = new Uint8Array(3 * 1024 * 1024).map((_, i) => i * 13);
    await l.putObject("bkt", "k", bodyOf(data), { size: data.length, metadata: { user: {} } });
    await l.close();
    const undo = await makeUnreadable(paths[0]!);
    await Deno.remove(paths[1]!, { recursive: true });
    const degraded = await openObjectLayer({ drives: paths });
    assert.ok(
      logs.some((x) => x.includes("offline at start-up") && x.includes(paths[0]!)),
      logs.join("\n"),
    );
    assert.ok(logs.some((x) => x.includes("formatted in its slot") && x.includes(paths[1]!)));
    const r = await degraded.openObject("bkt", "k");
    assert.deepEqual(await readAll(r.stream(0, data.length)), data);
    const st = await degraded.status();
    assert.equal(st.readable, true);
    assert.equal(st.drives[0]!.state, "offline");
    await degraded.close();
    // The drive formatted in place holds no data yet: emptied again, it counts as lacking.
    await Deno.remove(paths[1]!, { recursive: true });
    await Deno.remove(paths[2]!, { recursive: true });
    await Deno.mkdir(paths[2]!);
    const before = await snapshot(paths.slice(1));
    await assert.rejects(
      () => openObjectLayer({ drives: paths }),
      (e) =>
        e instanceof StartupError && /lacks 3 of its 4 drives/.test(e.message) &&
        e.message.includes(paths[0]!) && e.message.includes(paths[2]!),
    );
    assert.deepEqual(await snapshot(paths.slice(1)), before);
    await undo();
  } finally {
    setLogSink((l) => console.log(l));
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("leftover temp files from a crash are removed at start", async () => {
  const { root, paths } = await tempPaths(4, "tmp");
  try {
    await (await openObjectLayer({ drives: paths })).close();
    for (const p of paths) {
      const d = new FsDrive(p);
      const w = await d.createFile(".shale.sys/tmp/crashed-write/data/part.1");
      await w.write(new Uint8Array(100));
      await w.close();
    }
    await (await openObjectLayer({ drives: paths })).close();
    for (const p of paths) {
      assert.deepEqual(await filesUnder(`${p}/.shale.sys/tmp`).catch(() => []), []);
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("a non-empty directory that is not a Shale drive is refused", async () => {
  const { root, paths } = await tempPaths(4, "foreign");
  try {
    await Deno.mkdir(paths[2]!, { recursive: true });
    await Deno.writeTextFile(`${paths[2]}/precious.txt`, "keep me");
    await assert.rejects(
      () => openObjectLayer({ drives: paths }),
      /not empty and has no Shale format/,
    );
    assert.equal(await Deno.readTextFile(`${paths[2]}/precious.txt`), "keep me");
    assert.equal(await Deno.stat(paths[0]!).then(() => true, () => false), false);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("parity settings outside the set size are refused", async () => {
  const { root, paths } = await tempPaths(4, "parity");
  try {
    await assert.rejects(
      () => openObjectLayer({ drives: paths, standardParity: 3 }),
      /EC:3 is not possible/,
    );
    const seventeen = Array.from({ length: 17 }, (_, i) => `${root}/e${i}`);
    await assert.rejects(() => openObjectLayer({ drives: seventeen }), /17 drives cannot be split/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("a drive given twice is refused", async () => {
  const { root, paths } = await tempPaths(4, "twice");
  try {
    await assert.rejects(
      () => openObjectLayer({ drives: [paths[0]!, paths[1]!, paths[2]!, paths[0]! + "/"] }),
      /given more than once/,
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("data moved into place by a write that crashed before its record is removed at start", async () => {
  const { root, paths } = await tempPaths(4, "orphan");
  try {
    const l = await openObjectLayer({ drives: paths });
    await l.makeBucket("bkt");
    const data = new Uint8Array(300 * 1024).map((_, i) => i % 7);
    await l.putObject("bkt", "k", bodyOf(data), { size: data.length, metadata: { user: {} } });
    await l.close();
    const keep = (await filesUnder(`${paths[0]}/bkt/k`)).filter((f) => f.endsWith("part.1"));
    // What a crash between the rename and the record write leaves: a data dir no record names,
    // and the commit marker in tmp. And one whose record did get written (must stay).
    const orphan = crypto.randomUUID();
    const enc = new TextEncoder();
    for (const p of paths) {
      const d = new FsDrive(p);
      await d.writeFile(`bkt/k/~${orphan}/part.1`, new Uint8Array(1000));
      await d.writeFile(`.shale.sys/tmp/t1/commit.target`, enc.encode(`bkt/k\n${orphan}`));
      const live = keep[0]!.split("/")[0]!.slice(1);
      await d.writeFile(`.shale.sys/tmp/t2/commit.target`, enc.encode(`bkt/k\n${live}`));
    }
    const again = await openObjectLayer({ drives: paths });
    for (const p of paths) {
      const parts = (await filesUnder(`${p}/bkt/k`)).filter((f) => f.endsWith("part.1"));
      assert.equal(parts.length, 1, `${p}: ${parts}`);
      assert.deepEqual(await filesUnder(`${p}/.shale.sys/tmp`).catch(() => []), []);
    }
    const r = await again.openObject("bkt", "k");
    assert.deepEqual(await readAll(r.stream(0, data.length)), data);
    await again.close();
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("data dirs a crashed overwrite or delete left unreferenced are removed at start", async () => {
  const { root, paths } = await tempPaths(4, "leftover");
  try {
    const l = await openObjectLayer({ drives: paths });
    await l.makeBucket("bkt");
    const data = new Uint8Array(300 * 1024).map((_, i) => i % 11);
    for (const key of ["k", "gone"]) {
      await l.putObject("bkt", key, bodyOf(data), { size: data.length, metadata: { user: {} } });
    }
    await l.close();
    const enc = new TextEncoder();
    const old = crypto.randomUUID();
    for (const p of paths) {
      const d = new FsDrive(p);
      const live = (await d.list("bkt/k")).find((e) => e.name.startsWith("~") && e.isDir)!;
      // An overwrite that wrote its record but crashed before removing the old data dir.
      await d.writeFile(`bkt/k/~${old}/part.1`, new Uint8Array(10));
      await d.writeFile(
        `.shale.sys/tmp/t1/commit.target`,
        enc.encode(`bkt/k\n${live.name.slice(1)}`),
      );
      // A delete that removed the record but crashed before the data dir went.
      await d.remove("bkt/gone/~meta");
      await d.writeFile(`.shale.sys/tmp/t2/commit.target`, enc.encode(`bkt/gone\n`));
    }
    const again = await openObjectLayer({ drives: paths });
    for (const p of paths) {
      assert.deepEqual(
        (await filesUnder(`${p}/bkt/k`)).filter((f) => f.includes(old)),
        [],
        `${p}: the old data dir went`,
      );
      assert.deepEqual(await filesUnder(`${p}/bkt/gone`).catch(() => []), [], p);
    }
    const r = await again.openObject("bkt", "k");
    assert.deepEqual(await readAll(r.stream(0, data.length)), data);
    await again.close();
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
