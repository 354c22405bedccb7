import assert from "node:assert/strict";
import {
  type AuthzRequest,
  evaluatePolicies,
  ipInCidr,
  isPublicPolicy,
  MalformedPolicy,
  parsePolicy,
  type Policy,
  wildcardMatch,
} from "./policy.ts";
import { CANNED_POLICY_NAMES, cannedPolicy } from "./canned.ts";

const identity = (doc: unknown): Policy => parsePolicy(JSON.stringify(doc), { kind: "identity" });
const bucketPolicy = (doc: unknown, bucket = "examplebucket"): Policy =>
  parsePolicy(JSON.stringify(doc), { kind: "bucket", bucket });

function req(
  action: string,
  resource: string,
  context: Record<string, string[]> = {},
  principal?: AuthzRequest["principal"],
): AuthzRequest {
  return { action, resource, context, ...(principal !== undefined ? { principal } : {}) };
}

const ALICE = { username: "alice", accessKey: "AKALICE" };

Deno.test("wildcards: * spans any run, ? one character, actions ignore case", () => {
  const cases: [string, string, boolean, boolean][] = [
    ["s3:Get*", "s3:GetObject", true, true],
    ["s3:get*", "s3:GetObject", true, true],
    ["s3:get*", "s3:GetObject", false, false],
    ["arn:aws:s3:::b/*", "arn:aws:s3:::b/a/b/c", false, true],
    ["arn:aws:s3:::b/*", "arn:aws:s3:::b", false, false],
    ["arn:aws:s3:::b/a?c", "arn:aws:s3:::b/abc", false, true],
    ["arn:aws:s3:::b/a?c", "arn:aws:s3:::b/ac", false, false],
    ["*ab", "aab", false, true],
    ["*aa", "aaa", false, true],
    ["a*b*c", "axxbyyc", false, true],
    ["a*b*c", "axxbyy", false, false],
    ["", "", false, true],
    ["*", "", false, true],
  ];
  for (const [pattern, text, ignoreCase, want] of cases) {
    assert.equal(wildcardMatch(pattern, text, ignoreCase), want, `${pattern} ~ ${text}`);
  }
});

Deno.test("malformed policies are refused with AWS's wording", () => {
  const cases: [string, string][] = [
    ["[]", "Policies must be valid JSON and the first byte must be '{'"],
    ["{", "This policy contains invalid Json"],
    [`{"Version":"2012-10-17"}`, "Missing required field Statement"],
    [`{"Version":"2011-01-01","Statement":[]}`, "The policy must contain a valid version string"],
    [`{"Version":"2012-10-17","Statement":[],"Foo":1}`, "Unknown field Foo"],
    [
      `{"Version":"2012-10-17","Statement":[{"Effect":"Maybe","Action":"s3:GetObject","Resource":"*"}]}`,
      "Invalid effect: Maybe",
    ],
    [
      `{"Version":"2012-10-17","Statement":[{"Action":"s3:GetObject","Resource":"*"}]}`,
      "Missing required field Effect",
    ],
    [
      `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Resource":"*"}]}`,
      "Missing required field Action",
    ],
    [
      `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject"}]}`,
      "Missing required field Resource",
    ],
    [
      `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:FlyToTheMoon","Resource":"*"}]}`,
      "Policy has invalid action",
    ],
    [
      `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:Fly*","Resource":"*"}]}`,
      "Policy has invalid action",
    ],
    [
      `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:RunInstances","Resource":"*"}]}`,
      "Policy has invalid action",
    ],
    [
      `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"bucket/*"}]}`,
      "Policy has invalid resource",
    ],
    [
      `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringSortOf":{"s3:prefix":"a"}}}]}`,
      "Invalid Condition type : StringSortOf",
    ],
    [
      `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"NullIfExists":{"s3:prefix":"true"}}}]}`,
      "Invalid Condition type : NullIfExists",
    ],
    [
      `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"s3:favouriteColour":"red"}}}]}`,
      "Policy has an invalid condition key: s3:favouriteColour",
    ],
    [
      `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/33"}}}]}`,
      "Invalid Condition value for IpAddress aws:SourceIp: 10.0.0.0/33",
    ],
    [
      `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"NumericLessThan":{"s3:max-keys":"ten"}}}]}`,
      "Invalid Condition value for NumericLessThan s3:max-keys: ten",
    ],
    [
      `{"Version":"2012-10-17","Statement":[{"Sid":"a","Effect":"Allow","Action":"s3:GetObject","Resource":"*"},{"Sid":"a","Effect":"Deny","Action":"s3:GetObject","Resource":"*"}]}`,
      "Statement IDs (SID) in a single policy must be unique",
    ],
    [
      `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}]}`,
      "Policy document should not specify a principal.",
    ],
  ];
  for (const [json, message] of cases) {
    assert.throws(
      () => parsePolicy(json, { kind: "identity" }),
      (e: unknown) => e instanceof MalformedPolicy && e.message === message,
      `${json} -> ${message}`,
    );
  }
});

