/**
 * The IAM part of MinIO's admin API (`/minio/admin/v3/...`): users, groups, policies, service
 * accounts and access keys, authenticated with SigV4 like S3 and allowed to root (or to
 * identities whose policies allow the matching `admin:` action), so that `mc admin` works
 * unchanged.
 *
 * How this works: `mc admin` (madmin-go) encrypts some request bodies (add-user, service
 * accounts, policy attach/detach) and expects some answers encrypted (list-users, service-account
 * and access-key listings and info, attach/detach results) with a key derived from the signer's
 * secret key (madmin_crypto.ts). A body is decrypted when it is a madmin ciphertext and taken as
 * plain JSON otherwise (so `shale admin` and hand-signed requests may send plain JSON); the
 * answers MinIO encrypts are always encrypted (`encrypt` on the route), the others are plain.
 */
import {
  authenticateRequest,
  type AuthResult,
  SigV4Error,
  verifySha256Payload,
} from "../auth/mod.ts";
import { ADMIN_BODY_BYTES_MAX } from "../config/limits.ts";
import { isAllowed } from "./authorize.ts";
import {
  decryptMadmin,
  encryptMadmin,
  isMadminEncrypted,
  MadminCryptoError,
} from "./madmin_crypto.ts";
import type { Identity } from "./identity.ts";
import { evaluatePolicies, MalformedPolicy } from "./policy.ts";
import { IamError, type IamStore, type ServiceAccountRecord, type Status } from "./store.ts";
import type { SessionInfo, StsService } from "./sts.ts";

export const ADMIN_PREFIX = "/minio/admin/v3/";

export interface AdminApiOptions {
  store: IamStore;
  region: string;
  now?: () => Date;
  /** STS sessions, for temporary-account-info and the STS keys of list-access-keys-bulk. */
  sts?: StsService;
}

/** Answers an admin IAM request, or undefined when the path is not one of them. */
export async function handleIamAdmin(
  request: Request,
  url: URL,
  options: AdminApiOptions,
): Promise<Response | undefined> {
  if (!url.pathname.startsWith(ADMIN_PREFIX)) return undefined;
  const op = url.pathname.slice(ADMIN_PREFIX.length);
  const route = ROUTES[`${request.method} ${op}`];
  if (route === undefined) return undefined;
  try {
    const { identity, secretKey } = await authenticate(request, options);
    const raw = await readBody(request);
    const body = new TextDecoder().decode(
      isMadminEncrypted(raw) ? await decryptMadmin(secretKey, raw) : raw,
    );
    const context: RouteContext = {
      store: options.store,
      q: url.searchParams,
      body,
      url,
      sts: options.sts,
      caller: identity,
    };
    if (!await adminAllowed(route, context)) {
      return adminError(403, "AccessDenied", "Access Denied.");
    }
    const result = await route.run(context);
    if (result === undefined) return new Response(null, { status: route.status ?? 200 });
    const json = new TextEncoder().encode(JSON.stringify(result));
    if (route.encrypt !== true) {
      return new Response(json, { headers: { "content-type": "application/json" } });
    }
    return new Response(await encryptMadmin(secretKey, json), {
      headers: { "content-type": "application/octet-stream" },
    });
  } catch (e) {
    return errorAnswer(e);
  }
}

interface RouteContext {
  store: IamStore;
  q: URLSearchParams;
  /** The request body, decrypted when mc encrypted it. */
  body: string;
  url: URL;
  sts: StsService | undefined;
  caller: Identity;
}

interface Route {
  action: string;
  run: (c: RouteContext) => Promise<unknown>;
  /**
   * The user whose own service accounts or access keys the request is about, when it is about
   * one user's: a user may manage their own without an admin policy (as MinIO), unless a policy
   * of theirs explicitly denies the action.
   */
  owner?: (c: RouteContext) => string | undefined;
  /** MinIO encrypts this answer for the caller (madmin DecryptData on the client side). */
  encrypt?: boolean;
  /** The status of an answer without a body (MinIO answers some with 204). */
  status?: number;
}

