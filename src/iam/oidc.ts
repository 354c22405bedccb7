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
 *   or, when a role policy is configured, from it for every token of the provider. A provider
 *   with a role policy has a role ARN (`openIdRoleArn`), which AssumeRoleWithWebIdentity's
 *   RoleArn names to pick it (src/iam/sts.ts).
 * - Several providers are configured as MinIO does, by suffixed variables
 *   (`IDENTITY_OPENID_CONFIG_URL_<NAME>`, `..._CLIENT_ID_<NAME>`, ...): each with a role policy
 *   has its own role ARN; at most one maps claims to policies.
 */
import type { createRemoteJWKSet } from "jose";
import { createHash } from "node:crypto";
import { lazy } from "../util/lazy.ts";
import { OIDC_JWKS_REFRESH_COOLDOWN_MS } from "../config/limits.ts";

// Loaded by the first web identity token: most servers have no OpenID provider (issue 6: start-up).
const jose = lazy(() => import("jose"));

export interface OidcConfig {
  /** MinIO's configuration name: `_` for the unsuffixed variables, else the suffix. */
  name?: string;
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

/** A configuration the server cannot start with; the message names the variable. */
export class OpenIdConfigError extends Error {
  override name = "OpenIdConfigError";
}

/**
 * The role ARN of a provider with a role policy, derived as MinIO derives it (so an application
 * written for MinIO keeps its RoleArn): `arn:minio:iam:::role/` and the unpadded base64url of the
 * SHA-1 of the client id. Stable across restarts and nodes, and changes only with the client id.
 * The region field stays empty whatever the server's region (MinIO fills it only when its site
 * region is set).
 */
export function openIdRoleArn(clientId: string): string {
  return `arn:minio:iam:::role/${createHash("sha1").update(clientId).digest("base64url")}`;
}

export class OidcProvider {
  #discovered: Promise<{ issuer: string; jwks: ReturnType<typeof createRemoteJWKSet> }> | undefined;
  /** The role ARN that picks this provider, when it has a role policy. */
  readonly roleArn: string | undefined;
  /** The role policy's names (none without one). */
  readonly rolePolicies: string[];

  constructor(readonly config: OidcConfig) {
    this.roleArn = config.rolePolicy !== undefined ? openIdRoleArn(config.clientId) : undefined;
    this.rolePolicies = splitPolicies(config.rolePolicy ?? "");
  }

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
      policies = [...this.rolePolicies];
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

const OPENID_PREFIXES = ["SHALE_", "MINIO_"];
const CONFIG_URL = /^(?:SHALE|MINIO)_IDENTITY_OPENID_CONFIG_URL(?:_(.+))?$/;

/**
 * MinIO's OpenID settings from the environment (SHALE_ first, then MINIO_):
 * IDENTITY_OPENID_CONFIG_URL, _CLIENT_ID, _CLAIM_NAME, _ROLE_POLICY, _ENABLE, each also with a
 * `_<NAME>` suffix for more providers. Refused as MinIO refuses them: a role policy without a
 * client id, a role policy together with a claim name other than `policy`, one client id for two
 * providers, and more than one provider without a role policy (a request could not say which).
 */
export function openIdConfigsFromEnv(env: Record<string, string>): OidcConfig[] {
  const names = new Set<string>();
  for (const key of Object.keys(env)) {
    const m = CONFIG_URL.exec(key);
    if (m !== null) names.add(m[1] ?? "_");
  }
  const configs: OidcConfig[] = [];
  const clientIds = new Set<string>();
  let claimBased: string | undefined;
  // The unsuffixed provider first, then by name: a stable order for the start-up log.
  const ordered = [...names].sort((a, b) => a === "_" ? -1 : b === "_" ? 1 : a.localeCompare(b));
  for (const name of ordered) {
    const suffix = name === "_" ? "" : `_${name}`;
    const get = (param: string) => {
      for (const prefix of OPENID_PREFIXES) {
        const v = env[`${prefix}IDENTITY_OPENID_${param}${suffix}`];
        if (v !== undefined && v !== "") return v;
      }
      return undefined;
    };
    const configUrl = get("CONFIG_URL");
    const enable = get("ENABLE");
    if (configUrl === undefined || enable === "off" || enable === "false") continue;
    const config: OidcConfig = { name, configUrl, clientId: get("CLIENT_ID") ?? "" };
    const claimName = get("CLAIM_NAME");
    const rolePolicy = get("ROLE_POLICY");
    if (claimName !== undefined) config.claimName = claimName;
    if (rolePolicy !== undefined) config.rolePolicy = rolePolicy;
    const variable = (param: string) => `IDENTITY_OPENID_${param}${suffix}`;
    if (rolePolicy !== undefined && config.clientId === "") {
      throw new OpenIdConfigError(
        `OpenID provider "${name}": ${variable("ROLE_POLICY")} needs ${variable("CLIENT_ID")}`,
      );
    }
    if (rolePolicy !== undefined && claimName !== undefined && claimName !== "policy") {
      throw new OpenIdConfigError(
        `OpenID provider "${name}": ${variable("ROLE_POLICY")} and ${
          variable("CLAIM_NAME")
        } cannot both be set`,
      );
    }
    if (clientIds.has(config.clientId)) {
      throw new OpenIdConfigError(
        `OpenID provider "${name}": client id "${config.clientId}" is used by another provider`,
      );
    }
    clientIds.add(config.clientId);
    if (rolePolicy === undefined) {
      if (claimBased !== undefined) {
        throw new OpenIdConfigError(
          `OpenID providers "${claimBased}" and "${name}" both map claims to policies; ` +
            `only one may (set ${variable("ROLE_POLICY")})`,
        );
      }
      claimBased = name;
    }
    configs.push(config);
  }
  return configs;
}
