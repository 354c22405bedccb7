/**
 * The AWS IAM JSON policy language, pure: parse and validate a document, then evaluate requests
 * against a set of policies.
 *
 * How this works (AWS "Policy evaluation logic", single account):
 * - A statement applies when its Action (or NotAction), Resource (or NotResource), Principal (or
 *   NotPrincipal, bucket policies only) and every Condition match the request.
 * - An applying Deny anywhere wins; otherwise an applying Allow anywhere allows; otherwise the
 *   request is implicitly denied.
 * - Actions match case-insensitively with `*` and `?`; resources case-sensitively. Policy variables
 *   (`${aws:username}`, `${*}`, `${?}`, `${$}`) are replaced before matching, and a replaced value
 *   never acts as a wildcard. A variable the request does not define makes the element not match.
 * - Conditions: operators are AND-ed, keys within an operator are AND-ed, a key's values are
 *   OR-ed (for negated operators: none may match). A key the request lacks fails a positive
 *   operator, passes a negated one and passes any `...IfExists`; `Null` tests presence.
 *   `ForAnyValue:` passes when some request value passes (false when none); `ForAllValues:` when
 *   every request value passes (true when none).
 */
import { POLICY_STATEMENTS_MAX } from "../config/limits.ts";

/** A policy document AWS would refuse; `message` is AWS's wording. */
export class MalformedPolicy extends Error {
  override name = "MalformedPolicy";
}

export type Effect = "Allow" | "Deny";

export interface ConditionClause {
  /** As written, e.g. `ForAnyValue:StringLikeIfExists`. */
  operator: string;
  /** The operator without qualifier and IfExists, e.g. `StringLike`. */
  base: string;
  qualifier: "" | "ForAnyValue" | "ForAllValues";
  ifExists: boolean;
  /** The condition key, lower-cased (condition keys are case-insensitive). */
  key: string;
  values: string[];
}

/** `"*"` (anyone, anonymous included) or a list of AWS principals. */
export type PrincipalSpec = "*" | string[];

export interface Statement {
  sid?: string;
  effect: Effect;
  principal?: PrincipalSpec;
  notPrincipal?: PrincipalSpec;
  action?: string[];
  notAction?: string[];
  resource?: string[];
  notResource?: string[];
  conditions: ConditionClause[];
}

export interface Policy {
  version: string;
  id?: string;
  statements: Statement[];
}

export interface ParseOptions {
  /** "bucket" requires Principal and resources within `bucket`; "identity" forbids Principal. */
  kind: "identity" | "bucket";
  bucket?: string;
}

/** Who is asking: `undefined` for anonymous requests. */
export interface PrincipalInfo {
  /** The user name (service accounts and STS sessions: their parent's). */
  username: string;
  accessKey: string;
  isRoot?: boolean;
}

export interface AuthzRequest {
  /** e.g. `s3:GetObject`. */
  action: string;
  /** e.g. `arn:aws:s3:::bucket/key`; service-level actions use `arn:aws:s3:::`. */
  resource: string;
  principal?: PrincipalInfo;
  /** Condition keys (any case) to their values; a missing key is absent from the request. */
  context: Readonly<Record<string, readonly string[]>>;
}

export type Decision = "Allow" | "Deny" | "ImplicitDeny";

const VERSIONS = new Set(["2012-10-17", "2008-10-17"]);

