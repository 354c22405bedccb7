/**
 * One conformance suite for every Drive implementation (fs, memory, and later faulty and remote):
 * call `describeDriveConformance` from a test file with a factory for fresh, empty drives.
 */
import assert from "node:assert/strict";
import { type Drive, FileNotFound, FileTooLarge } from "./drive.ts";
import { TMP_DIR } from "./key_path.ts";

export interface DriveFactory {
  name: string;
  /** A fresh, initialised, empty drive and a cleanup function. */
  make(): Promise<{ drive: Drive; cleanup(): Promise<void> }>;
}

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

async function names(drive: Drive, dir: string): Promise<string[]> {
  return (await drive.list(dir)).map((e) => e.name + (e.isDir ? "/" : "")).sort();
}

const CASES: Array<[string, (d: Drive) => Promise<void>]> = [
  ["writes a file durably and reads the same bytes back, creating parents", async (d) => {
    await d.writeFile("b/x/y/file", enc("hello"));
    assert.equal(dec(await d.readFile("b/x/y/file", 100)), "hello");
    assert.deepEqual(await names(d, "b/x"), ["y/"]);
  }],
  ["replaces a file on rewrite and leaves no temp files behind", async (d) => {
    await d.writeFile("b/f", enc("one"));
    await d.writeFile("b/f", enc("two!"));
    assert.equal(dec(await d.readFile("b/f", 100)), "two!");
    const tmp = (await d.stat(TMP_DIR)) ? await d.list(TMP_DIR) : [];
    assert.deepEqual(tmp, []);
  }],
  ["reports a missing file as FileNotFound", async (d) => {
    await assert.rejects(() => d.readFile("nope/x", 10), FileNotFound);
    assert.equal(await d.tryReadFile("nope/x", 10), undefined);
    await d.writeFile("yes/x", enc("abc"));
    assert.equal(dec((await d.tryReadFile("yes/x", 10))!), "abc");
    assert.equal(await d.tryReadFile("yes/x/under-a-file", 10), undefined);
    await assert.rejects(() => d.openFile("nope"), FileNotFound);
    await assert.rejects(() => d.list("nope"), FileNotFound);
    assert.equal(await d.stat("nope"), undefined);
  }],
  ["refuses to read a file above the size limit", async (d) => {
    await d.writeFile("f", new Uint8Array(100));
    await assert.rejects(() => d.readFile("f", 99), FileTooLarge);
    assert.equal((await d.readFile("f", 100)).length, 100);
  }],
  [
    "reads whole files of every size around its first read's buffer, and refuses directories",
    async (d) => {
      for (const n of [0, 1, 8191, 8192, 8193, 70_000]) {
        const data = new Uint8Array(n).map((_, i) => (i * 7 + n) & 0xff);
        await d.writeFile(`s/${n}`, data);
        assert.deepEqual(await d.readFile(`s/${n}`, 70_000), data, `size ${n}`);
        if (n > 0) await assert.rejects(() => d.readFile(`s/${n}`, n - 1), FileTooLarge);
      }
      await assert.rejects(() => d.readFile("s", 100), FileNotFound);
    },
  ],
  ["streams a file in and reads any range back", async (d) => {
    const w = await d.createFile(`${TMP_DIR}/u/part.1`);
    const data = new Uint8Array(10_000).map((_, i) => i * 7);
    await w.write(data.subarray(0, 3000));
    await w.write(data.subarray(3000));
    await w.close();
    const r = await d.openFile(`${TMP_DIR}/u/part.1`);
    assert.equal(await r.size(), 10_000);
    assert.deepEqual(await r.readAt(2990, 20), data.subarray(2990, 3010));
    const [a, b] = await Promise.all([r.readAt(0, 10), r.readAt(9995, 10)]);
    assert.deepEqual(a, data.subarray(0, 10));
    assert.deepEqual(b, data.subarray(9995), "a read past the end is short");
    // readInto fills the caller's buffer in place, interleaved with readAt on the same handle.
    const into = new Uint8Array(30).fill(0xee);
    const [n, c, m] = await Promise.all([
      r.readInto(100, into.subarray(5, 25)),
      r.readAt(50, 5),
      r.readInto(9990, into.subarray(0, 5)),
    ]);
    assert.equal(n, 20);
    assert.equal(m, 5);
    assert.deepEqual(c, data.subarray(50, 55));
    assert.deepEqual(into.subarray(5, 25), data.subarray(100, 120));
    assert.deepEqual(into.subarray(0, 5), data.subarray(9990, 9995));
    assert.deepEqual(into.subarray(25), new Uint8Array(5).fill(0xee), "nothing past the range");
    assert.equal(await r.readInto(9998, into), 2, "a read past the end is short");
    r.close();
  }],
  ["a directory is not a readable file: open, size or read refuses it", async (d) => {
    await d.writeFile("dd/x", enc("1"));
    const r = await d.openFile("dd").catch(() => undefined);
    if (r !== undefined) {
      await assert.rejects(() => r.size());
      await assert.rejects(() => r.readAt(0, 1));
      r.close();
    }
  }],
  ["removes a partial file on abort", async (d) => {
    const w = await d.createFile("t/part.1");
    await w.write(enc("partial"));
    await w.abort();
    await w.abort();
    assert.equal(await d.stat("t/part.1"), undefined);
  }],
  ["moves a directory tree into place with rename", async (d) => {
    await d.writeFile(`${TMP_DIR}/x/dd/part.1`, enc("p1"));
    await d.writeFile(`${TMP_DIR}/x/dd/part.2`, enc("p2"));
    await d.rename(`${TMP_DIR}/x/dd`, "bkt/key/~dd");
    assert.deepEqual(await names(d, "bkt/key/~dd"), ["part.1", "part.2"]);
    assert.equal(dec(await d.readFile("bkt/key/~dd/part.2", 10)), "p2");
    assert.equal(await d.stat(`${TMP_DIR}/x/dd`), undefined);
  }],
  ["replaces a file with rename", async (d) => {
    await d.writeFile("a/one", enc("1"));
    await d.writeFile("a/two", enc("2"));
    await d.rename("a/two", "a/one");
    assert.equal(dec(await d.readFile("a/one", 10)), "2");
    assert.deepEqual(await names(d, "a"), ["one"]);
  }],
  ["removes trees idempotently and prunes empty parents up to a limit", async (d) => {
    await d.writeFile("b/p/q/r/~meta", enc("m"));
    await d.writeFile("b/p/other", enc("o"));
    await d.remove("b/p/q/r/~meta", { pruneTo: "b" });
    assert.deepEqual(await names(d, "b/p"), ["other"]);
    await d.remove("b/p/other", { pruneTo: "b" });
    assert.deepEqual(await names(d, "b"), []);
    await d.remove("b/p/other", { pruneTo: "b" });
    await d.writeFile("c/x/y", enc("y"));
    await d.remove("c");
    assert.equal(await d.stat("c"), undefined);
  }],
  ["removes without a sync, then prunes with one even when the file is already gone", async (d) => {
    await d.writeFile("b/k/~meta", enc("m"));
    await d.writeFile("b/k/n/~meta", enc("nested"));
    await d.remove("b/k/~meta", { sync: false });
    await d.remove("b/k/~meta", { pruneTo: "b", sync: true }); // b/k holds another key: kept
    assert.deepEqual(await names(d, "b/k"), ["n/"]);
    await d.remove("b/k/n/~meta", { sync: false });
    await d.remove("b/k/n/~meta", { pruneTo: "b", sync: true });
    assert.deepEqual(await names(d, "b"), []);
    await d.remove("b/gone/~meta", { pruneTo: "b", sync: true }); // nothing there: fine
  }],
  ["lists files and directories and stats them", async (d) => {
    await d.writeFile("v/f1", enc("abc"));
    await d.makeDir("v/sub/deeper");
    await d.makeDir("v/sub");
    assert.deepEqual(await names(d, "v"), ["f1", "sub/"]);
    assert.deepEqual(await d.stat("v/f1"), { isDir: false, size: 3 });
    assert.equal((await d.stat("v/sub"))?.isDir, true);
    assert.equal(await d.stat("v/f1/under-a-file"), undefined);
  }],
  ["rejects paths that escape the drive", async (d) => {
    await assert.rejects(() => d.readFile("../etc/passwd", 10), RangeError);
    await assert.rejects(() => d.writeFile("a//b", enc("x")), RangeError);
    await assert.rejects(() => d.writeFile("a/./b", enc("x")), RangeError);
  }],
  ["reports its space and that it is usable", async (d) => {
    const s = await d.space();
    assert.ok(s.totalBytes > 0 && s.freeBytes >= 0 && s.freeBytes <= s.totalBytes);
    assert.equal(await d.probe(), "ok");
  }],
];

export function describeDriveConformance(factory: DriveFactory): void {
  for (const [name, fn] of CASES) {
    Deno.test(`${factory.name}: ${name}`, async () => {
      const { drive, cleanup } = await factory.make();
      try {
        await fn(drive);
      } finally {
        await drive.close();
        await cleanup();
      }
    });
  }
}
