import { isAllowed } from "./authorize.ts";
import { cannedPolicy } from "./canned.ts";
import { parsePolicy } from "./policy.ts";
import { actionFor, requestContext, type S3RequestFacts } from "./s3_actions.ts";

const scoped = parsePolicy(
  JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Action: "s3:ListBucket",
        Resource: "arn:aws:s3:::home",
        Condition: { StringLike: { "s3:prefix": ["${aws:username}/*"] } },
      },
      { Effect: "Allow", Action: "s3:*Object", Resource: "arn:aws:s3:::home/${aws:username}/*" },
      {
        Effect: "Deny",
        Action: "s3:*",
        Resource: "arn:aws:s3:::*",
        Condition: { NotIpAddress: { "aws:SourceIp": ["10.0.0.0/8", "192.168.0.0/16"] } },
      },
    ],
  }),
  { kind: "identity" },
);
const identity = {
  accessKey: "alice",
  username: "alice",
  isRoot: false,
  policies: [scoped, cannedPolicy("readonly")!],
};
const facts: S3RequestFacts = {
  operation: "GetObject",
  bucket: "home",
  key: "alice/photos/2026/img_0001.jpg",
  headers: new Headers({ "user-agent": "bench" }),
  query: new URLSearchParams(),
  secure: false,
  sourceIp: "10.1.2.3",
  now: new Date(),
  authType: "REST-HEADER",
};
const check = actionFor(facts)!;

Deno.bench("authorize GetObject: 2 policies, variables, IP condition", async () => {
  const context = requestContext(facts, { username: "alice", userId: "alice" });
  await isAllowed(check, { identity, bucketPolicy: undefined, context });
});

Deno.bench("parse a 3-statement policy", () => {
  parsePolicy(
    JSON.stringify({
      Version: "2012-10-17",
      Statement: scoped.statements.map((s) => ({
        Effect: s.effect,
        Action: s.action,
        Resource: s.resource,
      })),
    }),
    { kind: "identity" },
  );
});