/** Every S3 action AWS defines that Shale may authorize (wildcards must match one of these). */
export const S3_ACTIONS: readonly string[] = [
  "s3:AbortMultipartUpload",
  "s3:BypassGovernanceRetention",
  "s3:CreateBucket",
  "s3:DeleteBucket",
  "s3:DeleteBucketPolicy",
  "s3:DeleteBucketWebsite",
  "s3:DeleteObject",
  "s3:DeleteObjectTagging",
  "s3:DeleteObjectVersion",
  "s3:DeleteObjectVersionTagging",
  "s3:GetAccelerateConfiguration",
  "s3:GetBucketAcl",
  "s3:GetBucketCORS",
  "s3:GetBucketLocation",
  "s3:GetBucketLogging",
  "s3:GetBucketNotification",
  "s3:GetBucketObjectLockConfiguration",
  "s3:GetBucketOwnershipControls",
  "s3:GetBucketPolicy",
  "s3:GetBucketPolicyStatus",
  "s3:GetBucketPublicAccessBlock",
  "s3:GetBucketTagging",
  "s3:GetBucketVersioning",
  "s3:GetBucketWebsite",
  "s3:GetEncryptionConfiguration",
  "s3:GetLifecycleConfiguration",
  "s3:GetObject",
  "s3:GetObjectAcl",
  "s3:GetObjectAttributes",
  "s3:GetObjectLegalHold",
  "s3:GetObjectRetention",
  "s3:GetObjectTagging",
  "s3:GetObjectVersion",
  "s3:GetObjectVersionAttributes",
  "s3:GetObjectVersionTagging",
  "s3:GetReplicationConfiguration",
  "s3:ListAllMyBuckets",
  "s3:ListBucket",
  "s3:ListBucketMultipartUploads",
  "s3:ListBucketVersions",
  "s3:ListMultipartUploadParts",
  "s3:PutAccelerateConfiguration",
  "s3:PutBucketAcl",
  "s3:PutBucketCORS",
  "s3:PutBucketLogging",
  "s3:PutBucketNotification",
  "s3:PutBucketObjectLockConfiguration",
  "s3:PutBucketOwnershipControls",
  "s3:PutBucketPolicy",
  "s3:PutBucketPublicAccessBlock",
  "s3:PutBucketTagging",
  "s3:PutBucketVersioning",
  "s3:PutBucketWebsite",
  "s3:PutEncryptionConfiguration",
  "s3:PutLifecycleConfiguration",
  "s3:PutObject",
  "s3:PutObjectAcl",
  "s3:PutObjectLegalHold",
  "s3:PutObjectRetention",
  "s3:PutObjectTagging",
  "s3:PutObjectVersionTagging",
  "s3:PutReplicationConfiguration",
  "s3:ReplicateObject",
  "s3:RestoreObject",
];

/** Services whose actions identity policies may name (MinIO's admin, STS and KMS actions). */
const OTHER_SERVICES = new Set(["admin", "sts", "kms"]);

/** Condition keys S3 and the global context define; prefixes end with `/`. */
const CONDITION_KEYS = new Set(
  [
    "aws:CurrentTime",
    "aws:EpochTime",
    "aws:SecureTransport",
    "aws:SourceIp",
    "aws:UserAgent",
    "aws:Referer",
    "aws:username",
    "aws:userid",
    "aws:PrincipalType",
    "aws:PrincipalArn",
    "aws:PrincipalAccount",
    "aws:MultiFactorAuthPresent",
    "aws:TokenIssueTime",
    "aws:SourceVpc",
    "aws:SourceVpce",
    "s3:prefix",
    "s3:delimiter",
    "s3:max-keys",
    "s3:x-amz-acl",
    "s3:x-amz-copy-source",
    "s3:x-amz-metadata-directive",
    "s3:x-amz-server-side-encryption",
    "s3:x-amz-server-side-encryption-aws-kms-key-id",
    "s3:x-amz-server-side-encryption-customer-algorithm",
    "s3:x-amz-storage-class",
    "s3:x-amz-content-sha256",
    "s3:VersionId",
    "s3:LocationConstraint",
    "s3:signatureversion",
    "s3:signatureAge",
    "s3:authType",
    "s3:TlsVersion",
    "s3:object-lock-mode",
    "s3:object-lock-retain-until-date",
    "s3:object-lock-legal-hold",
    "s3:object-lock-remaining-retention-days",
    "s3:ExistingObjectTag/",
    "s3:RequestObjectTag/",
    "s3:RequestObjectTagKeys",
    "aws:PrincipalTag/",
    "aws:RequestTag/",
    "aws:ResourceTag/",
    "aws:TagKeys",
    "jwt:",
    "ldap:",
  ].map((k) => k.toLowerCase()),
);

function isKnownConditionKey(key: string): boolean {
  if (CONDITION_KEYS.has(key)) return true;
  for (const prefix of ["s3:existingobjecttag/", "s3:requestobjecttag/", "aws:principaltag/"]) {
    if (key.startsWith(prefix) && key.length > prefix.length) return true;
  }
  for (const prefix of ["aws:requesttag/", "aws:resourcetag/", "jwt:", "ldap:"]) {
    if (key.startsWith(prefix) && key.length > prefix.length) return true;
  }
  return false;
}