const ROUTES: Record<string, Route> = {
  "PUT add-user": {
    action: "admin:CreateUser",
    run: async ({ store, q, body }) => {
      const doc = json(body) as { secretKey?: unknown; status?: unknown; policy?: unknown };
      const accessKey = required(q, "accessKey");
      if (typeof doc.secretKey !== "string") throw badRequest("secretKey is required");
      await store.addUser(accessKey, doc.secretKey);
      if (doc.status === "disabled") await store.setUserStatus(accessKey, "disabled");
      if (typeof doc.policy === "string" && doc.policy !== "") {
        await store.attachPolicies({ user: accessKey }, doc.policy.split(","));
      }
    },
  },
  "DELETE remove-user": {
    action: "admin:DeleteUser",
    run: ({ store, q }) => store.removeUser(required(q, "accessKey")),
  },
  "PUT set-user-status": {
    action: "admin:EnableUser",
    run: ({ store, q }) => store.setUserStatus(required(q, "accessKey"), status(q)),
  },
  "GET list-users": {
    action: "admin:ListUsers",
    encrypt: true,
    run: ({ store }) => {
      const out: Record<string, unknown> = {};
      for (const u of store.listUsers()) out[u.accessKey] = userInfo(store, u.accessKey);
      return Promise.resolve(out);
    },
  },
  "GET user-info": {
    action: "admin:GetUser",
    run: ({ store, q }) => {
      const accessKey = required(q, "accessKey");
      const u = store.getUser(accessKey);
      if (u === undefined) throw new IamError("NoSuchUser", `User "${accessKey}" does not exist`);
      return Promise.resolve(userInfo(store, accessKey));
    },
  },
  "PUT add-canned-policy": {
    action: "admin:CreatePolicy",
    run: ({ store, q, body }) => store.putPolicy(required(q, "name"), body),
  },
  "DELETE remove-canned-policy": {
    action: "admin:DeletePolicy",
    run: ({ store, q }) => store.deletePolicy(required(q, "name")),
  },
  "GET list-canned-policies": {
    action: "admin:ListUserPolicies",
    run: ({ store }) => {
      const out: Record<string, unknown> = {};
      for (const [name, text] of Object.entries(store.listPolicies())) out[name] = JSON.parse(text);
      return Promise.resolve(out);
    },
  },
  "GET info-canned-policy": {
    action: "admin:GetPolicy",
    run: ({ store, q }) => {
      const name = required(q, "name");
      const text = store.listPolicies()[name];
      if (text === undefined) throw new IamError("NoSuchPolicy", `Policy "${name}" does not exist`);
      // v=2 (mc admin policy info) wraps the document; without it the document alone.
      return Promise.resolve(
        q.get("v") === "2" ? { PolicyName: name, Policy: JSON.parse(text) } : JSON.parse(text),
      );
    },
  },
  "POST idp/builtin/policy/attach": {
    action: "admin:AttachUserOrGroupPolicy",
    encrypt: true,
    run: async ({ store, body }) => {
      const { target, policies } = attachment(body);
      await store.attachPolicies(target, policies);
      return { policiesAttached: policies, updatedAt: new Date().toISOString() };
    },
  },
  "POST idp/builtin/policy/detach": {
    action: "admin:AttachUserOrGroupPolicy",
    encrypt: true,
    run: async ({ store, body }) => {
      const { target, policies } = attachment(body);
      await store.detachPolicies(target, policies);
      return { policiesDetached: policies, updatedAt: new Date().toISOString() };
    },
  },
  "GET idp/builtin/policy-entities": {
    action: "admin:ListUserPolicies",
    encrypt: true,
    run: ({ store, q }) => Promise.resolve(policyEntities(store, q)),
  },
  "PUT update-group-members": {
    action: "admin:AddUserToGroup",
    run: async ({ store, body }) => {
      const doc = json(body) as { group?: unknown; members?: unknown; isRemove?: unknown };
      if (typeof doc.group !== "string") throw badRequest("group is required");
      const members = Array.isArray(doc.members) ? doc.members.map(String) : [];
      if (doc.isRemove === true) await store.removeGroupMembers(doc.group, members);
      else await store.addGroupMembers(doc.group, members);
    },
  },
  "PUT set-group-status": {
    action: "admin:EnableGroup",
    run: ({ store, q }) => store.setGroupStatus(required(q, "group"), status(q)),
  },
  "GET groups": {
    action: "admin:ListGroups",
    run: ({ store }) => Promise.resolve(store.listGroups().map((g) => g.name)),
  },
  "GET group": {
    action: "admin:GetGroup",
    run: ({ store, q }) => {
      const name = required(q, "group");
      const g = store.listGroups().find((x) => x.name === name);
      if (g === undefined) throw new IamError("NoSuchGroup", `Group "${name}" does not exist`);
      return Promise.resolve({
        name: g.name,
        status: g.status,
        members: g.members,
        policy: g.policies.join(","),
      });
    },
  },
  "PUT add-service-account": {
    action: "admin:CreateServiceAccount",
    encrypt: true,
    owner: ({ body, caller }) => targetUser(body) ?? caller.username,
    run: async ({ store, body, caller }) => {
      const doc = json(body) as Record<string, unknown>;
      const str = (k: string) => (typeof doc[k] === "string" && doc[k] !== "" ? doc[k] : undefined);
      // No target: the caller's own (root's for root and root's service accounts).
      const parent = str("targetUser") ?? caller.username;
      const opts: Parameters<IamStore["addServiceAccount"]>[0] = { parent };
      const accessKey = str("accessKey");
      const secretKey = str("secretKey");
      const policy = policyText(doc.policy);
      const name = str("name");
      const description = str("description");
      const expiresAt = expiry(doc.expiration);
      if (accessKey !== undefined) opts.accessKey = accessKey;
      if (secretKey !== undefined) opts.secretKey = secretKey;
      if (policy !== undefined) opts.policy = policy;
      if (name !== undefined) opts.name = name;
      if (description !== undefined) opts.description = description;
      if (expiresAt !== undefined) opts.expiresAt = expiresAt;
      const sa = await store.addServiceAccount(opts);
      const credentials: Record<string, string> = {
        accessKey: sa.accessKey,
        secretKey: sa.secretKey,
      };
      if (sa.expiresMs !== undefined) credentials.expiration = new Date(sa.expiresMs).toISOString();
      return { credentials };
    },
  },
  "POST update-service-account": {
    action: "admin:UpdateServiceAccount",
    status: 204,
    owner: ({ store, q }) => parentOf(store, q),
    run: async ({ store, q, body }) => {
      const doc = json(body) as Record<string, unknown>;
      const change: Parameters<IamStore["updateServiceAccount"]>[1] = {};
      const str = (k: string) => (typeof doc[k] === "string" && doc[k] !== "" ? doc[k] : undefined);
      const secretKey = str("newSecretKey");
      const newStatus = str("newStatus");
      const name = str("newName");
      const description = str("newDescription");
      const policy = policyText(doc.newPolicy);
      const expiresAt = expiry(doc.newExpiration);
      if (secretKey !== undefined) change.secretKey = secretKey;
      if (newStatus !== undefined) {
        if (newStatus !== "on" && newStatus !== "off") throw badRequest("newStatus is on or off");
        change.status = newStatus === "on" ? "enabled" : "disabled";
      }
      if (name !== undefined) change.name = name;
      if (description !== undefined) change.description = description;
      if (policy !== undefined) change.policy = policy;
      if (expiresAt !== undefined) change.expiresAt = expiresAt;
      await store.updateServiceAccount(required(q, "accessKey"), change);
    },
  },
  "DELETE delete-service-account": {
    action: "admin:RemoveServiceAccount",
    status: 204,
    owner: ({ store, q }) => parentOf(store, q),
    run: ({ store, q }) => store.removeServiceAccount(required(q, "accessKey")),
  },
  "GET list-service-accounts": {
    action: "admin:ListServiceAccounts",
    encrypt: true,
    owner: ({ q, caller }) => q.get("user") || caller.username,
    run: ({ store, q, caller }) => {
      const user = q.get("user") || caller.username;
      return Promise.resolve({ accounts: store.listServiceAccounts(user).map(accountSummary) });
    },
  },
  "GET info-service-account": {
    action: "admin:ListServiceAccounts",
    encrypt: true,
    owner: ({ store, q }) => parentOf(store, q),
    run: ({ store, q }) => Promise.resolve(accountInfo(store, required(q, "accessKey"))),
  },
  "GET info-access-key": {
    action: "admin:ListServiceAccounts",
    encrypt: true,
    owner: ({ store, q }) => parentOf(store, q),
    run: ({ store, q }) => {
      const accessKey = required(q, "accessKey");
      return Promise.resolve({
        AccessKey: accessKey,
        ...accountInfo(store, accessKey),
        userType: "Service Account",
        userProvider: "builtin",
      });
    },
  },
  "GET list-access-keys-bulk": {
    action: "admin:ListServiceAccounts",
    encrypt: true,
    owner: ({ q, caller }) => {
      const users = q.getAll("users");
      if (q.get("all") === "true" || users.some((u) => u !== caller.username)) return undefined;
      return caller.username;
    },
    run: async ({ store, q, sts, caller }) => {
      // listType: users-only, sts-only, svcacc-only or all; no users named: the caller's own.
      const listType = q.get("listType") ?? "all";
      const everyone = q.get("all") === "true";
      const named = q.getAll("users");
      const users = everyone
        ? [store.root.accessKey, ...store.listUsers().map((u) => u.accessKey)]
        : named.length > 0
        ? named
        : [caller.username];
      const wantAccounts = listType === "all" || listType === "svcacc-only";
      const wantSessions = sts !== undefined && (listType === "all" || listType === "sts-only");
      const sessions = wantSessions ? await sts.listSessions() : [];
      const out: Record<string, unknown> = {};
      for (const user of users) {
        const accounts = wantAccounts ? store.listServiceAccounts(user).map(accountSummary) : [];
        const stsKeys = sessions.filter((x) => x.parent === user).map(sessionSummary);
        if (accounts.length > 0 || stsKeys.length > 0 || !everyone) {
          out[user] = { serviceAccounts: accounts, stsKeys };
        }
      }
      return out;
    },
  },
  "GET temporary-account-info": {
    action: "admin:ListTemporaryAccounts",
    encrypt: true,
    run: async ({ store, q, sts }) => {
      const accessKey = required(q, "accessKey");
      const session = await sts?.sessionInfo(accessKey);
      if (session === undefined) {
        throw new IamError(
          "NoSuchServiceAccount",
          `Temporary account "${accessKey}" does not exist`,
        );
      }
      const { accessKey: _ak, ...rest } = sessionSummary(session);
      return { ...rest, policy: session.policy ?? impliedPolicy(store, session.parent) };
    },
  },
  "GET info": {
    action: "admin:ServerInfo",
    run: ({ url }) => Promise.resolve(serverInfo(url.host)),
  },
};

