/**
 * The IAM part of MinIO's admin API (`/minio/admin/v3/...`): users, groups, policies and service
 * accounts, authenticated with SigV4 like S3 and allowed to root (or to identities whose policies
 * allow the matching `admin:` action).
 *
 * Unlike MinIO: request bodies are plain JSON. MinIO's `mc admin` encrypts the bodies of add-user,
 * add-service-account and their answers with a key derived from the caller's secret (madmin
 * EncryptData); that is a later step, so `mc admin user add` does not work yet, while the
 * built-in `shale admin` and plain signed requests do.
 */
import { authenticateRequest, SigV4Error, verifySha256Payload } from "../auth/mod.ts";
import { ADMIN_BODY_BYTES_MAX } from "../config/limits.ts";
import { isAllowed } from "./authorize.ts";
import type { Identity } from "./identity.ts";
import { MalformedPolicy } from "./policy.ts";
import { IamError, type IamStore, type Status } from "./store.ts";

export const ADMIN_PREFIX = "/minio/admin/v3/";

export interface AdminApiOptions {
  store: IamStore;
  region: string;
  now?: () => Date;
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
    const identity = await authenticate(request, options);
    const allowed = await isAllowed({ action: route.action, resource: "arn:aws:s3:::" }, {
      identity,
      bucketPolicy: undefined,
      context: {},
    });
    if (!allowed) return adminError(403, "AccessDenied", "Access Denied.");
    const body = await readBody(request);
    const result = await route.run(options.store, url.searchParams, body);
    if (result === undefined) return new Response(null, { status: 200 });
    return Response.json(result);
  } catch (e) {
    return errorAnswer(e);
  }
}

interface Route {
  action: string;
  run: (store: IamStore, q: URLSearchParams, body: string) => Promise<unknown>;
}