Deno.test("bucket policies need a principal and may only name their own bucket", () => {
  const cases: [unknown, string][] = [
    [
      { Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::b/*" }] },
      "Missing required field Principal",
    ],
    [
      {
        Statement: [{
          Effect: "Allow",
          Principal: { CanonicalUser: "x" },
          Action: "s3:GetObject",
          Resource: "arn:aws:s3:::b/*",
        }],
      },
      "Invalid principal in policy",
    ],
    [
      {
        Statement: [{
          Effect: "Allow",
          Principal: "*",
          Action: "s3:GetObject",
          Resource: "arn:aws:s3:::other/*",
        }],
      },
      "Policy has invalid resource",
    ],
    [
      {
        Statement: [{
          Effect: "Allow",
          Principal: "*",
          Action: "s3:GetObject",
          Resource: "arn:aws:s3:::b",
        }],
      },
      "Action does not apply to any resource(s) in statement",
    ],
    [
      {
        Statement: [{
          Effect: "Allow",
          Principal: "*",
          Action: "admin:ServerInfo",
          Resource: "arn:aws:s3:::b",
        }],
      },
      "Policy has invalid action",
    ],
  ];
  for (const [doc, message] of cases) {
    assert.throws(
      () => bucketPolicy(doc, "b"),
      (e: unknown) => e instanceof MalformedPolicy && e.message === message,
      message,
    );
  }
});

Deno.test("explicit deny wins over allow, allow over the implicit deny", () => {
  const allowAll = identity({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Action: "s3:*", Resource: "arn:aws:s3:::*" }],
  });
  const denySecret = identity({
    Version: "2012-10-17",
    Statement: [{ Effect: "Deny", Action: "s3:*", Resource: "arn:aws:s3:::b/secret/*" }],
  });
  const get = (key: string) => req("s3:GetObject", `arn:aws:s3:::b/${key}`);
  assert.equal(evaluatePolicies([allowAll, denySecret], get("public/x")), "Allow");
  assert.equal(evaluatePolicies([allowAll, denySecret], get("secret/x")), "Deny");
  assert.equal(evaluatePolicies([denySecret, allowAll], get("secret/x")), "Deny");
  assert.equal(evaluatePolicies([denySecret], get("public/x")), "ImplicitDeny");
  assert.equal(evaluatePolicies([], get("public/x")), "ImplicitDeny");
});

Deno.test("NotAction and NotResource match everything except what they name", () => {
  // AWS docs: "Allow all S3 actions except deleting" and "deny everything outside a bucket".
  const p = identity({
    Version: "2012-10-17",
    Statement: [
      { Effect: "Allow", NotAction: "s3:Delete*", Resource: "arn:aws:s3:::*" },
      { Effect: "Deny", Action: "s3:*", NotResource: ["arn:aws:s3:::b", "arn:aws:s3:::b/*"] },
    ],
  });
  assert.equal(evaluatePolicies([p], req("s3:PutObject", "arn:aws:s3:::b/k")), "Allow");
  assert.equal(evaluatePolicies([p], req("s3:DeleteObject", "arn:aws:s3:::b/k")), "ImplicitDeny");
  assert.equal(evaluatePolicies([p], req("s3:GetObject", "arn:aws:s3:::c/k")), "Deny");
  assert.equal(evaluatePolicies([p], req("s3:ListBucket", "arn:aws:s3:::b")), "Allow");
});

Deno.test("${aws:username} scopes a user to their home prefix (AWS docs example)", () => {
  const p = identity({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Action: "s3:ListBucket",
        Resource: "arn:aws:s3:::home",
        Condition: { StringLike: { "s3:prefix": ["${aws:username}/*", "${aws:username}"] } },
      },
      { Effect: "Allow", Action: "s3:*Object", Resource: "arn:aws:s3:::home/${aws:username}/*" },
    ],
  });
  const ctx = { "aws:username": ["alice"] };
  const list = (prefix: string) =>
    evaluatePolicies(
      [p],
      req("s3:ListBucket", "arn:aws:s3:::home", { ...ctx, "s3:prefix": [prefix] }),
    );
  assert.equal(list("alice/"), "Allow");
  assert.equal(list("alice"), "Allow");
  assert.equal(list("bob/"), "ImplicitDeny");
  assert.equal(
    evaluatePolicies([p], req("s3:ListBucket", "arn:aws:s3:::home", ctx)),
    "ImplicitDeny",
    "no prefix: the StringLike key is missing",
  );
  assert.equal(
    evaluatePolicies([p], req("s3:PutObject", "arn:aws:s3:::home/alice/f", ctx)),
    "Allow",
  );
  assert.equal(
    evaluatePolicies([p], req("s3:PutObject", "arn:aws:s3:::home/bob/f", ctx)),
    "ImplicitDeny",
  );
  assert.equal(
    evaluatePolicies([p], req("s3:PutObject", "arn:aws:s3:::home/alice/f", {})),
    "ImplicitDeny",
    "an undefined variable matches nothing",
  );
});

Deno.test("${*}, ${?} and ${$} are literal characters, never wildcards", () => {
  const p = identity({
    Version: "2012-10-17",
    Statement: [{
      Effect: "Allow",
      Action: "s3:GetObject",
      Resource: "arn:aws:s3:::b/a${*}${?}${$}",
    }],
  });
  const get = (key: string) =>
    evaluatePolicies([p], req("s3:GetObject", `arn:aws:s3:::b/${key}`, {}));
  assert.equal(get("a*?$"), "Allow");
  assert.equal(get("abc$"), "ImplicitDeny");
});

Deno.test("a variable's value is literal too: a user named * gets only their own prefix", () => {
  const p = identity({
    Version: "2012-10-17",
    Statement: [{
      Effect: "Allow",
      Action: "s3:GetObject",
      Resource: "arn:aws:s3:::b/${aws:username}/*",
    }],
  });
  const ctx = { "aws:username": ["*"] };
  assert.equal(evaluatePolicies([p], req("s3:GetObject", "arn:aws:s3:::b/*/x", ctx)), "Allow");
  assert.equal(
    evaluatePolicies([p], req("s3:GetObject", "arn:aws:s3:::b/bob/x", ctx)),
    "ImplicitDeny",
  );
});

Deno.test("condition operators follow AWS's table", () => {
  type Case = [string, string, string | string[], Record<string, string[]>, boolean];
  const cases: Case[] = [
    ["StringEquals", "s3:prefix", "home/", { "s3:prefix": ["home/"] }, true],
    ["StringEquals", "s3:prefix", "home/", { "s3:prefix": ["Home/"] }, false],
    ["StringEquals", "s3:prefix", "h*", { "s3:prefix": ["home/"] }, false],
    ["StringEquals", "s3:prefix", ["a", "home/"], { "s3:prefix": ["home/"] }, true],
    ["StringEquals", "s3:prefix", "home/", {}, false],
    ["StringEqualsIfExists", "s3:prefix", "home/", {}, true],
    ["StringEqualsIfExists", "s3:prefix", "home/", { "s3:prefix": ["x"] }, false],
    ["StringNotEquals", "s3:prefix", ["a", "b"], { "s3:prefix": ["c"] }, true],
    ["StringNotEquals", "s3:prefix", ["a", "b"], { "s3:prefix": ["b"] }, false],
    ["StringNotEquals", "s3:prefix", "a", {}, true],
    ["StringEqualsIgnoreCase", "s3:prefix", "HOME/", { "s3:prefix": ["home/"] }, true],
    ["StringNotEqualsIgnoreCase", "s3:prefix", "HOME/", { "s3:prefix": ["home/"] }, false],
    ["StringLike", "s3:prefix", "home/*", { "s3:prefix": ["home/a/b"] }, true],
    ["StringLike", "s3:prefix", "home/?", { "s3:prefix": ["home/ab"] }, false],
    ["StringNotLike", "s3:prefix", "home/*", { "s3:prefix": ["work/a"] }, true],
    ["StringNotLike", "s3:prefix", "home/*", { "s3:prefix": ["home/a"] }, false],
    ["NumericLessThanEquals", "s3:max-keys", "10", { "s3:max-keys": ["10"] }, true],
    ["NumericLessThanEquals", "s3:max-keys", "10", { "s3:max-keys": ["11"] }, false],
    ["NumericLessThan", "s3:max-keys", "10", { "s3:max-keys": ["9"] }, true],
    ["NumericGreaterThan", "s3:max-keys", "10", { "s3:max-keys": ["9"] }, false],
    ["NumericGreaterThanEquals", "s3:max-keys", "10", { "s3:max-keys": ["10"] }, true],
    ["NumericEquals", "s3:max-keys", "10", { "s3:max-keys": ["abc"] }, false],
    ["NumericNotEquals", "s3:max-keys", "10", { "s3:max-keys": ["11"] }, true],
    [
      "DateLessThan",
      "aws:CurrentTime",
      "2030-01-01T00:00:00Z",
      { "aws:CurrentTime": ["2026-11-25T12:00:00Z"] },
      true,
    ],
    [
      "DateGreaterThan",
      "aws:CurrentTime",
      "2030-01-01T00:00:00Z",
      { "aws:CurrentTime": ["2026-11-25T12:00:00Z"] },
      false,
    ],
    [
      "DateGreaterThanEquals",
      "aws:EpochTime",
      "1700000000",
      { "aws:EpochTime": ["1800000000"] },
      true,
    ],
    [
      "DateEquals",
      "aws:CurrentTime",
      "2026-11-25",
      { "aws:CurrentTime": ["2026-11-25T00:00:00Z"] },
      true,
    ],
    ["Bool", "aws:SecureTransport", "false", { "aws:SecureTransport": ["false"] }, true],
    ["Bool", "aws:SecureTransport", "false", { "aws:SecureTransport": ["true"] }, false],
    ["Bool", "aws:SecureTransport", "true", {}, false],
    ["IpAddress", "aws:SourceIp", "192.0.2.0/24", { "aws:SourceIp": ["192.0.2.7"] }, true],
    ["IpAddress", "aws:SourceIp", "192.0.2.0/24", { "aws:SourceIp": ["192.0.3.7"] }, false],
    ["IpAddress", "aws:SourceIp", "203.0.113.5", { "aws:SourceIp": ["203.0.113.5"] }, true],
    ["NotIpAddress", "aws:SourceIp", "192.0.2.0/24", { "aws:SourceIp": ["10.1.2.3"] }, true],
    ["NotIpAddress", "aws:SourceIp", "192.0.2.0/24", { "aws:SourceIp": ["192.0.2.1"] }, false],
    ["IpAddress", "aws:SourceIp", "2001:db8::/32", { "aws:SourceIp": ["2001:db8:1::5"] }, true],
    ["IpAddress", "aws:SourceIp", "2001:db8::/32", { "aws:SourceIp": ["2001:db9::5"] }, false],
    ["IpAddress", "aws:SourceIp", "127.0.0.0/8", { "aws:SourceIp": ["::ffff:127.0.0.1"] }, true],
    ["Null", "s3:x-amz-server-side-encryption", "true", {}, true],
    [
      "Null",
      "s3:x-amz-server-side-encryption",
      "true",
      { "s3:x-amz-server-side-encryption": ["AES256"] },
      false,
    ],
    [
      "Null",
      "s3:x-amz-server-side-encryption",
      "false",
      { "s3:x-amz-server-side-encryption": ["AES256"] },
      true,
    ],
    [
      "ArnLike",
      "aws:PrincipalArn",
      "arn:aws:iam::*:user/a*",
      { "aws:PrincipalArn": ["arn:aws:iam::1:user/alice"] },
      true,
    ],
    [
      "ArnNotLike",
      "aws:PrincipalArn",
      "arn:aws:iam::*:user/a*",
      { "aws:PrincipalArn": ["arn:aws:iam::1:user/bob"] },
      true,
    ],
    // Condition keys are case-insensitive.
    ["StringEquals", "S3:Prefix", "x", { "s3:prefix": ["x"] }, true],
    // Policy variables in condition values.
    ["StringLike", "s3:prefix", "${aws:username}/*", {
      "s3:prefix": ["alice/x"],
      "aws:username": ["alice"],
    }, true],
    ["StringEquals", "s3:prefix", "${aws:username}", {
      "s3:prefix": ["bob"],
      "aws:username": ["alice"],
    }, false],
    // Multi-valued keys.
    [
      "ForAnyValue:StringEquals",
      "s3:RequestObjectTagKeys",
      ["project", "team"],
      { "s3:RequestObjectTagKeys": ["color", "team"] },
      true,
    ],
    [
      "ForAnyValue:StringEquals",
      "s3:RequestObjectTagKeys",
      ["project", "team"],
      { "s3:RequestObjectTagKeys": ["color"] },
      false,
    ],
    ["ForAnyValue:StringEquals", "s3:RequestObjectTagKeys", "team", {}, false],
    [
      "ForAllValues:StringEquals",
      "s3:RequestObjectTagKeys",
      ["project", "team"],
      { "s3:RequestObjectTagKeys": ["project", "team"] },
      true,
    ],
    [
      "ForAllValues:StringEquals",
      "s3:RequestObjectTagKeys",
      ["project", "team"],
      { "s3:RequestObjectTagKeys": ["project", "color"] },
      false,
    ],
    ["ForAllValues:StringEquals", "s3:RequestObjectTagKeys", "team", {}, true],
    [
      "ForAllValues:StringNotEquals",
      "s3:RequestObjectTagKeys",
      "secret",
      { "s3:RequestObjectTagKeys": ["a", "b"] },
      true,
    ],
    [
      "StringEquals",
      "s3:ExistingObjectTag/classification",
      "public",
      { "s3:ExistingObjectTag/classification": ["public"] },
      true,
    ],
  ];
  for (const [operator, key, values, context, want] of cases) {
    const p = identity({
      Version: "2012-10-17",
      Statement: [{
        Effect: "Allow",
        Action: "s3:*",
        Resource: "*",
        Condition: { [operator]: { [key]: values } },
      }],
    });
    const got = evaluatePolicies([p], req("s3:GetObject", "arn:aws:s3:::b/k", context));
    assert.equal(
      got,
      want ? "Allow" : "ImplicitDeny",
      `${operator} ${key} ${JSON.stringify(values)} vs ${JSON.stringify(context)}`,
    );
  }
});

Deno.test("several operators and keys in one Condition must all hold", () => {
  const p = identity({
    Version: "2012-10-17",
    Statement: [{
      Effect: "Allow",
      Action: "s3:ListBucket",
      Resource: "arn:aws:s3:::b",
      Condition: {
        StringEquals: { "s3:prefix": "docs/", "s3:delimiter": "/" },
        NumericLessThanEquals: { "s3:max-keys": "100" },
      },
    }],
  });
  const list = (ctx: Record<string, string[]>) =>
    evaluatePolicies([p], req("s3:ListBucket", "arn:aws:s3:::b", ctx));
  assert.equal(
    list({ "s3:prefix": ["docs/"], "s3:delimiter": ["/"], "s3:max-keys": ["50"] }),
    "Allow",
  );
  assert.equal(
    list({ "s3:prefix": ["docs/"], "s3:delimiter": ["/"], "s3:max-keys": ["500"] }),
    "ImplicitDeny",
  );
  assert.equal(list({ "s3:prefix": ["docs/"], "s3:max-keys": ["50"] }), "ImplicitDeny");
});

Deno.test("bucket policy principals: *, user names, access keys and user ARNs", () => {
  const p = bucketPolicy({
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "PublicRead",
        Effect: "Allow",
        Principal: "*",
        Action: ["s3:GetObject"],
        Resource: "arn:aws:s3:::examplebucket/*",
      },
      {
        Effect: "Allow",
        Principal: { AWS: ["arn:aws:iam::123456789012:user/alice", "AKBOB"] },
        Action: "s3:PutObject",
        Resource: "arn:aws:s3:::examplebucket/*",
      },
      {
        Effect: "Deny",
        NotPrincipal: { AWS: "arn:aws:iam::123456789012:user/alice" },
        Action: "s3:DeleteObject",
        Resource: "arn:aws:s3:::examplebucket/*",
      },
    ],
  });
  const at = "arn:aws:s3:::examplebucket/k";
  const bob = { username: "bob", accessKey: "AKBOB" };
  const carol = { username: "carol", accessKey: "AKCAROL" };
  assert.equal(evaluatePolicies([p], req("s3:GetObject", at)), "Allow", "anonymous GET");
  assert.equal(evaluatePolicies([p], req("s3:PutObject", at)), "ImplicitDeny", "anonymous PUT");
  assert.equal(evaluatePolicies([p], req("s3:PutObject", at, {}, ALICE)), "Allow");
  assert.equal(evaluatePolicies([p], req("s3:PutObject", at, {}, bob)), "Allow");
  assert.equal(evaluatePolicies([p], req("s3:PutObject", at, {}, carol)), "ImplicitDeny");
  assert.equal(evaluatePolicies([p], req("s3:DeleteObject", at, {}, carol)), "Deny");
  assert.equal(evaluatePolicies([p], req("s3:DeleteObject", at)), "Deny", "anonymous DELETE");
  assert.equal(evaluatePolicies([p], req("s3:DeleteObject", at, {}, ALICE)), "ImplicitDeny");
});

Deno.test("an IP-restricted bucket policy (AWS docs example) denies outside the range", () => {
  const p = bucketPolicy({
    Version: "2012-10-17",
    Id: "S3PolicyId1",
    Statement: [{
      Sid: "IPAllow",
      Effect: "Deny",
      Principal: "*",
      Action: "s3:*",
      Resource: ["arn:aws:s3:::examplebucket", "arn:aws:s3:::examplebucket/*"],
      Condition: { NotIpAddress: { "aws:SourceIp": ["192.0.2.0/24", "2001:DB8:1234:5678::/64"] } },
    }],
  });
  const get = (ip: string) =>
    evaluatePolicies(
      [p],
      req("s3:GetObject", "arn:aws:s3:::examplebucket/k", { "aws:SourceIp": [ip] }),
    );
  assert.equal(get("192.0.2.10"), "ImplicitDeny");
  assert.equal(get("2001:db8:1234:5678::1"), "ImplicitDeny");
  assert.equal(get("198.51.100.1"), "Deny");
});

Deno.test("a bucket policy requiring TLS (aws:SecureTransport) denies plain HTTP", () => {
  const p = bucketPolicy({
    Version: "2012-10-17",
    Statement: [{
      Effect: "Deny",
      Principal: "*",
      Action: "s3:*",
      Resource: ["arn:aws:s3:::examplebucket", "arn:aws:s3:::examplebucket/*"],
      Condition: { Bool: { "aws:SecureTransport": "false" } },
    }],
  });
  const ctx = (tls: boolean) => ({ "aws:SecureTransport": [String(tls)] });
  const at = "arn:aws:s3:::examplebucket/k";
  assert.equal(evaluatePolicies([p], req("s3:GetObject", at, ctx(false))), "Deny");
  assert.equal(evaluatePolicies([p], req("s3:GetObject", at, ctx(true))), "ImplicitDeny");
});

Deno.test("requiring server-side encryption on PUT (AWS docs example)", () => {
  const p = bucketPolicy({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Deny",
        Principal: "*",
        Action: "s3:PutObject",
        Resource: "arn:aws:s3:::examplebucket/*",
        Condition: { StringNotEquals: { "s3:x-amz-server-side-encryption": "AES256" } },
      },
      {
        Effect: "Deny",
        Principal: "*",
        Action: "s3:PutObject",
        Resource: "arn:aws:s3:::examplebucket/*",
        Condition: { Null: { "s3:x-amz-server-side-encryption": "true" } },
      },
      {
        Effect: "Allow",
        Principal: "*",
        Action: "s3:PutObject",
        Resource: "arn:aws:s3:::examplebucket/*",
      },
    ],
  });
  const put = (ctx: Record<string, string[]>) =>
    evaluatePolicies([p], req("s3:PutObject", "arn:aws:s3:::examplebucket/k", ctx));
  assert.equal(put({ "s3:x-amz-server-side-encryption": ["AES256"] }), "Allow");
  assert.equal(put({ "s3:x-amz-server-side-encryption": ["aws:kms"] }), "Deny");
  assert.equal(put({}), "Deny");
});

