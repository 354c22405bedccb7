/**
 * End to end: AssumeRoleWithWebIdentity with @aws-sdk/client-sts against an OpenID provider
 * written with jose inside this test (discovery document and JWKS on loopback), then the session
 * used with @aws-sdk/client-s3. Covers expiry, audience, issuer, not-before, key rotation,
 * `alg: none` and HMAC signed with the public key; role ARNs per provider (ROLE_POLICY, suffixed
 * variables for several providers) and a policy claim other than `policy` (CLAIM_NAME).
 */
import { equal, match, ok } from "node:assert/strict";
import {
  AssumeRoleWithWebIdentityCommand,
  STSClient,
  STSServiceException,
} from "@aws-sdk/client-sts";
import {
  CreateBucketCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import { exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import { openIdRoleArn } from "../src/iam/oidc.ts";
import { startServer, type TestServer } from "./_server.ts";
import { bodyBytes, clientFor, errorCode } from "./_s3.ts";

const CLIENT_ID = "shale-app";
const BUCKET = "oidc";

async function newKey(kid: string) {
  const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: "RS256", use: "sig" };
  return { kid, privateKey, jwk };
}

type Key = Awaited<ReturnType<typeof newKey>>;

/** A minimal OpenID provider on loopback: discovery document, JWKS, and tokens it signs. */
type Idp = Awaited<ReturnType<typeof startIdp>>;

async function startIdp() {
  const keys = [await newKey("k1")];
  const idp = {
    keys,
    jwksFetches: 0,
    issuer: "",
    configUrl: "",
    token: async (
      claims: Record<string, unknown>,
      opts: { key?: Key; aud?: string; expiresIn?: string; iss?: string; notBefore?: string } = {},
    ) => {
      const key = opts.key ?? keys[0]!;
      const jwt = new SignJWT(claims)
        .setProtectedHeader({ alg: "RS256", kid: key.kid })
        .setIssuer(opts.iss ?? idp.issuer)
        .setSubject("dana@example.com")
        .setAudience(opts.aud ?? CLIENT_ID)
        .setIssuedAt()
        .setExpirationTime(opts.expiresIn ?? "10m");
      if (opts.notBefore !== undefined) jwt.setNotBefore(opts.notBefore);
      return await jwt.sign(key.privateKey);
    },
    shutdown: () => server.shutdown(),
  };
  const server: Deno.HttpServer<Deno.NetAddr> = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: () => {},
  }, (req: Request): Response => {
    const path = new URL(req.url).pathname;
    if (path === "/.well-known/openid-configuration") {
      return Response.json({ issuer: idp.issuer, jwks_uri: `${idp.issuer}/jwks` });
    }
    if (path === "/jwks") {
      idp.jwksFetches++;
      return Response.json({ keys: keys.map((k) => k.jwk) });
    }
    return new Response(null, { status: 404 });
  });
  idp.issuer = `http://127.0.0.1:${server.addr.port}`;
  idp.configUrl = `${idp.issuer}/.well-known/openid-configuration`;
  return idp;
}

/** AssumeRoleWithWebIdentity by hand (unsigned, as STS clients send it): status and error code. */
async function webIdentity(
  server: TestServer,
  params: Record<string, string>,
): Promise<{ status: number; code?: string; credentials?: Record<string, string> }> {
  const r = await fetch(`${server.endpoint}/`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      Action: "AssumeRoleWithWebIdentity",
      Version: "2011-06-15",
      ...params,
    }),
  });
  const text = await r.text();
  const tag = (name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(text)?.[1];
  if (r.status !== 200) return { status: r.status, code: tag("Code") ?? text };
  return {
    status: r.status,
    credentials: {
      accessKeyId: tag("AccessKeyId")!,
      secretAccessKey: tag("SecretAccessKey")!,
      sessionToken: tag("SessionToken")!,
    },
  };
}

/** What a session may do in BUCKET: GET of "k" and PUT of a new key, each "ok" or the code. */
async function sessionCan(
  server: TestServer,
  credentials: Record<string, string>,
): Promise<{ get: string; put: string }> {
  const s3 = clientFor(server, {
    credentials: {
      accessKeyId: credentials.accessKeyId!,
      secretAccessKey: credentials.secretAccessKey!,
      sessionToken: credentials.sessionToken!,
    },
  });
  const outcome = async (p: Promise<unknown>) => {
    try {
      await p;
      return "ok";
    } catch (e) {
      if (e instanceof S3ServiceException) return e.name;
      throw e;
    }
  };
  try {
    return {
      get: await outcome(
        s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "k" })).then((o) => bodyBytes(o.Body)),
      ),
      put: await outcome(
        s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: "new", Body: "n" })),
      ),
    };
  } finally {
    s3.destroy();
  }
}