const BASE_OPERATORS = new Set([
  "StringEquals",
  "StringNotEquals",
  "StringEqualsIgnoreCase",
  "StringNotEqualsIgnoreCase",
  "StringLike",
  "StringNotLike",
  "NumericEquals",
  "NumericNotEquals",
  "NumericLessThan",
  "NumericLessThanEquals",
  "NumericGreaterThan",
  "NumericGreaterThanEquals",
  "DateEquals",
  "DateNotEquals",
  "DateLessThan",
  "DateLessThanEquals",
  "DateGreaterThan",
  "DateGreaterThanEquals",
  "Bool",
  "BinaryEquals",
  "IpAddress",
  "NotIpAddress",
  "ArnEquals",
  "ArnLike",
  "ArnNotEquals",
  "ArnNotLike",
  "Null",
]);

const NEGATED = new Set([
  "StringNotEquals",
  "StringNotEqualsIgnoreCase",
  "StringNotLike",
  "NumericNotEquals",
  "DateNotEquals",
  "NotIpAddress",
  "ArnNotEquals",
  "ArnNotLike",
]);

const STATEMENT_FIELDS = new Set([
  "Sid",
  "Effect",
  "Principal",
  "NotPrincipal",
  "Action",
  "NotAction",
  "Resource",
  "NotResource",
  "Condition",
]);

// ---------------------------------------------------------------------------------------------
// Parsing

/** Parses and validates a policy document, throwing MalformedPolicy with AWS's wording. */
export function parsePolicy(json: string, options: ParseOptions): Policy {
  if (!json.trimStart().startsWith("{")) {
    throw new MalformedPolicy("Policies must be valid JSON and the first byte must be '{'");
  }
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch {
    throw new MalformedPolicy("This policy contains invalid Json");
  }
  if (!isObject(doc)) throw new MalformedPolicy("This policy contains invalid Json");
  for (const field of Object.keys(doc)) {
    if (!["Version", "Id", "Statement"].includes(field)) {
      throw new MalformedPolicy(`Unknown field ${field}`);
    }
  }
  const version = doc.Version ?? "2008-10-17";
  if (typeof version !== "string" || !VERSIONS.has(version)) {
    throw new MalformedPolicy("The policy must contain a valid version string");
  }
  if (doc.Statement === undefined) throw new MalformedPolicy("Missing required field Statement");
  const raw = Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
  if (raw.length === 0) {
    throw new MalformedPolicy("Could not parse the policy: Statement is empty!");
  }
  if (raw.length > POLICY_STATEMENTS_MAX) {
    throw new MalformedPolicy(`Policy has more than ${POLICY_STATEMENTS_MAX} statements`);
  }
  const sids = new Set<string>();
  const statements = raw.map((s) => parseStatement(s, options, sids));
  const policy: Policy = { version, statements };
  if (typeof doc.Id === "string") policy.id = doc.Id;
  else if (doc.Id !== undefined) throw new MalformedPolicy("Policy Id must be a string");
  return policy;
}

function parseStatement(raw: unknown, options: ParseOptions, sids: Set<string>): Statement {
  if (!isObject(raw)) throw new MalformedPolicy("Statement must be an object");
  for (const field of Object.keys(raw)) {
    if (!STATEMENT_FIELDS.has(field)) throw new MalformedPolicy(`Unknown field ${field}`);
  }
  if (raw.Effect === undefined) throw new MalformedPolicy("Missing required field Effect");
  if (raw.Effect !== "Allow" && raw.Effect !== "Deny") {
    throw new MalformedPolicy(`Invalid effect: ${String(raw.Effect)}`);
  }
  const st: Statement = { effect: raw.Effect, conditions: [] };
  if (raw.Sid !== undefined) {
    if (typeof raw.Sid !== "string") throw new MalformedPolicy("Statement Sid must be a string");
    if (raw.Sid !== "" && sids.has(raw.Sid)) {
      throw new MalformedPolicy("Statement IDs (SID) in a single policy must be unique");
    }
    sids.add(raw.Sid);
    st.sid = raw.Sid;
  }

  // Principal
  if (raw.Principal !== undefined && raw.NotPrincipal !== undefined) {
    throw new MalformedPolicy("Statement has both Principal and NotPrincipal");
  }
  if (options.kind === "identity") {
    if (raw.Principal !== undefined || raw.NotPrincipal !== undefined) {
      throw new MalformedPolicy("Policy document should not specify a principal.");
    }
  } else {
    if (raw.Principal === undefined && raw.NotPrincipal === undefined) {
      throw new MalformedPolicy("Missing required field Principal");
    }
    if (raw.Principal !== undefined) st.principal = parsePrincipal(raw.Principal);
    if (raw.NotPrincipal !== undefined) st.notPrincipal = parsePrincipal(raw.NotPrincipal);
  }

  // Action
  if (raw.Action !== undefined && raw.NotAction !== undefined) {
    throw new MalformedPolicy("Statement has both Action and NotAction");
  }
  if (raw.Action === undefined && raw.NotAction === undefined) {
    throw new MalformedPolicy("Missing required field Action");
  }
  if (raw.Action !== undefined) st.action = parseActions(raw.Action, options);
  if (raw.NotAction !== undefined) st.notAction = parseActions(raw.NotAction, options);

  // Resource
  if (raw.Resource !== undefined && raw.NotResource !== undefined) {
    throw new MalformedPolicy("Statement has both Resource and NotResource");
  }
  // As MinIO: admin:, kms: and sts: statements of identity policies may omit the resource.
  const onlyOtherServices = st.action !== undefined &&
    st.action.every((a) => OTHER_SERVICES.has(a.slice(0, a.indexOf(":")).toLowerCase()));
  if (
    raw.Resource === undefined && raw.NotResource === undefined &&
    !(options.kind === "identity" && onlyOtherServices)
  ) {
    throw new MalformedPolicy("Missing required field Resource");
  }
  if (raw.Resource !== undefined) st.resource = parseResources(raw.Resource, options);
  if (raw.NotResource !== undefined) st.notResource = parseResources(raw.NotResource, options);
  if (options.kind === "bucket" && st.action !== undefined && st.resource !== undefined) {
    checkActionsFitResources(st.action, st.resource);
  }

  if (raw.Condition !== undefined) st.conditions = parseConditions(raw.Condition);
  return st;
}