const ROUTES: Record<string, Route> = {
  "PUT add-user": {
    action: "admin:CreateUser",
    run: async (store, q, body) => {
      const doc = json(body) as { secretKey?: unknown; status?: unknown };
      const accessKey = required(q, "accessKey");
      if (typeof doc.secretKey !== "string") throw badRequest("secretKey is required");
      await store.addUser(accessKey, doc.secretKey);
      if (doc.status === "disabled") await store.setUserStatus(accessKey, "disabled");
    },
  },
  "DELETE remove-user": {
    action: "admin:DeleteUser",
    run: (store, q) => store.removeUser(required(q, "accessKey")),
  },
  "PUT set-user-status": {
    action: "admin:EnableUser",
    run: (store, q) => store.setUserStatus(required(q, "accessKey"), status(q)),
  },
  "GET list-users": {
    action: "admin:ListUsers",
    run: (store) => {
      const out: Record<string, unknown> = {};
      for (const u of store.listUsers()) out[u.accessKey] = userInfo(store, u.accessKey);
      return Promise.resolve(out);
    },
  },
  "GET user-info": {
    action: "admin:GetUser",
    run: (store, q) => {
      const accessKey = required(q, "accessKey");
      const u = store.getUser(accessKey);
      if (u === undefined) throw new IamError("NoSuchUser", `User "${accessKey}" does not exist`);
      return Promise.resolve(userInfo(store, accessKey));
    },
  },
  "PUT add-canned-policy": {
    action: "admin:CreatePolicy",
    run: (store, q, body) => store.putPolicy(required(q, "name"), body),
  },
  "DELETE remove-canned-policy": {
    action: "admin:DeletePolicy",
    run: (store, q) => store.deletePolicy(required(q, "name")),
  },
  "GET list-canned-policies": {
    action: "admin:ListUserPolicies",
    run: (store) => {
      const out: Record<string, unknown> = {};
      for (const [name, text] of Object.entries(store.listPolicies())) out[name] = JSON.parse(text);
      return Promise.resolve(out);
    },
  },
  "POST idp/builtin/policy/attach": {
    action: "admin:AttachUserOrGroupPolicy",
    run: (store, _q, body) => {
      const { target, policies } = attachment(body);
      return store.attachPolicies(target, policies);
    },
  },
  "POST idp/builtin/policy/detach": {
    action: "admin:AttachUserOrGroupPolicy",
    run: (store, _q, body) => {
      const { target, policies } = attachment(body);
      return store.detachPolicies(target, policies);
    },
  },
  "PUT update-group-members": {
    action: "admin:AddUserToGroup",
    run: async (store, _q, body) => {
      const doc = json(body) as { group?: unknown; members?: unknown; isRemove?: unknown };
      if (typeof doc.group !== "string") throw badRequest("group is required");
      const members = Array.isArray(doc.members) ? doc.members.map(String) : [];
      if (doc.isRemove === true) await store.removeGroupMembers(doc.group, members);
      else await store.addGroupMembers(doc.group, members);
    },
  },
  "GET groups": {
    action: "admin:ListGroups",
    run: (store) => Promise.resolve(store.listGroups().map((g) => g.name)),
  },
  "GET group": {
    action: "admin:GetGroup",
    run: (store, q) => {
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
    run: async (store, _q, body) => {
      const doc = json(body) as Record<string, unknown>;
      const str = (k: string) => (typeof doc[k] === "string" && doc[k] !== "" ? doc[k] : undefined);
      const parent = str("targetUser") ?? store.root.accessKey;
      const opts: Parameters<IamStore["addServiceAccount"]>[0] = { parent };
      const accessKey = str("accessKey");
      const secretKey = str("secretKey");
      const policy = str("policy");
      const name = str("name");
      const description = str("description");
      const expiration = str("expiration");
      if (accessKey !== undefined) opts.accessKey = accessKey;
      if (secretKey !== undefined) opts.secretKey = secretKey;
      if (policy !== undefined) opts.policy = policy;
      if (name !== undefined) opts.name = name;
      if (description !== undefined) opts.description = description;
      if (expiration !== undefined) {
        const at = new Date(expiration);
        if (Number.isNaN(at.getTime())) throw badRequest("expiration is not a date");
        opts.expiresAt = at;
      }
      const sa = await store.addServiceAccount(opts);
      const credentials: Record<string, string> = {
        accessKey: sa.accessKey,
        secretKey: sa.secretKey,
      };
      if (sa.expiresMs !== undefined) credentials.expiration = new Date(sa.expiresMs).toISOString();
      return { credentials };
    },
  },
  "DELETE delete-service-account": {
    action: "admin:RemoveServiceAccount",
    run: (store, q) => store.removeServiceAccount(required(q, "accessKey")),
  },
  "GET list-service-accounts": {
    action: "admin:ListServiceAccounts",
    run: (store, q) => {
      const user = q.get("user") ?? undefined;
      return Promise.resolve({
        accounts: store.listServiceAccounts(user === "" ? undefined : user).map((sa) => ({
          parentUser: sa.parent,
          accountStatus: sa.status === "enabled" ? "on" : "off",
          accessKey: sa.accessKey,
          ...(sa.expiresMs !== undefined
            ? { expiration: new Date(sa.expiresMs).toISOString() }
            : {}),
        })),
      });
    },
  },
};

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

async function authenticate(request: Request, options: AdminApiOptions): Promise<Identity> {
  // The target as sent (SigV4 signs it un-normalised), like the S3 router's rawTarget.
  const slash = request.url.indexOf("/", request.url.indexOf("://") + 3);
  const raw = slash < 0 ? "/" : request.url.slice(slash).replace(/#.*$/, "");
  const q = raw.indexOf("?");
  const result = await authenticateRequest({
    method: request.method,
    rawPath: q < 0 ? raw : raw.slice(0, q),
    rawQuery: q < 0 ? "" : raw.slice(q + 1),
    headers: request.headers,
  }, {
    region: options.region,
    now: options.now?.() ?? new Date(),
    lookup: (ak) => options.store.lookup(ak),
  });
  if (result.kind !== "signed") throw new AdminError(403, "AccessDenied", "Access Denied.");
  if (result.payload.type === "sha256" && request.body !== null) {
    // Re-wrap the body so that readBody checks the signed hash.
    const checked = verifySha256Payload(request.body, result.payload.hex);
    bodies.set(request, checked);
  } else if (result.payload.type !== "sha256" && result.payload.type !== "unsigned") {
    throw new AdminError(400, "InvalidRequest", "Admin requests may not use streaming payloads");
  }
  const identity = options.store.identity(result.accessKey);
  if (identity === undefined) throw new AdminError(403, "InvalidAccessKeyId", "Unknown key");
  return identity;
}

const bodies = new WeakMap<Request, ReadableStream<Uint8Array>>();

async function readBody(request: Request): Promise<string> {
  const stream = bodies.get(request) ?? request.body;
  if (stream === null) return "";
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
  return new TextDecoder().decode(await new Blob(chunks as BlobPart[]).arrayBuffer());
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
};

function errorAnswer(e: unknown): Response {
  if (e instanceof AdminError) return adminError(e.status, e.code, e.message);
  if (e instanceof IamError) {
    const [status, code] = IAM_STATUS[e.code] ?? [400, e.code];
    return adminError(status, code, e.message);
  }
  if (e instanceof MalformedPolicy) return adminError(400, "MalformedPolicy", e.message);
  if (e instanceof SigV4Error) {
    const status = ["InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied"].includes(e.code)
      ? 403
      : 400;
    return adminError(status, e.code, e.message);
  }
  throw e;
}

/** MinIO's admin errors are JSON: {"Code", "Message"}. */
function adminError(status: number, code: string, message: string): Response {
  return Response.json({ Code: code, Message: message }, { status });
}
