import { deepEqual, equal, rejects, throws } from "node:assert/strict";
import { S3Error } from "./errors.ts";
import { children, childText, escapeXml, parseXml, readBoundedText, XmlWriter } from "./xml.ts";

function streamOf(text: string, chunk = 7): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  let at = 0;
  return new ReadableStream({
    pull(c) {
      if (at >= bytes.length) return c.close();
      c.enqueue(bytes.slice(at, at + chunk));
      at += chunk;
    },
  });
}

Deno.test("escapes markup characters and control characters", () => {
  equal(escapeXml(`a&b<c>"d'`), "a&amp;b&lt;c&gt;&quot;d&apos;");
  equal(escapeXml("x\u0001y"), "x&#x1;y");
  equal(escapeXml("tab\there\nline"), "tab\there\nline");
});

Deno.test("writes nested elements with attributes and escaped leaves", () => {
  const w = new XmlWriter();
  w.open("ListBucketResult", { xmlns: "http://s3.amazonaws.com/doc/2006-03-01/" });
  w.leaf("Name", "b&b").leaf("MaxKeys", 1000).leaf("Skipped", undefined).leaf("IsTruncated", false);
  w.close();
  equal(
    w.toString(),
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
      '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b&amp;b</Name>' +
      "<MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated></ListBucketResult>",
  );
});

Deno.test("refuses to print a document with unclosed elements", () => {
  const w = new XmlWriter().open("A");
  throws(() => w.toString());
});

Deno.test("parses a DeleteObjects document with entities, spaces and empty keys", async () => {
  const root = await parseXml(
    `<?xml version="1.0"?>\n<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/">\n` +
      `<Quiet>true</Quiet><Object><Key> a &amp; b &#x263A; </Key></Object><Object><Key/></Object>\n</Delete>`,
    "Delete",
    ["Object"],
  );
  equal(childText(root, "Quiet"), "true");
  deepEqual(children(root, "Object").map((o) => childText(o, "Key")), [" a & b \u263A ", ""]);
});

Deno.test("answers MalformedXML for broken, empty, foreign-rooted and DOCTYPE documents", async () => {
  for (
    const text of [
      "",
      "not xml",
      "<Delete><Object></Delete>",
      "<Other/>",
      "<!DOCTYPE x [<!ENTITY a 'bbbb'>]><Delete>&a;</Delete>",
      "<Delete/><Delete/>",
    ]
  ) {
    await rejects(
      () => parseXml(text, "Delete"),
      (e) => e instanceof S3Error && e.code === "MalformedXML",
    );
  }
});

Deno.test("reads a body up to the bound and refuses one byte more", async () => {
  equal(await readBoundedText(streamOf("<a>hello</a>"), 12), "<a>hello</a>");
  let err: unknown;
  try {
    await readBoundedText(streamOf("<a>hello!</a>"), 12);
  } catch (e) {
    err = e;
  }
  equal(err instanceof S3Error && err.code, "MalformedXML");
});

Deno.test("refuses a body that is not UTF-8", async () => {
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(new Uint8Array([0x3c, 0x61, 0x3e, 0xff, 0x3c]));
      c.close();
    },
  });
  let err: unknown;
  try {
    await readBoundedText(body);
  } catch (e) {
    err = e;
  }
  equal(err instanceof S3Error && err.code, "MalformedXML");
});