Deno.test("canned policies grant what MinIO's do", () => {
  for (const name of CANNED_POLICY_NAMES) assert.ok(cannedPolicy(name), name);
  const can = (name: string, action: string, resource = "arn:aws:s3:::b/k") =>
    evaluatePolicies([cannedPolicy(name)!], req(action, resource)) === "Allow";
  assert.ok(can("readwrite", "s3:PutObject"));
  assert.ok(can("readwrite", "s3:ListAllMyBuckets", "arn:aws:s3:::"));
  assert.ok(can("readonly", "s3:GetObject"));
  assert.ok(can("readonly", "s3:GetBucketLocation", "arn:aws:s3:::b"));
  assert.ok(!can("readonly", "s3:PutObject"));
  assert.ok(!can("readonly", "s3:ListBucket", "arn:aws:s3:::b"));
  assert.ok(can("writeonly", "s3:PutObject"));
  assert.ok(!can("writeonly", "s3:GetObject"));
  assert.ok(can("diagnostics", "admin:ServerInfo", "arn:aws:s3:::b"));
  assert.ok(!can("diagnostics", "s3:GetObject"));
  assert.ok(can("consoleAdmin", "admin:CreateUser", "arn:aws:s3:::"));
  assert.ok(can("consoleAdmin", "s3:DeleteBucket", "arn:aws:s3:::b"));
});

