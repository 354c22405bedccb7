import { equal, match, rejects } from "node:assert/strict";
import { Agent } from "node:https";
import {
  CreateBucketCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { startServer } from "./_server.ts";
import { bodyBytes } from "./_s3.ts";

async function openssl(args: string[]): Promise<void> {
  const out = await new Deno.Command("openssl", { args, stdout: "piped", stderr: "piped" })
    .output();
  equal(out.code, 0, new TextDecoder().decode(out.stderr));
}

/**
 * A throwaway CA and a server certificate it signed for 127.0.0.1 and localhost, made with openssl
 * into `dir` as public.crt / private.key. Returns the CA certificate to trust. (rustls, behind
 * Deno's fetch, refuses a CA certificate used directly as the server's, hence two.)
 */
async function makeCertificate(dir: string): Promise<string> {
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  await openssl([
    "req",
    "-x509",
    ...ec,
    "-days",
    "1",
    "-subj",
    "/CN=shale-test-ca",
    "-keyout",
    `${dir}/ca.key`,
    "-out",
    `${dir}/ca.crt`,
  ]);
  await openssl([
    "req",
    ...ec,
    "-subj",
    "/CN=127.0.0.1",
    "-keyout",
    `${dir}/private.key`,
    "-out",
    `${dir}/server.csr`,
  ]);
  await Deno.writeTextFile(
    `${dir}/ext.cnf`,
    "basicConstraints=critical,CA:FALSE\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n" +
      "extendedKeyUsage=serverAuth\n",
  );
  await openssl([
    "x509",
    "-req",
    "-in",
    `${dir}/server.csr`,
    "-CA",
    `${dir}/ca.crt`,
    "-CAkey",
    `${dir}/ca.key`,
    "-CAcreateserial",
    "-days",
    "1",
    "-extfile",
    `${dir}/ext.cnf`,
    "-out",
    `${dir}/public.crt`,
  ]);
  return await Deno.readTextFile(`${dir}/ca.crt`);
}

Deno.test("serves HTTPS from --certs-dir and the AWS SDK trusting the certificate round-trips", async () => {
  const dir = await Deno.makeTempDir({ prefix: "shale-certs-" });
  const cert = await makeCertificate(dir);
  const s = await startServer({ drives: 4, certsDir: dir });
  const agent = new Agent({ ca: cert });
  const client = new S3Client({
    endpoint: s.endpoint,
    region: s.region,
    forcePathStyle: true,
    credentials: { accessKeyId: s.accessKey, secretAccessKey: s.secretKey },
    requestHandler: { httpsAgent: agent },
  });
  try {
    match(s.endpoint, /^https:\/\/127\.0\.0\.1:\d+$/);
    match(s.output(), /S3-API: https:\/\/127\.0\.0\.1:\d+/);
    await client.send(new CreateBucketCommand({ Bucket: "tls" }));
    const body = new TextEncoder().encode("over TLS");
    await client.send(new PutObjectCommand({ Bucket: "tls", Key: "k", Body: body }));
    const got = await client.send(new GetObjectCommand({ Bucket: "tls", Key: "k" }));
    equal(new TextDecoder().decode(await bodyBytes(got.Body)), "over TLS");

    // Deno's own fetch with the certificate as its only trust root reaches the health probe.
    const http = Deno.createHttpClient({ caCerts: [cert] });
    try {
      const live = await fetch(`${s.endpoint}/minio/health/live`, { client: http });
      await live.body?.cancel();
      equal(live.status, 200);
    } finally {
      http.close();
    }
    // Without trusting it, a client refuses the connection.
    await rejects(fetch(`${s.endpoint}/minio/health/live`));
    // Plain HTTP on the TLS port gets no S3 answer.
    await rejects(async () => {
      const r = await fetch(s.endpoint.replace("https:", "http:") + "/minio/health/live");
      await r.body?.cancel();
      if (r.status === 200) throw new Error("unreachable");
      throw new Error(`status ${r.status}`);
    });
  } finally {
    client.destroy();
    agent.destroy();
    equal(await s.stop(), 0);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("refuses to start with a certificate but no private key", async () => {
  const dir = await Deno.makeTempDir({ prefix: "shale-certs-" });
  try {
    await makeCertificate(dir);
    await Deno.remove(`${dir}/private.key`);
    await rejects(
      startServer({ drives: 1, certsDir: dir }),
      /TLS needs both public\.crt and private\.key/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
