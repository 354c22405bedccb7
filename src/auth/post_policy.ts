/**
 * Browser uploads with a POST policy (AWS sigv4-HTTPPOSTConstructPolicy.html,
 * sigv4-post-example.html).
 *
 * How this works
 * - The form carries `policy` (base64 of a JSON document with `expiration` and `conditions`) and
 *   `x-amz-signature` = hex HMAC-SHA256 of the base64 text with the SigV4 signing key of
 *   `x-amz-credential`'s scope. The signature covers the policy, not the form: the form is then
 *   held to the policy's conditions.
 * - Conditions: `{"field": "value"}` and `["eq", "$field", "value"]` match exactly,
 *   `["starts-with", "$field", "prefix"]` by prefix (an empty prefix matches anything), and
 *   `["content-length-range", min, max]` bounds the file, which only the caller can measure: it
 *   is returned, not checked.
 * - Every form field except x-amz-signature, file, policy and x-ignore-* must be named by some
 *   condition (AWS's rule), so a signed policy cannot be stretched with extra fields.
 * - Field names are compared case-insensitively, as AWS does; values exactly.
 */
import { constantTimeEqual, deriveSigningKey, hmacHex, parseAmzDate } from "./_crypto.ts";
import {
  checkSessionToken,
  lookupCredentials,
  parseCredential,
  UNSUPPORTED_MECHANISM,
} from "./sigv4.ts";
import { type AuthOptions, type Credentials, SigV4Error } from "./types.ts";

export interface PostPolicyOptions extends AuthOptions {
  /** The bucket from the request URL, matched by `{"bucket": ...}` conditions. */
  bucket: string;
  /** The uploaded file's name: `${filename}` in the key field is replaced by it (AWS rule). */
  filename?: string;
}

export type PostPolicyResult =
  | { kind: "anonymous"; key: string }
  | {
    kind: "signed";
    accessKey: string;
    credentials: Credentials;
    /** The object key, `${filename}` substituted. */
    key: string;
    /** From `content-length-range`: the caller checks the file's size against it at the end. */
    contentLengthRange?: { min: number; max: number };
  };

const EXEMPT = new Set(["x-amz-signature", "file", "policy"]);

function policyFailure(detail: string): SigV4Error {
  return new SigV4Error("AccessDenied", `Invalid according to Policy: ${detail}`);
}

function badPolicy(detail: string): SigV4Error {
  // AWS answers InvalidPolicyDocument here; that code is not in the auth contract's union, and
  // MalformedPOSTRequest is the nearest one that is (400 as well).
  return new SigV4Error("MalformedPOSTRequest", `Invalid Policy: ${detail}`);
}

function missingField(name: string): SigV4Error {
  return new SigV4Error(
    "InvalidArgument",
    `Bucket POST must contain a field named '${name}'.  If it is specified, please check the ` +
      "order of the fields.",
    { ArgumentName: name },
  );
}

/** Lower-cases the names; the parser has already refused duplicates. */
function normalise(fields: Map<string, string> | Record<string, string>): Map<string, string> {
  const entries = fields instanceof Map ? [...fields] : Object.entries(fields);
  return new Map(entries.map(([k, v]) => [k.toLowerCase(), v]));
}

function decodePolicy(base64: string): { expiration: unknown; conditions: unknown } {
  let text: string;
  try {
    const bin = atob(base64.replace(/\s+/g, ""));
    text = new TextDecoder("utf-8", { fatal: true }).decode(
      Uint8Array.from(bin, (c) => c.charCodeAt(0)),
    );
  } catch {
    throw badPolicy("Invalid base64 encoding.");
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw badPolicy("Invalid JSON.");
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    throw badPolicy("Invalid JSON.");
  }
  return doc as { expiration: unknown; conditions: unknown };
}

/**
 * Verifies a POST upload's form fields (the text fields; `file` itself is not needed).
 * Returns anonymous when the form carries no signature at all (the bucket's policy decides then).
 */