/**
 * MinIO's PolicyEntitiesResult (`mc admin policy entities`): for the users, groups and policies
 * asked about, who has which policy; with nothing asked, every mapping.
 */
function policyEntities(store: IamStore, q: URLSearchParams): Record<string, unknown> {
  const users = q.getAll("user");
  const groups = q.getAll("group");
  const policies = q.getAll("policy");
  const all = users.length === 0 && groups.length === 0 && policies.length === 0;
  const allGroups = store.listGroups();
  const groupMapping = (g: { name: string; policies: string[] }) => ({
    group: g.name,
    policies: g.policies,
  });
  const userMappings = store.listUsers()
    .filter((u) => all || users.includes(u.accessKey))
    .map((u) => {
      const memberOf = allGroups.filter((g) => g.members.includes(u.accessKey));
      return {
        user: u.accessKey,
        policies: u.policies,
        ...(memberOf.length > 0 ? { memberOfMappings: memberOf.map(groupMapping) } : {}),
      };
    });
  const groupMappings = allGroups.filter((g) => all || groups.includes(g.name)).map(groupMapping);
  const policyNames = all ? Object.keys(store.listPolicies()) : policies;
  const policyMappings = policyNames.map((p) => ({
    policy: p,
    users: store.listUsers().filter((u) => u.policies.includes(p)).map((u) => u.accessKey),
    groups: allGroups.filter((g) => g.policies.includes(p)).map((g) => g.name),
  })).filter((m) => !all || m.users.length > 0 || m.groups.length > 0);
  return {
    timestamp: new Date().toISOString(),
    ...(all || users.length > 0 ? { userMappings } : {}),
    ...(all || groups.length > 0 ? { groupMappings } : {}),
    ...(all || policies.length > 0 ? { policyMappings } : {}),
  };
}

