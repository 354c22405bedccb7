import assert from "node:assert/strict";
import { boundaryOf, parseMultipartForm } from "./multipart.ts";
import { SigV4Error } from "./types.ts";
import { streamOf } from "./testing.ts";

const enc = new TextEncoder();

/** A form body exactly as Deno's fetch (like a browser) encodes FormData. */
async function encodeForm(form: FormData): Promise<{ body: Uint8Array; boundary: string }> {
  const req = new Request("http://localhost/", { method: "POST", body: form });
  const boundary = boundaryOf(req.headers.get("content-type"));
  assert.ok(boundary !== undefined);
  return { body: new Uint8Array(await req.arrayBuffer()), boundary };
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const p of stream) parts.push(p);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** File data full of near-boundaries: CRLF, dashes and boundary prefixes. */
function awkwardData(boundary: string, size: number): Uint8Array<ArrayBuffer> {
  const pattern = enc.encode(`\r\n--${boundary.slice(0, -1)}X\r\n-\r\r\n--`);
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = i % 97 === 0 ? pattern[i % pattern.length]! : i & 0xff;
  return out;
}

Deno.test("reads the fields and streams the file of a browser-encoded form", async () => {
  const form = new FormData();
  form.set("key", "user/${filename}");
  form.set("Content-Type", "image/png");
  form.set("x-amz-meta-note", "héllo\r\nworld");
  form.set("empty", "");
  const probe = await encodeForm(new FormData());
  const data = awkwardData(probe.boundary, 100_000);
  form.set("file", new File([data], "photo.png", { type: "image/png" }));
  const { body, boundary } = await encodeForm(form);
  for (const pieces of [[body.length], [7], [4096], [65536, 13]]) {
    const parsed = await parseMultipartForm(streamOf(body, pieces), boundary);
    assert.deepEqual([...parsed.fields], [
      ["key", "user/${filename}"],
      ["content-type", "image/png"],
      ["x-amz-meta-note", "héllo\r\nworld"],
      ["empty", ""],
    ]);
    assert.equal(parsed.file.filename, "photo.png");
    assert.equal(parsed.file.contentType, "image/png");
    assert.ok(sameBytes(await readAll(parsed.file.stream), data), `pieces ${pieces}`);
  }
});

Deno.test("ignores fields after the file, as AWS does", async () => {
  const b = "XyZ";
  const body = enc.encode(
    `--${b}\r\nContent-Disposition: form-data; name="key"\r\n\r\nk\r\n` +
      `--${b}\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\n` +
      `abc\r\n--${b}\r\nContent-Disposition: form-data; name="late"\r\n\r\nx\r\n--${b}--\r\n`,
  );
  const parsed = await parseMultipartForm(streamOf(body, [5]), b);
  assert.deepEqual([...parsed.fields], [["key", "k"]]);
  assert.equal(new TextDecoder().decode(await readAll(parsed.file.stream)), "abc");
});

Deno.test("keeps a boundary followed by other bytes as content, in fields and in the file", async () => {
  const b = "bnd";
  const tricky = `x\r\n--${b}X y\r\n--${b}-z`;
  const body = enc.encode(
    `--${b}\r\nContent-Disposition: form-data; name="note"\r\n\r\n${tricky}\r\n` +
      `--${b}\r\nContent-Disposition: form-data; name="file"; filename="f"\r\n\r\n` +
      `${tricky}\r\n--${b}--\r\n`,
  );
  for (const pieces of [[body.length], [1], [3], [8]]) {
    const parsed = await parseMultipartForm(streamOf(body, pieces), b);
    assert.equal(parsed.fields.get("note"), tricky);
    assert.equal(new TextDecoder().decode(await readAll(parsed.file.stream)), tricky);
  }
});

Deno.test("errors the file stream when the body ends before the closing boundary", async () => {
  const b = "bound";
  const head = `--${b}\r\nContent-Disposition: form-data; name="file"; filename="f"\r\n\r\n`;
  const body = enc.encode(head + "x".repeat(1000) + `\r\n--${b}`);
  for (const cut of [head.length, head.length + 500, body.length - 1]) {
    const parsed = await parseMultipartForm(streamOf(body.subarray(0, cut), [64]), b);
    await assert.rejects(readAll(parsed.file.stream), { code: "MalformedPOSTRequest" });
  }
});

Deno.test("reads a form that arrives one byte at a time", async () => {
  const form = new FormData();
  form.set("key", "k");
  form.set("x-amz-meta-long", "v\r\n-".repeat(3000));
  form.set("file", new File(["file data"], "f"));
  const { body, boundary } = await encodeForm(form);
  const parsed = await parseMultipartForm(streamOf(body, [1]), boundary);
  assert.equal(parsed.fields.get("x-amz-meta-long"), "v\r\n-".repeat(3000));
  assert.equal(new TextDecoder().decode(await readAll(parsed.file.stream)), "file data");
});

