/**
 * STS at the S3 endpoint: AssumeRole hands an IAM user temporary credentials.
 *
 * How this works:
 * - The session token is a JWT (HS256, via jose) signed with a server key derived from the root
 *   secret, so every node with the same root credentials can check it. It names the access key,
 *   the parent user, the expiry and the session policy.
 * - The temporary secret is kept in memory with its session (SigV4 needs it before the token is
 *   read); lookups return the token and expiry, so the auth layer refuses a request whose
 *   x-amz-security-token differs (InvalidTokenId) or that arrives after expiry (ExpiredToken).
 * - On every request `identity` verifies the token again (signature, expiry against the server
 *   clock, claims matching the key) and re-reads the parent user: a parent disabled or removed
 *   stops its sessions at once.
 * - Permissions are the parent's, intersected with the session policy when one was given.
 *
 * Unlike MinIO: sessions live in memory only (a restart ends them; MinIO persists them in IAM).
 */
import { lazy } from "../util/lazy.ts";
import { createHmac } from "node:crypto";
import type { Credentials } from "../auth/types.ts";
import {
  STS_DURATION_SECONDS_DEFAULT,
  STS_DURATION_SECONDS_MAX,
  STS_DURATION_SECONDS_MIN,
  STS_SESSION_POLICY_CHARS_MAX,
  STS_SESSIONS_MAX,
} from "../config/limits.ts";
import type { Identity } from "./identity.ts";
import { InvalidIdentityToken, type OidcProvider } from "./oidc.ts";
import { parsePolicy } from "./policy.ts";
import { type IamStore, randomKey } from "./store.ts";

// Loaded by the first STS call or session request: most servers never use it (issue 6: start-up).
const jose = lazy(() => import("jose"));

/** An STS error, with AWS's code and HTTP status. */
export class StsError extends Error {
  override name = "StsError";
  constructor(readonly code: string, message: string, readonly status = 400) {
    super(message);
  }
}

export interface StsOptions {
  rootSecretKey: string;
  now?: () => Date;
  /**
   * Test-only: the shortest DurationSeconds accepted (AWS's is 900). End-to-end tests lower it
   * (SHALE_TEST_STS_DURATION_SECONDS_MIN) to see credentials expire within seconds.
   */
  durationSecondsMin?: number;
  /** The OpenID provider for AssumeRoleWithWebIdentity, when configured. */
  oidc?: OidcProvider;
}

interface Session {
  credentials: Required<Credentials>;
  parent: string;
  policy?: string;
  /** Web-identity sessions: the policies the provider named (there is no IAM user behind). */
  webPolicies?: string[];
}

export interface AssumedRole {
  accessKey: string;
  secretKey: string;
  sessionToken: string;
  expiration: Date;
  parent: string;
}

const ISSUER = "shale-sts";

export class StsService {
  readonly #sessions = new Map<string, Session>();
  readonly #key: Uint8Array;
  readonly #now: () => Date;
  readonly #durationMin: number;
  readonly #oidc: OidcProvider | undefined;

