/** POST form reading throughput: MB/s = 64 / (average seconds per iteration). */
import { parseMultipartForm } from "./multipart.ts";

const SIZE = 64 * 1024 * 1024;
const enc = new TextEncoder();
const boundary = "----WebKitFormBoundary7MA4YWxkTrZu0gW";
const head = enc.encode(
  `--${boundary}\r\nContent-Disposition: form-data; name="key"\r\n\r\nk\r\n` +
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="f"\r\n\r\n`,
);
const tail = enc.encode(`\r\n--${boundary}--\r\n`);

function form(data: Uint8Array): Uint8Array {
  const body = new Uint8Array(head.length + data.length + tail.length);
  body.set(head);
  body.set(data, head.length);
  body.set(tail, head.length + data.length);
  return body;
}

const binary = form(new Uint8Array(SIZE).map((_, i) => (i * 31) & 0xff));
const text = form(enc.encode("lorem ipsum dolor sit amet, consectetur\r\n".repeat(SIZE / 41)));

async function read(body: Uint8Array): Promise<void> {
  let off = 0;
  const source = new ReadableStream<Uint8Array>({
    pull(c) {
      if (off >= body.length) return c.close();
      c.enqueue(body.subarray(off, off + 65536));
      off += 65536;
    },
  });
  const parsed = await parseMultipartForm(source, boundary);
  let n = 0;
  for await (const p of parsed.file.stream) n += p.length;
  if (n < SIZE - 64) throw new Error(`read ${n} bytes`);
}

Deno.bench("read a 64MiB binary file from a POST form in 64KiB pieces", async () => {
  await read(binary);
});

Deno.bench("read a 64MiB CRLF text file from a POST form in 64KiB pieces", async () => {
  await read(text);
});
