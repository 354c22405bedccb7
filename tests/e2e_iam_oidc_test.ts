/**
 * End to end: AssumeRoleWithWebIdentity with @aws-sdk/client-sts against an OpenID provider
 * written with jose inside this test (discovery document and JWKS on loopback), then the session
 * used with @aws-sdk/client-s3. Covers expiry, audience, key rotation, `alg: none` and HMAC signed
 * with the public key.
 */
import { equal, match, ok } from "node:assert/strict";
import {
  AssumeRoleWithWebIdentityCommand,
  STSClient,
  STSServiceException,
} from "@aws-sdk/client-sts";
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import { startServer } from "./_server.ts";
import { bodyBytes, clientFor, errorCode } from "./_s3.ts";

const CLIENT_ID = "shale-app";
const BUCKET = "oidc";

async function newKey(kid: string) {
  const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: "RS256", use: "sig" };
  return { kid, privateKey, jwk };
}

Deno.test("AssumeRoleWithWebIdentity: OpenID tokens become sessions, bad tokens are refused", async (t) => {
  const keys = [await newKey("k1")];
  let jwksFetches = 0;
  let issuer = "";
  const idp: Deno.HttpServer<Deno.NetAddr> = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: () => {},
  }, (req: Request): Response => {
    const path = new URL(req.url).pathname;
    if (path === "/.well-known/openid-configuration") {
      return Response.json({ issuer, jwks_uri: `${issuer}/jwks` });
    }
    if (path === "/jwks") {
      jwksFetches++;
      return Response.json({ keys: keys.map((k) => k.jwk) });
    }
    return new Response(null, { status: 404 });
  });
  issuer = `http://127.0.0.1:${idp.addr.port}`;
  const token = async (
    claims: Record<string, unknown>,
    opts: { key?: Awaited<ReturnType<typeof newKey>>; aud?: string; expiresIn?: string } = {},
  ) => {
    const key = opts.key ?? keys[0]!;
    return await new SignJWT(claims)
      .setProtectedHeader({ alg: "RS256", kid: key.kid })
      .setIssuer(issuer)
      .setSubject("dana@example.com")
      .setAudience(opts.aud ?? CLIENT_ID)
      .setIssuedAt()
      .setExpirationTime(opts.expiresIn ?? "10m")
      .sign(key.privateKey);
  };

  const server = await startServer({
    drives: 4,
    env: {
      SHALE_IDENTITY_OPENID_CONFIG_URL: `${issuer}/.well-known/openid-configuration`,
      SHALE_IDENTITY_OPENID_CLIENT_ID: CLIENT_ID,
    },
  });
  const sts = new STSClient({
    endpoint: server.endpoint,
    region: server.region,
    // AssumeRoleWithWebIdentity is unsigned; the SDK still wants a credentials provider.
    credentials: { accessKeyId: "unused", secretAccessKey: "unused" },
  });
  const root = clientFor(server);
  const stsCode = async (webToken: string) => {
    try {
      await sts.send(
        new AssumeRoleWithWebIdentityCommand({
          RoleArn: "arn:aws:iam::000000000000:role/any",
          RoleSessionName: "test",
          WebIdentityToken: webToken,
        }),
      );
    } catch (e) {
      // The SDK names STS's InvalidIdentityToken code InvalidIdentityTokenException.
      if (e instanceof STSServiceException) return e.name;
      throw e;
    }
    return "ok";
  };
  try {
    await root.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await root.send(new PutObjectCommand({ Bucket: BUCKET, Key: "k", Body: "v" }));

    await t.step("a token with a policy claim gives a session with that policy", async () => {
      const out = await sts.send(
        new AssumeRoleWithWebIdentityCommand({
          RoleArn: "arn:aws:iam::000000000000:role/any",
          RoleSessionName: "dana",
          WebIdentityToken: await token({ policy: "readonly" }),
          DurationSeconds: 900,
        }),
      );
      const c = out.Credentials!;
      match(c.AccessKeyId ?? "", /^[A-Z0-9]{20}$/);
      equal(out.SubjectFromWebIdentityToken, "dana@example.com");
      ok(c.Expiration instanceof Date && c.Expiration.getTime() - Date.now() <= 900_000);
      const s3 = clientFor(server, {
        credentials: {
          accessKeyId: c.AccessKeyId!,
          secretAccessKey: c.SecretAccessKey!,
          sessionToken: c.SessionToken!,
        },
      });
      try {
        const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "k" }));
        equal(new TextDecoder().decode(await bodyBytes(got.Body)), "v");
        equal(
          await errorCode(s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: "x", Body: "x" }))),
          "AccessDenied",
        );
      } finally {
        s3.destroy();
      }
    });

    await t.step("boto3's assume_role_with_web_identity works too", async () => {
      const script = `
import boto3, json, sys
ep, region, token = sys.argv[1], sys.argv[2], sys.argv[3]
sts = boto3.client("sts", endpoint_url=ep, region_name=region,
                   aws_access_key_id="unused", aws_secret_access_key="unused")
c = sts.assume_role_with_web_identity(RoleArn="arn:aws:iam::000000000000:role/any",
                                      RoleSessionName="py", WebIdentityToken=token)["Credentials"]
s3 = boto3.client("s3", endpoint_url=ep, region_name=region,
                  aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c["SecretAccessKey"],
                  aws_session_token=c["SessionToken"])
print(json.dumps({"body": s3.get_object(Bucket="${BUCKET}", Key="k")["Body"].read().decode()}))
`;
      const out = await new Deno.Command("python3", {
        args: ["-c", script, server.endpoint, server.region, await token({ policy: "readonly" })],
        stdout: "piped",
        stderr: "piped",
      }).output();
      equal(out.code, 0, new TextDecoder().decode(out.stderr));
      equal(JSON.parse(new TextDecoder().decode(out.stdout)).body, "v");
    });

    await t.step("expired, wrong-audience and policy-less tokens are refused", async () => {
      equal(
        await stsCode(await token({ policy: "readonly" }, { expiresIn: "-1m" })),
        "InvalidIdentityTokenException",
      );
      equal(
        await stsCode(await token({ policy: "readonly" }, { aud: "another-app" })),
        "InvalidIdentityTokenException",
      );
      equal(await stsCode(await token({})), "AccessDenied");
      equal(await stsCode("not-a-jwt"), "InvalidIdentityTokenException");
    });

    await t.step("alg none and HMAC signed with the public key are refused", async () => {
      const b64 = (v: unknown) =>
        btoa(JSON.stringify(v)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
      const now = Math.floor(Date.now() / 1000);
      const claims = {
        iss: issuer,
        sub: "eve",
        aud: CLIENT_ID,
        exp: now + 600,
        iat: now,
        policy: "readwrite",
      };
      equal(
        await stsCode(`${b64({ alg: "none", typ: "JWT" })}.${b64(claims)}.`),
        "InvalidIdentityTokenException",
      );
      const publicAsSecret = new TextEncoder().encode(JSON.stringify(keys[0]!.jwk));
      const hmac = await new SignJWT(claims).setProtectedHeader({ alg: "HS256", kid: "k1" }).sign(
        publicAsSecret,
      );
      equal(await stsCode(hmac), "InvalidIdentityTokenException");
    });

    await t.step(
      "a rotated-in key is fetched on its first token; a rotated-out key is refused",
      async () => {
        const old = keys[0]!;
        const fresh = await newKey("k2");
        keys.splice(0, 1, fresh);
        await new Promise((r) => setTimeout(r, 1_100)); // past the JWKS refresh cooldown
        const before = jwksFetches;
        equal(await stsCode(await token({ policy: "readonly" }, { key: fresh })), "ok");
        ok(jwksFetches > before, "the JWKS was fetched again for the unknown kid");
        await new Promise((r) => setTimeout(r, 1_100));
        equal(
          await stsCode(await token({ policy: "readonly" }, { key: old })),
          "InvalidIdentityTokenException",
        );
      },
    );
  } finally {
    sts.destroy();
    root.destroy();
    equal(await server.stop(), 0);
    await idp.shutdown();
  }
});
