import { equal, ok, rejects } from "node:assert/strict";
import { createHasherSync, toBase64 } from "../util/checksums.ts";
import { CryptoError, DecryptionFailed } from "./errors.ts";
import { deriveStreamKey, newStreamIv } from "./keys.ts";
import { Kms } from "./kms.ts";
import {
  newObjectKey,
  type ObjectKeyRecord,
  openObjectKey,
  resealObjectKey,
} from "./object_key.ts";
import { type CustomerKey, parseCustomerKey } from "./ssec.ts";
import { ciphertextRange, createDecryptStream, createEncryptStream, splitRange } from "./stream.ts";
import { equalBytes, pipeBytes, randomData, seededRandom } from "./_testing.ts";

const kms = Kms.open({ name: "root", key: crypto.getRandomValues(new Uint8Array(32)) }, {
  persist: () => Promise.resolve(),
});
await kms.createKey("tenant");
const WHERE = { bucket: "b", object: "dir/obj", kms };

function customerKey(): CustomerKey {
  const key = crypto.getRandomValues(new Uint8Array(32));
  const md5 = createHasherSync("MD5");
  md5.update(key);
  const parsed = parseCustomerKey({
    algorithm: "AES256",
    key: toBase64(key),
    keyMd5: toBase64(md5.digest()),
  });
  ok(parsed !== undefined);
  return parsed;
}

const code = (c: string) => (e: unknown) => e instanceof CryptoError && e.code === c;

Deno.test("a multipart object encrypts per part and reads back any range across parts", async () => {
  const rand = seededRandom("multipart");
  for (
    const request of [
      { mode: "SSE-S3" as const },
      { mode: "SSE-KMS" as const, keyId: "tenant", encryptionContext: { app: "x" } },
      { mode: "SSE-C" as const, customerKey: customerKey() },
    ]
  ) {
    // CreateMultipartUpload: one data key for the upload.
    const { dataKey, record } = await newObjectKey(request, WHERE);
    // UploadPart: each part its own IV and part number, so its own stream key.
    const partSizes = [5 * 65536 + 17, 65536, 1 + rand.int(200_000)];
    const parts = [];
    for (let i = 0; i < partSizes.length; i++) {
      const iv = newStreamIv();
      const plaintext = randomData(rand, partSizes[i] as number);
      const key = deriveStreamKey(dataKey, { iv, partNumber: i + 1 });
      const ciphertext = await pipeBytes(plaintext, createEncryptStream(key), { rand });
      parts.push({ iv, plaintext, ciphertext, partNumber: i + 1 });
    }
    const whole = new Uint8Array(partSizes.reduce((a, b) => a + b, 0));
    let at = 0;
    for (const p of parts) {
      whole.set(p.plaintext, at);
      at += p.plaintext.length;
    }
    // GetObject with a range: open the data key from the record, then read each part's packages.
    const customer = request.mode === "SSE-C" ? request.customerKey : undefined;
    const opened = await openObjectKey(record, { ...WHERE, customerKey: customer });
    for (let trial = 0; trial < 8; trial++) {
      const offset = rand.int(whole.length);
      const range = { offset, length: 1 + rand.int(whole.length - offset) };
      const pieces: Uint8Array[] = [];
      for (const pr of splitRange(partSizes, range)) {
        const part = parts[pr.part];
        ok(part !== undefined);
        const span = ciphertextRange(part.plaintext.length, pr);
        const key = deriveStreamKey(opened, { iv: part.iv, partNumber: part.partNumber });
        pieces.push(
          await pipeBytes(
            part.ciphertext.slice(span.offset, span.offset + span.length),
            createDecryptStream(key, { plainSize: part.plaintext.length, range: pr }),
          ),
        );
      }
      const got = new Uint8Array(pieces.reduce((n, p) => n + p.length, 0));
      let o = 0;
      for (const p of pieces) {
        got.set(p, o);
        o += p.length;
      }
      ok(
        equalBytes(got, whole.subarray(range.offset, range.offset + range.length)),
        `${request.mode} range ${range.offset}+${range.length}`,
      );
    }
  }
});

Deno.test("reading an SSE-C object needs the right customer key", async () => {
  const right = customerKey();
  const { record } = await newObjectKey({ mode: "SSE-C", customerKey: right }, WHERE);
  equal(record.keyId, "");
  await rejects(openObjectKey(record, WHERE), code("InvalidRequest"));
  await rejects(
    openObjectKey(record, { ...WHERE, customerKey: customerKey() }),
    code("AccessDenied"),
  );
  const sse = await newObjectKey({ mode: "SSE-S3" }, WHERE);
  await rejects(
    openObjectKey(sse.record, { ...WHERE, customerKey: right }),
    code("InvalidRequest"),
  );
});

Deno.test("a sealed key copied onto another object does not open there", async () => {
  const { record } = await newObjectKey(
    { mode: "SSE-KMS", keyId: "tenant", encryptionContext: { a: "1" } },
    WHERE,
  );
  await rejects(openObjectKey(record, { ...WHERE, object: "dir/other" }), DecryptionFailed);
  await rejects(openObjectKey(record, { ...WHERE, bucket: "b2" }), DecryptionFailed);
  const relabelled: ObjectKeyRecord = { ...record, encryptionContext: { a: "2" } };
  await rejects(openObjectKey(relabelled, WHERE), DecryptionFailed);
  const asS3: ObjectKeyRecord = { ...record, mode: "SSE-S3" };
  await rejects(openObjectKey(asS3, WHERE), DecryptionFailed);
  await rejects(
    newObjectKey({ mode: "SSE-KMS", keyId: "nope" }, WHERE),
    code("KMS.NotFoundException"),
  );
  await rejects(
    newObjectKey({ mode: "SSE-S3" }, { bucket: "b", object: "o" }),
    code("InvalidRequest"),
  );
});

Deno.test("a copy to a new name keeps the data key and binds it to the new name", async () => {
  const destination = { bucket: "b2", object: "copy" };
  for (
    const request of [{ mode: "SSE-S3" as const }, {
      mode: "SSE-C" as const,
      customerKey: customerKey(),
    }]
  ) {
    const customer = request.mode === "SSE-C" ? request.customerKey : undefined;
    const { dataKey, record } = await newObjectKey(request, WHERE);
    const copied = await resealObjectKey(record, {
      ...WHERE,
      ...(customer === undefined ? {} : { customerKey: customer }),
      destination,
    });
    const atNew = await openObjectKey(copied, { ...WHERE, ...destination, customerKey: customer });
    ok(equalBytes(atNew, dataKey), request.mode);
    await rejects(openObjectKey(copied, { ...WHERE, customerKey: customer }));
  }
  // SSE-C copy under a new customer key: the old key no longer opens it.
  const oldKey = customerKey();
  const newKey = customerKey();
  const { dataKey, record } = await newObjectKey({ mode: "SSE-C", customerKey: oldKey }, WHERE);
  const rekeyed = await resealObjectKey(record, {
    ...WHERE,
    customerKey: oldKey,
    destination: WHERE,
    destinationCustomerKey: newKey,
  });
  ok(equalBytes(await openObjectKey(rekeyed, { ...WHERE, customerKey: newKey }), dataKey));
  await rejects(openObjectKey(rekeyed, { ...WHERE, customerKey: oldKey }), code("AccessDenied"));
});
