/** Cost of verifying one request's signature (no body): the per-request floor of auth. */
import { authenticateRequest } from "./sigv4.ts";
import type { AuthOptions } from "./types.ts";
import { presignRequestForTest, signRequestForTest } from "./testing.ts";

const now = new Date(Date.UTC(2026, 10, 25, 12));
const creds = { accessKey: "BENCHKEY", secretKey: "bench-secret", region: "us-east-1", date: now };
const options: AuthOptions = {
  region: "us-east-1",
  now,
  lookup: () => ({ accessKey: "BENCHKEY", secretKey: "bench-secret" }),
};
const base = {
  method: "GET",
  rawPath: "/bucket/photos/2026/a%20b.jpg",
  rawQuery: "versionId=3&response-content-type=image%2Fjpeg",
  headers: new Headers({ host: "s3.local:9000", range: "bytes=0-1023", "user-agent": "bench" }),
};
const header = signRequestForTest(base, creds);
const presigned = presignRequestForTest(base, { ...creds, expiresSeconds: 3600 });

Deno.bench("verify header-signed GET", async () => {
  await authenticateRequest(header, options);
});

Deno.bench("verify presigned GET", async () => {
  await authenticateRequest(presigned, options);
});