export async function verifyPostPolicy(
  formFields: Map<string, string> | Record<string, string>,
  opts: PostPolicyOptions,
): Promise<PostPolicyResult> {
  const fields = normalise(formFields);
  const keyField = fields.get("key");
  if (keyField === undefined) throw missingField("key");
  const key = opts.filename === undefined
    ? keyField
    : keyField.replaceAll("${filename}", opts.filename);

  if (fields.has("awsaccesskeyid") || fields.has("signature")) {
    throw new SigV4Error("InvalidRequest", UNSUPPORTED_MECHANISM);
  }
  const signature = fields.get("x-amz-signature");
  const policy = fields.get("policy");
  if (signature === undefined && !fields.has("x-amz-credential")) {
    if (policy !== undefined) throw missingField("x-amz-signature");
    return { kind: "anonymous", key };
  }
  const algorithm = fields.get("x-amz-algorithm");
  if (algorithm === undefined) throw missingField("x-amz-algorithm");
  if (algorithm !== "AWS4-HMAC-SHA256") {
    throw new SigV4Error("InvalidRequest", UNSUPPORTED_MECHANISM);
  }
  const credential = fields.get("x-amz-credential");
  if (credential === undefined) throw missingField("x-amz-credential");
  if (signature === undefined) throw missingField("x-amz-signature");
  if (policy === undefined) throw missingField("policy");
  const amzDate = fields.get("x-amz-date");
  if (amzDate === undefined) throw missingField("x-amz-date");

  const scope = parseCredential(
    credential,
    opts,
    (m, d) =>
      new SigV4Error(
        "AuthorizationQueryParametersError",
        `Error parsing the X-Amz-Credential parameter; ${m}`,
        d,
      ),
  );
  if (parseAmzDate(amzDate) === undefined || amzDate.slice(0, 8) !== scope.date) {
    throw new SigV4Error(
      "AuthorizationQueryParametersError",
      `X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd'T'HHmmss'Z'" and on the ` +
        "credential's date",
    );
  }
  const creds = await lookupCredentials(scope.accessKey, opts);
  const expected = hmacHex(deriveSigningKey(creds.secretKey, scope.date, scope.region), policy);
  if (!constantTimeEqual(expected, signature.toLowerCase())) {
    throw new SigV4Error(
      "SignatureDoesNotMatch",
      "The request signature we calculated does not match the signature you provided. " +
        "Check your key and signing method.",
    );
  }
  checkSessionToken(creds, fields.get("x-amz-security-token"), opts.now);

  const doc = decodePolicy(policy);
  if (typeof doc.expiration !== "string") throw badPolicy("Policy missing expiration.");
  const expiration = Date.parse(doc.expiration);
  if (Number.isNaN(expiration)) throw badPolicy("Invalid 'expiration' value.");
  if (opts.now.getTime() > expiration) throw policyFailure("Policy expired.");
  if (!Array.isArray(doc.conditions)) throw badPolicy("Policy missing conditions.");

  const valueOf = (name: string): string =>
    name === "bucket" ? opts.bucket : name === "key" ? key : fields.get(name) ?? "";
  const covered = new Set<string>();
  let contentLengthRange: { min: number; max: number } | undefined;

  for (const condition of doc.conditions as unknown[]) {
    if (typeof condition === "object" && condition !== null && !Array.isArray(condition)) {
      const entries = Object.entries(condition);
      if (entries.length === 0) throw badPolicy("Invalid Condition: empty object.");
      for (const [rawName, want] of entries) {
        if (typeof want !== "string") throw badPolicy(`Invalid Condition for "${rawName}".`);
        const name = rawName.toLowerCase().replace(/^\$/, "");
        covered.add(name);
        if (valueOf(name) !== want) {
          throw policyFailure(`Policy Condition failed: ["eq", "$${rawName}", "${want}"]`);
        }
      }
      continue;
    }
    if (!Array.isArray(condition) || condition.length !== 3) {
      throw badPolicy(`Invalid Condition: ${JSON.stringify(condition)?.slice(0, 200)}`);
    }
    const [op, a, b] = condition as [unknown, unknown, unknown];
    const operator = typeof op === "string" ? op.toLowerCase() : "";
    if (operator === "content-length-range") {
      const min = Number(a);
      const max = Number(b);
      if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || min < 0 || max < min) {
        throw badPolicy("Invalid content-length-range.");
      }
      contentLengthRange = { min, max };
      continue;
    }
    if (
      (operator !== "eq" && operator !== "starts-with") || typeof a !== "string" ||
      !a.startsWith("$") || typeof b !== "string"
    ) {
      throw badPolicy(`Invalid Condition: ${JSON.stringify(condition).slice(0, 200)}`);
    }
    const name = a.slice(1).toLowerCase();
    covered.add(name);
    const value = valueOf(name);
    const ok = operator === "eq" ? value === b : value.startsWith(b);
    if (!ok) {
      throw policyFailure(`Policy Condition failed: ["${op}", "${a}", "${b}"]`);
    }
  }

  for (const name of fields.keys()) {
    if (EXEMPT.has(name) || name.startsWith("x-ignore-") || covered.has(name)) continue;
    throw policyFailure(`Extra input fields: ${name}`);
  }

  const result: PostPolicyResult = {
    kind: "signed",
    accessKey: scope.accessKey,
    credentials: creds,
    key,
  };
  if (contentLengthRange !== undefined) result.contentLengthRange = contentLengthRange;
  return result;
}