function parsePrincipal(raw: unknown): PrincipalSpec {
  if (raw === "*") return "*";
  if (isObject(raw)) {
    const keys = Object.keys(raw);
    if (keys.length !== 1 || keys[0] !== "AWS") {
      throw new MalformedPolicy("Invalid principal in policy");
    }
    const list = stringList(raw.AWS, "Invalid principal in policy");
    if (list.includes("*")) return "*";
    return list;
  }
  throw new MalformedPolicy("Invalid principal in policy");
}

function parseActions(raw: unknown, options: ParseOptions): string[] {
  const list = stringList(raw, "Policy has invalid action");
  for (const action of list) {
    if (action === "*") continue;
    const colon = action.indexOf(":");
    const service = colon < 0 ? "" : action.slice(0, colon).toLowerCase();
    if (service === "s3") {
      if (!S3_ACTIONS.some((known) => wildcardMatch(action, known, true))) {
        throw new MalformedPolicy("Policy has invalid action");
      }
    } else if (
      options.kind === "bucket" || !OTHER_SERVICES.has(service) || colon === action.length - 1
    ) {
      throw new MalformedPolicy("Policy has invalid action");
    }
  }
  return list;
}

const ARN_S3 = "arn:aws:s3:::";

function parseResources(raw: unknown, options: ParseOptions): string[] {
  const list = stringList(raw, "Policy has invalid resource");
  for (const r of list) {
    if (r === "*") {
      if (options.kind === "bucket") throw new MalformedPolicy("Policy has invalid resource");
      continue;
    }
    if (!r.startsWith(ARN_S3) || r.length === ARN_S3.length) {
      // MinIO's kms: and admin policies use other resources; identity policies may too.
      if (options.kind === "identity" && /^arn:[^:]+:/.test(r)) continue;
      throw new MalformedPolicy("Policy has invalid resource");
    }
    if (options.kind === "bucket" && options.bucket !== undefined) {
      // A bucket policy may only speak of its own bucket (wildcards may cover it).
      const path = r.slice(ARN_S3.length);
      const bucketPart = path.includes("/") ? path.slice(0, path.indexOf("/")) : path;
      if (!wildcardMatch(bucketPart, options.bucket, false) && !bucketPart.includes("${")) {
        throw new MalformedPolicy("Policy has invalid resource");
      }
    }
  }
  return list;
}

/** AWS refuses a bucket policy statement whose every action misses every resource's type. */
function checkActionsFitResources(actions: string[], resources: string[]): void {
  const kinds = new Set(resources.map((r) => {
    const path = r.slice(ARN_S3.length);
    if (!path.includes("/")) return path.endsWith("*") ? "both" : "bucket";
    return "object";
  }));
  const fits = actions.some((a) => {
    if (a === "*" || a.includes("*") || a.includes("?")) return true;
    const kind = OBJECT_ACTIONS.has(a.toLowerCase()) ? "object" : "bucket";
    return kinds.has(kind) || kinds.has("both");
  });
  if (!fits) {
    throw new MalformedPolicy("Action does not apply to any resource(s) in statement");
  }
}

