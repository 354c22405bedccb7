/**
 * STS at the S3 endpoint: AssumeRole hands an IAM user temporary credentials.
 *
 * How this works:
 * - The session token is a JWT (HS256, via jose) signed with a server key derived from the root
 *   secret, so every node with the same root credentials can check it. It names the access key,
 *   the parent user, the expiry and the session policy.
 * - SigV4 needs the temporary secret before it reads the token, so each session is also stored,
 *   before its credentials are handed out, as one object `sts/<accessKey>.json` in the reserved
 *   IAM bucket (erasure-coded like the IAM document), with the secret sealed by AES-256-GCM under
 *   a key derived from the root secret. Sessions are cached in memory; a key not in the cache is
 *   read from the drives, so sessions survive a restart until they expire. Lookups return the
 *   token and expiry, so the auth layer refuses a request whose x-amz-security-token differs
 *   (InvalidTokenId) or that arrives after expiry (ExpiredToken). A stored session found long
 *   expired (STS_SESSION_GRACE_SECONDS) is deleted when next looked up.
 * - On every request `identity` verifies the token again (signature, expiry against the server
 *   clock, claims matching the key) and re-reads the parent user: a parent disabled or removed
 *   stops its sessions at once.
 * - Permissions are the parent's, intersected with the session policy when one was given.
 * - AssumeRoleWithWebIdentity (MinIO's model): RoleArn names the role of a provider configured
 *   with a role policy, and the session gets that role's policies; a RoleArn naming no role goes
 *   to the one provider that maps a claim to policies, if there is one. The session stores the
 *   policy names and resolves them on every request.
 */
import { assert } from "../util/assert.ts";
import { lazy } from "../util/lazy.ts";
import { Buffer } from "node:buffer";
import { createCipheriv, createDecipheriv, createHmac } from "node:crypto";
import type { Credentials } from "../auth/types.ts";
import {
  STS_DURATION_SECONDS_DEFAULT,
  STS_DURATION_SECONDS_MAX,
  STS_DURATION_SECONDS_MIN,
  STS_LIST_KEYS_MAX,
  STS_SESSION_GRACE_SECONDS,
  STS_SESSION_POLICY_CHARS_MAX,
  STS_SESSION_RECORD_BYTES_MAX,
  STS_SESSIONS_MAX,
  STS_SWEEP_INTERVAL_SECONDS,
  STS_SWEEP_KEYS_MAX,
} from "../config/limits.ts";
import type { Identity } from "./identity.ts";
import { InvalidIdentityToken, type OidcProvider } from "./oidc.ts";
import { parsePolicy } from "./policy.ts";
import { ObjectNotFound } from "../object/errors.ts";
import { IAM_BUCKET, type IamStore, randomKey } from "./store.ts";

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
  /** The OpenID providers for AssumeRoleWithWebIdentity (at most one without a role ARN). */
  oidc?: readonly OidcProvider[];
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
const SESSION_FORMAT = "shale-sts-session";
const SESSION_VERSION = 1;
/** STS access keys as issued: 20 upper-case letters and digits (others are never read). */
const SESSION_KEY = /^[A-Z0-9]{20}$/;

/** A stored session (`sts/<accessKey>.json`); the secret is sealed, base64 iv || ct || tag. */
interface StoredSession {
  format: typeof SESSION_FORMAT;
  version: number;
  accessKey: string;
  sealedSecret: string;
  sessionToken: string;
  expiresMs: number;
  parent: string;
  policy?: string;
  webPolicies?: string[];
}

export class StsService {
  readonly #sessions = new Map<string, Session>();
  readonly #key: Uint8Array;
  readonly #sealKey: Uint8Array;
  #sweptMs = -Infinity;
  readonly #now: () => Date;
  readonly #durationMin: number;
  /** OpenID providers with a role policy, by role ARN. */
  readonly #roles = new Map<string, OidcProvider>();
  /** The OpenID provider that maps a claim to policies. */
  readonly #claimProvider: OidcProvider | undefined;

