/**
 * The authorization decision for one S3 request.
 *
 * How this works:
 * - The root user is allowed everything, bucket policies included (as MinIO).
 * - Anyone else: an explicit Deny in their identity policies or the bucket policy denies; else an
 *   Allow in either allows (AWS, same account); else denied.
 * - Service-account inline policies and STS session policies are limits: each must allow too.
 * - Anonymous requests are judged by the bucket policy alone.
 * - `s3:ExistingObjectTag/<key>` needs the object's tags: they are loaded only when a policy that
 *   is consulted names such a key.
 */
import type { Identity } from "./identity.ts";
import { BUCKET_POLICY_CACHE_ENTRIES_MAX } from "../config/limits.ts";
import { type AuthzRequest, evaluatePolicies, parsePolicy, type Policy } from "./policy.ts";
import type { ActionCheck } from "./s3_actions.ts";

export interface AuthorizeOptions {
  identity: Identity | undefined;
  bucketPolicy: Policy | undefined;
  context: Record<string, string[]>;
  /** The object's tags, for s3:ExistingObjectTag conditions (undefined: no such object). */
  objectTags?: () => Promise<Array<[string, string]> | undefined>;
}

export async function isAllowed(check: ActionCheck, options: AuthorizeOptions): Promise<boolean> {
  const { identity, bucketPolicy } = options;
  if (identity?.isRoot === true) return true;
  const all: Policy[] = [...(identity?.policies ?? [])];
  if (bucketPolicy !== undefined) all.push(bucketPolicy);
  for (const limit of identity?.limits ?? []) all.push(...limit);
  let context = options.context;
  if (options.objectTags !== undefined && all.some(namesExistingObjectTag)) {
    const tags = await options.objectTags();
    if (tags !== undefined) {
      context = { ...context };
      for (const [k, v] of tags) context[`s3:ExistingObjectTag/${k}`] = [v];
    }
  }
  const req: AuthzRequest = {
    action: check.action,
    resource: check.resource,
    context,
    ...(identity !== undefined
      ? { principal: { username: identity.username, accessKey: identity.accessKey } }
      : {}),
  };
  const identityPolicies = identity?.policies ?? [];
  const base = evaluatePolicies(
    bucketPolicy === undefined ? identityPolicies : [...identityPolicies, bucketPolicy],
    req,
  );
  if (base !== "Allow") return false;
  for (const limit of identity?.limits ?? []) {
    if (evaluatePolicies(limit, req) !== "Allow") return false;
  }
  return true;
}

function namesExistingObjectTag(p: Policy): boolean {
  return p.statements.some((s) =>
    s.conditions.some((c) => c.key.startsWith("s3:existingobjecttag/"))
  );
}

/** Parsed bucket policies by bucket, reused while the stored text is unchanged. */
const bucketPolicies = new Map<string, { json: string; policy: Policy }>();

/** The bucket policy for `json` (as stored), parsed once per change. */
export function bucketPolicyFor(bucket: string, json: string | undefined): Policy | undefined {
  if (json === undefined) {
    bucketPolicies.delete(bucket);
    return undefined;
  }
  const hit = bucketPolicies.get(bucket);
  if (hit !== undefined && hit.json === json) return hit.policy;
  const policy = parsePolicy(json, { kind: "bucket", bucket });
  if (bucketPolicies.size >= BUCKET_POLICY_CACHE_ENTRIES_MAX) bucketPolicies.clear();
  bucketPolicies.set(bucket, { json, policy });
  return policy;
}