Deno.test("requires a file field", async () => {
  const b = "bound";
  const body = enc.encode(
    `--${b}\r\nContent-Disposition: form-data; name="key"\r\n\r\nk\r\n--${b}--\r\n`,
  );
  await assert.rejects(parseMultipartForm(streamOf(body), b), {
    code: "InvalidArgument",
    message: /exactly one file/,
  });
});

Deno.test("bounds the fields before the file", async () => {
  const form = new FormData();
  form.set("key", "k");
  form.set("x-amz-meta-big", "v".repeat(70 * 1024));
  form.set("file", new File(["data"], "f"));
  const { body, boundary } = await encodeForm(form);
  await assert.rejects(parseMultipartForm(streamOf(body, [8192]), boundary), {
    code: "MalformedPOSTRequest",
    message: /too large/,
  });
  const parsed = await parseMultipartForm(streamOf(body, [8192]), boundary, {
    fieldsBytesMax: 128 * 1024,
  });
  assert.equal(parsed.fields.get("x-amz-meta-big")?.length, 70 * 1024);
});

Deno.test("refuses malformed forms with MalformedPOSTRequest", async () => {
  const b = "bound";
  const bad = [
    "no boundary at all",
    `--${b}\r\nContent-Disposition: form-data\r\n\r\nv\r\n--${b}--`,
    `--${b}\r\nX-Other: 1\r\n\r\nv\r\n--${b}--`,
    `--${b}\r\nContent-Disposition: form-data; name="a"\r\n\r\nv`,
    `--${b}\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--${b}\r\n` +
    `Content-Disposition: form-data; name="A"\r\n\r\n2\r\n--${b}--`,
    `--${b}garbage\r\n`,
  ];
  for (const text of bad) {
    const e = await parseMultipartForm(streamOf(enc.encode(text)), b).then(
      () => undefined,
      (e) => e,
    );
    assert.ok(e instanceof SigV4Error, text);
    assert.equal(e.code, "MalformedPOSTRequest", `${text}: ${e.message}`);
  }
});

Deno.test("reads the boundary from Content-Type", () => {
  assert.equal(boundaryOf("multipart/form-data; boundary=abc"), "abc");
  assert.equal(boundaryOf('Multipart/Form-Data; charset=utf-8; boundary="a b:c"'), "a b:c");
  assert.equal(boundaryOf("multipart/mixed; boundary=abc"), undefined);
  assert.equal(boundaryOf("multipart/form-data"), undefined);
  assert.equal(boundaryOf(null), undefined);
});

Deno.test("returns the file byte for byte however the body is split (seeded)", async () => {
  const env = Deno.env.get("SHALE_TEST_SEED");
  const seed = env !== undefined ? Number(env) : Math.floor(Math.random() * 2 ** 31);
  console.log(`multipart split seed ${seed} (replay with SHALE_TEST_SEED=${seed})`);
  let state = seed >>> 0 || 1;
  const rand = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  const b = "SplitBoundary42";
  // Near-delimiters only: none of these, in any order, spells CRLF "--" boundary then "--"/CRLF.
  const near = [`\r\n--${b}X`, `\r\n--${b.slice(0, 5)}`, "\r\n--", "\r\r\n", `-${b}--`, "\r\n"];
  for (let round = 0; round < 40; round++) {
    const parts: Uint8Array[] = [];
    let size = 0;
    while (size < 20_000 + rand() * 100_000) {
      const p = rand() < 0.3
        ? enc.encode(near[Math.floor(rand() * near.length)]!)
        : new Uint8Array(1 + Math.floor(rand() * 5000)).map(() => Math.floor(rand() * 256));
      parts.push(p);
      size += p.length;
    }
    const data = new Uint8Array(size);
    let o = 0;
    for (const p of parts) {
      data.set(p, o);
      o += p.length;
    }
    const body = new Uint8Array([
      ...enc.encode(`--${b}\r\nContent-Disposition: form-data; name="file"; filename="f"\r\n\r\n`),
      ...data,
      ...enc.encode(`\r\n--${b}--\r\n`),
    ]);
    const pieces = Array.from(
      { length: 5 },
      () => 1 + Math.floor(rand() * (rand() < 0.5 ? 80 : 70_000)),
    );
    const parsed = await parseMultipartForm(streamOf(body, pieces), b);
    assert.ok(
      sameBytes(await readAll(parsed.file.stream), data),
      `round ${round} pieces ${pieces}`,
    );
  }
});