async function adminAllowed(route: Route, c: RouteContext): Promise<boolean> {
  const check = { action: route.action, resource: "arn:aws:s3:::" };
  const options = { identity: c.caller, bucketPolicy: undefined, context: {} };
  if (await isAllowed(check, options)) return true;
  // Self-service: a user (not a service account or session acting for one) on their own keys.
  const caller = c.caller;
  if (route.owner === undefined || caller.accessKey !== caller.username) return false;
  if (route.owner(c) !== caller.username) return false;
  const explicit = evaluatePolicies(caller.policies, {
    ...check,
    context: {},
    principal: { username: caller.username, accessKey: caller.accessKey },
  });
  return explicit !== "Deny";
}

function accountSummary(sa: ServiceAccountRecord): Record<string, unknown> {
  return {
    parentUser: sa.parent,
    accountStatus: sa.status === "enabled" ? "on" : "off",
    impliedPolicy: sa.policy === undefined,
    accessKey: sa.accessKey,
    ...(sa.name !== undefined ? { name: sa.name } : {}),
    ...(sa.description !== undefined ? { description: sa.description } : {}),
    // Always present: mc dereferences it, and reads the Unix epoch as "no expiry" (as MinIO sends).
    expiration: new Date(sa.expiresMs ?? 0).toISOString(),
  };
}

