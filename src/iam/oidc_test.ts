import assert from "node:assert/strict";
import { OidcProvider, OpenIdConfigError, openIdConfigsFromEnv, openIdRoleArn } from "./oidc.ts";

const URL_A = "http://127.0.0.1:1/.well-known/openid-configuration";
const URL_B = "http://127.0.0.1:2/.well-known/openid-configuration";

Deno.test("a role ARN is MinIO's: base64url of the SHA-1 of the client id", () => {
  // Known answers from Python: base64.urlsafe_b64encode(hashlib.sha1(id).digest()).rstrip(b"=")
  assert.equal(openIdRoleArn("shale-app"), "arn:minio:iam:::role/zeRRiU-M4ublZG2r0jC4faMZ1HQ");
  assert.equal(openIdRoleArn("minio"), "arn:minio:iam:::role/MHR2BeH2-q1dHO2yx5U9Mf-tP9Q");
});

Deno.test("only a provider with a role policy has a role ARN", () => {
  const claim = new OidcProvider({ configUrl: URL_A, clientId: "a" });
  const role = new OidcProvider({ configUrl: URL_A, clientId: "a", rolePolicy: "readonly" });
  assert.equal(claim.roleArn, undefined);
  assert.equal(role.roleArn, openIdRoleArn("a"));
});

Deno.test("reads the unsuffixed provider and suffixed ones, SHALE_ before MINIO_", () => {
  const configs = openIdConfigsFromEnv({
    MINIO_IDENTITY_OPENID_CONFIG_URL_JOBS: URL_B,
    MINIO_IDENTITY_OPENID_CLIENT_ID_JOBS: "jobs",
    MINIO_IDENTITY_OPENID_ROLE_POLICY_JOBS: "readwrite,diagnostics",
    SHALE_IDENTITY_OPENID_CONFIG_URL: URL_A,
    MINIO_IDENTITY_OPENID_CONFIG_URL: "http://ignored",
    SHALE_IDENTITY_OPENID_CLIENT_ID: "app",
    SHALE_IDENTITY_OPENID_CLAIM_NAME: "groups",
    SHALE_IDENTITY_OPENID_CONFIG_URL_OFF: URL_B,
    SHALE_IDENTITY_OPENID_CLIENT_ID_OFF: "off",
    SHALE_IDENTITY_OPENID_ENABLE_OFF: "off",
    UNRELATED: "x",
  });
  assert.deepEqual(configs, [
    { name: "_", configUrl: URL_A, clientId: "app", claimName: "groups" },
    { name: "JOBS", configUrl: URL_B, clientId: "jobs", rolePolicy: "readwrite,diagnostics" },
  ]);
  assert.deepEqual(openIdConfigsFromEnv({ SHALE_IDENTITY_OPENID_CONFIG_URL: "" }), []);
});

Deno.test("refuses OpenID settings MinIO refuses", () => {
  const refused = (env: Record<string, string>, message: RegExp) =>
    assert.throws(() => openIdConfigsFromEnv(env), (e) => {
      assert.ok(e instanceof OpenIdConfigError);
      assert.match(e.message, message);
      return true;
    });
  refused(
    { SHALE_IDENTITY_OPENID_CONFIG_URL: URL_A, SHALE_IDENTITY_OPENID_ROLE_POLICY: "readonly" },
    /IDENTITY_OPENID_ROLE_POLICY needs IDENTITY_OPENID_CLIENT_ID/,
  );
  refused(
    {
      SHALE_IDENTITY_OPENID_CONFIG_URL: URL_A,
      SHALE_IDENTITY_OPENID_CLIENT_ID: "a",
      SHALE_IDENTITY_OPENID_ROLE_POLICY: "readonly",
      SHALE_IDENTITY_OPENID_CLAIM_NAME: "groups",
    },
    /ROLE_POLICY and IDENTITY_OPENID_CLAIM_NAME cannot both be set/,
  );
  refused(
    {
      SHALE_IDENTITY_OPENID_CONFIG_URL: URL_A,
      SHALE_IDENTITY_OPENID_CLIENT_ID: "a",
      SHALE_IDENTITY_OPENID_ROLE_POLICY: "readonly",
      SHALE_IDENTITY_OPENID_CONFIG_URL_2: URL_B,
      SHALE_IDENTITY_OPENID_CLIENT_ID_2: "a",
      SHALE_IDENTITY_OPENID_ROLE_POLICY_2: "readwrite",
    },
    /client id "a" is used by another provider/,
  );
  refused(
    {
      SHALE_IDENTITY_OPENID_CONFIG_URL: URL_A,
      SHALE_IDENTITY_OPENID_CLIENT_ID: "a",
      SHALE_IDENTITY_OPENID_CONFIG_URL_2: URL_B,
      SHALE_IDENTITY_OPENID_CLIENT_ID_2: "b",
    },
    /"_" and "2" both map claims to policies/,
  );
  // CLAIM_NAME "policy" is the default, so it may go with a role policy (as MinIO).
  assert.equal(
    openIdConfigsFromEnv({
      SHALE_IDENTITY_OPENID_CONFIG_URL: URL_A,
      SHALE_IDENTITY_OPENID_CLIENT_ID: "a",
      SHALE_IDENTITY_OPENID_ROLE_POLICY: "readonly",
      SHALE_IDENTITY_OPENID_CLAIM_NAME: "policy",
    }).length,
    1,
  );
});