  constructor(readonly store: IamStore, options: StsOptions) {
    this.#key = new Uint8Array(
      createHmac("sha256", options.rootSecretKey).update("shale sts session token v1").digest(),
    );
    this.#sealKey = new Uint8Array(
      createHmac("sha256", options.rootSecretKey).update("shale sts session secret v1").digest(),
    );
    this.#now = options.now ?? (() => new Date());
    this.#durationMin = options.durationSecondsMin ?? STS_DURATION_SECONDS_MIN;
    for (const p of options.oidc ?? []) {
      if (p.roleArn === undefined) {
        assert(this.#claimProvider === undefined, "At most one claim-based OpenID provider");
        this.#claimProvider = p;
      } else {
        assert(!this.#roles.has(p.roleArn), `Role ARN "${p.roleArn}" names one provider`);
        this.#roles.set(p.roleArn, p);
      }
    }
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
   * AssumeRoleWithWebIdentity: an OpenID Connect token from a configured provider, unsigned
   * request (the token is the credential), policies from the role RoleArn names or, without
   * one, from the claim-based provider's claim.
   */
  async assumeRoleWithWebIdentity(form: URLSearchParams): Promise<AssumedRole> {
    if (this.#roles.size === 0 && this.#claimProvider === undefined) {
      throw new StsError("InvalidParameterValue", "No OpenID provider is configured");
    }
    const token = form.get("WebIdentityToken");
    if (token === null || token === "") {
      throw new StsError("MissingParameter", "WebIdentityToken is required");
    }
    const roleArn = form.get("RoleArn") ?? "";
    // As MinIO: a RoleArn that names no role goes to the claim-based provider (AWS's SDKs and CLI
    // insist on some RoleArn); without one it is refused. Unlike AWS: MinIO's 400
    // InvalidParameterValue, where AWS answers 403 AccessDenied ("Not authorized to perform
    // sts:AssumeRoleWithWebIdentity") for a role the token cannot assume.
    const provider = this.#roles.get(roleArn) ?? this.#claimProvider;
    if (provider === undefined) {
      throw new StsError(
        "InvalidParameterValue",
        `Error processing RoleArn parameter: "${roleArn}" names no role of this server`,
      );
    }
    let who;
    try {
      who = await provider.verify(token, this.#now());
    } catch (e) {
      if (e instanceof InvalidIdentityToken) {
        throw new StsError("InvalidIdentityToken", e.message);
      }
      throw e;
    }
    const known = who.policies.filter((p) => this.store.policy(p) !== undefined);
    if (known.length === 0) {
      throw new StsError(
        "AccessDenied",
        provider.roleArn !== undefined
          ? `The role's policies (${who.policies.join(",")}) are not on this server`
          : "The token names no policy this server has",
        403,
      );
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
    const session: Session = {
      credentials: { accessKey, secretKey, sessionToken, expiresAt: expiration },
      parent,
      ...(policy !== undefined ? { policy } : {}),
      ...(webPolicies !== undefined ? { webPolicies } : {}),
    };
    this.#makeRoom();
    await this.#sweepIfDue(now);
    await this.#persist(session);
    this.#remember(accessKey, session);
    return { accessKey, secretKey, sessionToken, expiration, parent };
  }

  /** The temporary credentials of a live (or just expired) session, from memory or the drives. */
  lookup(accessKey: string): Credentials | undefined | Promise<Credentials | undefined> {
    const cached = this.#sessions.get(accessKey);
    if (cached !== undefined) return cached.credentials;
    if (!SESSION_KEY.test(accessKey)) return undefined;
    return this.#session(accessKey).then((s) => s?.credentials);
  }

  /** A live session's parent, expiry and session policy (admin temporary-account-info). */
  async sessionInfo(accessKey: string): Promise<SessionInfo | undefined> {
    const session = await this.#session(accessKey);
    if (session === undefined) return undefined;
    if (session.credentials.expiresAt.getTime() <= this.#now().getTime()) return undefined;
    return summary(session);
  }

  /**
   * Live sessions, of one parent or all, from the stored records (admin list-access-keys); at
   * most STS_LIST_KEYS_MAX records are looked at.
   */
  async listSessions(parent?: string): Promise<SessionInfo[]> {
    const page = await this.store.objects.listObjects(IAM_BUCKET, {
      prefix: "sts/",
      delimiter: "",
      after: "",
      maxKeys: STS_LIST_KEYS_MAX,
    });
    const out: SessionInfo[] = [];
    const now = this.#now().getTime();
    for (const o of page.objects) {
      const accessKey = o.key.slice("sts/".length, -".json".length);
      const session = await this.#session(accessKey);
      if (session === undefined || session.credentials.expiresAt.getTime() <= now) continue;
      if (parent === undefined || session.parent === parent) out.push(summary(session));
    }
    return out;
  }

  /** Who a session key acts as; undefined when the token no longer verifies. */
  async identity(accessKey: string): Promise<Identity | undefined> {
    const session = await this.#session(accessKey);
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

  /**
   * Deletes stored sessions that are certainly over (written longer ago than the longest duration
   * plus the grace), at most STS_SWEEP_KEYS_MAX per sweep and one sweep per
   * STS_SWEEP_INTERVAL_SECONDS, run by the AssumeRole that finds one due: records of sessions
   * never looked up again after they expired do not pile up.
   */
  async #sweepIfDue(now: Date): Promise<void> {
    if (now.getTime() - this.#sweptMs < STS_SWEEP_INTERVAL_SECONDS * 1000) return;
    this.#sweptMs = now.getTime();
    const cutoff = now.getTime() - (STS_DURATION_SECONDS_MAX + STS_SESSION_GRACE_SECONDS) * 1000;
    const page = await this.store.objects.listObjects(IAM_BUCKET, {
      prefix: "sts/",
      delimiter: "",
      after: "",
      maxKeys: STS_SWEEP_KEYS_MAX,
    });
    for (const o of page.objects) {
      if (o.lastModified.getTime() < cutoff) {
        await this.store.objects.deleteObject(IAM_BUCKET, o.key).catch(() => {});
      }
    }
  }

  /** Refuses a new session while STS_SESSIONS_MAX live ones are cached (expired ones go first). */
  #makeRoom(): void {
    if (this.#sessions.size < STS_SESSIONS_MAX) return;
    const now = this.#now().getTime();
    for (const [k, s] of this.#sessions) {
      if (s.credentials.expiresAt.getTime() <= now) this.#sessions.delete(k);
    }
    if (this.#sessions.size >= STS_SESSIONS_MAX) {
      throw new StsError("ServiceUnavailable", "Too many live sessions", 503);
    }
  }

  #remember(accessKey: string, session: Session): void {
    if (this.#sessions.size < STS_SESSIONS_MAX) this.#sessions.set(accessKey, session);
  }

  /** A session from the cache, else from the drives (cached when found). */
  async #session(accessKey: string): Promise<Session | undefined> {
    const cached = this.#sessions.get(accessKey);
    if (cached !== undefined) return cached;
    if (!SESSION_KEY.test(accessKey)) return undefined;
    const session = await this.#load(accessKey);
    if (session === undefined) return undefined;
    const expiredMs = this.#now().getTime() - session.credentials.expiresAt.getTime();
    if (expiredMs > STS_SESSION_GRACE_SECONDS * 1000) {
      await this.store.objects.deleteObject(IAM_BUCKET, sessionObject(accessKey)).catch(() => {});
      return undefined;
    }
    this.#remember(accessKey, session);
    return session;
  }

  async #persist(session: Session): Promise<void> {
    const c = session.credentials;
    const doc: StoredSession = {
      format: SESSION_FORMAT,
      version: SESSION_VERSION,
      accessKey: c.accessKey,
      sealedSecret: this.#seal(c.accessKey, c.secretKey),
      sessionToken: c.sessionToken,
      expiresMs: c.expiresAt.getTime(),
      parent: session.parent,
      ...(session.policy !== undefined ? { policy: session.policy } : {}),
      ...(session.webPolicies !== undefined ? { webPolicies: session.webPolicies } : {}),
    };
    const bytes = new TextEncoder().encode(JSON.stringify(doc));
    await this.store.objects.putObject(
      IAM_BUCKET,
      sessionObject(c.accessKey),
      new Blob([bytes]).stream(),
      { size: bytes.byteLength, metadata: { contentType: "application/json", user: {} } },
    );
  }

  async #load(accessKey: string): Promise<Session | undefined> {
    let reader;
    try {
      reader = await this.store.objects.openObject(IAM_BUCKET, sessionObject(accessKey));
    } catch (e) {
      if (e instanceof ObjectNotFound) return undefined;
      throw e;
    }
    if (reader.info.size > STS_SESSION_RECORD_BYTES_MAX) {
      reader.close();
      throw new Error(`Stored STS session "${accessKey}" is ${reader.info.size} bytes, too large`);
    }
    const doc = JSON.parse(
      await new Response(reader.stream(0, reader.info.size)).text(),
    ) as StoredSession;
    if (doc.format !== SESSION_FORMAT || doc.version > SESSION_VERSION) {
      throw new Error(`Stored STS session has unknown format "${String(doc.format)}"`);
    }
    if (doc.accessKey !== accessKey) return undefined;
    const secretKey = this.#unseal(accessKey, doc.sealedSecret);
    if (secretKey === undefined) return undefined;
    return {
      credentials: {
        accessKey,
        secretKey,
        sessionToken: doc.sessionToken,
        expiresAt: new Date(doc.expiresMs),
      },
      parent: doc.parent,
      ...(doc.policy !== undefined ? { policy: doc.policy } : {}),
      ...(doc.webPolicies !== undefined ? { webPolicies: doc.webPolicies } : {}),
    };
  }

  /** AES-256-GCM with the access key as associated data (a sealed secret cannot be moved). */
  #seal(accessKey: string, secret: string): string {
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const c = createCipheriv("aes-256-gcm", this.#sealKey, iv);
    c.setAAD(new TextEncoder().encode(accessKey));
    const body = Buffer.concat([c.update(secret, "utf8"), c.final()]);
    return Buffer.concat([iv, body, c.getAuthTag()]).toString("base64");
  }

  #unseal(accessKey: string, sealed: string): string | undefined {
    const bytes = Buffer.from(sealed, "base64");
    if (bytes.byteLength < 12 + 16) return undefined;
    try {
      const d = createDecipheriv("aes-256-gcm", this.#sealKey, bytes.subarray(0, 12));
      d.setAAD(new TextEncoder().encode(accessKey));
      d.setAuthTag(bytes.subarray(bytes.byteLength - 16));
      return Buffer.concat([d.update(bytes.subarray(12, bytes.byteLength - 16)), d.final()])
        .toString("utf8");
    } catch {
      return undefined;
    }
  }
}

export interface SessionInfo {
  accessKey: string;
  parent: string;
  expiresAt: Date;
  policy?: string;
}

function summary(session: Session): SessionInfo {
  return {
    accessKey: session.credentials.accessKey,
    parent: session.parent,
    expiresAt: session.credentials.expiresAt,
    ...(session.policy !== undefined ? { policy: session.policy } : {}),
  };
}

function sessionObject(accessKey: string): string {
  return `sts/${accessKey}.json`;
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
  lookup(accessKey: string): Credentials | undefined | Promise<Credentials | undefined>;
  identity(accessKey: string): Identity | undefined | Promise<Identity | undefined>;
} {
  return {
    lookup: (accessKey) => store.lookup(accessKey) ?? sts.lookup(accessKey),
    identity: (accessKey) => store.identity(accessKey) ?? sts.identity(accessKey),
  };
}