/** MinIO's InfoServiceAccountResp: with an implied policy, the parent's policies merged. */
function accountInfo(store: IamStore, accessKey: string): Record<string, unknown> {
  const sa = store.listServiceAccounts().find((x) => x.accessKey === accessKey);
  if (sa === undefined) {
    throw new IamError("NoSuchServiceAccount", `Service account "${accessKey}" does not exist`);
  }
  const policy = sa.policy ?? impliedPolicy(store, sa.parent);
  // Unlike the listings, info leaves the expiration out when there is none (mc prints it as is).
  const { accessKey: _ak, expiration, ...summary } = accountSummary(sa);
  return { ...summary, ...(sa.expiresMs !== undefined ? { expiration } : {}), policy };
}

/** add-service-account's target user, when the body names one. */
function targetUser(body: string): string | undefined {
  try {
    const v = (JSON.parse(body) as { targetUser?: unknown }).targetUser;
    return typeof v === "string" && v !== "" ? v : undefined;
  } catch {
    return undefined;
  }
}

/** The parent user of the service account `accessKey` names. */
function parentOf(store: IamStore, q: URLSearchParams): string | undefined {
  const accessKey = q.get("accessKey");
  return store.listServiceAccounts().find((sa) => sa.accessKey === accessKey)?.parent;
}

/** The parent's own policies merged into one document (what an implied policy allows). */
function impliedPolicy(store: IamStore, parent: string): string {
  const texts = store.listPolicies();
  const names = parent === store.root.accessKey
    ? ["consoleAdmin"]
    : (store.getUser(parent)?.policies ?? []);
  const statements = names.flatMap((n) => {
    const doc = JSON.parse(texts[n] ?? "{}") as { Statement?: unknown };
    return Array.isArray(doc.Statement) ? doc.Statement : [];
  });
  return JSON.stringify({ Version: "2012-10-17", Statement: statements });
}

/** An STS session as madmin's ServiceAccountInfo. */
function sessionSummary(session: SessionInfo): Record<string, unknown> {
  return {
    parentUser: session.parent,
    accountStatus: "on",
    impliedPolicy: session.policy === undefined,
    accessKey: session.accessKey,
    expiration: session.expiresAt.toISOString(),
  };
}

/** A policy sent as JSON inside the JSON body (madmin's json.RawMessage) or as a string. */
function policyText(v: unknown): string | undefined {
  if (v === undefined || v === null || v === "") return undefined;
  return typeof v === "string" ? v : JSON.stringify(v);
}

