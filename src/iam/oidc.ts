/**
 * An OpenID Connect provider for AssumeRoleWithWebIdentity, through jose.
 *
 * How this works:
 * - The discovery document (`.well-known/openid-configuration`) gives the issuer and the JWKS
 *   address; it is fetched on first use and kept.
 * - jose's remote JWK set caches the keys and fetches them again when a token names a key id it
 *   does not know (a rotation), at most once per cooldown.
 * - A token must be signed with an asymmetric algorithm by a key of the set (`alg: none` and
 *   HMAC are refused: an HMAC "signed" with the public key would otherwise verify), come from the
 *   issuer, name the client id in `aud` (or `azp`), and be inside its exp / nbf window.
 * - Policies come from a claim (MinIO's `policy` by default: a comma-separated string or a list),
 *   or, when a role policy is configured, from it for every token of the provider.
 */
import type { createRemoteJWKSet } from "jose";
import { lazy } from "../util/lazy.ts";
import { OIDC_JWKS_REFRESH_COOLDOWN_MS } from "../config/limits.ts";

// Loaded by the first web identity token: most servers have no OpenID provider (issue 6: start-up).
const jose = lazy(() => import("jose"));

export interface OidcConfig {
  /** SHALE_IDENTITY_OPENID_CONFIG_URL: the discovery document's address. */
  configUrl: string;
  /** SHALE_IDENTITY_OPENID_CLIENT_ID: the audience tokens must name. */
  clientId: string;
  /** SHALE_IDENTITY_OPENID_CLAIM_NAME: the claim listing policies (default `policy`). */
  claimName?: string;
  /** SHALE_IDENTITY_OPENID_ROLE_POLICY: policies for every token (instead of the claim). */
  rolePolicy?: string;
}

export interface WebIdentity {
  subject: string;
  issuer: string;
  policies: string[];
  /** The token's own expiry (seconds since the epoch): sessions never outlive it. */
  expiresAt?: number;
}

/** A token the provider refuses; the message says why (for logs and the STS error). */
export class InvalidIdentityToken extends Error {
  override name = "InvalidIdentityToken";
}

const ASYMMETRIC = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
];

export class OidcProvider {
  #discovered: Promise<{ issuer: string; jwks: ReturnType<typeof createRemoteJWKSet> }> | undefined;

  constructor(readonly config: OidcConfig) {}

  async verify(token: string, now: Date): Promise<WebIdentity> {
    const { issuer, jwks } = await this.#discover();
    const { jwtVerify } = await jose();
    let payload;
    try {
      ({ payload } = await jwtVerify(token, jwks, {
        issuer,
        algorithms: ASYMMETRIC,
        currentDate: now,
        requiredClaims: ["exp", "sub"],
      }));
    } catch (e) {
      throw new InvalidIdentityToken(`Token refused: ${(e as Error).message}`);
    }
    const aud = typeof payload.aud === "string" ? [payload.aud] : payload.aud ?? [];
    if (!aud.includes(this.config.clientId) && payload.azp !== this.config.clientId) {
      throw new InvalidIdentityToken("Token refused: audience does not name the client id");
    }
    let policies: string[];
    if (this.config.rolePolicy !== undefined) {
      policies = splitPolicies(this.config.rolePolicy);
    } else {
      const claim = payload[this.config.claimName ?? "policy"];
      policies = Array.isArray(claim)
        ? claim.map(String)
        : typeof claim === "string"
        ? splitPolicies(claim)
        : [];
    }
    const identity: WebIdentity = { subject: String(payload.sub), issuer, policies };
    if (typeof payload.exp === "number") identity.expiresAt = payload.exp;
    return identity;
  }

  #discover(): Promise<{ issuer: string; jwks: ReturnType<typeof createRemoteJWKSet> }> {
    this.#discovered ??= (async () => {
      const r = await fetch(this.config.configUrl);
      if (!r.ok) throw new Error(`OpenID discovery failed: HTTP ${r.status}`);
      const doc = await r.json() as { issuer?: unknown; jwks_uri?: unknown };
      if (typeof doc.issuer !== "string" || typeof doc.jwks_uri !== "string") {
        throw new Error("OpenID discovery document lacks issuer or jwks_uri");
      }
      const { createRemoteJWKSet } = await jose();
      return {
        issuer: doc.issuer,
        jwks: createRemoteJWKSet(new URL(doc.jwks_uri), {
          cooldownDuration: OIDC_JWKS_REFRESH_COOLDOWN_MS,
        }),
      };
    })();
    // A failed discovery is tried again on the next token.
    this.#discovered.catch(() => (this.#discovered = undefined));
    return this.#discovered;
  }
}

function splitPolicies(text: string): string[] {
  return text.split(",").map((p) => p.trim()).filter((p) => p !== "");
}
