import assert from "node:assert/strict";
import { compareKeys, decodeName, encodeSegment, keyPath, META_FILE } from "./key_path.ts";

Deno.test("segments a file system cannot hold are escaped and decode back", () => {
  const cases = [
    "",
    ".",
    "..",
    "~meta",
    "~",
    "~~x",
    "a\0b%00",
    "plain",
    "ünïcödé",
    "x".repeat(255),
  ];
  for (const s of cases) {
    const { name, longSegment } = encodeSegment(s);
    assert.equal(longSegment, undefined);
    assert.ok(name !== "" && name !== "." && name !== ".." && !name.includes("\0"), name);
    assert.notEqual(name, META_FILE);
    assert.deepEqual(decodeName(name), { kind: "segment", segment: s });
  }
});

Deno.test("segments over 255 bytes become a hashed name with the segment kept beside it", () => {
  const long = "é".repeat(200);
  const enc = encodeSegment(long);
  assert.equal(enc.longSegment, long);
  assert.match(enc.name, /^~h[0-9a-f]{64}$/);
  assert.deepEqual(decodeName(enc.name), { kind: "long" });
  const kp = keyPath("bkt", `a/${long}/b`);
  assert.equal(kp.dir, `bkt/a/${enc.name}/b`);
  assert.deepEqual(kp.nameFiles, [{ path: `bkt/a/${enc.name}/~name`, segment: long }]);
});

Deno.test("keys with empty, dot and trailing segments map to distinct directories", () => {
  const keys = ["a", "a/", "a//", "a/.", "a/..", "a/~meta", "/a", "a/b"];
  const dirs = keys.map((k) => keyPath("b", k).dir);
  assert.equal(new Set(dirs).size, keys.length);
  assert.equal(keyPath("b", "a/").dir, "b/a/~e");
});

Deno.test("Shale's own names inside a key directory are recognised", () => {
  assert.deepEqual(decodeName(META_FILE), { kind: "meta" });
  assert.deepEqual(decodeName("~0b7f5d6e-1c2a-4e0f-9a55-0e4b0c8d1f23"), {
    kind: "dataDir",
    dataDir: "0b7f5d6e-1c2a-4e0f-9a55-0e4b0c8d1f23",
  });
});

Deno.test("keys compare by UTF-8 bytes, as S3 lists them", () => {
  const keys = ["a", "a/b", "a-c", "\u{ff61}", "\u{1f600}", "Z", "", "ab"];
  const enc = new TextEncoder();
  const byBytes = [...keys].sort((x, y) => {
    const a = enc.encode(x), b = enc.encode(y);
    for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
    return a.length - b.length;
  });
  assert.deepEqual([...keys].sort(compareKeys), byBytes);
  assert.ok(compareKeys("\u{ff61}", "\u{1f600}") < 0, "U+FF61 sorts before U+1F600 in UTF-8");
});