/** Actions whose resource is an object (`bucket/key`); the rest name a bucket (or the service). */
export const OBJECT_ACTIONS: ReadonlySet<string> = new Set(
  [
    "s3:AbortMultipartUpload",
    "s3:BypassGovernanceRetention",
    "s3:DeleteObject",
    "s3:DeleteObjectTagging",
    "s3:DeleteObjectVersion",
    "s3:DeleteObjectVersionTagging",
    "s3:GetObject",
    "s3:GetObjectAcl",
    "s3:GetObjectAttributes",
    "s3:GetObjectLegalHold",
    "s3:GetObjectRetention",
    "s3:GetObjectTagging",
    "s3:GetObjectVersion",
    "s3:GetObjectVersionAttributes",
    "s3:GetObjectVersionTagging",
    "s3:ListMultipartUploadParts",
    "s3:PutObject",
    "s3:PutObjectAcl",
    "s3:PutObjectLegalHold",
    "s3:PutObjectRetention",
    "s3:PutObjectTagging",
    "s3:PutObjectVersionTagging",
    "s3:ReplicateObject",
    "s3:RestoreObject",
  ].map((a) => a.toLowerCase()),
);

function parseConditions(raw: unknown): ConditionClause[] {
  if (!isObject(raw)) throw new MalformedPolicy("Condition must be an object");
  const out: ConditionClause[] = [];
  for (const [operator, block] of Object.entries(raw)) {
    let rest = operator;
    let qualifier: ConditionClause["qualifier"] = "";
    for (const q of ["ForAnyValue", "ForAllValues"] as const) {
      if (rest.startsWith(q + ":")) {
        qualifier = q;
        rest = rest.slice(q.length + 1);
      }
    }
    let ifExists = false;
    if (rest.endsWith("IfExists") && rest !== "IfExists") {
      ifExists = true;
      rest = rest.slice(0, -"IfExists".length);
    }
    if (!BASE_OPERATORS.has(rest) || (ifExists && rest === "Null")) {
      throw new MalformedPolicy(`Invalid Condition type : ${operator}`);
    }
    if (!isObject(block)) {
      throw new MalformedPolicy(`Invalid Condition block for ${operator}`);
    }
    for (const [key, value] of Object.entries(block)) {
      const lower = key.toLowerCase();
      if (!isKnownConditionKey(lower)) {
        throw new MalformedPolicy(`Policy has an invalid condition key: ${key}`);
      }
      const values = (Array.isArray(value) ? value : [value]).map((v) => {
        if (typeof v === "string") return v;
        if (typeof v === "number" || typeof v === "boolean") return String(v);
        throw new MalformedPolicy(`Invalid Condition value for ${operator} ${key}`);
      });
      if (values.length === 0) {
        throw new MalformedPolicy(`Invalid Condition value for ${operator} ${key}`);
      }
      for (const v of values) checkConditionValue(rest, operator, key, v);
      out.push({ operator, base: rest, qualifier, ifExists, key: lower, values });
    }
  }
  return out;
}

function checkConditionValue(base: string, operator: string, key: string, v: string): void {
  const bad = () => new MalformedPolicy(`Invalid Condition value for ${operator} ${key}: ${v}`);
  if (base.startsWith("Numeric") && parseNumber(v) === undefined) throw bad();
  if (base.startsWith("Date") && parseDate(v) === undefined) throw bad();
  if ((base === "Bool" || base === "Null") && !/^(true|false)$/i.test(v)) throw bad();
  if (base.endsWith("IpAddress") && parseCidr(v) === undefined) throw bad();
}

function stringList(raw: unknown, message: string): string[] {
  const list = Array.isArray(raw) ? raw : [raw];
  if (list.length === 0) throw new MalformedPolicy(message);
  for (const v of list) {
    if (typeof v !== "string" || v === "") throw new MalformedPolicy(message);
  }
  return list as string[];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

// ---------------------------------------------------------------------------------------------
// Matching

type Token = { lit: string } | "*" | "?";

/**
 * Splits a pattern into literals and wildcards, replacing `${...}` variables from the context.
 * Undefined when a variable the request lacks is used (the element then does not match).
 */
function tokenize(
  pattern: string,
  context: AuthzRequest["context"] | undefined,
): Token[] | undefined {
  const out: Token[] = [];
  let lit = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "$" && pattern[i + 1] === "{" && context !== undefined) {
      const end = pattern.indexOf("}", i + 2);
      if (end > 0) {
        const name = pattern.slice(i + 2, end);
        let value: string | undefined;
        if (name === "*" || name === "?" || name === "$") value = name;
        else value = lookupKey(context, name.toLowerCase())?.[0];
        if (value === undefined) return undefined;
        lit += value;
        i = end;
        continue;
      }
    }
    if (c === "*" || c === "?") {
      if (lit !== "") out.push({ lit });
      lit = "";
      out.push(c);
    } else {
      lit += c;
    }
  }
  if (lit !== "") out.push({ lit });
  return out;
}