/** An expiry; madmin sends the Unix epoch or Go's zero time to mean none. */
function expiry(v: unknown): Date | undefined {
  if (v === undefined || v === null || v === "") return undefined;
  const at = new Date(String(v));
  if (Number.isNaN(at.getTime())) throw badRequest("expiration is not a date");
  return at.getTime() <= 0 ? undefined : at;
}

const STARTED_MS = Date.now();

/**
 * A plausible madmin InfoMessage for `mc admin info`: this layer knows no drives, so it reports
 * one online server and leaves the backend figures out.
 */
function serverInfo(endpoint: string): Record<string, unknown> {
  return {
    mode: "online",
    region: "",
    deploymentID: "",
    servers: [{
      state: "online",
      endpoint,
      uptime: Math.floor((Date.now() - STARTED_MS) / 1000),
      version: "shale",
      commitID: "",
      network: {},
      drives: [],
      poolNumber: 1,
    }],
  };
}

function userInfo(store: IamStore, accessKey: string): Record<string, unknown> {
  const u = store.getUser(accessKey)!;
  const memberOf = store.listGroups().filter((g) => g.members.includes(accessKey)).map((g) =>
    g.name
  );
  return {
    status: u.status,
    policyName: u.policies.join(","),
    ...(memberOf.length > 0 ? { memberOf } : {}),
  };
}

function attachment(body: string): {
  target: { user: string } | { group: string };
  policies: string[];
} {
  const doc = json(body) as { policies?: unknown; user?: unknown; group?: unknown };
  if (!Array.isArray(doc.policies) || doc.policies.length === 0) {
    throw badRequest("policies is required");
  }
  const policies = doc.policies.map(String);
  if (typeof doc.user === "string" && doc.user !== "") {
    return { target: { user: doc.user }, policies };
  }
  if (typeof doc.group === "string" && doc.group !== "") {
    return { target: { group: doc.group }, policies };
  }
  throw badRequest("user or group is required");
}

/** What the admin endpoints (IAM, heal, KMS) check a request's signature with. */
export interface AdminAuthOptions {
  store: IamStore;
  region: string;
  now?: () => Date;
  /** Take the region the credential scope names, as MinIO does for admin calls (see below). */
  anyRegion?: boolean;
}

/** SigV4 over an admin request's target as sent (it signs it un-normalised, as S3's rawTarget). */
export async function authenticateAdminRequest(
  request: Request,
  options: AdminAuthOptions,
): Promise<AuthResult> {
  const slash = request.url.indexOf("/", request.url.indexOf("://") + 3);
  const raw = slash < 0 ? "/" : request.url.slice(slash).replace(/#.*$/, "");
  const q = raw.indexOf("?");
  return await authenticateRequest({
    method: request.method,
    rawPath: q < 0 ? raw : raw.slice(0, q),
    rawQuery: q < 0 ? "" : raw.slice(q + 1),
    headers: request.headers,
  }, {
    region: (options.anyRegion ? scopeRegion(request.headers) : undefined) ?? options.region,
    now: options.now?.() ?? new Date(),
    lookup: (ak) => options.store.lookup(ak),
  });
}

/** The signer of an admin request, when its signature holds and a policy allows `action`. */
export async function authorizeAdmin(
  request: Request,
  action: string,
  options: AdminAuthOptions,
): Promise<Identity | undefined> {
  const result = await authenticateAdminRequest(request, options);
  if (result.kind !== "signed") return undefined;
  const identity = options.store.identity(result.accessKey);
  if (identity === undefined) return undefined;
  const allowed = await isAllowed({ action, resource: "arn:aws:s3:::" }, {
    identity,
    bucketPolicy: undefined,
    context: {},
  });
  return allowed ? identity : undefined;
}

async function authenticate(
  request: Request,
  options: AdminApiOptions,
): Promise<{ identity: Identity; secretKey: string }> {
  const result = await authenticateAdminRequest(request, { ...options, anyRegion: true });
  if (result.kind !== "signed") throw new AdminError(403, "AccessDenied", "Access Denied.");
  if (result.payload.type === "sha256" && request.body !== null) {
    // Re-wrap the body so that readBody checks the signed hash.
    const checked = verifySha256Payload(request.body, result.payload.hex);
    bodies.set(request, checked);
  } else if (result.payload.type !== "sha256" && result.payload.type !== "unsigned") {
    throw new AdminError(400, "InvalidRequest", "Admin requests may not use streaming payloads");
  }
  const identity = options.store.identity(result.accessKey);
  const creds = options.store.lookup(result.accessKey);
  if (identity === undefined || creds === undefined) {
    throw new AdminError(403, "InvalidAccessKeyId", "Unknown key");
  }
  return { identity, secretKey: creds.secretKey };
}

/**
 * The region a signed admin request names in its credential scope. MinIO checks admin signatures
 * without a region (madmin signs with an empty one unless told otherwise), so any is taken; the
 * signature itself is still checked over that scope.
 */
function scopeRegion(headers: Headers): string | undefined {
  const m = /Credential=[^,]*?\/\d{8}\/([^/,]*)\/[^/,]*\/aws4_request/.exec(
    headers.get("authorization") ?? "",
  );
  return m?.[1];
}

const bodies = new WeakMap<Request, ReadableStream<Uint8Array>>();

async function readBody(request: Request): Promise<Uint8Array> {
  const stream = bodies.get(request) ?? request.body;
  if (stream === null) return new Uint8Array(0);
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > ADMIN_BODY_BYTES_MAX) {
      await reader.cancel().catch(() => {});
      throw new AdminError(400, "EntityTooLarge", "Admin request body is too large");
    }
    chunks.push(value);
  }
  return new Uint8Array(await new Blob(chunks as BlobPart[]).arrayBuffer());
}

