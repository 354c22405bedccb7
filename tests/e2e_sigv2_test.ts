/**
 * AWS Signature Version 2 against the real server: boto3's SigV2 presigner
 * (`signature_version="s3"`) fetched with plain fetch, a boto3 client signing every request with
 * SigV2 (path-style and virtual-hosted), s3cmd with `signature_v2 = True`, and what no client
 * sends (a forged signature, an expired URL) by hand. One server, with a domain for
 * virtual-hosted requests.
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { startServer } from "./_server.ts";
import { bodyBytes, clientFor } from "./_s3.ts";
import { bytesOf, md5Hex, preferBinary, run, runOk, writeS3cmdConfig } from "./clients/_run.ts";

const PYTHON = preferBinary(["/usr/bin/python3"], "python3");
/** Virtual-hosted requests go to `<bucket>.<DOMAIN>`; the script resolves it to 127.0.0.1. */
const DOMAIN = "shale.test";
const BUCKET = "sigv2-test";

/**
 * boto3 with SigV2. Reads SHALE_* from the environment and one command in argv[1]; prints one
 * JSON object. Every request's Authorization header is recorded, so the test can assert that it
 * really was SigV2 (`AWS AK:sig`).
 *
 * Debian's botocore (1.29) signs sub-resource operations wrongly in SigV2 (`/b?delete?delete`,
 * `/b?list-type=2`: boto/boto3#4433, fixed in later botocore); MinIO refuses those too, so
 * the script sticks to what it signs right; s3cmd below covers ?uploads, ?uploadId and
 * ?partNumber, and sigv2_test.ts the sub-resource rules.
 */
const SCRIPT = String.raw`
import json, os, socket, sys, time, urllib.request
import boto3
from botocore.config import Config

# <bucket>.shale.test is this machine: virtual-hosted requests need a name per bucket.
_getaddrinfo = socket.getaddrinfo
def _resolve(host, *args, **kwargs):
    if isinstance(host, str) and (host == "${DOMAIN}" or host.endswith(".${DOMAIN}")):
        host = "127.0.0.1"
    return _getaddrinfo(host, *args, **kwargs)
socket.getaddrinfo = _resolve

endpoint = os.environ["SHALE_ENDPOINT"]
bucket = os.environ["SHALE_BUCKET"]
command = sys.argv[1]
style = "virtual" if command == "client-virtual" else "path"
if style == "virtual":
    endpoint = endpoint.replace("127.0.0.1", "${DOMAIN}")
s3 = boto3.client(
    "s3",
    endpoint_url=endpoint,
    region_name=os.environ["SHALE_REGION"],
    aws_access_key_id=os.environ["SHALE_ACCESS_KEY"],
    aws_secret_access_key=os.environ["SHALE_SECRET_KEY"],
    config=Config(signature_version="s3", s3={"addressing_style": style},
                  retries={"max_attempts": 1}),
)
schemes = set()
hosts = set()
def record(request, **kwargs):
    schemes.add(request.headers.get("Authorization", b"").split(b" ")[0].decode())
    hosts.add(request.url.split("/")[2])
s3.meta.events.register("before-send.s3", record)

# On a refusal, stderr shows what boto3 signed beside what the server expected (its StringToSign).
import botocore.auth
_signature = botocore.auth.HmacV1Auth.get_signature
def _logged(self, method, split, headers, expires=None, auth_path=None):
    print("boto3 signed " + repr(self.canonical_string(method, split, headers, expires, auth_path)),
          file=sys.stderr)
    return _signature(self, method, split, headers, expires, auth_path)
botocore.auth.HmacV1Auth.get_signature = _logged
def _explain(error_type, error, tb):
    response = getattr(error, "response", None)
    if response is not None:
        print("server said " + json.dumps(response.get("Error")), file=sys.stderr)
    sys.__excepthook__(error_type, error, tb)
sys.excepthook = _explain

out = {}
if command == "presign":
    out["url"] = s3.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": os.environ["SHALE_KEY"]}, ExpiresIn=600)
    out["typed"] = s3.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": os.environ["SHALE_KEY"],
                              "ResponseContentType": "text/x-sigv2; charset=utf-8",
                              "ResponseContentDisposition": 'attachment; filename="a b.txt"'},
        ExpiresIn=600)
    out["expired"] = s3.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": os.environ["SHALE_KEY"]}, ExpiresIn=1)
    time.sleep(2.2)
else:
    prefix = "virtual/" if style == "virtual" else "path/"
    keys = [prefix + k for k in ["plain.txt", "with space.txt", "plus+equals=.bin",
                                  "unicode-\u00e9\u00e8\u4e2d.txt", "a/b/c?d#e.txt"]]
    body = {}
    for i, key in enumerate(keys):
        data = os.urandom(1000 + 37 * i)
        body[key] = data
        s3.put_object(Bucket=bucket, Key=key, Body=data, ContentType="application/x-test",
                      Metadata={"index": str(i)})
    got = {}
    for key in keys:
        r = s3.get_object(Bucket=bucket, Key=key)
        got[key] = r["Body"].read() == body[key] and r["Metadata"].get("index") == str(keys.index(key))
    ranged = s3.get_object(Bucket=bucket, Key=keys[0], Range="bytes=10-19")["Body"].read()
    listed = s3.list_objects(Bucket=bucket, Prefix=prefix)
    typed = s3.get_object(Bucket=bucket, Key=keys[0], ResponseContentType="text/x-override")
    head = s3.head_object(Bucket=bucket, Key=keys[3])
    presigned = s3.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": keys[3]}, ExpiresIn=600)
    with urllib.request.urlopen(presigned) as r:
        fetched = r.read() == body[keys[3]]
    s3.delete_object(Bucket=bucket, Key=keys[1])
    after = s3.list_objects(Bucket=bucket, Prefix=prefix, Delimiter="/")
    out = {
        "got": got,
        "ranged": ranged == body[keys[0]][10:20],
        "listed": sorted(o["Key"] for o in listed.get("Contents", [])),
        "typed": typed["ContentType"],
        "headLength": head["ContentLength"],
        "presigned": presigned,
        "presignedFetched": fetched,
        "afterDelete": sorted(o["Key"] for o in after.get("Contents", [])),
        "prefixes": sorted(p["Prefix"] for p in after.get("CommonPrefixes", [])),
        "keys": keys,
        "sizes": [len(body[k]) for k in keys],
    }
out["schemes"] = sorted(schemes)
out["hosts"] = sorted(hosts)
print(json.dumps(out))
`;

