/**
 * The SigV4 canonical request and string to sign, shared by the verifier and the test signers.
 * AWS: "Create a canonical request" and "Create a string to sign" (Signature Version 4, S3).
 */
import {
  ALGORITHM,
  canonicalHeaderValue,
  canonicalQuery,
  canonicalUri,
  type QueryParam,
} from "./_crypto.ts";
import { createHash } from "node:crypto";

export interface CanonicalParts {
  method: string;
  rawPath: string;
  query: QueryParam[];
  headers: Headers;
  /** Lower-case names in the order the client listed them. */
  signedHeaders: string[];
  payloadHash: string;
  /** Presigned URLs leave `X-Amz-Signature` out of the canonical query. */
  presigned: boolean;
}

/**
 * Some proxies drop `Expect: 100-continue` after acting on it; MinIO signs it back in too.
 * Go's HTTP client can send Content-Length twice (rclone's presigned PUTs do), which Deno joins
 * into "100, 100"; RFC 9110 section 8.6 lets identical copies count as one, and the client signed
 * the one value (MinIO signs r.ContentLength).
 */
function signedHeaderValue(headers: Headers, name: string): string {
  const v = headers.get(name);
  if (v === null && name === "expect") return "100-continue";
  if (v !== null && name === "content-length") {
    const copies = v.split(",").map((c) => c.trim());
    if (copies.every((c) => c === copies[0])) return copies[0]!;
  }
  return canonicalHeaderValue(v ?? "");
}

export function canonicalRequest(p: CanonicalParts): string {
  let headerBlock = "";
  for (const name of p.signedHeaders) {
    headerBlock += `${name}:${signedHeaderValue(p.headers, name)}\n`;
  }
  return [
    // As sent: HTTP methods are case-sensitive (fetch upper-cases the standard ones already).
    p.method,
    canonicalUri(p.rawPath),
    canonicalQuery(p.query, p.presigned ? "X-Amz-Signature" : undefined),
    headerBlock,
    p.signedHeaders.join(";"),
    p.payloadHash,
  ].join("\n");
}

/**
 * The canonical request is hashed as bytes, one per character: header values arrive as byte
 * strings (a UTF-8 "é" is the two characters "Ã©"), so this reproduces the bytes the client
 * hashed; everything else in it is ASCII.
 */
export function stringToSign(amzDate: string, scope: string, canonical: string): string {
  const hash = createHash("sha256").update(canonical, "latin1").digest("hex");
  return `${ALGORITHM}\n${amzDate}\n${scope}\n${hash}`;
}