function matchTokens(tokens: Token[], text: string, ignoreCase: boolean): boolean {
  const s = ignoreCase ? text.toLowerCase() : text;
  const toks = ignoreCase
    ? tokens.map((t) => (typeof t === "string" ? t : { lit: t.lit.toLowerCase() }))
    : tokens;
  // Iterative glob matching with one backtrack point per `*` (linear in practice).
  let ti = 0;
  let si = 0;
  let starTi = -1;
  let starSi = 0;
  let litOff = 0; // offset within a literal token being matched
  while (si < s.length) {
    const t = toks[ti];
    if (t === "?") {
      ti++;
      si++;
      continue;
    }
    if (t === "*") {
      starTi = ti++;
      starSi = si;
      continue;
    }
    if (t !== undefined && s[si] === t.lit[litOff]) {
      si++;
      litOff++;
      if (litOff === t.lit.length) {
        ti++;
        litOff = 0;
      }
      continue;
    }
    if (starTi < 0) return false;
    ti = starTi + 1;
    litOff = 0;
    si = ++starSi;
  }
  while (ti < toks.length && toks[ti] === "*" && litOff === 0) ti++;
  return ti === toks.length && litOff === 0;
}

/** Glob match with `*` and `?` (no variables). */
export function wildcardMatch(pattern: string, text: string, ignoreCase: boolean): boolean {
  return matchTokens(tokenize(pattern, undefined)!, text, ignoreCase);
}

function lookupKey(
  context: AuthzRequest["context"],
  lowerKey: string,
): readonly string[] | undefined {
  for (const [k, v] of Object.entries(context)) {
    if (k.toLowerCase() === lowerKey) return v;
  }
  return undefined;
}

function matchPattern(
  pattern: string,
  text: string,
  context: AuthzRequest["context"],
  ignoreCase: boolean,
): boolean {
  const tokens = tokenize(pattern, context);
  return tokens !== undefined && matchTokens(tokens, text, ignoreCase);
}

function principalMatches(spec: PrincipalSpec, who: PrincipalInfo | undefined): boolean {
  if (spec === "*") return true;
  if (who === undefined) return false;
  return spec.some((p) => {
    if (p === who.username || p === who.accessKey) return true;
    if (who.isRoot === true && /^arn:aws:iam::[^:]*:root$/.test(p)) return true;
    const user = /^arn:aws:iam::[^:]*:user\/(.+)$/.exec(p);
    return user !== null && wildcardMatch(user[1]!, who.username, false);
  });
}

/** True when the statement applies to the request (its effect then counts). */
export function statementApplies(st: Statement, req: AuthzRequest): boolean {
  if (st.principal !== undefined && !principalMatches(st.principal, req.principal)) return false;
  if (st.notPrincipal !== undefined && principalMatches(st.notPrincipal, req.principal)) {
    return false;
  }
  const actionHit = (list: string[]) => list.some((a) => wildcardMatch(a, req.action, true));
  if (st.action !== undefined && !actionHit(st.action)) return false;
  if (st.notAction !== undefined && actionHit(st.notAction)) return false;
  const resourceHit = (list: string[]) =>
    list.some((r) => matchPattern(r, req.resource, req.context, false));
  if (st.resource !== undefined && !resourceHit(st.resource)) return false;
  if (st.notResource !== undefined && resourceHit(st.notResource)) return false;
  return st.conditions.every((c) => conditionHolds(c, req.context));
}

/** Explicit deny wins, then allow, else implicit deny (AWS's evaluation logic). */
export function evaluatePolicies(policies: readonly Policy[], req: AuthzRequest): Decision {
  let allowed = false;
  for (const p of policies) {
    for (const st of p.statements) {
      if (!statementApplies(st, req)) continue;
      if (st.effect === "Deny") return "Deny";
      allowed = true;
    }
  }
  return allowed ? "Allow" : "ImplicitDeny";
}

