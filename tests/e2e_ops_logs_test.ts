import { equal, ok } from "node:assert/strict";
import { createHash } from "node:crypto";
import { presignRequestForTest } from "../src/auth/testing.ts";
import { signPrometheusToken } from "../src/admin/mod.ts";
import { startServer } from "./_server.ts";
import { signedFetch } from "./_ops.ts";

interface AccessLine {
  message: string;
  requestId: string;
  principal: string | null;
  operation: string;
  bucket: string | null;
  key: string | null;
  status: number;
  bytesIn: number;
  bytesOut: number;
  durationMs: number;
  remoteAddress: string | null;
  userAgent: string | null;
}

function accessLines(output: string): AccessLine[] {
  return output.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l)).filter((
    r: { message?: string },
  ) => r.message === "Access");
}

Deno.test("the access log has one line per request and no secret ever reaches any log line", async () => {
  const secretKey = "log-test-secret-" + crypto.randomUUID();
  const s = await startServer({
    drives: 4,
    args: ["--access-log"],
    env: { SHALE_ROOT_PASSWORD: secretKey, SHALE_LOG_LEVEL: "debug" },
  });
  const secrets: string[] = [secretKey];
  let ids: string[] = [];
  try {
    const track = async (r: Response) => {
      ids.push(r.headers.get("x-amz-request-id") ?? "");
      await r.body?.cancel();
      return r.status;
    };
    equal(await track(await signedFetch(s, "PUT", "/logs")), 200);
    const body = new TextEncoder().encode("hello, log");
    equal(await track(await signedFetch(s, "PUT", "/logs/plain.txt", { body })), 200);

    // A failed signature (its Authorization header carries a signature computed with a guess).
    const guess = "guessed-secret-" + crypto.randomUUID();
    secrets.push(guess);
    equal(await track(await signedFetch(s, "GET", "/logs/plain.txt", { secretKey: guess })), 403);

    // SSE-C headers: the customer key must never be logged, whatever the server answers.
    const customerKey = crypto.getRandomValues(new Uint8Array(32));
    const keyB64 = btoa(String.fromCharCode(...customerKey));
    secrets.push(keyB64, Array.from(customerKey, (b) => b.toString(16).padStart(2, "0")).join(""));
    const sseHeaders = {
      "x-amz-server-side-encryption-customer-algorithm": "AES256",
      "x-amz-server-side-encryption-customer-key": keyB64,
      "x-amz-server-side-encryption-customer-key-md5": createHash("md5").update(customerKey)
        .digest("base64"),
    };
    await track(await signedFetch(s, "PUT", "/logs/ssec.bin", { body, headers: sseHeaders }));
    await track(await signedFetch(s, "GET", "/logs/ssec.bin", { headers: sseHeaders }));

    // A session token nobody issued.
    const token = "session-token-" + crypto.randomUUID();
    secrets.push(token);
    await track(
      await signedFetch(s, "GET", "/logs/plain.txt", {
        headers: { "x-amz-security-token": token },
      }),
    );

    // Presigned URLs, good and with a bad signature.
    const url = new URL(s.endpoint);
    const presigned = presignRequestForTest(
      {
        method: "GET",
        rawPath: "/logs/plain.txt",
        rawQuery: "",
        headers: new Headers({ host: url.host }),
      },
      { accessKey: s.accessKey, secretKey, region: s.region, expiresSeconds: 300 },
    );
    secrets.push(presigned.signature);
    equal(await track(await fetch(`${s.endpoint}/logs/plain.txt?${presigned.rawQuery}`)), 200);
    const badQuery = presigned.rawQuery.replace(
      /X-Amz-Signature=[0-9a-f]+/,
      `X-Amz-Signature=${"ab".repeat(32)}`,
    );
    secrets.push("ab".repeat(32));
    equal(await track(await fetch(`${s.endpoint}/logs/plain.txt?${badQuery}`)), 403);

    // A metrics scrape with its bearer token (not an S3 request: no access line, no token logged).
    const bearer = signPrometheusToken(s.accessKey, secretKey, {
      expiresAt: new Date(Date.now() + 60_000),
    });
    secrets.push(bearer.split(".")[2] ?? bearer);
    const m = await fetch(`${s.endpoint}/minio/v2/metrics/cluster`, {
      headers: { authorization: `Bearer ${bearer}` },
    });
    await m.body?.cancel();
    equal(m.status, 200);
  } finally {
    equal(await s.stop(), 0);
  }
  const output = s.output();
  for (const secret of secrets) {
    equal(output.includes(secret), false, `a log line holds the secret "${secret}"`);
  }
  // Header signatures are not known to the test; no line may hold a 64-hex-digit value at all
  // (a SigV4 signature, a hex key). Request ids are 16 hex digits.
  equal(/[0-9a-f]{64}/.test(output), false, "a 64-hex-digit value (a signature?) was logged");

  const lines = accessLines(output);
  equal(lines.length, ids.length, "one access line per request");
  ids = ids.filter((id) => id !== "");
  for (const id of ids) ok(lines.some((l) => l.requestId === id), `no access line for ${id}`);
  const put = lines.find((l) => l.operation === "PutObject" && l.key === "plain.txt");
  ok(put !== undefined);
  equal(put.principal, s.accessKey);
  equal(put.bucket, "logs");
  equal(put.status, 200);
  equal(put.bytesIn, 10);
  equal(put.bytesOut, 0);
  ok(put.durationMs >= 0);
  ok(put.remoteAddress?.startsWith("127.0.0.1:"));
  ok(put.userAgent !== null && put.userAgent.length > 0);
  const get = lines.find((l) => l.operation === "GetObject" && l.status === 200);
  equal(get?.bytesOut, 10);
  const denied = lines.filter((l) => l.status === 403);
  ok(denied.length >= 2);
});