Deno.test("AssumeRoleWithWebIdentity: OpenID tokens become sessions, bad tokens are refused", async (t) => {
  const idp = await startIdp();
  const { keys, issuer, token } = idp;

  const server = await startServer({
    drives: 4,
    env: {
      SHALE_IDENTITY_OPENID_CONFIG_URL: idp.configUrl,
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

    await t.step(
      "expired, not-yet-valid, wrong-audience, wrong-issuer and policy-less tokens are refused",
      async () => {
        equal(
          await stsCode(await token({ policy: "readonly" }, { expiresIn: "-1m" })),
          "InvalidIdentityTokenException",
        );
        equal(
          await stsCode(await token({ policy: "readonly" }, { notBefore: "5m" })),
          "InvalidIdentityTokenException",
        );
        equal(
          await stsCode(await token({ policy: "readonly" }, { aud: "another-app" })),
          "InvalidIdentityTokenException",
        );
        // Signed by the provider's own key, but naming another issuer.
        equal(
          await stsCode(await token({ policy: "readonly" }, { iss: "https://idp.example.com" })),
          "InvalidIdentityTokenException",
        );
        equal(await stsCode(await token({ policy: "readonly" }, { notBefore: "-1m" })), "ok");
        equal(await stsCode(await token({})), "AccessDenied");
        equal(await stsCode("not-a-jwt"), "InvalidIdentityTokenException");
      },
    );

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
        const before = idp.jwksFetches;
        equal(await stsCode(await token({ policy: "readonly" }, { key: fresh })), "ok");
        ok(idp.jwksFetches > before, "the JWKS was fetched again for the unknown kid");
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

/**
 * A local OpenID provider and a server configured by `env(idp)`, with BUCKET holding "k"; `run`
 * gets both, and everything is stopped afterwards.
 */
async function withOpenIdServer(
  env: (idp: Idp) => Record<string, string>,
  run: (idp: Idp, server: TestServer) => Promise<void>,
): Promise<void> {
  const idp = await startIdp();
  const server = await startServer({ drives: 4, env: env(idp) });
  const root = clientFor(server);
  try {
    await root.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await root.send(new PutObjectCommand({ Bucket: BUCKET, Key: "k", Body: "v" }));
    await run(idp, server);
  } finally {
    root.destroy();
    equal(await server.stop(), 0);
    await idp.shutdown();
  }
}

Deno.test("ROLE_POLICY: each provider has a role ARN, RoleArn picks it and its policies apply", async (t) => {
  const JOBS = "shale-jobs";
  const appRole = openIdRoleArn(CLIENT_ID);
  const jobsRole = openIdRoleArn(JOBS);
  // Two providers (the unsuffixed one and MinIO's suffixed variables, MINIO_ prefix), both roles:
  // no provider maps claims, so a RoleArn that names neither role is refused.
  await withOpenIdServer((idp) => ({
    SHALE_IDENTITY_OPENID_CONFIG_URL: idp.configUrl,
    SHALE_IDENTITY_OPENID_CLIENT_ID: CLIENT_ID,
    SHALE_IDENTITY_OPENID_ROLE_POLICY: "readonly",
    MINIO_IDENTITY_OPENID_CONFIG_URL_JOBS: idp.configUrl,
    MINIO_IDENTITY_OPENID_CLIENT_ID_JOBS: JOBS,
    MINIO_IDENTITY_OPENID_ROLE_POLICY_JOBS: "readwrite",
  }), async (idp, server) => {
    await t.step("the start-up log names each role ARN", () => {
      match(
        server.output(),
        new RegExp(`^RoleARN: ${appRole} \\(OpenID "_", policies readonly\\)$`, "m"),
      );
      match(
        server.output(),
        new RegExp(`^RoleARN: ${jobsRole} \\(OpenID "JOBS", policies readwrite\\)$`, "m"),
      );
    });

    await t.step("the right RoleArn gives the role's policies, not the token's claim", async () => {
      const sts = new STSClient({
        endpoint: server.endpoint,
        region: server.region,
        credentials: { accessKeyId: "unused", secretAccessKey: "unused" },
      });
      try {
        const out = await sts.send(
          new AssumeRoleWithWebIdentityCommand({
            RoleArn: appRole,
            RoleSessionName: "dana",
            WebIdentityToken: await idp.token({ policy: "readwrite" }),
          }),
        );
        const c = out.Credentials!;
        const can = await sessionCan(server, {
          accessKeyId: c.AccessKeyId!,
          secretAccessKey: c.SecretAccessKey!,
          sessionToken: c.SessionToken!,
        });
        equal(JSON.stringify(can), JSON.stringify({ get: "ok", put: "AccessDenied" }));
      } finally {
        sts.destroy();
      }
      const jobs = await webIdentity(server, {
        RoleArn: jobsRole,
        WebIdentityToken: await idp.token({}, { aud: JOBS }),
      });
      equal(jobs.status, 200, jobs.code);
      equal(
        JSON.stringify(await sessionCan(server, jobs.credentials!)),
        JSON.stringify({ get: "ok", put: "ok" }),
      );
    });

    await t.step(
      "a wrong or missing RoleArn is refused (400 InvalidParameterValue, as MinIO)",
      async () => {
        const good = await idp.token({ policy: "readonly" });
        for (
          const roleArn of [
            "arn:aws:iam::000000000000:role/any",
            `${appRole}x`,
            "arn:minio:iam:::role/x",
          ]
        ) {
          const r = await webIdentity(server, { RoleArn: roleArn, WebIdentityToken: good });
          equal(`${r.status} ${r.code}`, "400 InvalidParameterValue", roleArn);
        }
        const none = await webIdentity(server, { WebIdentityToken: good });
        equal(`${none.status} ${none.code}`, "400 InvalidParameterValue");
      },
    );

    await t.step("a token must be for the client id of the role it names", async () => {
      // A token for shale-app cannot take the jobs role (its audience is another client).
      const r = await webIdentity(server, {
        RoleArn: jobsRole,
        WebIdentityToken: await idp.token({}),
      });
      equal(`${r.status} ${r.code}`, "400 InvalidIdentityToken");
    });
  });
});

Deno.test("CLAIM_NAME: policies come from the named claim; a role provider may sit beside it", async (t) => {
  const JOBS = "shale-jobs";
  const anyRole = "arn:aws:iam::000000000000:role/any";
  await withOpenIdServer((idp) => ({
    SHALE_IDENTITY_OPENID_CONFIG_URL: idp.configUrl,
    SHALE_IDENTITY_OPENID_CLIENT_ID: CLIENT_ID,
    SHALE_IDENTITY_OPENID_CLAIM_NAME: "shale_policies",
    SHALE_IDENTITY_OPENID_CONFIG_URL_JOBS: idp.configUrl,
    SHALE_IDENTITY_OPENID_CLIENT_ID_JOBS: JOBS,
    SHALE_IDENTITY_OPENID_ROLE_POLICY_JOBS: "readonly",
    // A role whose first policy does not exist: named at start-up, the others work.
    SHALE_IDENTITY_OPENID_CONFIG_URL_GHOST: idp.configUrl,
    SHALE_IDENTITY_OPENID_CLIENT_ID_GHOST: "shale-ghost",
    SHALE_IDENTITY_OPENID_ROLE_POLICY_GHOST: "no-such-policy,readonly",
  }), async (idp, server) => {
    await t.step("a role policy the server does not have is named at start-up", () => {
      const warned = server.output().split("\n").filter((l) =>
        l.includes('"message":"An OpenID role policy does not exist on this server"')
      ).map((l) => JSON.parse(l));
      equal(
        JSON.stringify(warned.map((w) => [w.provider, w.policy])),
        '[["GHOST","no-such-policy"]]',
      );
    });

    await t.step("the named claim (a list) maps to policies; `policy` is not read", async () => {
      const r = await webIdentity(server, {
        RoleArn: anyRole,
        WebIdentityToken: await idp.token({ shale_policies: ["readwrite"], policy: "readonly" }),
      });
      equal(r.status, 200, r.code);
      equal(
        JSON.stringify(await sessionCan(server, r.credentials!)),
        JSON.stringify({ get: "ok", put: "ok" }),
      );
      const only = await webIdentity(server, {
        RoleArn: anyRole,
        WebIdentityToken: await idp.token({ policy: "readwrite" }),
      });
      equal(`${only.status} ${only.code}`, "403 AccessDenied");
    });

    await t.step(
      "without a RoleArn the claim-based provider answers, as MinIO",
      async () => {
        const r = await webIdentity(server, {
          WebIdentityToken: await idp.token({ shale_policies: "readonly" }),
        });
        equal(r.status, 200, r.code);
        equal(
          JSON.stringify(await sessionCan(server, r.credentials!)),
          JSON.stringify({ get: "ok", put: "AccessDenied" }),
        );
      },
    );

    await t.step("the role's ARN picks the role provider beside it", async () => {
      const r = await webIdentity(server, {
        RoleArn: openIdRoleArn(JOBS),
        WebIdentityToken: await idp.token({ shale_policies: "readwrite" }, { aud: JOBS }),
      });
      equal(r.status, 200, r.code);
      equal(
        JSON.stringify(await sessionCan(server, r.credentials!)),
        JSON.stringify({ get: "ok", put: "AccessDenied" }),
      );
    });
  });
});