// ---------------------------------------------------------------------------------------------
// Conditions

export function conditionHolds(c: ConditionClause, context: AuthzRequest["context"]): boolean {
  const present = lookupKey(context, c.key);
  if (c.base === "Null") {
    const absent = present === undefined || present.length === 0;
    // Several values are OR-ed like any other operator.
    return c.values.some((v) => (v.toLowerCase() === "true") === absent);
  }
  const negated = NEGATED.has(c.base);
  const positive = positiveOperator(c.base);
  const anyPolicyValue = (rv: string) => c.values.some((pv) => positive(rv, pv, context));
  const holdsFor = (rv: string) => negated ? !anyPolicyValue(rv) : anyPolicyValue(rv);
  if (c.qualifier === "ForAnyValue") {
    if (present === undefined || present.length === 0) return c.ifExists;
    return present.some(holdsFor);
  }
  if (c.qualifier === "ForAllValues") {
    if (present === undefined || present.length === 0) return true;
    return present.every(holdsFor);
  }
  if (present === undefined || present.length === 0) return c.ifExists || negated;
  return negated ? !present.some(anyPolicyValue) : present.some(anyPolicyValue);
}

type Matcher = (requestValue: string, policyValue: string, ctx: AuthzRequest["context"]) => boolean;

/** The matching test of an operator, without its negation. */
function positiveOperator(base: string): Matcher {
  switch (base) {
    case "StringEquals":
    case "StringNotEquals":
      return (rv, pv, ctx) => {
        const t = tokenize(pv.replaceAll("*", "${*}").replaceAll("?", "${?}"), ctx);
        return t !== undefined && matchTokens(t, rv, false);
      };
    case "StringEqualsIgnoreCase":
    case "StringNotEqualsIgnoreCase":
      return (rv, pv, ctx) => {
        const t = tokenize(pv.replaceAll("*", "${*}").replaceAll("?", "${?}"), ctx);
        return t !== undefined && matchTokens(t, rv, true);
      };
    case "StringLike":
    case "StringNotLike":
    case "ArnLike":
    case "ArnNotLike":
    case "ArnEquals":
    case "ArnNotEquals":
      return (rv, pv, ctx) => matchPattern(pv, rv, ctx, false);
    case "NumericEquals":
    case "NumericNotEquals":
      return numeric((a, b) => a === b);
    case "NumericLessThan":
      return numeric((a, b) => a < b);
    case "NumericLessThanEquals":
      return numeric((a, b) => a <= b);
    case "NumericGreaterThan":
      return numeric((a, b) => a > b);
    case "NumericGreaterThanEquals":
      return numeric((a, b) => a >= b);
    case "DateEquals":
    case "DateNotEquals":
      return date((a, b) => a === b);
    case "DateLessThan":
      return date((a, b) => a < b);
    case "DateLessThanEquals":
      return date((a, b) => a <= b);
    case "DateGreaterThan":
      return date((a, b) => a > b);
    case "DateGreaterThanEquals":
      return date((a, b) => a >= b);
    case "Bool":
      return (rv, pv) => rv.toLowerCase() === pv.toLowerCase();
    case "BinaryEquals":
      return (rv, pv) => rv === pv;
    case "IpAddress":
    case "NotIpAddress":
      return (rv, pv) => ipInCidr(rv, pv);
  }
  return () => false;
}

function numeric(cmp: (a: number, b: number) => boolean): Matcher {
  return (rv, pv) => {
    const a = parseNumber(rv);
    const b = parseNumber(pv);
    return a !== undefined && b !== undefined && cmp(a, b);
  };
}

function date(cmp: (a: number, b: number) => boolean): Matcher {
  return (rv, pv) => {
    const a = parseDate(rv);
    const b = parseDate(pv);
    return a !== undefined && b !== undefined && cmp(a, b);
  };
}

function parseNumber(v: string): number | undefined {
  if (!/^-?\d+(\.\d+)?$/.test(v.trim())) return undefined;
  return Number(v);
}

/** ISO 8601 dates and times, or epoch seconds (AWS accepts both). Milliseconds since epoch. */
function parseDate(v: string): number | undefined {
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  if (!/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(v)) return undefined;
  const ms = Date.parse(v);
  return Number.isNaN(ms) ? undefined : ms;
}

// ---------------------------------------------------------------------------------------------
// IP addresses

