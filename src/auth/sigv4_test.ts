import assert from "node:assert/strict";
import { authenticateRequest, parsePayloadMode } from "./sigv4.ts";
import { type AuthOptions, type SignableRequest, SigV4Error } from "./types.ts";
import { presignRequestForTest, sha256Hex, signRequestForTest } from "./testing.ts";
import { canonicalUri } from "./_crypto.ts";

// The example credentials and time of AWS's S3 SigV4 documentation
// (sig-v4-header-based-auth.html "Examples", sigv4-query-string-auth.html, sigv4-streaming.html).
const AK = "AKIAIOSFODNN7EXAMPLE";
const SK = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const EXAMPLE_TIME = new Date(Date.UTC(2013, 4, 24));
const EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const HOST = "examplebucket.s3.amazonaws.com";

function options(overrides: Partial<AuthOptions> = {}): AuthOptions {
  return {
    region: "us-east-1",
    now: EXAMPLE_TIME,
    lookup: (key) => key === AK ? { accessKey: AK, secretKey: SK } : undefined,
    ...overrides,
  };
}

function auth(signedHeaders: string, signature: string): string {
  return `AWS4-HMAC-SHA256 Credential=${AK}/20130524/us-east-1/s3/aws4_request,` +
    `SignedHeaders=${signedHeaders},Signature=${signature}`;
}

function request(
  method: string,
  rawPath: string,
  rawQuery: string,
  headers: Record<string, string>,
): SignableRequest {
  return { method, rawPath, rawQuery, headers: new Headers(headers) };
}

async function rejects(p: Promise<unknown>, code: string, message?: RegExp): Promise<SigV4Error> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof SigV4Error, `expected SigV4Error, got ${e}`);
    assert.equal(e.code, code, e.message);
    if (message) assert.match(e.message, message);
    return e;
  }
  assert.fail(`expected ${code}, but it verified`);
}

const getObject = () =>
  request("GET", "/test.txt", "", {
    host: HOST,
    range: "bytes=0-9",
    "x-amz-content-sha256": EMPTY,
    "x-amz-date": "20130524T000000Z",
    authorization: auth(
      "host;range;x-amz-content-sha256;x-amz-date",
      "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
    ),
  });

Deno.test("verifies the AWS documentation's GET Object example with a Range header", async () => {
  const result = await authenticateRequest(getObject(), options());
  assert.equal(result.kind, "signed");
  if (result.kind !== "signed") return;
  assert.equal(result.accessKey, AK);
  assert.deepEqual(result.payload, { type: "sha256", hex: EMPTY });
  assert.equal(result.presigned, false);
  assert.equal(result.chunkContext, undefined);
});