  constructor(readonly store: IamStore, options: StsOptions) {
    this.#key = new Uint8Array(
      createHmac("sha256", options.rootSecretKey).update("shale sts session token v1").digest(),
    );
    this.#now = options.now ?? (() => new Date());
    this.#durationMin = options.durationSecondsMin ?? STS_DURATION_SECONDS_MIN;
    this.#oidc = options.oidc;
  }

  /** AssumeRole for an IAM user (root, service accounts and sessions are refused, as AWS). */
  async assumeRole(
    caller: Identity,
    form: URLSearchParams,
  ): Promise<AssumedRole> {
    if (caller.isRoot || this.store.getUser(caller.accessKey) === undefined) {
      throw new StsError(
        "AccessDenied",
        "AssumeRole is only for IAM users: root, service accounts and sessions cannot call it",
        403,
      );
    }
    return await this.#issue(caller.username, form, undefined);
  }

  /**
   * AssumeRoleWithWebIdentity: an OpenID Connect token from the configured provider, unsigned
   * request (the token is the credential), policies from its claim or the provider's role.
   */
  async assumeRoleWithWebIdentity(form: URLSearchParams): Promise<AssumedRole> {
    if (this.#oidc === undefined) {
      throw new StsError("InvalidParameterValue", "No OpenID provider is configured");
    }
    const token = form.get("WebIdentityToken");
    if (token === null || token === "") {
      throw new StsError("MissingParameter", "WebIdentityToken is required");
    }
    let who;
    try {
      who = await this.#oidc.verify(token, this.#now());
    } catch (e) {
      if (e instanceof InvalidIdentityToken) {
        throw new StsError("InvalidIdentityToken", e.message);
      }
      throw e;
    }
    const known = who.policies.filter((p) => this.store.policy(p) !== undefined);
    if (known.length === 0) {
      throw new StsError("AccessDenied", "The token names no policy this server has", 403);
    }
    return await this.#issue(who.subject, form, known);
  }

  async #issue(
    parent: string,
    form: URLSearchParams,
    webPolicies: string[] | undefined,
  ): Promise<AssumedRole> {
    const durationText = form.get("DurationSeconds");
    let duration = STS_DURATION_SECONDS_DEFAULT;
    if (durationText !== null) {
      duration = /^\d{1,6}$/.test(durationText) ? Number(durationText) : NaN;
      if (!(duration >= this.#durationMin && duration <= STS_DURATION_SECONDS_MAX)) {
        throw new StsError(
          "ValidationError",
          `1 validation error detected: Value '${durationText}' at 'durationSeconds' failed to satisfy constraint: Member must have value between ${this.#durationMin} and ${STS_DURATION_SECONDS_MAX}`,
        );
      }
    }
    const policy = form.get("Policy") ?? undefined;
    if (policy !== undefined) {
      if (policy.length > STS_SESSION_POLICY_CHARS_MAX) {
        throw new StsError(
          "PackedPolicyTooLarge",
          "The session policy exceeds the maximum allowed size.",
        );
      }
      try {
        parsePolicy(policy, { kind: "identity" });
      } catch (e) {
        throw new StsError("MalformedPolicyDocument", (e as Error).message);
      }
    }
    const now = this.#now();
    const expiration = new Date(Math.floor(now.getTime() / 1000) * 1000 + duration * 1000);
    const accessKey = randomKey(20, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
    const secretKey = randomKey(40);
    const claims: Record<string, string> = { accessKey, parent };
    if (policy !== undefined) claims.sessionPolicy = policy;
    const { SignJWT } = await jose();
    const sessionToken = await new SignJWT(claims)
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setIssuer(ISSUER)
      .setSubject(parent)
      .setIssuedAt(Math.floor(now.getTime() / 1000))
      .setExpirationTime(Math.floor(expiration.getTime() / 1000))
      .sign(this.#key);
    this.#remember(accessKey, {
      credentials: { accessKey, secretKey, sessionToken, expiresAt: expiration },
      parent,
      ...(policy !== undefined ? { policy } : {}),
      ...(webPolicies !== undefined ? { webPolicies } : {}),
    });
    return { accessKey, secretKey, sessionToken, expiration, parent };
  }

  /** The temporary credentials of a live (or just expired) session. */
  lookup(accessKey: string): Credentials | undefined {
    return this.#sessions.get(accessKey)?.credentials;
  }

  /** Who a session key acts as; undefined when the token no longer verifies. */
  async identity(accessKey: string): Promise<Identity | undefined> {
    const session = this.#sessions.get(accessKey);
    if (session === undefined) return undefined;
    const { jwtVerify } = await jose();
    try {
      const { payload } = await jwtVerify(session.credentials.sessionToken, this.#key, {
        algorithms: ["HS256"],
        issuer: ISSUER,
        currentDate: this.#now(),
        clockTolerance: 0,
      });
      if (payload.accessKey !== accessKey || payload.parent !== session.parent) return undefined;
    } catch {
      return undefined;
    }
    let identity: Identity;
    if (session.webPolicies !== undefined) {
      const policies = session.webPolicies.flatMap((n) => this.store.policy(n) ?? []);
      identity = { accessKey, username: session.parent, isRoot: false, policies };
    } else {
      const parent = this.store.identity(session.parent);
      if (parent === undefined || parent.isRoot) return undefined;
      identity = { ...parent, accessKey };
    }
    if (session.policy !== undefined) {
      identity.limits = [
        ...(identity.limits ?? []),
        [parsePolicy(session.policy, { kind: "identity" })],
      ];
    }
    return identity;
  }

  #remember(accessKey: string, session: Session): void {
    if (this.#sessions.size >= STS_SESSIONS_MAX) {
      const now = this.#now().getTime();
      for (const [k, s] of this.#sessions) {
        if (s.credentials.expiresAt.getTime() <= now) this.#sessions.delete(k);
      }
      if (this.#sessions.size >= STS_SESSIONS_MAX) {
        throw new StsError("ServiceUnavailable", "Too many live sessions", 503);
      }
    }
    this.#sessions.set(accessKey, session);
  }
}

/** The AssumeRole answer as AWS STS writes it (values are base64url or alphanumeric). */
export function assumeRoleXml(
  role: AssumedRole,
  requestId: string,
  action: "AssumeRole" | "AssumeRoleWithWebIdentity" = "AssumeRole",
): string {
  const esc = (s: string) => s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<?xml version="1.0" encoding="UTF-8"?>
<${action}Response xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><${action}Result>` +
    (action === "AssumeRoleWithWebIdentity"
      ? `<SubjectFromWebIdentityToken>${esc(role.parent)}</SubjectFromWebIdentityToken>`
      : "") +
    `<AssumedRoleUser><Arn>arn:aws:sts:::assumed-role/${esc(role.parent)}</Arn>` +
    `<AssumedRoleId>${esc(role.accessKey)}:${esc(role.parent)}</AssumedRoleId></AssumedRoleUser>` +
    `<Credentials><AccessKeyId>${esc(role.accessKey)}</AccessKeyId>` +
    `<SecretAccessKey>${esc(role.secretKey)}</SecretAccessKey>` +
    `<SessionToken>${esc(role.sessionToken)}</SessionToken>` +
    `<Expiration>${role.expiration.toISOString().replace(/\.\d{3}Z$/, "Z")}</Expiration>` +
    `</Credentials></${action}Result>` +
    `<ResponseMetadata><RequestId>${esc(requestId)}</RequestId></ResponseMetadata>` +
    `</${action}Response>`;
}

/** AWS STS error XML. */
export function stsErrorXml(e: StsError, requestId: string): string {
  const esc = (s: string) => s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<?xml version="1.0" encoding="UTF-8"?>
<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>` +
    `<Code>${esc(e.code)}</Code><Message>${esc(e.message)}</Message></Error>` +
    `<RequestId>${esc(requestId)}</RequestId></ErrorResponse>`;
}

/** Root, IAM users, service accounts and STS sessions behind one CredentialStore. */
export function iamCredentialStore(store: IamStore, sts: StsService): {
  lookup(accessKey: string): Credentials | undefined;
  identity(accessKey: string): Identity | undefined | Promise<Identity | undefined>;
} {
  return {
    lookup: (accessKey) => store.lookup(accessKey) ?? sts.lookup(accessKey),
    identity: (accessKey) => store.identity(accessKey) ?? sts.identity(accessKey),
  };
}