/** An address as a big-endian bit string of 32 (IPv4) or 128 (IPv6) bits. */
function parseIp(text: string): { bits: bigint; width: 32 | 128 } | undefined {
  if (text.includes(".") && !text.includes(":")) {
    const parts = text.split(".");
    if (parts.length !== 4) return undefined;
    let bits = 0n;
    for (const p of parts) {
      if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
      bits = (bits << 8n) | BigInt(Number(p));
    }
    return { bits, width: 32 };
  }
  if (!text.includes(":")) return undefined;
  let head = text;
  let v4tail: bigint | undefined;
  const lastColon = text.lastIndexOf(":");
  if (text.slice(lastColon + 1).includes(".")) {
    const v4 = parseIp(text.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    v4tail = v4.bits;
    head = text.slice(0, lastColon + 1) + "0:0";
  }
  const halves = head.split("::");
  if (halves.length > 2) return undefined;
  const groups = (s: string) => (s === "" ? [] : s.split(":"));
  const left = groups(halves[0]!);
  const right = halves.length === 2 ? groups(halves[1]!) : [];
  const missing = 8 - left.length - right.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const all = [...left, ...Array<string>(halves.length === 2 ? missing : 0).fill("0"), ...right];
  let bits = 0n;
  for (const g of all) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    bits = (bits << 16n) | BigInt(parseInt(g, 16));
  }
  if (v4tail !== undefined) bits = (bits & ~0xffffffffn) | v4tail;
  return { bits, width: 128 };
}

function parseCidr(text: string): { bits: bigint; width: 32 | 128; prefix: number } | undefined {
  const slash = text.indexOf("/");
  const ip = parseIp(slash < 0 ? text : text.slice(0, slash));
  if (ip === undefined) return undefined;
  const prefixText = slash < 0 ? String(ip.width) : text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > ip.width) return undefined;
  return { ...ip, prefix: Number(prefixText) };
}

/** IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) compare as IPv4. */
function unmapV4(ip: { bits: bigint; width: 32 | 128 }): { bits: bigint; width: 32 | 128 } {
  if (ip.width === 128 && ip.bits >> 32n === 0xffffn) {
    return { bits: ip.bits & 0xffffffffn, width: 32 };
  }
  return ip;
}

export function ipInCidr(address: string, cidr: string): boolean {
  const raw = parseIp(address.replace(/^\[|\]$/g, ""));
  const net = parseCidr(cidr);
  if (raw === undefined || net === undefined) return false;
  const ip = unmapV4(raw);
  if (ip.width !== net.width) return false;
  const shift = BigInt(net.width - net.prefix);
  return ip.bits >> shift === net.bits >> shift;
}

// ---------------------------------------------------------------------------------------------
// Public or not

/** Condition keys whose fixed value limits who can use a grant (AWS "The meaning of public"). */
const RESTRICTING_KEYS = new Set(
  [
    "aws:SourceIp",
    "aws:SourceArn",
    "aws:SourceVpc",
    "aws:SourceVpce",
    "aws:SourceAccount",
    "aws:SourceOwner",
    "aws:PrincipalAccount",
    "aws:PrincipalArn",
    "aws:PrincipalOrgID",
    "aws:userid",
    "aws:username",
  ].map((k) => k.toLowerCase()),
);

/**
 * AWS's rule for GetBucketPolicyStatus: a policy is public when an Allow statement grants to a
 * wildcard principal (or uses NotPrincipal) without a condition that pins a restricting key to
 * fixed values (no wildcard, not negated, not an IP range wider than /8 for IPv4 or /32 for IPv6).
 */
export function isPublicPolicy(policy: Policy): boolean {
  return policy.statements.some((st) => {
    if (st.effect !== "Allow") return false;
    const wildcardPrincipal = st.notPrincipal !== undefined ||
      st.principal === "*" ||
      (Array.isArray(st.principal) && st.principal.some((p) => p.includes("*")));
    if (!wildcardPrincipal) return false;
    return !st.conditions.some(restricts);
  });
}

function restricts(c: ConditionClause): boolean {
  if (!RESTRICTING_KEYS.has(c.key) || NEGATED.has(c.base) || c.ifExists) return false;
  if (c.qualifier === "ForAllValues") return false;
  if (c.base === "IpAddress") {
    return c.values.every((v) => {
      const net = parseCidr(v);
      return net !== undefined && net.prefix >= (net.width === 32 ? 8 : 32);
    });
  }
  if (c.base.startsWith("String") || c.base.startsWith("Arn")) {
    return c.values.every((v) => !v.includes("*") && !v.includes("?"));
  }
  return false;
}