Deno.test("verifies the AWS documentation's PUT Object example with a $ in the key", async () => {
  const body = "Welcome to Amazon S3.";
  const hash = sha256Hex(body);
  assert.equal(hash, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  for (const rawPath of ["/test%24file.text", "/test$file.text"]) {
    const result = await authenticateRequest(
      request("PUT", rawPath, "", {
        host: HOST,
        date: "Fri, 24 May 2013 00:00:00 GMT",
        "x-amz-date": "20130524T000000Z",
        "x-amz-storage-class": "REDUCED_REDUNDANCY",
        "x-amz-content-sha256": hash,
        authorization: auth(
          "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
          "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd",
        ),
      }),
      options(),
    );
    assert.equal(result.kind, "signed", rawPath);
    if (result.kind === "signed") assert.deepEqual(result.payload, { type: "sha256", hex: hash });
  }
});

Deno.test("verifies the AWS documentation's GET Bucket Lifecycle example", async () => {
  for (const rawQuery of ["lifecycle", "lifecycle="]) {
    const result = await authenticateRequest(
      request("GET", "/", rawQuery, {
        host: HOST,
        "x-amz-content-sha256": EMPTY,
        "x-amz-date": "20130524T000000Z",
        authorization: auth(
          "host;x-amz-content-sha256;x-amz-date",
          "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543",
        ),
      }),
      options(),
    );
    assert.equal(result.kind, "signed", rawQuery);
  }
});

Deno.test("verifies the AWS documentation's list objects example in any parameter order", async () => {
  const headers = {
    host: HOST,
    "x-amz-content-sha256": EMPTY,
    "x-amz-date": "20130524T000000Z",
    authorization: auth(
      "host;x-amz-content-sha256;x-amz-date",
      "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7",
    ),
  };
  for (const q of ["max-keys=2&prefix=J", "prefix=J&max-keys=2", "prefix=%4A&max-keys=2"]) {
    const result = await authenticateRequest(request("GET", "/", q, headers), options());
    assert.equal(result.kind, "signed", q);
  }
  await rejects(
    authenticateRequest(request("GET", "/", "prefix=K&max-keys=2", headers), options()),
    "SignatureDoesNotMatch",
  );
});

Deno.test("verifies the AWS documentation's presigned URL example", async () => {
  const q = "X-Amz-Algorithm=AWS4-HMAC-SHA256" +
    `&X-Amz-Credential=${AK}%2F20130524%2Fus-east-1%2Fs3%2Faws4_request` +
    "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host" +
    "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404";
  const req = request("GET", "/test.txt", q, { host: HOST });
  const result = await authenticateRequest(req, options());
  assert.equal(result.kind, "signed");
  if (result.kind === "signed") {
    assert.equal(result.presigned, true);
    assert.deepEqual(result.payload, { type: "unsigned" });
  }
  // Valid up to the last second of its 86,400, expired one second later.
  const edge = new Date(EXAMPLE_TIME.getTime() + 86_400_000);
  assert.equal((await authenticateRequest(req, options({ now: edge }))).kind, "signed");
  await rejects(
    authenticateRequest(req, options({ now: new Date(edge.getTime() + 1000) })),
    "AccessDenied",
    /Request has expired/,
  );
});

Deno.test("verifies the seed signature of the AWS documentation's chunked upload", async () => {
  const result = await authenticateRequest(
    request("PUT", "/examplebucket/chunkObject.txt", "", {
      host: "s3.amazonaws.com",
      "x-amz-date": "20130524T000000Z",
      "x-amz-storage-class": "REDUCED_REDUNDANCY",
      "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
      "content-encoding": "aws-chunked",
      "x-amz-decoded-content-length": "66560",
      "content-length": "66824",
      authorization: auth(
        "content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;" +
          "x-amz-decoded-content-length;x-amz-storage-class",
        "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9",
      ),
    }),
    options(),
  );
  assert.equal(result.kind, "signed");
  if (result.kind !== "signed") return;
  assert.deepEqual(result.payload, { type: "streaming-signed", trailer: false });
  assert.equal(
    result.chunkContext?.seedSignature,
    "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9",
  );
  assert.equal(result.chunkContext?.scope, "20130524/us-east-1/s3/aws4_request");
  assert.equal(result.chunkContext?.amzDate, "20130524T000000Z");
});

Deno.test("verifies the seed signature of the AWS documentation's trailer upload", async () => {
  const result = await authenticateRequest(
    request("PUT", "/examplebucket/chunkObject.txt", "", {
      host: "s3.amazonaws.com",
      "x-amz-date": "20130524T000000Z",
      "x-amz-storage-class": "REDUCED_REDUNDANCY",
      "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
      "content-encoding": "aws-chunked",
      "x-amz-decoded-content-length": "66560",
      "x-amz-trailer": "x-amz-checksum-crc32c",
      authorization: auth(
        "content-encoding;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;" +
          "x-amz-storage-class;x-amz-trailer",
        "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e",
      ),
    }),
    options(),
  );
  assert.equal(result.kind, "signed");
  if (result.kind === "signed") {
    assert.deepEqual(result.payload, { type: "streaming-signed", trailer: true });
  }
});

Deno.test("treats a request without any authentication as anonymous", async () => {
  const result = await authenticateRequest(
    request("GET", "/bucket/key", "versionId=1", { host: HOST }),
    options(),
  );
  assert.deepEqual(result, { kind: "anonymous" });
});

Deno.test("rejects a wrong signature, a changed header and a changed path", async () => {
  const good = getObject();
  const wrongSig = new Headers(good.headers);
  wrongSig.set("authorization", auth("host;range;x-amz-content-sha256;x-amz-date", "0".repeat(64)));
  await rejects(
    authenticateRequest({ ...good, headers: wrongSig }, options()),
    "SignatureDoesNotMatch",
  );
  const range = new Headers(good.headers);
  range.set("range", "bytes=0-10");
  await rejects(
    authenticateRequest({ ...good, headers: range }, options()),
    "SignatureDoesNotMatch",
  );
  await rejects(
    authenticateRequest({ ...good, rawPath: "/test.txu" }, options()),
    "SignatureDoesNotMatch",
  );
  await rejects(
    authenticateRequest({ ...good, method: "PUT" }, options()),
    "SignatureDoesNotMatch",
  );
});

Deno.test("rejects an unknown access key", async () => {
  await rejects(
    authenticateRequest(getObject(), options({ lookup: () => undefined })),
    "InvalidAccessKeyId",
  );
});

Deno.test("names the expected region when the credential scope has another", async () => {
  const e = await rejects(
    authenticateRequest(getObject(), options({ region: "eu-west-1" })),
    "AuthorizationHeaderMalformed",
    /the region 'us-east-1' is wrong; expecting 'eu-west-1'/,
  );
  assert.equal(e.details.Region, "eu-west-1");
});

Deno.test("rejects malformed Authorization headers as AuthorizationHeaderMalformed", async () => {
  const bad = [
    "AWS4-HMAC-SHA256 Credential=x",
    `AWS4-HMAC-SHA256 Credential=${AK}/20130524/us-east-1/s3, SignedHeaders=host, Signature=00`,
    `AWS4-HMAC-SHA256 Credential=${AK}/20130524/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=00`,
    `AWS4-HMAC-SHA256 Credential=${AK}/20130524/us-east-1/s3/aws5_request, SignedHeaders=host, Signature=00`,
    `AWS4-HMAC-SHA256 Credential=${AK}/2013-05-24/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00`,
    `AWS4-HMAC-SHA256 Credential=${AK}/20130525/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256, Signature=00`,
    `AWS4-HMAC-SHA256 Credential=${AK}/20130524/us-east-1/s3/aws4_request, SignedHeaders=Host;x-amz-content-sha256, Signature=00`,
    `AWS4-HMAC-SHA256 Credential=${AK}/20130524/us-east-1/s3/aws4_request, Credential=x, SignedHeaders=host, Signature=00`,
  ];
  for (const a of bad) {
    const req = getObject();
    req.headers.set("authorization", a);
    await rejects(authenticateRequest(req, options()), "AuthorizationHeaderMalformed");
  }
});

Deno.test("refuses SigV4a with AWS's InvalidRequest, and other schemes as invalid", async () => {
  // SigV2 (`AWS AK:sig`, `AWSAccessKeyId=` URLs) is verified by sigv2.ts: see sigv2_test.ts.
  const v4a = getObject();
  v4a.headers.set("authorization", "AWS4-ECDSA-P256-SHA256 Credential=x");
  await rejects(authenticateRequest(v4a, options()), "InvalidRequest", /AWS4-HMAC-SHA256/);
  const bearer = getObject();
  bearer.headers.set("authorization", "Bearer abc");
  await rejects(authenticateRequest(bearer, options()), "InvalidArgument");
});

Deno.test("requires host to be signed", async () => {
  const signed = signRequestForTest(
    request("GET", "/b/k", "", { host: HOST, "x-amz-meta-a": "1" }),
    {
      accessKey: AK,
      secretKey: SK,
      region: "us-east-1",
      date: EXAMPLE_TIME,
      signedHeaders: ["x-amz-content-sha256", "x-amz-date"],
    },
  );
  const e = await rejects(authenticateRequest(signed, options()), "AccessDenied");
  assert.equal(e.details.HeadersNotSigned, "host");
});

Deno.test("requires x-amz-content-sha256 on header authentication, signed", async () => {
  const req = getObject();
  req.headers.delete("x-amz-content-sha256");
  await rejects(authenticateRequest(req, options()), "InvalidRequest", /x-amz-content-sha256/);
  const unsigned = signRequestForTest(request("GET", "/b/k", "", { host: HOST }), {
    accessKey: AK,
    secretKey: SK,
    region: "us-east-1",
    date: EXAMPLE_TIME,
    signedHeaders: ["host", "x-amz-date"],
  });
  await rejects(authenticateRequest(unsigned, options()), "InvalidRequest", /must be included/);
});

Deno.test("reads every x-amz-content-sha256 form and rejects others with InvalidArgument", () => {
  assert.deepEqual(parsePayloadMode("UNSIGNED-PAYLOAD"), { type: "unsigned" });
  assert.deepEqual(parsePayloadMode("STREAMING-AWS4-HMAC-SHA256-PAYLOAD"), {
    type: "streaming-signed",
    trailer: false,
  });
  assert.deepEqual(parsePayloadMode("STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"), {
    type: "streaming-signed",
    trailer: true,
  });
  assert.deepEqual(parsePayloadMode("STREAMING-UNSIGNED-PAYLOAD-TRAILER"), {
    type: "streaming-unsigned-trailer",
  });
  assert.deepEqual(parsePayloadMode(EMPTY.toUpperCase()), { type: "sha256", hex: EMPTY });
  for (
    const bad of ["", "GIBBERISH", EMPTY.slice(1), "tjnVEQ5UTP/DL91eAGOmew==", "unsigned-payload"]
  ) {
    assert.throws(
      () => parsePayloadMode(bad),
      (e) => e instanceof SigV4Error && e.code === "InvalidArgument",
    );
  }
  assert.throws(
    () => parsePayloadMode("STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD"),
    (e) => e instanceof SigV4Error && e.code === "NotImplemented",
  );
});

Deno.test("rejects a request more than 15 minutes from server time, either way", async () => {
  const signed = signRequestForTest(request("GET", "/b/k", "", { host: HOST }), {
    accessKey: AK,
    secretKey: SK,
    region: "us-east-1",
    date: EXAMPLE_TIME,
  });
  const minute = 60_000;
  for (const offset of [-15 * minute, 15 * minute]) {
    const now = new Date(EXAMPLE_TIME.getTime() + offset);
    assert.equal((await authenticateRequest(signed, options({ now }))).kind, "signed");
  }
  for (const offset of [-15 * minute - 1000, 15 * minute + 1000]) {
    const now = new Date(EXAMPLE_TIME.getTime() + offset);
    await rejects(authenticateRequest(signed, options({ now })), "RequestTimeTooSkewed");
  }
});

Deno.test("takes the Date header when x-amz-date is absent", async () => {
  const headers = new Headers({ host: HOST, date: "Fri, 24 May 2013 00:00:00 GMT" });
  const signed = signRequestForTest(request("GET", "/b/k", "", Object.fromEntries(headers)), {
    accessKey: AK,
    secretKey: SK,
    region: "us-east-1",
    date: EXAMPLE_TIME,
    signedHeaders: ["date", "host", "x-amz-content-sha256"],
  });
  signed.headers.delete("x-amz-date");
  assert.equal((await authenticateRequest(signed, options())).kind, "signed");
  signed.headers.delete("date");
  await rejects(authenticateRequest(signed, options()), "AccessDenied", /Date or x-amz-date/);
});

Deno.test("checks the session token of temporary credentials", async () => {
  const lookup = (key: string) =>
    key === "TEMP" ? { accessKey: "TEMP", secretKey: SK, sessionToken: "tok-1" } : undefined;
  const base = request("GET", "/b/k", "", { host: HOST });
  const sign = (sessionToken?: string) =>
    signRequestForTest(base, {
      accessKey: "TEMP",
      secretKey: SK,
      region: "us-east-1",
      date: EXAMPLE_TIME,
      ...(sessionToken === undefined ? {} : { sessionToken }),
    });
  assert.equal((await authenticateRequest(sign("tok-1"), options({ lookup }))).kind, "signed");
  await rejects(authenticateRequest(sign("tok-2"), options({ lookup })), "InvalidTokenId");
  await rejects(authenticateRequest(sign(), options({ lookup })), "InvalidTokenId");
  // A token sent with long-term credentials is refused as well.
  const longTerm = signRequestForTest(base, {
    accessKey: AK,
    secretKey: SK,
    region: "us-east-1",
    date: EXAMPLE_TIME,
    sessionToken: "tok-1",
  });
  await rejects(authenticateRequest(longTerm, options()), "InvalidTokenId");
});

Deno.test("refuses temporary credentials after they expire with ExpiredToken", async () => {
  const expiresAt = new Date(EXAMPLE_TIME.getTime() + 60_000);
  const lookup = (key: string) =>
    key === "TEMP"
      ? { accessKey: "TEMP", secretKey: SK, sessionToken: "tok", expiresAt }
      : undefined;
  const signed = signRequestForTest(request("GET", "/b/k", "", { host: HOST }), {
    accessKey: "TEMP",
    secretKey: SK,
    region: "us-east-1",
    date: EXAMPLE_TIME,
    sessionToken: "tok",
  });
  assert.equal((await authenticateRequest(signed, options({ lookup }))).kind, "signed");
  await rejects(
    authenticateRequest(signed, options({ lookup, now: new Date(expiresAt.getTime() + 1) })),
    "ExpiredToken",
  );
});

Deno.test("verifies paths whose reserved characters were sent raw or encoded", async () => {
  // The client signs the canonical (fully encoded) form; what it puts on the wire varies.
  const creds = { accessKey: AK, secretKey: SK, region: "us-east-1", date: EXAMPLE_TIME };
  const wireForms: Array<[string, string]> = [
    ["/b/a%20b%2Bc%21%2A%27%28%29", "/b/a%20b+c!*'()"],
    ["/b/a%2Fb", "/b/a%2fb"],
    ["/b/%E2%82%AC", "/b/\u20ac"],
    ["/b/100%25", "/b/100%25"],
    ["/b//double//slash/", "/b//double//slash/"],
  ];
  for (const [signedPath, wirePath] of wireForms) {
    const signed = signRequestForTest(request("GET", signedPath, "", { host: HOST }), creds);
    const result = await authenticateRequest({ ...signed, rawPath: wirePath }, options());
    assert.equal(result.kind, "signed", `${signedPath} sent as ${wirePath}`);
  }
  assert.equal(canonicalUri("/b/a+b"), "/b/a%2Bb");
  assert.equal(canonicalUri("/b/a%2fb/c"), "/b/a%2Fb/c");
  assert.equal(canonicalUri("/b/50%"), "/b/50%25");
  assert.equal(canonicalUri(""), "/");
});

Deno.test("rejects bad presigned parameters with AuthorizationQueryParametersError", async () => {
  const base = request("GET", "/b/k", "", { host: HOST });
  const creds = { accessKey: AK, secretKey: SK, region: "us-east-1", date: EXAMPLE_TIME };
  const good = presignRequestForTest(base, { ...creds, expiresSeconds: 3600 });
  assert.equal((await authenticateRequest(good, options())).kind, "signed");
  const mutate = (from: RegExp, to: string) => ({
    ...good,
    rawQuery: good.rawQuery.replace(from, to),
  });
  const cases = [
    mutate(/X-Amz-Expires=\d+/, "X-Amz-Expires=604801"),
    mutate(/X-Amz-Expires=\d+/, "X-Amz-Expires=0"),
    mutate(/X-Amz-Expires=\d+/, "X-Amz-Expires=-5"),
    mutate(/X-Amz-Expires=\d+&/, ""),
    mutate(/X-Amz-Date=\w+/, "X-Amz-Date=2013-05-24T00:00:00Z"),
    mutate(/X-Amz-Algorithm=[\w-]+/, "X-Amz-Algorithm=HMAC-SHA256"),
    mutate(/us-east-1/, "us-west-2"),
    { ...good, rawQuery: good.rawQuery + "&X-Amz-Date=20130524T000000Z" },
  ];
  for (const c of cases) {
    await rejects(
      authenticateRequest(c, options()),
      "AuthorizationQueryParametersError",
      undefined,
    );
  }
  await rejects(
    authenticateRequest(
      presignRequestForTest(base, { ...creds, expiresSeconds: 604_801 }),
      options(),
    ),
    "AuthorizationQueryParametersError",
    /604800/,
  );
  const longest = presignRequestForTest(base, { ...creds, expiresSeconds: 604_800 });
  assert.equal((await authenticateRequest(longest, options())).kind, "signed");
});

Deno.test("refuses x-amz-* headers that a presigned URL did not sign", async () => {
  const base = request("PUT", "/b/k", "", { host: HOST, "x-amz-acl": "private" });
  const creds = { accessKey: AK, secretKey: SK, region: "us-east-1", date: EXAMPLE_TIME };
  const signedAcl = presignRequestForTest(base, {
    ...creds,
    expiresSeconds: 60,
    signedHeaders: ["host", "x-amz-acl"],
  });
  assert.equal((await authenticateRequest(signedAcl, options())).kind, "signed");
  const url = presignRequestForTest(base, { ...creds, expiresSeconds: 60 });
  for (const [name, value] of [["x-amz-acl", "public-read"], ["x-amz-meta-owner", "mallory"]]) {
    const headers = new Headers({ host: HOST });
    headers.set(name!, value!);
    const e = await rejects(
      authenticateRequest({ ...url, headers }, options()),
      "AccessDenied",
      /not signed/,
    );
    assert.equal(e.details.HeadersNotSigned, name);
  }
  // x-amz-content-sha256 is tolerated unsigned, and ignored: the payload stays unsigned.
  const tolerated = { ...url, headers: new Headers({ host: HOST, "x-amz-content-sha256": EMPTY }) };
  const result = await authenticateRequest(tolerated, options());
  assert.equal(result.kind === "signed" && result.payload.type, "unsigned");
  // Other headers are the holder's business, as on AWS.
  const other = { ...url, headers: new Headers({ host: HOST, "content-type": "text/plain" }) };
  assert.equal((await authenticateRequest(other, options())).kind, "signed");
});

Deno.test("rejects a presigned URL used before its time or after it expired", async () => {
  const base = request("GET", "/b/k", "", { host: HOST });
  const url = presignRequestForTest(base, {
    accessKey: AK,
    secretKey: SK,
    region: "us-east-1",
    date: EXAMPLE_TIME,
    expiresSeconds: 60,
  });
  const at = (ms: number) => options({ now: new Date(EXAMPLE_TIME.getTime() + ms) });
  assert.equal((await authenticateRequest(url, at(60_000))).kind, "signed");
  await rejects(authenticateRequest(url, at(61_000)), "AccessDenied", /expired/);
  assert.equal((await authenticateRequest(url, at(-15 * 60_000))).kind, "signed");
  await rejects(authenticateRequest(url, at(-16 * 60_000)), "AccessDenied", /not valid yet/);
});

Deno.test("refuses a request that is both presigned and header-signed", async () => {
  const base = request("GET", "/b/k", "", { host: HOST });
  const url = presignRequestForTest(base, {
    accessKey: AK,
    secretKey: SK,
    region: "us-east-1",
    date: EXAMPLE_TIME,
    expiresSeconds: 60,
  });
  url.headers.set("authorization", getObject().headers.get("authorization")!);
  await rejects(authenticateRequest(url, options()), "InvalidArgument", /Only one auth mechanism/);
});

Deno.test("signs X-Amz-Signature out of the presigned canonical query, and everything else in", async () => {
  const base = request("GET", "/b/k", "versionId=3&response-content-type=text%2Fplain", {
    host: HOST,
  });
  const url = presignRequestForTest(base, {
    accessKey: AK,
    secretKey: SK,
    region: "us-east-1",
    date: EXAMPLE_TIME,
    expiresSeconds: 60,
  });
  assert.equal((await authenticateRequest(url, options())).kind, "signed");
  const changed = { ...url, rawQuery: url.rawQuery.replace("versionId=3", "versionId=4") };
  await rejects(authenticateRequest(changed, options()), "SignatureDoesNotMatch");
  const added = { ...url, rawQuery: url.rawQuery + "&extra=1" };
  await rejects(authenticateRequest(added, options()), "SignatureDoesNotMatch");
});

Deno.test("returns the chunk signing context for a header-signed streaming upload", async () => {
  const signed = signRequestForTest(
    request("PUT", "/b/k", "", {
      host: HOST,
      "content-encoding": "aws-chunked",
      "x-amz-decoded-content-length": "10",
    }),
    {
      accessKey: AK,
      secretKey: SK,
      region: "us-east-1",
      date: EXAMPLE_TIME,
      payloadHash: "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
    },
  );
  const result = await authenticateRequest(signed, options());
  assert.equal(result.kind, "signed");
  if (result.kind !== "signed") return;
  assert.equal(result.chunkContext?.seedSignature, signed.signature);
  assert.deepEqual(result.chunkContext?.signingKey, signed.chunkContext.signingKey);
});