async function errorOf(res: Response): Promise<{ status: number; code: string; body: string }> {
  const body = await res.text();
  return { status: res.status, code: /<Code>([^<]*)<\/Code>/.exec(body)?.[1] ?? "", body };
}

Deno.test({
  name: "SigV2 from boto3, s3cmd and by hand: presigned URLs and signed requests",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const server = await startServer({ drives: 4, env: { SHALE_DOMAIN: DOMAIN } });
    const dir = await Deno.makeTempDir({ prefix: "shale-sigv2-" });
    const script = `${dir}/sigv2.py`;
    await Deno.writeTextFile(script, SCRIPT);
    const boto3 = async (command: string, env: Record<string, string> = {}) => {
      const res = await run(PYTHON, [script, command], {
        cwd: dir,
        env: {
          HOME: dir,
          SHALE_ENDPOINT: server.endpoint,
          SHALE_ACCESS_KEY: server.accessKey,
          SHALE_SECRET_KEY: server.secretKey,
          SHALE_REGION: server.region,
          SHALE_BUCKET: BUCKET,
          ...env,
        },
      });
      if (res.code !== 0) {
        throw new Error(`boto3 ${command} exited ${res.code}:\n${res.stderr}\n${server.output()}`);
      }
      return JSON.parse(res.stdout.trim().split("\n").at(-1) ?? "{}");
    };
    const s3 = clientFor(server);
    const key = "dir/presigned object +&=é.bin";
    const data = bytesOf(300_001, 7);
    try {
      await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: data }));

      await t.step(
        "boto3's SigV2 presigned URLs fetch the object byte-exact, until they expire",
        async () => {
          const out = await boto3("presign", { SHALE_KEY: key });
          for (const url of [out.url, out.typed]) {
            match(url, /[?&]AWSAccessKeyId=[^&]+&Signature=[^&]+&Expires=\d+/);
            ok(!url.includes("X-Amz-"), url);
          }
          const res = await fetch(out.url);
          equal(res.status, 200);
          deepEqual(new Uint8Array(await res.arrayBuffer()), data);
          // response-* overrides are signed sub-resources, with their values decoded.
          const typed = await fetch(out.typed);
          equal(typed.status, 200, await typed.clone().text());
          equal(typed.headers.get("content-type"), "text/x-sigv2; charset=utf-8");
          equal(typed.headers.get("content-disposition"), 'attachment; filename="a b.txt"');
          deepEqual(new Uint8Array(await typed.arrayBuffer()), data);
          // Tampering with the key in a presigned URL breaks it.
          const other = await errorOf(await fetch(out.url.replace("presigned", "presignet")));
          equal(other.status, 403);
          equal(other.code, "SignatureDoesNotMatch");
          const expired = await errorOf(await fetch(out.expired));
          equal(expired.status, 403);
          equal(expired.code, "AccessDenied");
          match(expired.body, /Request has expired/);
        },
      );

      for (const command of ["client-path", "client-virtual"]) {
        await t.step(
          `a boto3 client signing with SigV2 (${
            command.slice(7)
          }-style) puts, gets, heads, presigns, lists and deletes`,
          async () => {
            const out = await boto3(command);
            deepEqual(out.schemes, ["AWS"]);
            if (command === "client-virtual") {
              ok(out.hosts.every((h: string) => h.startsWith(`${BUCKET}.${DOMAIN}:`)), out.hosts);
            } else {
              ok(out.hosts.every((h: string) => h.startsWith("127.0.0.1:")), out.hosts);
            }
            for (const [k, good] of Object.entries(out.got)) ok(good, `get_object ${k}`);
            ok(out.ranged, "ranged get");
            const prefix = command === "client-virtual" ? "virtual/" : "path/";
            deepEqual(out.listed, [...out.keys].sort());
            equal(out.typed, "text/x-override");
            equal(out.headLength, out.sizes[3]);
            // A SigV2 presigned URL in the same style, fetched by urllib.
            match(out.presigned, /[?&]AWSAccessKeyId=/);
            ok(out.presigned.startsWith(`http://${out.hosts[0]}/`), out.presigned);
            ok(out.presignedFetched, out.presigned);
            deepEqual(
              out.afterDelete,
              out.keys.filter((k: string, i: number) => i !== 1 && !k.includes("/a/")).sort(),
            );
            deepEqual(out.prefixes, [`${prefix}a/`]);
            // What boto3 stored reads back the same through SigV4.
            const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: out.keys[0] }));
            equal(got.ContentType, "application/x-test");
            deepEqual(got.Metadata, { index: "0" });
          },
        );
      }

      await t.step("s3cmd with signature_v2 puts, gets and lists byte-exact", async () => {
        const config = `${dir}/s3cfg`;
        await writeS3cmdConfig(config, server, { signatureV2: true });
        const s3cmd = (...args: string[]) =>
          runOk("s3cmd", ["-c", config, "--debug", ...args], { env: { HOME: dir }, cwd: dir });
        const files = new Map([
          ["small.txt", bytesOf(10, 1)],
          ["with space+plus.bin", bytesOf(200_003, 2)],
          ["multi.bin", bytesOf(6 * 1024 * 1024 + 5, 3)],
        ]);
        await Deno.mkdir(`${dir}/up`);
        await Deno.mkdir(`${dir}/down`);
        for (const [name, bytes] of files) await Deno.writeFile(`${dir}/up/${name}`, bytes);
        const logs: string[] = [];
        for (const name of files.keys()) {
          const put = await s3cmd(
            "put",
            "--multipart-chunk-size-mb=5",
            `${dir}/up/${name}`,
            `s3://${BUCKET}/s3cmd/${name}`,
          );
          logs.push(put.stderr);
          const get = await s3cmd("get", `s3://${BUCKET}/s3cmd/${name}`, `${dir}/down/${name}`);
          logs.push(get.stderr);
          deepEqual(await Deno.readFile(`${dir}/down/${name}`), files.get(name));
        }
        const ls = await s3cmd("ls", "--list-md5", `s3://${BUCKET}/s3cmd/`);
        logs.push(ls.stderr);
        for (const [name, bytes] of files) {
          if (name === "multi.bin") {
            match(
              ls.stdout,
              new RegExp(` ${bytes.length} +\\S+ +s3://${BUCKET}/s3cmd/multi.bin\n`),
            );
          } else {
            const escaped = name.replace(/[+.]/g, (c) => `\\${c}`);
            match(
              ls.stdout,
              new RegExp(` ${bytes.length} +${md5Hex(bytes)} +s3://${BUCKET}/s3cmd/${escaped}\n`),
            );
          }
        }
        const log = logs.join("\n");
        match(log, /Using signature v2/);
        ok(
          !/Using signature v4|Falling back|requires signature v4/.test(log),
          "s3cmd stayed on v2",
        );
      });

      await t.step("a forged SigV2 signature is refused with SignatureDoesNotMatch", async () => {
        const date = new Date().toUTCString();
        const res = await fetch(`${server.endpoint}/${BUCKET}/${encodeURIComponent(key)}`, {
          headers: { date, authorization: `AWS ${server.accessKey}:AAAAAAAAAAAAAAAAAAAAAAAAAAA=` },
        });
        const e = await errorOf(res);
        equal(e.status, 403);
        equal(e.code, "SignatureDoesNotMatch");
        // As AWS, the error shows the StringToSign the server computed.
        match(e.body, new RegExp(`<StringToSign>GET\n\n\n${date}\n/${BUCKET}/`));
        const unknown = await errorOf(
          await fetch(`${server.endpoint}/${BUCKET}/${encodeURIComponent(key)}`, {
            headers: { date, authorization: "AWS NOSUCHKEY:AAAAAAAAAAAAAAAAAAAAAAAAAAA=" },
          }),
        );
        equal(unknown.status, 403);
        equal(unknown.code, "InvalidAccessKeyId");
      });

      // The object written through SigV4 is still intact after everything above.
      const after = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
      deepEqual(await bodyBytes(after.Body), data);
    } finally {
      s3.destroy();
      await Deno.remove(dir, { recursive: true });
      equal(await server.stop(), 0);
    }
  },
});