Deno.test("ipInCidr handles IPv4, IPv6, mapped addresses and refuses garbage", () => {
  assert.ok(ipInCidr("10.1.2.3", "10.0.0.0/8"));
  assert.ok(ipInCidr("10.1.2.3", "0.0.0.0/0"));
  assert.ok(!ipInCidr("11.1.2.3", "10.0.0.0/8"));
  assert.ok(ipInCidr("::1", "::1/128"));
  assert.ok(ipInCidr("[::1]", "::/0"));
  assert.ok(!ipInCidr("::1", "10.0.0.0/8"));
  assert.ok(ipInCidr("::ffff:10.0.0.1", "10.0.0.0/8"));
  assert.ok(!ipInCidr("10.0.0.256", "10.0.0.0/8"));
  assert.ok(!ipInCidr("1:2:3:4:5:6:7:8:9", "::/0"));
  assert.ok(!ipInCidr("hello", "::/0"));
});

Deno.test("a policy is public when it allows * without a restricting condition", () => {
  const doc = (statement: Record<string, unknown>) =>
    bucketPolicy({
      Version: "2012-10-17",
      Statement: [{
        Effect: "Allow",
        Principal: "*",
        Action: "s3:GetObject",
        Resource: "arn:aws:s3:::examplebucket/*",
        ...statement,
      }],
    });
  assert.ok(isPublicPolicy(doc({})));
  assert.ok(!isPublicPolicy(doc({ Effect: "Deny" })));
  assert.ok(!isPublicPolicy(doc({ Principal: { AWS: "arn:aws:iam::1:user/alice" } })));
  assert.ok(!isPublicPolicy(doc({ Condition: { IpAddress: { "aws:SourceIp": "10.0.0.0/16" } } })));
  assert.ok(isPublicPolicy(doc({ Condition: { IpAddress: { "aws:SourceIp": "0.0.0.0/0" } } })));
  assert.ok(
    isPublicPolicy(doc({ Condition: { NotIpAddress: { "aws:SourceIp": "10.0.0.0/16" } } })),
  );
  assert.ok(isPublicPolicy(doc({ Condition: { StringLike: { "s3:prefix": "a" } } })));
  assert.ok(!isPublicPolicy(doc({ Condition: { StringEquals: { "aws:username": "alice" } } })));
  assert.ok(isPublicPolicy(doc({ Condition: { StringLike: { "aws:username": "a*" } } })));
});
