/**
 * Who may scrape the metrics: a bearer JWT as `mc admin prometheus generate` makes it (HS512,
 * signed with the secret key of the access key in `sub`, `iss` "prometheus", `exp` in the future),
 * or anyone when SHALE_PROMETHEUS_AUTH_TYPE=public (MinIO's MINIO_PROMETHEUS_AUTH_TYPE).
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import type { CredentialStore } from "../s3/mod.ts";
import { PROMETHEUS_TOKEN_BYTES_MAX } from "../config/limits.ts";

export type PrometheusAuthType = "jwt" | "public";

/** MinIO's issuer claim for Prometheus tokens. */
export const PROMETHEUS_ISSUER = "prometheus";

function base64UrlDecode(text: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new Error("Token part is not base64url");
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/");
  return Uint8Array.from(atob(b64 + "=".repeat((4 - b64.length % 4) % 4)), (c) => c.charCodeAt(0));
}

function base64UrlEncode(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(
    /=+$/,
    "",
  );
}

/** A Prometheus bearer token for `accessKey`, as `mc admin prometheus generate` prints it. */
export function signPrometheusToken(
  accessKey: string,
  secretKey: string,
  opts: { expiresAt: Date },
): string {
  const enc = new TextEncoder();
  const header = base64UrlEncode(enc.encode(JSON.stringify({ alg: "HS512", typ: "JWT" })));
  const payload = base64UrlEncode(enc.encode(JSON.stringify({
    exp: Math.floor(opts.expiresAt.getTime() / 1000),
    sub: accessKey,
    iss: PROMETHEUS_ISSUER,
  })));
  const sig = createHmac("sha512", secretKey).update(`${header}.${payload}`).digest();
  return `${header}.${payload}.${base64UrlEncode(new Uint8Array(sig))}`;
}

/**
 * True when the request may read metrics. Never throws on a bad token: a malformed, expired,
 * foreign or wrongly signed token is simply not allowed.
 */
export async function prometheusAllowed(
  request: Request,
  opts: { authType: PrometheusAuthType; credentials: CredentialStore; now?: Date },
): Promise<boolean> {
  if (opts.authType === "public") return true;
  const header = request.headers.get("authorization");
  if (header === null || header.length > PROMETHEUS_TOKEN_BYTES_MAX) return false;
  const m = /^Bearer\s+([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/i.exec(header.trim());
  if (m === null) return false;
  const [, h = "", p = "", s = ""] = m;
  try {
    const dec = new TextDecoder();
    const head = JSON.parse(dec.decode(base64UrlDecode(h))) as { alg?: unknown };
    if (head.alg !== "HS512") return false;
    const claims = JSON.parse(dec.decode(base64UrlDecode(p))) as {
      sub?: unknown;
      exp?: unknown;
      iss?: unknown;
    };
    if (typeof claims.sub !== "string" || typeof claims.exp !== "number") return false;
    if (claims.iss !== PROMETHEUS_ISSUER) return false;
    if (claims.exp * 1000 <= (opts.now ?? new Date()).getTime()) return false;
    const creds = await opts.credentials.lookup(claims.sub);
    if (creds === undefined) return false;
    const want = createHmac("sha512", creds.secretKey).update(`${h}.${p}`).digest();
    const got = base64UrlDecode(s);
    return got.length === want.length && timingSafeEqual(got, want);
  } catch {
    return false;
  }
}
