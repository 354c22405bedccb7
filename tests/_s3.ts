/** Helpers shared by the AWS SDK end-to-end suites. */
import { S3Client, S3ServiceException } from "@aws-sdk/client-s3";
import { createHash } from "node:crypto";
import type { TestServer } from "./_server.ts";

export function clientFor(s: TestServer, extra: Record<string, unknown> = {}): S3Client {
  return new S3Client({
    endpoint: s.endpoint,
    region: s.region,
    forcePathStyle: true,
    credentials: { accessKeyId: s.accessKey, secretAccessKey: s.secretKey },
    ...extra,
  });
}

/** Deterministic bytes for a size, so a mismatch anywhere shows. */
export function bytesOf(size: number, seed = 1): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

export async function bodyBytes(body: unknown): Promise<Uint8Array> {
  const b = body as { transformToByteArray(): Promise<Uint8Array> };
  return await b.transformToByteArray();
}

export function md5Hex(data: Uint8Array): Promise<string> {
  return Promise.resolve(createHash("md5").update(data).digest("hex"));
}

/** The AWS error code an SDK call failed with. */
export async function errorCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof S3ServiceException) {
      // Bodiless answers (304, HEAD errors) carry no code: the SDK names them by status.
      return e.name === "Unknown" ? String(e.$metadata.httpStatusCode) : e.name;
    }
    throw e;
  }
  throw new Error("Expected the call to fail");
}