class AdminError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

function json(body: string): unknown {
  try {
    const v = JSON.parse(body);
    if (typeof v === "object" && v !== null) return v;
  } catch { /* below */ }
  throw badRequest("The request body is not a JSON object");
}

function required(q: URLSearchParams, name: string): string {
  const v = q.get(name);
  if (v === null || v === "") throw badRequest(`${name} is required`);
  return v;
}

function status(q: URLSearchParams): Status {
  const v = q.get("status");
  if (v !== "enabled" && v !== "disabled") throw badRequest("status must be enabled or disabled");
  return v;
}

function badRequest(message: string): AdminError {
  return new AdminError(400, "InvalidArgument", message);
}

const IAM_STATUS: Record<string, [number, string]> = {
  NoSuchUser: [404, "XMinioAdminNoSuchUser"],
  NoSuchGroup: [404, "XMinioAdminNoSuchGroup"],
  NoSuchPolicy: [404, "XMinioAdminNoSuchPolicy"],
  NoSuchServiceAccount: [404, "XMinioAdminNoSuchServiceAccount"],
  AlreadyExists: [409, "XMinioAdminAlreadyExists"],
  InvalidArgument: [400, "XMinioInvalidIAMCredentials"],
  PolicyInUse: [400, "XMinioAdminPolicyChangeAlreadyApplied"],
  LimitExceeded: [409, "LimitExceeded"],
};

function errorAnswer(e: unknown): Response {
  if (e instanceof AdminError) return adminError(e.status, e.code, e.message);
  if (e instanceof IamError) {
    const [status, code] = IAM_STATUS[e.code] ?? [400, e.code];
    return adminError(status, code, e.message);
  }
  if (e instanceof MalformedPolicy) return adminError(400, "MalformedPolicy", e.message);
  if (e instanceof MadminCryptoError) return adminError(400, "XMinioAdminConfigBadJSON", e.message);
  if (e instanceof SigV4Error) {
    const status = ["InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied"].includes(e.code)
      ? 403
      : 400;
    return adminError(status, e.code, e.message);
  }
  throw e;
}

/** MinIO's admin errors are JSON: {"Code", "Message"}. */
/**
 * The last admin handler: an admin path no handler answered gets MinIO's JSON error with 501
 * (mc prints its message), instead of falling through to S3 as a malformed signature.
 */
export function adminNotImplemented(url: URL): Response | undefined {
  if (!url.pathname.startsWith("/minio/admin/")) return undefined;
  return adminError(
    501,
    "NotImplemented",
    `Shale does not serve the admin call ${url.pathname} yet`,
  );
}

function adminError(status: number, code: string, message: string): Response {
  return Response.json({ Code: code, Message: message }, { status });
}
